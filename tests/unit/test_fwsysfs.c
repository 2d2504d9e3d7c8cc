/* firmware.c and fwreprobe.c against a fake sysfs tree in a temporary
 * directory (init/base/sysroot.h points them at it): what QEMU cannot easily
 * show. Writes to the fake attributes are plain file writes at offset 0,
 * so the fake files start empty and are compared whole. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lzma.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "base/log.h"
#include "base/sysroot.h"
#include "check.h"
#include "fakesys.h"
#include "firmware/firmware.h"

static struct firmware fw;
static const char root_rel[] = "newroot";
static char root[PATH_MAX];

#define DEV "/devices/platform/"

/* A device on the platform bus, as sysfs shows it. */
static void make_device(const char *dev, bool driver)
{
	char p[PATH_MAX], t[PATH_MAX];
	snprintf(p, sizeof(p), "sys" DEV "%s/subsystem", dev);
	fake_link("../../../bus/platform", p);
	snprintf(p, sizeof(p), "sys/bus/platform/devices/%s", dev);
	snprintf(t, sizeof(t), "../../../devices/platform/%s", dev);
	fake_link(t, p);
	fake_put("sys/bus/platform/drivers_probe", "", 0);
	if (driver) {
		fake_mkdir("sys/bus/platform/drivers/drv");
		snprintf(p, sizeof(p), "sys" DEV "%s/driver", dev);
		fake_link("../../../bus/platform/drivers/drv", p);
	}
}

/* A pending request of dev for the firmware sysfs calls sysname (a '/'
 * shown as '!'), listed in /sys/class/firmware. */
static void make_request(const char *dev, const char *sysname, int async)
{
	char p[PATH_MAX], t[PATH_MAX], ue[300];
	snprintf(p, sizeof(p), "sys" DEV "%s/firmware/%s/loading", dev,
		 sysname);
	fake_put(p, "", 0);
	snprintf(p, sizeof(p), "sys" DEV "%s/firmware/%s/data", dev, sysname);
	fake_put(p, "", 0);
	snprintf(p, sizeof(p), "sys" DEV "%s/firmware/%s/uevent", dev, sysname);
	int n = snprintf(ue, sizeof(ue), "FIRMWARE=%s\nTIMEOUT=60\nASYNC=%d\n",
			 sysname, async);
	fake_put(p, ue, (size_t)n);
	snprintf(p, sizeof(p), "sys/class/firmware/%s", sysname);
	snprintf(t, sizeof(t), "../../devices/platform/%s/firmware/%s", dev,
		 sysname);
	fake_link(t, p);
}

/* The kernel is done with a request: its directory goes away. */
static void request_gone(const char *dev, const char *sysname)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "sys/class/firmware/%s", sysname);
	fake_remove(p);
	snprintf(p, sizeof(p), "sys" DEV "%s/firmware/%s", dev, sysname);
	fake_remove(p);
}

static const char *attr(const char *dev, const char *sysname, const char *a)
{
	static char buf[4096];
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "sys" DEV "%s/firmware/%s/%s", dev, sysname, a);
	if (fake_get(p, buf, sizeof(buf)) < 0)
		return "(missing)";
	return buf;
}

static const char *probed(void)
{
	static char buf[256];
	if (fake_get("sys/bus/platform/drivers_probe", buf, sizeof(buf)) < 0)
		return "(missing)";
	return buf;
}

/* An "add" or "remove" uevent of a request, as netlink brings it. */
static void send_uevent(const char *action, const char *dev,
			const char *sysname, const char *name, int async)
{
	char buf[UEVENT_MSG_MAX + 1];
	int n = snprintf(buf, sizeof(buf),
			 "%s@" DEV "%s/firmware/%s|ACTION=%s|DEVPATH=" DEV
			 "%s/firmware/%s|SUBSYSTEM=firmware|FIRMWARE=%s|"
			 "TIMEOUT=60|ASYNC=%d|SEQNUM=7",
			 action, dev, sysname, action, dev, sysname, name,
			 async);
	for (int i = 0; i < n; i++)
		if (buf[i] == '|')
			buf[i] = '\0';
	struct uevent ev;
	CHECK(uevent_parse(&ev, buf, (size_t)n) == 0);
	firmware_on_uevent(&fw, &ev);
}

