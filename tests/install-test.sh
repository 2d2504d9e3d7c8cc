#!/usr/bin/env bash
# make install / make uninstall: into a temporary DESTDIR (the tree, the
# list naming the final path, the man pages), uninstall removing exactly
# that, and a kernel linked with an installed list booting (installed with
# PREFIX alone, so the list's path exists; nothing exported).
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
if ! umake install DESTDIR="$dest" PREFIX=/usr >"$work/install.log" 2>&1; then
	for c in "${cases[@]}"; do fail "$c" "make install failed: $(tail -n 20 "$work/install.log")"; done
	exit 1
fi

read -r -a tools <<<"$(umake print-host-tools)"
want=(usr/bin/other-tool usr/share/man/man1/other-tool.1
	usr/lib/luksinit/init usr/lib/luksinit/initramfs.list
	usr/share/man/man7/luksinit.7)
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
else
	pass list
fi

# Every parameter init/cmdline.c knows is in luksinit(7).
page=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$dest/usr/share/man/man7/luksinit.7")
missing=""
while IFS= read -r p; do
	grep -qF -- "$p" <<<"$page" || missing="$missing $p"
done < <(sed -n 's/^[[:space:]]*{"\([^"]*\)", VAL_.*/\1/p' "$here/init/cmdline.c")
n=$(grep -c '^[[:space:]]*{"[^"]*", VAL_' "$here/init/cmdline.c")
if [[ $n -lt 20 ]]; then
	fail man_every_parameter "only $n parameters found in init/cmdline.c: the test no longer reads it"
elif [[ -n $missing ]]; then
	fail man_every_parameter "not in luksinit(7):$missing"
else
	pass man_every_parameter
fi

bad=""
while IFS= read -r m; do
	w=$(groff -t -man -ww -z -Tutf8 "$m" 2>&1)
	[[ -z $w ]] || bad="$bad ${m#"$dest"/}: $w"
done < <(find "$dest/usr/share/man" -name '*.[1-8]' ! -name 'other-tool.1')
if [[ -z $bad ]]; then pass man_pages_render; else fail man_pages_render "$bad"; fi

if out=$("$dest/usr/bin/luksinit-check-kernel-config" "$kdir/.config" 2>&1); then
	pass tool_runs
else
	fail tool_runs "$out"
fi

umake uninstall DESTDIR="$dest" PREFIX=/usr >"$work/uninstall.log" 2>&1
got=$(cd "$dest" && find . -type f -o -type l | sed 's#^\./##' | sort)
if [[ $got != $'usr/bin/other-tool\nusr/share/man/man1/other-tool.1' ]]; then
	fail uninstall_exactly "left or removed: $(echo "$got" | tr '\n' ' ') ($(tail -n 5 "$work/uninstall.log"))"
elif [[ -e $dest/usr/lib/luksinit ]]; then
	fail uninstall_exactly "usr/lib/luksinit is still there"
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
		sed -n 's#^\(PASS\|FAIL\) boot/single_device_uuid_subvol\([ :]\)#\1 install/boot_installed_list\2#p'
fi
