"""Firmware on demand."""
import os
import re
import subprocess

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


# ---- firmware on demand (issue 6) ------------------------------------------

FWDIR = os.path.join(FIX, "fw")


def fnv1a(path):
    h = 1469598103934665603
    with open(path, "rb") as f:
        for byte in f.read():
            h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def fw_initrd(name, requests, extra=(), lib="/lib"):
    """A test initramfs overlay: the fwtrigger helper (rdinit=/fwtrigger),
    its request list, and one firmware file a user chose to embed (under
    lib: /usr/lib for a merged /usr, where /lib is a link to usr/lib)."""
    d = os.path.join(BUILD, "fwtest")
    os.makedirs(d, exist_ok=True)
    lst = os.path.join(d, name + ".list")
    with open(scratch_path(lst), "w") as f:
        f.write("".join(r + "\n" for r in requests))
    os.replace(scratch_path(lst), lst)
    merged = ["dir /usr 0755 0 0", "slink /lib usr/lib 0777 0 0"] if lib != "/lib" else []
    return overlay_initrd(name, [
        "file /fwtrigger %s/fwtrigger 0755 0 0" % BUILD,
        "file /fwtest.list %s/%s.list 0644 0 0" % (d, name)] + merged + [
        "dir %s 0755 0 0" % lib, "dir %s/firmware 0755 0 0" % lib,
        "dir %s/firmware/luksinit-test 0755 0 0" % lib,
        "file %s/firmware/luksinit-test/initramfs.bin %s/initramfs.bin 0644 0 0"
        % (lib, FWDIR)] + list(extra))


def fw_boot(name, requests, type_after=3, kernel=None, timeout=90, extra="",
            initrd_extra=(), lib="/lib", typed_when=SHARED_PROMPT):
    """Boots the encrypted two-disk root; the passphrase is typed only
    type_after seconds after the prompt (typed_when: a pattern for the
    whole console so far), so the requests come while the real root is
    not there yet."""
    append = ("root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
              "rd.luks.uuid=%s rdinit=/fwtrigger %s"
              % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0), luks_uuid("CRYPT2", 1),
                 extra))
    os.makedirs(LOGS, exist_ok=True)
    res = run_guest(
        kernel=kernel or KERNEL, initrd=fw_initrd(name, requests, initrd_extra, lib),
        disks=[os.path.join(FIX, "crypt2-a.img"), os.path.join(FIX, "crypt2-b.img")],
        append=append, log=os.path.join(LOGS, name + ".log"), timeout=timeout,
        script=[(typed_when, PASS + "\n", type_after)], snapshot=True,
        echo=False)
    b = Boot(res)
    booted_to_report(b)
    return b


def held_last(b, name):
    """What the kernel's test driver holds in the booted system (the
    report hashes it), if name is the firmware it loaded last, else None.
    The kernel logs "loading" before it takes the driver's lock, so its
    order is the load order only because fwtrigger makes one request at
    a time (the at-sys one ends before the list starts)."""
    loaded = re.findall(r"test_firmware: loading '([^']*)'", b.out)
    held = [re.match(r"test_firmware bytes=(\d+) fnv=(\w+)$", r)
            for r in b.results if r.startswith("test_firmware bytes=")]
    if not (loaded and loaded[-1] == name and held and held[0]):
        return None
    return dict(bytes=int(held[0].group(1)), fnv=held[0].group(2))


def fwtest(b, name):
    """What the "driver" (fwtrigger) got for name: its outcome line (rc,
    how long it waited), and the bytes it got. Those come in a second
    line, once hashed; /init may kill the helper before it (it kills
    every process just before the real init runs, a moment after it
    answers a request held for the root). Then the booted system's view
    stands in, if name is the last firmware the driver loaded; when both
    are there, they must agree."""
    out = data = None
    for r in b.results:
        m = re.match(r"FWTEST name=(\S+) rc=(\d+) waited_ms=(\d+)$", r)
        if m and m.group(1) == name and out is None:
            out = dict(rc=int(m.group(2)), waited=int(m.group(3)))
        m = re.match(r"FWTEST data name=(\S+) bytes=(\d+) fnv=(\w+)$", r)
        if m and m.group(1) == name and data is None:
            data = dict(bytes=int(m.group(2)), fnv=m.group(3))
    if out is None:
        raise AssertionError("no FWTEST result for %s" % name)
    held = held_last(b, name) if out["rc"] == 0 else None
    if data and held:
        expect(data == held, "%s: the helper hashed %s, the booted system's "
               "driver holds %s" % (name, data, held))
    if data is None:
        if held is None:
            raise AssertionError("no FWTEST data for %s, and it is not the "
                                 "firmware the driver holds last" % name)
        print("  %s: the helper was killed before it hashed it; the "
              "booted system's driver holds it" % name)
        data = held
    out.update(data)
    return out