static void start(void)
{
	struct boot_config cfg;
	boot_config_init(&cfg);
	firmware_init(&fw);
	firmware_start(&fw, &cfg);
}

/* The root is mounted: held requests answered, re-probe children run to
 * their end (really forked: each writes drivers_probe). */
static void root_mounted(void)
{
	fake_path(root, sizeof(root), root_rel);
	fake_mkdir(root_rel);
	firmware_root_mounted(&fw, root);
	while (firmware_reprobing(&fw)) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0)
			break;
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		firmware_on_child_exit(&fw, pid, status);
	}
	CHECK(!firmware_reprobing(&fw));
}

static void put_root(const char *rel, const void *data, size_t len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", root_rel, rel);
	fake_put(p, data, len);
}

static void finish(void)
{
	firmware_finish(&fw);
	fake_teardown();
}

static void sync_request_refused_unbound_device_reprobed(void)
{
	CHECK(fake_setup());
	make_device("foo.0", false);
	make_request("foo.0", "luksinit-unit!sync.bin", 0);
	start();
	/* Refused at once: the requester waits. */
	CHECK_STR(attr("foo.0", "luksinit-unit!sync.bin", "loading"), "-1");
	CHECK_STR(probed(), "");
	request_gone("foo.0", "luksinit-unit!sync.bin");
	root_mounted();
	CHECK_STR(probed(), "foo.0");
	finish();
}

static void bound_device_never_reprobed(void)
{
	CHECK(fake_setup());
	make_device("bar.1", true);
	make_request("bar.1", "luksinit-unit!sync.bin", 0);
	start();
	CHECK_STR(attr("bar.1", "luksinit-unit!sync.bin", "loading"), "-1");
	request_gone("bar.1", "luksinit-unit!sync.bin");
	root_mounted();
	CHECK_STR(probed(), "");
	finish();
}

static void async_request_held_then_served(void)
{
	CHECK(fake_setup());
	make_device("foo.0", false);
	start();
	make_request("foo.0", "luksinit-unit!async.bin", 1);
	send_uevent("add", "foo.0", "luksinit-unit!async.bin",
		    "luksinit-unit/async.bin", 1);
	/* Held: nothing written, nothing answered. */
	CHECK_STR(attr("foo.0", "luksinit-unit!async.bin", "loading"), "");
	CHECK(firmware_quiet_in(&fw, 1LL << 60) > 0);
	static const char bytes[] = "plain firmware\nwith\0a NUL";
	put_root("lib/firmware/luksinit-unit/async.bin", bytes, sizeof(bytes));
	root_mounted();
	char p[PATH_MAX], got[64];
	snprintf(p, sizeof(p), "sys" DEV "foo.0/firmware/%s/data",
		 "luksinit-unit!async.bin");
	CHECK(fake_get(p, got, sizeof(got)) == (ssize_t)sizeof(bytes));
	CHECK(memcmp(got, bytes, sizeof(bytes)) == 0);
	CHECK_STR(attr("foo.0", "luksinit-unit!async.bin", "loading"), "0");
	/* Served, so its device is not probed again. */
	CHECK_STR(probed(), "");
	request_gone("foo.0", "luksinit-unit!async.bin");
	finish();
}

#define BIG 200000

