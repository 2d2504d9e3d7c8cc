"""QEMU harness for booting test kernels/initramfs images (stdlib only).

Used by the tests (``import qemu_harness``) and, through ``scripts/run-qemu``,
by people.

    from qemu_harness import run
    r = run("build/bzImage", disks=["a.img", "b.img"], append="root=...",
            log="boot.log", timeout=300,
            script=[(r"Passphrase.*: ", "secret\\n", 0)])
    assert r.status == 0 and "HELLO" in r.output

The guest's first serial port (ttyS0) is wired to this process through
pipes (``-chardev stdio``): console output is copied to stdout (``echo``) and
to the log file, raw and unbuffered, as it arrives; the script's texts (and,
in interactive mode, the user's keystrokes) are written to it.

Machine: ``-machine q35 -nodefaults -display none -monitor none -no-reboot``
and a QMP socket (``-qmp unix:...``) that the harness reads for the guest's
shutdown event and writes for script actions (``Qmp``: hot-plug a disk,
press a key),
with ``tpm=STATE_DIR`` a TPM 2.0 (``-device tpm-tis``) backed by an ``swtpm``
this harness starts on a copy of STATE_DIR, over a unix socket, and stops
after the boot (the state directory itself never changes),
``-cpu max`` under TCG (AES-NI, XSAVE, AVX exist) or ``-cpu host`` under KVM,
each disk as ``-drive file=IMG,format=raw,if=virtio,cache=unsafe`` (in order:
/dev/vda, /dev/vdb, ...), ``-device virtio-rng-pci`` (``rng=False``: no RNG
device, and a CPU without RDRAND/RDSEED, as on hardware with neither: the
kernel's RNG then initialises only from its own jitter entropy). The kernel command line
gets ``console=ttyS0`` prepended unless it already has ``console=``, and,
unless interactive, ``panic=-1`` unless it has ``panic=``: luksinit then
reboots at once on a failed boot, which ends the run (a reboot is never a
success: see ``Result.shutdown``). A kernel panic is seen on the console and
ends the run at once.

Acceleration (``accel="auto"``, the default; the environment variable
LUKSINIT_ACCEL=kvm|tcg overrides "auto"): KVM is used only if it really works.
On some hosts /dev/kvm exists but guests die under it (nested hypervisor
faults), so the given kernel is booted once under KVM with
``rdinit=/nonexistent-probe root=/dev/nonexistent``; KVM is chosen only if the
kernel gets all the way to "VFS: Unable to mount root fs" without an oops,
within 15 s. The verdict is cached in
``${LUKSINIT_CACHE:-/var/cache/luksinit}/kvm-verdict`` keyed by the host's
boot id and the QEMU version, so it is probed once per host boot. The chosen
accelerator is reported in one line on stderr.

Script steps are ``(regex, text, delay)`` (or ``(regex, text)``), processed in
order: once the console output since the previous step's match matches
``regex`` (``re.search``, multiline), ``text`` is sent after ``delay``
seconds (``None`` or "" sends nothing: the step only waits; a ``Qmp`` or a
list of them is sent to QEMU's monitor instead of the console; a ``Host``
runs a function on the host, say one that starts an SSH client while the
guest runs). The next step is looked for only after that. A marker may
also be a ``QemuMarker`` (QEMU's stderr) or a ``HostMarker`` (a function
on the host says when, e.g. once the SSH client showed a prompt). ``text`` is sent literally (a newline is
"\\n"); with ``char_delay`` it is typed one character at a time.
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import socket
import sys
import tempfile
import time
from typing import Iterable, Optional, Sequence

QEMU = os.environ.get("LUKSINIT_QEMU", "qemu-system-x86_64")
TIMEOUT_STATUS = 124
PANIC_STATUS = 125
PROBE_TIMEOUT = 15.0

_PANIC_RE = re.compile(r"Kernel panic - not syncing")
_BOOT_FAILED_RE = re.compile(r"luksinit: boot failed")
REBOOT_STATUS = 3
QMP_CONNECT_TIMEOUT = 10.0


@dataclasses.dataclass
class Result:
    """Outcome of one run.

    status       0 only if the guest powered off by itself (QMP SHUTDOWN,
                 reason guest-shutdown); 124 if the timeout hit (qemu was
                 killed), 125 if the guest kernel panicked, 3 if the guest
                 rebooted, else qemu's own exit status (1 if it was 0 without
                 a power-off; -N if qemu died of signal N).
    output       the whole console output (UTF-8, undecodable bytes replaced).
    timed_out    the hard timeout was hit.
    accel        "kvm" or "tcg".
    seconds      wall time of the qemu run.
    qemu_status  qemu's exit status (None if killed on timeout).
    panicked     "Kernel panic - not syncing" was seen.
    shutdown     "poweroff" / "reboot" / "panic" / None: QEMU's own SHUTDOWN
                 event (guest-shutdown, guest-reset), or the console's
                 "Kernel panic"; None if the guest never shut down.
    boot_failed  luksinit said "boot failed" at least once.
    qmp_errors   error replies to script actions sent over QMP.
    steps_done   how many script steps matched (and had their text sent).
    step_times   seconds from qemu's start to each step's match.
    qemu_stderr  what qemu wrote to stderr (also passed through to stderr).
    argv         the qemu command line used.
    """

    status: int
    output: str
    timed_out: bool
    accel: str
    seconds: float
    qemu_status: Optional[int] = None
    panicked: bool = False
    shutdown: Optional[str] = None
    boot_failed: bool = False
    qmp_errors: Sequence[str] = ()
    steps_done: int = 0
    step_times: Sequence[float] = ()
    qemu_stderr: str = ""
    argv: Sequence[str] = ()

    @property
    def ok(self) -> bool:
        """True if the guest powered off by itself (no reboot, panic, kill)."""
        return self.status == 0


@dataclasses.dataclass
class Qmp:
    """A QMP command to send as a script step's action, e.g.
    ``Qmp("device_add", driver="virtio-blk-pci", drive="hot0", bus="hp0")``."""

    command: str
    args: dict = dataclasses.field(default_factory=dict)

    def __init__(self, command: str, **args):
        self.command = command
        self.args = args

    def encode(self) -> bytes:
        msg = {"execute": self.command}
        if self.args:
            msg["arguments"] = self.args
        return (json.dumps(msg) + "\n").encode()


class QemuMarker:
    """A script step's marker that QEMU writes, not the guest: a regex
    looked for in QEMU's stderr, where its trace events go (``-trace
    NAME`` on the command line). For readiness the guest cannot print,
    e.g. its driver polling a device, while a prompt holds back the
    kernel's lines."""

    def __init__(self, pattern: str, whole: bool = False):
        """whole: look at all QEMU wrote, not only after the previous
        QemuMarker's match (a pattern may name an earlier line)."""
        self.rx = re.compile(pattern, re.M)
        self.whole = whole
        self.pattern = "QEMU stderr: " + pattern

    def search(self, text: str, pos: int):
        return self.rx.search(text, 0 if self.whole else pos)


