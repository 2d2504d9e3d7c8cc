#!/usr/bin/env python3
"""QEMU boot tests: boot the test kernel (initramfs embedded through
CONFIG_INITRAMFS_SOURCE) against real disk images and assert on what the
booted system reports (RESULT lines from the test root's /sbin/init) and on
what the console showed.

usage: boot_tests.py BUILD_DIR [CASE_NAME_SUBSTRING...]
"""
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import qemu_harness  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
FILTERS = sys.argv[2:]
FIX = os.path.join(BUILD, "fixtures")
KERNEL = os.path.join(BUILD, "bzImage")
LOGS = os.path.join(BUILD, "logs")
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def fixture_env():
    env = {}
    with open(os.path.join(FIX, "fixtures.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env


FX = fixture_env()


class Boot:
    """One finished boot: console text and the RESULT lines in it."""

    def __init__(self, res):
        self.res = res
        self.out = res.output
        self.lines = [l.strip() for l in self.out.splitlines()]
        self.results = [l[len("RESULT "):] for l in self.lines
                        if l.startswith("RESULT ")]

    def result(self, prefix):
        for r in self.results:
            if r.startswith(prefix):
                return r
        raise AssertionError("no RESULT line starting %r" % prefix)

    def has_result(self, text):
        return text in self.results


def boot(name, append, disks, script=(), timeout=90, initrd=None):
    os.makedirs(LOGS, exist_ok=True)
    res = qemu_harness.run(
        kernel=KERNEL,
        initrd=initrd,
        disks=[os.path.join(FIX, d) for d in disks],
        append=append,
        log=os.path.join(LOGS, name + ".log"),
        timeout=timeout,
        script=list(script),
        snapshot=True,
        echo=False,
    )
    return Boot(res)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def no_panic(b):
    expect("Kernel panic" not in b.out, "the kernel panicked")


def booted_to_report(b):
    no_panic(b)
    expect(not b.res.timed_out, "the VM timed out")
    expect(b.has_result("init started pid=1 argc=1") or
           any(r.startswith("init started pid=1 ") for r in b.results),
           "the root's /sbin/init did not start as PID 1")
    expect(b.has_result("done"), "the test init did not finish")


def check_handover(b):
    """What a clean switch_root leaves: moved API mounts, emptied initramfs,
    clean environment, no leaked fds."""
    for mp, fstype in (("/dev", "devtmpfs"), ("/proc", "proc"),
                       ("/sys", "sysfs"), ("/run", "tmpfs")):
        expect(b.has_result("mount %s %s" % (mp, fstype)),
               "%s (%s) was not moved into the new root" % (mp, fstype))
    ir = b.result("initramfs ")
    expect(re.match(r"initramfs fstype=(ramfs|tmpfs) entries=0:$", ir),
           "initramfs not emptied: %s" % ir)
    expect(b.result("fds=") == "fds= 0 1 2", "fds leaked into init: %s"
           % b.result("fds="))
    expect(b.result("printk_devkmsg=") == "printk_devkmsg=ratelimit",
           "kernel knob not restored: " + b.result("printk_devkmsg="))
    env = [r for r in b.results if r.startswith("env ")]
    expect(env == ["env HOME=/", "env TERM=linux"],
           "init environment not clean: %s" % env)


@case
def single_device_uuid_subvol():
    b = boot("single_device_uuid_subvol",
             "root=UUID=%s rootflags=subvol=@root" % FX["SINGLE_UUID"],
             ["single.img"])
    booted_to_report(b)
    root = b.result("root ")
    expect("fstype=btrfs" in root and "subpath=/@root" in root,
           "wrong root: " + root)
    expect(" mountopts=ro," in root, "root not read-only by default: " + root)
    check_handover(b)
    expect(b.res.status == 0, "VM did not power off cleanly")


@case
def raid1_two_devices_uuid_subvol():
    b = boot("raid1_two_devices_uuid_subvol",
             "root=UUID=%s rootflags=subvol=@root" % FX["RAID1_UUID"],
             ["raid1-a.img", "raid1-b.img"])
    booted_to_report(b)
    root = b.result("root ")
    expect("fstype=btrfs" in root and "subpath=/@root" in root,
           "wrong root: " + root)
    devs = b.result("btrfs fsid=%s" % FX["RAID1_UUID"])
    expect(devs.endswith("devices=2: vda vdb") or
           devs.endswith("devices=2: vdb vda"),
           "not both RAID1 devices in the mounted filesystem: " + devs)
    check_handover(b)


@case
def label_rw_init_and_arguments():
    b = boot("label_rw_init_and_arguments",
             'root=LABEL=raid1 rw rootflags="subvol=@root,noatime" '
             'init=/sbin/init -- first "second arg"',
             ["raid1-b.img", "raid1-a.img"])
    booted_to_report(b)
    root = b.result("root ")
    expect(" mountopts=rw,noatime" in root, "rw/noatime not applied: " + root)
    expect(b.has_result("argv[1]=first") and
           b.has_result("argv[2]=second arg"),
           "init arguments after -- not passed: %s" % b.results[:4])
    check_handover(b)


@case
def root_by_device_path():
    b = boot("root_by_device_path",
             "root=/dev/vda rootfstype=btrfs rootflags=subvol=@root",
             ["single.img"])
    booted_to_report(b)
    expect("source=/dev/vda" in b.result("root "), b.result("root "))


@case
def root_never_appears_prompts_then_poweroff():
    b = boot("root_never_appears_prompts_then_poweroff",
             "root=UUID=0badc0de-0000-4000-8000-000000000000 rootwait=3 panic=0",
             ["single.img"],
             script=[(r"Press r \+ Enter to retry", "p\n", 0)], timeout=60)
    no_panic(b)
    expect("root=UUID=0badc0de-0000-4000-8000-000000000000 did not appear"
           in b.out, "no clear message naming the missing root")
    expect("/dev/vda btrfs UUID=%s" % FX["SINGLE_UUID"] in b.out,
           "the message does not list the devices that were there")
    expect(re.search(r"Press r \+ Enter to retry", b.out), "no console prompt")
    expect(not b.results, "something booted anyway")
    expect(b.res.status == 0 and not b.res.timed_out,
           "power off from the prompt did not work")


@case
def raid1_member_missing_is_an_error():
    b = boot("raid1_member_missing_is_an_error",
             "root=UUID=%s rootflags=subvol=@root rootwait=3 panic=0"
             % FX["RAID1_UUID"], ["raid1-a.img"],
             script=[(r"Press r \+ Enter to retry", "p\n", 0)], timeout=60)
    no_panic(b)
    expect("not all devices of that filesystem appeared" in b.out,
           "missing RAID1 member not reported")
    expect("Press r + Enter to retry" in b.out, "no console prompt")
    expect(b.res.status == 0 and not b.res.timed_out,
           "power off from the prompt did not work")
    expect(not b.results, "mounted with a member missing")


@case
def missing_init_keeps_initramfs_and_retries():
    b = boot("missing_init_keeps_initramfs_and_retries",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere panic=0"
             % FX["SINGLE_UUID"], ["single.img"],
             script=[(r"Press r \+ Enter to retry", "r\n", 0),
                     (r"retrying boot(.|\n)*Press r \+ Enter to retry",
                      "p\n", 0)],
             timeout=60)
    no_panic(b)
    expect("/sbin/nothere on the new root is not usable" in b.out,
           "no clear message about the missing init")
    # The second report also proves kmsg's rate limit is lifted: it is
    # more than the 10 lines a writer may log by default.
    expect(b.out.count("/sbin/nothere on the new root is not usable") >= 2,
           "retry did not run the boot again")
    expect(not b.results, "something booted anyway")



# ---- LUKS members + Btrfs RAID (issue 3) --------------------------------

PASS = "test-pass"
SHARED_PROMPT = r"Passphrase for (\d+) encrypted disks \([^)]*\): "


def luks_uuid(fs, i):
    return FX["%s_LUKS_%d" % (fs, i)]


def prompts(b):
    return re.findall(r"Passphrase for [^:\n]*: ", b.out)


def assert_array(b, fs, ndev):
    booted_to_report(b)
    root = b.result("root ")
    expect("fstype=btrfs" in root and "subpath=/@root" in root,
           "wrong root: " + root)
    devs = b.result("btrfs fsid=%s" % FX[fs + "_UUID"])
    expect(re.search(r"devices=%d:( dm-\d+){%d}$" % (ndev, ndev), devs),
           "expected %d dm-crypt members in the mounted array: %s"
           % (ndev, devs))
    expect(PASS not in b.out and "other-pass" not in b.out,
           "a passphrase appeared on the console")


@case
def luks2_raid1_dracut_one_prompt():
    b = boot("luks2_raid1_dracut_one_prompt",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=luks-%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                      luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 1, "expected exactly one prompt: %s" % prompts(b))
    expect(re.search(SHARED_PROMPT, b.out).group(1) == "2",
           "the prompt does not say it unlocks both disks")
    for i in range(2):
        expect("luks-%s: unlocked" % luks_uuid("CRYPT2", i) in b.out,
               "member %d not reported unlocked" % i)
    check_handover(b)


@case
def raid1c3_argon2id_genkernel_crypt_roots():
    b = boot("raid1c3_argon2id_genkernel_crypt_roots",
             "root=UUID=%s rootflags=subvol=@root " % FX["CRYPT3_UUID"] +
             " ".join("crypt_roots=UUID=%s" % luks_uuid("CRYPT3", i)
                      for i in range(3)),
             ["crypt3-a.img", "crypt3-b.img", "crypt3-c.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT3", 3)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    expect(b.out.count("KDF memory 32 KiB") == 3,
           "Argon2id keyslots not recognised on all three members")


@case
def luks1_and_luks2_members():
    b = boot("luks1_and_luks2_members",
             "root=LABEL=mixed rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (luks_uuid("MIXED", 0), luks_uuid("MIXED", 1)),
             ["mixed-a.img", "mixed-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "MIXED", 2)
    expect(": LUKS1 on /dev/vda" in b.out and ": LUKS2 on /dev/vdb" in b.out,
           "LUKS versions not as expected")


@case
def wrong_passphrase_then_right():
    b = boot("wrong_passphrase_then_right",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "wrong-pass\n", 0),
                     (SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 2, "expected two prompts: %s" % prompts(b))
    expect("no key available with this passphrase (2 tries left)" in b.out,
           "no clear message after the wrong passphrase")
    expect("wrong-pass" not in b.out, "the wrong passphrase was shown")


@case
def different_passphrases_second_prompt_only_for_refuser():
    b_uuid = luks_uuid("DIFF", 1)
    b = boot("different_passphrases_second_prompt_only_for_refuser",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["DIFF_UUID"], luks_uuid("DIFF", 0), b_uuid),
             ["diff-a.img", "diff-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0),
                     (r"Passphrase for luks-%s \(/dev/vdb\): " % b_uuid,
                      "other-pass\n", 0)])
    assert_array(b, "DIFF", 2)
    p = prompts(b)
    expect(len(p) == 2 and p[1] == "Passphrase for luks-%s (/dev/vdb): "
           % b_uuid, "expected a shared prompt then one naming member B: %s" % p)


def overlay_initrd(name, lines):
    """An extra cpio the kernel unpacks over the embedded initramfs."""
    d = os.path.join(BUILD, "overlays")
    os.makedirs(d, exist_ok=True)
    lst = os.path.join(d, name + ".list")
    with open(lst, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    out = os.path.join(d, name + ".cpio.gz")
    kdir = open(os.path.join(BUILD, "kernel.dir")).read().strip()
    subprocess.run([os.path.join(HERE, "..", "scripts", "make-cpio.sh"),
                    kdir, lst, out], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return out


def keyfile_initrd():
    """The key file inside the initramfs at boot (an overlay the kernel
    unpacks over the embedded initramfs)."""
    return overlay_initrd("keyfile", [
        "dir /etc 0755 0 0",
        "file /etc/luks.key %s/member.key 0400 0 0" % FIX])


@case
def key_file_in_initramfs_no_prompt():
    b = boot("key_file_in_initramfs_no_prompt",
             "root=UUID=%s rootflags=subvol=@root rd.luks.key=/etc/luks.key "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"], initrd=keyfile_initrd())
    assert_array(b, "CRYPT2", 2)
    expect(not prompts(b), "a prompt appeared despite the key file")
    expect(b.out.count("(key file)") == 2, "key file not used for both")
    # The key file was in the initramfs, which is now empty.
    check_handover(b)


@case
def root_names_one_mapper_member():
    a_uuid = luks_uuid("CRYPT2", 0)
    b = boot("root_names_one_mapper_member",
             "root=/dev/mapper/luks-%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (a_uuid, a_uuid, luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)


@case
def member_absent_is_an_error_naming_it():
    missing = luks_uuid("CRYPT2", 1)
    b = boot("member_absent_is_an_error_naming_it",
             "root=UUID=%s rootflags=subvol=@root rootwait=4 panic=0 rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), missing),
             ["crypt2-a.img"],
             script=[(r"Passphrase for [^:]*: ", PASS + "\n", 0),
                     (r"Press r \+ Enter to retry", "p\n", 0)])
    no_panic(b)
    expect(re.search(r"boot failed: .*not all devices.*LUKS devices missing: "
                     r"UUID=%s" % missing, b.out),
           "no clear error naming the missing member")
    expect("Press r + Enter to retry" in b.out, "no console prompt")
    expect(not b.results, "mounted with a member missing")


@case
def member_absent_degraded_after_wait():
    missing = luks_uuid("CRYPT2", 1)
    b = boot("member_absent_degraded_after_wait",
             "root=UUID=%s rootflags=subvol=@root rd.btrfs.degraded=2 "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), missing),
             ["crypt2-a.img"], script=[(r"Passphrase for [^:]*: ", PASS + "\n", 0)])
    booted_to_report(b)
    expect(re.search(r"WARNING: mounting Btrfs on \S+ DEGRADED.*UUID=%s"
                     % missing, b.out), "no loud degraded warning")
    root = b.result("root ")
    expect("degraded" in root, "not mounted degraded: " + root)


@case
def parallel_unlock_kdfs_overlap():
    b = boot("parallel_unlock_kdfs_overlap",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["PAR_UUID"], luks_uuid("PAR", 0),
                                  luks_uuid("PAR", 1)),
             ["par-a.img", "par-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=180)
    assert_array(b, "PAR", 2)
    spans = [(float(s), float(e)) for s, e in re.findall(
        r"KDF ended; ran from ([\d.]+) s to ([\d.]+) s", b.out)]
    expect(len(spans) == 2, "KDF intervals not logged: %s" % spans)
    (s1, e1), (s2, e2) = spans
    expect(s1 < e2 and s2 < e1, "KDF intervals do not overlap: %s" % spans)
    print("  KDF intervals: %s" % spans)



# ---- firmware on demand (issue 6) ------------------------------------------

FWDIR = os.path.join(FIX, "fw")


def fnv1a(path):
    h = 1469598103934665603
    with open(path, "rb") as f:
        for byte in f.read():
            h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def fw_initrd(name, requests):
    """A test initramfs overlay: the fwtrigger helper (rdinit=/fwtrigger),
    its request list, and one firmware file a user chose to embed."""
    d = os.path.join(BUILD, "fwtest")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".list"), "w") as f:
        f.write("".join(r + "\n" for r in requests))
    return overlay_initrd(name, [
        "file /fwtrigger %s/fwtrigger 0755 0 0" % BUILD,
        "file /fwtest.list %s/%s.list 0644 0 0" % (d, name),
        "dir /lib 0755 0 0", "dir /lib/firmware 0755 0 0",
        "dir /lib/firmware/luksinit-test 0755 0 0",
        "file /lib/firmware/luksinit-test/initramfs.bin %s/initramfs.bin 0644 0 0"
        % FWDIR])


def fw_boot(name, requests, type_after=3, kernel=None, timeout=90, extra=""):
    """Boots the encrypted two-disk root; the passphrase is typed only
    type_after seconds after the prompt, so the requests come while the
    real root is not there yet."""
    append = ("root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
              "rd.luks.uuid=%s rdinit=/fwtrigger %s"
              % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1),
                 extra))
    os.makedirs(LOGS, exist_ok=True)
    res = qemu_harness.run(
        kernel=kernel or KERNEL, initrd=fw_initrd(name, requests),
        disks=[os.path.join(FIX, "crypt2-a.img"), os.path.join(FIX, "crypt2-b.img")],
        append=append, log=os.path.join(LOGS, name + ".log"), timeout=timeout,
        script=[(SHARED_PROMPT, PASS + "\n", type_after)], snapshot=True,
        echo=False)
    b = Boot(res)
    booted_to_report(b)
    return b


def fwtest(b, name):
    for r in b.results:
        m = re.match(r"FWTEST name=(\S+) rc=(\d+) bytes=(\d+) fnv=(\w+) "
                     r"waited_ms=(\d+)$", r)
        if m and m.group(1) == name:
            return dict(rc=int(m.group(2)), bytes=int(m.group(3)),
                        fnv=m.group(4), waited=int(m.group(5)))
    raise AssertionError("no FWTEST result for %s" % name)


def expect_identical(b, name, local):
    r = fwtest(b, name)
    size = os.path.getsize(os.path.join(FWDIR, local))
    expect(r["rc"] == 0, "request for %s failed: %s" % (name, r))
    expect(r["bytes"] == size and r["fnv"] == fnv1a(os.path.join(FWDIR, local)),
           "%s: driver got %d bytes, not the %d of %s" % (name, r["bytes"], size, local))
    return r


def expect_clean_firmware_state(b, force="1"):
    expect(b.has_result("fw_pending=0"), "firmware requests left hanging")
    expect(b.has_result("fw_timeout=60"), "firmware timeout not restored: %s"
           % b.result("fw_timeout="))
    expect(b.has_result("fw_force_sysfs_fallback=" + force),
           "force_sysfs_fallback not restored: %s"
           % b.result("fw_force_sysfs_fallback="))


@case
def firmware_from_initramfs_and_held_for_root():
    b = fw_boot("firmware_from_initramfs_and_held_for_root",
                ["luksinit-test/initramfs.bin", "luksinit-test/root-only.bin"])
    r1 = expect_identical(b, "luksinit-test/initramfs.bin", "initramfs.bin")
    r2 = expect_identical(b, "luksinit-test/root-only.bin", "root-only.bin")
    # The kernel loads what the initramfs has by itself (direct loading
    # from the current root); /init serves it only where the kernel can't.
    expect(r1["waited"] < 2000, "firmware in the initramfs was held: %s" % r1)
    expect("firmware luksinit-test/root-only.bin: not in the initramfs; held"
           in b.out, "root-only firmware not held")
    expect("firmware luksinit-test/root-only.bin: served from /newroot/lib/firmware/"
           in b.out, "held firmware not served from the real root")
    expect(r2["waited"] > 2000, "the request was not held until the root: %s" % r2)
    print("  waited: initramfs %d ms, held for root %d ms" % (r1["waited"], r2["waited"]))
    expect_clean_firmware_state(b)


@case
def firmware_zst_served_decompressed():
    b = fw_boot("firmware_zst_served_decompressed", ["luksinit-test/comp-zst.bin"])
    expect_identical(b, "luksinit-test/comp-zst.bin", "comp-zst.bin")
    expect("luksinit-test/comp-zst.bin.zst" in b.out, "not served from the .zst")


@case
def firmware_xz_served_decompressed():
    b = fw_boot("firmware_xz_served_decompressed", ["luksinit-test/comp-xz.bin"])
    expect_identical(b, "luksinit-test/comp-xz.bin", "comp-xz.bin")
    expect("luksinit-test/comp-xz.bin.xz" in b.out, "not served from the .xz")


@case
def firmware_missing_aborted_at_root_mount():
    b = fw_boot("firmware_missing_aborted_at_root_mount", ["luksinit-test/nowhere.bin"])
    r = fwtest(b, "luksinit-test/nowhere.bin")
    expect(r["rc"] != 0 and r["bytes"] == 0, "missing firmware did not fail: %s" % r)
    expect("firmware luksinit-test/nowhere.bin: aborted (not on the real root either)"
           in b.out, "no abort message")
    expect(r["waited"] < 20000, "the driver waited %d ms: not aborted right after "
           "the mount" % r["waited"])
    print("  missing firmware: the driver waited %d ms (kernel timeout 60000)" % r["waited"])
    expect_clean_firmware_state(b)


@case
def firmware_hostile_names_big_file_and_slow_passphrase():
    b = fw_boot("firmware_hostile_names_big_file_and_slow_passphrase",
                ["../../etc/fwsecret", "/etc/fwsecret", "luksinit-test/big.bin"],
                type_after=70, timeout=240)
    for name in ("../../etc/fwsecret", "/etc/fwsecret"):
        r = fwtest(b, name)
        expect(r["rc"] != 0 and r["bytes"] == 0, "hostile %s not refused: %s" % (name, r))
        expect(r["waited"] < 10000, "hostile %s was held: %s" % (name, r))
    # Kernel 6.1 already refuses ".." itself; /init refuses what reaches
    # it (the absolute path) and would refuse ".." too (unit-tested).
    expect("refused, path contains '..' component" in b.out or
           "refused: unsafe name ../../etc/fwsecret" in b.out,
           "../../etc/fwsecret not refused")
    expect("firmware request refused: unsafe name /etc/fwsecret" in b.out,
           "/etc/fwsecret not refused by /init")
    expect("fwsecret: served" not in b.out, "something outside the firmware dirs was served")
    r = expect_identical(b, "luksinit-test/big.bin", "big.bin")
    expect(r["waited"] > 70000, "the passphrase was not typed after 70 s: %s" % r)
    print("  6 MiB firmware delivered after the driver waited %d ms" % r["waited"])
    expect_clean_firmware_state(b)


@case
def firmware_kernel_without_fallback_uses_force_knob():
    # CONFIG_FW_LOADER_USER_HELPER_FALLBACK only sets the default of this
    # knob (fallback_table.c); set to 0 at boot, the kernel behaves exactly
    # as one built without it: request_firmware() never asks userspace.
    b = fw_boot("firmware_kernel_without_fallback_uses_force_knob",
                ["luksinit-test/root-only.bin"],
                extra="sysctl.kernel.firmware_config.force_sysfs_fallback=0")
    expect_identical(b, "luksinit-test/root-only.bin", "root-only.bin")
    expect("forcing the sysfs fallback" in b.out, "knob not set in the initramfs")
    expect_clean_firmware_state(b, force="0")



# ---- failure paths and hostile input (issue 4) -----------------------------

PROMPT = r"Press r \+ Enter to retry"


def failed_to_prompt(b, reason):
    no_panic(b)
    expect("boot failed: " + reason in b.out, "no clear message: " + reason)
    expect("hint: " in b.out, "no hint on what to try")
    expect(re.search(PROMPT, b.out), "no retry/reboot prompt")
    expect(not b.results, "something booted anyway")
    expect(b.res.status == 0 and not b.res.timed_out, "the VM did not power off "
           "from the prompt")


@case
def wrong_rootfstype_is_reported():
    b = boot("wrong_rootfstype_is_reported",
             "root=UUID=%s rootflags=subvol=@root rootfstype=ext4 panic=0"
             % FX["SINGLE_UUID"], ["single.img"], script=[(PROMPT, "p\n", 0)])
    failed_to_prompt(b, "cannot mount /dev/vda on /newroot (ext4: ")


@case
def corrupt_luks_header_on_one_member():
    b = boot("corrupt_luks_header_on_one_member",
             "root=UUID=%s rootflags=subvol=@root panic=0 rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "corrupt-b.img"], script=[(PROMPT, "p\n", 0)])
    failed_to_prompt(b, "cannot unlock")
    expect("on /dev/vdb): LUKS header unreadable or corrupt" in b.out,
           "the corrupt member is not named")


@case
def garbage_command_line():
    cmd = ("root=UUID= rootwait=3 panic=0 rootwait=99999999999999999999 "
           "init=/" + "x" * 600 + " rd.luks.tries=-3 rootflags=,,, " +
           " ".join("crypt_roots=UUID=%d" % i for i in range(60)) +
           ' rd.luks.name=a=b/c rootfstype="unbalanced and never closed')
    expect(len(cmd) < 2000, "test command line too long for the kernel")
    b = boot("garbage_command_line", cmd, ["single.img"],
             script=[(PROMPT, "p\n", 0)])
    failed_to_prompt(b, "no usable root= on the kernel command line")
    for param in ("root", "rootwait", "init", "rd.luks.tries", "crypt_roots",
                  "rd.luks.name"):
        expect("ignoring %s=: " % param in b.out, "no message naming %s=" % param)


@case
def fake_uevents_from_userspace_are_ignored():
    # The passphrase comes late, so /init is in its loop when they arrive.
    b = boot("fake_uevents_from_userspace_are_ignored",
             "root=UUID=%s rootflags=subvol=@root rd.debug rdinit=/fakeuevent "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("fakeuevent", [
                 "file /fakeuevent %s/fakeuevent 0755 0 0" % BUILD]),
             script=[(SHARED_PROMPT, PASS + "\n", 3)])
    booted_to_report(b)
    expect("FAKEUEVENT sent=3" in b.out, "the forger could not send")
    expect(b.out.count("ignored a uevent that did not come from the kernel") >= 3,
           "forged uevents were not seen and dropped")
    for forged in ("vdz", "fake.bin", "etc/shadow"):
        expect(not re.search(r"luksinit: .*%s" % re.escape(forged), b.out),
               "/init acted on a forged uevent (%s)" % forged)


@case
def hostile_passphrase_input():
    """A 5000-character line, control characters and Ctrl-D at the prompt:
    each is a failed or repeated attempt, never a crash or a hang."""
    b = boot("hostile_passphrase_input",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "A" * 5000 + "\n", 0),
                     (SHARED_PROMPT, "\x01\x02\x1b[A\x7fx\n", 0),
                     (SHARED_PROMPT, "\x04", 0),
                     (r"asking again(.|\n)*" + SHARED_PROMPT, PASS + "\n", 0)],
             timeout=120)
    assert_array(b, "CRYPT2", 2)
    expect("no key available with this passphrase (2 tries left)" in b.out,
           "the long line was not a failed attempt")
    expect("no key available with this passphrase (1 try left)" in b.out,
           "the control characters were not a failed attempt")
    expect("empty input (Ctrl-D); asking again" in b.out, "Ctrl-D not handled")
    expect("AAAAAAAAAA" not in b.out, "the typed input was echoed")


@case
def wrong_passphrase_three_times_is_a_clear_failure():
    b = boot("wrong_passphrase_three_times_is_a_clear_failure",
             "root=UUID=%s rootflags=subvol=@root panic=0 rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "nope-1\n", 0), (SHARED_PROMPT, "nope-2\n", 0),
                     (SHARED_PROMPT, "nope-3\n", 0), (PROMPT, "p\n", 0)])
    failed_to_prompt(b, "cannot unlock luks-")
    expect("tries exhausted" in b.out, "the reason does not say the tries ran out")
    expect(len(prompts(b)) == 3, "not exactly rd.luks.tries=3 prompts: %s" % prompts(b))


BUSYBOX = "/bin/busybox"


@case
def rescue_shell_then_retry():
    b = boot("rescue_shell_then_retry",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere panic=0"
             % FX["SINGLE_UUID"], ["single.img"],
             initrd=overlay_initrd("shell", [
                 "dir /bin 0755 0 0", "file /bin/busybox %s 0755 0 0" % BUSYBOX,
                 "slink /bin/sh busybox 0777 0 0"]),
             script=[(r"\(initramfs\) # ", "ls /init /newroot && echo INTACT-$((40+2))\n", 0),
                     (r"INTACT-42(.|\n)*\(initramfs\) # ", "exit\n", 0),
                     (r"trying to boot again(.|\n)*\(initramfs\) # ",
                      "/bin/busybox poweroff -f\n", 0)])
    no_panic(b)
    expect("/sbin/nothere on the new root is not usable" in b.out, "no reason given")
    expect("starting rescue shell /bin/sh" in b.out, "no rescue shell")
    expect("INTACT-42" in b.out, "the initramfs was not intact in the shell")
    expect(b.out.count("/sbin/nothere on the new root is not usable") >= 2,
           "leaving the shell did not retry the boot")
    expect(b.res.status == 0 and not b.res.timed_out, "did not power off")


@case
def rd_shell_0_forbids_the_shell():
    b = boot("rd_shell_0_forbids_the_shell",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere panic=0 rd.shell=0"
             % FX["SINGLE_UUID"], ["single.img"],
             initrd=overlay_initrd("shell", [
                 "dir /bin 0755 0 0", "file /bin/busybox %s 0755 0 0" % BUSYBOX,
                 "slink /bin/sh busybox 0777 0 0"]),
             script=[(PROMPT, "p\n", 0)])
    failed_to_prompt(b, "/sbin/nothere on the new root is not usable")
    expect("rescue shell" not in b.out, "a shell started despite rd.shell=0")


@case
def panic_5_reboots_after_report():
    b = boot("panic_5_reboots_after_report",
             "root=UUID=0badc0de-0000-4000-8000-000000000000 rootwait=1 panic=5",
             ["single.img"], timeout=60)
    no_panic(b)
    m1 = re.search(r"\[\s*([\d.]+)\] luksinit: boot failed: root=UUID=0badc0de", b.out)
    m2 = re.search(r"\[\s*([\d.]+)\] reboot: Restarting system", b.out)
    expect(m1 and m2, "no failure report followed by a reboot")
    waited = float(m2.group(1)) - float(m1.group(1))
    expect(4.5 <= waited < 15, "rebooted %.1f s after the report, not 5" % waited)
    expect("Press r + Enter" not in b.out, "waited at the prompt despite panic=")
    print("  rebooted %.1f s after the failure report" % waited)


def main():
    passed = failed = 0
    for fn in CASES:
        if FILTERS and not any(f in fn.__name__ for f in FILTERS):
            continue
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print("PASS boot/%s (%.1f s)" % (fn.__name__,
                                             time.monotonic() - t0),
                  flush=True)
        except AssertionError as e:
            failed += 1
            print("FAIL boot/%s: %s (log: %s/%s.log)"
                  % (fn.__name__, e, LOGS, fn.__name__), flush=True)
        except Exception:
            failed += 1
            print("FAIL boot/%s: harness error\n%s"
                  % (fn.__name__, traceback.format_exc()), flush=True)
    print("boot: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
