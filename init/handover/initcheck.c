#include "handover/initcheck.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strutil.h"
#include "base/util.h"
#include "common/io.h"

/* The kernel's limit: program headers at most 64 KiB (load_elf_phdrs()). */
#define PHDRS_SIZE_MAX 65536

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

/* What the kernel this build runs on may execute: the build's own flavour
 * first, then compat ones a 64-bit kernel runs when built with them
 * (i386 userland on an amd64 kernel is a Debian configuration). Whether
 * compat support is compiled in cannot be seen from here, so those are
 * accepted rather than refused: a false "not usable" strands a working
 * system. x32 needs syscall.x32=y and is no distribution's init. */
#if defined(__x86_64__)
static const struct elf_arch runnable[] = {{ELFCLASS64, ELFDATA2LSB, EM_X86_64},
					   {ELFCLASS32, ELFDATA2LSB, EM_386}};
#elif defined(__i386__)
static const struct elf_arch runnable[] = {{ELFCLASS32, ELFDATA2LSB, EM_386}};
#elif defined(__aarch64__)
static const struct elf_arch runnable[] = {
	{ELFCLASS64, NATIVE_DATA, EM_AARCH64},
	{ELFCLASS32, NATIVE_DATA, EM_ARM}};
#elif defined(__arm__)
static const struct elf_arch runnable[] = {{ELFCLASS32, NATIVE_DATA, EM_ARM}};
#elif defined(__riscv) && __riscv_xlen == 64
static const struct elf_arch runnable[] = {{ELFCLASS64, ELFDATA2LSB, EM_RISCV},
					   {ELFCLASS32, ELFDATA2LSB, EM_RISCV}};
#elif defined(__riscv)
static const struct elf_arch runnable[] = {{ELFCLASS32, ELFDATA2LSB, EM_RISCV}};
#elif defined(__powerpc64__)
static const struct elf_arch runnable[] = {{ELFCLASS64, NATIVE_DATA, EM_PPC64},
					   {ELFCLASS32, ELFDATA2MSB, EM_PPC}};
#elif defined(__powerpc__)
static const struct elf_arch runnable[] = {{ELFCLASS32, ELFDATA2MSB, EM_PPC}};
#elif defined(__s390x__)
static const struct elf_arch runnable[] = {{ELFCLASS64, ELFDATA2MSB, EM_S390},
					   {ELFCLASS32, ELFDATA2MSB, EM_S390}};
#else
/* An architecture not listed: only the magic is checked (machine 0 is
 * EM_NONE, which no real program has, and marks "anything"). */
#define RUNNABLE_ANY 1
static const struct elf_arch runnable[] = {{0, 0, EM_NONE}};
#endif

#ifndef RUNNABLE_ANY
#define RUNNABLE_ANY 0
#endif

#define N_RUNNABLE ARRAY_SIZE(runnable)

struct elf_arch initcheck_native_arch(void)
{
	return runnable[0];
}

int initcheck_arch_runs_here(const struct elf_arch *a)
{
	if (RUNNABLE_ANY)
		return 1;
	for (size_t i = 0; i < N_RUNNABLE; i++)
		if (runnable[i].elf_class == a->elf_class &&
		    runnable[i].data == a->data &&
		    runnable[i].machine == a->machine)
			return 1;
	return 0;
}

static const struct {
	uint16_t machine;
	const char *name;
} machine_names[] = {
	{EM_386, "x86"},	 {EM_X86_64, "x86-64"},	  {EM_ARM, "ARM"},
	{EM_AARCH64, "AArch64"}, {EM_RISCV, "RISC-V"},	  {EM_PPC, "PowerPC"},
	{EM_PPC64, "PowerPC64"}, {EM_S390, "S/390"},	  {EM_MIPS, "MIPS"},
	{EM_SPARC, "SPARC"},	 {EM_SPARCV9, "SPARC64"}, {EM_IA_64, "IA-64"},
	{EM_68K, "m68k"},	 {EM_SH, "SuperH"},	  {258, "LoongArch"},
};

/* "ARM, 32-bit, little-endian" */
static void describe_arch(char *buf, size_t size, const struct elf_arch *a)
{
	const char *name = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(machine_names); i++)
		if (machine_names[i].machine == a->machine)
			name = machine_names[i].name;
	char num[24];
	if (!name) {
		snprintf(num, sizeof(num), "machine %u", a->machine);
		name = num;
	}
	snprintf(buf, size, "%s, %s, %s", name,
		 a->elf_class == ELFCLASS64 ? "64-bit" : "32-bit",
		 a->data == ELFDATA2LSB ? "little-endian" : "big-endian");
}