class Again:
    """A script step's QMP action, sent when its marker matches and again
    every ``every`` seconds until the next step's marker matches: a probe
    repeated until the guest shows it arrived."""

    def __init__(self, action, every: float):
        self.action = [action] if isinstance(action, Qmp) else list(action)
        self.every = every


class Host:
    """A script step's action run on the host, in the harness's loop, when
    the step's marker matches: ``fn()`` must return at once (start a
    process or a thread, send a line to one). What it raises ends the run
    (QEMU is stopped) and is raised by ``run()``: an AssertionError there
    fails the test with its message."""

    def __init__(self, fn):
        self.fn = fn


class HostMarker:
    """A script step's marker that the host shows, not the guest: ``fn()``
    is asked every ``every`` seconds and the step matches once it returns
    true (e.g. an SSH client printed the prompt). What it raises ends the
    run as with ``Host``. ``what`` names it in the timeout's message."""

    def __init__(self, fn, what: str = "", every: float = 0.05):
        self.fn = fn
        self.every = every
        self.pattern = "host: " + (what or getattr(fn, "__name__", "?"))


def _note(msg: str) -> None:
    sys.stderr.write("run-qemu: %s\n" % msg)
    sys.stderr.flush()


def cache_dir() -> str:
    return os.environ.get("LUKSINIT_CACHE") or "/var/cache/luksinit"


