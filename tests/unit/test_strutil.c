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

/* C1 controls (U+0080..U+009F): U+009B is CSI to the Linux VT and xterm,
 * so a LUKS UUID from a stranger's disk could drive the console (review
 * L12). Encoded in UTF-8 or as a lone byte (an 8-bit console), they are
 * escaped; a valid sequence whose bytes merely include 0x80-0x9F is
 * text. */
static void escape_c1_controls(void)
{
	char buf[64];
	CHECK(str_escape_controls(buf, sizeof(buf),
				  "a\xc2\x9b"
				  "b"));
	CHECK_STR(buf, "a\\xc2\\x9bb");
	CHECK(str_escape_controls(buf, sizeof(buf),
				  "\xc2\x80\xc2\x9f\xc2\xa0"));
	CHECK_STR(buf, "\\xc2\\x80\\xc2\\x9f\xc2\xa0");
	/* Lone bytes: 0x9b is CSI to a console not in UTF-8 mode. */
	CHECK(str_escape_controls(buf, sizeof(buf),
				  "x\x9b"
				  "2J\x85\xa9"));
	CHECK_STR(buf, "x\\x9b"
		       "2J\\x85\xa9");
	/* A lead byte without its continuation, then a C1 byte. */
	CHECK(str_escape_controls(buf, sizeof(buf), "\xe2\x9b"));
	CHECK_STR(buf, "\xe2\\x9b");
	/* U+201B and U+1F600 carry 0x80-0x9F bytes inside: text. */
	CHECK(str_escape_controls(buf, sizeof(buf),
				  "\xe2\x80\x9b\xf0\x9f\x98\x80"));
	CHECK_STR(buf, "\xe2\x80\x9b\xf0\x9f\x98\x80");
	/* Cut at a whole sequence, never half of one. */
	CHECK(!str_escape_controls(buf, 3, "a\xe2\x80\x9b"));
	CHECK_STR(buf, "a");
	CHECK(!str_escape_controls(buf, 9, "a\xc2\x9b"));
	CHECK_STR(buf, "a");
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
	RUN(escape_c1_controls);
	RUN(control_bytes_found);
	RUN(copy_fits_and_truncation_is_error);
	RUN(parse_uint_checks_everything);
}
