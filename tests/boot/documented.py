"""What luksinit(7) promises, each shown by the booted system: mapper names,
key files, discards, degraded mounts, quiet, rootwait, panic=-1, reaping,
secrets kept out of the log, the separate cpio."""
import os
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


def crypt2(extra="", a_spec=None, b_spec=None):
    a = a_spec or "rd.luks.uuid=%s" % luks_uuid("CRYPT2", 0)
    b = b_spec or "rd.luks.uuid=%s" % luks_uuid("CRYPT2", 1)
    return "root=UUID=%s rootflags=subvol=@root %s %s %s" % (
        FX["CRYPT2_UUID"], a, b, extra)


def dm_devices(b):
    """{mapper name: (on, discard, options)} from the report."""
    out = {}
    for r in b.results:
        m = re.match(r"dm (dm-\d+) name=(\S+) on=(\S*) discard=(\w+) options=(\S+)$", r)
        if m:
            out[m.group(2)] = dict(dm=m.group(1), on=m.group(3),
                                   discard=m.group(4), options=m.group(5))
    return out


def expect_discard(b, want):
    devs = dm_devices(b)
    expect(len(devs) == 2, "expected two dm-crypt devices: %s" % devs)
    for name, d in devs.items():
        flag = "allow_discards" in d["options"].split(",")
        expect(flag == want and (d["discard"] == "yes") == want,
               "%s: discards %s expected, got %s" % (name, "on" if want else "off", d))


def timestamp(b, pattern):
    m = re.search(r"\[\s*([\d.]+)\] " + pattern, b.out)
    expect(m, "no kernel-timestamped line matching %r" % pattern)
    return float(m.group(1))


@case
def luks_name_sets_mapper_name_and_options_discard():
    """Also genkernel's crypt_root= given twice: each is opened as
    luks-UUID (not /dev/mapper/root), with a warning; rd.luks.name= still
    names its member."""
    a_uuid, b_uuid = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("luks_name_sets_mapper_name_and_options_discard",
             crypt2("rd.luks.options=discard",
                    a_spec="rd.luks.name=%s=cryptalpha crypt_root=UUID=%s"
                    % (a_uuid, a_uuid),
                    b_spec="crypt_root=UUID=%s" % b_uuid),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect("ignoring crypt_root=: given more than once" in b.out,
           "crypt_root= given twice was not named in a warning")
    expect("root" not in dm_devices(b), "a member was opened as /dev/mapper/root")
    devs = dm_devices(b)
    expect("cryptalpha" in devs and devs["cryptalpha"]["on"] == "vda",
           "member A is not /dev/mapper/cryptalpha on vda: %s" % devs)
    expect("luks-%s" % luks_uuid("CRYPT2", 1) in devs,
           "member B lost its default name: %s" % devs)
    expect_discard(b, True)


@case
def genkernel_root_key_and_root_trim():
    b = boot("genkernel_root_key_and_root_trim",
             "root=UUID=%s rootflags=subvol=@root crypt_roots=UUID=%s "
             "crypt_roots=UUID=%s root_key=/etc/luks.key root_trim=yes"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"], initrd=keyfile_initrd())
    assert_array(b, "CRYPT2", 2)
    expect(not prompts(b), "a prompt appeared despite root_key=: %s" % prompts(b))
    expect(b.out.count("(key file;") == 2, "root_key= not used for both")
    expect_discard(b, True)


@case
def per_member_key_file_and_allow_discards():
    """rd.luks.key=UUID=PATH opens A; B, without a key file, is asked for
    alone."""
    a_uuid, b_uuid = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("per_member_key_file_and_allow_discards",
             crypt2("rd.luks.key=%s=/etc/luks.key rd.luks.allow-discards" % a_uuid),
             ["crypt2-a.img", "crypt2-b.img"], initrd=keyfile_initrd(),
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(prompts(b) == ["Passphrase for luks-%s: " % b_uuid],
           "expected one prompt, for B alone: %s" % prompts(b))
    expect(re.search(r"luks-%s: KDF started at [\d.]+ s \(key file;" % a_uuid, b.out),
           "A was not opened with its key file")
    expect_discard(b, True)


@case
def key_file_that_does_not_fit_falls_back_to_prompt():
    b = boot("key_file_that_does_not_fit_falls_back_to_prompt",
             crypt2("rd.luks.key=/etc/luks.key"), ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("wrongkey", [
                 "dir /etc 0755 0 0",
                 "file /etc/luks.key %s/other-pass.key 0400 0 0" % FIX]),
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(b.out.count("the key file does not unlock it; asking for the passphrase") == 2,
           "the unfitting key file was not reported for both members")
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    expect_discard(b, False)


@case
def luks_tries_2_then_failure():
    b = boot("luks_tries_2_then_failure", crypt2("rd.luks.tries=2 panic=0"),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "nope-1\n", 0), (SHARED_PROMPT, "nope-2\n", 0),
                     (PROMPT, "p\n", 0)])
    failed_to_prompt(b, "cannot unlock luks-")
    expect(len(prompts(b)) == 2, "not exactly rd.luks.tries=2 prompts: %s" % prompts(b))
    expect("(1 try left)" in b.out and "tries exhausted" in b.out,
           "the tries were not counted down to exhaustion")


@serial
@case
def rootflags_degraded_mounts_at_once():
    b = boot("rootflags_degraded_mounts_at_once",
             "root=UUID=%s rootflags=subvol=@root,degraded rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img"], script=[(SHARED_PROMPT, PASS + "\n", 0)])
    booted_to_report(b)
    expect("degraded" in b.result("root "), "not mounted degraded")
    t_open = timestamp(b, r"luksinit: luks-%s: unlocked" % luks_uuid("CRYPT2", 0))
    t_deg = timestamp(b, r"luksinit: WARNING: mounting Btrfs on \S+ DEGRADED")
    expect(t_deg - t_open < 2.0, "rootflags=degraded waited %.1f s" % (t_deg - t_open))
    print("  degraded mount %.2f s after the unlock" % (t_deg - t_open))


@case
def btrfs_degraded_waits_its_seconds():
    b = boot("btrfs_degraded_waits_its_seconds",
             crypt2("rd.btrfs.degraded=6"), ["crypt2-a.img"],
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0)])
    booted_to_report(b)
    expect("degraded" in b.result("root "), "not mounted degraded")
    t_open = timestamp(b, r"luksinit: luks-%s: unlocked" % luks_uuid("CRYPT2", 0))
    t_deg = timestamp(b, r"luksinit: WARNING: mounting Btrfs on \S+ DEGRADED")
    waited = t_deg - t_open
    expect(5.5 <= waited < 15, "mounted degraded %.1f s after the unlock, not 6" % waited)
    print("  degraded after %.1f s (rd.btrfs.degraded=6)" % waited)