def build_cmdline(append: str = "", interactive: bool = False) -> str:
    """The kernel command line actually used for ``append``."""
    parts = append.split()
    pre = []
    if not any(p.startswith("console=") for p in parts):
        pre.append("console=ttyS0")
    # A person at the console wants luksinit's emergency prompt instead.
    if not interactive and not any(p.startswith("panic=") for p in parts):
        pre.append("panic=-1")
    return " ".join(pre + ([append.strip()] if append.strip() else []))


def qemu_argv(kernel: str, initrd: Optional[str] = None, disks: Iterable[str] = (),
              append: str = "", mem: int = 1024, smp: int = 2, accel: str = "tcg",
              snapshot: bool = False, extra_args: Sequence[str] = (),
              qmp: Optional[str] = None, interactive: bool = False,
              rng: bool = True) -> list:
    """The qemu command line for the given settings (accel: "kvm" or "tcg");
    qmp: the path of a QMP socket for QEMU to listen on."""
    if accel not in ("kvm", "tcg"):
        raise ValueError("accel must be kvm or tcg here, not %r" % accel)
    cpu = "host" if accel == "kvm" else "max"
    if not rng:
        cpu += ",rdrand=off,rdseed=off"
    argv = [QEMU,
            "-machine", "q35", "-accel", accel,
            "-cpu", cpu,
            "-m", str(mem), "-smp", str(smp),
            "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot",
            "-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0",
            *(["-device", "virtio-rng-pci"] if rng else []),
            "-kernel", kernel, "-append", build_cmdline(append, interactive)]
    if qmp:
        argv += ["-qmp", "unix:%s,server=on,wait=off" % qmp]
    if initrd:
        argv += ["-initrd", initrd]
    for d in disks:
        if "," in d:
            raise ValueError("disk path must not contain ',': %r" % d)
        argv += ["-drive", "file=%s,format=raw,if=virtio,cache=unsafe" % d]
    if snapshot:
        argv.append("-snapshot")
    argv += list(extra_args)
    return argv


# --------------------------------------------------------------------------
# KVM detection

def _qemu_version() -> str:
    try:
        out = subprocess.run([QEMU, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10, check=False).stdout
        return out.decode("utf-8", "replace").splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def probe_kvm(kernel: str, timeout: float = PROBE_TIMEOUT) -> tuple:
    """Boot ``kernel`` under KVM to the root-mount panic. Returns (ok, reason)."""
    if not os.path.exists("/dev/kvm"):
        return False, "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm not accessible"
    res = _run_qemu(qemu_argv(kernel, append="rdinit=/nonexistent-probe root=/dev/nonexistent",
                              mem=256, smp=1, accel="kvm"),
                    accel="kvm", timeout=timeout, echo=False, log=None, script=(),
                    char_delay=0.0, interactive=False, quiet=True)
    out = res.output
    last = (out.strip().splitlines() or [""])[-1][-120:]
    err = res.qemu_stderr.strip().splitlines()
    if res.timed_out:
        return False, "KVM probe timed out after %gs (last console line: %r)" % (timeout, last)
    if "Linux version" not in out:
        return False, "no kernel output under KVM; qemu exited %s%s" % (
            res.qemu_status, " (%s)" % err[0] if err else "")
    bad = re.search(r"Oops|general protection fault|invalid opcode|Fatal exception|BUG: ", out)
    if bad:
        return False, "guest kernel crashed under KVM: %r" % _line_at(out, bad.start())
    if not re.search(r"VFS: Unable to mount root fs|No working init found|Run /", out):
        return False, "kernel did not get to mounting root under KVM (qemu status %s, " \
                      "last console line: %r%s)" % (res.qemu_status, last,
                                                    ", stderr: " + err[0] if err else "")
    if res.qemu_status != 0:
        return False, "qemu exited %s under KVM" % res.qemu_status
    return True, "kernel booted to the root-mount panic under KVM in %.1fs" % res.seconds


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start:end if end >= 0 else None].strip()


