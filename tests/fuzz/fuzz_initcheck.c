/* Hostile programs on the new root: any bytes as /sbin/init must be
 * classified (ELF, #! script) or refused with a reason, reading only
 * inside the file, never a crash. */
#include <errno.h>

#include "fuzz.h"
#include "handover/initcheck.h"

struct mem {
	const uint8_t *buf;
	size_t len;
};

static ssize_t mem_read(void *ctx, void *buf, size_t size, uint64_t off)
{
	const struct mem *m = ctx;
	if (off >= m->len)
		return 0;
	size_t n = m->len - off < size ? m->len - off : size;
	memcpy(buf, m->buf + off, n);
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prog_info info;
	static struct failure f;
	char why[256];
	struct mem m = {data, size};
	memset(&info, 0xa5, sizeof(info));
	memset(&f, 0xa5, sizeof(f));
	int rc = initcheck_parse(mem_read, &m, &info, &f);
	INVARIANT(terminated(f.what, sizeof(f.what)));
	failure_text(&f, why, sizeof(why));
	if (rc < 0) {
		INVARIANT(rc == -ENOEXEC);
		INVARIANT(why[0] != '\0');
		return 0;
	}
	INVARIANT(terminated(info.interp, sizeof(info.interp)));
	if (info.kind == PROG_SCRIPT) {
		/* A name the kernel would take whole: no blanks, in the
		 * first bytes of the file. */
		size_t n = strlen(info.interp);
		INVARIANT(n > 0 && n < SHEBANG_BUF_SIZE - 2);
		INVARIANT(!strpbrk(info.interp, " \t\n"));
		INVARIANT(size >= 2 && data[0] == '#' && data[1] == '!');
	} else {
		INVARIANT(info.kind == PROG_ELF);
		INVARIANT(size >= 52 && !memcmp(data, "\177ELF", 4));
		INVARIANT(initcheck_arch_runs_here(&info.arch));
		if (info.interp[0])
			INVARIANT(memmem(data, size, info.interp,
					 strlen(info.interp) + 1) != NULL);
	}
	return 0;
}
