/* Encrypted swap and resume (issue 12): crypt_swap(s)=, resume=,
 * resume_offset=, noresume. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/log.h"
#include "base/util.h"
#include "check.h"
#include "config/cmdline.h"
#include "fakesys.h"
#include "handover/resume.h"

static void parse(struct boot_config *cfg, const char *line)
{
	static char buf[CMDLINE_MAX];
	strcpy(buf, line); /* test-only; inputs are literals below */
	boot_config_init(cfg);
	cmdline_parse(cfg, buf);
}

static void crypt_swaps_named_like_genkernel(void)
{
	static struct boot_config cfg;
	parse(&cfg,
	      "crypt_roots=UUID=r1 crypt_swaps=UUID=s1 "
	      "crypt_roots=UUID=r2 crypt_swaps=/dev/vdc crypt_swap=UUID=s3");
	CHECK(cfg.nproblems == 0);
	CHECK(cfg.nmembers == 5);
	CHECK(!cfg.members[0].swap && !cfg.members[2].swap);
	CHECK(cfg.members[1].swap && cfg.members[3].swap &&
	      cfg.members[4].swap);
	CHECK_STR(cfg.members[0].name, "");
	CHECK_STR(cfg.members[1].name, "swap");
	CHECK_STR(cfg.members[3].name, "swap_1");
	CHECK_STR(cfg.members[4].name, "swap_2");
	CHECK_STR(cfg.members[4].set_by, "crypt_swap");
	/* rd.luks.name= wins, and its name is not given twice. */
	parse(&cfg, "crypt_swaps=UUID=s1 crypt_swaps=UUID=s2 "
		    "rd.luks.name=s2=swap");
	CHECK(cfg.nproblems == 0);
	CHECK_STR(cfg.members[0].name, "");
	CHECK_STR(cfg.members[1].name, "swap");
	/* Counted with the root members: at most 16 in all. */
	parse(&cfg, "crypt_swaps= crypt_swaps=LABEL= crypt_swap");
	CHECK(cfg.nmembers == 0 && cfg.nproblems == 2);
	CHECK(cfg.problems[0].times == 2);
}

static void resume_parameters(void)
{
	static struct boot_config cfg;
	parse(&cfg, "");
	CHECK(cfg.resume.kind == DEVSPEC_NONE && !resume_wanted(&cfg));
	parse(&cfg, "resume=UUID=abcd resume_offset=34816");
	CHECK(cfg.resume.kind == DEVSPEC_UUID);
	CHECK_STR(cfg.resume.value, "abcd");
	CHECK(cfg.resume_offset_set && cfg.resume_offset == 34816);
	CHECK(resume_wanted(&cfg));
	parse(&cfg, "resume=/dev/mapper/swap noresume");
	CHECK(cfg.resume.kind == DEVSPEC_PATH && cfg.noresume);
	CHECK(!resume_wanted(&cfg));
	parse(&cfg, "resume=LABEL=sw resume=PARTUUID=1-2");
	CHECK(cfg.resume.kind == DEVSPEC_PARTUUID);
	/* The kernel's MAJ:MIN is its own; a bad value keeps the last good. */
	parse(&cfg, "resume=UUID=ok resume=8:3 resume_offset=-1 "
		    "resume_offset=x noresume=1 resume");
	CHECK(cfg.nproblems == 4); /* the two resume_offset= count once */
	CHECK(cfg.resume.kind == DEVSPEC_UUID && !cfg.resume_offset_set);
	CHECK(!cfg.noresume);
	CHECK_STR(cfg.resume.value, "ok");
}

/* dracut and systemd have no swap members: the one resume= names is. */
static void resume_names_the_swap_member(void)
{
	static struct boot_config cfg;
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.uuid=luks-BBBB "
		    "resume=/dev/mapper/luks-bbbb");
	CHECK(!cfg.members[0].swap && cfg.members[1].swap);
	CHECK_STR(cfg.members[1].name, "");
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.name=bbbb=cryptswap "
		    "resume=/dev/mapper/cryptswap");
	CHECK(!cfg.members[0].swap && cfg.members[1].swap);
	/* A resume device on no member, or by UUID: no member is swap. */
	parse(&cfg, "rd.luks.uuid=aaaa resume=/dev/vdc");
	CHECK(!cfg.members[0].swap);
	parse(&cfg, "rd.luks.uuid=aaaa resume=UUID=aaaa");
	CHECK(!cfg.members[0].swap);
	parse(&cfg, "crypt_root=UUID=aaaa resume=/dev/mapper/root");
	CHECK(cfg.members[0].swap); /* what the user said, even if odd */
}