@case
def quiet_shows_only_warnings():
    """Also: root= by udev's /dev/disk/by-uuid/ link (there is no udev:
    luksinit translates it), and rd.luks.crypttab= named in a warning."""
    b = boot("quiet_shows_only_warnings",
             "root=/dev/disk/by-uuid/%s rootflags=subvol=@root quiet "
             "rootwait=soon rd.luks.crypttab=yes" % FX["SINGLE_UUID"],
             ["single.img"])
    booted_to_report(b)
    expect("fstype=btrfs" in b.result("root "), "the root by /dev/disk/by-uuid/ "
           "was not mounted: " + b.result("root "))
    expect("ignoring rootwait=: " in b.out, "the warning was not shown under quiet")
    expect("ignoring rd.luks.crypttab=: luksinit reads no crypttab" in b.out,
           "rd.luks.crypttab= was not named in a warning")
    for info in ("luksinit: starting", "switching to the new root", "root device"):
        expect(info not in b.out, "quiet, yet the console shows %r" % info)


@waits
@case
def rootwait_forever_reports_progress_then_boots_late_root():
    late = LateDisk("single.img")
    b = boot("rootwait_forever_reports_progress_then_boots_late_root",
             "root=UUID=%s rootflags=subvol=@root rootwait" % FX["SINGLE_UUID"], [],
             extra_args=late.args,
             script=[(r"still waiting for root=UUID=%s(.|\n)*still waiting for root="
                      % FX["SINGLE_UUID"], late.plug, 0)],
             timeout=150)
    booted_to_report(b)
    t1 = timestamp(b, r"luksinit: still waiting for root=")
    expect(b.out.count("still waiting for root=") >= 2, "no repeated progress line")
    expect(t1 > 9, "the first progress line came after %.1f s, not 10" % t1)
    expect("did not appear" not in b.out, "rootwait gave up")


@serial
@case
def panic_minus_1_reboots_at_once():
    b = boot("panic_minus_1_reboots_at_once",
             "root=UUID=0badc0de-0000-4000-8000-000000000000 rootwait=1 panic=-1",
             ["single.img"], timeout=60)
    no_panic(b)
    expect(b.res.shutdown == "reboot", "not a reboot: %s" % b.res.shutdown)
    t_fail = timestamp(b, r"luksinit: boot failed: ")
    t_boot = timestamp(b, r"reboot: Restarting system")
    expect(t_boot - t_fail < 1.0, "rebooted %.1f s after the failure" % (t_boot - t_fail))
    expect("Press r + Enter" not in b.out, "waited at the prompt despite panic=-1")


