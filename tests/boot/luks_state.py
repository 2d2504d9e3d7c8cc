"""LUKS state across time: members that appear late, a retry after a
partial unlock, a dead member with degraded permission, tries that belong
to the person."""
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


def crypt2_cmdline(extra=""):
    return ("root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s rd.luks.uuid=%s %s"
            % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1),
               extra))


def kdf_starts(b, member):
    return b.out.count("luks-%s: KDF started" % member)


@case
def late_member_after_passphrase_one_prompt():
    """Member B is plugged in seconds after the passphrase opened A: it is
    unlocked with the passphrase already typed."""
    late = LateDisk("crypt2-b.img")
    a_uuid = luks_uuid("CRYPT2", 0)
    b = boot("late_member_after_passphrase_one_prompt", crypt2_cmdline(),
             ["crypt2-a.img"], extra_args=late.args,
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0),
                     (r"luks-%s: unlocked" % a_uuid, late.plug, 3)],
             timeout=120)
    assert_array(b, "CRYPT2", 2)
    expect(len(prompts(b)) == 1, "expected exactly one prompt: %s" % prompts(b))
    expect(not b.res.qmp_errors, "hot-plug failed: %s" % b.res.qmp_errors)
    expect("luks-%s: unlocked" % luks_uuid("CRYPT2", 1) in b.out,
           "the late member was not unlocked")


@case
def late_member_with_key_file_no_prompt():
    late = LateDisk("crypt2-b.img")
    b = boot("late_member_with_key_file_no_prompt",
             crypt2_cmdline("rd.luks.key=/etc/luks.key"), ["crypt2-a.img"],
             initrd=keyfile_initrd(), extra_args=late.args,
             script=[(r"luks-%s: unlocked" % luks_uuid("CRYPT2", 0), late.plug, 3)],
             timeout=120)
    assert_array(b, "CRYPT2", 2)
    expect(not prompts(b), "a prompt appeared despite the key file: %s" % prompts(b))
    expect(b.out.count("(key file;") == 2, "key file not used for both")


@serial
@case
def retry_after_partial_unlock_reuses_open_member():
    """A opens, B is missing: the boot fails. B is plugged in, r is pressed:
    the retry asks only for B, runs no second KDF for A, and boots. The
    members' keyslots cost seconds of CPU each (PAR: 300,000 PBKDF2
    iterations), so the guest kernel's count of its jobs' CPU time shows
    any KDF run for A again, logged or not."""
    late = LateDisk("par-b.img")
    a_uuid, b_uuid = luks_uuid("PAR", 0), luks_uuid("PAR", 1)
    b = boot("retry_after_partial_unlock_reuses_open_member",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s rootwait=3 panic=0"
             % (FX["PAR_UUID"], a_uuid, b_uuid), ["par-a.img"],
             extra_args=late.args,
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0),
                     (PROMPT, late.plug, 0),
                     # The kernel's own lines are held back while the
                     # prompt waits; /init names the new disk.
                     (r"new block device /dev/vd[b-z]; r retries", "r\n", 1),
                     (r"Passphrase for [^:\n]*: ", PASS + "\n", 0)],
             timeout=150)
    assert_array(b, "PAR", 2)
    expect("LUKS devices missing: UUID=%s" % b_uuid in b.out,
           "the first attempt did not fail for want of B")
    # What the guest's kernel counted for all of /init's children, less
    # what the two logged KDF jobs said they used (each job's own CPU
    # time, from the same kernel under the same host load; under TCG a
    # span and a CPU count grow with the host's load, so only like is
    # compared with like): what is left, identifying and reading headers,
    # is small. A KDF run for A again outside those two jobs, logged or
    # not, leaves a whole KDF's CPU time over; one logged is counted by
    # kdf_starts below.
    cpu = {u: [float(c) for c in re.findall(
        r"luks-%s: KDF ended; ran from [\d.]+ s to [\d.]+ s "
        r"\([\d.]+ s; CPU ([\d.]+) s\)" % re.escape(u), b.out)]
        for u in (a_uuid, b_uuid)}
    expect(len(cpu[a_uuid]) == 1 and len(cpu[b_uuid]) == 1,
           "not one logged KDF for each member: %s" % cpu)
    a_cpu, b_cpu = cpu[a_uuid][0], cpu[b_uuid][0]
    children = int(b.result("children_cpu_ms=")[len("children_cpu_ms="):])
    rest = children / 1000 - a_cpu - b_cpu
    print("  children's CPU %d ms: KDF jobs A %.2f s, B %.2f s, the rest %.2f s"
          % (children, a_cpu, b_cpu, rest))
    expect(rest < min(a_cpu, b_cpu) / 2, "the jobs used %.2f s of CPU beyond "
           "the two KDF jobs' (%.2f s and %.2f s): a KDF ran outside them"
           % (rest, a_cpu, b_cpu))
    p = prompts(b)
    expect(len(p) == 2 and p[1] == "Passphrase for luks-%s: " % b_uuid,
           "the retry did not ask for B alone: %s" % p)
    expect(kdf_starts(b, a_uuid) == 1, "A's KDF ran %d times" % kdf_starts(b, a_uuid))
    expect("already exists" not in b.out, "a mapping was made twice")
    # The kernel's count: A's mapping is the first attempt's, kept open.
    expect_mapping_older_than(b, "luks-%s" % a_uuid, "vdb")


