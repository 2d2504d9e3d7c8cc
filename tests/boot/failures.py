"""Failure paths and hostile input."""
import os
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


# ---- failure paths and hostile input (issue 4) -----------------------------
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
             "root=UUID=%s rootflags=subvol=@root rdinit=/fakeuevent "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("fakeuevent", [
                 "file /fakeuevent %s/fakeuevent 0755 0 0" % BUILD]),
             # Typed once the forger has sent (and the prompt is up), so
             # the forged events wait in /init's socket before the root.
             script=[(r"(?s)(?=.*FAKEUEVENT sent=\d)(?=.*%s)" % SHARED_PROMPT,
                      PASS + "\n", 0)])
    booted_to_report(b)
    expect("FAKEUEVENT sent=3" in b.out, "the forger could not send")
    expect(b.out.count("ignored a uevent that did not come from the kernel") >= 3,
           "forged uevents were not seen and dropped")
    for forged in ("vdz", "fake.bin", "etc/shadow"):
        expect(not re.search(r"luksinit: .*%s" % re.escape(forged), b.out),
               "/init acted on a forged uevent (%s)" % forged)


@case
def hostile_passphrase_input():
    """A 5000-character line, control characters, Ctrl-D and Enter alone at
    the prompt: each is refused or a failed attempt, never a crash or a
    hang; only the wrong passphrase costs a try."""
    b = boot("hostile_passphrase_input",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "A" * 5000 + "\n", 0),
                     (r"longer than 512 bytes(.|\n)*" + SHARED_PROMPT,
                      "\x01\x02\x1b[A\x7fx\n", 0),
                     (SHARED_PROMPT, "\x04", 0),
                     (r"asking again(.|\n)*" + SHARED_PROMPT, "\n", 0),
                     (r"empty passphrase; asking again(.|\n)*" + SHARED_PROMPT,
                      PASS + "\n", 0)],
             timeout=120)
    assert_array(b, "CRYPT2", 2)
    expect("passphrase longer than 512 bytes; ignored, asking again" in b.out,
           "the over-long line was not refused as such")
    expect("no key available with this passphrase (2 tries left)" in b.out,
           "the control characters were not one failed attempt")
    expect("(1 try left)" not in b.out, "Ctrl-D or Enter alone cost a try")
    expect("empty input (Ctrl-D); asking again" in b.out, "Ctrl-D not handled")
    expect("empty passphrase; asking again" in b.out, "Enter alone not handled")
    expect(b.out.count("KDF started") == 2 + 2,
           "KDFs ran for input that was no passphrase: %d" % b.out.count("KDF started"))
    expect("AAAAAAAAAA" not in b.out, "the typed input was echoed")


BUSYBOX = "/bin/busybox"
SHELL_INITRD = ["dir /bin 0755 0 0", "file /bin/busybox %s 0755 0 0" % BUSYBOX,
                "slink /bin/sh busybox 0777 0 0"]
SHELL_PROMPT = r"\(initramfs\) # "


@case
def wrong_passphrase_three_times_is_a_clear_failure():
    """With /bin/sh in the initramfs but no rd.shell=1, three wrong
    passphrases give the retry/reboot/power-off question, never a shell:
    whoever is at the keyboard is not the owner yet (review H5)."""
    b = boot("wrong_passphrase_three_times_is_a_clear_failure",
             "root=UUID=%s rootflags=subvol=@root panic=0 rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("shell", SHELL_INITRD),
             script=[(SHARED_PROMPT, "nope-1\n", 0), (SHARED_PROMPT, "nope-2\n", 0),
                     (SHARED_PROMPT, "nope-3\n", 0), (PROMPT, "p\n", 0)])
    failed_to_prompt(b, "cannot unlock luks-")
    expect("tries exhausted" in b.out, "the reason does not say the tries ran out")
    expect(len(prompts(b)) == 3, "not exactly rd.luks.tries=3 prompts: %s" % prompts(b))
    expect("rescue shell" not in b.out and not re.search(SHELL_PROMPT, b.out),
           "a shell was offered with LUKS members and no rd.shell=1")