@case
def orphans_are_reaped():
    b = boot("orphans_are_reaped",
             crypt2("rdinit=/orphans"), ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("orphans", [
                 "file /orphans %s/orphans 0755 0 0" % BUILD]),
             # Typed once the last orphan has exited: /init must reap
             # them while it waits, not leave them to the real init.
             script=[(r"(?s)(?=.*ORPHAN 4 exits)(?=.*%s)" % SHARED_PROMPT,
                      PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect("ORPHANS started=5" in b.out, "the orphans were not started")
    expect(b.has_result("zombies=0"), "zombies left for the real init: %s"
           % b.result("zombies="))


@case
def passphrase_never_in_console_or_kmsg_even_with_rd_debug():
    b = boot("passphrase_never_in_console_or_kmsg_even_with_rd_debug",
             crypt2("rd.debug report.absent=%s" % PASS.encode().hex()),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect("cryptsetup: " in b.out, "rd.debug did not show libcryptsetup's messages")
    kmsg = b.result("kmsg ")
    m = re.match(r"kmsg records=(\d+) with_secret=(\d+)$", kmsg)
    expect(m and int(m.group(1)) > 100, "the kernel log was not read: %s" % kmsg)
    expect(m.group(2) == "0", "the passphrase is in the kernel log: %s" % kmsg)


@case
def separate_cpio_as_initrd():
    b = boot("separate_cpio_as_initrd",
             crypt2(), ["crypt2-a.img", "crypt2-b.img"],
             kernel=os.path.join(BUILD, "bzImage-plain"),
             initrd=os.path.join(BUILD, "initramfs.cpio.gz"),
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    check_handover(b)
    # That kernel has no /init of its own: luksinit came from the cpio.
    expect("luksinit: starting" in b.out, "luksinit did not run from the cpio")


@case
def gpt_root_by_partuuid():
    """Also the common /sbin/init -> /lib/systemd/systemd (absolute
    symlink) as the default init."""
    b = boot("gpt_root_by_partuuid",
             "root=PARTUUID=%s rootflags=subvol=@root" % FX["GPTPLAIN_PARTUUID"],
             ["gptplain.img"])
    booted_to_report(b)
    expect("source=/dev/vda2 " in b.result("root "),
           "not the GPT partition: " + b.result("root "))
    expect(b.has_result("exe=/lib/systemd/systemd"),
           "/sbin/init's target did not run: %s" % b.result("exe="))


@case
def gpt_root_by_partlabel():
    b = boot("gpt_root_by_partlabel", "root=PARTLABEL=rootfs rootflags=subvol=@root",
             ["gptplain.img"])
    booted_to_report(b)
    expect("source=/dev/vda2 " in b.result("root "),
           "not the GPT partition: " + b.result("root "))


@case
def gpt_luks_partitions_by_partuuid():
    b = boot("gpt_luks_partitions_by_partuuid",
             "root=UUID=%s rootflags=subvol=@root crypt_roots=PARTUUID=%s "
             "crypt_roots=PARTUUID=%s" % (FX["GPTCRYPT_UUID"], FX["GPTCRYPT_A_PARTUUID"],
                                          FX["GPTCRYPT_B_PARTUUID"]),
             ["gptcrypt-a.img", "gptcrypt-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "GPTCRYPT", 2)
    on = sorted(d["on"] for d in dm_devices(b).values())
    expect(on == ["vda2", "vdb2"], "the members are not the LUKS partitions: %s" % on)


@case
def degraded_never_instead_of_asking():
    """rootflags=degraded, A opens with its key file, B's key file does not
    fit: B is asked for, not left out."""
    a_uuid, b_uuid = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("degraded_never_instead_of_asking",
             "root=UUID=%s rootflags=subvol=@root,degraded rd.luks.uuid=%s "
             "rd.luks.uuid=%s rd.luks.key=%s=/etc/luks.key rd.luks.key=%s=/etc/wrong.key"
             % (FX["CRYPT2_UUID"], a_uuid, b_uuid, a_uuid, b_uuid),
             ["crypt2-a.img", "crypt2-b.img"],
             initrd=overlay_initrd("twokeys", [
                 "dir /etc 0755 0 0",
                 "file /etc/luks.key %s/member.key 0400 0 0" % FIX,
                 "file /etc/wrong.key %s/other-pass.key 0400 0 0" % FIX]),
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(prompts(b) == ["Passphrase for luks-%s: " % b_uuid],
           "B was not asked for: %s" % prompts(b))
    expect("DEGRADED" not in b.out, "mounted degraded instead of asking")
