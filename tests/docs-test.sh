#!/usr/bin/env bash
# The documentation stays true and in one place each:
#   readme_length       README.md is at most 250 lines;
#   params_only_in_man  no table or list of kernel parameters outside
#                       luksinit(7): a Markdown table row (README.md,
#                       docs/*.md) whose first cell is a parameter of
#                       init/config/cmdline.c's table, three list items in one file
#                       that start with one, or a tagged entry (.TP) naming
#                       one in another manual page. Example command lines in
#                       code blocks are allowed;
#   relative_links      every relative link in README.md and docs/*.md
#                       points to a file that exists, and an #anchor into a
#                       Markdown file to one of its headings;
#   man_groff_warnings  groff -ww prints no warning for any page in man/;
#   man_man_warnings    nor does man --warnings;
#   layout_table        the folders in the first column of the README's
#                       "Layout" table are exactly the folders git tracks:
#                       the top-level ones and those directly under init/.
# Prints "PLAN N", then "PASS docs/<case>" or "FAIL docs/<case>: why".
# usage: docs-test.sh [BUILD_DIR]   (no build is needed; the argument is
# accepted so that it runs like the other steps)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cases=(readme_length params_only_in_man relative_links man_groff_warnings
	man_man_warnings layout_table)
echo "PLAN ${#cases[@]}"
pass() { echo "PASS docs/$1"; }
fail() { echo "FAIL docs/$1: $2"; }

readme=$here/README.md
docs=("$readme")
for f in "$here"/docs/*.md; do
	[[ -f $f ]] && docs+=("$f")
done
mans=()
for f in "$here"/man/*.[1-8]; do
	[[ -f $f ]] && mans+=("$f")
done

# --- readme_length
max=250
n=$(wc -l <"$readme")
if [[ $n -le $max ]]; then pass readme_length; else fail readme_length "README.md has $n lines (at most $max: the reference belongs in the man pages and docs/)"; fi

# --- params_only_in_man
# cmdline.c moves into init/config/ with the folder layout: find it.
cmdline=$(find "$here/init" -name cmdline.c -print -quit 2>/dev/null)
params=()
if [[ -n $cmdline ]]; then
	mapfile -t params < <(sed -n 's/^[[:space:]]*{"\([^"]*\)", VAL_.*/\1/p' "$cmdline")
