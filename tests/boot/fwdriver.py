"""Firmware for drivers that ask from their probe (issue 10), with the test
kernel's luksinit_fwtest driver (scripts/kernel-patches/): it asks from a
platform probe (synchronously, and with request_firmware_nowait() then
unbinding itself on failure, as iwlwifi does), from a USB probe, and from a
thread in a tight loop; /sys/kernel/luksinit_fwtest/<slot> shows what it
got, which the root's init reports."""
import os
import re
import subprocess

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)
from .firmware import FWDIR

# Files on the crypt2 fixture's root (tests/make-fixtures.sh WITH_FIRMWARE).
SYNC_FW = ("luksinit-test/root-only.bin", "root-only.bin")
NOWAIT_FW = ("luksinit-test/comp-zst.bin", "comp-zst.bin")  # a .zst there
USB_FW = ("luksinit-test/path-first.bin", "path-first-plain.bin")
# In the test initramfs only, compressed: the test kernel has no
# FW_LOADER_COMPRESS, so only /init can serve it.
INITRAMFS_FW = ("luksinit-test/emerg.bin", "comp-xz.bin")
# QEMU attaches a usb-serial only once its chardev is open ("null" never is).
USB_SERIAL_ARGS = ["-chardev", "file,id=usbser,path=/dev/null"]
XHCI = ["-device", "qemu-xhci,id=xhci"]


def fnv1a32(path):
    h = 2166136261
    with open(path, "rb") as f:
        for byte in f.read():
            h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return "%08x" % h


def slot(b, when, name):
    line = b.result("fwdrv.%s.%s=" % (when, name))
    expect(line, "no fwdrv.%s.%s line: is the test driver in the kernel?" % (when, name))
    return dict((k, v) for k, v in re.findall(r"(\w+)=(-?\w+)", line.split("=", 1)[1]))


def expect_got(b, when, name, fw):
    s = slot(b, when, name)
    local = os.path.join(FWDIR, fw[1])
    expect(s["status"] == "0", "%s: the driver has no firmware (%s)" % (name, s))
    expect(int(s["size"]) == os.path.getsize(local) and s["fnv"] == fnv1a32(local),
           "%s: the driver got %s bytes (fnv %s), not %s's %d (fnv %s)"
           % (name, s["size"], s["fnv"], fw[1], os.path.getsize(local), fnv1a32(local)))
    return s


def xz_copy(local, name):
    d = os.path.join(BUILD, "fwtest")
    os.makedirs(d, exist_ok=True)
    xz = os.path.join(d, name + ".xz")
    tmp = scratch_path(xz)
    with open(tmp, "wb") as f:
        subprocess.run(["xz", "-c", "--check=crc32", os.path.join(FWDIR, local)],
                       stdout=f, check=True)
    os.replace(tmp, xz)
    return xz


def fw_overlay(name, extra=()):
    """The test initramfs, as a user would add files to initramfs.list:
    INITRAMFS_FW, and a copy of SYNC_FW (plain on the real root), both .xz
    so that only /init can serve them."""
    return overlay_initrd(name, [
        "dir /lib 0755 0 0", "dir /lib/firmware 0755 0 0",
        "dir /lib/firmware/luksinit-test 0755 0 0",
        "file /lib/firmware/luksinit-test/emerg.bin.xz %s 0644 0 0"
        % xz_copy(INITRAMFS_FW[1], "emerg.bin"),
        "file /lib/firmware/luksinit-test/root-only.bin.xz %s 0644 0 0"
        % xz_copy(SYNC_FW[1], "root-only.bin")] + list(extra))


def crypt2(extra):
    return ("root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s rd.luks.uuid=%s %s"
            % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1), extra))


DRIVER = ("luksinit_fwtest.sync=%s luksinit_fwtest.nowait=%s"
          % (SYNC_FW[0], NOWAIT_FW[0]))


