"""Detached LUKS headers on another device (issue 12, part 3): member b of
the HDR array keeps its header in /hdr/hdr-b.hdr on a FAT stick
(hdr-stick.img, tests/make-fixtures.sh); its data disk carries no
signature. The initramfs holds no header file at all."""
import re
import time

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)

STICK_PATH = "/hdr/hdr-b.hdr"
DISKS = ["hdr-a.img", "hdr-b.img"]


def hdr_boot(name, params, disks, script=None, timeout=120, extra_args=()):
    if script is None:
        script = [(SHARED_PROMPT, PASS + "\n", 0)]
    return boot(name, "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s %s"
                % (FX["HDR_UUID"], luks_uuid("HDR", 0), params),
                list(disks), script=script, timeout=timeout,
                extra_args=extra_args)


def stick_not_mounted(b):
    mounts = [r for r in b.results if r.startswith("mount ")]
    expect(not any(r.endswith(" vfat") for r in mounts),
           "the header stick is mounted in the booted system: %s" % mounts)
    ro = b.result("read_only_disks=")
    expect(ro == "read_only_disks=", "a disk stayed read-only: %s" % ro)


def joined_with_one_prompt(b, name=None):
    """name: the member's mapping (genkernel's crypt_root= is "root")."""
    name = name or "luks-" + luks_uuid("HDR", 1)
    assert_array(b, "HDR", 2)
    expect(len(prompts(b)) == 1, "expected exactly one prompt: %s" % prompts(b))
    expect(re.search(SHARED_PROMPT, b.out).group(1) == "2",
           "the prompt does not say it unlocks both disks")
    expect("%s: unlocked" % name in b.out,
           "the detached-header member is not reported unlocked")
    expect(re.search(r"%s: LUKS2 on /dev/vdb \(header %s\)"
                     % (re.escape(name), re.escape(STICK_PATH)), b.out),
           "the member was not opened on its data disk with the header")
    stick_not_mounted(b)
    # The copy and /init's directory itself: removed before the switch,
    # never while a job may still mount or copy below it (review L20).
    left = b.result("run_luksinit=")
    expect(left == "run_luksinit=absent",
           "/run/luksinit was handed to the booted system: %s" % left)


@case
def headerdev_systemd_header_on_stick_joins_array():
    hdr = luks_uuid("HDR", 1)
    b = hdr_boot("headerdev_systemd_header_on_stick_joins_array",
                 "rd.luks.header=%s=%s:UUID=%s rd.luks.data=%s=/dev/vdb"
                 % (hdr, STICK_PATH, FX["HDRSTICK_UUID"], hdr),
                 DISKS + ["hdr-stick.img"])
    joined_with_one_prompt(b)
    expect("header device UUID=%s found: /dev/vdc" % FX["HDRSTICK_UUID"]
           in b.out, "the stick was not found as the header device")


@case
def headerdev_genkernel_root_headerdev_joins_array():
    b = hdr_boot("headerdev_genkernel_root_headerdev_joins_array",
                 "crypt_root=/dev/vdb root_header=%s root_headerdev=LABEL=HDRSTICK"
                 % STICK_PATH, DISKS + ["hdr-stick.img"])
    joined_with_one_prompt(b, "root")
    expect("header device LABEL=HDRSTICK found: /dev/vdc" in b.out,
           "the stick was not found as the header device")


@case
def headerdev_stick_absent_fails_naming_the_device():
    """No passphrase can open a member without its header: after the
    bounded wait the boot fails, naming the header device and path."""
    hdr = luks_uuid("HDR", 1)
    t0 = time.monotonic()
    b = hdr_boot("headerdev_stick_absent_fails_naming_the_device",
                 "panic=0 rd.luks.header=%s=%s:LABEL=HDRSTICK "
                 "rd.luks.data=%s=/dev/vdb rd.luks.options=%s=keyfile-timeout=3s"
                 % (hdr, STICK_PATH, hdr, hdr), DISKS,
                 script=[(PROMPT, "p\n", 0)])
    no_panic(b)
    expect("waiting up to 3 s for header device LABEL=HDRSTICK" in b.out,
           "the header device was not waited for with its bound")
    expect("header device LABEL=HDRSTICK did not appear within 3 s" in b.out,
           "the end of the wait was not said")
    expect(re.search(r"boot failed: .*luks-%s.*header file %s is on header "
                     r"device LABEL=HDRSTICK, which did not appear"
                     % (hdr, re.escape(STICK_PATH)), b.out),
           "no clear failure naming the header device and path")
    expect(not prompts(b), "a passphrase was asked for a boot that cannot work")
    expect(not b.results, "mounted with a member missing")
    powered_off_from_prompt(b)
    expect(time.monotonic() - t0 < 100, "the wait was not bounded")


@case
def headerdev_stick_plugged_in_while_waiting_is_used():
    """The wait is event-driven: a stick that appears during it is used
    at once, and the one prompt opens both members."""
    hdr = luks_uuid("HDR", 1)
    late = LateDisk("hdr-stick.img")
    b = hdr_boot("headerdev_stick_plugged_in_while_waiting_is_used",
                 "rd.luks.header=%s=%s:LABEL=HDRSTICK rd.luks.data=%s=/dev/vdb "
                 "rd.luks.options=%s=keyfile-timeout=60s"
                 % (hdr, STICK_PATH, hdr, hdr), DISKS,
                 extra_args=late.args,
                 script=[(r"waiting up to 60 s for header device", [late.plug], 2),
                         (SHARED_PROMPT, PASS + "\n", 0)], timeout=150)
    joined_with_one_prompt(b)
    waiting = re.search(r"\[\s*([\d.]+)\] [^\n]*waiting up to 60 s for "
                        r"header device LABEL=HDRSTICK", b.out)
    found = re.search(r"\[\s*([\d.]+)\] [^\n]*header device LABEL=HDRSTICK "
                      r"found: /dev/vdc", b.out)
    expect(waiting and found, "the wait and the stick's arrival were not said")
    expect(float(found.group(1)) - float(waiting.group(1)) < 30,
           "the stick was used only long after it was plugged in")


@case
def headerdev_retry_after_plugging_the_stick_boots():
    """The stick absent, the boot fails; plugged in at the prompt, a
    retry (r) looks for it again and boots."""
    hdr = luks_uuid("HDR", 1)
    late = LateDisk("hdr-stick.img")
    b = hdr_boot("headerdev_retry_after_plugging_the_stick_boots",
                 "panic=0 rd.luks.header=%s=%s:LABEL=HDRSTICK "
                 "rd.luks.data=%s=/dev/vdb rd.luks.options=%s=keyfile-timeout=3s"
                 % (hdr, STICK_PATH, hdr, hdr), DISKS,
                 extra_args=late.args,
                 script=[(PROMPT, [late.plug], 0),
                         (r"new block device /dev/vdc; r retries", "r\n", 1),
                         (SHARED_PROMPT, PASS + "\n", 0)], timeout=150)
    expect("which did not appear" in b.out, "the first attempt did not fail")
    joined_with_one_prompt(b)
