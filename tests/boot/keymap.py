"""Keyboard layouts: a keymap embedded at build time (make KEYMAPS=...,
de-latin1 among the defaults) is applied to the VT before the prompt, so
a passphrase typed on the keys of a German keyboard unlocks.

The passphrase of kbd.img is "Zy-test": on a German keyboard Z and y sit
where a US keyboard has Y and z, and - where it has /. The keys are
pressed on the emulated AT keyboard, on the screen's console (/dev/console
is tty0); the report goes to the serial port (report.serial)."""
import os
import re
import subprocess

from .lib import (BUILD, FIX, FX, boot, case, expect, assert_array, luks_uuid,
                  no_panic, qemu_harness)

KBD_PASS = "Zy-test"
# "Zy-test" as the qcodes of the keys a German keyboard has them on, and
# of the keys a US keyboard has them on.
GERMAN_KEYS = [("shift", "y"), "z", "slash", "t", "e", "s", "t", "ret"]
US_KEYS = [("shift", "z"), "y", "minus", "t", "e", "s", "t", "ret"]
SCREEN = ["-device", "VGA,id=vga0"]
# The prompt, shown on the serial port as on the screen; keys typed before
# it would be flushed with the echo turned off.
PROMPT_SHOWN = r"Passphrase for luks-%s[^\n]*: " % luks_uuid("KBD", 0)


def kbd(extra):
    return ("root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
            "console=ttyS0 console=tty0 report.serial %s"
            % (FX["KBD_UUID"], luks_uuid("KBD", 0), extra))


def press(keys):
    """Script steps pressing keys on the AT keyboard (the input that has
    no device named): a qcode, or (modifier, qcode) held together."""
    def ev(q, down):
        return {"type": "key", "data": {
            "down": down, "key": {"type": "qcode", "data": q}}}
    steps = []
    for k in keys:
        combo = list(k) if isinstance(k, tuple) else [k]
        down = [ev(q, True) for q in combo]
        up = [ev(q, False) for q in reversed(combo)]
        steps.append((r"", [qemu_harness.Qmp("input-send-event", events=down),
                            qemu_harness.Qmp("input-send-event", events=up)],
                      0.2))
    return steps


def typed(name, extra, keys, timeout=150, disk="kbd.img"):
    b = boot(name, kbd(extra), [disk], extra_args=SCREEN,
             script=[(PROMPT_SHOWN, "", 0)] + press(keys), timeout=timeout)
    expect(not b.res.qmp_errors, "typing failed: %s" % b.res.qmp_errors[:1])
    return b


def unlocked(b):
    assert_array(b, "KBD", 1)
    expect(KBD_PASS not in b.out, "the passphrase appeared on the console")


# "Zy-t\u00e4st": the a-umlaut on a German keyboard's key where a US one has
# the apostrophe. Its UTF-8 bytes (c3 a4) open a second keyslot of a copy
# of kbd.img; Latin-1 (e4) would not.
UMLAUT_PASS = "Zy-t\u00e4st"
UMLAUT_KEYS = [("shift", "y"), "z", "slash", "t", "apostrophe", "s", "t", "ret"]


def umlaut_disk():
    """A copy of kbd.img with a keyslot for UMLAUT_PASS in UTF-8."""
    d = os.path.join(BUILD, "overlays")
    os.makedirs(d, exist_ok=True)
    img, new = os.path.join(d, "kbd-umlaut.img"), os.path.join(d, "umlaut.key")
    subprocess.run(["cp", "--sparse=always", os.path.join(FIX, "kbd.img"), img],
                   check=True)
    with open(new, "wb") as f:
        f.write(UMLAUT_PASS.encode("utf-8"))
    subprocess.run(["cryptsetup", "luksAddKey", "--batch-mode", "--disable-locks",
                    "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
                    "--key-file", os.path.join(FIX, "kbd-pass.key"), img, new],
                   check=True, stdout=subprocess.DEVNULL)
    os.unlink(new)
    return img


@case
def keymap_vconsole_german_keys_unlock():
    """With the kernel's keyboard in 8-bit mode (vt.default_utf8=0), the
    keyboard is switched to Unicode: the German a-umlaut key gives UTF-8
    c3 a4, which opens the keyslot made for it."""
    disk = umlaut_disk()
    try:
        b = typed("keymap_vconsole_german_keys_unlock",
                  "rd.vconsole.keymap=de-latin1 vt.default_utf8=0", UMLAUT_KEYS,
                  disk=disk)
    finally:
        os.unlink(disk)
    expect("keyboard layout de-latin1 (rd.vconsole.keymap=de-latin1)" in b.out,
           "the layout was not named")
    expect(re.search(r"luks-%s: unlocked \(keyslot 1\)" % luks_uuid("KBD", 0), b.out),
           "not opened by the UTF-8 passphrase's keyslot")
    unlocked(b)


@case
def keymap_genkernel_name_german_keys_unlock():
    """genkernel's name "de" (with dokeymap) is Debian's de-latin1."""
    b = typed("keymap_genkernel_name_german_keys_unlock", "keymap=de dokeymap",
              GERMAN_KEYS)
    expect("keyboard layout de-latin1 (keymap=de)" in b.out,
           "the layout was not named")
    unlocked(b)


@case
def keymap_none_german_keys_refused():
    """The same keys without a keymap give "Yz/test": refused. genkernel's
    dokeymap alone (genkernel would ask for a layout) changes nothing, and
    says so."""
    b = typed("keymap_none_german_keys_refused", "rd.luks.tries=1 dokeymap",
              GERMAN_KEYS)
    no_panic(b)
    expect("dokeymap without keymap=: genkernel would ask which layout; "
           "luksinit does not ask, the kernel's US layout stays" in b.out,
           "dokeymap alone was not explained")
    expect(re.search(r"KDF ended; [^\n]*, no key\r?$", b.out, re.M) and
           "boot failed: cannot unlock luks-%s" % luks_uuid("KBD", 0) in b.out,
           "the passphrase was not refused")
    expect(not b.results, "the guest booted with the keys of another layout")


@case
def keymap_not_embedded_says_so_us_keys_unlock():
    b = typed("keymap_not_embedded_says_so_us_keys_unlock",
              "rd.vconsole.keymap=dvorak", US_KEYS)
    expect(re.search(r"keymap dvorak \(rd\.vconsole\.keymap=\) is not in this "
                     r"initramfs \(it has: [^)]*de-latin1[^)]*\); the passphrase "
                     r"is read in the kernel's US layout", b.out),
           "no clear message about the missing keymap")
    unlocked(b)


@case
def keymap_prompt_names_layout():
    """The prompt says which layout the keyboard has. /dev/console is the
    serial port here (named last), so the prompt can be read and answered
    there; the keymap still goes to the VT."""
    b = boot("keymap_prompt_names_layout",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "console=tty0 console=ttyS0 rd.vconsole.keymap=de-latin1"
             % (FX["KBD_UUID"], luks_uuid("KBD", 0)), ["kbd.img"],
             extra_args=SCREEN,
             script=[(r"Passphrase for [^\n]*: ", KBD_PASS + "\n", 0)])
    expect(re.search(r"Passphrase for luks-%s \[keyboard: de-latin1\]: "
                     % luks_uuid("KBD", 0), b.out),
           "the prompt does not name the layout")
    unlocked(b)
