"""The host's side of the SSH unlock tests (issue 27): keys the test makes,
the initramfs overlay that adds dropbear, and the host's OpenSSH client
run against QEMU's forwarded loopback port while the guest boots.

Every client run checks the server's identity (the initramfs's own host
key, in a known_hosts file of the test's) and is bounded in time."""
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import threading
import time

from .lib import BUILD, HERE, expect, overlay_initrd

ROOT = os.path.dirname(HERE)

# The name the host key is known by in known_hosts, whatever the port.
ALIAS = "luksinit-test"
# One client run, its handshake with dropbear under TCG included.
RUN_TIMEOUT = 30
# What /init says once it has started dropbear and knows the address
# (QEMU's DHCP server gives the guest 10.0.2.15).
LISTENING = r"luksinit: SSH unlock: listening on 10\.0\.2\.15 port 22 \(eth0\)"
HANDOVER = "luksinit: handing over to the real init; closing this session"
# From /init's listening line to dropbear's answer.
ANSWER_BOUND = 10
# The flood's connections, all made at once.
FLOOD_CONNECT = 30


def _tool(name):
    path = os.path.join(BUILD, name)
    expect(os.access(path, os.X_OK),
           "%s is missing (make builds it with dropbear)" % path)
    return path


def _ssh_list():
    """The documented list (ssh.list), as a user adds it."""
    with open(os.path.join(ROOT, "ssh.list")) as f:
        return f.read()


def _keygen(d, name):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                    "luksinit-test-" + name, "-f", os.path.join(d, name)],
                   check=True, stdout=subprocess.DEVNULL, timeout=30)
    return os.path.join(d, name)


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Keys:
    """A case's keys in a directory of its own: the client's key pair (in
    authorized_keys), a stranger's (not in it), the initramfs's host key
    made by dropbearkey, and a known_hosts file naming that host key."""

    def __init__(self, case):
        self.dir = os.path.join(BUILD, "ssh-test", case)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir, mode=0o700)
        self.client = _keygen(self.dir, "client")
        self.stranger = _keygen(self.dir, "stranger")
        self.host_key = os.path.join(self.dir, "dropbear_ed25519_host_key")
        keygen = _tool("dropbearkey")
        subprocess.run([keygen, "-t", "ed25519", "-f", self.host_key],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
        out = subprocess.run([keygen, "-y", "-f", self.host_key], check=True,
                             stdout=subprocess.PIPE, timeout=30).stdout.decode()
        pub = re.search(r"^(ssh-ed25519 \S+)", out, re.M)
        expect(pub, "dropbearkey -y printed no ed25519 public key: %r" % out)
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        _write(self.known_hosts, "%s %s\n" % (ALIAS, pub.group(1)))
        with open(self.client + ".pub") as f:
            _write(os.path.join(self.dir, "authorized_keys"), f.read(), 0o600)

    def overlay(self):
        """The files of the documented list (ssh.list at the top of the
        tree, its ${VAR}s naming build/ and this case's keys), unpacked
        over the test kernel's initramfs; and a busybox /bin/sh beside
        them, so that a shell that ran a client's command would show."""
        lines = [l.strip() for l in _ssh_list().splitlines()]
        lines = [l.replace("${LUKSINIT_BUILD}", BUILD)
                 .replace("${LUKSINIT_SSH}", self.dir)
                 for l in lines if l and not l.startswith("#")]
        for l in lines:
            expect("${" not in l, "ssh.list names a variable the test does "
                   "not set: " + l)
            if l.startswith("file "):
                expect(os.path.exists(l.split()[2]), "ssh.list names a "
                       "missing file (make builds it): " + l)
        return overlay_initrd("ssh", lines + [
            "file /bin/busybox /bin/busybox 0755 0 0",
            "slink /bin/sh busybox 0777 0 0"])

    def argv(self, port, key="client", args=(), command=()):
        """The host's ssh with no configuration of the user's or the
        machine's, checking the host key; key None: no key at all."""
        a = ["ssh", "-F", "/dev/null", "-p", str(port), "-T",
             "-o", "StrictHostKeyChecking=yes",
             "-o", "UserKnownHostsFile=" + self.known_hosts,
             "-o", "GlobalKnownHostsFile=/dev/null",
             "-o", "HostKeyAlias=" + ALIAS, "-o", "CheckHostIP=no",
             "-o", "UpdateHostKeys=no", "-o", "IdentityAgent=none",
             "-o", "ControlPath=none", "-o", "ConnectTimeout=20"]
        if key:
            a += ["-o", "IdentitiesOnly=yes", "-i", getattr(self, key)]
        if "BatchMode=no" not in args:
            a += ["-o", "BatchMode=yes"]
        return a + list(args) + ["root@127.0.0.1"] + list(command)

    def run(self, port, key="client", args=(), command=(), env=None,
            timeout=RUN_TIMEOUT):
        """One client run to its end: (exit status or None if it was still
        running after timeout seconds, stdout, stderr)."""
        p = subprocess.Popen(self.argv(port, key, args, command),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             env=dict(os.environ, **(env or {})))
        try:
            out, err = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            rc = None
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8",
                                                              "replace")