@waits
@case
def fwdriver_fallback_y_early_requests_after_70s():
    """_FALLBACK=y (force_fallback=1 does what it does): a platform probe
    asks with request_firmware_nowait() and a USB probe asks synchronously,
    both before /init runs, with the kernel's 60 s; the passphrase comes
    after 70 s. The synchronous request is refused at once (the keyboard
    behind that hub may be needed), the asynchronous one held until it
    expires (the driver then unbinds itself, as iwlwifi does); once the
    root is mounted both devices are probed again and get their bytes.
    (The driver probes its platform devices one after another, so its
    synchronous platform request would delay the other's until /init
    answers it: the USB device stands in for it here.)"""
    b = boot("fwdriver_fallback_y_early_requests_after_70s",
             crypt2("luksinit_fwtest.force_fallback=1 luksinit_fwtest.nowait=%s "
                    "luksinit_fwtest.usb=%s" % (NOWAIT_FW[0], USB_FW[0])),
             ["crypt2-a.img", "crypt2-b.img"],
             extra_args=XHCI + USB_SERIAL_ARGS + [
                 "-device", "usb-serial,chardev=usbser,bus=xhci.0,port=1"],
             script=[(SHARED_PROMPT, PASS + "\n", 72)], timeout=240)
    booted_to_report(b)
    u = expect_got(b, "start", "usb", USB_FW)
    n = expect_got(b, "end", "nowait", NOWAIT_FW)
    expect(int(u["probes"]) >= 2 and int(n["probes"]) >= 2,
           "not probed again: usb %s, nowait %s" % (u, n))
    start = float(re.search(r"\[\s*([\d.]+)\] luksinit: starting", b.out).group(1))
    asked = re.search(r"\[\s*([\d.]+)\] luksinit_fwtest luksinit_fwtest.1: Falling back",
                      b.out)
    expect(asked and float(asked.group(1)) < start,
           "the asynchronous request was not made before /init ran")
    expect("the requester waits for it, so it is not held" in b.out,
           "the synchronous request was not refused at once")
    expect(re.search(r"firmware %s: the request expired after \d+ ms" % NOWAIT_FW[0],
                     b.out), "the asynchronous request was not held until it expired")
    for dev in ("usb:1-1:1.0", "platform:luksinit_fwtest.1"):
        expect("probing %s again" % dev in b.out, "%s not re-probed" % dev)
    # PID 1 never busy-loops: over 72 s at the prompt (and a held request)
    # it used little CPU, counted by the guest's kernel (the real init is
    # the same process: execve() keeps the count, KDF threads included).
    cpu = int(b.result("cpu_ms=")[len("cpu_ms="):])
    up = float(b.result("uptime=")[len("uptime="):].split()[0])
    expect(up > 72 and cpu < 20000,
           "/init used %d ms of CPU in a %.0f s boot mostly spent waiting"
           % (cpu, up))
    print("  usb: %s; nowait: %s; /init's CPU: %d ms of %.0f s" % (u, n, cpu, up))


