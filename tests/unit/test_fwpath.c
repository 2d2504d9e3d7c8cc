#include <string.h>

#include "check.h"
#include "firmware/fwpath.h"

static void names_accepted(void)
{
	CHECK(fw_name_ok("iwlwifi-cc-a0-77.ucode"));
	CHECK(fw_name_ok("intel/ibt-20-1-3.sfi"));
	CHECK(fw_name_ok("a..b/c.."));
}

static void hostile_names_refused(void)
{
	CHECK(!fw_name_ok(NULL));
	CHECK(!fw_name_ok(""));
	CHECK(!fw_name_ok("/etc/shadow"));
	CHECK(!fw_name_ok("../../etc/shadow"));
	CHECK(!fw_name_ok("a/../../etc/shadow"));
	CHECK(!fw_name_ok("a/.."));
	CHECK(!fw_name_ok(".."));
	CHECK(!fw_name_ok("./a"));
	CHECK(!fw_name_ok("a//b"));
	CHECK(!fw_name_ok("a/"));
	CHECK(!fw_name_ok("a\nb"));
	char longname[FW_NAME_MAX + 10];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(!fw_name_ok(longname));
	longname[FW_NAME_MAX - 1] = '\0';
	CHECK(fw_name_ok(longname));
}

static void sysfs_bang_is_slash(void)
{
	char name[] = "intel!ibt!x.sfi";
	fw_name_from_sysfs(name);
	CHECK_STR(name, "intel/ibt/x.sfi");
}

static void search_order_like_the_kernel(void)
{
	char dirs[FW_DIRS_MAX][FW_DIR_LEN];
	int n = fw_search_dirs(NULL, "6.1.0", dirs);
	CHECK(n == 4);
	CHECK_STR(dirs[0], "/lib/firmware/updates/6.1.0");
	CHECK_STR(dirs[1], "/lib/firmware/updates");
	CHECK_STR(dirs[2], "/lib/firmware/6.1.0");
	CHECK_STR(dirs[3], "/lib/firmware");
	n = fw_search_dirs("/opt/fw", "6.1.0", dirs);
	CHECK(n == 5);
	CHECK_STR(dirs[0], "/opt/fw");
	CHECK_STR(dirs[4], "/lib/firmware");
}

static void search_order_rejects_bad_parts(void)
{
	char dirs[FW_DIRS_MAX][FW_DIR_LEN];
	int n = fw_search_dirs("relative", "../..", dirs);
	CHECK(n == 2);
	CHECK_STR(dirs[0], "/lib/firmware/updates");
	CHECK_STR(dirs[1], "/lib/firmware");
	n = fw_search_dirs("/a/../etc", "", dirs);
	CHECK(n == 2);
}

static void custom_path_trailing_slashes(void)
{
	char dirs[FW_DIRS_MAX][FW_DIR_LEN];
	int n = fw_search_dirs("/opt/fw//", "", dirs);
	CHECK(n == 3);
	CHECK_STR(dirs[0], "/opt/fw");
	n = fw_search_dirs("/", "", dirs);
	CHECK(n == 3);
	CHECK_STR(dirs[0], "/");
}

void fwpath_tests(void)
{
	RUN(custom_path_trailing_slashes);
	RUN(names_accepted);
	RUN(hostile_names_refused);
	RUN(sysfs_bang_is_slash);
	RUN(search_order_like_the_kernel);
	RUN(search_order_rejects_bad_parts);
}