@case
def dead_member_with_degraded_permission_boots_degraded():
    """B's header is unreadable; C (a third member, of no array) opens
    with the passphrase, but the kernel refuses its mapping (a cipher it
    lacks). Both are named for what they are, and neither costs a try:
    one passphrase, then the array mounts degraded on A."""
    c_uuid = luks_uuid("DIFF", 0)
    b = boot("dead_member_with_degraded_permission_boots_degraded",
             crypt2_cmdline("rd.btrfs.degraded=5 rd.luks.uuid=%s" % c_uuid),
             ["crypt2-a.img", "corrupt-b.img", "nocipher.img"],
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0)], timeout=120)
    booted_to_report(b)
    expect("luks-%s: LUKS header unreadable or corrupt" % luks_uuid("CRYPT2", 1)
           in b.out, "the dead member was not named")
    expect(re.search(r"luks-%s[^\n]*: its key is right, but device-mapper "
                     r"refused the mapping" % c_uuid, b.out),
           "the member the kernel cannot map was not named as such")
    expect(re.search(r"luks-%s: KDF ended; [^\n]*, key found, mapping refused"
                     % c_uuid, b.out), "its job's end does not say its key was found")
    expect("no key available" not in b.out,
           "a refused mapping was taken for a wrong passphrase")
    expect(len(prompts(b)) == 1, "asked %d times" % len(prompts(b)))
    expect(not any("name=luks-%s" % c_uuid in r for r in b.results),
           "the refused member is mapped in the booted system")
    expect(re.search(r"WARNING: mounting Btrfs on \S+ DEGRADED", b.out),
           "no loud degraded warning")
    root = b.result("root ")
    expect("degraded" in root, "not mounted degraded: " + root)
    devs = b.result("btrfs fsid=%s" % FX["CRYPT2_UUID"])
    expect(re.search(r"devices=1: dm-\d+$", devs), "not the one opened member: " + devs)


@case
def tries_1_different_passphrases_each_gets_its_prompt():
    b_uuid = luks_uuid("DIFF", 1)
    b = boot("tries_1_different_passphrases_each_gets_its_prompt",
             "root=UUID=%s rootflags=subvol=@root rd.luks.tries=1 rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["DIFF_UUID"], luks_uuid("DIFF", 0), b_uuid),
             ["diff-a.img", "diff-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0),
                     (r"Passphrase for luks-%s \(/dev/vdb\): " % b_uuid,
                      "other-pass\n", 0)])
    assert_array(b, "DIFF", 2)
    expect("tries exhausted" not in b.out, "the shared passphrase cost B its only try")