static void resume_device_number(void)
{
	char buf[16];
	CHECK(resume_format_dev(buf, sizeof(buf), 254, 3) == 0);
	CHECK_STR(buf, "254:3");
	CHECK(resume_format_dev(buf, 4, 254, 3) < 0);
	CHECK_STR(buf, "");
}

/* A stranger's device with the swap's (public) UUID is never resumed
 * from once members are encrypted; a mapping luksinit opened is. */
static void resume_only_from_a_trusted_device(void)
{
	static struct boot_config cfg;
	struct dev_ids ids = {0};
	strcpy(ids.devnode, "/dev/vdd");
	strcpy(ids.uuid, "abcd");
	parse(&cfg, "resume=UUID=abcd");
	CHECK(resume_match(&cfg, &ids, false) == RESUME_YES);
	parse(&cfg, "rd.luks.uuid=r1 resume=UUID=ABCD");
	CHECK(resume_match(&cfg, &ids, false) == RESUME_REFUSED);
	CHECK(resume_match(&cfg, &ids, true) == RESUME_YES);
	parse(&cfg, "rd.luks.uuid=r1 resume=UUID=other");
	CHECK(resume_match(&cfg, &ids, true) == RESUME_NO);
	strcpy(ids.partuuid, "p1");
	parse(&cfg, "rd.luks.uuid=r1 resume=PARTUUID=p1");
	CHECK(resume_match(&cfg, &ids, false) == RESUME_REFUSED);
	/* A plain swap next to encrypted members: named by its path. */
	parse(&cfg, "rd.luks.uuid=r1 resume=/dev/vdd");
	CHECK(resume_match(&cfg, &ids, false) == RESUME_YES);
	/* LUKS off: nothing is encrypted, nothing to bypass. */
	parse(&cfg, "rd.luks.uuid=r1 rd.luks=0 resume=UUID=abcd");
	CHECK(resume_match(&cfg, &ids, false) == RESUME_YES);
	parse(&cfg, "rd.luks.uuid=r1");
	CHECK(resume_match(&cfg, &ids, false) == RESUME_NO);
}

/* The forms the kernel resolves itself before /init runs (review L24):
 * named once LUKS members are listed, whatever /init makes of them; the
 * last resume= counts, as for the kernel. */