static void async_served_decompressed(void)
{
	static unsigned char plain[BIG], packed[BIG * 2], got[BIG + 16];
	for (size_t i = 0; i < BIG; i++)
		plain[i] = (unsigned char)((i * 7) ^ (i >> 9));
	CHECK(fake_setup());
	make_device("foo.0", false);
	start();
	make_request("foo.0", "z.bin", 1);
	make_request("foo.0", "x.bin", 1);
	send_uevent("add", "foo.0", "z.bin", "z.bin", 1);
	send_uevent("add", "foo.0", "x.bin", "x.bin", 1);
	size_t zn = ZSTD_compress(packed, sizeof(packed), plain, BIG, 3);
	CHECK(!ZSTD_isError(zn));
	put_root("lib/firmware/z.bin.zst", packed, zn);
	size_t xn = 0;
	CHECK(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, plain, BIG,
				      packed, &xn, sizeof(packed)) == LZMA_OK);
	put_root("lib/firmware/x.bin.xz", packed, xn);
	root_mounted();
	const char *names[] = {"z.bin", "x.bin"};
	for (int i = 0; i < 2; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "sys" DEV "foo.0/firmware/%s/data",
			 names[i]);
		CHECK(fake_get(p, (char *)got, sizeof(got)) == BIG);
		CHECK(memcmp(got, plain, BIG) == 0);
		CHECK_STR(attr("foo.0", names[i], "loading"), "0");
		request_gone("foo.0", names[i]);
	}
	finish();
}

static void expired_held_request_reprobed(void)
{
	CHECK(fake_setup());
	make_device("foo.0", false);
	start();
	make_request("foo.0", "late.bin", 1);
	send_uevent("add", "foo.0", "late.bin", "late.bin", 1);
	CHECK_STR(attr("foo.0", "late.bin", "loading"), "");
	/* Its timeout ran out before the root came. */
	request_gone("foo.0", "late.bin");
	send_uevent("remove", "foo.0", "late.bin", "late.bin", 1);
	CHECK(firmware_quiet_in(&fw, 1LL << 60) == 0);
	put_root("lib/firmware/late.bin", "x", 1);
	root_mounted();
	CHECK_STR(probed(), "foo.0");
	finish();
}

static void kmsg_failed_load_reprobed(void)
{
	static const char rec[] =
		"4,812,1503223,-;foo foo.0: Direct firmware load for a.bin "
		"failed with error -2\n SUBSYSTEM=platform\n"
		" DEVICE=+platform:foo.0\n";
	CHECK(fake_setup());
	make_device("foo.0", false);
	fake_put("dev/kmsg", rec, sizeof(rec) - 1);
	start();
	root_mounted();
	CHECK_STR(probed(), "foo.0");
	finish();
}

static void kmsg_forged_record_ignored(void)
{
	/* Text anyone can write to /dev/kmsg, without the kernel's
	 * dictionary. */
	static const char rec[] = "12,813,1503224,-;foo foo.0: Direct "
				  "firmware load for a.bin failed with "
				  "error -2 DEVICE=+platform:foo.0\n";
	CHECK(fake_setup());
	make_device("foo.0", false);
	fake_put("dev/kmsg", rec, sizeof(rec) - 1);
	start();
	root_mounted();
	CHECK_STR(probed(), "");
	finish();
}