@case
def fwdriver_recommended_config_reprobes_early_failures():
    """The recommended configuration (docs/FIRMWARE.md: _FALLBACK=n): before /init runs the
    kernel refuses both requests itself; /init reads that in /dev/kmsg and
    probes both devices again once the root is mounted."""
    b = boot("fwdriver_recommended_config_reprobes_early_failures",
             crypt2(DRIVER), ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    booted_to_report(b)
    s = expect_got(b, "start", "sync", SYNC_FW)
    n = expect_got(b, "end", "nowait", NOWAIT_FW)
    expect(int(s["probes"]) >= 2 and int(n["probes"]) >= 2,
           "not probed again: sync %s, nowait %s" % (s, n))
    expect(b.has_result("fw_force_sysfs_fallback=0"), "knob not restored")


def keys(device, text):
    """Script steps typing text, key by key, on the keyboard bound to the
    display device (usb-kbd,display=...)."""
    names = {"-": "minus", "\n": "ret", " ": "spc", "\x00": "num_lock"}
    steps = []
    for ch in text:
        q = names.get(ch, ch)
        ev = lambda down: {"type": "key", "data": {  # noqa: E731
            "down": down, "key": {"type": "qcode", "data": q}}}
        steps.append((r"", [qemu_harness.Qmp("input-send-event", device=device,
                                             events=[ev(True)]),
                            qemu_harness.Qmp("input-send-event", device=device,
                                             events=[ev(False)])], 0.15))
    return steps


# The USB keyboard (xHCI root port 2) is polled once the console's
# keyboard handler opens it: the guest kicks its interrupt endpoint
# (endpoint 1 IN, xHCI endpoint ID 3). SeaBIOS polls it too, before
# Linux: Linux's enumeration is the one that addresses the slot twice in
# a row (an Address Device command with BSR=1, then one without). usbhid
# then drops what comes in its first 50 ms, so readiness is a key that
# arrived: NumLock (it changes no key of the passphrase), typed until the
# console sets the LEDs, a control transfer (endpoint ID 1) after the poll.
KBD_TRACE = ["-trace", "usb_xhci_slot_address", "-trace", "usb_xhci_ep_kick"]
_LINUX_KBD = (r"usb_xhci_slot_address slotid (\d+), port 2$"
              r"(?:(?!usb_xhci_slot_address)(?s:.))*?"
              r"usb_xhci_slot_address slotid \1, port 2$"
              r"(?s:.*?)usb_xhci_ep_kick slotid \1, epid 3,")
KBD_POLLED = qemu_harness.QemuMarker(_LINUX_KBD, whole=True)
KBD_LEDS_SET = qemu_harness.QemuMarker(
    _LINUX_KBD + r"(?s:.*?)usb_xhci_ep_kick slotid \1, epid 1,", whole=True)
TRACE_OFF = qemu_harness.Qmp("trace-event-set-state", name="usb_xhci_*", enable=False)


def keyboard_ready(device):
    """Script steps: NumLock, every 0.5 s from the keyboard's first poll
    until QEMU sees the LEDs set (a key reached the guest's console);
    then the trace stops."""
    numlock = keys(device, "\x00")[0][1]
    return [(KBD_POLLED, qemu_harness.Again(numlock, 0.5), 0),
            (KBD_LEDS_SET, TRACE_OFF, 0)]


@serial
@case
def fwdriver_usb_probe_does_not_block_usb_keyboard():
    """A USB device whose driver asks synchronously from its probe sits on
    the same hub as the USB keyboard, ahead of it. Held, it would keep the
    keyboard from ever appearing. The passphrase is typed on that keyboard
    at the prompt on the screen (/dev/console is tty0)."""
    b = boot("fwdriver_usb_probe_does_not_block_usb_keyboard",
             crypt2("console=ttyS0 console=tty0 report.serial "
                    "luksinit_fwtest.force_fallback=1 luksinit_fwtest.usb=%s"
                    % USB_FW[0]),
             ["crypt2-a.img", "crypt2-b.img"],
             extra_args=["-device", "VGA,id=vga0"] + XHCI + USB_SERIAL_ARGS + [
                 "-device", "usb-serial,chardev=usbser,bus=xhci.0,port=1",
                 "-device", "usb-kbd,id=ukbd,bus=xhci.0,port=2,display=vga0"]
             + KBD_TRACE,
             # The kernel's "input:" line is held back while the prompt
             # waits (shown on the serial console too): type once QEMU
             # shows a key typed on it reached the console.
             script=[(SHARED_PROMPT, "", 0)] + keyboard_ready("vga0") +
             keys("vga0", PASS + "\n"), timeout=150)
    expect(not b.res.qmp_errors, "typing failed: %s" % b.res.qmp_errors[:1])
    booted_to_report(b)
    u = expect_got(b, "start", "usb", USB_FW)
    expect(int(u["probes"]) >= 2, "the USB device was not probed again: %s" % u)
    # Held, the request would have kept the hub busy for its 60 s.
    kbd = re.search(r"\[\s*([\d.]+)\] input: QEMU QEMU USB Keyboard", b.out)
    expect(kbd and float(kbd.group(1)) < 20, "the keyboard appeared only at %s s"
           % (kbd.group(1) if kbd else "never"))
    expect("luksinit-test/path-first.bin: aborted (not in the initramfs; the requester "
           "waits for it" in b.out, "the request was not refused at once")
    expect(re.search(r"probing usb:1-1:1\.0 again", b.out), "no re-probe of the USB device")
    t = b.res.step_times
    print("  QEMU saw the keyboard polled %.1f s and its NumLock lit %.1f s after the "
          "prompt" % (t[1] - t[0], t[2] - t[0]))


@case
def fwdriver_usb_plugged_at_emergency_prompt_is_served():
    """A wrong passphrase (one try) ends at the emergency prompt; a USB
    device plugged in then asks for firmware from its probe: it is served
    from the initramfs while the prompt waits, not when someone answers."""
    plug = qemu_harness.Qmp("device_add", driver="usb-serial", chardev="usbser",
                            bus="xhci.0", id="late-usb")
    b = boot("fwdriver_usb_plugged_at_emergency_prompt_is_served",
             crypt2("rd.luks.tries=1 panic=0 luksinit_fwtest.usb=%s" % INITRAMFS_FW[0]),
             ["crypt2-a.img", "crypt2-b.img"], initrd=fw_overlay("fwdriver_emerg"),
             extra_args=XHCI + USB_SERIAL_ARGS,
             script=[(SHARED_PROMPT, "wrong-pass\n", 0),
                     (PROMPT, [plug], 1),
                     (r"firmware %s: served" % INITRAMFS_FW[0], "", 6),
                     (r"", "r\n", 0),
                     (SHARED_PROMPT, PASS + "\n", 0)], timeout=150)
    booted_to_report(b)
    u = expect_got(b, "start", "usb", INITRAMFS_FW)
    expect(int(u["waited_ms"]) < 3000,
           "the USB probe waited %s ms: not served while the prompt waited" % u["waited_ms"])
    expect(b.out.index("served from /lib/firmware/luksinit-test/emerg.bin.xz") <
           b.out.index("retrying boot"), "not served during the emergency prompt")


BUSYBOX = "/bin/busybox"


@case
def fwdriver_request_from_rescue_shell_is_served():
    """A command in the rescue shell makes a driver ask for firmware (the
    kernel's test_firmware): /init serves it while the shell runs."""
    local = os.path.join(FWDIR, INITRAMFS_FW[1])
    head = open(local, "rb").read(24).decode()
    b = boot("fwdriver_request_from_rescue_shell_is_served",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere panic=0"
             % FX["SINGLE_UUID"], ["single.img"],
             initrd=fw_overlay("fwdriver_shell", [
                 "dir /bin 0755 0 0", "file /bin/busybox %s 0755 0 0" % BUSYBOX,
                 "slink /bin/sh busybox 0777 0 0"]),
             script=[(r"\(initramfs\) # ",
                      "echo -n %s > /sys/devices/virtual/misc/test_firmware/"
                      "trigger_request && head -c 24 /dev/test_firmware && "
                      "echo && echo FW-$((40+2))\n" % INITRAMFS_FW[0], 0),
                     (r"FW-42(.|\n)*\(initramfs\) # ", "/bin/busybox poweroff -f\n", 0)],
             timeout=90)
    no_panic(b)
    expect("FW-42" in b.out, "the shell's request never returned")
    expect(head in b.out, "the shell did not read the firmware's bytes")
    expect(b.res.shutdown == "poweroff", "did not power off: %s" % b.res.shutdown)


@serial
@case
def fwdriver_requests_across_handover_all_answered():
    """A thread asks for the same file again and again, the moment each
    answer arrives, from early boot until well after the real init started:
    before the root from the initramfs (.xz, so only /init can serve it),
    then from the real root. Three boots; no request may wait out a
    timeout, whatever moment of the hand-over it falls on."""
    for i in range(3):
        b = boot("fwdriver_requests_across_handover_all_answered-%d" % i,
                 # loglevel=4: the kernel logs each of the tens of thousands
                 # of direct loads after the hand-over, which would cut
                 # into the report's lines on the serial console.
                 crypt2("loglevel=4 luksinit_fwtest.chain=%s luksinit_fwtest.chain_s=14"
                        % SYNC_FW[0]),
                 ["crypt2-a.img", "crypt2-b.img"],
                 initrd=fw_overlay("fwdriver_chain"),
                 script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=180)
        booted_to_report(b)
        start = slot(b, "start", "chain")
        end = slot(b, "end", "chain")
        print("  boot %d: at init %s; at the end %s" % (i, start, end))
        expect(end["done"] == "1", "the requester did not finish: %s" % end)
        expect(int(end["slow"]) == 0 and int(end["max_ms"]) < 2000,
               "a request waited %s ms (a timeout): %s" % (end["max_ms"], end))
        expect(int(end["requests"]) > int(start["requests"]) > 0,
               "the requests did not span the hand-over: %s / %s" % (start, end))
        expect_got(b, "end", "chain", SYNC_FW)


@case
def fwdriver_fallback_y_booted_system_way_out():
    """With _FALLBACK=y nobody answers in the booted system, so a missing
    firmware waits out the whole timeout (5 s here); the documented way
    out, sysctl.kernel.firmware_config.force_sysfs_fallback=0 on the
    command line, makes it fail at once there, and luksinit still answers
    in the initramfs."""
    base = crypt2("luksinit_fwtest.force_fallback=1 report.fwmissing " + DRIVER)
    b = boot("fwdriver_fallback_y_booted_system_way_out-hazard", base,
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=120)
    booted_to_report(b)
    m = re.search(r"rc=(\d+) ms=(\d+)", b.result("booted_missing_fw "))
    expect(m and int(m.group(2)) >= 4500, "without the way out the request did not "
           "wait for the timeout: %s" % b.result("booted_missing_fw "))
    b = boot("fwdriver_fallback_y_booted_system_way_out",
             base + " sysctl.kernel.firmware_config.force_sysfs_fallback=0",
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=120)
    booted_to_report(b)
    m = re.search(r"rc=(\d+) ms=(\d+)", b.result("booted_missing_fw "))
    expect(m and int(m.group(1)) != 0 and int(m.group(2)) < 1000,
           "with the way out the missing firmware still waited: %s"
           % b.result("booted_missing_fw "))
    expect_got(b, "start", "sync", SYNC_FW)
    expect(b.has_result("fw_force_sysfs_fallback=0"), "knob not left at 0")