@case
def plain_disk_with_the_root_uuid_is_ignored():
    """A stranger's stick carries a Btrfs with the encrypted root's (public)
    UUID and an init of its own: the unlocked array boots, the stick is
    named and left out."""
    b = boot("plain_disk_with_the_root_uuid_is_ignored", crypt2_cmdline(),
             ["spoof.img", "crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(re.search(r"source=/dev/dm-\d+ ", b.result("root ")),
           "the root is not an unlocked member: " + b.result("root "))
    # Its one device is devid 1, which the unlocked member a holds.
    expect(re.search(r"ignoring /dev/vda \(btrfs, UUID=%s\): it claims a device "
                     r"ID an unlocked member holds" % FX["CRYPT2_UUID"], b.out),
           "the impostor was not named as claiming a member's device ID")
    expect("NOT encrypted" not in b.out, "the impostor joined the array")


@case
def mixed_plain_and_luks_array_admits_the_plain_half():
    """A RAID1 of one LUKS member (hdr-a) and one unencrypted disk (member
    b of the same array, never encrypted): the plain disk is held until
    the member is open, then admitted, loudly, because the unlocked array
    really lacks it; the root is the whole array, both devices."""
    b = boot("mixed_plain_and_luks_array_admits_the_plain_half",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s"
             % (FX["HDR_UUID"], luks_uuid("HDR", 0)),
             ["hdr-a.img", "plainmix-b.img"],
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0)],
             timeout=60)
    booted_to_report(b)
    devs = b.result("btrfs fsid=%s" % FX["HDR_UUID"])
    expect(re.search(r"devices=2: (dm-\d+ vdb|vdb dm-\d+)$", devs),
           "the array is not the unlocked member and the plain disk: " + devs)
    root = b.result("root ")
    expect("degraded" not in root, "mounted degraded: " + root)
    expect("WARNING: /dev/vdb is NOT encrypted but joins the root array as "
           "devid 2" in b.out, "the plain disk's admission was not said")


def kdf_spans(b):
    return [(float(s), float(e)) for s, e in re.findall(
        r"KDF ended; ran from ([\d.]+) s to ([\d.]+) s", b.out)]


@serial
@case
def memory_budget_serializes_kdfs_that_do_not_fit():
    """Three Argon2id members of 200 MiB each in a 640 MiB guest: together
    more than its memory. They run one after another, no OOM kill, and the
    log says why."""
    b = boot("memory_budget_serializes_kdfs_that_do_not_fit",
             "root=UUID=%s rootflags=subvol=@root " % FX["MEM_UUID"] +
             " ".join("rd.luks.uuid=%s" % luks_uuid("MEM", i) for i in range(3)),
             ["mem-a.img", "mem-b.img", "mem-c.img"], mem=640,
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=300)
    assert_array(b, "MEM", 3)
    expect("Out of memory" not in b.out and "oom" not in b.out.lower(),
           "the OOM killer ran")
    expect(b.out.count("KDF memory 204800 KiB") == 3, "not 200 MiB keyslots")
    expect("KDF waits for memory" in b.out, "the log does not say why a KDF waits")
    spans = sorted(kdf_spans(b))
    expect(len(spans) == 3, "KDF intervals not logged: %s" % spans)
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        expect(s2 >= e1 - 0.05, "KDFs ran at once beyond the budget: %s" % spans)
    print("  KDF intervals: %s" % spans)


@case
def kdf_larger_than_memory_is_a_clear_error():
    b = boot("kdf_larger_than_memory_is_a_clear_error",
             "root=UUID=%s rootflags=subvol=@root panic=0 " % FX["MEM_UUID"] +
             " ".join("rd.luks.uuid=%s" % luks_uuid("MEM", i) for i in range(3)),
             ["mem-a.img", "mem-b.img", "mem-c.img"], mem=200,
             script=[(PROMPT, "p\n", 0)], timeout=120)
    expect(not prompts(b), "asked for a passphrase that cannot be used")
    expect("Out of memory" not in b.out, "the OOM killer ran")
    expect(re.search(r"its KDF needs 200 MiB, more than the \d+ MiB of memory available",
                     b.out), "no clear message about the KDF's memory")
    failed_to_prompt(b, "cannot unlock luks-")