def expect_identical(b, name, local):
    r = fwtest(b, name)
    size = os.path.getsize(os.path.join(FWDIR, local))
    expect(r["rc"] == 0, "request for %s failed: %s" % (name, r))
    expect(r["bytes"] == size and r["fnv"] == fnv1a(os.path.join(FWDIR, local)),
           "%s: driver got %d bytes, not the %d of %s" % (name, r["bytes"], size, local))
    return r


def expect_clean_firmware_state(b, force="0", timeout="60"):
    expect(b.has_result("fw_pending=0"), "firmware requests left hanging")
    expect(b.has_result("fw_timeout=" + timeout),
           "firmware timeout not restored: %s" % b.result("fw_timeout="))
    expect(b.has_result("fw_force_sysfs_fallback=" + force),
           "force_sysfs_fallback not restored: %s"
           % b.result("fw_force_sysfs_fallback="))


@case
def firmware_from_initramfs_and_held_for_root():
    # A synchronous request (ASYNC=0: maybe a probe holding its bus) is
    # refused at once; an asynchronous one is held until the root.
    # While it is held, a forger in the initramfs says in the kernel's
    # words that the request went away and came back for another file
    # (one the initramfs has): an /init that believed it would answer the
    # real request with that file's bytes.
    b = fw_boot("firmware_from_initramfs_and_held_for_root",
                ["luksinit-test/initramfs.bin", "luksinit-test/comp-xz.bin",
                 "forge:luksinit-test/root-only.bin=luksinit-test/initramfs.bin",
                 "async:luksinit-test/root-only.bin"],
                typed_when=r"(?s)(?=.*FWTEST forged)(?=.*%s)" % SHARED_PROMPT)
    expect(re.search(r"FWTEST forged devpath=/devices/\S+ sent=2", b.out),
           "the forger could not forge the request's remove and add: %s"
           % (re.findall(r"FWTEST forged.*", b.out) or "it said nothing"))
    r1 = expect_identical(b, "luksinit-test/initramfs.bin", "initramfs.bin")
    r0 = fwtest(b, "luksinit-test/comp-xz.bin")
    expect(r0["rc"] != 0 and r0["waited"] < 3000,
           "a synchronous request was held: %s" % r0)
    expect("firmware luksinit-test/comp-xz.bin: aborted (not in the initramfs; "
           "the requester waits for it" in b.out, "no reason for refusing it")
    r2 = expect_identical(b, "luksinit-test/root-only.bin", "root-only.bin")
    # The kernel loads what the initramfs has by itself (direct loading
    # from the current root); /init serves it only where the kernel can't.
    expect(r1["waited"] < 2000, "firmware in the initramfs was held: %s" % r1)
    expect("firmware luksinit-test/root-only.bin: not in the initramfs; held"
           in b.out, "root-only firmware not held")
    expect("firmware luksinit-test/root-only.bin: served from /newroot/lib/firmware/"
           in b.out, "held firmware not served from the real root")
    expect(r2["waited"] > 2000, "the request was not held until the root: %s" % r2)
    print("  waited: initramfs %d ms, held for root %d ms" % (r1["waited"], r2["waited"]))
    expect_clean_firmware_state(b)
    expect(b.out.count("ignored a uevent that did not come from the kernel")
           >= 2, "the forged remove and add were not seen and dropped")


@case
def firmware_zst_served_decompressed():
    b = fw_boot("firmware_zst_served_decompressed", ["async:luksinit-test/comp-zst.bin"])
    expect_identical(b, "luksinit-test/comp-zst.bin", "comp-zst.bin")
    expect("luksinit-test/comp-zst.bin.zst" in b.out, "not served from the .zst")


