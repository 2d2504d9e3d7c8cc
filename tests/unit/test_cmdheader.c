/* Detached LUKS headers on the command line (issue 12, part 3). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config/cmdline.h"
#include "luks/lukshdr.h"

static void parse(struct boot_config *cfg, const char *line)
{
	char buf[CMDLINE_MAX];
	strcpy(buf, line); /* test-only; inputs are literals below */
	boot_config_init(cfg);
	cmdline_parse(cfg, buf);
}

static const struct luks_member_cfg *member(const struct boot_config *cfg,
					    const char *value)
{
	for (int i = 0; i < cfg->nmembers; i++)
		if (strcmp(cfg->members[i].spec.value, value) == 0)
			return &cfg->members[i];
	return NULL;
}

static void header_and_data_list_the_member(void)
{
	struct boot_config cfg;
	parse(&cfg, "rd.luks.uuid=aaaa rd.luks.header=bbbb=/etc/b.hdr "
		    "rd.luks.data=UUID=bbbb=/dev/vdb");
	CHECK(cfg.nmembers == 2 && cfg.nproblems == 0);
	const struct luks_member_cfg *m = member(&cfg, "bbbb");
	CHECK(m && m->listed);
	CHECK_STR(m->header, "/etc/b.hdr");
	CHECK(m->data.kind == DEVSPEC_PATH);
	CHECK_STR(m->data.value, "/dev/vdb");
	CHECK(member(&cfg, "aaaa")->header[0] == '\0');
	/* Either alone lists it too (luks.c then says what is missing);
	 * "luks-" and PARTUUID= / PARTLABEL= as elsewhere. */
	parse(&cfg, "rd.luks.data=luks-cccc=PARTUUID=1234-5");
	m = member(&cfg, "cccc");
	CHECK(cfg.nmembers == 1 && m && m->listed && !m->header[0]);
	CHECK(m->data.kind == DEVSPEC_PARTUUID);
	parse(&cfg, "rd.luks.header=cccc=/h");
	CHECK(cfg.nmembers == 1 && cfg.members[0].data.kind == DEVSPEC_NONE);
}

static void systemd_header_option(void)
{
	struct boot_config cfg;
	parse(&cfg, "rd.luks.uuid=bbbb rd.luks.options=bbbb=header=/b.hdr,"
		    "discard rd.luks.data=bbbb=PARTLABEL=data");
	CHECK(cfg.nmembers == 1 && cfg.nproblems == 0);
	CHECK_STR(cfg.members[0].header, "/b.hdr");
	CHECK(cfg.members[0].opts.flags == LUKS_OPT_DISCARD);
	CHECK(cfg.members[0].data.kind == DEVSPEC_PARTLABEL);
	/* Not for every device at once: a header is one volume's. */
	parse(&cfg, "rd.luks.options=header=/b.hdr,discard");
	CHECK(cfg.nproblems == 1);
	CHECK_STR(cfg.problems[0].param, "rd.luks.options");
	CHECK(cfg.luks_opts.flags == LUKS_OPT_DISCARD);
}

static void hostile_header_paths_refused(void)
{
	static const char *const bad[] = {
		"rd.luks.header=bbbb=etc/b.hdr",
		"rd.luks.header=bbbb=/",
		"rd.luks.header=bbbb=/etc/../dev/vda",
		"rd.luks.header=bbbb=",
		"rd.luks.header=/etc/b.hdr",
		"rd.luks.uuid=bbbb rd.luks.options=bbbb=header=../x",
		"root_header=relative",
		/* booster's header on a raw device, and the kernel's files */
		"rd.luks.header=bbbb=/dev/sdb",
		"rd.luks.header=bbbb=/dev",
		"rd.luks.header=bbbb=/proc/self/environ",
		"rd.luks.header=bbbb=/sys/block/vda",
		"rd.luks.header=bbbb=/run/x.hdr",
		"rd.luks.uuid=bbbb rd.luks.options=bbbb=header=/dev/sdb",
		"root_header=/dev/sdb",
	};
	struct boot_config cfg;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&cfg, bad[i]);
		CHECK(cfg.nproblems >= 1);
		for (int k = 0; k < cfg.nmembers; k++)
			CHECK(cfg.members[k].header[0] == '\0');
		CHECK(cfg.root_header[0] == '\0');
	}
	char line[CMDLINE_MAX] = "rd.luks.header=bbbb=/";
	for (int i = 0; i < 300; i++)
		strcat(line, "a");
	parse(&cfg, line);
	CHECK(cfg.nproblems == 1 && cfg.nmembers == 0);
	/* Only those directories, not names that begin the same. */
	parse(&cfg, "rd.luks.header=bbbb=/devices.hdr "
		    "rd.luks.header=cccc=/runs/c.hdr");
	CHECK(cfg.nproblems == 0);
	CHECK_STR(member(&cfg, "bbbb")->header, "/devices.hdr");
	CHECK_STR(member(&cfg, "cccc")->header, "/runs/c.hdr");
	parse(&cfg, "rd.luks.header=bbbb=/dev/sdb");
	CHECK(cfg.nproblems == 1 &&
	      strstr(cfg.problems[0].why, "a header on a device") != NULL);
}

