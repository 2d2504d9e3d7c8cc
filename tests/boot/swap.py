"""Encrypted swap and resume from hibernation (issue 12, part 1)."""
import os
import re
import shutil
import subprocess

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)

# The same memory in every boot of a cycle: an image restores only into it.
MEM = 512
ROOT_DISKS = ["swaprt-a.img", "swaprt-b.img"]
ALL_DISKS = ROOT_DISKS + ["swap.img"]
# luksinit's own mount line, and the kernel's for a filesystem mounted.
MOUNT_SIGNS = ("luksinit: mounting ", "first mount of filesystem")


def genkernel_line(extra=""):
    """The genkernel patch's form: crypt_roots= per member, crypt_swaps=,
    resume= the swap member's mapping."""
    return ("root=UUID=%s rootflags=subvol=@root crypt_roots=UUID=%s "
            "crypt_roots=UUID=%s crypt_swaps=UUID=%s resume=/dev/mapper/swap %s"
            % (FX["SWAPRT_UUID"], luks_uuid("SWAPRT", 0),
               luks_uuid("SWAPRT", 1), FX["SWAP_LUKS"], extra)).strip()


def private_copy(name, disks=ALL_DISKS):
    """The fixture's disks copied for one test: a hibernation image written
    by one boot must be there for the next (the shared fixtures are only
    ever booted with -snapshot)."""
    d = os.path.join(BUILD, "swapcycle", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for img in disks:
        subprocess.run(["cp", "--sparse=always", os.path.join(FIX, img),
                        os.path.join(d, img)], check=True)
    return d


def boot_on(name, append, disk_dir, snapshot, timeout=240, disks=ALL_DISKS,
            script=((SHARED_PROMPT, PASS + "\n", 0),), extra_args=()):
    """A boot on the disks in disk_dir; written to unless snapshot."""
    os.makedirs(LOGS, exist_ok=True)
    res = run_guest(
        kernel=KERNEL, disks=[os.path.join(disk_dir, d) for d in disks],
        append=append, log=os.path.join(LOGS, name + ".log"),
        timeout=timeout, script=list(script), snapshot=snapshot, echo=False,
        mem=MEM, extra_args=list(extra_args))
    return Boot(res)


def hibernated_copy(name, extra_args=(), disks=ALL_DISKS):
    """A private copy of the disks holding a hibernation image, and the
    marker the hibernated process keeps. extra_args: the devices of the
    machine that is to resume it (the kernel refuses an image from a
    machine whose memory map differs)."""
    d = private_copy(name, disks)
    b = boot_on(name + "_hibernate", genkernel_line("init=/sbin/hibernate"),
                d, snapshot=False, extra_args=extra_args, disks=disks)
    marker = marker_of(b, "hibernating")
    expect(marker and b.res.shutdown == "poweroff",
           "the hibernating boot did not hibernate (%s)" % b.results)
    return d, marker


def one_prompt_for_all(b, n):
    expect(len(prompts(b)) == 1, "expected one prompt: %s" % prompts(b))
    m = re.search(SHARED_PROMPT, b.out)
    expect(m and m.group(1) == str(n),
           "the prompt does not cover all %d disks: %s" % (n, prompts(b)))


def dm_names(b):
    return {re.search(r"name=(\S+)", r).group(1)
            for r in b.results if r.startswith("dm ")}


def marker_of(b, prefix):
    for r in b.results:
        m = re.match(prefix + r" marker=([0-9a-f]{16})$", r)
        if m:
            return m.group(1)
    return None


@case
def swap_hibernate_noresume_then_resume():
    d = private_copy("cycle")
    # 1: the real init turns the encrypted swap on, keeps a marker and
    # hibernates into the swap; the machine powers off.
    b1 = boot_on("swap_hibernate_1_hibernate",
                 genkernel_line("init=/sbin/hibernate"), d, snapshot=False)
    no_panic(b1)
    expect(not b1.res.timed_out, "the hibernating boot timed out")
    one_prompt_for_all(b1, 3)
    errs = [r for r in b1.results if r.startswith("hibernate error")]
    expect(not errs, "hibernation failed: %s" % errs)
    marker = marker_of(b1, "hibernating")
    expect(marker, "the first boot printed no marker")
    expect(marker_of(b1, "resumed") is None,
           "the first boot resumed instead of powering off")
    expect(b1.res.shutdown == "poweroff",
           "the hibernated machine did not power off (%s)" % b1.res.shutdown)

    # 2: noresume boots normally, with the swap member open, writing to
    # the swap disk itself (the image must still be there for 3); the root
    # disks are copies, so that the hibernated system finds its filesystem
    # as it left it.
    d2 = os.path.join(BUILD, "swapcycle", "cycle-noresume")
    shutil.rmtree(d2, ignore_errors=True)
    os.makedirs(d2)
    for img in ROOT_DISKS:
        subprocess.run(["cp", "--sparse=always", os.path.join(d, img),
                        os.path.join(d2, img)], check=True)
    os.symlink(os.path.join(d, "swap.img"), os.path.join(d2, "swap.img"))
    b2 = boot_on("swap_hibernate_2_noresume", genkernel_line("noresume"), d2,
                 snapshot=False)
    shutil.rmtree(d2, ignore_errors=True)
    assert_array(b2, "SWAPRT", 2)
    one_prompt_for_all(b2, 3)
    expect("swap" in dm_names(b2),
           "the swap member is not open: %s" % dm_names(b2))
    expect(marker_of(b2, "resumed") is None, "noresume resumed")
    expect("resume: looking for" not in b2.out,
           "noresume: /init still handed the device to the kernel")

    # 3: the same disks, resume=: the kernel restores the image and the
    # hibernated process goes on, still holding its marker.
    b3 = boot_on("swap_hibernate_3_resume", genkernel_line(), d,
                 snapshot=False)
    no_panic(b3)
    expect(not b3.res.timed_out, "the resuming boot timed out")
    one_prompt_for_all(b3, 3)
    got = marker_of(b3, "resumed")
    expect(got == marker, "the resumed process did not print the marker "
           "it held (%r, expected %r)" % (got, marker))
    expect("resume: looking for a hibernation image on /dev/dm-" in b3.out,
           "/init did not hand the swap mapping to the kernel")
    before = b3.out[:b3.out.index("RESULT resumed")]
    for sign in MOUNT_SIGNS:
        expect(sign not in before,
               "a filesystem was mounted before the resume: %r" % sign)
    expect(not b3.has_result("done"), "the resumed boot ran the report: it "
           "booted instead of resuming")
    expect(b3.res.shutdown == "poweroff",
           "the resumed system did not power off (%s)" % b3.res.shutdown)
    shutil.rmtree(d, ignore_errors=True)


@case
def swap_dracut_style_no_image_boots_normally():
    """rd.luks.uuid= of the swap member plus resume=UUID= of the swap inside
    it: no image, so the boot goes on; the swap mapping is never taken for
    a Btrfs member."""
    swap_name = "luks-" + FX["SWAP_LUKS"]
    b = boot("swap_dracut_style_no_image_boots_normally",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s rd.luks.uuid=%s resume=UUID=%s"
             % (FX["SWAPRT_UUID"], luks_uuid("SWAPRT", 0),
                luks_uuid("SWAPRT", 1), FX["SWAP_LUKS"], FX["SWAP_UUID"]),
             ALL_DISKS, script=[(SHARED_PROMPT, PASS + "\n", 0)],
             timeout=180, mem=MEM)
    assert_array(b, "SWAPRT", 2)
    one_prompt_for_all(b, 3)
    expect(swap_name in dm_names(b),
           "the swap member is not open: %s" % dm_names(b))
    expect("resume: no hibernation image restored from /dev/dm-" in b.out,
           "no sign that the resume device was looked at")
    look = b.out.index("resume: looking for")
    for sign in MOUNT_SIGNS:
        expect(sign not in b.out[:look],
               "a filesystem was mounted before the resume: %r" % sign)


# A PARTUUID no disk of the tests carries.
NOBODYS_PARTUUID = "0badc0de-5eed-4b1d-8d1e-000000000024"


@waits
@case
def swap_member_absent_root_boots_without_resume():
    """The swap disk is not there: swap is not needed to boot, so the root
    boots after the bounded wait, with a warning naming it. resume= is a
    PARTUUID here (review L24): the kernel resolves that form itself and
    resumes from any disk carrying it before /init runs, so /init says so
    at start-up, once, on the console and in the kernel log."""
    b = boot("swap_member_absent_root_boots_without_resume",
             genkernel_line("resume=PARTUUID=" + NOBODYS_PARTUUID), ROOT_DISKS,
             script=[(SHARED_PROMPT, PASS + "\n", 0)], timeout=180, mem=MEM)
    assert_array(b, "SWAPRT", 2)
    warning = ("resume=PARTUUID=%s: the kernel resumes from this form "
               "itself" % NOBODYS_PARTUUID)
    logged = re.findall(r"\[\s*[\d.]+\] luksinit: " + re.escape(warning),
                        b.out)
    expect(len(logged) == 1, "the warning that the kernel resumes from "
           "resume=PARTUUID= unchecked is in the kernel log %d times, not "
           "once" % len(logged))
    first_prompt = re.search(SHARED_PROMPT, b.out).start()
    expect(warning in b.out[:first_prompt],
           "the warning did not come at start-up, before the prompt")
    m = re.search(r"\[\s*([\d.]+)\] luksinit: swap not found after (\d+) s: UUID=%s"
                  % FX["SWAP_LUKS"], b.out)
    expect(m, "no warning naming the missing swap member")
    # Its own wait: 10 s from the root being ready (the last KDF ended),
    # on the guest kernel's clock.
    ready = max(float(t) for t in re.findall(
        r"\[\s*([\d.]+)\] luksinit: [^\n]*KDF ended", b.out))
    waited = float(m.group(1)) - ready
    expect(9.5 <= waited <= 14, "the swap was waited for %.1f s after the root "
           "was ready, not 10" % waited)
    expect("resume=PARTUUID=%s: the resume device did not appear"
           % NOBODYS_PARTUUID in b.out, "no word that resume is skipped")
    expect("swap" not in dm_names(b), "a swap mapping appeared from nowhere")


@case
def swap_retry_after_a_mount_never_resumes():
    """A hibernation image is there, but the swap disk comes only after the
    first attempt mounted the root (and failed: no such init). The retry
    (r) opens the swap member, but must not resume: the root was mounted
    since, and a restored system would corrupt it."""
    # The kernel restores only into the same memory map, and the firmware
    # takes memory for each disk there at boot: both boots start with three
    # disks (when hibernating, the swap; when retrying, an empty stand-in,
    # the swap coming later behind a hot-plug port).
    d = os.path.join(BUILD, "swapcycle", "swap_retry")
    port = ["-device", "pcie-root-port,id=hp0,chassis=1,slot=1"]
    d, marker = hibernated_copy("swap_retry", extra_args=port)
    with open(os.path.join(d, "empty.img"), "wb") as f:
        f.truncate(16 << 20)
    late = port + [
        "-drive", "file=%s,format=raw,if=none,id=late0,cache=unsafe"
        % os.path.join(d, "swap.img")]
    plug = qemu_harness.Qmp("device_add", driver="virtio-blk-pci",
                            drive="late0", bus="hp0", id="late0-dev")
    b = boot_on("swap_retry_after_a_mount_never_resumes",
                genkernel_line("init=/sbin/nothere panic=0"), d,
                snapshot=True, disks=ROOT_DISKS + ["empty.img"],
                extra_args=late,
                script=[(SHARED_PROMPT, PASS + "\n", 0),
                        (PROMPT, [plug], 0),
                        # The emergency prompt names a disk that appears.
                        (r"new block device /dev/vd\w+; r retries", "r\n", 0),
                        (r"Passphrase for swap: ", PASS + "\n", 0),
                        (PROMPT, "p\n", 0)])
    no_panic(b)
    expect("swap: unlocked" in b.out, "the retry did not open the swap")
    expect("a filesystem was mounted since boot: resuming now could "
           "corrupt it; not resuming" in b.out,
           "no word that the retry does not resume")
    expect(marker_of(b, "resumed") is None,
           "the retry resumed the image after the root was mounted")
    expect("resume: looking for" not in b.out,
           "the resume device was handed to the kernel after a mount")
    powered_off_from_prompt(b)
    shutil.rmtree(d, ignore_errors=True)


def dm_dev_of(b, name):
    """The MAJ:MIN of the device-mapper device named name, or None."""
    for r in b.results:
        m = re.match(r"dmdev \S+ name=(\S+) dev=(\S+)$", r)
        if m and m.group(1) == name:
            return m.group(2)
    return None


@case
def swap_resume_refuses_a_stranger_with_the_swap_uuid():
    """resume=UUID= is public (it is on the command line): a plain disk
    whose swap signature carries the same UUID, attached first, must not
    be the resume device, or a crafted image on it would be restored past
    the encryption. /init takes the swap mapping it opened instead."""
    d = os.path.join(BUILD, "swapcycle", "stranger")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    stranger = os.path.join(d, "stranger.img")
    with open(stranger, "wb") as f:
        f.truncate(64 << 20)
    subprocess.run(["mkswap", "-q", "-U", FX["SWAP_UUID"], stranger],
                   check=True, stdout=subprocess.DEVNULL)
    swap_name = "luks-" + FX["SWAP_LUKS"]
    b = boot_on("swap_resume_refuses_a_stranger_with_the_swap_uuid",
                "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
                "rd.luks.uuid=%s rd.luks.uuid=%s resume=UUID=%s"
                % (FX["SWAPRT_UUID"], luks_uuid("SWAPRT", 0),
                   luks_uuid("SWAPRT", 1), FX["SWAP_LUKS"], FX["SWAP_UUID"]),
                FIX, snapshot=True, timeout=180,
                disks=[stranger] + ALL_DISKS)
    assert_array(b, "SWAPRT", 2)
    want = dm_dev_of(b, swap_name)
    expect(want, "the swap member is not open: %s" % dm_names(b))
    got = b.result("power_resume=")
    expect(got == "power_resume=" + want,
           "the kernel was told to resume from %r, not the swap mapping "
           "(%s)" % (got, want))
    expect(re.search(r"/dev/vda: carries resume=UUID=%s but is no LUKS "
                     r"device luksinit opened" % FX["SWAP_UUID"], b.out),
           "/init did not name the refused device")
    shutil.rmtree(d, ignore_errors=True)


@case
def swap_member_at_its_own_prompt_is_waited_for():
    """The swap member's passphrase differs: the shared one opens the root
    members only, and the swap member asks for its own. The root is ready
    by then, but the swap's unlock must not be dropped (crypt_swaps=, no
    resume=): it is waited for, and opens."""
    d = os.path.join(BUILD, "swapcycle", "ownprompt")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    swap = os.path.join(d, "swap.img")
    subprocess.run(["cp", "--sparse=always", os.path.join(FIX, "swap.img"),
                    swap], check=True)
    other = os.path.join(d, "other.key")
    with open(other, "w") as f:
        f.write("swap-pass")
    subprocess.run(["cryptsetup", "luksChangeKey", "--batch-mode",
                    "--disable-locks", "--pbkdf", "pbkdf2",
                    "--pbkdf-force-iterations", "1000", "--key-file",
                    os.path.join(FIX, "pass.key"), swap, other], check=True)
    b = boot_on("swap_member_at_its_own_prompt_is_waited_for",
                "root=UUID=%s rootflags=subvol=@root crypt_roots=UUID=%s "
                "crypt_roots=UUID=%s crypt_swaps=UUID=%s"
                % (FX["SWAPRT_UUID"], luks_uuid("SWAPRT", 0),
                   luks_uuid("SWAPRT", 1), FX["SWAP_LUKS"]),
                FIX, snapshot=True, timeout=180,
                disks=ROOT_DISKS + [swap],
                # Typed after 12 s: a person's time does not count
                # against the swap's own 10 s wait.
                script=[(SHARED_PROMPT, PASS + "\n", 0),
                        (r"Passphrase for swap \(/dev/vdc\): ",
                         "swap-pass\n", 12)])
    assert_array(b, "SWAPRT", 2)
    expect("swap not found after" not in b.out,
           "the time at the swap's prompt counted against its wait")
    expect("swap" in dm_names(b),
           "the swap member's unlock was dropped: %s" % dm_names(b))
    shutil.rmtree(d, ignore_errors=True)


@waits
@case
def swap_disk_hung_in_its_kdf_does_not_hold_the_real_init():
    """Review 2026-12-07, M13: the swap member's disk stops answering after
    its header was read (QEMU throttles it to 1 byte/s before the
    passphrase is typed), so its KDF job hangs in the disk. The job is a
    child process, killed after 30 s stuck: the swap member is given up,
    the root boots, and the real init runs (no thread of PID 1 left in the
    disk to hold its execve)."""
    from .luks import named_disks, throttle
    b = boot("swap_disk_hung_in_its_kdf_does_not_hold_the_real_init",
             genkernel_line(), ROOT_DISKS,
             extra_args=named_disks(("diskswap", "swap.img")),
             script=[(r"swap: LUKS2 on ", [throttle("diskswap", 1)], 0),
                     # Typed 2 s later: QEMU has applied the throttle.
                     (SHARED_PROMPT, PASS + "\n", 2),
                     (r"RESULT init started", [throttle("diskswap", 0)], 0)],
             timeout=150, mem=MEM)
    expect(not b.res.qmp_errors, "QMP refused: %s" % b.res.qmp_errors)
    assert_array(b, "SWAPRT", 2)
    expect("swap" not in dm_names(b), "the hung swap member is open")
    started = float(re.search(r"\[\s*([\d.]+)\] [^\n]*KDF started",
                              b.out).group(1))
    switch = float(re.search(r"\[\s*([\d.]+)\] [^\n]*switching to the "
                             r"new root", b.out).group(1))
    # 30 s for the stuck job, then the root's own steps; the real init's
    # report (assert_array) shows its execve did not wait.
    expect(switch - started < 60, "the hand-over came %.1f s after the KDFs "
           "started" % (switch - started))
    print("  hand-over %.1f s after the KDFs started" % (switch - started))


@case
def swap_plain_root_with_only_a_luks_swap_resumes_from_it():
    """genkernel's crypt_swap= without crypt_root= (review M15): the root
    is a plain filesystem and the only LUKS member is the swap. The root
    must not be held back for members that would never form it: the swap
    member opens at its own prompt and, before any mount, its mapping is
    handed to the kernel, which restores the image on it. (The plain root
    has no hibernating init, so the image comes from the SWAPRT system of
    the same machine, the plain root's disk attached all along: the memory
    map must not change, and the restored system finds its disks as it
    left them.) First, with no image on the swap, the plain root boots."""
    line = ("root=UUID=%s rootflags=subvol=@root crypt_swap=UUID=%s "
            "resume=/dev/mapper/swap" % (FX["SINGLE_UUID"], FX["SWAP_LUKS"]))
    swap_prompt = [(r"Passphrase for swap[^:\n]*: ", PASS + "\n", 0)]
    b = boot_on("swap_plain_root_with_only_a_luks_swap_resumes_from_it-boot",
                line, FIX, snapshot=True, timeout=150,
                disks=["single.img", "swap.img"], script=swap_prompt)
    booted_to_report(b)
    root = b.result("root ")
    expect(root.startswith("root source=/dev/vda ") and
           "subpath=/@root" in root,
           "the plain root is not what was mounted: %s" % root)
    want = dm_dev_of(b, "swap")
    expect(want, "the swap member is not open: %s" % dm_names(b))
    expect(b.result("power_resume=") == "power_resume=" + want,
           "the kernel was told to resume from %r, not the swap mapping %s"
           % (b.result("power_resume="), want))

    disks = ALL_DISKS + ["single.img"]
    d, marker = hibernated_copy("plainroot", disks=disks)
    b = boot_on("swap_plain_root_with_only_a_luks_swap_resumes_from_it",
                line, d, snapshot=True, timeout=150, disks=disks,
                script=swap_prompt)
    shutil.rmtree(d, ignore_errors=True)
    no_panic(b)
    expect(not b.res.timed_out, "the resuming boot timed out")
    expect("ignoring /dev/vdd" not in b.out, "the plain root was refused")
    expect("swap: unlocked" in b.out, "the swap member did not open")
    look = b.out.find("resume: looking for a hibernation image on /dev/dm-")
    expect(look >= 0, "/init did not hand the swap mapping to the kernel")
    for sign in MOUNT_SIGNS:
        expect(sign not in b.out[:look],
               "a filesystem was mounted before the resume: %r" % sign)
    got = marker_of(b, "resumed")
    expect(got == marker, "the resumed process did not print the marker "
           "it held (%r, expected %r)" % (got, marker))
    expect(not b.has_result("done"), "the report ran: the plain root booted "
           "instead of the image being restored")
