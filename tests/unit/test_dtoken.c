#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/dtoken.h"

#define UUID "0ac0a545-24b4-4f0b-b072-bd74f1df29f0"

static void token_round_trips(void)
{
	char json[512];
	struct dtoken t;
	CHECK(dtoken_format(json, sizeof(json), UUID, 7) == 0);
	CHECK(dtoken_parse(json, &t) == 0);
	CHECK(t.keyslot == 7 && t.version == 1);
	CHECK_STR(t.primary, UUID);
	/* As libcryptsetup gives it back: spaced, keys in another order. */
	CHECK(dtoken_parse("{ \"keyslots\": [ \"31\" ], \"type\": "
			   "\"luksinit-derived\", \"context\": "
			   "\"luksinit-derived-key v1\", \"version\": 1, "
			   "\"primary\": \"" UUID "\" }",
			   &t) == 0);
	CHECK(t.keyslot == 31);
}

static void format_refuses_what_it_cannot_write(void)
{
	char json[512];
	CHECK(dtoken_format(json, sizeof(json), UUID, 32) == -EINVAL);
	CHECK(dtoken_format(json, sizeof(json), UUID, -1) == -EINVAL);
	CHECK(dtoken_format(json, sizeof(json), "a\",\"x\":\"", 1) == -EINVAL);
	CHECK(dtoken_format(json, sizeof(json), "", 1) == -EINVAL);
	CHECK(dtoken_format(json, 40, UUID, 1) == -ENAMETOOLONG);
}

static void parse_tells_other_tokens_and_versions_apart(void)
{
	struct dtoken t;
	CHECK(dtoken_parse("{\"type\":\"systemd-tpm2\",\"keyslots\":[\"1\"]}",
			   &t) == -ENOENT);
	CHECK(dtoken_parse(
		      "{\"type\":\"luksinit-derived\",\"keyslots\":[\"1\"],"
		      "\"version\":2,\"primary\":\"" UUID "\","
		      "\"context\":\"luksinit-derived-key v2\"}",
		      &t) == -EPROTONOSUPPORT);
	CHECK(dtoken_parse(
		      "{\"type\":\"luksinit-derived\",\"keyslots\":[\"1\"],"
		      "\"version\":1,\"primary\":\"" UUID "\","
		      "\"context\":\"other\"}",
		      &t) == -EPROTONOSUPPORT);
}

static void parse_refuses_malformed_tokens(void)
{
	struct dtoken t;
	const char *bad[] = {
		"",
		"[]",
		"{\"type\":1}",
		"{\"type\":\"luksinit-derived\"}",
		"{\"type\":\"luksinit-derived\",\"keyslots\":[\"1\"],"
		"\"version\":\"1\",\"primary\":\"" UUID "\","
		"\"context\":\"luksinit-derived-key v1\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(dtoken_parse(bad[i], &t) == -EINVAL);
	const char *slots[] = {"[]",	   "[\"1\",\"2\"]", "[\"x\"]",
			       "[\"32\"]", "[\"-1\"]",	    "[1]",
			       "[\"\"]",   "\"1\""};
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		char json[512];
		snprintf(json, sizeof(json),
			 "{\"type\":\"luksinit-derived\",\"keyslots\":%s,"
			 "\"version\":1,\"primary\":\"" UUID "\","
			 "\"context\":\"luksinit-derived-key v1\"}",
			 slots[i]);
		CHECK(dtoken_parse(json, &t) == -EINVAL);
		CHECK(t.keyslot == -1);
	}
	CHECK(dtoken_parse(
		      "{\"type\":\"luksinit-derived\",\"keyslots\":[\"1\"],"
		      "\"version\":1,\"primary\":\"../x\","
		      "\"context\":\"luksinit-derived-key v1\"}",
		      &t) == -EINVAL);
}

void dtoken_tests(void)
{
	RUN(token_round_trips);
	RUN(format_refuses_what_it_cannot_write);
	RUN(parse_tells_other_tokens_and_versions_apart);
	RUN(parse_refuses_malformed_tokens);
}