static void data_device_needs_a_name_not_a_filesystem(void)
{
	struct boot_config cfg;
	parse(&cfg, "rd.luks.data=bbbb=UUID=1111");
	CHECK(cfg.nmembers == 0 && cfg.nproblems == 1);
	parse(&cfg, "rd.luks.data=bbbb=LABEL=x");
	CHECK(cfg.nmembers == 0 && cfg.nproblems == 1);
	parse(&cfg, "rd.luks.data=bbbb=/dev/../etc/x");
	CHECK(cfg.nmembers == 0 && cfg.nproblems == 1);
	parse(&cfg, "rd.luks.data=bbbb");
	CHECK(cfg.nmembers == 0 && cfg.nproblems == 1);
	/* udev's links: nothing here makes them. */
	parse(&cfg, "rd.luks.data=bbbb=/dev/disk/by-id/ata-X_1");
	CHECK(cfg.nmembers == 0 && cfg.nproblems == 1 &&
	      strstr(cfg.problems[0].why, "udev") != NULL);
	parse(&cfg, "rd.luks.data=bbbb=/dev/disk/by-path/pci-0:1");
	CHECK(cfg.nmembers == 0 && cfg.nproblems == 1);
	parse(&cfg, "crypt_root=/dev/disk/by-id/ata-X root_header=/r.hdr");
	CHECK(cfg.nproblems == 1 && !cfg.members[0].header[0]);
	/* devspec reads these two itself. */
	parse(&cfg, "rd.luks.data=bbbb=/dev/disk/by-partuuid/1234-01");
	CHECK(cfg.nproblems == 0 &&
	      member(&cfg, "bbbb")->data.kind == DEVSPEC_PARTUUID);
	parse(&cfg, "rd.luks.data=bbbb=/dev/disk/by-partlabel/data");
	CHECK(cfg.nproblems == 0 &&
	      member(&cfg, "bbbb")->data.kind == DEVSPEC_PARTLABEL);
}

static void device_forms_name_the_header_device(void)
{
	struct boot_config cfg;
	parse(&cfg, "rd.luks.header=bbbb=/b.hdr:/dev/sdb1 "
		    "rd.luks.uuid=cccc "
		    "rd.luks.options=cccc=header=/c.hdr:UUID=12 "
		    "crypt_root=/dev/sdd root_header=/d.hdr "
		    "root_headerdev=LABEL=STICK");
	CHECK(cfg.nproblems == 0);
	const struct luks_member_cfg *b = member(&cfg, "bbbb");
	CHECK(b && b->listed);
	CHECK_STR(b->header, "/b.hdr");
	CHECK(b->headerdev.kind == DEVSPEC_PATH);
	CHECK_STR(b->headerdev.value, "/dev/sdb1");
	const struct luks_member_cfg *c = member(&cfg, "cccc");
	CHECK_STR(c->header, "/c.hdr");
	CHECK(c->headerdev.kind == DEVSPEC_UUID);
	CHECK_STR(c->headerdev.value, "12");
	const struct luks_member_cfg *d = &cfg.members[cfg.nmembers - 1];
	CHECK_STR(d->header, "/d.hdr");
	CHECK(d->headerdev.kind == DEVSPEC_LABEL);
	CHECK_STR(d->headerdev.value, "STICK");
	/* A header in the initramfs has no device. */
	parse(&cfg, "rd.luks.header=bbbb=/b.hdr");
	CHECK(member(&cfg, "bbbb")->headerdev.kind == DEVSPEC_NONE);
	/* The path on the device is checked as any; the device too. */
	parse(&cfg, "rd.luks.header=bbbb=b.hdr:/dev/sdb1");
	CHECK(cfg.nproblems == 1 && member(&cfg, "bbbb") == NULL);
	parse(&cfg, "rd.luks.header=bbbb=/x/../b.hdr:/dev/sdb1");
	CHECK(cfg.nproblems == 1 && member(&cfg, "bbbb") == NULL);
	parse(&cfg, "rd.luks.header=bbbb=/b.hdr:BOGUS=1");
	CHECK(cfg.nproblems == 1 && member(&cfg, "bbbb") == NULL);
	parse(&cfg, "root_headerdev=BOGUS=1");
	CHECK(cfg.nproblems == 1);
}

