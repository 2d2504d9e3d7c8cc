"""The new root's init is checked before anything irreversible: what
execve() would refuse is reported with its reason, the initramfs stays
intact (a retry runs the whole boot again), and what it would run boots.
The inits are on single.img's root (tests/make-fixtures.sh,
add_test_inits)."""
from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


def refused_then_retried(name, init, reason, rootflags="subvol=@root"):
    """Boots with init=, expects it refused with reason, retries once (the
    same reason again: the initramfs, /sys and /proc are still there), then
    powers off from the prompt."""
    b = boot(name, "root=UUID=%s rootflags=%s init=%s panic=0"
             % (FX["SINGLE_UUID"], rootflags, init), ["single.img"],
             script=[(PROMPT, "r\n", 0),
                     (r"retrying boot(.|\n)*" + PROMPT, "p\n", 0)],
             timeout=120)
    full = "%s on the new root is not usable: %s" % (init, reason)
    failed_to_prompt(b, full)
    expect(b.out.count(full) >= 2,
           "the retry did not run the same check again")
    expect("cannot execute" not in b.out and "cannot make" not in b.out,
           "the switch was attempted anyway")
    return b


def booted_as(b, init, exe):
    booted_to_report(b)
    check_handover(b)
    expect(b.has_result("argv[0]=%s" % init),
           "init not started as %s: %s" % (init, b.results[:3]))
    expect(b.has_result("exe=%s" % exe),
           "not %s running: %s" % (exe, b.result("exe=")))


@case
def initcheck_symlink_init_boots():
    # /sbin/init-link -> /lib/systemd/systemd-fake, absolute: it must be
    # resolved inside the new root (the initramfs has no /lib).
    b = boot("initcheck_symlink_init_boots",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/init-link"
             % FX["SINGLE_UUID"], ["single.img"])
    booted_as(b, "/sbin/init-link", "/lib/systemd/systemd-fake")


@case
def initcheck_alt_init_boots():
    b = boot("initcheck_alt_init_boots",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/init-alt"
             % FX["SINGLE_UUID"], ["single.img"])
    booted_as(b, "/sbin/init-alt", "/sbin/init-alt")


@case
def initcheck_dynamic_init_without_interpreter():
    interp = FX["INIT_DYN_INTERP"]
    expect(interp.startswith("/"), "fixture: no interpreter recorded")
    refused_then_retried("initcheck_dynamic_init_without_interpreter",
                         "/sbin/init-dyn",
                         "its program interpreter %s is missing" % interp)


@case
def initcheck_script_without_interpreter():
    refused_then_retried("initcheck_script_without_interpreter",
                         "/sbin/init-script",
                         "its #! interpreter /bin/nothere is missing")


@case
def initcheck_elf_for_another_machine():
    refused_then_retried("initcheck_elf_for_another_machine",
                         "/sbin/init-arm",
                         "it is an ELF for another machine "
                         "(ARM, 32-bit, little-endian; this system runs "
                         "x86-64, 64-bit, little-endian)")


@case
def initcheck_text_file_is_not_a_program():
    refused_then_retried("initcheck_text_file_is_not_a_program",
                         "/sbin/init-text",
                         "it is not a program (neither an ELF binary nor "
                         "a #! script)")


@case
def initcheck_noexec_root():
    refused_then_retried("initcheck_noexec_root", "/sbin/init",
                         "the root is mounted noexec",
                         rootflags="subvol=@root,noexec")
