"""Key files on a removable device (genkernel's root_keydev=, dracut's
rd.luks.key=PATH:KEYDEV, systemd's rd.luks.key=UUID=PATH:DEVICE): the key
stick is a FAT image holding /keys/member.key, a key both CRYPT2 members
take (tests/make-fixtures.sh); ext4-stick.img holds it too, on an ext4
that needs journal recovery."""
import hashlib
import os
import re
import shutil

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)

MEMBERS = ["crypt2-a.img", "crypt2-b.img"]


def genkernel(extra="", keydev="LABEL=KEYSTICK"):
    return ("root=UUID=%s rootflags=subvol=@root crypt_roots=UUID=%s "
            "crypt_roots=UUID=%s root_key=/keys/member.key "
            "root_keydev=%s %s"
            % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
               luks_uuid("CRYPT2", 1), keydev, extra))


def systemd(extra="", dev=None):
    a, b = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    dev = dev or "UUID=%s" % FX["KEYSTICK_UUID"]
    return ("root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
            "rd.luks.uuid=%s rd.luks.key=%s=/keys/member.key:%s "
            "rd.luks.key=%s=/keys/member.key:%s %s"
            % (FX["CRYPT2_UUID"], a, b, a, dev, b, dev, extra))


def stick_not_mounted(b, ro_checked=True):
    mounts = [r for r in b.results if r.startswith("mount ")]
    expect(not any(r.endswith((" vfat", " ext4")) for r in mounts),
           "the key stick is mounted in the booted system: %s" % mounts)
    if ro_checked:
        not_read_only(b)


def not_read_only(b):
    """The stick was read-only for its mount only: the booted system may
    mount it read-write (a /boot)."""
    ro = b.result("read_only_disks=")
    expect(ro == "read_only_disks=", "a disk stayed read-only: %s" % ro)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def writable_stick(name, image):
    """A copy of the fixture image for one boot, attached without
    -snapshot (what the boot writes stays in it; it is /dev/vdc after two
    disks), and its sha256 before the boot."""
    os.makedirs(LOGS, exist_ok=True)
    path = os.path.join(LOGS, "%s-%s" % (name, image))
    shutil.copyfile(os.path.join(FIX, image), path)
    return path, sha256(path), [
        "-drive", "file=%s,format=raw,if=virtio,snapshot=off" % path]


def opened_by_key_file(b):
    expect(b.out.count("(key file;") == 2,
           "not both members were opened with the key file from the stick")


def kernel_time(b, pattern):
    m = re.search(r"\[\s*([\d.]+)\] [^\n]*" + pattern, b.out)
    expect(m, "no kernel-timestamped line matching %r" % pattern)
    return float(m.group(1))


def opened_from_stick(b):
    """Both members open with the stick's key: no prompt, the stick
    unmounted again."""
    assert_array(b, "CRYPT2", 2)
    expect(not prompts(b), "a prompt appeared despite the key stick: %s"
           % prompts(b))
    opened_by_key_file(b)
    stick_not_mounted(b)


@case
def keydev_genkernel_stick_opens_members_without_prompt():
    """The stick is an ext4 that needs journal recovery, as a /boot that
    was mounted when the system hibernated (review 2026-12-07, H4): its
    key is read without replaying the journal, and nothing on it changes
    (a replay now would corrupt the filesystem the resumed system still
    has mounted)."""
    name = "keydev_genkernel_stick_opens_members_without_prompt"
    stick, before, args = writable_stick(name, "ext4-stick.img")
    b = boot(name, genkernel(), MEMBERS, extra_args=args)
    opened_from_stick(b)
    expect(sha256(stick) == before, "the key stick was written during the "
           "boot (its sha256 changed)")
    expect(not re.search(r"EXT4-fs \(vdc\)[^\n]*recover", b.out),
           "the kernel recovered the stick's journal")
    os.remove(stick)


@case
def keydev_genkernel_fstype_names_the_sticks_type():
    """genkernel's root_keydev_fstype=: the stick is an ext2 (so blkid
    says), mounted as the named ext4. The kernel's ext4 driver says when
    it mounts an ext2 as ext2; here it must not."""
    b = boot("keydev_genkernel_fstype_names_the_sticks_type",
             genkernel("root_keydev_fstype=ext4"), MEMBERS + ["ext2-stick.img"],
             timeout=60)
    opened_from_stick(b)
    expect(re.search(r"EXT4-fs \(vdc\): mounted filesystem", b.out),
           "the kernel did not say it mounted the stick")
    expect(not re.search(r"EXT4-fs \(vdc\): mounting ext2 file system", b.out),
           "the stick was mounted as ext2, not as the named ext4")