static void malformed_sysfs_refused_or_ignored(void)
{
	CHECK(fake_setup());
	make_device("foo.0", false);
	/* A listed request whose link leads outside <prefix>/sys. */
	fake_put("outside/firmware/evil.bin/loading", "", 0);
	fake_put("outside/firmware/evil.bin/uevent", "ASYNC=0\n", 8);
	fake_link("../../outside/firmware/evil.bin",
		  "sys/class/firmware/evil.bin");
	/* One behind a long chain of bridges and hubs (over 512 bytes, which
	 * once overflowed a buffer): answered like any other. */
	char deep[1024] = "sys/devices/platform";
	while (strlen(deep) < 900)
		strcat(deep, "/abcdefghijklmnop");
	char p[PATH_MAX], t[PATH_MAX];
	snprintf(p, sizeof(p), "%s/firmware/deep.bin/loading", deep);
	fake_put(p, "", 0);
	snprintf(t, sizeof(t), "../../%s/firmware/deep.bin", deep + 4);
	fake_link(t, "sys/class/firmware/deep.bin");
	/* Garbage in a uevent file: a request of unknown kind. */
	make_request("foo.0", "garbage.bin", 0);
	snprintf(p, sizeof(p), "sys" DEV "foo.0/firmware/garbage.bin/uevent");
	fake_put(p, "\x01\xff=ASYNC\n=\n\nASYNC=banana\0ASYNC=1", 30);
	/* A request without its loading file. */
	make_request("foo.0", "noload.bin", 1);
	snprintf(p, sizeof(p), "sys" DEV "foo.0/firmware/noload.bin/loading");
	fake_remove(p);
	/* Unsafe names, as sysfs shows them. */
	make_request("foo.0", "..!x", 1);
	make_request("foo.0", "!etc!passwd", 1);
	/* A dangling link, and a plain file where a link should be. */
	fake_link("../../devices/nowhere", "sys/class/firmware/dangling");
	fake_put("sys/class/firmware/plainfile", "", 0);
	start();
	CHECK(fake_get("outside/firmware/evil.bin/loading", t, sizeof(t)) == 0);
	snprintf(p, sizeof(p), "%s/firmware/deep.bin/loading", deep);
	CHECK(fake_get(p, t, sizeof(t)) == 2 && strcmp(t, "-1") == 0);
	CHECK_STR(attr("foo.0", "garbage.bin", "loading"), "-1");
	CHECK_STR(attr("foo.0", "noload.bin", "loading"), "(missing)");
	CHECK_STR(attr("foo.0", "noload.bin", "data"), "");
	CHECK_STR(attr("foo.0", "..!x", "loading"), "-1");
	CHECK_STR(attr("foo.0", "!etc!passwd", "loading"), "-1");
	/* The same from uevents: unsafe FIRMWARE=, a DEVPATH climbing out. */
	make_request("foo.0", "ue.bin", 1);
	send_uevent("add", "foo.0", "ue.bin", "../../etc/shadow", 1);
	CHECK_STR(attr("foo.0", "ue.bin", "loading"), "-1");
	fake_put("outside/firmware/up.bin/loading", "", 0);
	send_uevent("add", "../../../outside", "up.bin", "up.bin", 1);
	CHECK(fake_get("outside/firmware/up.bin/loading", t, sizeof(t)) == 0);
	CHECK(firmware_quiet_in(&fw, 1LL << 60) == 0);
	request_gone("foo.0", "garbage.bin");
	request_gone("foo.0", "ue.bin");
	request_gone("foo.0", "..!x");
	request_gone("foo.0", "!etc!passwd");
	root_mounted();
	/* The garbage one was refused as a waiting requester would be. */
	CHECK_STR(probed(), "foo.0");
	finish();
}

/* REVIEW L12: a refused name is shown, but its control bytes (a terminal
 * escape sequence) as \xNN. */
static void hostile_name_escaped_in_the_log(void)
{
	CHECK(fake_setup());
	int con[2];
	CHECK(pipe(con) == 0);
	fcntl(con[0], F_SETFL, O_NONBLOCK);
	log_set_fds(con[1], -1);
	log_set_console_level(LOG_LVL_INFO);
	make_device("foo.0", false);
	start();
	make_request("foo.0", "esc.bin", 1);
	send_uevent("add", "foo.0", "esc.bin", "/\x1b]0;owned\x07\x7f", 1);
	CHECK_STR(attr("foo.0", "esc.bin", "loading"), "-1");
	char buf[1024];
	ssize_t n = read(con[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "unsafe name /\\x1b]0;owned\\x07\\x7f\n") != NULL);
	CHECK(strchr(buf, '\x1b') == NULL && strchr(buf, '\x07') == NULL);
	log_set_fds(2, -1);
	close(con[0]);
	close(con[1]);
	request_gone("foo.0", "esc.bin");
	finish();
}

/* A driver asking for the same missing file again and again: said five
 * times, then once that it keeps asking, then only in debug. */
