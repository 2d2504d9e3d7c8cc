#include "check.h"

int check_failures_in_test;
static int passed, failed;

void run_test(const char *name, test_fn fn)
{
	check_failures_in_test = 0;
	fn();
	if (check_failures_in_test) {
		failed++;
		printf("FAIL unit/%s\n", name);
	} else {
		passed++;
		printf("PASS unit/%s\n", name);
	}
}

int main(void)
{
	/* Line-buffered even into a pipe: after a crash (a sanitizer abort, a
	 * SIGSEGV) the log still shows every test that reported, so the one
	 * that crashed is the first name missing. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	base_tests();
	strutil_tests();
	cmdline_tests();
	cmdline_luks_tests();
	pwcache_tests();
	cmdline_header_tests();
	devspec_tests();
	mountopts_tests();
	uevent_tests();
	log_tests();
	fwpath_tests();
	fwreader_tests();
	btrfssb_tests();
	initcheck_tests();
	fwpolicy_tests();
	waitpolicy_tests();
	fwsysfs_tests();
	devsysfs_tests();
	derive_tests();
	dtoken_tests();
	tpm2token_tests();
	derivedpolicy_tests();
	lukskeys_tests();
	luksmembers_tests();
	consoles_tests();
	keymap_tests();
	swapresume_tests();
	prompt_tests();
	remote_tests();
	keydev_tests();
	kmsghold_tests();
	job_tests();
	btrfsscan_tests();
	identify_tests();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
