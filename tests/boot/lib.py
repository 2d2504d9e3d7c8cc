"""What every boot test uses: booting, the fixtures, the assertions."""
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import qemu_harness  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
FILTERS = sys.argv[2:]
FIX = os.path.join(BUILD, "fixtures")
# LUKSINIT_TEST_KERNEL: boot another kernel (say, one with an older /init
# embedded, to see a test fail without the behaviour it proves).
KERNEL = os.environ.get("LUKSINIT_TEST_KERNEL") or os.path.join(BUILD, "bzImage")
# LUKSINIT_TEST_LOGS: where the console logs go (another suite booting
# these cases with its own kernel keeps its logs apart).
LOGS = os.environ.get("LUKSINIT_TEST_LOGS") or os.path.join(BUILD, "logs")
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


# The kernel's line as it starts the initramfs's init (/init, rdinit=),
# and what only an init prints.
INIT_RAN = re.compile(r"Run /\S* as init process|luksinit: |RESULT ")
# A console that hides the kernel's info lines cannot tell.
QUIET = re.compile(r"(^|\s)(quiet|loglevel=[0-6])(\s|$)")


def reset_before_init(res):
    return res.shutdown == "reboot" and not INIT_RAN.search(res.output)


def run_guest(**kw):
    """qemu_harness.run, once more if the guest reset before any init ran:
    seen once in well over a thousand TCG boots, during PCI enumeration,
    where no test looks. It is said on the test's output and the first
    log kept beside the second; a second reset fails the test. Never on a
    quiet console, where a reset by a failing init would look the same."""
    res = qemu_harness.run(**kw)
    if reset_before_init(res) and not QUIET.search(kw.get("append") or ""):
        log = kw.get("log")
        if log:
            os.replace(log, log + ".reset")
        print("  the guest reset before its init ran; booting it once more",
              flush=True)
        res = qemu_harness.run(**kw)
        expect(not reset_before_init(res),
               "the guest reset twice before its init ran")
    return res


def boot(name, append, disks, script=(), timeout=90, initrd=None,
         extra_args=(), kernel=None, mem=1024, rng=True):
    os.makedirs(LOGS, exist_ok=True)
    res = run_guest(
        kernel=kernel or KERNEL,
        initrd=initrd,
        disks=[os.path.join(FIX, d) for d in disks],
        append=append,
        log=os.path.join(LOGS, name + ".log"),
        timeout=timeout,
        script=list(script),
        snapshot=True,
        echo=False,
        extra_args=list(extra_args),
        mem=mem,
        rng=rng,
    )
    return Boot(res)


class LateDisk:
    """A disk that is not there at boot: QEMU arguments for an empty PCIe
    hot-plug slot and the disk's backend, and the QMP action that plugs it
    in (the guest sees a virtio disk appear, as a USB or slow NVMe disk
    would)."""

    def __init__(self, image, slot=0):
        self.id = "late%d" % slot
        self.args = [
            "-device", "pcie-root-port,id=hp%d,chassis=%d,slot=%d"
            % (slot, slot + 1, slot + 1),
            "-drive", "file=%s,format=raw,if=none,id=%s,cache=unsafe"
            % (os.path.join(FIX, image), self.id)]
        self.plug = qemu_harness.Qmp("device_add", driver="virtio-blk-pci",
                                     drive=self.id, bus="hp%d" % slot,
                                     id=self.id + "-dev")


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
    expect(b.res.shutdown == "poweroff", "the guest did not power off after "
           "the report (%s)" % b.res.shutdown)


def powered_off_from_prompt(b):
    expect(not b.res.timed_out, "the VM timed out")
    expect(b.res.shutdown == "poweroff",
           "p at the prompt did not power off (%s)" % b.res.shutdown)


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


PROMPT = r"Press r \+ Enter to retry"


def failed_to_prompt(b, reason):
    no_panic(b)
    expect("boot failed: " + reason in b.out, "no clear message: " + reason)
    expect("hint: " in b.out, "no hint on what to try")
    expect(re.search(PROMPT, b.out), "no retry/reboot prompt")
    expect(not b.results, "something booted anyway")
    powered_off_from_prompt(b)


def main():
    passed = failed = 0
    # A filter is a substring of a case's name or of its module's.
    selected = [fn for fn in CASES
                if not FILTERS or any(f in fn.__name__ or f in fn.__module__
                                      for f in FILTERS)]
    print("PLAN %d" % len(selected), flush=True)
    for fn in selected:
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
