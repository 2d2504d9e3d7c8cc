"""Detached LUKS headers (issue 12, part 3): a member whose header is a
file in the initramfs and whose data disk carries no signature at all."""
import re
import time

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)

HDR_PATH = "/etc/luks/hdr-b.hdr"


def header_initrd():
    """The header file inside the initramfs, added as a user adds it to
    initramfs.list (here: an extra archive unpacked over the embedded
    one), and a directory link out of the initramfs (into /proc) for the
    hostile-path case."""
    return overlay_initrd("header", [
        "dir /etc 0755 0 0",
        "dir /etc/luks 0755 0 0",
        "file %s %s/hdr-b.hdr 0400 0 0" % (HDR_PATH, FIX),
        "slink /etc/luks/proc /proc 0777 0 0"])


def header_boot(name, params, disks=("hdr-a.img", "hdr-b.img"), script=None,
                timeout=90, extra_args=()):
    if script is None:
        script = [(SHARED_PROMPT, PASS + "\n", 0)]
    return boot(name, "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s %s"
                % (FX["HDR_UUID"], luks_uuid("HDR", 0), params),
                list(disks), script=script, initrd=header_initrd(),
                timeout=timeout, extra_args=extra_args)


def dm_on(b):
    """{mapper name: (disk under it, options)} from the guest's report."""
    out = {}
    for r in b.results:
        m = re.match(r"dm dm-\d+ name=(\S+) on=(\S*) discard=\w+ options=(\S+)$",
                     r)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


def joined_with_one_prompt(b):
    hdr = luks_uuid("HDR", 1)
    assert_array(b, "HDR", 2)
    dms = dm_on(b)
    expect(dms.get("luks-%s" % hdr, ("",))[0] == "vdb"
           and dms.get("luks-%s" % luks_uuid("HDR", 0), ("",))[0] == "vda",
           "the guest does not have both members mapped on their disks: %s"
           % dms)
    expect(len(prompts(b)) == 1, "expected exactly one prompt: %s" % prompts(b))
    expect(re.search(SHARED_PROMPT, b.out).group(1) == "2",
           "the prompt does not say it unlocks both disks")
    expect("luks-%s: unlocked" % hdr in b.out,
           "the detached-header member is not reported unlocked")
    expect(re.search(r"luks-%s: LUKS2 on /dev/vdb \(header %s\)"
                     % (hdr, re.escape(HDR_PATH)), b.out),
           "the member was not opened on its data disk with its header file")
    check_handover(b)


@case
def detached_header_member_joins_array():
    hdr = luks_uuid("HDR", 1)
    b = header_boot("detached_header_member_joins_array",
                    "rd.luks.header=%s=%s rd.luks.data=%s=/dev/vdb"
                    % (hdr, HDR_PATH, hdr))
    joined_with_one_prompt(b)


@case
def detached_header_systemd_options():
    hdr = luks_uuid("HDR", 1)
    b = header_boot("detached_header_systemd_options",
                    "rd.luks.uuid=%s rd.luks.options=%s=header=%s,discard "
                    "rd.luks.data=%s=/dev/vdb" % (hdr, hdr, HDR_PATH, hdr))
    joined_with_one_prompt(b)
    # The options of that UUID reached the detached-header member only.
    dms = dm_on(b)
    expect(dms["luks-%s" % hdr][1] == "allow_discards" and
           dms["luks-%s" % luks_uuid("HDR", 0)][1] == "-",
           "discard= of rd.luks.options=UUID= not applied to that member: %s"
           % dms)


@case
def detached_header_data_disk_absent():
    hdr = luks_uuid("HDR", 1)
    t0 = time.monotonic()
    b = header_boot("detached_header_data_disk_absent",
                    "rootwait=4 panic=0 rd.luks.header=%s=%s "
                    "rd.luks.data=%s=/dev/vdb" % (hdr, HDR_PATH, hdr),
                    disks=["hdr-a.img"],
                    script=[(SHARED_PROMPT, PASS + "\n", 0), (PROMPT, "p\n", 0)])
    no_panic(b)
    expect(re.search(r"boot failed: .*LUKS devices missing: .*"
                     r"data device /dev/vdb \(header %s\)" % re.escape(HDR_PATH),
                     b.out), "no clear error naming the missing data disk")
    expect(not b.results, "mounted with a member missing")
    powered_off_from_prompt(b)
    expect(time.monotonic() - t0 < 80, "the wait was not bounded")


