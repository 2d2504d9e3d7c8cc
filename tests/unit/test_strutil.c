#include <errno.h>

#include "base/strutil.h"
#include "check.h"

static void copy_fits_and_truncation_is_error(void)
{
	char buf[4];
	CHECK(str_copy(buf, sizeof(buf), "abc") == 0);
	CHECK_STR(buf, "abc");
	CHECK(str_copy(buf, sizeof(buf), "abcd") == -ENAMETOOLONG);
	CHECK_STR(buf, "");
	CHECK(str_append(buf, sizeof(buf), "ab") == 0);
	CHECK(str_append(buf, sizeof(buf), "c") == 0);
	CHECK_STR(buf, "abc");
	CHECK(str_append(buf, sizeof(buf), "d") == -ENAMETOOLONG);
	CHECK_STR(buf, "abc"); /* unchanged on failure: callers rely on it */
	CHECK(str_copy(buf, 0, "") == -ENAMETOOLONG);
}

static void parse_uint_checks_everything(void)
{
	unsigned long v = 99;
	CHECK(parse_uint("42", 0, 100, &v) == 0 && v == 42);
	CHECK(parse_uint("", 0, 100, &v) == -EINVAL);
	CHECK(parse_uint("-1", 0, 100, &v) == -EINVAL);
	CHECK(parse_uint(" 1", 0, 100, &v) == -EINVAL);
	CHECK(parse_uint("1x", 0, 100, &v) == -EINVAL);
	CHECK(parse_uint("101", 0, 100, &v) == -ERANGE);
	CHECK(parse_uint("99999999999999999999999", 0, 100, &v) == -ERANGE);
	CHECK(parse_uint(NULL, 0, 100, &v) == -EINVAL);
}

static void dotdot_components(void)
{
	CHECK(path_has_dotdot(".."));
	CHECK(path_has_dotdot("/a/../b"));
	CHECK(path_has_dotdot("/a/.."));
	CHECK(path_has_dotdot("../a"));
	CHECK(!path_has_dotdot("/a/..b/c"));
	CHECK(!path_has_dotdot("/a/b.."));
	CHECK(!path_has_dotdot("/a/./b"));
	CHECK(!path_has_dotdot(""));
}

static void escape_controls(void)
{
	char buf[16];
	CHECK(str_escape_controls(buf, sizeof(buf), "a\tb\x7f"));
	CHECK_STR(buf, "a\\x09b\\x7f");
	/* Cut at a whole escape, never half of one. */
	CHECK(!str_escape_controls(buf, 8, "abcde\x1b"));
	CHECK_STR(buf, "abcde");
	CHECK(!str_escape_controls(buf, 1, "x"));
	CHECK_STR(buf, "");
	CHECK(str_escape_controls(buf, sizeof(buf), "\xc3\xa4 ok"));
	CHECK_STR(buf, "\xc3\xa4 ok");
}

/* C0 and DEL are control bytes; space, text and bytes >= 0x80 (UTF-8)
 * are not; the _n form stops at n and at the NUL. */
static void control_bytes_found(void)
{
	CHECK(char_is_control(0) && char_is_control(0x1b));
	CHECK(char_is_control(0x1f) && char_is_control(0x7f));
	CHECK(!char_is_control(' ') && !char_is_control(0x80));
	CHECK(!str_has_controls(""));
	CHECK(!str_has_controls("UUID=abc d\xc3\xa9"));
	CHECK(str_has_controls("a\tb"));
	CHECK(str_has_controls("\x1b[2J"));
	CHECK(str_has_controls("end\x7f"));
	CHECK(!str_has_controls_n("ab\ncd", 2));
	CHECK(str_has_controls_n("ab\ncd", 3));
	CHECK(!str_has_controls_n("ab\0\n", 4));
}

void strutil_tests(void)
{
	RUN(dotdot_components);
	RUN(escape_controls);
	RUN(control_bytes_found);
	RUN(copy_fits_and_truncation_is_error);
	RUN(parse_uint_checks_everything);
}
