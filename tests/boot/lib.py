"""What every boot test uses: booting, the fixtures, the assertions."""
import concurrent.futures
import hashlib
import io
import os
import re
import socket
import subprocess
import sys
import threading
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
# LUKSINIT_TEST_INITRD: an initramfs given to QEMU as -initrd by every case
# that brings none of its own (with a kernel that embeds no /init, say, as
# tests/deps-build-test.sh boots a /init built another way).
INITRD = os.environ.get("LUKSINIT_TEST_INITRD") or None
# LUKSINIT_TEST_LOGS: where the console logs go (another suite booting
# these cases with its own kernel keeps its logs apart).
LOGS = os.environ.get("LUKSINIT_TEST_LOGS") or os.path.join(BUILD, "logs")
CASES = []
# Boots run side by side (LUKSINIT_BOOT_JOBS at once, 2 by default: the
# machine has 2 cores), each guest with one vCPU; the cases marked @waits
# run one after another in a lane of their own beside them (the guest
# mostly waits, using little CPU); the cases marked @serial (they measure
# time or parallelism) run after all of them, alone, with two vCPUs.
JOBS = max(1, int(os.environ.get("LUKSINIT_BOOT_JOBS") or 2))


def case(fn):
    CASES.append(fn)
    fn.serial = getattr(fn, "serial", False)
    fn.waits = getattr(fn, "waits", False)
    return fn


def serial(fn):
    """Put above @case: the case measures time or parallelism, so it runs
    alone, after the others, on a guest with two vCPUs."""
    fn.serial = True
    return fn


def waits(fn):
    """Put above @case: the guest spends most of the case waiting (a
    deliberate delay, or a bound proven on a disk that does not answer),
    so the case runs in the waiting lane, beside the workers, not in one
    of their places. Its bounds must hold on a loaded machine."""
    fn.waits = True
    return fn


# What runs where: each case in a thread of its own, its output kept until
# it ends (so cases running side by side do not mix their lines).
_local = threading.local()
_print_lock = threading.Lock()


class _CaseOutput(io.TextIOBase):
    """sys.stdout for the test threads: the running case's buffer."""

    def __init__(self, real):
        self.real = real

    def write(self, text):
        buf = getattr(_local, "buf", None)
        if buf is None:
            with _print_lock:
                return self.real.write(text)
        return buf.write(text)

    def flush(self):
        if getattr(_local, "buf", None) is None:
            self.real.flush()


def current_case():
    fn = getattr(_local, "case", None)
    return fn.__name__ if fn else "?"


def _default_smp():
    fn = getattr(_local, "case", None)
    return 2 if fn is None or fn.serial else 1


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


# A kernel that complained: a reset after it is the kernel's failure.
KERNEL_TROUBLE = re.compile(r"Oops|BUG:|WARNING:|Call Trace|Kernel panic")


def reset_before_init(res):
    return (res.shutdown == "reboot" and not INIT_RAN.search(res.output)
            and not KERNEL_TROUBLE.search(res.output))


def run_guest(runner=None, report=None, **kw):
    """qemu_harness.run (or runner, a stand-in), once more if the guest
    reset before any init ran: seen once in well over a thousand TCG boots,
    during PCI enumeration, where no test looks. A line "RETRY boot/NAME"
    says so (tests/run-all.sh counts them: more than one in a run fails
    it) and the first log is kept beside the second; a second reset fails
    the test. Never on a quiet console, where a reset by a failing init
    would look the same, nor after a kernel oops or warning. runner and
    report (the RETRY line's printer) are for the harness's own test."""
    runner = runner or qemu_harness.run
    report = report or (lambda line: print(line, flush=True))
    kw.setdefault("smp", _default_smp())
    res = runner(**kw)
    if reset_before_init(res) and not QUIET.search(kw.get("append") or ""):
        log = kw.get("log")
        if log:
            os.replace(log, log + ".reset")
        report("RETRY boot/%s: the guest reset before its init ran; "
               "booting it once more" % current_case())
        res = runner(**kw)
        expect(not reset_before_init(res),
               "the guest reset twice before its init ran")
    return res


