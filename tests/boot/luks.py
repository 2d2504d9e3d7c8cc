"""LUKS members and Btrfs RAID."""
import os
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


# ---- password-cache= (issue 24, item 5) ---------------------------------
def fnv1a64(data):
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h


def assert_pwcache(b, passphrases):
    """The booted system's root user keyring holds the "user" key
    "cryptsetup" as systemd-cryptsetup writes it: the passphrases,
    NUL-separated (none after the last), and it expires (150 s); with
    passphrases empty, there is no such key."""
    r = b.result("pwcache")
    if not passphrases:
        expect(r.startswith("pwcache=absent"),
               "a passphrase was handed on to the booted system: %s" % r)
        return
    want = b"\0".join(p.encode() for p in passphrases)
    m = re.match(r"pwcache len=(\d+) fnv=([0-9a-f]{16}) expires=(\S+)$", r)
    expect(m, "no cryptsetup key in root's user keyring: %s" % r)
    expect(int(m.group(1)) == len(want) and
           int(m.group(2), 16) == fnv1a64(want),
           "the cryptsetup key does not hold exactly %d passphrase(s) %s: %s"
           % (len(passphrases), "NUL-separated", r))
    expect(re.match(r"^(\d+s|[12]m)$", m.group(3)),
           "the cryptsetup key does not expire within 150 s: %s" % r)


