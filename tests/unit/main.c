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
	strutil_tests();
	cmdline_tests();
	cmdline_luks_tests();
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
	derivedpolicy_tests();
	consoles_tests();
	keymap_tests();
	swapresume_tests();
	job_tests();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