@case
def detached_header_without_data_device():
    hdr = luks_uuid("HDR", 1)
    b = header_boot("detached_header_without_data_device",
                    "panic=0 rd.luks.header=%s=%s" % (hdr, HDR_PATH),
                    script=[(PROMPT, "p\n", 0)])
    no_panic(b)
    why = ("a detached header but no data device: "
           "give rd.luks.data=UUID=DEVICE")
    # Said once, as the boot's failure (one failure channel).
    expect(b.out.count(why) == 1,
           "the reason is not said exactly once: %d" % b.out.count(why))
    expect(re.search(r"boot failed: cannot unlock luks-%s .*%s"
                     % (hdr, re.escape(why)), b.out), "the boot did not fail")
    expect(not prompts(b), "a passphrase was asked for a boot that cannot work")
    expect(not b.results, "mounted with a member missing")
    powered_off_from_prompt(b)


@case
def detached_header_hostile_paths_refused():
    """The command line names the header file: a device node (booster's
    rd.luks.header=UUID=/dev/sdb) is refused as the line is read; a path
    that passes that but leads out of the initramfs (a link into /proc) is
    refused when the member is opened."""
    hdr = luks_uuid("HDR", 1)
    b = header_boot("detached_header_hostile_paths_refused",
                    "panic=0 rd.luks.header=%s=/dev/vda "
                    "rd.luks.header=%s=/etc/luks/proc/cmdline "
                    "rd.luks.data=%s=/dev/vdb" % (hdr, hdr, hdr),
                    script=[(PROMPT, "p\n", 0)])
    no_panic(b)
    expect("ignoring rd.luks.header=: a header on a device" in b.out,
           "a device node was taken as a header file")
    why = ("its header file is not in the initramfs itself "
           "(another filesystem is mounted there)")
    expect(b.out.count(why) == 1,
           "the reason is not said exactly once: %d" % b.out.count(why))
    expect(re.search(r"boot failed: cannot unlock luks-%s \(/dev/vdb on "
                     r"/dev/vdb\): %s" % (hdr, re.escape(why)), b.out),
           "the boot did not fail naming it")
    expect(not prompts(b), "a passphrase was asked for a boot that cannot work")
    expect(not b.results, "mounted with a member refused")
    powered_off_from_prompt(b)


@case
def detached_header_data_device_is_another_luks_volume():
    """rd.luks.data= names a disk that is a LUKS volume of its own: the
    wrong disk. It is refused naming it, not unlocked with the header's
    keyslot and mapped to garbage."""
    hdr = luks_uuid("HDR", 1)
    other = luks_uuid("CRYPT2", 1)
    b = header_boot("detached_header_data_device_is_another_luks_volume",
                    "panic=0 rd.luks.header=%s=%s rd.luks.data=%s=/dev/vdc"
                    % (hdr, HDR_PATH, hdr),
                    disks=["hdr-a.img", "hdr-b.img", "crypt2-b.img"],
                    script=[(PROMPT, "p\n", 0)])
    no_panic(b)
    why = ("its data device /dev/vdc is another LUKS volume (UUID %s), "
           "not this one's data: the wrong disk?" % other)
    expect(b.out.count(why) == 1,
           "the reason is not said exactly once: %d" % b.out.count(why))
    expect(re.search(r"boot failed: cannot unlock luks-%s .*%s"
                     % (hdr, re.escape(why)), b.out), "the boot did not fail")
    expect("Btrfs devices missing" not in b.out,
           "the wrong disk was unlocked and the boot went on")
    expect(not prompts(b), "a passphrase was asked for a boot that cannot work")
    expect(not b.results, "mounted with a wrong data device")
    powered_off_from_prompt(b)