def remove_overlay(path):
    """An overlay made for one boot's keys (made anew each run): gone
    after the boot."""
    for p in (path, path[:-len(".cpio.gz")] + ".list"):
        try:
            os.remove(p)
        except OSError:
            pass


def wait_answering(port, bound=ANSWER_BOUND):
    """Until the server behind the forwarded port sends its SSH version
    line: /init's "listening on" line may come a moment before dropbear
    has its socket (QEMU then resets the connection)."""
    deadline = time.monotonic() + bound
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), 2) as s:
                s.settimeout(2)
                if s.recv(4) == b"SSH-":
                    return
        except OSError:
            pass
        expect(time.monotonic() < deadline, "nothing answered SSH on the "
               "forwarded port %d s after the listening line" % bound)
        time.sleep(0.1)


class Session:
    """An ssh session in the background (started by a script step), its
    output collected as it arrives, for markers to look at. tty: on a
    terminal of its own, as a person runs ssh -t (what the man page
    says to do): the session's pty must then keep what is typed off the
    screen, since ssh puts the local terminal in raw mode and echoes
    nothing itself."""

    def __init__(self, keys, port, command=(), tty=False):
        self.argv = keys.argv(port, command=command)
        if tty:
            self.argv[self.argv.index("-T")] = "-tt"
        self.tty = tty
        self.master = None
        self.proc = None
        self.out = b""
        self.err = b""
        self.lock = threading.Lock()
        self.readers = []

    def start(self):
        if self.tty:
            self.master, slave = pty.openpty()
            self.proc = subprocess.Popen(self.argv, stdin=slave,
                                         stdout=slave,
                                         stderr=subprocess.PIPE)
            os.close(slave)
            outputs = ((self.master, "out"), (self.proc.stderr, "err"))
        else:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
            outputs = ((self.proc.stdout, "out"), (self.proc.stderr, "err"))
        for stream, attr in outputs:
            t = threading.Thread(target=self._read, args=(stream, attr),
                                 daemon=True)
            t.start()
            self.readers.append(t)

    def _read(self, stream, attr):
        while True:
            try:
                data = (os.read(stream, 4096) if isinstance(stream, int)
                        else stream.read1(4096))
            except OSError:  # EIO: the terminal's other side closed
                data = b""
            if not data:
                return
            with self.lock:
                setattr(self, attr, getattr(self, attr) + data)

    def text(self):
        with self.lock:
            return self.out.decode("utf-8", "replace")

    def errors(self):
        with self.lock:
            return self.err.decode("utf-8", "replace")

    def seen(self, pattern):
        """pattern is in what the session showed; a client that ended
        without it fails the test at once, with what it said."""
        if re.search(pattern, self.text()):
            return True
        expect(self.proc and self.proc.poll() is None,
               "the ssh session ended (status %s) before showing %r: %r %r"
               % (self.proc and self.proc.returncode, pattern, self.text(),
                  self.errors()))
        return False

    def send(self, text):
        """A line typed: Enter is a carriage return on a terminal."""
        if self.tty:
            os.write(self.master, text.replace("\n", "\r").encode())
            return
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def ended(self):
        """The client exited and all it printed was read."""
        return (self.proc is not None and self.proc.poll() is not None and
                not any(t.is_alive() for t in self.readers))

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()
            for t in self.readers:
                t.join(5)
        if self.master is not None:
            os.close(self.master)
            self.master = None


class Background:
    """fn run in a thread of its own (started by a script step, so the
    harness goes on reading the console); done() is a HostMarker's
    function: true once fn returned, and raises what fn raised."""

    def __init__(self, fn):
        self.fn = fn
        self.error = None
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.fn()
        except BaseException as e:  # handed to the harness's loop
            self.error = e

    def done(self):
        if self.thread is None or self.thread.is_alive():
            return False
        if self.error:
            raise self.error
        return True


class Flood:
    """n TCP connections to the forwarded port that never say anything,
    kept open until close()."""

    def __init__(self, port, n=50):
        self.port = port
        self.n = n
        self.socks = []
        self.opener = Background(self._open)

    def _open(self):
        """All at once: QEMU accepts few at a time, and one by one each
        refused SYN would cost its second."""
        for _ in range(self.n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            self.socks.append(s)
        deadline = time.monotonic() + FLOOD_CONNECT
        pending = list(self.socks)
        while pending:
            left = deadline - time.monotonic()
            expect(left > 0, "%d of %d connections to the forwarded port not "
                   "made in %d s" % (len(pending), self.n, FLOOD_CONNECT))
            _, ready, _ = select.select([], pending, [], left)
            for s in ready:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                expect(err == 0, "a connection to the forwarded port "
                       "failed: %s" % os.strerror(err))
                pending.remove(s)

    def banners(self):
        """How many connections the guest answered with its SSH version
        line: the flood reached dropbear."""
        n = 0
        for s in self.socks:
            try:
                n += s.recv(8, socket.MSG_PEEK).startswith(b"SSH-")
            except OSError:
                pass
        return n

    def served(self):
        """All n connected and the guest answered at least one."""
        return self.opener.done() and self.banners() > 0

    def close(self):
        for s in self.socks:
            s.close()