def choose_accel(accel: str, kernel: str, verbose: bool = True) -> str:
    """Resolve "auto" (or LUKSINIT_ACCEL) to "kvm" or "tcg"; report on stderr."""
    if accel == "auto":
        env = os.environ.get("LUKSINIT_ACCEL", "").strip()
        if env and env != "auto":
            accel = env
            if accel not in ("kvm", "tcg"):
                raise ValueError("LUKSINIT_ACCEL must be kvm, tcg or auto, not %r" % env)
            if verbose:
                _note("accelerator: %s (from LUKSINIT_ACCEL)" % accel)
            return accel
    if accel in ("kvm", "tcg"):
        if verbose:
            _note("accelerator: %s (requested)" % accel)
        return accel
    if accel != "auto":
        raise ValueError("accel must be auto, kvm or tcg, not %r" % accel)

    if not os.path.exists("/dev/kvm"):
        verdict, reason, cached = "tcg", "no /dev/kvm", False
    else:
        verdict, reason, cached = _cached_verdict(kernel)
    if verbose:
        _note("accelerator: %s (auto%s: %s)" % (verdict, ", cached" if cached else "", reason))
    return verdict


def _cached_verdict(kernel: str) -> tuple:
    key = "%s|%s" % (_boot_id(), _qemu_version())
    path = os.path.join(cache_dir(), "kvm-verdict")

    def read():
        try:
            with open(path) as f:
                d = json.load(f)
            if d.get("key") == key and d.get("accel") in ("kvm", "tcg"):
                return d["accel"], d.get("reason", "")
        except (OSError, ValueError, AttributeError):
            pass
        return None

    hit = read()
    if hit:
        return hit[0], hit[1], True
    lock = None
    try:
        os.makedirs(cache_dir(), exist_ok=True)
        lock = open(path + ".lock", "a")
        fcntl.flock(lock, fcntl.LOCK_EX)  # one prober at a time
        hit = read()
        if hit:
            return hit[0], hit[1], True
    except OSError:
        pass  # cache not writable: probe without caching
    try:
        ok, reason = probe_kvm(kernel)
        verdict = "kvm" if ok else "tcg"
        try:
            tmp = "%s.tmp.%d" % (path, os.getpid())
            with open(tmp, "w") as f:
                json.dump({"key": key, "accel": verdict, "reason": reason,
                           "kernel": os.path.abspath(kernel),
                           "probed": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, f)
                f.write("\n")
            os.replace(tmp, path)
        except OSError:
            pass
        return verdict, reason, False
    finally:
        if lock:
            lock.close()


# --------------------------------------------------------------------------
# running

def run(kernel: str, initrd: Optional[str] = None, disks: Iterable[str] = (),
        append: str = "", log: Optional[str] = None, timeout: Optional[float] = 120,
        mem: int = 1024, smp: int = 2, script: Iterable = (), accel: str = "auto",
        echo: bool = True, char_delay: float = 0.0, interactive: bool = False,
        snapshot: bool = False, extra_args: Sequence[str] = (),
        rng: bool = True, tpm: Optional[str] = None) -> Result:
    """Boot ``kernel`` in QEMU, drive the serial console, return a Result.

    kernel, initrd   bzImage and optional external initramfs (-initrd).
    disks            raw images, attached as /dev/vda, /dev/vdb, ... (writable;
                     ``snapshot=True`` keeps them unmodified).
    append           kernel command line (see build_cmdline()).
    log              file the raw console output is written to (truncated).
    timeout          hard limit in seconds for the qemu run (None/0: none);
                     on expiry qemu is killed and status is 124.
    script           [(regex, text, delay), ...], see the module doc.
    accel            "auto", "kvm" or "tcg".
    echo             copy console output to stdout as it arrives.
    char_delay       if > 0, type texts one character at a time, this many
                     seconds apart.
    interactive      also pass this process's terminal (stdin) to the
                     console, in raw mode; Ctrl-A x quits, Ctrl-A a sends Ctrl-A.
    extra_args       more qemu arguments.
    rng              attach virtio-rng (False: none, and no RDRAND/RDSEED).
    tpm              a swtpm state directory: the guest gets a TPM 2.0 on a
                     copy of it (swtpm is stopped after the boot).
    """
    for p in [kernel, initrd, *disks]:
        if p and not os.path.exists(p):
            raise FileNotFoundError("no such file: %s" % p)
    if not shutil.which(QEMU):
        raise FileNotFoundError("%s not found (apt-get install qemu-system-x86)" % QEMU)
    chosen = choose_accel(accel, kernel)
    qmp_dir = tempfile.mkdtemp(prefix="luksinit-qmp-")
    qmp = os.path.join(qmp_dir, "qmp.sock")
    swtpm = None
    try:
        extra = list(extra_args)
        if tpm:
            swtpm, tpm_args = _start_swtpm(tpm, qmp_dir)
            extra = tpm_args + extra
        argv = qemu_argv(kernel, initrd=initrd, disks=disks, append=append, mem=mem,
                         smp=smp, accel=chosen, snapshot=snapshot, extra_args=extra,
                         qmp=qmp, interactive=interactive, rng=rng)
        return _run_qemu(argv, accel=chosen, timeout=timeout, echo=echo, log=log,
                         script=script, char_delay=char_delay, interactive=interactive,
                         qmp=qmp)
    finally:
        if swtpm:
            _kill(swtpm)
        shutil.rmtree(qmp_dir, ignore_errors=True)


def _normalize_script(script) -> list:
    steps = []
    for step in script:
        step = tuple(step)
        if len(step) == 2:
            rx, text, delay = step[0], step[1], 0.0
        elif len(step) == 3:
            rx, text, delay = step
        else:
            raise ValueError("script step must be (regex, text[, delay]): %r" % (step,))
        if isinstance(rx, str):
            rx = re.compile(rx, re.M)
        elif not hasattr(rx, "search") and not isinstance(rx, HostMarker):
            raise ValueError("script step marker must be a regex: %r" % (rx,))
        if isinstance(text, (Qmp, Again, Host)):
            text = [text]
        if not isinstance(text, list):
            text = (text or "").encode("utf-8")
        steps.append((rx, text, float(delay or 0)))
    return steps


SWTPM_WAIT = 5.0  # seconds for swtpm's control socket to appear


def _start_swtpm(state: str, workdir: str):
    """An swtpm on a copy of the TPM state directory state, in workdir;
    returns (process, QEMU's arguments for a tpm-tis device on it)."""
    if not shutil.which("swtpm"):
        raise FileNotFoundError("swtpm not found (apt-get install swtpm)")
    copy = os.path.join(workdir, "tpmstate")
    shutil.copytree(state, copy)
    sock = os.path.join(workdir, "swtpm.sock")
    proc = subprocess.Popen(
        ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + copy,
         "--ctrl", "type=unixio,path=" + sock, "--terminate"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + SWTPM_WAIT
    while not os.path.exists(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            _kill(proc)
            raise RuntimeError("swtpm did not start (state %s)" % state)
        time.sleep(0.05)
    return proc, ["-chardev", "socket,id=chrtpm,path=" + sock,
                  "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                  "-device", "tpm-tis,tpmdev=tpm0"]


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except OSError:
        pass


class _QmpClient:
    """QEMU's monitor over its unix socket: events in, script actions out."""

    def __init__(self, path: str, proc: subprocess.Popen):
        deadline = time.monotonic() + QMP_CONNECT_TIMEOUT
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.sock.close()
                    raise
                time.sleep(0.05)
        self.sock.settimeout(QMP_CONNECT_TIMEOUT)
        self.buf = b""
        self._line()  # greeting
        self.sock.sendall(Qmp("qmp_capabilities").encode())
        self._line()
        self.sock.setblocking(False)
        self.shutdown_reason = None
        self.errors = []

    def _line(self) -> bytes:
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise OSError("QMP connection closed")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, cmd: Qmp) -> None:
        self.sock.setblocking(True)
        try:
            self.sock.sendall(cmd.encode())
        finally:
            self.sock.setblocking(False)

    def readable(self) -> bool:
        """Reads what arrived; False once QEMU closed the socket."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        self.buf += data
        while b"\n" in self.buf:
            line, _, self.buf = self.buf.partition(b"\n")
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("event") == "SHUTDOWN" and self.shutdown_reason is None:
                self.shutdown_reason = msg.get("data", {}).get("reason")
            elif "error" in msg:
                self.errors.append(msg["error"].get("desc", str(msg["error"])))
        return True

    def close(self) -> None:
        self.sock.close()


# QEMU's SHUTDOWN reasons, as the kind of shutdown the guest asked for.
_SHUTDOWN_KINDS = {"guest-shutdown": "poweroff", "guest-reset": "reboot",
                   "guest-panic": "panic"}


def _run_qemu(argv, accel, timeout, echo, log, script, char_delay, interactive,
              quiet=False, qmp=None) -> Result:
    steps = _normalize_script(script)
    start = time.monotonic()
    deadline = start + timeout if timeout else None

    if interactive and not os.isatty(sys.stdin.fileno()):
        raise RuntimeError("interactive mode needs a terminal on stdin")
    out_fd = sys.stdout.fileno() if echo else None
    tty_fd = None
    tty_saved = None
    text_parts = []
    text = ""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    err_buf = bytearray()
    step_i = 0
    step_times = []
    search_from = 0
    err_from = 0            # the same, in QEMU's stderr (QemuMarker)
    again = again_at = None  # an Again action and when it is sent next
    send_at = None          # when the pending text may start
    pending = b""           # bytes of the current step's text still to send
    ctrl_a = False
    timed_out = False
    quit_requested = False

    logf = open(log, "wb") if log else None
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, close_fds=True,
                                start_new_session=interactive)
    except BaseException:
        if logf:
            logf.close()
        raise
    qmpc = qmpc_closed = None
    try:
        if qmp:
            try:
                qmpc = _QmpClient(qmp, proc)
            except OSError as e:
                if not quiet:
                    _note("no QMP connection (%s); the kind of shutdown is unknown" % e)
        if interactive:
            import termios
            import tty
            tty_fd = sys.stdin.fileno()
            tty_saved = termios.tcgetattr(tty_fd)
            tty.setraw(tty_fd)
            os.write(sys.stderr.fileno(), b"run-qemu: interactive console; Ctrl-A x quits\r\n")
        out_r = proc.stdout.fileno()
        err_r = proc.stderr.fileno()
        in_w = proc.stdin.fileno()
        for fd in (out_r, err_r):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        open_fds = {out_r, err_r}
        panic_grace = None  # after a kernel panic: time to print its trace

        def send_qmp(cmd: Qmp) -> None:
            if qmpc:
                qmpc.send(cmd)
            else:
                _note("cannot send %s: no QMP connection" % cmd.command)

        def send(data: bytes) -> None:
            try:
                os.write(in_w, data)
            except OSError as e:
                if e.errno != errno.EPIPE:
                    raise

        while open_fds:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                timed_out = True
                break
            if panic_grace is not None and now >= panic_grace:
                break

            # scripted sending
            if send_at is not None and now >= send_at:
                if isinstance(pending, list):
                    for cmd in pending:
                        if isinstance(cmd, Host):
                            cmd.fn()
                            continue
                        if isinstance(cmd, Again):
                            again, again_at = cmd, now + cmd.every
                        for c in (cmd.action if isinstance(cmd, Again) else [cmd]):
                            send_qmp(c)
                    pending = b""
                    send_at = None
                    step_i += 1
                elif char_delay > 0 and len(pending) > 1:
                    send(pending[:1])
                    pending = pending[1:]
                    send_at = now + char_delay
                else:
                    if pending:
                        send(pending)
                    pending = b""
                    send_at = None
                    step_i += 1
                continue

            if again is not None and now >= again_at:
                for c in again.action:
                    send_qmp(c)
                again_at = now + again.every
                continue

            # scripted matching
            if send_at is None and step_i < len(steps):
                rx = steps[step_i][0]
                on_qemu = isinstance(rx, QemuMarker)
                if isinstance(rx, HostMarker):
                    m = bool(rx.fn())
                elif on_qemu:
                    m = rx.search(err_buf.decode("utf-8", "replace"), err_from)
                else:
                    m = rx.search(text, search_from)
                if m is True:
                    pass
                elif m and on_qemu:
                    err_from = m.end()
                elif m:
                    search_from = m.end()
                if m:
                    again = None
                    step_times.append(now - start)
                    pending = steps[step_i][1]
                    send_at = now + steps[step_i][2]
                    continue

            waits = []
            if deadline is not None:
                waits.append(deadline - now)
            if panic_grace is not None:
                waits.append(panic_grace - now)
            if send_at is not None:
                waits.append(send_at - now)
            if again is not None:
                waits.append(again_at - now)
            if (send_at is None and step_i < len(steps) and
                    isinstance(steps[step_i][0], HostMarker)):
                waits.append(steps[step_i][0].every)
            wait = max(0.0, min(waits)) if waits else None
            rlist = list(open_fds) + ([tty_fd] if tty_fd is not None else [])
            if qmpc:
                rlist.append(qmpc.fileno())
            try:
                ready, _, _ = select.select(rlist, [], [], wait)
            except InterruptedError:
                continue

            for fd in ready:
                if qmpc and fd == qmpc.fileno():
                    if not qmpc.readable():
                        qmpc.close()
                        qmpc_closed = qmpc
                        qmpc = None
                    continue
                if fd == tty_fd:
                    data = os.read(tty_fd, 4096)
                    if not data:
                        tty_fd = None
                        continue
                    outb = bytearray()
                    for b in data:
                        if ctrl_a:
                            ctrl_a = False
                            if b in (ord("x"), ord("X")):
                                quit_requested = True
                                break
                            if b not in (1, ord("a")):
                                outb.append(1)
                            outb.append(b if b != ord("a") else 1)
                        elif b == 1:
                            ctrl_a = True
                        else:
                            outb.append(b)
                    if outb:
                        send(bytes(outb))
                    continue
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    open_fds.discard(fd)
                    continue
                if fd == err_r:
                    err_buf += data
                    if not quiet:
                        os.write(sys.stderr.fileno(), data)
                    continue
                if out_fd is not None:
                    try:
                        _write_all(out_fd, data)
                    except BrokenPipeError:
                        out_fd = None  # reader went away: stop echoing
                if logf:
                    logf.write(data)
                    logf.flush()
                chunk = decoder.decode(data)
                if chunk:
                    text_parts.append(chunk)
                    text = text + chunk if step_i < len(steps) else text
                    if panic_grace is None and _PANIC_RE.search(
                            "".join(text_parts[-2:])):
                        panic_grace = time.monotonic() + 2.0
            if quit_requested:
                break

        if timed_out or quit_requested or panic_grace is not None:
            _kill(proc)
        qemu_status = proc.wait() if not timed_out else None
        if timed_out:
            proc.wait()
        if qmpc:  # the SHUTDOWN event may still be unread
            qmpc.sock.settimeout(1.0)
            try:
                while qmpc.shutdown_reason is None and qmpc.readable():
                    pass
            except OSError:
                pass
    finally:
        _kill(proc)
        if qmpc:
            qmpc.close()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        if tty_saved is not None:
            import termios
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, tty_saved)
        if logf:
            logf.close()

    seconds = time.monotonic() - start
    text_parts.append(decoder.decode(b"", final=True))
    output = "".join(text_parts)
    panicked = bool(_PANIC_RE.search(output))
    client = qmpc or qmpc_closed
    reason = client.shutdown_reason if client else None
    shutdown = "panic" if panicked else _SHUTDOWN_KINDS.get(reason)
    if timed_out:
        status = TIMEOUT_STATUS
        if not quiet:
            waiting = ""
            if step_i < len(steps):
                waiting = "; script step %d (%r) never matched" % (
                    step_i + 1, steps[step_i][0].pattern)
            _note("TIMEOUT after %gs: killed qemu%s" % (timeout, waiting))
    elif panicked:
        status = PANIC_STATUS
    elif quit_requested:
        status = 0
    elif qemu_status is None:
        status = 1
    elif qemu_status != 0:
        status = qemu_status
    elif shutdown == "reboot":
        status = REBOOT_STATUS
    else:
        status = 0 if shutdown == "poweroff" else 1
    return Result(status=status, output=output, timed_out=timed_out, accel=accel,
                  seconds=seconds, qemu_status=qemu_status, panicked=panicked,
                  shutdown=shutdown, boot_failed=bool(_BOOT_FAILED_RE.search(output)),
                  qmp_errors=list(client.errors) if client else [],
                  steps_done=step_i, step_times=step_times,
                  qemu_stderr=err_buf.decode("utf-8", "replace"), argv=list(argv))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[n:]
