"""SSH unlock (issue 27): the host's ssh client against dropbear in the
initramfs, over QEMU's user networking (the guest's port 22 forwarded from
127.0.0.1 only), while the console prompt waits."""
import os
import re

from qemu_harness import Host, HostMarker

from . import sshkit
from .lib import (FX, PASS, SHARED_PROMPT, assert_array, boot, case, expect,
                  free_port, luks_uuid, user_net)
from .sshkit import HANDOVER, LISTENING

# The kernel configures eth0 itself (CONFIG_IP_PNP), from QEMU's DHCP.
CRYPT3 = ("root=UUID=%s rootflags=subvol=@root " % FX["CRYPT3_UUID"] +
          " ".join("rd.luks.uuid=%s" % luks_uuid("CRYPT3", i)
                   for i in range(3)) + " ip=dhcp")
DISKS = ["crypt3-a.img", "crypt3-b.img", "crypt3-c.img"]
TRIES = "no key available with this passphrase (2 tries left)"
# A command the client sends; a shell that ran it would print 42.
COMMAND = ["echo", "SHELL-RAN-$((6*7))"]
# From the console's answer to the first member unlocked (under 1 s
# unloaded): the flood must not hold the console up; dropbear drops a
# client that never authenticates only after 20 s (AUTH_TIMEOUT).
UNLOCK_BOUND = 10


def refusals(keys, port):
    """What the server refuses, one client run each, before the unlock."""
    rc, _, err = keys.run(port, key="stranger", command=["true"])
    expect(rc == 255 and "Permission denied (publickey)." in err,
           "a key not in authorized_keys was not refused (%s): %r" % (rc, err))
    asked = os.path.join(keys.dir, "password-asked")
    askpass = os.path.join(keys.dir, "askpass")
    with open(askpass, "w") as f:
        f.write("#!/bin/sh\ntouch '%s'\necho not-the-passphrase\n" % asked)
    os.chmod(askpass, 0o700)
    rc, _, err = keys.run(
        port, key=None, command=["true"],
        args=["-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
              "-o", "PreferredAuthentications=password,keyboard-interactive",
              "-o", "NumberOfPasswordPrompts=1"],
        env={"SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force"})
    # The methods in parentheses are the server's: publickey alone.
    expect(rc == 255 and "Permission denied (publickey)." in err and
           not os.path.exists(asked),
           "a password was asked for or accepted (%s): %r" % (rc, err))
    rc, _, err = keys.run(port, args=["-W", "127.0.0.1:22"])
    expect(rc == 255 and "open failed" in err,
           "forwarding to a port (ssh -W) was not refused (%s): %r"
           % (rc, err))
    rc, _, err = keys.run(port, timeout=15, args=[
        "-N", "-o", "ExitOnForwardFailure=yes",
        "-R", "127.0.0.1:2222:127.0.0.1:22"])
    expect(rc == 255 and "remote port forwarding failed" in err,
           "a remote port forwarding (ssh -R) was not refused (%s): %r"
           % (rc, err))


def expect_closed_up(b, netif):
    """The booted system's view: no dropbear, no unlock client, port 22
    closed, eth0 as left."""
    for comm in ("dropbear", "luksinit-unlock"):
        expect(b.has_result("procs-named %s=0" % comm),
               "%s still runs in the booted system: %s"
               % (comm, b.result("procs-named %s=" % comm)))
    listen = b.result("tcp-listen=")
    expect(listen != "tcp-listen=unreadable" and
           not re.search(r":22(\s|$)", listen),
           "port 22 still listens in the booted system: " + listen)
    expect(b.has_result(netif), "eth0 not left as documented: expected "
           "%r, got %s" % (netif, b.result("netif eth0 ")))


def expect_all_steps(b, steps):
    expect(b.res.steps_done == len(steps),
           "the script stopped waiting for step %d of %d: %s"
           % (b.res.steps_done + 1, len(steps),
              getattr(steps[b.res.steps_done][0], "pattern",
                      steps[b.res.steps_done][0])
              if b.res.steps_done < len(steps) else "-"))