@case
def detached_header_name_loses_to_luks_uuid():
    """The data device named is the disk of the member found by its LUKS
    UUID, and the detached member comes first on the line: the disk is
    that member's (it says so), the detached one is refused, whatever the
    order."""
    a_uuid, hdr = luks_uuid("HDR", 0), luks_uuid("HDR", 1)
    b = boot("detached_header_name_loses_to_luks_uuid",
             "root=UUID=%s rootflags=subvol=@root panic=0 "
             "rd.luks.header=%s=%s rd.luks.data=%s=/dev/vda rd.luks.uuid=%s"
             % (FX["HDR_UUID"], hdr, HDR_PATH, hdr, a_uuid),
             ["hdr-a.img", "hdr-b.img"], script=[(PROMPT, "p\n", 0)],
             initrd=header_initrd())
    no_panic(b)
    # Said once, as the boot's failure (one failure channel).
    why = "/dev/vda is taken by luks-%s already" % a_uuid
    expect(re.search(r"boot failed: cannot unlock luks-%s \([^)]*\): %s"
                     % (hdr, re.escape(why)), b.out),
           "the boot did not fail naming the detached member as refused")
    expect(b.out.count(why) == 1,
           "the reason is not said exactly once: %d" % b.out.count(why))
    expect("cannot unlock luks-%s" % a_uuid not in b.out
           and "its data device" not in b.out,
           "the member whose disk it is lost it to a name")
    expect(not b.results, "mounted with a disk given to two members")
    powered_off_from_prompt(b)


@case
def detached_header_retry_after_data_disk_plugged():
    """The data disk is missing: member a is unlocked, the boot fails
    naming the data disk. It is plugged in at the prompt and r retries:
    the retry opens it with its header file and boots, a kept open."""
    late = LateDisk("hdr-b.img")
    a_uuid, hdr = luks_uuid("HDR", 0), luks_uuid("HDR", 1)
    b = header_boot("detached_header_retry_after_data_disk_plugged",
                    "rootwait=3 panic=0 rd.luks.header=%s=%s "
                    "rd.luks.data=%s=/dev/vdb" % (hdr, HDR_PATH, hdr),
                    disks=["hdr-a.img"], extra_args=late.args,
                    script=[(SHARED_PROMPT, PASS + "\n", 0),
                            (PROMPT, late.plug, 0),
                            (r"new block device /dev/vd[b-z]; r retries",
                             "r\n", 1),
                            (r"Passphrase for [^:\n]*: ", PASS + "\n", 0)],
                    timeout=150)
    expect(not b.res.qmp_errors, "hot-plug failed: %s" % b.res.qmp_errors)
    expect(re.search(r"boot failed: .*LUKS devices missing: "
                     r"data device /dev/vdb", b.out),
           "the first attempt did not fail for want of the data disk")
    assert_array(b, "HDR", 2)
    dms = dm_on(b)
    expect(dms.get("luks-%s" % hdr, ("",))[0] == "vdb",
           "the detached member is not mapped on its data disk: %s" % dms)
    p = prompts(b)
    expect(len(p) == 2 and p[1] == "Passphrase for luks-%s: " % hdr,
           "the retry did not ask for the detached member alone: %s" % p)
    kdf_a = b.out.count("luks-%s: KDF started" % a_uuid)
    expect(kdf_a == 1, "a's KDF ran %d times" % kdf_a)
    # The kernel's count: a's mapping is the first attempt's, kept open.
    expect_mapping_older_than(b, "luks-%s" % a_uuid, "vdb")


@case
def detached_header_data_disk_taken_by_another_member():
    hdr = luks_uuid("HDR", 1)
    b = header_boot("detached_header_data_disk_taken_by_another_member",
                    "panic=0 rd.luks.header=%s=%s rd.luks.data=%s=/dev/vda"
                    % (hdr, HDR_PATH, hdr), script=[(PROMPT, "p\n", 0)])
    no_panic(b)
    taken = re.findall(r"/dev/vda is taken by luks-\S+ already", b.out)
    expect(len(taken) == 1, "one disk was not refused once: %s" % taken)
    expect(re.search(r"boot failed: cannot unlock luks-\S+ \([^)]*\): "
                     r"/dev/vda is taken by luks-\S+ already", b.out),
           "the boot did not fail naming the disk given to two members")
    expect(not b.results, "mounted with a disk given to two members")
    expect(not prompts(b), "a passphrase was asked for a boot that cannot work")
    powered_off_from_prompt(b)