# ---- LUKS members + Btrfs RAID (issue 3) --------------------------------
@case
def luks2_raid1_dracut_one_prompt():
    b = boot("luks2_raid1_dracut_one_prompt",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=luks-%s rd.luks.options=password-cache=yes"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 1, "expected exactly one prompt: %s" % prompts(b))
    expect(re.search(SHARED_PROMPT, b.out).group(1) == "2",
           "the prompt does not say it unlocks both disks")
    for i in range(2):
        expect("luks-%s: unlocked" % luks_uuid("CRYPT2", i) in b.out,
               "member %d not reported unlocked" % i)
    check_handover(b)
    # One passphrase opened both: handed on once.
    assert_pwcache(b, [PASS])


@case
def raid1c3_argon2id_genkernel_crypt_roots():
    b = boot("raid1c3_argon2id_genkernel_crypt_roots",
             "root=UUID=%s rootflags=subvol=@root " % FX["CRYPT3_UUID"] +
             " ".join("crypt_roots=UUID=%s" % luks_uuid("CRYPT3", i)
                      for i in range(3)),
             ["crypt3-a.img", "crypt3-b.img", "crypt3-c.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT3", 3)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    expect(b.out.count("KDF memory 32 KiB") == 3,
           "Argon2id keyslots not recognised on all three members")


@case
def luks1_and_luks2_members():
    b = boot("luks1_and_luks2_members",
             "root=LABEL=mixed rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (luks_uuid("MIXED", 0), luks_uuid("MIXED", 1)),
             ["mixed-a.img", "mixed-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "MIXED", 2)
    expect(": LUKS1 on /dev/vda" in b.out and ": LUKS2 on /dev/vdb" in b.out,
           "LUKS versions not as expected")
    # No password-cache=yes: nothing is handed on.
    assert_pwcache(b, [])


@case
def wrong_passphrase_then_right():
    b = boot("wrong_passphrase_then_right",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s rd.luks.options=%s=password-cache=yes"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                luks_uuid("CRYPT2", 1), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "wrong-pass\n", 0),
                     (SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 2, "expected two prompts: %s" % prompts(b))
    expect("no key available with this passphrase (2 tries left)" in b.out,
           "no clear message after the wrong passphrase")
    expect("wrong-pass" not in b.out, "the wrong passphrase was shown")
    # The option for one member (by its UUID): the passphrase that opened
    # it is handed on, the wrong one is not.
    assert_pwcache(b, [PASS])


@case
def different_passphrases_second_prompt_only_for_refuser():
    b_uuid = luks_uuid("DIFF", 1)
    b = boot("different_passphrases_second_prompt_only_for_refuser",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s rd.luks.options=password-cache=yes"
             % (FX["DIFF_UUID"], luks_uuid("DIFF", 0), b_uuid),
             ["diff-a.img", "diff-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0),
                     (r"Passphrase for luks-%s \(/dev/vdb\): " % b_uuid,
                      "other-pass\n", 0)])
    assert_array(b, "DIFF", 2)
    p = prompts(b)
    expect(len(p) == 2 and p[1] == "Passphrase for luks-%s (/dev/vdb): "
           % b_uuid, "expected a shared prompt then one naming member B: %s" % p)
    # Both passphrases, in the order they opened members.
    assert_pwcache(b, [PASS, "other-pass"])


@case
def key_file_in_initramfs_no_prompt():
    b = boot("key_file_in_initramfs_no_prompt",
             "root=UUID=%s rootflags=subvol=@root rd.luks.key=/etc/luks.key "
             "rd.luks.uuid=%s rd.luks.uuid=%s rd.luks.options=password-cache=yes"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             # A text key file (the passphrase's own bytes, keyslot 0): one
             # a list of NUL-separated passphrases could hold.
             initrd=overlay_initrd("keyfile-text", [
                 "dir /etc 0755 0 0",
                 "file /etc/luks.key %s/pass.key 0400 0 0" % FIX]))
    assert_array(b, "CRYPT2", 2)
    expect(not prompts(b), "a prompt appeared despite the key file")
    expect(b.out.count("(key file;") == 2, "key file not used for both")
    # The key file was in the initramfs, which is now empty.
    check_handover(b)
    # A key file is no passphrase: not handed on, even when asked.
    assert_pwcache(b, [])


@case
def root_names_one_mapper_member():
    a_uuid = luks_uuid("CRYPT2", 0)
    b = boot("root_names_one_mapper_member",
             "root=/dev/mapper/luks-%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (a_uuid, a_uuid, luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)


@case
def member_absent_is_an_error_naming_it():
    missing = luks_uuid("CRYPT2", 1)
    b = boot("member_absent_is_an_error_naming_it",
             "root=UUID=%s rootflags=subvol=@root rootwait=4 panic=0 rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), missing),
             ["crypt2-a.img"],
             script=[(r"Passphrase for [^:]*: ", PASS + "\n", 0),
                     (r"Press r \+ Enter to retry", "p\n", 0)])
    no_panic(b)
    expect(re.search(r"boot failed: .*not all devices.*LUKS devices missing: "
                     r"UUID=%s" % missing, b.out),
           "no clear error naming the missing member")
    expect("Press r + Enter to retry" in b.out, "no console prompt")
    expect(not b.results, "mounted with a member missing")


@case
def member_absent_degraded_after_wait():
    missing = luks_uuid("CRYPT2", 1)
    b = boot("member_absent_degraded_after_wait",
             "root=UUID=%s rootflags=subvol=@root rd.btrfs.degraded=2 "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), missing),
             ["crypt2-a.img"], script=[(r"Passphrase for [^:]*: ", PASS + "\n", 0)])
    booted_to_report(b)
    expect(re.search(r"WARNING: mounting Btrfs on \S+ DEGRADED.*UUID=%s"
                     % missing, b.out), "no loud degraded warning")
    root = b.result("root ")
    expect("degraded" in root, "not mounted degraded: " + root)


@serial
@case
def parallel_unlock_kdfs_overlap():
    b = boot("parallel_unlock_kdfs_overlap",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["PAR_UUID"], luks_uuid("PAR", 0),
                                  luks_uuid("PAR", 1)),
             ["par-a.img", "par-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=180)
    assert_array(b, "PAR", 2)
    spans = [(float(s), float(e)) for s, e in re.findall(
        r"KDF ended; ran from ([\d.]+) s to ([\d.]+) s", b.out)]
    expect(len(spans) == 2, "KDF intervals not logged: %s" % spans)
    (s1, e1), (s2, e2) = spans
    expect(s1 < e2 and s2 < e1, "KDF intervals do not overlap: %s" % spans)
    wall = max(e1, e2) - min(s1, s2)
    expect(wall < 0.75 * ((e1 - s1) + (e2 - s2)),
           "the unlock took %.2f s, not clearly below the %.2f s of the KDFs"
           % (wall, (e1 - s1) + (e2 - s2)))
    expect("2 running" in b.out, "the log does not say two KDFs ran at once")
    # What the guest's kernel counted, not what /init says: its jobs (the
    # KDFs, in child processes) used more CPU time than the whole boot
    # took, which two KDFs run one after the other cannot.
    children = int(b.result("children_cpu_ms=")[len("children_cpu_ms="):])
    up = float(b.result("uptime=")[len("uptime="):].split()[0])
    expect(children > 1000 * up,
           "/init's jobs used %d ms of CPU in a %.2f s boot: the KDFs did "
           "not run at once" % (children, up))
    print("  KDF intervals: %s; jobs' CPU %d ms in a %.2f s boot"
          % (spans, children, up))


# ---- a disk that hardly answers (review L10) ----------------------------
def slow_disk_args(name):
    """QEMU arguments for an extra, empty virtio disk whose reads crawl: a
    64 KiB burst lets the kernel's partition scan at probe time through,
    then 4 KiB/s. libblkid reads about 1 MiB from an empty disk (every
    superblock type's offsets, the end of the disk for RAID metadata):
    minutes at that rate, like a dying disk in SCSI error recovery."""
    img = os.path.join(BUILD, "slow-%s.img" % name)
    with open(img, "wb") as f:
        f.truncate(64 << 20)
    return ["-drive", "file=%s,format=raw,if=virtio,cache=unsafe,"
            "throttling.bps-total=4096,throttling.bps-total-max=65536,"
            "throttling.bps-total-max-length=1" % img]


@serial
@case
def slow_extra_disk_does_not_hold_up_boot():
    name = "slow_extra_disk_does_not_hold_up_boot"
    b = boot(name,
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)],
             extra_args=slow_disk_args(name), timeout=120)
    assert_array(b, "CRYPT2", 2)
    expect(re.search(SHARED_PROMPT, b.out).group(1) == "2",
           "the prompt does not name both members")
    # The booted system's own clock: the boot did not wait for the disk
    # (about 1 MiB at 4 KiB/s), only the few seconds after which it is
    # named and left alone.
    up = float(b.result("uptime=")[len("uptime="):].split()[0])
    expect(up < 25, "the boot took %.1f s: it waited for the slow disk" % up)
    expect(re.search(r"/dev/vdc: no answer after \d+ s while identifying it"
                     r".*going on without it", b.out),
           "the slow disk is not named in a warning")
    print("  booted at uptime %.1f s" % up)


def kernel_time(b, pattern):
    m = re.search(r"\[\s*([\d.]+)\] [^\n]*" + pattern, b.out)
    expect(m, "no kernel-timestamped line matching %r" % pattern)
    return float(m.group(1))


def throttle(drive, bps):
    """QMP: drive's reads and writes limited to bps bytes/s (0: none)."""
    return qemu_harness.Qmp(
        "block_set_io_throttle", device=drive, bps=bps, bps_rd=0, bps_wr=0,
        iops=0, iops_rd=0, iops_wr=0)


def named_disks(*images):
    """QEMU arguments for virtio disks with drive ids (for QMP), in order:
    [(id, image)] -> /dev/vda, /dev/vdb, ..."""
    args = []
    for drive, image in images:
        args += ["-drive", "file=%s,format=raw,if=none,id=%s,cache=unsafe"
                 % (os.path.join(FIX, image), drive),
                 "-device", "virtio-blk-pci,drive=%s,id=%s-dev"
                 % (drive, drive)]
    return args


@case
def hung_header_read_fails_one_member_the_other_mounts_degraded():
    """Review 2026-12-07, M12: member A's disk stops answering once blkid
    has identified it, while its LUKS header is read (QEMU throttles it to
    1 byte/s): B's header is read all the same, in a job of its own; A's
    read is named slow after 5 s, the prompt comes, B unlocks and the root
    is mounted degraded (rootflags=degraded); the real init runs."""
    a_uuid = luks_uuid("CRYPT2", 0)
    b = boot("hung_header_read_fails_one_member_the_other_mounts_degraded",
             "root=UUID=%s rootflags=subvol=@root,degraded rd.debug "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], a_uuid, luks_uuid("CRYPT2", 1)), [],
             extra_args=named_disks(("diska", "crypt2-a.img"),
                                    ("diskb", "crypt2-b.img")),
             script=[(r"type=crypto_LUKS uuid=%s" % a_uuid,
                      [throttle("diska", 1)], 0),
                     (r"Passphrase for [^:\n]*: ", PASS + "\n", 0),
                     # A's killed read ends, so the guest powers off.
                     (r"RESULT init started", [throttle("diska", 0)], 0)],
             timeout=120)
    expect(not b.res.qmp_errors, "QMP refused: %s" % b.res.qmp_errors)
    expect(not re.search(r"LUKS2 on /dev/vda", b.out),
           "A's header was read before the throttle took hold: the case "
           "did not happen (QMP too late?)")
    booted_to_report(b)
    root = b.result("root ")
    expect("degraded" in root, "not mounted degraded: " + root)
    read = kernel_time(b, r"LUKS2 on /dev/vdb")
    kernel_time(b, r"luks-%s: no answer yet from /dev/vda while its LUKS "
                r"header is read" % a_uuid)
    deg = kernel_time(b, r"WARNING: mounting Btrfs on \S+ DEGRADED")
    # Bound: 5 s until A's read is named slow, B's KDF (about a second
    # under TCG); nothing of A's 30 s.
    expect(deg - read < 20, "mounted degraded %.1f s after B's header was "
           "read" % (deg - read))
    print("  degraded mount %.1f s after B's header was read" % (deg - read))


@waits
@case
def hung_keyslot_read_fails_its_member_within_a_bound():
    """Review 2026-12-07, M11: member A's header is read, then its disk
    stops answering (QEMU throttles it to 1 byte/s before the passphrase
    is typed; QEMU lets one more request through), so its KDF job hangs
    reading A's header and keyslot. B
    unlocks; A's job, seen stuck in the disk for 30 s, is killed and A is
    named failed; the root is mounted degraded (rootflags=degraded)."""
    a_uuid = luks_uuid("CRYPT2", 0)
    b = boot("hung_keyslot_read_fails_its_member_within_a_bound",
             "root=UUID=%s rootflags=subvol=@root,degraded "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], a_uuid, luks_uuid("CRYPT2", 1)), [],
             extra_args=named_disks(("diska", "crypt2-a.img"),
                                    ("diskb", "crypt2-b.img")),
             script=[(r"luks-%s: LUKS2 on " % a_uuid,
                      [throttle("diska", 1)], 0),
                     # Typed 2 s later: QEMU has applied the throttle.
                     (SHARED_PROMPT, PASS + "\n", 2),
                     (r"RESULT init started", [throttle("diska", 0)], 0)],
             timeout=150)
    expect(not b.res.qmp_errors, "QMP refused: %s" % b.res.qmp_errors)
    booted_to_report(b)
    root = b.result("root ")
    expect("degraded" in root, "not mounted degraded: " + root)
    typed = kernel_time(b, r"KDF started")
    failed = kernel_time(b, r"luks-%s: no answer from the disk for 30 s "
                         r"while its unlock job read its header or keyslot"
                         % a_uuid)
    deg = kernel_time(b, r"WARNING: mounting Btrfs on \S+ DEGRADED")
    # Bound: 30 s of no answer (looked at once a second), then at once.
    expect(failed - typed < 45, "A was named failed %.1f s after the KDFs "
           "started" % (failed - typed))
    expect(deg - failed < 10, "mounted degraded %.1f s after A failed"
           % (deg - failed))
    print("  A failed %.1f s after the KDFs started; degraded mount %.1f s "
          "later" % (failed - typed, deg - failed))
