"""Plain Btrfs roots: root= forms, mount options, init and its arguments."""
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


@case
def single_device_uuid_subvol():
    b = boot("single_device_uuid_subvol",
             "root=UUID=%s rootflags=subvol=@root" % FX["SINGLE_UUID"],
             ["single.img"])
    booted_to_report(b)
    root = b.result("root ")
    expect("fstype=btrfs" in root and "subpath=/@root" in root,
           "wrong root: " + root)
    expect(" mountopts=ro," in root, "root not read-only by default: " + root)
    check_handover(b)


@case
def raid1_two_devices_uuid_subvol():
    b = boot("raid1_two_devices_uuid_subvol",
             "root=UUID=%s rootflags=subvol=@root" % FX["RAID1_UUID"],
             ["raid1-a.img", "raid1-b.img"])
    booted_to_report(b)
    root = b.result("root ")
    expect("fstype=btrfs" in root and "subpath=/@root" in root,
           "wrong root: " + root)
    devs = b.result("btrfs fsid=%s" % FX["RAID1_UUID"])
    expect(devs.endswith("devices=2: vda vdb") or
           devs.endswith("devices=2: vdb vda"),
           "not both RAID1 devices in the mounted filesystem: " + devs)
    check_handover(b)


@case
def label_rw_init_and_arguments():
    b = boot("label_rw_init_and_arguments",
             'root=LABEL=raid1 rw rootflags="subvol=@root,noatime" '
             'init=/sbin/init -- first "second arg"',
             ["raid1-b.img", "raid1-a.img"])
    booted_to_report(b)
    root = b.result("root ")
    expect(" mountopts=rw,noatime" in root, "rw/noatime not applied: " + root)
    expect(b.has_result("argv[1]=first") and
           b.has_result("argv[2]=second arg"),
           "init arguments after -- not passed: %s" % b.results[:4])
    check_handover(b)


@case
def root_by_device_path():
    b = boot("root_by_device_path",
             "root=/dev/vda rootfstype=btrfs rootflags=subvol=@root",
             ["single.img"])
    booted_to_report(b)
    expect("source=/dev/vda" in b.result("root "), b.result("root "))


@case
def root_never_appears_prompts_then_poweroff():
    b = boot("root_never_appears_prompts_then_poweroff",
             "root=UUID=0badc0de-0000-4000-8000-000000000000 rootwait=3 panic=0",
             ["single.img"],
             script=[(r"Press r \+ Enter to retry", "p\n", 0)], timeout=60)
    no_panic(b)
    expect("root=UUID=0badc0de-0000-4000-8000-000000000000 did not appear"
           in b.out, "no clear message naming the missing root")
    expect("/dev/vda btrfs UUID=%s" % FX["SINGLE_UUID"] in b.out,
           "the message does not list the devices that were there")
    expect(re.search(r"Press r \+ Enter to retry", b.out), "no console prompt")
    expect(not b.results, "something booted anyway")
    powered_off_from_prompt(b)


@case
def raid1_member_missing_is_an_error():
    b = boot("raid1_member_missing_is_an_error",
             "root=UUID=%s rootflags=subvol=@root rootwait=3 panic=0"
             % FX["RAID1_UUID"], ["raid1-a.img"],
             script=[(r"Press r \+ Enter to retry", "p\n", 0)], timeout=60)
    no_panic(b)
    expect("not all devices of that filesystem appeared" in b.out,
           "missing RAID1 member not reported")
    expect("Press r + Enter to retry" in b.out, "no console prompt")
    powered_off_from_prompt(b)
    expect(not b.results, "mounted with a member missing")


@case
def missing_init_keeps_initramfs_and_retries():
    b = boot("missing_init_keeps_initramfs_and_retries",
             "root=UUID=%s rootflags=subvol=@root init=/sbin/nothere panic=0"
             % FX["SINGLE_UUID"], ["single.img"],
             script=[(r"Press r \+ Enter to retry", "r\n", 0),
                     (r"retrying boot(.|\n)*Press r \+ Enter to retry",
                      "p\n", 0)],
             timeout=60)
    no_panic(b)
    expect("/sbin/nothere on the new root is not usable" in b.out,
           "no clear message about the missing init")
    # The second report also proves kmsg's rate limit is lifted: it is
    # more than the 10 lines a writer may log by default.
    expect(b.out.count("/sbin/nothere on the new root is not usable") >= 2,
           "retry did not run the boot again")
    expect(not b.results, "something booted anyway")
