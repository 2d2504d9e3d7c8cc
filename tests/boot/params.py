"""Parameters people already have on their command lines (issue 11):
systemd/dracut's rd.luks.options=, rd.luks=, rd.luks.timeout=, genkernel's
crypt_root=, real_root=, real_init=, init_opts=, and the kernel's own words
for init."""
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)
from .documented import crypt2, dm_devices


@case
def luks_options_uuid_tries_1_gives_one_try():
    """rd.luks.options=UUID=A=tries=1: one wrong passphrase fails A (B has
    tries left); an option luksinit does not know is named; r retries."""
    a_uuid, b_uuid = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("luks_options_uuid_tries_1_gives_one_try",
             crypt2("panic=0 rd.luks.options=UUID=%s=tries=1,x-bogus-opt"
                    % a_uuid),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, "wrong-pass\n", 0),
                     (PROMPT, "r\n", 0),
                     (SHARED_PROMPT, PASS + "\n", 0)], timeout=150)
    # Said once, as the boot's failure (one failure channel).
    why = "no key available with the passphrases given (tries exhausted)"
    expect(re.search(r"boot failed: cannot unlock luks-%s \([^)]*\): %s"
                     % (a_uuid, re.escape(why)), b.out),
           "the boot did not fail for A, out of tries after one")
    expect(b.out.count(why) == 1,
           "the reason is not said exactly once: %d" % b.out.count(why))
    expect("luks-%s: no key available with this passphrase (2 tries left)"
           % b_uuid in b.out, "B did not keep its default tries")
    expect("ignoring rd.luks.options= x-bogus-opt: not supported by luksinit"
           in b.out, "the unknown option is not named in a warning")
    assert_array(b, "CRYPT2", 2)


@case
def luks_options_flags_reach_the_mapping_and_single_reaches_init():
    """Global options for B, A's own replace them; the dm-crypt flags show
    in the booted system's tables. The kernel's bare word "single" reaches
    the real init before the words after "--"."""
    a_uuid, b_uuid = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("luks_options_flags_reach_the_mapping_and_single_reaches_init",
             crypt2("rd.luks.options=no-write-workqueue,same-cpu-crypt "
                    "rd.luks.options=%s=no-read-workqueue,submit-from-crypt-cpus "
                    "single -- tail" % a_uuid),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    devs = dm_devices(b)
    a = devs.get("luks-" + a_uuid, {}).get("options", "").split(",")
    bb = devs.get("luks-" + b_uuid, {}).get("options", "").split(",")
    expect("no_read_workqueue" in a and "submit_from_crypt_cpus" in a and
           "no_write_workqueue" not in a and "same_cpu_crypt" not in a,
           "A's own options not in its table: %s" % devs)
    expect("no_write_workqueue" in bb and "same_cpu_crypt" in bb and
           "no_read_workqueue" not in bb,
           "the global options not in B's table: %s" % devs)
    expect(b.has_result("argv[1]=single") and b.has_result("argv[2]=tail")
           and b.has_result("init started pid=1 argc=3"),
           "the real init's argv is not [init, single, tail]: %s"
           % [r for r in b.results if r.startswith(("argv", "init started"))])


@case
def genkernel_crypt_root_real_root_real_init_init_opts():
    """A stock genkernel line: crypt_root= is /dev/mapper/root, real_root=
    names it; real_init= and init_opts= reach the real init (real_init=
    after an init= that names no program: only real_init= can boot)."""
    a_uuid, b_uuid = luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1)
    b = boot("genkernel_crypt_root_real_root_real_init_init_opts",
             "crypt_root=UUID=%s crypt_roots=UUID=%s real_root=/dev/mapper/root "
             "real_rootflags=subvol=@root init=/sbin/nothere real_init=/sbin/init "
             'init_opts="opt1 opt2"' % (a_uuid, b_uuid),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)])
    assert_array(b, "CRYPT2", 2)
    devs = dm_devices(b)
    expect("root" in devs and "luks-" + b_uuid in devs,
           "crypt_root= not opened as /dev/mapper/root: %s" % devs)
    expect(b.has_result("argv[1]=opt1") and b.has_result("argv[2]=opt2"),
           "init_opts= did not reach the real init")


@case
def luks_timeout_ends_the_wait_for_a_passphrase():
    """The unanswered question fails the boot with its reason; r at the
    failure prompt asks again, and the answer boots."""
    b = boot("luks_timeout_ends_the_wait_for_a_passphrase",
             crypt2("rd.luks.timeout=3 panic=0"),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(PROMPT, "r\n", 0), (SHARED_PROMPT, PASS + "\n", 0)],
             timeout=90)
    expect("boot failed: no passphrase was typed within 3 s" in b.out,
           "no clear message")
    expect(b.out.count("no passphrase was typed within 3 s") >= 1 and
           b.out.find("boot failed: no passphrase") < b.out.rfind("Passphrase for"),
           "r did not ask again after the failure")
    expect(len(prompts(b)) == 2, "not asked exactly twice: %s" % prompts(b))
    assert_array(b, "CRYPT2", 2)


@case
def luks_off_opens_nothing():
    """rd.luks=0: the plain root boots; the LUKS device listed is named and
    not waited for."""
    member = luks_uuid("CRYPT2", 0)
    b = boot("luks_off_opens_nothing",
             "root=UUID=%s rootflags=subvol=@root rd.luks=0 rd.luks.uuid=%s "
             "rootwait=5 panic=0" % (FX["SINGLE_UUID"], member),
             ["single.img"], script=[(PROMPT, "p\n", 0)])
    booted_to_report(b)
    expect("ignoring rd.luks= UUID=%s: not opened: LUKS is off (rd.luks=0)"
           % member in b.out, "the member listed is not named")
    expect(not prompts(b), "asked for a passphrase")
