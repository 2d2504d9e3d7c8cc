#!/usr/bin/env python3
"""QEMU boot tests: boot the test kernel (initramfs embedded through
CONFIG_INITRAMFS_SOURCE) against real disk images and assert on what the
booted system reports (RESULT lines from the test root's /sbin/init) and on
what the console showed.

usage: boot_tests.py BUILD_DIR [CASE_NAME_SUBSTRING...]
"""
import os
import re
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


def boot(name, append, disks, script=(), timeout=90):
    os.makedirs(LOGS, exist_ok=True)
    res = qemu_harness.run(
        kernel=KERNEL,
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
             "root=UUID=0badc0de-0000-4000-8000-000000000000 rootwait=3",
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
             "root=UUID=%s rootflags=subvol=@root rootwait=3"
             % FX["RAID1_UUID"], ["raid1-a.img"],
             script=[(r"Press r \+ Enter to retry", "p\n", 0)], timeout=60)
    no_panic(b)
    expect("not all devices of that filesystem appeared" in b.out,
           "missing RAID1 member not reported")
    expect(not b.results, "mounted with a member missing")


@case
def missing_init_keeps_initramfs_and_retries():
    b = boot("missing_init_keeps_initramfs_and_retries",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere"
             % FX["SINGLE_UUID"], ["single.img"],
             script=[(r"Press r \+ Enter to retry", "r\n", 0),
                     (r"retrying boot(.|\n)*Press r \+ Enter to retry",
                      "p\n", 0)],
             timeout=60)
    no_panic(b)
    expect("/sbin/nothere on the new root is not usable" in b.out,
           "no clear message about the missing init")
    expect(b.out.count("/sbin/nothere on the new root is not usable") >= 2,
           "retry did not run the boot again")
    expect(not b.results, "something booted anyway")


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