@case
def rescue_shell_leaves_nothing_running():
    """rd.shell=1 with LUKS members: three wrong passphrases give the shell.
    What it starts in the background (an evil maid's keylogger; here
    sleep) is killed before the retry: the booted system has no process
    its init did not start, and the retry still opens both members."""
    b = boot("rescue_shell_leaves_nothing_running",
             "root=UUID=%s rootflags=subvol=@root panic=0 rd.shell=1 "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("shell", SHELL_INITRD),
             script=[(SHARED_PROMPT, "nope-1\n", 0), (SHARED_PROMPT, "nope-2\n", 0),
                     (SHARED_PROMPT, "nope-3\n", 0),
                     (SHELL_PROMPT, "sleep 100000 & echo STARTED-$((40+2))\n", 0),
                     (r"STARTED-42(.|\n)*" + SHELL_PROMPT, "exit\n", 0),
                     (r"trying to boot again(.|\n)*" + SHARED_PROMPT, PASS + "\n", 0)],
             timeout=150)
    expect("STARTED-42" in b.out, "the shell did not start the background process")
    assert_array(b, "CRYPT2", 2)
    expect(b.result("strangers=") == "strangers=0:",
           "processes of the initramfs live on in the booted system: %s"
           % b.result("strangers="))
    expect(b.has_result("zombies=0"), "zombies left: %s" % b.result("zombies="))


@case
def rescue_shell_then_retry():
    """The shell finds the initramfs intact and runs on /dev/console; leaving
    it retries the boot. In the second shell the root's whole Btrfs is
    mounted read-write on /mnt and the missing init made (a link to the
    real one): the retry boots, and emptying the initramfs never crossed
    into /mnt (the marker written there is still on the root)."""
    b = boot("rescue_shell_then_retry",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere panic=0"
             % FX["SINGLE_UUID"], ["single.img"],
             initrd=overlay_initrd("shell", SHELL_INITRD),
             script=[(SHELL_PROMPT, "sleep 100000 & ls /init /newroot && echo INTACT-$((40+2))\n", 0),
                     (r"INTACT-42(.|\n)*\(initramfs\) # ",
                      "for f in 0 1 2; do echo FD$f=$(readlink /proc/$$/fd/$f); "
                      "done; echo ON-$((40+2))\n", 0),
                     (r"ON-42(.|\n)*\(initramfs\) # ", "exit\n", 0),
                     (r"trying to boot again(.|\n)*\(initramfs\) # ",
                      "mkdir /mnt && mount -t btrfs /dev/vda /mnt && "
                      "ln -s init /mnt/@root/sbin/nothere && "
                      "echo kept >/mnt/@root/marker && echo MOUNTED-$((40+2))\n", 0),
                     (r"MOUNTED-42(.|\n)*\(initramfs\) # ", "exit\n", 0)],
             timeout=120)
    no_panic(b)
    expect("/sbin/nothere on the new root is not usable" in b.out, "no reason given")
    expect("starting rescue shell /bin/sh" in b.out, "no rescue shell")
    expect("INTACT-42" in b.out, "the initramfs was not intact in the shell")
    fds = dict(re.findall(r"^FD([012])=(\S*)\r?$", b.out, re.M))
    expect(fds == {"0": "/dev/console", "1": "/dev/console", "2": "/dev/console"},
           "the shell's stdin, stdout and stderr are not /dev/console: %s" % fds)
    expect(b.out.count("/sbin/nothere on the new root is not usable") >= 2,
           "leaving the shell did not retry the boot")
    expect("MOUNTED-42" in b.out, "the shell could not mount the root's Btrfs")
    booted_to_report(b)
    expect(b.has_result("marker=kept"),
           "the file on the filesystem mounted in the initramfs is gone: "
           "emptying the initramfs crossed into it (%s)" % b.result("marker="))
    ir = b.result("initramfs ")
    expect(re.match(r"initramfs fstype=(ramfs|tmpfs) entries=1: mnt$", ir),
           "the initramfs was not emptied down to the mount point: %s" % ir)
    # Without LUKS members the shell needs no rd.shell=1, but what it left
    # (sleep &) is still killed before the retry.
    expect(b.result("strangers=") == "strangers=0:",
           "processes of the initramfs live on in the booted system: %s"
           % b.result("strangers="))


