/* The init check against temporary trees: crafted ELF files and scripts
 * below a directory that plays the new root. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "check.h"
#include "handover/initcheck.h"

/* ---- a temporary root ---- */

static char root_dir[64];
static int rootfd = -1;

static void root_create(void)
{
	snprintf(root_dir, sizeof(root_dir), "/tmp/initcheck.XXXXXX");
	if (!mkdtemp(root_dir)) {
		perror("mkdtemp");
		exit(2);
	}
	rootfd = open(root_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void root_remove(void)
{
	close(rootfd);
	nftw(root_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdirs(const char *path)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdirat(rootfd, dir[0] == '/' ? dir + 1 : dir, 0755);
		*p = '/';
	}
}

static void put(const char *path, const void *data, size_t len, mode_t mode)
{
	mkdirs(path);
	const char *rel = path[0] == '/' ? path + 1 : path;
	unlinkat(rootfd, rel, 0);
	int fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(path);
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
}

static void put_str(const char *path, const char *text, mode_t mode)
{
	put(path, text, strlen(text), mode);
}

static void put_link(const char *path, const char *target)
{
	mkdirs(path);
	unlinkat(rootfd, path + 1, 0);
	if (symlinkat(target, rootfd, path + 1) < 0) {
		perror(path);
		exit(2);
	}
}

/* ---- crafted ELF files ---- */

static void put_uint(unsigned char *p, size_t n, uint64_t v, unsigned char data)
{
	for (size_t i = 0; i < n; i++)
		p[data == ELFDATA2LSB ? i : n - 1 - i] =
			(unsigned char)(v >> (8 * i));
}

struct elf_spec {
	struct elf_arch arch;
	uint16_t type;
	const char *interp; /* NULL: static */
};

/* A minimal ELF: header, a PT_LOAD and maybe a PT_INTERP, the interpreter
 * name. Returns its length. */
static size_t make_elf(unsigned char *buf, const struct elf_spec *s)
{
	int is64 = s->arch.elf_class == ELFCLASS64;
	unsigned char d = s->arch.data;
	size_t ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
	size_t phnum = s->interp ? 2 : 1;
	size_t interp_off = ehsize + phnum * phsize;
	size_t len = interp_off + (s->interp ? strlen(s->interp) + 1 : 0);
	memset(buf, 0, len);
	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = s->arch.elf_class;
	buf[EI_DATA] = d;
	buf[EI_VERSION] = EV_CURRENT;
	put_uint(buf + 16, 2, s->type, d);
	put_uint(buf + 18, 2, s->arch.machine, d);
	put_uint(buf + 20, 4, EV_CURRENT, d);
	put_uint(buf + (is64 ? 32 : 28), is64 ? 8 : 4, ehsize, d);
	put_uint(buf + (is64 ? 52 : 40), 2, ehsize, d);
	put_uint(buf + (is64 ? 54 : 42), 2, phsize, d);
	put_uint(buf + (is64 ? 56 : 44), 2, phnum, d);
	unsigned char *ph = buf + ehsize;
	put_uint(ph, 4, PT_LOAD, d);
	if (s->interp) {
		ph += phsize;
		put_uint(ph, 4, PT_INTERP, d);
		put_uint(ph + (is64 ? 8 : 4), is64 ? 8 : 4, interp_off, d);
		put_uint(ph + (is64 ? 32 : 16), is64 ? 8 : 4,
			 strlen(s->interp) + 1, d);
		memcpy(buf + interp_off, s->interp, strlen(s->interp) + 1);
	}
	return len;
}

static void put_elf(const char *path, const struct elf_spec *s, mode_t mode)
{
	unsigned char buf[1024];
	put(path, buf, make_elf(buf, s), mode);
}

static struct elf_spec native(uint16_t type, const char *interp)
{
	struct elf_spec s = {initcheck_native_arch(), type, interp};
	return s;
}

/* The reason as the person reads it (failure_text). */
static int check(const char *path, char *why, size_t size)
{
	struct failure f;
	int rc = initcheck_program(rootfd, path, &f);
	failure_text(&f, why, size);
	return rc;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- the cases ---- */

static void static_elf_is_a_program(void)
{
	char why[512];
	root_create();
	struct elf_spec exec = native(ET_EXEC, NULL),
			pie = native(ET_DYN, NULL);
	put_elf("/sbin/init", &exec, 0755);
	put_elf("/sbin/init-pie", &pie, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	CHECK_STR(why, "");
	CHECK(check("/sbin/init-pie", why, sizeof(why)) == 0);
	root_remove();
}

static void dynamic_elf_needs_its_interpreter(void)
{
	char why[512];
	root_create();
	struct elf_spec dyn = native(ET_DYN, "/lib/ld-test.so.1");
	put_elf("/sbin/init", &dyn, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOENT);
	CHECK_STR(why, "its program interpreter /lib/ld-test.so.1 is missing");

	struct elf_spec ld = native(ET_DYN, NULL);
	put_elf("/lib/ld-test.so.1", &ld, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);

	put_elf("/lib/ld-test.so.1", &ld, 0644);
	CHECK(check("/sbin/init", why, sizeof(why)) == -EACCES);
	CHECK_STR(
		why,
		"its program interpreter /lib/ld-test.so.1 is not executable (mode 0644, no x bit)");

	put_str("/lib/ld-test.so.1", "#!/bin/sh\n", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK_STR(
		why,
		"its program interpreter /lib/ld-test.so.1 is not an ELF program");

	struct elf_spec other = ld;
	other.arch.machine =
		other.arch.machine == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
	put_elf("/lib/ld-test.so.1", &other, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(
		why,
		"its program interpreter /lib/ld-test.so.1 is an ELF for another machine ("));
	root_remove();
}

/* A compat flavour (32-bit x86 on x86-64) runs, but a program and its
 * interpreter must be of the same one. */
static void interpreter_of_another_flavour(void)
{
	char why[512];
	struct elf_spec compat = native(ET_EXEC, NULL);
	compat.arch.elf_class = ELFCLASS32;
	compat.arch.machine =
		compat.arch.machine == EM_AARCH64 ? EM_ARM : EM_386;
	if (!initcheck_arch_runs_here(&compat.arch) ||
	    compat.arch.elf_class == initcheck_native_arch().elf_class)
		return; /* no compat flavour on this architecture */
	root_create();
	put_elf("/sbin/init", &compat, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	put_elf("/lib/ld.so", &compat, 0755);
	struct elf_spec dyn = native(ET_DYN, "/lib/ld.so");
	put_elf("/sbin/init", &dyn, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(
		why,
		"its program interpreter /lib/ld.so is an ELF for another machine ("));
	CHECK(strstr(why, "; the program is ") != NULL);
	root_remove();
}

/* The interpreter is looked up in the new root, not in the initramfs (or
 * the host running the test), and its symlinks resolve there too. */
static void interpreter_resolved_inside_root(void)
{
	char why[512];
	root_create();
	struct elf_spec dyn = native(ET_DYN, "/bin/sh");
	put_elf("/sbin/init", &dyn, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOENT);
	CHECK_STR(why, "its program interpreter /bin/sh is missing");

	struct elf_spec ld = native(ET_DYN, NULL);
	dyn.interp = "/lib64/ld.so";
	put_elf("/sbin/init", &dyn, 0755);
	put_elf("/usr/lib/ld.so", &ld, 0755);
	put_link("/lib64", "/usr/lib");
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	put_link("/lib64", "../../../../../../usr/lib");
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	root_remove();
}

static void elf_for_another_machine(void)
{
	char why[512];
	root_create();
	struct elf_arch me = initcheck_native_arch();
	struct elf_spec arm = {{ELFCLASS32, ELFDATA2LSB,
				me.machine == EM_ARM ? EM_X86_64 : EM_ARM},
			       ET_EXEC,
			       NULL};
	put_elf("/sbin/init", &arm, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(
		why,
		me.machine == EM_ARM
			? "it is an ELF for another machine (x86-64, 32-bit"
			: "it is an ELF for another machine (ARM, 32-bit, little-endian; this system runs "));
	root_remove();
}

static void elf_of_another_class(void)
{
	char why[512];
	root_create();
	struct elf_spec s = native(ET_EXEC, NULL);
	s.arch.elf_class =
		s.arch.elf_class == ELFCLASS64 ? ELFCLASS32 : ELFCLASS64;
	put_elf("/sbin/init", &s, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(why, "it is an ELF for another machine ("));
	root_remove();
}

static void elf_of_another_byte_order(void)
{
	char why[512];
	root_create();
	struct elf_spec s = native(ET_EXEC, NULL);
	s.arch.data = s.arch.data == ELFDATA2LSB ? ELFDATA2MSB : ELFDATA2LSB;
	put_elf("/sbin/init", &s, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK(strstr(why, s.arch.data == ELFDATA2MSB
				  ? "-bit, big-endian; this system runs"
				  : "-bit, little-endian; this system runs") !=
	      NULL);
	root_remove();
}

static void truncated_elf(void)
{
	char why[512];
	unsigned char buf[1024];
	root_create();
	struct elf_spec dyn = native(ET_DYN, "/lib/ld.so");
	size_t len = make_elf(buf, &dyn);
	put_elf("/lib/ld.so", &(struct elf_spec){dyn.arch, ET_DYN, NULL}, 0755);
	put("/sbin/init", buf, len, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	/* cut in the header, in the program headers, in the name */
	size_t cuts[] = {10, 40, 70, len - 3};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		put("/sbin/init", buf, cuts[i], 0755);
		CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
		CHECK(starts_with(why, "it is a truncated ELF file"));
	}
	root_remove();
}

static void elf_that_is_not_a_program(void)
{
	char why[512];
	root_create();
	struct elf_spec obj = native(ET_REL, NULL);
	put_elf("/sbin/init", &obj, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK_STR(why, "it is an ELF file but not a program (an object file)");
	root_remove();
}

static void script_needs_its_interpreter(void)
{
	char why[512];
	root_create();
	put_str("/sbin/init", "#!/bin/nothere\necho hi\n", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOENT);
	CHECK_STR(why, "its #! interpreter /bin/nothere is missing");

	struct elf_spec sh = native(ET_EXEC, NULL);
	put_elf("/bin/nothere", &sh, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	/* blanks and an argument, as the kernel splits them */
	put_str("/sbin/init", "#! \t/bin/nothere -e -x \t\n", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	/* no newline at all: a file that short ends the name with NULs */
	put_str("/sbin/init", "#!/bin/nothere", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);

	put_elf("/bin/nothere", &sh, 0600);
	CHECK(check("/sbin/init", why, sizeof(why)) == -EACCES);
	CHECK_STR(
		why,
		"its #! interpreter /bin/nothere is not executable (mode 0600, no x bit)");
	root_remove();
}

static void script_interpreter_is_checked_like_a_program(void)
{
	char why[512];
	root_create();
	struct elf_spec dyn = native(ET_DYN, "/lib/ld-missing.so");
	put_elf("/usr/bin/tool", &dyn, 0755);
	put_str("/sbin/init", "#!/usr/bin/tool\n", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOENT);
	CHECK_STR(
		why,
		"its #! interpreter /usr/bin/tool is not usable: its program interpreter /lib/ld-missing.so is missing");
	root_remove();
}

static void script_chains_are_bounded(void)
{
	char why[512];
	root_create();
	struct elf_spec sh = native(ET_EXEC, NULL);
	put_elf("/bin/elf", &sh, 0755);
	/* /s0 -> /s1 -> ... -> /s<n-1> -> /bin/elf */
	for (int n = SHEBANG_DEPTH_MAX; n <= SHEBANG_DEPTH_MAX + 1; n++) {
		for (int i = 0; i < n; i++) {
			char path[16], text[32];
			snprintf(path, sizeof(path), "/s%d", i);
			if (i + 1 < n)
				snprintf(text, sizeof(text), "#!/s%d\n", i + 1);
			else
				snprintf(text, sizeof(text), "#!/bin/elf\n");
			put_str(path, text, 0755);
		}
		int rc = check("/s0", why, sizeof(why));
		CHECK(rc == (n <= SHEBANG_DEPTH_MAX ? 0 : -ELOOP));
		if (n > SHEBANG_DEPTH_MAX)
			CHECK(strstr(why, "is a #! script nested more than") !=
			      NULL);
	}
	put_str("/loop", "#!/loop\n", 0755);
	CHECK(check("/loop", why, sizeof(why)) == -ELOOP);
	root_remove();
}

static void shebang_line_too_long(void)
{
	char why[512], text[400];
	root_create();
	/* The interpreter name does not end in the 256 bytes the kernel reads. */
	snprintf(text, sizeof(text), "#!/");
	memset(text + 3, 'a', 300);
	text[303] = '\0';
	put_str("/sbin/init", text, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(why, "it is not a program (its #! line is too long"));
	/* Only the argument is cut off: the kernel runs it. */
	struct elf_spec sh = native(ET_EXEC, NULL);
	put_elf("/bin/sh", &sh, 0755);
	snprintf(text, sizeof(text), "#!/bin/sh ");
	memset(text + 10, 'x', 300);
	text[310] = '\0';
	put_str("/sbin/init", text, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	root_remove();
}

static void text_is_not_a_program(void)
{
	char why[512];
	root_create();
	put_str("/sbin/init", "echo hello\n", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK_STR(
		why,
		"it is not a program (neither an ELF binary nor a #! script)");
	put_str("/sbin/init", "", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	put_str("/sbin/init", "\177EL", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	put_str("/sbin/init", "#! \t\n/bin/sh\n", 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK_STR(why,
		  "it is not a program (its #! line names no interpreter)");
	put("/sbin/init", "#!\0/bin/sh\n", 11, 0755); /* found by fuzzing */
	CHECK(check("/sbin/init", why, sizeof(why)) == -ENOEXEC);
	CHECK_STR(why,
		  "it is not a program (its #! line names no interpreter)");
	root_remove();
}

static void only_executable_regular_files(void)
{
	char why[512];
	root_create();
	struct elf_spec s = native(ET_EXEC, NULL);
	put_elf("/sbin/init", &s, 0644);
	CHECK(check("/sbin/init", why, sizeof(why)) == -EACCES);
	CHECK_STR(why, "it is not executable (mode 0644, no x bit)");
	put_elf("/sbin/init", &s, 0100); /* any x bit will do for root */
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	mkdirat(rootfd, "sbin/dir", 0755);
	CHECK(check("/sbin/dir", why, sizeof(why)) == -EACCES);
	CHECK_STR(why, "it is a directory, not a program file");
	/* A FIFO must be refused, not opened: that would block. */
	CHECK(mkfifoat(rootfd, "sbin/fifo", 0755) == 0);
	CHECK(check("/sbin/fifo", why, sizeof(why)) == -EACCES);
	CHECK_STR(why, "it is a FIFO, not a program file");
	CHECK(check("/sbin/nothere", why, sizeof(why)) == -ENOENT);
	CHECK_STR(why, "it is missing");
	root_remove();
}

/* /sbin/init -> /lib/systemd/systemd: absolute links resolve in the root. */
static void symlinked_init_resolves_in_root(void)
{
	char why[512];
	root_create();
	struct elf_spec s = native(ET_EXEC, NULL);
	put_elf("/lib/systemd/systemd", &s, 0755);
	put_link("/sbin/init", "/lib/systemd/systemd");
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	put_link("/sbin/init", "../../../../lib/systemd/systemd");
	CHECK(check("/sbin/init", why, sizeof(why)) == 0);
	put_link("/sbin/init", "/sbin/init");
	CHECK(check("/sbin/init", why, sizeof(why)) == -ELOOP);
	root_remove();
}

/* Needs root and a kernel that lets the test mount a tmpfs; skipped
 * otherwise (the boot test initcheck_noexec_root covers the root). */
static void noexec_mount_refused(void)
{
	char why[512], mnt[128];
	root_create();
	snprintf(mnt, sizeof(mnt), "%s/mnt", root_dir);
	mkdir(mnt, 0755);
	if (mount("initcheck", mnt, "tmpfs", MS_NOEXEC, NULL) < 0) {
		printf("  skipped: cannot mount a tmpfs (%s)\n",
		       strerror(errno));
		root_remove();
		return;
	}
	struct elf_spec s = native(ET_EXEC, NULL);
	put_elf("/mnt/init", &s, 0755);
	CHECK(check("/mnt/init", why, sizeof(why)) == -EACCES);
	CHECK_STR(why, "it is on a filesystem mounted noexec");
	struct elf_spec dyn = native(ET_DYN, "/mnt/init");
	put_elf("/sbin/init", &dyn, 0755);
	CHECK(check("/sbin/init", why, sizeof(why)) == -EACCES);
	CHECK_STR(
		why,
		"its program interpreter /mnt/init is on a filesystem mounted noexec");
	umount2(mnt, MNT_DETACH);
	root_remove();
}

static ino_t inode_of(int fd)
{
	struct stat st;
	ino_t ino = fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
	if (fd >= 0)
		close(fd);
	return ino;
}

/* Kernels before 5.6 have no openat2(): the walk must resolve as
 * RESOLVE_IN_ROOT does, or fail the same way. */
static void walk_resolves_like_openat2(void)
{
	root_create();
	struct elf_spec s = native(ET_EXEC, NULL);
	put_elf("/usr/lib/systemd/systemd", &s, 0755);
	put_link("/lib", "usr/lib");
	put_link("/sbin/init", "/lib/systemd/systemd");
	put_link("/sbin/up", "../../../..");
	put_link("/sbin/loop", "loop2");
	put_link("/sbin/loop2", "/sbin/loop");
	put_link("/sbin/dangling", "/nothere");
	const char *paths[] = {
		"/sbin/init",
		"sbin/init",
		"/sbin/../sbin/./init",
		"/../../sbin/init",
		"//sbin//init",
		"/sbin/up/sbin/init",
		"/sbin/up/../lib",
		"/",
		"/sbin/init/",
		"/sbin/loop",
		"/sbin/dangling",
		"/sbin/nothere",
		"/sbin/up",
		"/lib/systemd/",
		"",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int a = open_in_root(rootfd, paths[i], O_PATH, LINKS_IN_ROOT);
		int b = open_in_root_walk(rootfd, paths[i], O_PATH,
					  LINKS_IN_ROOT);
		int ok = (a < 0 && a == b) ||
			 (a >= 0 && b >= 0 &&
			  inode_of(dup(a)) == inode_of(dup(b)));
		if (!ok)
			printf("  path \"%s\": openat2 %d, walk %d\n", paths[i],
			       a, b);
		CHECK(ok);
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
	/* the walk opens for reading too, and a file so opened reads */
	int fd = open_in_root_walk(rootfd, "/sbin/init", O_RDONLY,
				   LINKS_IN_ROOT);
	char magic[4] = {0};
	CHECK(fd >= 0 && read(fd, magic, 4) == 4 && !memcmp(magic, ELFMAG, 4));
	if (fd >= 0)
		close(fd);
	root_remove();
}

/* In a child, make openat2() fail with ENOSYS as on kernels before 5.6
 * (a seccomp filter; a test-only filter, so no architecture check), and
 * check that the fallback is taken: a symlinked init still resolves in
 * the root. */
static void openat2_enosys_falls_back(void)
{
	root_create();
	struct elf_spec s = native(ET_DYN, "/lib64/ld.so");
	struct elf_spec ld = native(ET_DYN, NULL);
	put_elf("/usr/lib/systemd/systemd", &s, 0755);
	put_elf("/usr/lib/ld.so", &ld, 0755);
	put_link("/lib64", "/usr/lib");
	put_link("/sbin/init", "/usr/lib/systemd/systemd");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(3);
		struct open_how how = {.flags = O_PATH};
		if (syscall(SYS_openat2, rootfd, "sbin", &how, sizeof(how)) >=
			    0 ||
		    errno != ENOSYS)
			_exit(4); /* the filter did not take */
		struct failure why;
		int rc = initcheck_program(rootfd, "/sbin/init", &why);
		int missing = open_in_root(rootfd, "/sbin/nothere", O_PATH,
					   LINKS_IN_ROOT);
		_exit(rc == 0 && missing == -ENOENT ? 0 : 1);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		printf("  skipped: cannot install a seccomp filter\n");
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	root_remove();
}

static void mount_points(void)
{
	root_create();
	CHECK(initcheck_is_mount_point(rootfd) == 0);
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(initcheck_is_mount_point(fd) == 1);
	close(fd);
	fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(initcheck_is_mount_point(fd) == 1);
	close(fd);
	root_remove();
}

/* ---- the parser alone, on a byte buffer ---- */

struct mem {
	const unsigned char *buf;
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

static int parse_buf(const unsigned char *buf, size_t len,
		     struct prog_info *info, char *why, size_t size)
{
	struct mem m = {buf, len};
	struct failure f;
	int rc = initcheck_parse(mem_read, &m, info, &f);
	failure_text(&f, why, size);
	return rc;
}

static void parser_reads_what_the_kernel_reads(void)
{
	static struct prog_info info;
	char why[512];
	unsigned char buf[1024];
	struct elf_spec dyn = native(ET_DYN, "/lib/ld.so");
	size_t len = make_elf(buf, &dyn);
	CHECK(parse_buf(buf, len, &info, why, sizeof(why)) == 0);
	CHECK(info.kind == PROG_ELF);
	CHECK_STR(info.interp, "/lib/ld.so");

	int is64 = dyn.arch.elf_class == ELFCLASS64;
	unsigned char bad[1024];
	/* program header entries of the wrong size */
	memcpy(bad, buf, len);
	put_uint(bad + (is64 ? 54 : 42), 2, 12, dyn.arch.data);
	CHECK(parse_buf(bad, len, &info, why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(why, "is a malformed ELF file"));
	/* a program interpreter name without its NUL */
	memcpy(bad, buf, len);
	bad[len - 1] = 'x';
	CHECK(parse_buf(bad, len, &info, why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(why, "is a malformed ELF file"));
	/* an interpreter entry the kernel refuses (over PATH_MAX) */
	memcpy(bad, buf, len);
	size_t ph = (is64 ? 64 : 52) + (is64 ? 56 : 32);
	put_uint(bad + ph + (is64 ? 32 : 16), is64 ? 8 : 4, 1u << 20,
		 dyn.arch.data);
	CHECK(parse_buf(bad, len, &info, why, sizeof(why)) == -ENOEXEC);
	/* program headers far beyond the end of the file */
	memcpy(bad, buf, len);
	put_uint(bad + (is64 ? 32 : 28), is64 ? 8 : 4,
		 is64 ? UINT64_MAX - 8 : UINT32_MAX - 8, dyn.arch.data);
	CHECK(parse_buf(bad, len, &info, why, sizeof(why)) == -ENOEXEC);
	CHECK(starts_with(why, "is a truncated ELF file"));

	const char *script = "#!/usr/bin/env python3\n";
	CHECK(parse_buf((const unsigned char *)script, strlen(script), &info,
			why, sizeof(why)) == 0);
	CHECK(info.kind == PROG_SCRIPT);
	CHECK_STR(info.interp, "/usr/bin/env");
}

void initcheck_tests(void)
{
	RUN(static_elf_is_a_program);
	RUN(dynamic_elf_needs_its_interpreter);
	RUN(interpreter_of_another_flavour);
	RUN(interpreter_resolved_inside_root);
	RUN(elf_for_another_machine);
	RUN(elf_of_another_class);
	RUN(elf_of_another_byte_order);
	RUN(truncated_elf);
	RUN(elf_that_is_not_a_program);
	RUN(script_needs_its_interpreter);
	RUN(script_interpreter_is_checked_like_a_program);
	RUN(script_chains_are_bounded);
	RUN(shebang_line_too_long);
	RUN(text_is_not_a_program);
	RUN(only_executable_regular_files);
	RUN(noexec_mount_refused);
	RUN(symlinked_init_resolves_in_root);
	RUN(walk_resolves_like_openat2);
	RUN(openat2_enosys_falls_back);
	RUN(mount_points);
	RUN(parser_reads_what_the_kernel_reads);
}