static void kernel_resolved_resume_forms_named(void)
{
	static struct boot_config cfg;
	static const char *const kernel[] = {
		"resume=PARTUUID=p1", "resume=PARTLABEL=swap",
		"resume=/dev/vdc2",   "resume=/dev/nvme0n1p3",
		"resume=8:3",	      "resume=0803",
	};
	static const char *const ours[] = {
		"resume=UUID=abcd",
		"resume=LABEL=sw",
		"resume=/dev/mapper/swap",
		"resume=/dev/dm-1",
		"resume=/dev/disk/by-partuuid/p1",
	};
	char line[128];
	for (size_t i = 0; i < ARRAY_SIZE(kernel); i++) {
		snprintf(line, sizeof(line), "rd.luks.uuid=r1 %s", kernel[i]);
		parse(&cfg, line);
		CHECK(resume_kernel_unchecked(&cfg));
		CHECK_STR(cfg.resume_by_kernel, kernel[i] + strlen("resume="));
		/* Only with LUKS members: without, the kernel's way is the
		 * only one; noresume stops the kernel too. */
		snprintf(line, sizeof(line), "%s", kernel[i]);
		parse(&cfg, line);
		CHECK(!resume_kernel_unchecked(&cfg));
		snprintf(line, sizeof(line), "rd.luks.uuid=r1 %s noresume",
			 kernel[i]);
		parse(&cfg, line);
		CHECK(!resume_kernel_unchecked(&cfg));
	}
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++) {
		snprintf(line, sizeof(line), "rd.luks.uuid=r1 %s", ours[i]);
		parse(&cfg, line);
		CHECK(!resume_kernel_unchecked(&cfg));
		CHECK_STR(cfg.resume_by_kernel, "");
	}
	/* A swap member alone is a member; rd.luks=0 leaves none. */
	parse(&cfg, "crypt_swap=UUID=s1 resume=PARTUUID=p1");
	CHECK(resume_kernel_unchecked(&cfg));
	parse(&cfg, "rd.luks.uuid=r1 rd.luks=0 resume=PARTUUID=p1");
	CHECK(!resume_kernel_unchecked(&cfg));
	/* The last one counts. */
	parse(&cfg, "rd.luks.uuid=r1 resume=PARTUUID=p1 resume=UUID=abcd");
	CHECK(!resume_kernel_unchecked(&cfg));
	parse(&cfg, "rd.luks.uuid=r1 resume=UUID=abcd resume=PARTUUID=p1");
	CHECK(resume_kernel_unchecked(&cfg));
	CHECK(cfg.resume.kind == DEVSPEC_PARTUUID);
	/* Too long to keep whole: named by its start all the same. */
	static char longline[512];
	int n = snprintf(longline, sizeof(longline),
			 "rd.luks.uuid=r1 resume=PARTUUID=");
	memset(longline + n, 'a', 200);
	longline[n + 200] = '\0';
	parse(&cfg, longline);
	CHECK(resume_kernel_unchecked(&cfg));
	CHECK(strlen(cfg.resume_by_kernel) == DEVSPEC_VALUE_MAX - 1);
}

/* /init's own resume path: a device carrying the PARTUUID or PARTLABEL
 * resume= names, but no mapping luksinit opened, is never the resume
 * device, and the kernel is never handed it. */
static void stranger_partition_never_handed_to_the_kernel(void)
{
	static struct boot_config cfg;
	static const char *const lines[] = {
		"crypt_swap=UUID=s1 resume=PARTUUID=p1",
		"rd.luks.uuid=r1 resume=PARTLABEL=swap",
	};
	struct dev_ids stranger = {0};
	strcpy(stranger.devnode, "/dev/null"); /* stat()able */
	strcpy(stranger.type, "swap");
	strcpy(stranger.partuuid, "p1");
	strcpy(stranger.partlabel, "swap");
	char buf[32];
	fake_setup();
	fake_put("sys/power/resume", "", 0);
	fake_put("proc/self/mounts", "", 0);
	log_set_fds(-1, -1);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		static char line[128];
		strcpy(line, lines[i]);
		boot_config_init(&cfg);
		cmdline_parse(&cfg, line);
		CHECK(resume_match(&cfg, &stranger, false) == RESUME_REFUSED);
		struct resume r;
		resume_init(&r, &cfg);
		resume_begin_attempt(&r);
		resume_on_device(&r, &stranger, false);
		CHECK(!r.found && resume_device_missing(&r));
		resume_attempt(&r);
		CHECK(fake_get("sys/power/resume", buf, sizeof(buf)) == 0);
	}
	fake_teardown();
}

/* A block device node for resume_attempt to stat: made in the fake tree
 * (as root), else any the host has. Its path into buf, or false. */
static bool some_block_device(char *buf, size_t size)
{
	fake_path(buf, size, "dev-vdc");
	if (mknod(buf, S_IFBLK | 0600, makedev(254, 32)) == 0)
		return true;
	DIR *d = opendir("/dev");
	struct dirent *e;
	struct stat st;
	bool found = false;
	while (d && !found && (e = readdir(d))) {
		if (strlen(e->d_name) + 6 > size)
			continue;
		strcpy(buf, "/dev/");
		strcat(buf, e->d_name);
		found = stat(buf, &st) == 0 && S_ISBLK(st.st_mode);
	}
	if (d)
		closedir(d);
	return found;
}

static void resume_setup(struct dev_ids *dev, char *maj_min, size_t size)
{
	struct stat st;
	fake_setup();
	fake_put("proc/self/mounts", "proc /proc proc rw 0 0\n", 23);
	fake_put("sys/power/resume", "", 0);
	fake_put("sys/power/resume_offset", "", 0);
	memset(dev, 0, sizeof(*dev));
	CHECK(some_block_device(dev->devnode, sizeof(dev->devnode)));
	CHECK(stat(dev->devnode, &st) == 0);
	resume_format_dev(maj_min, size, major(st.st_rdev), minor(st.st_rdev));
}

