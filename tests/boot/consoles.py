"""Every console the kernel was given (issue 11): the prompt shows on each,
is answered on any, and stays the last thing on each while it waits."""
import os
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)
from .fwdriver import (INITRAMFS_FW, USB_SERIAL_ARGS, XHCI, crypt2,
                       fw_overlay)

VGA = ["-device", "VGA,id=vga0"]
# The screen last: /dev/console is the VT, the serial port only a second
# console; report.serial has the root's report written to the serial port.
BOTH = "console=ttyS0 console=tty0 report.serial"
ANY_PROMPT = r"Passphrase for [^\n]*: "


def screen_dump(name):
    """A QMP action saving the VGA text memory (vgacon's 32 KiB window at
    0xb8000: character, attribute, ...) and the path it goes to."""
    path = os.path.join(LOGS, name + ".vga")
    if os.path.exists(path):
        os.unlink(path)
    return qemu_harness.Qmp("pmemsave", val=0xb8000, size=0x8000,
                            filename=path), path


def screen_text(path):
    data = open(path, "rb").read()
    return data[0::2].decode("latin-1")


def at_keys(text):
    """Script steps typing text on the PS/2 (AT) keyboard."""
    names = {"-": "minus", "\n": "ret", " ": "spc"}
    steps = []
    for ch in text:
        q = names.get(ch, ch)
        steps.append((r"", qemu_harness.Qmp("send-key", keys=[
            {"type": "qcode", "data": q}]), 0.1))
    return steps


@case
def consoles_prompt_on_serial_and_screen_answered_on_serial():
    """console=ttyS0 console=tty0: /dev/console is the screen, yet the
    prompt shows on the serial port as well and is answered there."""
    name = "consoles_prompt_on_serial_and_screen_answered_on_serial"
    dump, path = screen_dump(name)
    b = boot(name, crypt2(BOTH), ["crypt2-a.img", "crypt2-b.img"],
             extra_args=VGA,
             script=[(SHARED_PROMPT, dump, 1), (r"", PASS + "\n", 0.5)],
             timeout=120)
    assert_array(b, "CRYPT2", 2)
    expect(b.has_result("console_active=tty0 ttyS0")
           or b.has_result("console_active=ttyS0 tty0"),
           "the guest's consoles are not both active: %s"
           % [r for r in b.results if r.startswith("console_active")])
    for tty in ("console", "ttyS0", "tty1"):
        expect(b.has_result("echo.%s=1" % tty),
               "echo left off on %s: %s" % (tty, [r for r in b.results
                                                  if r.startswith("echo.")]))
    expect(os.path.exists(path), "no screen dump: %s" % (b.res.qmp_errors,))
    screen = screen_text(path)
    expect(re.search(SHARED_PROMPT.rstrip(" "), screen),
           "the prompt is not on the screen too")


@case
def consoles_prompt_answered_on_the_screen_keyboard():
    """The same consoles, answered on the VT: the passphrase typed on the
    AT keyboard unlocks; the serial console is told where it was
    answered."""
    b = boot("consoles_prompt_answered_on_the_screen_keyboard",
             crypt2(BOTH), ["crypt2-a.img", "crypt2-b.img"],
             extra_args=VGA,
             script=[(SHARED_PROMPT, "", 0)] + at_keys(PASS + "\n"),
             timeout=120)
    expect(not b.res.qmp_errors, "typing failed: %s" % b.res.qmp_errors[:1])
    assert_array(b, "CRYPT2", 2)
    expect(re.search(r"\(answered on tty\d+\)", b.out),
           "the serial console was not told the screen answered")


@case
def consoles_prompt_stays_last_after_late_disk_and_firmware():
    """While the prompt waits, a member disk appears and a USB device asks
    for firmware: luksinit's lines show the prompt again below them, the
    kernel's own lines are held back until the prompt is answered, then
    shown."""
    late = LateDisk("crypt2-b.img")
    plug = qemu_harness.Qmp("device_add", driver="usb-serial",
                            chardev="usbser", bus="xhci.0", id="late-usb")
    b = boot("consoles_prompt_stays_last_after_late_disk_and_firmware",
             crypt2("rootwait=60 luksinit_fwtest.usb=%s" % INITRAMFS_FW[0]),
             ["crypt2-a.img"], initrd=fw_overlay("consoles_late"),
             extra_args=XHCI + USB_SERIAL_ARGS + late.args,
             script=[(ANY_PROMPT, [late.plug], 1),
                     (r"LUKS2 on /dev/vdb[^\n]*\n" + ANY_PROMPT, [plug], 1),
                     (r"firmware %s: served[^\n]*\n" % INITRAMFS_FW[0]
                      + ANY_PROMPT + r"$", "", 3),
                     (r"", PASS + "\n", 0)], timeout=150)
    assert_array(b, "CRYPT2", 2)
    level = b.result("printk=")[len("printk="):].split()[0]
    expect(level == "7", "the console log level was left at %s" % level)
    out = b.out
    served = out.index("firmware %s: served" % INITRAMFS_FW[0])
    disk = out.index("LUKS2 on /dev/vdb")
    # Each of our lines was followed by the question again.
    for at in (disk, served):
        nxt = out[out.index("\n", at) + 1:]
        expect(re.match(ANY_PROMPT, nxt.lstrip("\n")),
               "no prompt right below: %r" % out[at:at + 200])
    # The kernel's lines of the USB device came while the prompt waited
    # (their time stamps) but were shown only after it was answered.
    usb = re.search(r"\[\s*([\d.]+)\] usb \d+-\d+: new \S+ USB device", out)
    expect(usb, "the kernel's USB lines were never shown")
    expect(usb.start() > served, "a kernel line was not held back: %r"
           % out[usb.start():usb.start() + 100])
    # Right below the last prompt, nothing but the kernel's held lines.
    held = out[out.rindex("Passphrase for", 0, usb.start()):usb.start()]
    expect(all(l.startswith("[") for l in held.splitlines()[1:] if l),
           "the held lines did not follow the prompt: %r" % held[-300:])


@case
def consoles_emergency_prompt_on_every_console():
    """A wrong passphrase with one try ends at the emergency prompt: it is
    on the serial console too (not only on /dev/console, the screen), and
    "r" there retries; the boot then completes."""
    b = boot("consoles_emergency_prompt_on_every_console",
             crypt2(BOTH + " rd.luks.tries=1 panic=0"),
             ["crypt2-a.img", "crypt2-b.img"], extra_args=VGA,
             script=[(SHARED_PROMPT, "wrong-pass\n", 0),
                     (PROMPT, "x\n", 0),
                     (PROMPT, "r\n", 0),
                     (SHARED_PROMPT, PASS + "\n", 0)], timeout=120)
    assert_array(b, "CRYPT2", 2)
    expect(b.out.count("(answered on ttyS0)") == 0,
           "the answering console was told it answered elsewhere")
