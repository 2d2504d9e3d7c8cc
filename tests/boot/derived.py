"""Derived keyslots (issue 14): four Argon2id members enrolled with
luksinit-enroll, one costly KDF at boot."""
import os
import re
import subprocess

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


def der_cmdline(extra=""):
    return ("root=UUID=%s rootflags=subvol=@root " % FX["DER_UUID"] +
            " ".join("rd.luks.uuid=%s" % luks_uuid("DER", i)
                     for i in range(4)) + extra)


def spans(b, what):
    """(start, end) of each job of that kind the log reports."""
    return [(float(s), float(e)) for s, e in re.findall(
        r"%s ended; ran from ([\d.]+) s to ([\d.]+) s" % what, b.out)]


PRIMED = "its derived job starts and reads its header while the key it needs is made"


@serial
@case
def derived_four_argon2id_members_one_kdf():
    """b, c and d are derbig-*: their passphrase keyslot needs 2 GiB of
    Argon2id memory, twice the guest's, which /init refuses to run. The
    array boots only if they open through their derived keyslots. Their
    jobs start as the primary's KDF does and wait for its key; a wrong
    passphrase first ends them, the right one starts them again."""
    b = boot("derived_four_argon2id_members_one_kdf", der_cmdline(" rd.debug"),
             ["der-a.img", "derbig-b.img", "derbig-c.img", "derbig-d.img"],
             script=[(SHARED_PROMPT, "wrong-pass\n", 0),
                     (SHARED_PROMPT, PASS + "\n", 0)], timeout=240)
    assert_array(b, "DER", 4)
    expect(len(prompts(b)) == 2, "expected two prompts: %s" % prompts(b))
    expect(re.search(SHARED_PROMPT, b.out).group(1) == "4",
           "the prompt does not name four disks")
    expect(b.out.count("KDF memory 65536 KiB") == 1 and
           b.out.count("KDF memory 2097152 KiB") == 3,
           "not the primary at 64 MiB and three members at 2 GiB Argon2id")
    kdfs = spans(b, "KDF")
    derived = spans(b, "derived keyslot")
    expect(len(kdfs) == 2, "expected two costly KDFs (a wrong passphrase, "
           "then the right one), got %d" % len(kdfs))
    expect(b.out.count("KDF started") == 2, "not one KDF per passphrase")
    expect(len(derived) == 3,
           "expected three derived openings, got %d" % len(derived))
    primary = "luks-%s" % luks_uuid("DER", 0)
    expect("%s: unlocked (keyslot 0)" % primary in b.out,
           "the primary was not opened by its passphrase keyslot")
    for i in range(1, 4):
        expect("luks-%s: unlocked (keyslot 1, derived key" % luks_uuid("DER", i)
               in b.out, "member %d not opened through its derived keyslot" % i)
    # Started with each KDF, three at a time; the first three ended with
    # the wrong passphrase's KDF, before the second prompt.
    starts = [m.start() for m in re.finditer(re.escape(PRIMED), b.out)]
    second = [m.start() for m in re.finditer(SHARED_PROMPT, b.out)][1]
    expect(len(starts) == 6 and sum(p < second for p in starts) == 3,
           "expected the three derived jobs started before each KDF's end, "
           "twice: %d in all, %d before the second prompt"
           % (len(starts), sum(p < second for p in starts)))
    # Each got its key in the job that waited for it.
    expect(b.out.count("its key goes to its waiting job") == 3,
           "the derived keys did not go to the jobs that waited for them")
    expect("ended before its key came" not in b.out,
           "a waiting derived job ended before its key came")
    # Each derived opening costs a tiny part of the primary's KDF, and all
    # of them come after it (they need its volume key).
    ks, ke = kdfs[1]
    for s, e in derived:
        expect(s >= ke, "a derived opening started before the primary's key "
               "was known: %s vs %s" % ((s, e), (ks, ke)))
        expect(e - s < 0.25 * (ke - ks),
               "a derived opening took %.2f s, the KDF %.2f s"
               % (e - s, ke - ks))
    print("  KDF %.2f s; derived openings %s" % (
        ke - ks, ", ".join("%.3f s" % (e - s) for s, e in derived)))