@case
def one_disk_listed_twice_is_opened_once():
    a_uuid = luks_uuid("CRYPT2", 0)
    b = boot("one_disk_listed_twice_is_opened_once",
             "root=UUID=%s rootflags=subvol=@root crypt_roots=/dev/vda "
             "rd.luks.uuid=%s rd.luks.uuid=%s"
             % (FX["CRYPT2_UUID"], a_uuid, luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect("names /dev/vda again; it is opened once" in b.out,
           "the second listing of /dev/vda was not recognised")
    expect(kdf_starts(b, a_uuid) == 1, "A's KDF ran %d times" % kdf_starts(b, a_uuid))
    expect(re.search(SHARED_PROMPT, b.out).group(1) == "2",
           "the prompt counts a disk twice")


@serial
@case
def member_with_reencryption_under_way_unlocks():
    b = boot("member_with_reencryption_under_way_unlocks", crypt2_cmdline(),
             ["reenc-a.img", "reenc-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=180)
    booted_to_report(b)
    expect("; a reencryption is under way" in b.out,
           "the reencryption was not recognised")
    expect("luks-%s: unlocked" % luks_uuid("CRYPT2", 1) in b.out,
           "the reencrypting member was not unlocked")
    devs = b.result("btrfs fsid=%s" % FX["CRYPT2_UUID"])
    expect(re.search(r"devices=2:( dm-\d+){2}$", devs),
           "not both members in the array: " + devs)
    # It ran alone: its KDF and activation overlap no other member's.
    spans = kdf_spans(b)
    expect(len(spans) == 2, "KDF intervals not logged: %s" % spans)
    (s1, e1), (s2, e2) = sorted(spans)
    expect(s2 >= e1 - 0.01, "the reencrypting member's job did not run alone: %s"
           % spans)
    # What the guest's kernel counted: both KDFs cost seconds, and two at
    # once on the guest's two vCPUs would use more CPU time than the whole
    # boot took (luks.py parallel_unlock_kdfs_overlap shows it does then).
    children = int(b.result("children_cpu_ms=")[len("children_cpu_ms="):])
    up = float(b.result("uptime=")[len("uptime="):].split()[0])
    expect(children > 4000, "the KDFs were not costly (%d ms): the check "
           "below would prove nothing" % children)
    expect(children < 1000 * up,
           "/init's jobs used %d ms of CPU in a %.2f s boot: two KDFs ran "
           "at once" % (children, up))
    print("  KDF intervals: %s; jobs' CPU %d ms in a %.2f s boot"
          % (spans, children, up))


@case
def ext4_with_the_root_uuid_is_ignored():
    b = boot("ext4_with_the_root_uuid_is_ignored", crypt2_cmdline(),
             ["spoof-ext4.img", "crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    expect(re.search(r"ignoring /dev/vda \(ext4, UUID=%s\): it claims to be the root"
                     % FX["CRYPT2_UUID"], b.out), "the impostor was not named")


@case
def no_member_open_no_impostor_stands_in():
    """Every member fails (one wrong passphrase, rd.luks.tries=1) while a
    degraded mount is allowed: the stick with the root's UUID is not
    mounted in their place."""
    b = boot("no_member_open_no_impostor_stands_in",
             crypt2_cmdline("rd.btrfs.degraded=2 rd.luks.tries=1 rootwait=3 panic=0"),
             ["spoof.img", "crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "wrong-pass\n", 0), (PROMPT, "p\n", 0)])
    expect(re.search(r"ignoring /dev/vda \(btrfs, UUID=%s\): no LUKS member could "
                     r"be opened" % FX["CRYPT2_UUID"], b.out),
           "the impostor was not named and refused")
    failed_to_prompt(b, "LUKS devices")