static void genkernel_root_header(void)
{
	struct boot_config cfg;
	/* crypt_root= names the data device itself. */
	parse(&cfg, "crypt_root=/dev/sdb root_header=/etc/root.hdr");
	CHECK(cfg.nmembers == 1 && cfg.nproblems == 0);
	CHECK_STR(cfg.members[0].header, "/etc/root.hdr");
	CHECK(cfg.members[0].data.kind == DEVSPEC_PATH);
	CHECK_STR(cfg.members[0].data.value, "/dev/sdb");
	CHECK_STR(cfg.members[0].name, "root");
	parse(&cfg, "root_header=/etc/root.hdr crypt_roots=PARTUUID=1-2");
	CHECK(cfg.nproblems == 0 &&
	      cfg.members[0].data.kind == DEVSPEC_PARTUUID);
	/* One header is one volume: not given to several. */
	parse(&cfg, "crypt_roots=/dev/sdb crypt_roots=/dev/sdc "
		    "root_header=/etc/root.hdr");
	CHECK(cfg.nproblems == 1 && cfg.nmembers == 2);
	CHECK(!cfg.members[0].header[0] && !cfg.members[1].header[0]);
	parse(&cfg, "root_header=/etc/root.hdr");
	CHECK(cfg.nproblems == 1);
	/* A filesystem UUID cannot name a device without a signature. */
	parse(&cfg, "crypt_root=UUID=1111 root_header=/etc/root.hdr");
	CHECK(cfg.nproblems == 1 && !cfg.members[0].header[0]);
	/* Not for rd.luks.uuid= members: genkernel's own parameter. */
	parse(&cfg, "rd.luks.uuid=1111 root_header=/etc/root.hdr");
	CHECK(cfg.nproblems == 1 && !cfg.members[0].header[0]);
}

/* A directory on the filesystem of "/" (lukshdr_file_problem wants the
 * initramfs itself: here, the host's root filesystem). */
static bool dir_on_root_fs(char *dir, size_t size)
{
	const char *bases[] = {getenv("TMPDIR"), "/var/tmp", "/tmp", "/root"};
	struct stat root, st;
	if (stat("/", &root) < 0)
		return false;
	for (size_t i = 0; i < sizeof(bases) / sizeof(*bases); i++) {
		if (!bases[i] || stat(bases[i], &st) < 0 ||
		    st.st_dev != root.st_dev)
			continue;
		snprintf(dir, size, "%s/luksinit-unit-hdr-XXXXXX", bases[i]);
		if (mkdtemp(dir))
			return true;
	}
	return false;
}

/* A header file is at most 136 MiB (the largest LUKS2 header), a regular
 * file, not a symlink (sparse files here: nothing is written). */
static void header_file_at_most_136_mib(void)
{
	CHECK(LUKSHDR_MAX_BYTES == 136LL * 1024 * 1024);
	char dir[128], path[160], link[160];
	if (!dir_on_root_fs(dir, sizeof(dir))) {
		CHECK(!"no writable directory on the root filesystem");
		return;
	}
	snprintf(path, sizeof(path), "%s/b.hdr", dir);
	snprintf(link, sizeof(link), "%s/link.hdr", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 136LL * 1024 * 1024) == 0);
	CHECK(lukshdr_file_problem(path) == NULL);
	CHECK(ftruncate(fd, 136LL * 1024 * 1024 + 1) == 0);
	const char *why = lukshdr_file_problem(path);
	CHECK(why && strstr(why, "larger than any LUKS header"));
	CHECK(ftruncate(fd, 4096) == 0);
	close(fd);
	CHECK(lukshdr_file_problem(path) == NULL);
	CHECK(symlink("b.hdr", link) == 0);
	why = lukshdr_file_problem(link);
	CHECK(why && strstr(why, "not a regular file"));
	why = lukshdr_file_problem(dir);
	CHECK(why && strstr(why, "not a regular file"));
	unlink(link);
	unlink(path);
	rmdir(dir);
}

void cmdline_header_tests(void)
{
	RUN(header_file_at_most_136_mib);
	RUN(header_and_data_list_the_member);
	RUN(systemd_header_option);
	RUN(hostile_header_paths_refused);
	RUN(data_device_needs_a_name_not_a_filesystem);
	RUN(device_forms_name_the_header_device);
	RUN(genkernel_root_header);
}