def unlocked_by_ssh_steps(keys, port, session):
    checks = sshkit.Background(lambda: (sshkit.wait_answering(port),
                                        refusals(keys, port)))
    return [
        (LISTENING, Host(checks.start)),
        (HostMarker(checks.done, "refusals checked"), Host(session.start)),
        (HostMarker(lambda: session.seen(SHARED_PROMPT), "session prompt"),
         Host(lambda: session.send("wrong-pass\n"))),
        (HostMarker(lambda: session.seen(re.escape(TRIES) + r"[\s\S]*" +
                                         SHARED_PROMPT),
                    "tries left, then the prompt again in the session"),
         Host(lambda: session.send(PASS + "\n"))),
        (HostMarker(session.ended, "the session closed"), None),
        (r"RESULT done", None)]


@case
def ssh_one_passphrase_opens_three_members_console_untouched():
    name = "ssh_one_passphrase_opens_three_members_console_untouched"
    port = free_port()
    keys = sshkit.Keys(name)
    # On a terminal, as a person connects (ssh -t): what is typed must
    # not be shown by the session's own terminal either.
    session = sshkit.Session(keys, port, command=COMMAND, tty=True)
    steps = unlocked_by_ssh_steps(keys, port, session)
    initrd = keys.overlay()
    try:
        b = boot(name, CRYPT3, DISKS, script=steps, timeout=60,
                 initrd=initrd, extra_args=user_net(port))
    finally:
        session.close()
        sshkit.remove_overlay(initrd)
    expect_all_steps(b, steps)
    assert_array(b, "CRYPT3", 3)
    seen = session.text()
    prompt = re.search(SHARED_PROMPT + r"|$", seen).group(0)
    expect(prompt.startswith("Passphrase for 3 encrypted disks") and
           all("luks-" + luks_uuid("CRYPT3", i) in prompt for i in range(3)),
           "the session's prompt does not name the three members: %r"
           % prompt)
    expect("SHELL-RAN" not in seen + b.out,
           "the client's command ran in a shell: %r" % seen)
    expect(seen.count(TRIES) == 3 and b.out.count(TRIES) == 3,
           "the wrong passphrase did not cost each member one try, in the "
           "session and on the console alike: %r" % seen)
    expect("unlocked (keyslot" in seen and HANDOVER in seen,
           "the session did not see the progress and the hand-over: %r"
           % seen)
    expect(PASS not in seen and "wrong-pass" not in seen + b.out,
           "a passphrase was shown")
    # Nothing was typed on the console: the session's answer went there.
    expect(re.search(r"\(answered on ssh-\d+\)", b.out),
           "the console did not see the session's answer")
    expect_closed_up(b, "netif eth0 up=0 addr=")


@case
def ssh_session_sees_console_answer_despite_unauthenticated_flood():
    name = "ssh_session_sees_console_answer_despite_unauthenticated_flood"
    port = free_port()
    keys = sshkit.Keys(name)
    session = sshkit.Session(keys, port)
    flood = sshkit.Flood(port)
    ready = sshkit.Background(lambda: sshkit.wait_answering(port))
    steps = [
        (LISTENING, Host(ready.start)),
        (HostMarker(ready.done, "dropbear answers"), Host(session.start)),
        (HostMarker(lambda: session.seen(SHARED_PROMPT), "session prompt"),
         Host(flood.opener.start)),
        (HostMarker(flood.served, "50 connections open, dropbear answering"),
         PASS + "\n"),
        (r"unlocked \(keyslot", None),
        (HostMarker(session.ended, "the session closed"), None),
        (r"RESULT done", None)]
    initrd = keys.overlay()
    try:
        b = boot(name, CRYPT3 + " rd.neednet=1", DISKS, script=steps,
                 timeout=60, initrd=initrd, extra_args=user_net(port))
    finally:
        session.close()
        flood.close()
        sshkit.remove_overlay(initrd)
    expect_all_steps(b, steps)
    took = b.res.step_times[4] - b.res.step_times[3]
    expect(took < UNLOCK_BOUND, "the console's answer took %.1f s to unlock "
           "a member (bound %d s) beside the flood" % (took, UNLOCK_BOUND))
    assert_array(b, "CRYPT3", 3)
    seen = session.text()
    answered = re.search(r"\(answered on ([^)\s]+)\)", seen)
    expect(answered and not answered.group(1).startswith("ssh-"),
           "the session did not see the console's answer: %r" % seen)
    expect("unlocked (keyslot" in seen[answered.end():] and HANDOVER in seen,
           "the session did not see the progress and the hand-over: %r"
           % seen)
    expect(PASS not in seen, "the passphrase was shown in the session")
    expect_closed_up(b, "netif eth0 up=1 addr=10.0.2.15")
