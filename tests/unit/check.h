/* A minimal test harness: each test function is one reported test. */
#ifndef LUKSINIT_CHECK_H
#define LUKSINIT_CHECK_H

#include <stdio.h>
#include <string.h>

extern int check_failures_in_test;

#define CHECK(cond)                                                    \
	do {                                                           \
		if (!(cond)) {                                         \
			check_failures_in_test++;                      \
			printf("  check failed %s:%d: %s\n", __FILE__, \
			       __LINE__, #cond);                       \
		}                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                             \
	do {                                                                        \
		const char *a_ = (a), *b_ = (b);                                    \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                            \
			check_failures_in_test++;                                   \
			printf("  check failed %s:%d: %s == \"%s\" (got \"%s\")\n", \
			       __FILE__, __LINE__, #a, b_ ? b_ : "(null)",          \
			       a_ ? a_ : "(null)");                                 \
		}                                                                   \
	} while (0)

typedef void (*test_fn)(void);
void run_test(const char *name, test_fn fn);
#define RUN(fn) run_test(#fn, fn)

void cmdline_tests(void);
void cmdline_luks_tests(void);
void pwcache_tests(void);
void cmdline_header_tests(void);
void devspec_tests(void);
void mountopts_tests(void);
void uevent_tests(void);
void log_tests(void);
void fwpath_tests(void);
void fwreader_tests(void);
void strutil_tests(void);
void btrfssb_tests(void);
void initcheck_tests(void);
void fwpolicy_tests(void);
void waitpolicy_tests(void);
void fwsysfs_tests(void);
void devsysfs_tests(void);
void derive_tests(void);
void dtoken_tests(void);
void tpm2token_tests(void);
void derivedpolicy_tests(void);
void lukskeys_tests(void);
void luksmembers_tests(void);
void consoles_tests(void);
void keymap_tests(void);
void swapresume_tests(void);
void prompt_tests(void);
void remote_tests(void);
void keydev_tests(void);
void kmsghold_tests(void);
void base_tests(void);
void job_tests(void);
void btrfsscan_tests(void);
void identify_tests(void);

#endif