static void repeated_request_logged_five_times(void)
{
	CHECK(fake_setup());
	int con[2];
	CHECK(pipe(con) == 0);
	fcntl(con[0], F_SETFL, O_NONBLOCK);
	fcntl(con[1], F_SETFL, O_NONBLOCK);
	log_set_fds(con[1], -1);
	log_set_console_level(LOG_LVL_INFO);
	make_device("foo.0", false);
	start();
	for (int i = 0; i < 9; i++) {
		make_request("foo.0", "again.bin", 0);
		send_uevent("add", "foo.0", "again.bin", "again.bin", 0);
		CHECK_STR(attr("foo.0", "again.bin", "loading"), "-1");
		request_gone("foo.0", "again.bin");
	}
	static char buf[16384];
	ssize_t n = read(con[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	int requested = 0, lines = 0, again = 0;
	for (char *l = buf; (l = strstr(l, "again.bin")); l++) {
		lines++;
		if (strncmp(l, "again.bin: requested", 20) == 0)
			requested++;
		if (strncmp(l, "again.bin: asked for again and again", 36) == 0)
			again++;
	}
	if (requested != 5 || again != 1 || lines != 11)
		printf("  the log was:\n%s", buf);
	CHECK(requested == 5);
	CHECK(again == 1);
	CHECK(lines == 11); /* each: requested, aborted; then the note */
	log_set_fds(2, -1);
	close(con[0]);
	close(con[1]);
	finish();
}

/* Requests made while /init runs get a 300 s timeout (the kernel fixes it
 * when the request is made); the kernel's own value is back at the
 * hand-over. */
static void request_timeout_300_s_then_restored(void)
{
	CHECK(fake_setup());
	fake_put("sys/class/firmware/timeout", "60\n", 3);
	start();
	char got[32];
	CHECK(fake_get("sys/class/firmware/timeout", got, sizeof(got)) > 0);
	CHECK_STR(got, "300\n");
	firmware_in_new_root(&fw);
	/* (A fake file is written at offset 0, not truncated.) */
	CHECK(fake_get("sys/class/firmware/timeout", got, sizeof(got)) > 0);
	CHECK(strncmp(got, "60\n", 3) == 0);
	finish();
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A re-probe that never ends (its write to drivers_probe blocks: a FIFO
 * nobody reads) is bounded: 20 s after it started the boot goes on
 * without it, the child killed. The clock is the test's. */
static void reprobe_bounded_at_20_s(void)
{
	CHECK(fake_setup());
	make_device("foo.0", false);
	make_request("foo.0", "stuck.bin", 0);
	start();
	request_gone("foo.0", "stuck.bin");
	char p[PATH_MAX];
	fake_remove("sys/bus/platform/drivers_probe");
	fake_path(p, sizeof(p), "sys/bus/platform/drivers_probe");
	CHECK(mkfifo(p, 0600) == 0);
	fake_path(root, sizeof(root), root_rel);
	fake_mkdir(root_rel);
	long long t0 = mono_ms();
	firmware_root_mounted(&fw, root);
	long long t1 = mono_ms();
	CHECK(firmware_reprobing(&fw));
	int left = fw_reprobe_next_timeout(&fw.reprobe, t1);
	CHECK(left > 19000 && left <= 20000);
	fw_reprobe_tick(&fw.reprobe, t0 + 19900);
	CHECK(firmware_reprobing(&fw));
	fw_reprobe_tick(&fw.reprobe, t1 + 20000);
	CHECK(!firmware_reprobing(&fw));
	int status = 0;
	pid_t pid = waitpid(-1, &status, 0);
	CHECK(pid > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	finish();
}

/* With openat2() or without it (kernels before 5.6, or valgrind not
 * knowing it: then open_in_root's walk resolves the links), links are
 * read as the root sees them, and only what ends up in a firmware
 * directory is served. */
static void root_symlinks_followed_only_into_firmware_dirs(void)
{
	CHECK(fake_setup());
	make_device("foo.0", false);
	start();
	const char *names[] = {"rel.bin", "abs.bin", "secret.bin", "up.bin"};
	for (int i = 0; i < 4; i++) {
		make_request("foo.0", names[i], 1);
		send_uevent("add", "foo.0", names[i], names[i], 1);
	}
	put_root("lib/firmware/vendor/real.bin", "REAL", 4);
	put_root("etc/secret", "SECRET", 6);
	fake_link("vendor/real.bin", "newroot/lib/firmware/rel.bin");
	/* Absolute: read as the root sees it. */
	fake_link("/etc/alt/fw", "newroot/lib/firmware/abs.bin");
	fake_link("/lib/firmware/vendor/real.bin", "newroot/etc/alt/fw");
	fake_link("../../etc/secret", "newroot/lib/firmware/secret.bin");
	fake_link("../../../../../../../../../../etc/secret",
		  "newroot/lib/firmware/up.bin");
	root_mounted();
	CHECK_STR(attr("foo.0", "rel.bin", "data"), "REAL");
	CHECK_STR(attr("foo.0", "rel.bin", "loading"), "0");
	CHECK_STR(attr("foo.0", "abs.bin", "data"), "REAL");
	CHECK_STR(attr("foo.0", "abs.bin", "loading"), "0");
	CHECK_STR(attr("foo.0", "secret.bin", "data"), "");
	CHECK_STR(attr("foo.0", "secret.bin", "loading"), "-1");
	CHECK_STR(attr("foo.0", "up.bin", "data"), "");
	CHECK_STR(attr("foo.0", "up.bin", "loading"), "-1");
	for (int i = 0; i < 4; i++)
		request_gone("foo.0", names[i]);
	/* Once the root is there, a new request is served at once. */
	make_request("foo.0", "now.bin", 0);
	put_root("lib/firmware/now.bin", "NOW", 3);
	send_uevent("add", "foo.0", "now.bin", "now.bin", 0);
	CHECK_STR(attr("foo.0", "now.bin", "data"), "NOW");
	CHECK_STR(attr("foo.0", "now.bin", "loading"), "0");
	request_gone("foo.0", "now.bin");
	finish();
}

/* Debian, Fedora, Arch: /lib is a link to usr/lib. */
static void merged_usr_root_served(void)
{
	CHECK(fake_setup());
	make_device("foo.0", false);
	start();
	make_request("foo.0", "m.bin", 1);
	send_uevent("add", "foo.0", "m.bin", "m.bin", 1);
	put_root("usr/lib/firmware/m.bin", "MERGED", 6);
	fake_link("usr/lib", "newroot/lib");
	root_mounted();
	CHECK_STR(attr("foo.0", "m.bin", "data"), "MERGED");
	CHECK_STR(attr("foo.0", "m.bin", "loading"), "0");
	request_gone("foo.0", "m.bin");
	finish();
}

/* At hand-over the loop waits exactly until QUIET_MS passed since the
 * last request, and while one is held, a slice at a time. */
static void quiet_counts_down_from_the_last_request(void)
{
	static struct firmware f;
	memset(&f, 0, sizeof(f));
	f.last_request_ms = 1000;
	CHECK(firmware_quiet_in(&f, 1000) == 25);
	CHECK(firmware_quiet_in(&f, 1010) == 15);
	CHECK(firmware_quiet_in(&f, 1025) == 0);
	CHECK(firmware_quiet_in(&f, 990) == 25); /* the clock went back */
	f.nheld = 1;
	CHECK(firmware_quiet_in(&f, 5000) == 25);
}

void fwsysfs_tests(void)
{
	RUN(quiet_counts_down_from_the_last_request);
	RUN(sync_request_refused_unbound_device_reprobed);
	RUN(bound_device_never_reprobed);
	RUN(async_request_held_then_served);
	RUN(async_served_decompressed);
	RUN(expired_held_request_reprobed);
	RUN(kmsg_failed_load_reprobed);
	RUN(kmsg_forged_record_ignored);
	RUN(malformed_sysfs_refused_or_ignored);
	RUN(hostile_name_escaped_in_the_log);
	RUN(repeated_request_logged_five_times);
	RUN(request_timeout_300_s_then_restored);
	RUN(reprobe_bounded_at_20_s);
	RUN(root_symlinks_followed_only_into_firmware_dirs);
	RUN(merged_usr_root_served);
}
