#!/usr/bin/env bash
# Compiles the keymaps to embed and writes the initramfs list lines that
# carry them (/usr/share/luksinit/keymaps/NAME.lkm, init/console/keymap.h).
#
# Usage: scripts/keymaps.sh BUILD-DIR "KEYMAP..."
#
# Each KEYMAP is a name loadkeys finds in Debian's console-data keymaps
# (de-latin1, fr, jp106) or a path to a keymap file (.map, .kmap, maybe
# gzipped); its name at boot is the file name without those suffixes.
# Writes BUILD-DIR/keymaps/NAME.lkm and BUILD-DIR/keymaps.list; a file is
# only replaced when its contents change (so the kernel is relinked only
# then), and the list is touched when any keymap changed.
#
#        scripts/keymaps.sh --install BUILD-DIR DESTDIR LUKSINITDIR
#        scripts/keymaps.sh --uninstall DESTDIR LUKSINITDIR
#
# make install puts the built keymaps in LUKSINITDIR/keymaps/ and
# LUKSINITDIR/keymaps.list, the list lines naming them there (to name
# second in CONFIG_INITRAMFS_SOURCE); make uninstall removes what that list
# names, the list, and the directory if it is then empty.
set -euo pipefail
die() { echo "keymaps: $*" >&2; exit 1; }

if [[ ${1:-} == --install ]]; then
	[[ $# -eq 4 ]] || die "usage: $0 --install BUILD-DIR DESTDIR LUKSINITDIR"
	build=$2 dest=$3$4
	install -d "$dest/keymaps"
	sed -n 's|^file /usr/share/luksinit/keymaps/\([^ ]*\) .*|\1|p' "$build/keymaps.list" |
		while read -r f; do
			install -m 0644 "$build/keymaps/$f" "$dest/keymaps/$f"
		done
	sed -e 's|^# Keymaps embedded with|# Keymaps installed with|' \
		-e "s|\${LUKSINIT_BUILD}/keymaps/|$4/keymaps/|" \
		"$build/keymaps.list" >"$dest/keymaps.list.tmp"
	chmod 0644 "$dest/keymaps.list.tmp"
	mv -f "$dest/keymaps.list.tmp" "$dest/keymaps.list"
	exit 0
fi
if [[ ${1:-} == --uninstall ]]; then
	[[ $# -eq 3 ]] || die "usage: $0 --uninstall DESTDIR LUKSINITDIR"
	dest=$2$3
	if [[ -f $dest/keymaps.list ]]; then
		sed -n 's|^file /usr/share/luksinit/keymaps/\([^ ]*\) .*|\1|p' "$dest/keymaps.list" |
			while read -r f; do rm -f "$dest/keymaps/$f"; done
		rm -f "$dest/keymaps.list"
	fi
	if [[ -d $dest/keymaps ]]; then
		rmdir --ignore-fail-on-non-empty "$dest/keymaps"
	fi
	exit 0
fi

[[ $# -eq 2 ]] || die "usage: $0 BUILD-DIR \"KEYMAP...\""
build=$1
read -r -a keymaps <<<"$2"
here=$(dirname "${BASH_SOURCE[0]}")

dir=$build/keymaps
mkdir -p "$dir"
list=$build/keymaps.list
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# On Debian the packages come from the mirror; elsewhere (Gentoo's
# sys-apps/kbd, say) the host's loadkeys and its keymaps are used.
if [[ ${#keymaps[@]} -gt 0 ]]; then
	if command -v dpkg-query >/dev/null; then
		"$here/ensure-packages.sh" kbd console-data python3
	elif ! command -v loadkeys >/dev/null; then
		die "KEYMAPS=\"${keymaps[*]}\" needs loadkeys (kbd); KEYMAPS= embeds none"
	fi
fi

changed=
{
	echo "# Keymaps embedded with KEYMAPS=\"${keymaps[*]}\" (scripts/keymaps.sh)."
	# The kernel makes no parent directories while unpacking; a second
	# "dir /usr" elsewhere in the list is harmless. Not under /lib: a
	# merged-/usr list makes /lib a symlink (slink /lib usr/lib), which
	# cannot replace a directory already unpacked.
	if [[ ${#keymaps[@]} -gt 0 ]]; then
		echo "dir /usr 0755 0 0"
		echo "dir /usr/share 0755 0 0"
		echo "dir /usr/share/luksinit 0755 0 0"
		echo "dir /usr/share/luksinit/keymaps 0755 0 0"
	fi
	declare -A seen=()
	for k in "${keymaps[@]}"; do
		name=$(basename "$k")
		name=${name%.gz}
		name=${name%.kmap}
		name=${name%.map}
		[[ $name =~ ^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,62}$ ]] ||
			die "keymap name not usable on the kernel command line: $name"
		[[ -z ${seen[$name]:-} ]] || die "keymap $name named twice"
		seen[$name]=1
		"$here/keymap-compile.py" "$k" "$tmp/$name.lkm"
		if ! cmp -s "$tmp/$name.lkm" "$dir/$name.lkm"; then
			mv "$tmp/$name.lkm" "$dir/$name.lkm"
			changed=1
		fi
		echo "file /usr/share/luksinit/keymaps/$name.lkm \${LUKSINIT_BUILD}/keymaps/$name.lkm 0644 0 0"
	done
} >"$tmp/list"
if [[ -n $changed ]] || ! cmp -s "$tmp/list" "$list"; then
	mv "$tmp/list" "$list"
fi