def held_then_served_from(name, expected, place):
    """One request held until the real root (requests are made one after
    another, and those after the hand-over are the kernel's own), where
    the name exists twice with other bytes: place must win."""
    b = fw_boot("firmware_real_root_" + name.replace("-", "_"),
                ["async:luksinit-test/%s.bin" % name])
    expect_identical(b, "luksinit-test/%s.bin" % name, expected)
    expect("firmware luksinit-test/%s.bin: served from /newroot/lib/firmware/%s,"
           % (name, place) in b.out, "not served from %s" % place)


@case
def firmware_real_root_plain_over_zst():
    # A plain file wins over a .zst in its own directory and in updates/.
    held_then_served_from("order-plain", "root-only.bin", "luksinit-test/order-plain.bin")


@case
def firmware_real_root_zst_over_xz():
    held_then_served_from("order-zst", "initramfs.bin", "luksinit-test/order-zst.bin.zst")


@case
def firmware_real_root_updates_first():
    held_then_served_from("order-updates", "initramfs.bin",
                          "updates/luksinit-test/order-updates.bin.zst")


@case
def firmware_xz_served_decompressed():
    b = fw_boot("firmware_xz_served_decompressed", ["async:luksinit-test/comp-xz.bin"])
    expect_identical(b, "luksinit-test/comp-xz.bin", "comp-xz.bin")
    expect("luksinit-test/comp-xz.bin.xz" in b.out, "not served from the .xz")


@case
def firmware_missing_aborted_at_root_mount():
    b = fw_boot("firmware_missing_aborted_at_root_mount", ["async:luksinit-test/nowhere.bin"])
    r = fwtest(b, "luksinit-test/nowhere.bin")
    expect(r["rc"] != 0 and r["bytes"] == 0, "missing firmware did not fail: %s" % r)
    expect("firmware luksinit-test/nowhere.bin: aborted (not on the real root either)"
           in b.out, "no abort message")
    expect(r["waited"] < 20000, "the driver waited %d ms: not aborted right after "
           "the mount" % r["waited"])
    print("  missing firmware: the driver waited %d ms (kernel timeout 60000)" % r["waited"])
    expect_clean_firmware_state(b)


@case
def firmware_hostile_names_big_file_and_slow_passphrase():
    # The kernel's own timeout is 5 s here (fwtrigger sets it before /init
    # starts): a request held past it was held by /init, not the default.
    b = fw_boot("firmware_hostile_names_big_file_and_slow_passphrase",
                ["../../etc/fwsecret", "/etc/fwsecret", "async:luksinit-test/big.bin"],
                type_after=10, extra="fwtest_timeout=5")
    for name in ("../../etc/fwsecret", "/etc/fwsecret"):
        r = fwtest(b, name)
        expect(r["rc"] != 0 and r["bytes"] == 0, "hostile %s not refused: %s" % (name, r))
        expect(r["waited"] < 10000, "hostile %s was held: %s" % (name, r))
    # Kernel 6.1 already refuses ".." itself; /init refuses what reaches
    # it (the absolute path) and would refuse ".." too (unit-tested).
    expect("refused, path contains '..' component" in b.out or
           "refused: unsafe name ../../etc/fwsecret" in b.out,
           "../../etc/fwsecret not refused")
    expect("firmware request refused: unsafe name /etc/fwsecret" in b.out,
           "/etc/fwsecret not refused by /init")
    expect("fwsecret: served" not in b.out, "something outside the firmware dirs was served")
    r = expect_identical(b, "luksinit-test/big.bin", "big.bin")
    expect(r["waited"] > 10000, "the passphrase was not typed after 10 s, "
           "twice the kernel's 5 s timeout: %s" % r)
    print("  6 MiB firmware delivered after the driver waited %d ms" % r["waited"])
    expect_clean_firmware_state(b, timeout="5")


@case
def firmware_kernel_without_fallback_uses_force_knob():
    # The test kernel is built without CONFIG_FW_LOADER_USER_HELPER_FALLBACK
    # (docs/FIRMWARE.md's recommendation), which only sets this knob's default
    # (fallback_table.c): request_firmware() never asks userspace unless
    # luksinit forces it while it runs, and gives the 0 back.
    b = fw_boot("firmware_kernel_without_fallback_uses_force_knob",
                ["async:luksinit-test/root-only.bin"],
                extra="sysctl.kernel.firmware_config.force_sysfs_fallback=0")
    expect_identical(b, "luksinit-test/root-only.bin", "root-only.bin")
    expect("forcing the sysfs fallback" in b.out, "knob not set in the initramfs")
    expect_clean_firmware_state(b, force="0")