@case
def keydev_systemd_stick_opens_members_without_prompt():
    b = boot("keydev_systemd_stick_opens_members_without_prompt",
             systemd(), MEMBERS + ["key-stick.img"])
    opened_from_stick(b)


@case
def keydev_dracut_stick_key_for_one_member_only():
    """dracut's rd.luks.key=PATH:KEYDEV:LUKSDEV: the stick's key is for that
    member only, which opens with it; the other one is asked, by a prompt
    naming it alone. (PATH:KEYDEV, for every member, fills what genkernel's
    root_key= and root_keydev= fill: test_cmdline.c key_files_on_a_device,
    booted by keydev_genkernel_stick_opens_members_without_prompt.)"""
    a, b_ = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("keydev_dracut_stick_key_for_one_member_only",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s rd.luks.key=/keys/member.key:LABEL=KEYSTICK:UUID=%s"
             % (FX["CRYPT2_UUID"], a, b_, a),
             MEMBERS + ["key-stick.img"],
             script=[(r"Passphrase for [^\n]*: ", PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(prompts(b) == ["Passphrase for luks-%s: " % b_],
           "not one prompt, for the other member alone: %s" % prompts(b))
    expect(b.out.count("(key file;") == 1,
           "not exactly the one member opened with the stick's key file")
    stick_not_mounted(b)


@waits
@case
def keydev_stick_absent_prompts_after_the_wait():
    """genkernel's 10 s: the prompt comes after it, not before, and not
    much later. The stick is not waited for again in that attempt (a wrong
    passphrase is asked again at once); r at the failure prompt looks for
    it again, and the passphrase then boots. The key device is named by
    path, and that path is member b's disk (review 2026-12-07, M16): the
    member takes it, never the key device, and both members open."""
    b = boot("keydev_stick_absent_prompts_after_the_wait",
             genkernel("rd.luks.tries=2 panic=0", keydev="/dev/vdb"),
             MEMBERS,
             script=[(SHARED_PROMPT, "nope-1\n", 0),
                     (SHARED_PROMPT, "nope-2\n", 0),
                     (PROMPT, "r\n", 0),
                     (SHARED_PROMPT, PASS + "\n", 0)], timeout=150)
    assert_array(b, "CRYPT2", 2)
    expect("/dev/vdb matches key device /dev/vdb, but is a LUKS member's "
           "disk: not taken as one" in b.out,
           "the member's disk was not named as no key device")
    expect(len(prompts(b)) == 3, "expected three prompts: %s" % prompts(b))
    start = kernel_time(b, r"waiting up to 10 s for key device /dev/vdb")
    gave_up = kernel_time(
        b, r"key device /dev/vdb did not appear within 10 s; asking for the passphrase")
    expect(9.5 <= gave_up - start <= 14,
           "gave up on the stick after %.1f s, not about 10 s"
           % (gave_up - start))
    # The prompt is written after the reason, by the same loop.
    expect(b.out.find("did not appear within 10 s") <
           b.out.find("Passphrase for"), "the prompt came before the wait ended")
    waits = [m.start() for m in re.finditer(
        r"waiting up to 10 s for key device /dev/vdb", b.out)]
    failed = b.out.find("boot failed: ")
    expect(len(waits) == 2 and failed > 0 and waits[0] < failed < waits[1],
           "not one wait for the stick per attempt (waits at %s, failure at %d)"
           % (waits, failed))
    expect(b.out.count("did not appear within 10 s") == 2,
           "the retry did not look for the stick again")
    stick_not_mounted(b)


@case
def keydev_systemd_keyfile_timeout_bounds_the_wait():
    """The key device named is the root's own filesystem UUID (public:
    root=UUID=), which no stick here carries: the wait ends, the passphrase
    opens the members, and their mappings, which carry that UUID, are the
    root's, never taken as the key device (a mapping taken so would be
    left out of the root, and the boot would fail)."""
    dev = "UUID=" + FX["CRYPT2_UUID"]
    b = boot("keydev_systemd_keyfile_timeout_bounds_the_wait",
             systemd("rd.luks.options=keyfile-timeout=3s", dev=dev), MEMBERS,
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=150)
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    start = kernel_time(b, r"waiting up to 3 s for key device " + dev)
    gave_up = kernel_time(
        b, r"key device %s did not appear within 3 s; asking for the passphrase" % dev)
    expect(2.5 <= gave_up - start <= 7,
           "gave up on the stick after %.1f s, not about 3 s"
           % (gave_up - start))


@case
def keydev_wrong_key_on_stick_prompts():
    b = boot("keydev_wrong_key_on_stick_prompts", genkernel(),
             MEMBERS + ["wrong-stick.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    expect(b.out.count("the key file does not unlock it; asking for the passphrase") == 2,
           "the unfitting key on the stick was not reported for both members")
    stick_not_mounted(b)


@case
def keydev_stick_plugged_in_while_waiting_opens_members():
    """The wait is event-driven: a stick that appears during it is used
    at once, with no prompt."""
    late = LateDisk("key-stick.img")
    b = boot("keydev_stick_plugged_in_while_waiting_opens_members",
             systemd("rd.luks.options=keyfile-timeout=60s"), MEMBERS,
             extra_args=late.args,
             script=[(r"waiting up to 60 s for key device", [late.plug], 2)],
             timeout=150)
    assert_array(b, "CRYPT2", 2)
    expect(not prompts(b), "a prompt appeared despite the key stick: %s"
           % prompts(b))
    opened_by_key_file(b)
    waiting = kernel_time(b, r"waiting up to 60 s for key device")
    found = kernel_time(b, r"key device UUID=%s found" % FX["KEYSTICK_UUID"])
    expect(found - waiting < 30, "the stick was used only %.1f s after the "
           "wait began" % (found - waiting))
    stick_not_mounted(b)


@case
def keydev_symlink_on_stick_is_not_followed():
    """A stick's /keys/member.key is a symlink to /etc/luks.key, where the
    initramfs holds the members' key: followed, it would open them with no
    prompt. It is refused: the prompt appears, the passphrase boots."""
    b = boot("keydev_symlink_on_stick_is_not_followed", genkernel(),
             MEMBERS + ["symlink-stick.img"], initrd=keyfile_initrd(),
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    expect(re.search(r"key file /keys/member.key on /dev/vd\w is a symbolic "
                     r"link, or lies under one: not followed", b.out),
           "the symlink on the stick was not refused by name")
    expect("(key file;" not in b.out, "a member was opened by a key file")
    mounts = [r for r in b.results if r.startswith("mount ")]
    expect(not any(" btrfs" in r for r in mounts),
           "the stick is mounted in the booted system: %s" % mounts)
    not_read_only(b)


@case
def keydev_btrfs_stick_with_the_roots_uuid_is_refused():
    """Review 2026-12-07, M14: a stick labelled KEYSTICK holding the
    members' key, but made with the root's Btrfs filesystem UUID (public:
    root=UUID=). Mounted, Btrfs would register it as a device of the
    root. It is named and refused, never mounted nor registered (the
    kernel says "scanned by" for each device Btrfs registers); the
    passphrase boots the real root, of both members."""
    b = boot("keydev_btrfs_stick_with_the_roots_uuid_is_refused", genkernel(),
             MEMBERS + ["fsid-stick.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(not re.search(r"BTRFS[^\n]* /dev/vdc scanned by", b.out),
           "the stick was registered with Btrfs")
    expect(re.search(r"key device /dev/vdc carries the root's Btrfs "
                     r"filesystem UUID \(root=UUID=\): refused, never "
                     r"mounted; asking for the passphrase", b.out),
           "the stick was not named and refused")
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    expect("(key file;" not in b.out, "a member was opened by the key file "
           "on the refused stick")


@case
def keydev_wait_longer_than_rootwait_still_prompts():
    """keyfile-timeout= beyond rootwait=: the key device's own bound ends
    the wait, not the root deadline (which does not run meanwhile)."""
    b = boot("keydev_wait_longer_than_rootwait_still_prompts",
             systemd("rootwait=3 rd.luks.options=keyfile-timeout=6s"),
             MEMBERS, script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=150)
    assert_array(b, "CRYPT2", 2)
    expect("boot failed" not in b.out, "the boot failed while waiting for "
           "the key device")
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    start = kernel_time(b, r"waiting up to 6 s for key device")
    gave_up = kernel_time(b, r"did not appear within 6 s")
    expect(5.5 <= gave_up - start <= 10,
           "gave up on the stick after %.1f s, not about 6 s"
           % (gave_up - start))


# Only a .zst of it is in the initramfs: the kernel's own loader does not
# find it, so the request is PID 1's to serve (decompressed), by its loop.
HUNG_FW = "luksinit-test/hung.bin"


def fw_requests(b):
    """Each firmware request fwtrigger made: (position in the console
    output, rc, milliseconds the requesting driver waited)."""
    return [(m.start(), int(m.group(1)), int(m.group(2))) for m in re.finditer(
        r"FWTEST name=%s rc=(-?\d+) waited_ms=(\d+)"
        % re.escape(HUNG_FW), b.out)]


HUNG_ASKS = 10  # firmware requests, one every 2 s, from init's start on


@waits
@case
def keydev_hung_stick_neither_freezes_the_loop_nor_holds_the_boot():
    """Review 2026-12-07, L19 (and M13 for a key stick): the stick stops
    answering while its key is read (QEMU throttles it to 1 byte/s once it
    is identified, before the members are plugged in, so the read is in
    mount). One wait of 15 s for both members, then the passphrase
    prompt; firmware asked for meanwhile is served at once; the stuck
    mount holds up neither the prompt nor the exec of the real init."""
    from .firmware import FWDIR, compressed, fw_initrd
    name = "keydev_hung_stick_neither_freezes_the_loop_nor_holds_the_boot"
    os.makedirs(LOGS, exist_ok=True)
    zst = compressed(os.path.join(FWDIR, "initramfs.bin"), "hung.bin.zst",
                     "zst")
    stick = os.path.join(FIX, "key-stick.img")
    a, c = LateDisk("crypt2-a.img", 0), LateDisk("crypt2-b.img", 1)
    throttle = qemu_harness.Qmp(
        "block_set_io_throttle", device="stick", bps=1, bps_rd=0, bps_wr=0,
        iops=0, iops_rd=0, iops_wr=0)
    unthrottle = qemu_harness.Qmp(
        "block_set_io_throttle", device="stick", bps=0, bps_rd=0, bps_wr=0,
        iops=0, iops_rd=0, iops_wr=0)
    res = run_guest(
        kernel=KERNEL,
        initrd=fw_initrd(name, ["sleep:2000", HUNG_FW] * HUNG_ASKS, [
            "file /lib/firmware/%s.zst %s 0644 0 0" % (HUNG_FW, zst)]),
        disks=[], append=genkernel("rdinit=/fwtrigger"),
        log=os.path.join(LOGS, name + ".log"), timeout=240,
        extra_args=["-drive", "file=%s,format=raw,if=none,id=stick,"
                    "cache=unsafe" % stick, "-device",
                    "virtio-blk-pci,drive=stick,id=stick-dev"]
        + a.args + c.args,
        script=[(r"key device LABEL=KEYSTICK found", [throttle, a.plug,
                                                      c.plug], 0),
                (SHARED_PROMPT, PASS + "\n", 0),
                # The real init runs: the throttle goes, so that the
                # killed mount ends and the guest powers off in time.
                (r"RESULT init started", [unthrottle], 0)],
        snapshot=True, echo=False)
    b = Boot(res)
    expect(not res.qmp_errors, "QMP refused: %s" % res.qmp_errors)
    assert_array(b, "CRYPT2", 2)
    # The killed mount ends once the throttle goes: in its job's own
    # namespace, never in the booted system's. (A job killed mid-mount
    # leaves the stick read-only: stickmount.h.)
    stick_not_mounted(b, ro_checked=False)
    found = kernel_time(b, r"key device LABEL=KEYSTICK found")
    hung = [float(t) for t in re.findall(
        r"\[\s*([\d.]+)\] [^\n]*key device /dev/vd\w did not answer within "
        r"15 s; asking for the passphrase", b.out)]
    expect(len(hung) == 2, "expected both members to name the hung stick: "
           "%s" % hung)
    # Bound: the members appear within a few seconds of the stick, then
    # one 15 s wait for the read, shared by both (not 15 s each).
    expect(max(hung) - min(hung) < 3,
           "the members gave up on the stick %.1f s apart: one wait each"
           % (max(hung) - min(hung)))
    expect(max(hung) - found < 25, "the prompt's reason came %.1f s after "
           "the stick was found" % (max(hung) - found))
    expect(b.out.find("did not answer within 15 s") <
           b.out.find("Passphrase for"), "the prompt came before the wait ended")
    # Those asked in the initramfs (after the switch to the real root,
    # its firmware is not there): each served at once.
    asks = [a for a in fw_requests(b)
            if a[0] < b.out.find("switching to the new root")]
    expect(all(rc == 0 for _, rc, _ in asks), "a request failed: %s" % asks)
    during = [w for pos, _, w in asks
              if b.out.find("KEYSTICK found") < pos
              < b.out.find("did not answer within 15 s")]
    expect(during, "no firmware request was made while the stick hung")
    expect(max(w for _, _, w in asks) < 2000,
           "a driver waited %d ms for its firmware while the stick hung"
           % max(w for _, _, w in asks))
    print("  stick given up %.1f s after found; requests during the hang "
          "waited %s ms" % (max(hung) - found, during))