static uint64_t get_uint(const unsigned char *p, size_t n, unsigned char data)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[data == ELFDATA2LSB ? i : n - 1 - i]
		     << (8 * i);
	return v;
}

/* Where the ELF header and a program header keep their fields. */
struct elf_layout {
	size_t ehdr_size, phdr_size;
	size_t phoff_at, phoff_len, phentsize_at, phnum_at;
	size_t p_offset_at, p_filesz_at, p_addr_len;
};

static const struct elf_layout layout32 = {52, 32, 28, 4, 42, 44, 4, 16, 4};
static const struct elf_layout layout64 = {64, 56, 32, 8, 54, 56, 8, 32, 8};

/* Reads exactly size bytes at off: a short read is a truncated file. */
static int read_exact(prog_read_fn rd, void *ctx, void *buf, size_t size,
		      uint64_t off, struct failure *f)
{
	ssize_t n = rd(ctx, buf, size, off);
	if (n < 0)
		return failure_errno(f, (int)n, "cannot be read");
	if ((size_t)n < size)
		return failure_say(f, -ENOEXEC, "is a truncated ELF file");
	return 0;
}

/* As load_elf_binary() reads it: the first PT_INTERP only, its size
 * bounded, NUL-terminated by the file itself. */
static int read_interp(prog_read_fn rd, void *ctx, const unsigned char *ph,
		       const struct elf_layout *l, unsigned char data,
		       struct prog_info *ret, struct failure *f)
{
	uint64_t off = get_uint(ph + l->p_offset_at, l->p_addr_len, data);
	uint64_t size = get_uint(ph + l->p_filesz_at, l->p_addr_len, data);
	if (size < 2 || size > ELF_INTERP_MAX)
		return failure_say(
			f, -ENOEXEC,
			"is a malformed ELF file (a program interpreter entry of %llu bytes)",
			(unsigned long long)size);
	int rc = read_exact(rd, ctx, ret->interp, size, off, f);
	if (rc < 0)
		return rc;
	if (ret->interp[size - 1] != '\0' || ret->interp[0] == '\0')
		return failure_say(
			f, -ENOEXEC,
			"is a malformed ELF file (its program interpreter name is not a string)");
	return 0;
}

static int wrong_machine(const struct elf_arch *a, struct failure *f)
{
	char theirs[64], ours[64];
	struct elf_arch native = initcheck_native_arch();
	describe_arch(theirs, sizeof(theirs), a);
	describe_arch(ours, sizeof(ours), &native);
	return failure_say(
		f, -ENOEXEC,
		"is an ELF for another machine (%s; this system runs %s)",
		theirs, ours);
}

/* The program header table, searched for PT_INTERP. */
static int read_phdrs(prog_read_fn rd, void *ctx, const unsigned char *head,
		      const struct elf_layout *l, struct prog_info *ret,
		      struct failure *f)
{
	unsigned char data = ret->arch.data;
	uint64_t phoff = get_uint(head + l->phoff_at, l->phoff_len, data);
	uint64_t phentsize = get_uint(head + l->phentsize_at, 2, data);
	uint64_t phnum = get_uint(head + l->phnum_at, 2, data);
	if (phentsize != l->phdr_size || phnum == 0 ||
	    phnum * phentsize > PHDRS_SIZE_MAX)
		return failure_say(
			f, -ENOEXEC,
			"is a malformed ELF file (its program header table)");
	if (phoff > UINT64_MAX - PHDRS_SIZE_MAX)
		return failure_say(f, -ENOEXEC, "is a truncated ELF file");
	for (uint64_t i = 0; i < phnum; i++) {
		unsigned char ph[64];
		int rc = read_exact(rd, ctx, ph, l->phdr_size,
				    phoff + i * phentsize, f);
		if (rc < 0)
			return rc;
		if (get_uint(ph, 4, data) == PT_INTERP)
			return read_interp(rd, ctx, ph, l, data, ret, f);
	}
	return 0;
}

