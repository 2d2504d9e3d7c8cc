#!/usr/bin/env bash
# make install / make uninstall: into a temporary DESTDIR (the tree, the
# lists naming the final paths: initramfs.list, ssh.list; the man pages),
# uninstall removing exactly that, and a kernel linked with an installed
# list booting (installed with PREFIX alone, so the list's path exists;
# nothing exported).
# Prints "PLAN N", then "PASS install/<case>" or "FAIL install/<case>: why".
set -uo pipefail
build=$(cd "${1:?usage: install-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
kdir=$(cat "$build/kernel.dir")
cases=(tree init list man_every_parameter man_pages_render tool_runs
	uninstall_exactly boot_installed_list)
echo "PLAN ${#cases[@]}"

work=$build/install-test
rm -rf "$work"
mkdir -p "$work"
pass() { echo "PASS install/$1"; }
fail() { echo "FAIL install/$1: $2"; }
umake() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$here" BUILD="$build" "$@"; }

dest=$work/dest
# Files of someone else's, where install writes: they must survive.
mkdir -p "$dest/usr/bin" "$dest/usr/share/man/man1"
echo other >"$dest/usr/bin/other-tool"
echo other >"$dest/usr/share/man/man1/other-tool.1"
# LIBDIR= is the system's library directory: luksinit's own is LUKSINITDIR=
# (the tree case fails if anything lands in usr/lib64).
if ! umake install DESTDIR="$dest" PREFIX=/usr LIBDIR=/usr/lib64 >"$work/install.log" 2>&1; then
	for c in "${cases[@]}"; do fail "$c" "make install failed: $(tail -n 20 "$work/install.log")"; done
	exit 1
fi

read -r -a tools <<<"$(umake print-host-tools)"
want=(usr/bin/other-tool usr/share/man/man1/other-tool.1
	usr/lib/luksinit/init usr/lib/luksinit/initramfs.list
	usr/share/man/man7/luksinit.7 usr/lib/luksinit/keymaps.list
	usr/lib/luksinit/dropbear usr/lib/luksinit/dropbearkey usr/lib/luksinit/ssh.list
	usr/lib/luksinit/ssh/passwd usr/lib/luksinit/ssh/group usr/lib/luksinit/ssh/shells)
# The keymaps the build embeds (KEYMAPS=), installed for a list of their own.
while read -r k; do
	want+=("usr/lib/luksinit/keymaps/$k")
done < <(sed -n 's|^file /usr/share/luksinit/keymaps/\([^ ]*\) .*|\1|p' "$build/keymaps.list")
for t in "${tools[@]}"; do
	want+=("usr/bin/$t")
	for m in "$here"/man/"$t".[1-8]; do
		[[ -f $m ]] && want+=("usr/share/man/man${m##*.}/$t.${m##*.}")
	done
done
got=$(cd "$dest" && find . -type f -o -type l | sed 's#^\./##' | sort)
exp=$(printf '%s\n' "${want[@]}" | sort)
if [[ $got == "$exp" ]]; then pass tree; else fail tree "$(diff <(echo "$exp") <(echo "$got") | tr '\n' ' ')"; fi

init=$dest/usr/lib/luksinit/init
if cmp -s "$init" "$build/init" && [[ $(stat -c %a "$init") == 755 ]]; then
	pass init
else
	fail init "not build/init with mode 0755"
fi

list=$dest/usr/lib/luksinit/initramfs.list
body() { grep -v '^#' "$1" | grep -v '^file /init '; }
if ! grep -qx 'file /init /usr/lib/luksinit/init 0755 0 0' "$list"; then
	fail list "no 'file /init /usr/lib/luksinit/init' line: $(grep '/init' "$list" | tr '\n' ' ')"
elif grep -v '^#' "$list" | grep -qF '$'; then
	fail list "a \${VAR} is left"
elif ! diff <(body "$here/initramfs.list") <(body "$list") >/dev/null; then
	fail list "it differs from initramfs.list in more than /init"
elif grep -v '^#' "$dest/usr/lib/luksinit/ssh.list" | grep -qF '$'; then
	fail list "a \${VAR} is left in ssh.list"
elif ! grep -qx 'file /sbin/dropbear /usr/lib/luksinit/dropbear 0755 0 0' "$dest/usr/lib/luksinit/ssh.list" ||
	! grep -q '^file /root/.ssh/authorized_keys /etc/luksinit/ssh/authorized_keys ' "$dest/usr/lib/luksinit/ssh.list"; then
	fail list "ssh.list does not name the installed dropbear and /etc/luksinit/ssh: $(grep -v '^#' "$dest/usr/lib/luksinit/ssh.list" | tr '\n' ' ')"
else
	pass list
fi

# Every parameter init/config/cmdline.c knows has an entry of its own in
# luksinit(7): a tag line (after .TP or .TQ) whose bold words name it, with
# its origin ([kernel], [dracut, systemd], ...). Matching anywhere in the
# page could not fail for short names (ro, rw, init, root, quiet, panic).
man_entries() {
	python3 - "$1" <<'PY'
import re, shlex, sys
origins = "kernel|genkernel|dracut|systemd|booster|luksinit"
tag = re.compile(r"\[(%s)(, (%s))*\]\s*$" % (origins, origins))
prev = ""
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    m = re.match(r"\.(B|BI|BR)\s+(.*)", line)
    if prev in (".TP", ".TQ") and m:
        text = re.sub(r"\\f[BIRP]", "", m.group(2)).replace("\\-", "-")
        try:
            args = shlex.split(text)
        except ValueError:
            args = text.split()
        if not tag.search(" ".join(args)):
            print("UNTAGGED " + line)
        # .B: all bold; .BI, .BR: the odd arguments are bold.
        bold = args if m.group(1) == "B" else args[0::2]
        for w in bold:
            if w.startswith("["):
                continue
            print("NAME " + w)
    prev = line
PY
}
entries=$(man_entries "$dest/usr/share/man/man7/luksinit.7")
missing=""
while IFS= read -r p; do
	grep -qE -- "^NAME ${p//./\\.}(=|\$)" <<<"$entries" || missing="$missing $p"
done < <(sed -n 's/^[[:space:]]*{"\([^"]*\)", VAL_.*/\1/p' "$here/init/config/cmdline.c")
untagged=$(sed -n 's/^UNTAGGED //p' <<<"$entries")
n=$(grep -c '^[[:space:]]*{"[^"]*", VAL_' "$here/init/config/cmdline.c")
if [[ $n -lt 20 ]]; then
	fail man_every_parameter "only $n parameters found in init/config/cmdline.c: the test no longer reads it"
elif [[ -n $missing ]]; then
	fail man_every_parameter "no entry in luksinit(7) for:$missing"
elif [[ -n $untagged ]]; then
	fail man_every_parameter "entries without an origin tag: $(tr '\n' ' ' <<<"$untagged")"
else
	pass man_every_parameter
fi

bad=""
while IFS= read -r m; do
	w=$(groff -t -man -ww -z -Tutf8 "$m" 2>&1)
	[[ -z $w ]] || bad="$bad ${m#"$dest"/}: $w"
done < <(find "$dest/usr/share/man" -name '*.[1-8]' ! -name 'other-tool.1')
if [[ -z $bad ]]; then pass man_pages_render; else fail man_pages_render "$bad"; fi

# A relink (scripts/link-kernel.sh, maybe another build's) sets
# INITRAMFS_SOURCE in the shared tree for a while: copy under its lock.
flock "$kdir/.luksinit-link.lock" cp "$kdir/.config" "$work/kernel.config"
if out=$("$dest/usr/bin/luksinit-check-kernel-config" "$work/kernel.config" 2>&1); then
	pass tool_runs
else
	fail tool_runs "$out"
fi

mkdir -p "$dest/usr/lib64"
umake uninstall DESTDIR="$dest" PREFIX=/usr LIBDIR=/usr/lib64 >"$work/uninstall.log" 2>&1
got=$(cd "$dest" && find . -type f -o -type l | sed 's#^\./##' | sort)
if [[ $got != $'usr/bin/other-tool\nusr/share/man/man1/other-tool.1' ]]; then
	fail uninstall_exactly "left or removed: $(echo "$got" | tr '\n' ' ') ($(tail -n 5 "$work/uninstall.log"))"
elif [[ -e $dest/usr/lib/luksinit ]]; then
	fail uninstall_exactly "usr/lib/luksinit is still there"
elif [[ ! -d $dest/usr/lib64 ]]; then
	fail uninstall_exactly "usr/lib64 (LIBDIR=, not luksinit's) was removed"
else
	pass uninstall_exactly
fi

# An installed list, linked into the kernel with nothing exported.
inst=$work/prefix
if ! umake install PREFIX="$inst" >"$work/install2.log" 2>&1; then
	fail boot_installed_list "make install PREFIX=$inst: $(tail -n 20 "$work/install2.log")"
elif ! env -u LUKSINIT_BUILD "$here/scripts/link-kernel.sh" "$kdir" \
	"$inst/lib/luksinit/initramfs.list" "$work/bzImage" >"$work/link.log" 2>&1; then
	fail boot_installed_list "link-kernel.sh: $(tail -n 20 "$work/link.log")"
else
	LUKSINIT_TEST_KERNEL=$work/bzImage LUKSINIT_TEST_LOGS=$build/logs/install \
		python3 "$here/tests/boot_tests.py" "$build" single_device_uuid_subvol 2>&1 |
		sed -n 's#^\(PASS\|FAIL\|RETRY\) boot/single_device_uuid_subvol\([ :]\)#\1 install/boot_installed_list\2#p'
fi