@case
def rd_shell_0_forbids_the_shell():
    b = boot("rd_shell_0_forbids_the_shell",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere panic=0 rd.shell=0"
             % FX["SINGLE_UUID"], ["single.img"],
             initrd=overlay_initrd("shell", SHELL_INITRD),
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
    expect(b.res.shutdown == "reboot", "not a reboot: %s" % b.res.shutdown)
    print("  rebooted %.1f s after the failure report" % waited)


@case
def emergency_b_reboots():
    b = boot("emergency_b_reboots",
             "root=UUID=0badc0de-0000-4000-8000-000000000000 rootwait=2 panic=0",
             ["single.img"], script=[(PROMPT, "b\n", 0)], timeout=60)
    no_panic(b)
    expect(re.search(PROMPT, b.out), "no retry/reboot prompt")
    expect(not b.res.timed_out, "the VM timed out")
    expect(b.res.shutdown == "reboot", "b at the prompt did not reboot: %s"
           % b.res.shutdown)
    expect(not b.results, "something booted anyway")


@case
def seventeen_luks_members_is_an_error():
    """More members than luksinit opens: a clear error, never a degraded
    mount of an array that is really complete."""
    cmd = ("root=UUID=%s rootflags=subvol=@root panic=0 rd.btrfs.degraded=0 "
           % FX["SINGLE_UUID"] +
           " ".join("crypt_roots=UUID=%08d-0000-4000-8000-000000000000" % i
                    for i in range(17)))
    b = boot("seventeen_luks_members_is_an_error", cmd, ["single.img"],
             script=[(PROMPT, "p\n", 0)])
    failed_to_prompt(b, "17 LUKS devices on the command line; luksinit opens at most 16")


@case
def btrfs_unavailable_is_said_once():
    """No /dev/btrfs-control (a kernel without Btrfs): one warning, not one
    per device, then a clear failure."""
    b = boot("btrfs_unavailable_is_said_once",
             "root=UUID=%s rootflags=subvol=@root rootwait=3 panic=0 rdinit=/nobtrfsctl"
             % FX["RAID1_UUID"], ["raid1-a.img", "raid1-b.img"],
             initrd=overlay_initrd("nobtrfsctl", [
                 "file /nobtrfsctl %s/nobtrfsctl 0755 0 0" % BUILD]),
             script=[(PROMPT, "p\n", 0)])
    expect("NOBTRFSCTL removed" in b.out, "the helper could not take it away")
    n = len(re.findall(r"luksinit: .*(cannot ask Btrfs|Btrfs registration failed)", b.out))
    expect(n == 1, "the missing Btrfs control was reported %d times" % n)
    failed_to_prompt(b, "root=UUID=%s is Btrfs on" % FX["RAID1_UUID"])


# A disk that answers slowly: a read from it is an uninterruptible wait of
# some seconds, which a SIGKILL does not cut short. QEMU lets the first
# request through at once and makes the next ones wait; left to merge the
# guest's requests, it may make one request of the whole read, which then
# passes at once (seen once, on a loaded machine).
SLOW_DISK = ["-drive", "file=%s,format=raw,if=virtio,readonly=on,"
             "throttling.bps-read=262144" % os.path.join(FIX, "swap.img"),
             "-global", "virtio-blk-pci.request-merging=off"]


@case
def exec_of_real_init_fails_after_switch_then_retried():
    """The root has moved and the initramfs is gone when execve() of the
    real init fails (a process holds it open for writing: ETXTBSY). Every
    process is killed before the exec; this one is in uninterruptible disk
    I/O, so the kill takes effect only when its read returns: /init waits
    for it a bounded time, says so, and runs the init. /init stays PID 1
    in the new root: the emergency prompt says why, firmware knobs are its
    own again, and r runs the init once the holder is gone; nothing of the
    initramfs runs on in the booted system."""
    b = boot("exec_of_real_init_fails_after_switch_then_retried",
             "root=UUID=%s rootflags=subvol=@root rw panic=0 rdinit=/execblock "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("execblock", [
                 "file /execblock %s/execblock 0755 0 0" % BUILD]),
             extra_args=SLOW_DISK,
             # The holder's read takes some seconds; r comes well after.
             script=[(SHARED_PROMPT, PASS + "\n", 0), (PROMPT, "r\n", 12)],
             timeout=150)
    expect("EXECBLOCK holding /newroot/sbin/init" in b.out,
           "the init was never held open: the test proves nothing")
    read = re.search(r"EXECBLOCK read -?\d+ bytes in (\d+) ms", b.out)
    expect(not read or int(read.group(1)) >= 2000,
           "the slow disk answered in %s ms: the test proves nothing"
           % (read.group(1) if read else "?"))
    expect("EXECBLOCK released" not in b.out,
           "the holder was not killed before the real init ran")
    expect(re.search(r"processes killed before the real init runs are still "
                     r"there after \d+ ms", b.out),
           "the hand-over did not say it went on without a stuck process")
    expect("boot failed: running /sbin/init failed: Text file busy" in b.out,
           "the failed exec was not reported as such")
    expect("luksinit: running /sbin/init again" in b.out,
           "r did not run the init again")
    booted_to_report(b)
    check_handover(b)
    expect(b.has_result("fw_timeout=60") and b.has_result("fw_force_sysfs_fallback=0"),
           "firmware knobs not given back at the second exec: %s %s"
           % (b.result("fw_timeout="), b.result("fw_force_sysfs_fallback=")))
    expect(b.result("strangers=") == "strangers=0:",
           "processes of the initramfs live on in the booted system: %s"
           % b.result("strangers="))


@case
def harness_boots_again_after_a_reset_before_init_once():
    """The harness's one allowance (lib.run_guest), against a stand-in for
    QEMU: a guest that resets before any init ran is booted once more; a
    second such reset fails; a reset after init ran (or on a quiet console,
    where it cannot be told, or after a kernel oops) is the test's to judge
    and is not retried."""
    class Res:
        def __init__(self, shutdown, output):
            self.shutdown, self.output = shutdown, output
    early = Res("reboot", "[    0.00] Linux version 6.1 (luksinit@luksinit)\n"
                "[    0.81] usbcore: registered new interface driver "
                "luksinit_fwtest_usb\n[    0.88] pci 0000:00:02.0: BAR 0\n")
    failed = Res("reboot", "luksinit: boot failed: x\n")
    late = Res("reboot", "[    1.03] Run /init as init process\n")
    good = Res("poweroff", "[    1.03] Run /init as init process\nRESULT done\n")
    oops = Res("reboot", "[    0.90] BUG: kernel NULL pointer dereference\n"
               "[    0.91] Call Trace:\n")
    for runs, want, left, append in (
            ([early, good], good, 0, ""), ([late, good], late, 1, ""),
            ([failed, good], failed, 1, ""),
            ([early, good], early, 1, "root=x quiet"),
            ([oops, good], oops, 1, ""),
            ([early, early], "reset twice before its init ran", 0, "")):
        calls, said = list(runs), []
        try:
            got = run_guest(runner=lambda **kw: calls.pop(0), log=None,
                            append=append, report=said.append)
        except AssertionError as e:
            got = str(e)
        expect(got is want or (isinstance(want, str) and want in str(got)),
               "runs %s gave %r" % ([r.output[:20] for r in runs], got))
        expect(len(calls) == left, "%d boots instead of %d"
               % (len(runs) - len(calls), len(runs) - left))
        retried = len(runs) - left - 1
        expect(len(said) == retried and all(
            l.startswith("RETRY boot/harness_boots_again") for l in said),
               "a retry must say RETRY boot/NAME once, a boot once: %r" % said)