@case
def detached_header_of_another_volume_refused():
    """A header file given for one UUID that is another volume's."""
    a_uuid = luks_uuid("HDR", 0)
    b = boot("detached_header_of_another_volume_refused",
             "root=UUID=%s rootflags=subvol=@root panic=0 "
             "rd.luks.header=%s=%s rd.luks.data=%s=/dev/vdb"
             % (FX["HDR_UUID"], a_uuid, HDR_PATH, a_uuid),
             ["hdr-a.img", "hdr-b.img"], script=[(PROMPT, "p\n", 0)],
             initrd=header_initrd())
    no_panic(b)
    why = ("header file %s: another volume's (its LUKS UUID differs)"
           % HDR_PATH)
    expect(re.search(r"boot failed: cannot unlock luks-%s \([^)]*\): %s"
                     % (a_uuid, re.escape(why)), b.out),
           "the boot did not fail naming the header of another UUID")
    expect(b.out.count(why) == 1,
           "the reason is not said exactly once: %d" % b.out.count(why))
    expect(not b.results, "mounted with a wrong header")
    powered_off_from_prompt(b)


@case
def detached_header_genkernel_root_header():
    """genkernel: crypt_root= names the data disk, root_header= the file."""
    b = header_boot("detached_header_genkernel_root_header",
                    "crypt_root=/dev/vdb root_header=%s" % HDR_PATH)
    assert_array(b, "HDR", 2)
    expect(len(prompts(b)) == 1, "expected exactly one prompt: %s" % prompts(b))
    dms = dm_on(b)
    expect(dms.get("root", ("",))[0] == "vdb",
           "genkernel's crypt_root= not opened as /dev/mapper/root on its "
           "data disk: %s" % dms)


@case
def detached_header_same_volume_named_twice():
    """genkernel's and systemd's forms for one volume (the same header file,
    the same data disk): opened once, not refused as a disk taken twice."""
    hdr = luks_uuid("HDR", 1)
    b = header_boot("detached_header_same_volume_named_twice",
                    "crypt_root=/dev/vdb root_header=%s "
                    "rd.luks.header=%s=%s rd.luks.data=%s=/dev/vdb"
                    % (HDR_PATH, hdr, HDR_PATH, hdr))
    assert_array(b, "HDR", 2)
    expect(len(prompts(b)) == 1, "expected exactly one prompt: %s" % prompts(b))
    expect("UUID=%s names /dev/vdb again; it is opened once, as root" % hdr
           in b.out, "the second naming was not taken as the same volume")
    expect("is taken by" not in b.out, "one volume named twice was refused")


@case
def detached_header_data_device_with_a_filesystem_warned():
    """rd.luks.data= names a plain Btrfs disk (raid1-a.img): not refused
    (an interrupted in-place encryption still shows its old signature),
    but warned about naming the signature, before the boot fails for want
    of the real member."""
    hdr = luks_uuid("HDR", 1)
    b = header_boot("detached_header_data_device_with_a_filesystem_warned",
                    "rootwait=3 panic=0 rd.luks.header=%s=%s "
                    "rd.luks.data=%s=/dev/vdb" % (hdr, HDR_PATH, hdr),
                    disks=["hdr-a.img", "raid1-a.img"],
                    script=[(SHARED_PROMPT, PASS + "\n", 0), (PROMPT, "p\n", 0)])
    no_panic(b)
    expect("WARNING: the data device /dev/vdb of a detached header carries "
           "a btrfs signature" in b.out,
           "no warning naming the data device's signature")
    expect("boot failed:" in b.out, "the boot did not fail")
    expect(not b.results, "mounted with a wrong data device")
    powered_off_from_prompt(b)
