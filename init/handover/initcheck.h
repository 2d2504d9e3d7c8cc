/* Would execve() run this file? The checks the kernel's ELF and #! loaders
 * make, done on the new root before anything irreversible happens.
 *
 * Everything here only reads: files below a root directory given as an fd
 * (so tests point it at a temporary tree), and the parser reads through a
 * callback (so it is fuzzed on a byte buffer). */
#ifndef LUKSINIT_INITCHECK_H
#define LUKSINIT_INITCHECK_H

#include <stdint.h>
#include <sys/types.h>

#include "base/failure.h"

/* The kernel reads a program's first BINPRM_BUF_SIZE bytes to pick its
 * loader; a #! line must fit in them. */
#define SHEBANG_BUF_SIZE 256
/* The kernel's limit for PT_INTERP (PATH_MAX, the NUL included). */
#define ELF_INTERP_MAX 4096
/* #! interpreters followed in a row (a script run by a script ...). The
 * kernel allows "4 levels of binfmt rewrites" (fs/exec.c), give or take
 * one by version; no init comes near. */
#define SHEBANG_DEPTH_MAX 4

struct elf_arch {
	unsigned char elf_class; /* ELFCLASS32 / ELFCLASS64 */
	unsigned char data;	 /* ELFDATA2LSB / ELFDATA2MSB */
	uint16_t machine;	 /* EM_* */
};

enum prog_kind { PROG_ELF, PROG_SCRIPT };

struct prog_info {
	enum prog_kind kind;
	struct elf_arch arch; /* PROG_ELF only */
	/* PT_INTERP of an ELF ("" for a static one), or the #! interpreter. */
	char interp[ELF_INTERP_MAX];
};

/* Reads up to size bytes at offset off into buf; returns how many were read
 * (fewer only at end of file) or -errno. */
typedef ssize_t (*prog_read_fn)(void *ctx, void *buf, size_t size,
				uint64_t off);

/* Pure: 0 if the file read through rd is an ELF program for this machine
 * (ET_EXEC or ET_DYN, program headers and PT_INTERP readable) or a #!
 * script whose interpreter path fits in the kernel's buffer; ret says
 * which. Else -ENOEXEC (or rd's -errno) and f holds the reason, phrased
 * "it is ..." (e.g. "it is an ELF for another machine (ARM, ...)"). */
int initcheck_parse(prog_read_fn rd, void *ctx, struct prog_info *ret,
		    struct failure *f);

/* true if this build's kernel may run an ELF of that flavour: the build's
 * own, or a compat one (32-bit x86 on x86-64, 32-bit ARM on AArch64). */
int initcheck_arch_runs_here(const struct elf_arch *a);
/* The build's own flavour (what a native static program here is). */
struct elf_arch initcheck_native_arch(void);

/* 1 if dirfd is the root of a mount, 0 if not, -errno. */
int initcheck_is_mount_point(int dirfd);

/* 0 if execve(path) after chroot(rootfd) would find a program: a regular
 * file with an x bit, not on a noexec mount, that initcheck_parse()
 * accepts; for a dynamic ELF, its program interpreter passes the same
 * checks and is an ELF of the same flavour; for a script, its interpreter
 * does (up to SHEBANG_DEPTH_MAX levels). Else -errno (-ENOENT missing,
 * -EACCES not executable or noexec, -ENOEXEC not a program, -ELOOP) and
 * f, phrased "it is ..." or "its program interpreter X is missing". */
int initcheck_program(int rootfd, const char *path, struct failure *f);

#endif