static int parse_elf(prog_read_fn rd, void *ctx, const unsigned char *head,
		     size_t len, struct prog_info *ret, struct failure *f)
{
	if (len < EI_NIDENT)
		return failure_say(f, -ENOEXEC, "is a truncated ELF file");
	unsigned char cls = head[EI_CLASS], data = head[EI_DATA];
	if ((cls != ELFCLASS32 && cls != ELFCLASS64) ||
	    (data != ELFDATA2LSB && data != ELFDATA2MSB))
		return failure_say(
			f, -ENOEXEC,
			"is a malformed ELF file (class %u, data encoding %u)",
			cls, data);
	const struct elf_layout *l = cls == ELFCLASS64 ? &layout64 : &layout32;
	if (len < l->ehdr_size)
		return failure_say(f, -ENOEXEC, "is a truncated ELF file");

	ret->kind = PROG_ELF;
	ret->interp[0] = '\0';
	ret->arch.elf_class = cls;
	ret->arch.data = data;
	ret->arch.machine = (uint16_t)get_uint(head + 18, 2, data);
	if (!initcheck_arch_runs_here(&ret->arch))
		return wrong_machine(&ret->arch, f);
	uint64_t type = get_uint(head + 16, 2, data);
	if (type != ET_EXEC && type != ET_DYN)
		return failure_say(f, -ENOEXEC,
				   "is an ELF file but not a program (%s)",
				   type == ET_REL    ? "an object file"
				   : type == ET_CORE ? "a core dump"
						     : "of an unknown type");
	return read_phdrs(rd, ctx, head, l, ret, f);
}

static int spacetab(char c)
{
	return c == ' ' || c == '\t';
}

