/* A member's failure (init/luks/luksmembers.h): the first is the
 * attempt's and said once, by whoever takes it; later ones are logged
 * where they happen. */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "check.h"
#include "luks/luksmembers.h"

/* luksload.c (libcryptsetup, header devices, tokens) is not in the unit
 * build; a member here is never loading. Weak: the real one wins if it
 * joins. */
__attribute__((weak)) bool load_pending(const struct luks_set *set)
{
	(void)set;
	return false;
}

static struct luks_member_cfg cfgs[2];

static void two_members(struct luks_set *set)
{
	memset(set, 0, sizeof(*set));
	memset(cfgs, 0, sizeof(cfgs));
	set->n = 2;
	for (int i = 0; i < 2; i++) {
		cfgs[i].spec.kind = DEVSPEC_UUID;
		strcpy(cfgs[i].spec.value, i ? "uuid-b" : "uuid-a");
		set->m[i].cfg = &cfgs[i];
		strcpy(set->m[i].dm_name, i ? "luks-b" : "luks-a");
		strcpy(set->m[i].devnode, i ? "/dev/vdb" : "/dev/vda");
	}
}

/* What the log sent to kmsg since the last call. */
static void drain(int fd, char *buf, size_t size)
{
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void member_failure_said_once(void)
{
	static struct luks_set set;
	int kmsg[2];
	char buf[1024];
	CHECK(pipe(kmsg) == 0);
	fcntl(kmsg[0], F_SETFL, O_NONBLOCK);
	log_set_fds(-1, kmsg[1]);
	two_members(&set);
	member_fail(&set, &set.m[0], "no key opens it");
	drain(kmsg[0], buf, sizeof(buf));
	CHECK_STR(buf, ""); /* the attempt's failure: not logged here */
	member_fail(&set, &set.m[1], "its disk does not answer");
	drain(kmsg[0], buf, sizeof(buf));
	CHECK(strstr(buf, "luks-b: its disk does not answer"));
	CHECK(luks_nfailed(&set) == 2);
	const struct failure *f = luks_take_failure(&set);
	CHECK(f && strstr(f->what, "cannot unlock luks-a (UUID=uuid-a on "
				   "/dev/vda): no key opens it"));
	CHECK(luks_take_failure(&set) == NULL);
	luks_tell_failure(&set); /* taken: not said again */
	drain(kmsg[0], buf, sizeof(buf));
	CHECK_STR(buf, "");

	/* Nobody took it (a degraded mount went on): told in the log, once. */
	two_members(&set);
	member_fail(&set, &set.m[0], "no key opens it");
	luks_tell_failure(&set);
	luks_tell_failure(&set);
	drain(kmsg[0], buf, sizeof(buf));
	const char *said = strstr(buf, "luks-a: no key opens it");
	CHECK(said && !strstr(said + 1, "luks-a: no key opens it"));
	CHECK(luks_take_failure(&set) == NULL);
	log_set_fds(2, -1);
	close(kmsg[0]);
	close(kmsg[1]);
}

void luksmembers_tests(void)
{
	RUN(member_failure_said_once);
}