/* A fresh resume state whose device (named by path: a fake node) was
 * found in this attempt. */
static void found_at(struct resume *r, const struct boot_config *cfg,
		     const struct dev_ids *dev)
{
	resume_init(r, cfg);
	resume_begin_attempt(r);
	r->dev = *dev;
	r->found = true;
}

/* resume_offset= reaches /sys/power/resume_offset before the device is
 * written to /sys/power/resume (that write restores the image: the
 * offset must be there first); if it cannot be set, nothing is resumed. */
static void resume_offset_written_before_resume(void)
{
	static struct boot_config cfg;
	struct dev_ids dev;
	char num[32], got[64];
	struct resume st;
	resume_setup(&dev, num, sizeof(num));
	parse(&cfg, "resume=/dev/vdc resume_offset=34816");
	found_at(&st, &cfg, &dev);
	resume_attempt(&st);
	CHECK(st.tried);
	CHECK(fake_get("sys/power/resume_offset", got, sizeof(got)) > 0);
	CHECK_STR(got, "34816\n");
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) > 0);
	strcat(num, "\n");
	CHECK_STR(got, num);
	/* The offset cannot be written: /sys/power/resume stays untouched. */
	fake_remove("sys/power/resume_offset");
	fake_mkdir("sys/power/resume_offset");
	fake_put("sys/power/resume", "", 0);
	found_at(&st, &cfg, &dev);
	resume_attempt(&st);
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) == 0);
	fake_teardown();
}

/* Never after the rescue shell ran or a filesystem was mounted, and never
 * a second time: /sys/power/resume is not written. */
static void no_resume_after_the_shell_or_a_mount(void)
{
	static struct boot_config cfg;
	struct dev_ids dev;
	char num[32], got[64];
	resume_setup(&dev, num, sizeof(num));
	parse(&cfg, "resume=/dev/vdc");
	struct resume st;
	found_at(&st, &cfg, &dev);
	resume_forbid(&st, RESUME_SHELL_RAN);
	resume_attempt(&st);
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) == 0);
	found_at(&st, &cfg, &dev);
	resume_forbid(&st, RESUME_ROOT_MOUNTED);
	resume_attempt(&st);
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) == 0);
	/* One mounted in the shell and still there counts too. */
	fake_put("proc/self/mounts", "/dev/vda /mnt btrfs ro 0 0\n", 27);
	found_at(&st, &cfg, &dev);
	resume_attempt(&st);
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) == 0);
	/* noresume: the device is left alone. */
	fake_put("proc/self/mounts", "", 0);
	parse(&cfg, "resume=/dev/vdc noresume");
	found_at(&st, &cfg, &dev);
	resume_attempt(&st);
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) == 0);
	/* The control: with none of these, it is written, once. */
	parse(&cfg, "resume=/dev/vdc");
	found_at(&st, &cfg, &dev);
	resume_attempt(&st);
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) > 0);
	fake_put("sys/power/resume", "", 0);
	resume_begin_attempt(&st); /* a retry: tried stays */
	st.dev = dev;
	st.found = true;
	resume_attempt(&st);
	CHECK(fake_get("sys/power/resume", got, sizeof(got)) == 0);
	fake_teardown();
}

/* The swap's own wait: RESUME_WAIT_MS of time that counts (a person or a
 * KDF does not), RESUME_WAIT_CAP_MS in all; each attempt starts anew. */