static const char *next_non_spacetab(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

static const char *next_terminator(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

/* The interpreter name exactly as load_script() (fs/binfmt_script.c)
 * finds it in the first SHEBANG_BUF_SIZE bytes, zero-padded: a line cut
 * off by the buffer is fine only if the interpreter name is not. */
static int parse_shebang(const char *buf, struct prog_info *ret,
			 struct failure *f)
{
	const char *buf_end = &buf[SHEBANG_BUF_SIZE - 1];
	const char *end = memchr(buf, '\n', SHEBANG_BUF_SIZE);
	if (!end) {
		end = next_non_spacetab(buf + 2, buf_end);
		if (end && !next_terminator(end, buf_end))
			return failure_say(
				f, -ENOEXEC,
				"is not a program (its #! line is too long: the interpreter name does not end in the %d bytes the kernel reads)",
				SHEBANG_BUF_SIZE);
		if (end)
			end = buf_end;
	}
	while (end && spacetab(end[-1]))
		end--;
	const char *name = end ? next_non_spacetab(buf + 2, end) : NULL;
	const char *sep = name ? next_terminator(name, end) : NULL;
	/* A NUL right after "#!" is an empty name: the kernel would fail to
	 * open "". */
	if (!name || name == end || sep == name)
		return failure_say(
			f, -ENOEXEC,
			"is not a program (its #! line names no interpreter)");
	ret->kind = PROG_SCRIPT;
	return str_copy_n(ret->interp, sizeof(ret->interp), name,
			  (size_t)((sep ? sep : end) - name));
}

int initcheck_parse(prog_read_fn rd, void *ctx, struct prog_info *ret,
		    struct failure *f)
{
	/* Zero-padded like the kernel's buffer for a file shorter than it. */
	char head[SHEBANG_BUF_SIZE] = {0};
	failure_clear(f);
	ret->kind = PROG_ELF;
	memset(&ret->arch, 0, sizeof(ret->arch));
	ret->interp[0] = '\0';
	ssize_t n = rd(ctx, head, sizeof(head), 0);
	if (n < 0)
		return failure_errno(f, (int)n, "cannot be read");
	if (n >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0)
		return parse_elf(rd, ctx, (const unsigned char *)head,
				 (size_t)n, ret, f);
	if (n >= 2 && head[0] == '#' && head[1] == '!')
		return parse_shebang(head, ret, f);
	return failure_say(
		f, -ENOEXEC,
		"is not a program (neither an ELF binary nor a #! script)");
}

/* ---- Below: reading files under the new root. ---- */

int initcheck_is_mount_point(int dirfd)
{
	struct stat st, parent;
	if (fstat(dirfd, &st) < 0 ||
	    fstatat(dirfd, "..", &parent, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* Another device than its parent: a mount (a Btrfs subvolume also
	 * has its own st_dev, but mount_root() mounts, never points at a
	 * subvolume directory). Its own parent: the namespace's "/". */
	return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino;
}

static ssize_t read_fd(void *ctx, void *buf, size_t size, uint64_t off)
{
	int fd = *(const int *)ctx;
	if (off > INT64_MAX - size)
		return 0; /* beyond any file: as at end of file */
	return pread_full(fd, buf, size, (off_t)off);
}

static const char *file_type(mode_t mode)
{
	return S_ISDIR(mode)	? "a directory"
	       : S_ISCHR(mode)	? "a character device"
	       : S_ISBLK(mode)	? "a block device"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISSOCK(mode) ? "a socket"
				: "not a regular file";
}

static int cannot_open(int err, const char *subject, struct failure *f)
{
	if (err == -ENOENT)
		return failure_say(f, err, "%s is missing", subject);
	return failure_errno(f, err, "%s cannot be opened", subject);
}

/* The checks open_exec() makes: a regular file (opened for reading only
 * once it is known to be one: opening a FIFO would block PID 1, opening
 * a device may do things), an x bit (root may run a file if any x bit is
 * set), not on a noexec mount. Returns an fd to read it, or -errno. */
static int open_program(int rootfd, const char *path, const char *subject,
			struct failure *f)
{
	struct stat st;
	int fd = open_in_root(rootfd, path, O_PATH, LINKS_IN_ROOT);
	if (fd < 0)
		return cannot_open(fd, subject, f);
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return cannot_open(rc, subject, f);
	if (!S_ISREG(st.st_mode))
		return failure_say(f, -EACCES, "%s is %s, not a program file",
				   subject, file_type(st.st_mode));
	if (!(st.st_mode & 0111))
		return failure_say(f, -EACCES,
				   "%s is not executable (mode %04o, no x bit)",
				   subject, (unsigned)(st.st_mode & 07777));
	fd = open_in_root(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK,
			  LINKS_IN_ROOT);
	if (fd < 0)
		return cannot_open(fd, subject, f);
	struct statvfs sv;
	if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_NOEXEC)) {
		close(fd);
		return failure_say(f, -EACCES,
				   "%s is on a filesystem mounted noexec",
				   subject);
	}
	return fd;
}

/* Opens and parses one file; reasons are about subject. */
static int inspect(int rootfd, const char *path, const char *subject,
		   struct prog_info *ret, struct failure *f)
{
	int fd = open_program(rootfd, path, subject, f);
	if (fd < 0)
		return fd;
	int rc = initcheck_parse(read_fd, &fd, ret, f);
	close(fd);
	if (rc < 0)
		failure_context(f, "%s ", subject);
	return rc;
}

/* What load_elf_binary() wants of PT_INTERP: an ELF (no #! script) for
 * the same machine, executable, on an exec mount. */
static int check_elf_interp(int rootfd, const struct prog_info *prog,
			    struct failure *f)
{
	char subject[ELF_INTERP_MAX + 32];
	snprintf(subject, sizeof(subject), "its program interpreter %s",
		 prog->interp);
	struct prog_info interp;
	int rc = inspect(rootfd, prog->interp, subject, &interp, f);
	if (rc < 0)
		return rc;
	if (interp.kind != PROG_ELF)
		return failure_say(f, -ENOEXEC, "%s is not an ELF program",
				   subject);
	if (memcmp(&interp.arch, &prog->arch, sizeof(interp.arch)) == 0)
		return 0;
	char theirs[64], ours[64];
	describe_arch(theirs, sizeof(theirs), &interp.arch);
	describe_arch(ours, sizeof(ours), &prog->arch);
	return failure_say(
		f, -ENOEXEC,
		"%s is an ELF for another machine (%s; the program is %s)",
		subject, theirs, ours);
}

/* depth counts the #! scripts above this one. Reasons are sentences about
 * subject ("it is ...", "its #! interpreter /x is missing"); one about
 * what this file uses is wrapped as "<subject> is not usable: <reason>",
 * except for the init itself, where the sentence reads on its own. */
static int check_program(int rootfd, const char *path, int depth,
			 const char *subject, struct failure *f)
{
	struct prog_info prog;
	int rc = inspect(rootfd, path, subject, &prog, f);
	if (rc < 0)
		return rc;
	if (prog.kind == PROG_ELF && !prog.interp[0]) {
		return 0;
	} else if (prog.kind == PROG_ELF) {
		rc = check_elf_interp(rootfd, &prog, f);
	} else if (depth >= SHEBANG_DEPTH_MAX) {
		return failure_say(f, -ELOOP,
				   "%s is a #! script nested more than %d deep",
				   subject, SHEBANG_DEPTH_MAX);
	} else {
		char sub[ELF_INTERP_MAX + 32];
		snprintf(sub, sizeof(sub), "its #! interpreter %s",
			 prog.interp);
		rc = check_program(rootfd, prog.interp, depth + 1, sub, f);
	}
	/* The init's own reason reads on its own. */
	if (rc < 0 && depth > 0)
		failure_context(f, "%s is not usable", subject);
	return rc;
}

int initcheck_program(int rootfd, const char *path, struct failure *f)
{
	failure_clear(f);
	return check_program(rootfd, path, 0, "it", f);
}