def boot(name, append, disks, script=(), timeout=90, initrd=None,
         extra_args=(), kernel=None, mem=1024, rng=True, smp=None, tpm=None):
    os.makedirs(LOGS, exist_ok=True)
    res = run_guest(
        kernel=kernel or KERNEL,
        initrd=initrd or INITRD,
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
        smp=smp or _default_smp(),
        **({"tpm": os.path.join(FIX, tpm)} if tpm else {}),
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


def free_port():
    """A TCP port on the loopback address that nothing listens on now, for
    QEMU to forward (cases run side by side: each asks for its own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user_net(port, guest_port=22):
    """QEMU arguments for a virtio NIC on QEMU's user networking: the
    guest gets its address from QEMU's own DHCP server (10.0.2.15), and
    host port port on 127.0.0.1 only is forwarded to guest_port.
    restrict=on: the guest reaches nothing on the host or beyond (the
    forwarding still works, and so does the DHCP server)."""
    return ["-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:%d"
            % (port, guest_port),
            "-device", "virtio-net-pci,netdev=n0"]


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


def expect_mapping_older_than(b, mapper, disk):
    """The kernel numbers every disk it makes, in order (diskseq, in the
    guest's report): the mapping named mapper has a lower number than
    disk, so it was made before that disk appeared and never made again."""
    dm = [r.split()[1] for r in b.results
          if re.match(r"dmdev dm-\d+ name=%s dev=" % re.escape(mapper), r)]
    seq = dict(re.match(r"diskseq (\S+)=(\d+)$", r).groups()
               for r in b.results if re.match(r"diskseq \S+=\d+$", r))
    expect(len(dm) == 1 and dm[0] in seq and disk in seq,
           "no disk sequence numbers for %s and %s: %s" % (mapper, disk, seq))
    expect(int(seq[dm[0]]) < int(seq[disk]),
           "%s (%s, disk #%s) was made after %s (disk #%s) appeared: opened "
           "again" % (mapper, dm[0], seq[dm[0]], disk, seq[disk]))


def scratch_path(path):
    """A name beside path that no other thread or process uses, for a file
    to be renamed over path when complete (cases run side by side)."""
    return "%s.%d.%d.tmp" % (path, os.getpid(), threading.get_ident())


def overlay_initrd(name, lines):
    """An extra cpio the kernel unpacks over the embedded initramfs. Named
    by its contents too: cases running side by side may build the same
    name with other lines."""
    d = os.path.join(BUILD, "overlays")
    os.makedirs(d, exist_ok=True)
    text = "".join(l + "\n" for l in lines)
    name += "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    lst = os.path.join(d, name + ".list")
    out = os.path.join(d, name + ".cpio.gz")
    tmp_lst, tmp_out = scratch_path(lst), scratch_path(out)
    with open(tmp_lst, "w") as f:
        f.write(text)
    kdir = open(os.path.join(BUILD, "kernel.dir")).read().strip()
    subprocess.run([os.path.join(HERE, "..", "scripts", "make-cpio.sh"),
                    kdir, tmp_lst, tmp_out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.replace(tmp_lst, lst)
    os.replace(tmp_out, out)
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


def run_case(fn):
    """Runs one case in this thread; prints its output and its verdict in
    one piece when it ends. Returns True if it passed."""
    _local.case, _local.buf = fn, io.StringIO()
    t0 = time.monotonic()
    try:
        fn()
        verdict, ok = "PASS boot/%s (%.1f s)" % (
            fn.__name__, time.monotonic() - t0), True
    except AssertionError as e:
        verdict, ok = "FAIL boot/%s: %s (log: %s/%s.log)" % (
            fn.__name__, e, LOGS, fn.__name__), False
    except Exception:
        verdict, ok = "FAIL boot/%s: harness error\n%s" % (
            fn.__name__, traceback.format_exc()), False
    text = _local.buf.getvalue()
    _local.case = _local.buf = None
    with _print_lock:
        sys.__stdout__.write(text + verdict + "\n")
        sys.__stdout__.flush()
    return ok


def main():
    # A filter is a substring of a case's name or of its module's.
    selected = [fn for fn in CASES
                if not FILTERS or any(f in fn.__name__ or f in fn.__module__
                                      for f in FILTERS)]
    print("PLAN %d" % len(selected), flush=True)
    sys.stdout = _CaseOutput(sys.__stdout__)
    side_by_side = [fn for fn in selected if not fn.serial and not fn.waits]
    waiting = [fn for fn in selected if fn.waits and not fn.serial]
    alone = [fn for fn in selected if fn.serial]
    with concurrent.futures.ThreadPoolExecutor(1) as lane, \
            concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        waited = lane.submit(lambda: [run_case(fn) for fn in waiting])
        results = list(pool.map(run_case, side_by_side))
        results += waited.result()
    results += [run_case(fn) for fn in alone]
    sys.stdout = sys.__stdout__
    passed = sum(results)
    failed = len(results) - passed
    print("boot: %d passed, %d failed (%d side by side in %d workers, %d in "
          "the waiting lane, %d alone)" % (passed, failed, len(side_by_side),
                                          JOBS, len(waiting), len(alone)))
    return 1 if failed else 0
