"""The boot timeline picture of make bench (bench.py's Boots, drawn).

One bar per configuration, grouped by members: luksinit with plain and
with derived keyslots (its logged phases stacked), dracut on the same
disks (one bar: it logs no phases we can time), and the physical limit
(the trivial /init's boot, one KDF, the mount, hatched).
"""
import statistics

COLORS = ["#bbbbbb", "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3"]


def _rows(b, phases, ns, kinds):
    """(label, [(width, colour, hatch, legend)]) per bar, top to bottom."""
    rows = []
    for n in ns:
        for kind in kinds:
            med = {p: statistics.median(v) for p, v in b.ours[kind, n].items() if v}
            segs, start = [], 0.0
            for i, p in enumerate(phases):
                if p in med:
                    segs.append((med[p] - start, COLORS[i], None, p))
                    start = med[p]
            rows.append(("luksinit, %d, %s" % (n, kind), segs))
        for kind in kinds:
            if b.dra.get((kind, n)):
                rows.append(("dracut, %d, %s disks" % (n, kind),
                             [(statistics.median(b.dra[kind, n]), "#dddddd", "//",
                               "dracut: whole boot (phases not logged)")]))
        if n in b.limit:
            rows.append(("limit, %d" % n, [
                (statistics.median(b.base[n]), COLORS[0], "xx",
                 "limit: trivial /init's boot"),
                (statistics.median(b.kdf_alone), COLORS[3], "xx", "limit: one KDF"),
                (statistics.median(b.mount["derived", n]), COLORS[4], "xx",
                 "limit: the mount")]))
    return rows


def _panel(ax, rows, seen):
    for y, (label, segs) in enumerate(rows):
        start = 0.0
        for width, colour, hatch, legend in segs:
            ax.barh(y, width, left=start, color=colour, hatch=hatch,
                    edgecolor="black", linewidth=0.3,
                    label=None if legend in seen else legend)
            seen.add(legend)
            start += width
        ax.text(start + 0.05, y, "%.2f s" % start, va="center", fontsize=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()


def draw(b, phases, ns, kinds, runs_note, path):
    """Writes the picture to path; False if matplotlib is missing. The
    second panel leaves dracut out, so that luksinit's phases and the
    limit are drawn at a readable scale."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = _rows(b, phases, ns, kinds)
    zoom = [r for r in rows if not r[0].startswith("dracut")]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(12, 2.5 + 0.24 * (len(rows) + len(zoom))),
        gridspec_kw={"height_ratios": [len(rows), len(zoom)]})
    seen = set()
    _panel(top, rows, seen)
    _panel(bottom, zoom, seen)
    top.set_title("Boot timeline: kernel start → real /sbin/init, by members "
                  "and keyslots")
    bottom.set_title("The same without dracut, to scale", fontsize=9)
    bottom.set_xlabel("guest uptime (s), medians (%s); TCG, 2 vCPUs" % runs_note)
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True