fi
if [[ ${#params[@]} -lt 20 ]]; then
	fail params_only_in_man "only ${#params[@]} parameters found in ${cmdline:-init/**/cmdline.c}: the test no longer reads its table"
else
	others=()
	for m in "${mans[@]}"; do
		[[ $(basename "$m") == luksinit.7 ]] || others+=("$m")
	done
	if ! out=$(python3 - "${params[*]}" "${#docs[@]}" "${docs[@]}" "${others[@]}" <<'PY'
import re, sys
params = sys.argv[1].split()
ndocs = int(sys.argv[2])
docs, mans = sys.argv[3:3 + ndocs], sys.argv[3 + ndocs:]
# A parameter as a table or list names it: followed by "=" ("root=SPEC",
# "`rd.luks.uuid=UUID`"), or alone as code ("`quiet`", "`ro` / `rw`");
# not "init/", "`resume.c`" or the English word in "resume safety".
alt = "|".join(re.escape(p) for p in sorted(params, key=len, reverse=True))
name = re.compile(r"`?(%s)=|`(%s)`" % (alt, alt))
# Names no English word shares (rd.luks.uuid, crypt_roots) count bare too:
# a table whose rows name them in any column is a parameter table.
odd = [p for p in params if "." in p or "_" in p]
bare = re.compile(r"(?<![\w./-])(%s)(?![\w/])" % "|".join(
    re.escape(p) for p in sorted(odd, key=len, reverse=True)))

def first_word(text):
    text = text.replace("*", "").strip()
    text = re.sub(r"^\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text
    return text

def param_table(rows, nrows, problems):
    """A table is a parameter table when most of its rows (two in three,
    at least three) name a parameter in some column."""
    if len(rows) >= 3 and 3 * len(rows) >= 2 * nrows:
        problems.append("a table of parameters at " + ", ".join(rows))


problems = []
for path in docs:
    fence = None
    items, table_rows, nrows = [], [], 0
    for no, line in enumerate(open(path, encoding="utf-8"), 1):
        s = line.strip()
        m = re.match(r"(`{3,}|~{3,})", s)
        if m:
            if fence is None:
                fence = m.group(1)[0]
            elif s[0] == fence:
                fence = None
            continue
        if fence:
            continue
        if s.startswith("|"):
            cells = s.strip("|").split("|")
            cell = first_word(cells[0]) if cells else ""
            if re.fullmatch(r"[\s:-]*", cells[0] if cells else ""):
                continue  # the separator row
            if name.match(cell):
                problems.append("%s:%d: table row for %s" % (path, no, cell.split()[0].strip("`")))
            elif any(name.search(c) or bare.search(c) for c in cells[1:]):
                table_rows.append("%s:%d" % (path, no))
            nrows += 1
            continue
        param_table(table_rows, nrows, problems)
        table_rows, nrows = [], 0
        m = re.match(r"\s*(?:[-*+]|\d+[.)])\s+(.*)", line)
        if m and name.match(first_word(m.group(1))):
            items.append("%s:%d" % (path, no))
    param_table(table_rows, nrows, problems)
    if len(items) >= 3:
        problems.append("a list of parameters at " + ", ".join(items))
for path in mans:
    prev = ""
    for no, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        m = re.match(r"\.(B|BI|BR)\s+(.*)", line)
        if prev in (".TP", ".TQ") and m:
            text = re.sub(r"\\f[BIRP]", "", m.group(2)).replace("\\-", "-")
            words = text.replace('"', " ").split()
            if words and re.fullmatch(r"(%s)(=.*)?" % alt, words[0]):
                problems.append("%s:%d: entry for %s" % (path, no, words[0]))
        prev = line
if len(problems) > 10:
    problems[10:] = ["and %d more" % (len(problems) - 10)]
print("\n".join(problems))
PY
	); then
		fail params_only_in_man "the check itself failed: $out"
	elif [[ -n $out ]]; then
		fail params_only_in_man "parameters are listed outside luksinit(7) (move them there, link to it): $(tr '\n' ';' <<<"${out//$here\//}")"
	else
		pass params_only_in_man
	fi
fi

# --- relative_links
if ! out=$(python3 - "${docs[@]}" <<'PY'
import os, re, sys

def slugs(path):
    """GitHub's heading anchors: lower case, punctuation dropped, blanks
    to '-', repeats numbered."""
    seen, out, fence = {}, set(), None
    for line in open(path, encoding="utf-8"):
        s = line.strip()
        m = re.match(r"(`{3,}|~{3,})", s)
        if m:
            fence = None if fence else m.group(1)[0]
            continue
        if fence:
            continue
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", lambda x: x.group(1) or "", m.group(1))
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else "%s-%d" % (slug, n))
    return out

link = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
ref = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
href = re.compile(r"<(?:a|img)\s[^>]*?(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
bad = []
for path in sys.argv[1:]:
    fence = None
    for no, line in enumerate(open(path, encoding="utf-8"), 1):
        s = line.strip()
        m = re.match(r"(`{3,}|~{3,})", s)
        if m:
            fence = None if fence else m.group(1)[0]
            continue
        if fence:
            continue
        text = re.sub(r"`[^`]*`", "", line)
        targets = link.findall(text) + ref.findall(text) + href.findall(text)
        for t in targets:
            if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", t):
                continue  # http:, https:, mailto:
            file, _, anchor = t.partition("#")
            target = path if not file else os.path.normpath(
                os.path.join(os.path.dirname(path), file))
            where = "%s:%d: %s" % (path, no, t)
            if not os.path.exists(target):
                bad.append(where + " (no such file)")
            elif os.path.relpath(target).split(os.sep)[0] == "build":
                bad.append(where + " (points into build/, which a clone lacks)")
            elif anchor and target.endswith(".md") and anchor not in slugs(target):
                bad.append(where + " (no such heading)")
if len(bad) > 10:
    bad[10:] = ["and %d more" % (len(bad) - 10)]
print("\n".join(bad))
PY
); then
	fail relative_links "the check itself failed: $out"
elif [[ -n $out ]]; then
	fail relative_links "$(tr '\n' ';' <<<"${out//$here\//}")"
else
	pass relative_links
fi

# --- man_groff_warnings, man_man_warnings
if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
	"$here/scripts/ensure-packages.sh" groff-base man-db >/dev/null 2>&1 || true
fi
warnings() { # TOOL: prints "page: warning" for each page that warns
	local m w
	for m in "${mans[@]}"; do
		case $1 in
		groff) w=$(groff -t -ww -man -z -Tutf8 "$m" 2>&1) ;;
		man) w=$(LC_ALL=C.UTF-8 MANWIDTH=80 MAN_DISABLE_SECCOMP=1 \
			man --warnings -l "$m" 2>&1 >/dev/null) ;;
		esac
		[[ -z $w ]] || printf '%s: %s; ' "${m#"$here"/}" "$(tr '\n' ' ' <<<"$w")"
	done
}
if [[ ${#mans[@]} -eq 0 ]]; then
	fail man_groff_warnings "no manual pages in man/"
	fail man_man_warnings "no manual pages in man/"
else
	if ! command -v groff >/dev/null; then
		fail man_groff_warnings "groff is not installed (Debian: groff-base)"
	elif w=$(warnings groff) && [[ -n $w ]]; then
		fail man_groff_warnings "$w"
	else
		pass man_groff_warnings
	fi
	if ! command -v man >/dev/null; then
		fail man_man_warnings "man is not installed (Debian: man-db)"
	elif w=$(warnings man) && [[ -n $w ]]; then
		fail man_man_warnings "$w"
	else
		pass man_man_warnings
	fi
fi

# --- layout_table
tracked=$(git -C "$here" ls-files -z 2>/dev/null | tr '\0' '\n')
if ! out=$(LUKSINIT_TRACKED=$tracked python3 - "$readme" "$here" <<'PY'
import os, re, sys
readme, top = sys.argv[1], sys.argv[2]
paths = [p for p in os.environ.get("LUKSINIT_TRACKED", "").split("\n") if p]
if not paths:  # not a git checkout: what is on disk
    for d, dirs, files in os.walk(top):
        dirs[:] = [x for x in dirs if x != ".git"]
        paths += [os.path.relpath(os.path.join(d, f), top) for f in files]
folders = set()
for p in paths:
    parts = p.split("/")
    if len(parts) >= 2:
        folders.add(parts[0])
    if len(parts) >= 3 and parts[0] == "init":
        folders.add("init/" + parts[1])

named, in_layout, rows = set(), False, 0
for line in open(readme, encoding="utf-8"):
    if re.match(r"#{1,6}\s", line):
        if in_layout and rows:
            break
        in_layout = re.match(r"#{1,6}\s+Layout\s*$", line) is not None
        continue
    if not in_layout:
        continue
    s = line.strip()
    if not s.startswith("|"):
        if rows:
            break
        continue
    rows += 1
    cell = s.strip("|").split("|")[0]
    if rows == 1 or re.fullmatch(r"[\s:-]*", cell):
        continue  # the header and separator rows
    cell = re.sub(r"[`*]", "", cell).strip()
    named.add(cell.strip("/").removeprefix("./"))
if not named:
    print("README.md has no table under a '## Layout' heading")
    sys.exit(0)
extra = sorted(named - folders)
missing = sorted(folders - named)
why = []
if extra:
    why.append("the table names folders git does not track: " + " ".join(x + "/" for x in extra))
if missing:
    why.append("git tracks folders the table does not name: " + " ".join(x + "/" for x in missing))
print("; ".join(why))
PY
); then
	fail layout_table "the check itself failed: $out"
elif [[ -n $out ]]; then
	fail layout_table "$out"
else
	pass layout_table
fi
exit 0