@case
def firmware_requested_the_moment_sys_appears_is_held():
    """The recommended kernel (_FALLBACK off: force_sysfs_fallback is 0
    until /init sets it): a driver asking the moment /init mounts /sys,
    before /init is up (an early uevent's driver, a USB device), must not
    fall into a gap where the kernel fails the request at once: the
    fallback is forced as soon as /proc is there, before /sys, so the
    request waits in sysfs, is held, and is served from the real root."""
    b = fw_boot("firmware_requested_the_moment_sys_appears_is_held",
                ["at-sys:luksinit-test/root-only.bin"],
                extra="sysctl.kernel.firmware_config.force_sysfs_fallback=0")
    asked = re.search(r"\[\s*([\d.]+)\] test_firmware: loading "
                      r"'luksinit-test/root-only.bin'", b.out)
    up = re.search(r"\[\s*([\d.]+)\] luksinit: starting", b.out)
    expect(asked and up and float(asked.group(1)) < float(up.group(1)),
           "the request was not made during /init's start-up (%s, %s): the "
           "test did not ask early enough" % (asked and asked.group(0),
                                              up and up.group(0)))
    r = expect_identical(b, "luksinit-test/root-only.bin", "root-only.bin")
    expect(r["waited"] > 2000, "the request was not held until the root: %s" % r)
    expect("firmware luksinit-test/root-only.bin: served from /newroot/lib/firmware/"
           in b.out, "the request was not served from the real root")
    expect_clean_firmware_state(b, force="0")


@case
def firmware_class_path_searched_first():
    # One request: a second one, made the moment the first is answered,
    # races the hand-over (issue 10's case, tested there).
    b = fw_boot("firmware_class_path_searched_first",
                ["async:luksinit-test/path-first.bin"],
                extra="firmware_class.path=/opt/fw")
    expect_identical(b, "luksinit-test/path-first.bin", "path-first-custom.bin")
    expect("firmware luksinit-test/path-first.bin: served from /newroot/opt/fw/" in b.out,
           "not served from firmware_class.path")
    expect_clean_firmware_state(b)


# ---- /init's own serving from the initramfs (issue 10) ----------------------

def compressed(src, dst_name, tool):
    """src (a path) compressed with tool (zst or xz) into build/fwtest."""
    d = os.path.join(BUILD, "fwtest")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, dst_name)
    cmd = ["zstd", "-q", "-c", src] if tool == "zst" else ["xz", "-c", "--check=crc32", src]
    with open(scratch_path(out), "wb") as f:
        subprocess.run(cmd, stdout=f, check=True)
    os.replace(scratch_path(out), out)
    return out


HUGE_MIB = 40