static void swap_wait_is_bounded(void)
{
	static struct boot_config cfg;
	struct resume r;
	parse(&cfg, "resume=UUID=abcd");
	resume_init(&r, &cfg);
	resume_begin_attempt(&r);
	long long t = 1000;
	CHECK(resume_wait_ms(&r, t, false) == RESUME_WAIT_MS);
	CHECK(resume_wait_ms(&r, t + 4000, false) == RESUME_WAIT_MS - 4000);
	/* Paused: nothing counts, it may sleep until the cap. */
	CHECK(resume_wait_ms(&r, t + 9000, true) == RESUME_WAIT_CAP_MS - 9000);
	CHECK(resume_wait_ms(&r, t + 10000, false) == RESUME_WAIT_MS - 5000);
	CHECK(resume_wait_ms(&r, t + 15000, false) == -1);
	/* The cap ends it even while paused. */
	resume_begin_attempt(&r);
	CHECK(resume_wait_ms(&r, t, true) == RESUME_WAIT_CAP_MS);
	CHECK(resume_wait_ms(&r, t + RESUME_WAIT_CAP_MS - 1, true) == 1);
	CHECK(resume_wait_ms(&r, t + RESUME_WAIT_CAP_MS, true) == -1);
}

/* The device is kept once found, a stranger with its UUID never; each
 * attempt looks again. */
static void resume_device_kept_per_attempt(void)
{
	static struct boot_config cfg;
	struct resume r;
	struct dev_ids ids = {0}, other = {0};
	strcpy(ids.devnode, "/dev/dm-1");
	strcpy(ids.uuid, "abcd");
	strcpy(other.devnode, "/dev/vdd");
	strcpy(other.uuid, "abcd");
	parse(&cfg, "rd.luks.uuid=r1 resume=UUID=abcd");
	resume_init(&r, &cfg);
	resume_begin_attempt(&r);
	CHECK(resume_device_missing(&r));
	log_set_fds(-1, -1);
	resume_on_device(&r, &other, false); /* refused */
	CHECK(resume_device_missing(&r));
	resume_on_device(&r, &ids, true);
	CHECK(!resume_device_missing(&r) && r.found);
	CHECK_STR(r.dev.devnode, "/dev/dm-1");
	resume_on_device(&r, &other, true); /* the first one stays */
	CHECK_STR(r.dev.devnode, "/dev/dm-1");
	resume_begin_attempt(&r);
	CHECK(resume_device_missing(&r));
	parse(&cfg, "resume=UUID=abcd noresume");
	CHECK(!resume_device_missing(&r));
}

/* After a mount or the rescue shell, for the rest of /init's life, the
 * kernel is never handed the device. */
static void forbidden_resume_never_written(void)
{
	static struct boot_config cfg;
	struct resume r;
	char buf[32];
	fake_setup();
	fake_put("sys/power/resume", "", 0);
	fake_put("proc/self/mounts", "", 0);
	parse(&cfg, "resume=/dev/null");
	resume_init(&r, &cfg);
	resume_begin_attempt(&r);
	resume_on_device(&r, &(struct dev_ids){.devnode = "/dev/null"}, true);
	CHECK(r.found);
	resume_forbid(&r, RESUME_SHELL_RAN);
	resume_attempt(&r);
	CHECK(!r.tried && fake_get("sys/power/resume", buf, sizeof(buf)) == 0);
	resume_init(&r, &cfg);
	resume_begin_attempt(&r);
	resume_on_device(&r, &(struct dev_ids){.devnode = "/dev/null"}, true);
	resume_forbid(&r, RESUME_ROOT_MOUNTED);
	resume_attempt(&r);
	CHECK(!r.tried && fake_get("sys/power/resume", buf, sizeof(buf)) == 0);
	/* Allowed: tried (/dev/null is no block device: not written). */
	resume_init(&r, &cfg);
	resume_begin_attempt(&r);
	resume_on_device(&r, &(struct dev_ids){.devnode = "/dev/null"}, true);
	resume_attempt(&r);
	CHECK(r.tried);
	fake_teardown();
}

void swapresume_tests(void)
{
	RUN(resume_offset_written_before_resume);
	RUN(no_resume_after_the_shell_or_a_mount);
	RUN(swap_wait_is_bounded);
	RUN(resume_device_kept_per_attempt);
	RUN(forbidden_resume_never_written);
	RUN(crypt_swaps_named_like_genkernel);
	RUN(resume_parameters);
	RUN(resume_names_the_swap_member);
	RUN(resume_device_number);
	RUN(resume_only_from_a_trusted_device);
	RUN(kernel_resolved_resume_forms_named);
	RUN(stranger_partition_never_handed_to_the_kernel);
}
