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
    expect(b.out.count("(key file)") == 2, "key file not used for both")


@case
def retry_after_partial_unlock_reuses_open_member():
    """A opens, B is missing: the boot fails. B is plugged in, r is pressed:
    the retry asks only for B, runs no second KDF for A, and boots."""
    late = LateDisk("crypt2-b.img")
    a_uuid, b_uuid = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("retry_after_partial_unlock_reuses_open_member",
             crypt2_cmdline("rootwait=3 panic=0"), ["crypt2-a.img"],
             extra_args=late.args,
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0),
                     (PROMPT, late.plug, 0),
                     (r"virtio_blk.*\[vd[b-z]\]", "r\n", 2),
                     (r"Passphrase for [^:\n]*: ", PASS + "\n", 0)],
             timeout=150)
    assert_array(b, "CRYPT2", 2)
    expect("LUKS devices missing: UUID=%s" % b_uuid in b.out,
           "the first attempt did not fail for want of B")
    p = prompts(b)
    expect(len(p) == 2 and p[1] == "Passphrase for luks-%s: " % b_uuid,
           "the retry did not ask for B alone: %s" % p)
    expect(kdf_starts(b, a_uuid) == 1, "A's KDF ran %d times" % kdf_starts(b, a_uuid))
    expect("already exists" not in b.out, "a mapping was made twice")


@case
def dead_member_with_degraded_permission_boots_degraded():
    b = boot("dead_member_with_degraded_permission_boots_degraded",
             crypt2_cmdline("rd.btrfs.degraded=5"), ["crypt2-a.img", "corrupt-b.img"],
             script=[(r"Passphrase for [^:\n]*: ", PASS + "\n", 0)], timeout=120)
    booted_to_report(b)
    expect("on /dev/vdb): LUKS header unreadable or corrupt" in b.out or
           "LUKS header unreadable or corrupt" in b.out,
           "the dead member was not named")
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