def huge_firmware():
    """A firmware of HUGE_MIB MiB (a low-entropy pattern: its .xz is small)
    and its FNV-1a, cached beside it."""
    d = os.path.join(BUILD, "fwtest")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "huge.bin")
    if not os.path.exists(path + ".fnv"):
        block = bytes((i * 7 + i // 251) & 0xFF for i in range(65536))
        with open(scratch_path(path), "wb") as f:
            for i in range(HUGE_MIB * 16):
                f.write(block[i % 7:] + block[:i % 7])
        os.replace(scratch_path(path), path)
        with open(scratch_path(path + ".fnv"), "w") as f:
            f.write(fnv1a(path))
        os.replace(scratch_path(path + ".fnv"), path + ".fnv")
    return path, open(path + ".fnv").read()


@case
def firmware_initramfs_search_order_symlinks_and_huge_file():
    """Everything here is in the initramfs and compressed, which the test
    kernel (no FW_LOADER_COMPRESS) cannot load itself: /init serves it at
    once, in the kernel's order (firmware_class.path first, updates/ over
    the plain directory, .zst over .xz), follows symlinks that stay in the
    firmware tree (relative or absolute), refuses one that leads out of
    it, and streams a 40 MiB file without holding it. The layout is a
    merged /usr (/lib -> usr/lib), as on Debian, Fedora and Arch."""
    fw = "/usr/lib/firmware/order"
    up = "/usr/lib/firmware/updates/order"
    src = lambda n: os.path.join(FWDIR, n)  # noqa: E731
    huge, huge_fnv = huge_firmware()
    secret = os.path.join(BUILD, "fwtest", "secret.txt")
    with open(secret, "w") as f:
        f.write("not firmware: must never be served\n")
    lines = ["dir /usr/lib/firmware/updates 0755 0 0", "dir %s 0755 0 0" % up,
             "dir %s 0755 0 0" % fw, "dir /opt 0755 0 0", "dir /opt/fw 0755 0 0",
             "dir /opt/fw/order 0755 0 0", "dir /etc 0755 0 0"]
    files = [
        (up + "/one.bin.zst", compressed(src("path-first-custom.bin"), "u-one.zst", "zst")),
        (fw + "/one.bin.zst", compressed(src("path-first-plain.bin"), "p-one.zst", "zst")),
        (fw + "/two.bin.zst", compressed(src("initramfs.bin"), "two.zst", "zst")),
        (fw + "/two.bin.xz", compressed(src("root-only.bin"), "two.xz", "xz")),
        ("/opt/fw/order/three.bin.xz", compressed(src("comp-xz.bin"), "c-three.xz", "xz")),
        (up + "/three.bin.xz", compressed(src("comp-zst.bin"), "u-three.xz", "xz")),
        ("/etc/evil.bin.zst", compressed(secret, "evil.zst", "zst")),
        (fw + "/huge.bin.xz", compressed(huge, "huge.xz", "xz")),
    ]
    lines += ["file %s %s 0644 0 0" % f for f in files]
    lines += ["slink %s/rel.bin.zst two.bin.zst 0777 0 0" % fw,
              "slink %s/abs.bin.zst /lib/firmware/order/two.bin.zst 0777 0 0" % fw,
              "slink %s/evil.bin.zst /etc/evil.bin.zst 0777 0 0" % fw]
    b = fw_boot("firmware_initramfs_search_order_symlinks_and_huge_file",
                ["order/one.bin", "order/two.bin", "order/three.bin", "order/rel.bin",
                 "order/abs.bin", "order/evil.bin", "order/huge.bin"],
                extra="firmware_class.path=/opt/fw/", initrd_extra=lines, timeout=150,
                lib="/usr/lib")
    expect_identical(b, "order/one.bin", "path-first-custom.bin")   # updates/ first
    expect_identical(b, "order/two.bin", "initramfs.bin")           # .zst over .xz
    expect_identical(b, "order/three.bin", "comp-xz.bin")           # path= first
    expect_identical(b, "order/rel.bin", "initramfs.bin")
    expect_identical(b, "order/abs.bin", "initramfs.bin")
    r = fwtest(b, "order/evil.bin")
    expect(r["rc"] != 0 and r["bytes"] == 0, "a link out of the firmware tree was served: %s" % r)
    expect("order/evil.bin.zst: refused, it leads outside the firmware directories"
           in b.out, "no reason given for the refusal")
    r = fwtest(b, "order/huge.bin")
    expect(r["rc"] == 0 and r["bytes"] == HUGE_MIB << 20 and r["fnv"] == huge_fnv,
           "the %d MiB file did not arrive whole: %s" % (HUGE_MIB, r))
    m = re.search(r"luksinit: peak memory (\d+) KiB", b.out)
    expect(m, "/init did not report its peak memory")
    expect(int(m.group(1)) < 16 * 1024, "/init's peak memory was %s KiB while serving "
           "a %d MiB file: not streamed" % (m.group(1), HUGE_MIB))
    # The kernel's count, read by the booted system: the most PID 1 ever
    # had resident, /init's whole life included (execve keeps it).
    rss = int(b.result("maxrss_kb=")[len("maxrss_kb="):])
    expect(rss < 16 * 1024, "PID 1 had %d KiB resident at its peak (the kernel's "
           "count) while /init served a %d MiB file: not streamed" % (rss, HUGE_MIB))
    print("  %d MiB served from .xz in %d ms; /init's peak memory %s KiB "
          "(the kernel's count: %d KiB)" % (HUGE_MIB, r["waited"], m.group(1), rss))