@case
def derived_primary_absent_degraded_from_passphrase():
    primary = luks_uuid("DER", 0)
    b = boot("derived_primary_absent_degraded_from_passphrase",
             der_cmdline(" rd.btrfs.degraded=2"),
             ["der-b.img", "der-c.img", "der-d.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=300)
    booted_to_report(b)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    root = b.result("root ")
    expect("degraded" in root, "not mounted degraded: " + root)
    devs = b.result("btrfs fsid=%s" % FX["DER_UUID"])
    expect(re.search(r"devices=3:( dm-\d+){3}$", devs),
           "expected the three present members in the array: %s" % devs)
    expect(re.search(r"WARNING: mounting Btrfs on \S+ DEGRADED.*UUID=%s"
                     % primary, b.out), "no degraded warning naming the primary")
    expect(len(spans(b, "KDF")) == 3 and not spans(b, "derived keyslot"),
           "the members did not each open from the passphrase")
    for i in range(1, 4):
        expect(re.search(r"luks-%s: unlocked \(keyslot 0\)" % luks_uuid("DER", i),
                         b.out), "member %d not opened by the passphrase" % i)


def stale_member(name):
    """A copy of der-b whose token names der-a but whose derived keyslot was
    made from another volume key (as after re-keying the primary): enrolled
    by the tool from an impostor primary carrying der-a's LUKS UUID."""
    d = os.path.join(BUILD, "overlays")
    os.makedirs(d, exist_ok=True)
    member, fake = os.path.join(d, name + "-b.img"), os.path.join(d, name + "-fake-a.img")
    tool = os.path.join(BUILD, "luksinit-enroll")
    key = os.path.join(FIX, "pass.key")
    subprocess.run(["cp", "--sparse=always", os.path.join(FIX, "der-b.img"), member],
                   check=True)
    with open(fake, "wb") as f:
        f.truncate(24 * 1024 * 1024)
    for argv in (["cryptsetup", "luksFormat", "--batch-mode", "--disable-locks",
                  "--type", "luks2", "--pbkdf", "pbkdf2",
                  "--pbkdf-force-iterations", "1000", "--uuid",
                  luks_uuid("DER", 0), "--key-file", key, fake],
                 [tool, "--remove", member],
                 [tool, "--key-file", key, fake, member]):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    os.unlink(fake)
    return member


def kdf_span(b, name):
    """(start, end) of the costly KDF of member name, or None."""
    m = re.search(r"%s: KDF ended; ran from ([\d.]+) s to ([\d.]+) s" % name,
                  b.out)
    return (float(m.group(1)), float(m.group(2))) if m else None


@case
def derived_key_refused_falls_back_to_passphrase():
    """b's derived keyslot is stale (its key derives from a volume key the
    primary no longer has: a re-keyed primary); c's and d's tokens were
    edited to name a 600 MiB Argon2id keyslot (derkdf-*), two of which do
    not fit the guest at once. All three open with the passphrase."""
    stale = stale_member("stale")
    try:
        b = boot("derived_key_refused_falls_back_to_passphrase", der_cmdline(),
                 ["der-a.img", stale, "derkdf-c.img", "derkdf-d.img"],
                 script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=240)
    finally:
        os.unlink(stale)
    assert_array(b, "DER", 4)
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    names = ["luks-%s" % luks_uuid("DER", i) for i in range(4)]
    # The stale keyslot (L23): named as such, with what to do about it.
    expect(b.out.count("%s: keyslot 1 is stale" % names[1]) == 1,
           "the stale derived keyslot was not reported once as stale")
    expect(re.search(r"%s: keyslot 1 is stale.*OLD volume key still opens it"
                     r".*luksinit-enroll --remove /dev/disk/by-uuid/%s"
                     % (names[1], luks_uuid("DER", 1)), b.out),
           "the stale keyslot's line does not say the old key opens it and "
           "how to remove it")
    # The tokens naming an Argon2id keyslot (L21): refused before any KDF.
    for i in (2, 3):
        expect(re.search(r"%s: token 0 names keyslot 2, whose KDF is argon2id"
                         r" \(600 MiB\): not a derived keyslot" % names[i],
                         b.out), "member %d's Argon2id token not refused" % i)
    expect("opening keyslot 2" not in b.out,
           "a derived key was tried on an Argon2id keyslot")
    for i in (1, 2, 3):
        expect(re.search(r"%s: unlocked \(keyslot 0\)" % names[i], b.out),
               "member %d was not opened by the passphrase" % i)
    expect(len(spans(b, "KDF")) == 4 and len(spans(b, "derived keyslot")) == 1,
           "expected four KDFs (the primary's and the three refusing "
           "members') and one derived attempt")
    # Each charged its 600 MiB keyslot: more than the budget, so alone.
    c, d = kdf_span(b, names[2]), kdf_span(b, names[3])
    expect(c and d and (c[1] <= d[0] or d[1] <= c[0]),
           "the KDFs of the two members with a 600 MiB keyslot overlapped: "
           "%s %s" % (c, d))
