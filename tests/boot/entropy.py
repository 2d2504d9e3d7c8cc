"""Booting without an RNG device (issue 14): nothing waits for entropy."""
import re

from .lib import *  # noqa: F401,F403 (the tests' vocabulary)


def stamp(b, rx):
    """The kernel timestamp of the first console line matching rx, or None."""
    for line in b.lines:
        m = re.match(r"\[\s*([\d.]+)\]", line)
        if m and re.search(rx, line):
            return float(m.group(1))
    return None


@serial
@case
def no_rng_device_header_read_before_crng_init():
    b = boot("no_rng_device_header_read_before_crng_init",
             "root=UUID=%s rootflags=subvol=@root rd.luks.uuid=%s "
             "rd.luks.uuid=%s" % (FX["CRYPT2_UUID"], luks_uuid("CRYPT2", 0),
                                  luks_uuid("CRYPT2", 1)),
             ["crypt2-a.img", "crypt2-b.img"],
             script=[(SHARED_PROMPT, PASS + "\n", 0)], rng=False)
    assert_array(b, "CRYPT2", 2)
    argv = " ".join(b.res.argv)
    expect("virtio-rng" not in argv and "rdrand=off" in argv,
           "the guest had an RNG device or RDRAND: %s" % argv)
    start = stamp(b, r"luksinit: starting")
    header = stamp(b, r"luksinit: luks-[0-9a-f-]+: LUKS2 on ")
    crng = stamp(b, r"random: crng init done")
    expect(start is not None and header is not None,
           "no timestamps for the start and the first header read")
    # The kernel's jitter entropy takes about 1.2 s under TCG; a header read
    # that waits for it comes after it, at once.
    expect(crng is None or header < crng - 0.5,
           "the first header was read at %.3f s, not well before crng init "
           "at %s s" % (header, crng))
    print("  start %.3f s, first header %.3f s, crng init %s"
          % (start, header, "%.3f s" % crng if crng else "after the boot"))
