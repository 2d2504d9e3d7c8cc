#!/usr/bin/env bash
# Builds the disk images the QEMU tests boot from, into $1 (a build dir):
#   single.img            one-device Btrfs, label "single"
#   raid1-a.img raid1-b.img  two-device Btrfs RAID1 (data and metadata)
# Each holds a subvolume @root with the test init ($2) as /sbin/init.
# Writes the filesystem UUIDs to $1/fixtures.env. Needs root (loop mounts).
set -euo pipefail

out=$1
report=$2
mkdir -p "$out"
stamp="$out/fixtures.stamp"
want=$(cat "$0" "$report" | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
rm -f "$stamp"

mnt=$(mktemp -d)
loops=()
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	for l in "${loops[@]}"; do
		btrfs device scan --forget "$l" 2>/dev/null || true
		losetup -d "$l" 2>/dev/null || true
	done
	rmdir "$mnt"
}
trap cleanup EXIT

# Sets $attached; not echoed, because a $(...) subshell would lose loops+=.
attach() {
	attached=$(losetup -f --show "$1")
	loops+=("$attached")
}

populate_root_subvol() {
	btrfs -q subvolume create "$mnt/@root"
	local r="$mnt/@root"
	mkdir -p "$r/sbin" "$r/dev" "$r/proc" "$r/sys" "$r/run" "$r/etc" "$r/tmp"
	install -m 0755 "$report" "$r/sbin/init"
	printf 'NAME="luksinit test root"\nID=luksinit-test\n' >"$r/etc/os-release"
}

make_fs() { # name, label, images...
	local name=$1 label=$2
	shift 2
	local imgs=() devs=()
	for img in "$@"; do
		rm -f "$out/$img"
		truncate -s 256M "$out/$img"
		imgs+=("$out/$img")
	done
	local profile=()
	[ $# -gt 1 ] && profile=(-d raid1 -m raid1)
	mkfs.btrfs -q -f -L "$label" "${profile[@]}" "${imgs[@]}" >/dev/null
	for img in "${imgs[@]}"; do
		attach "$img"
		devs+=("$attached")
	done
	btrfs device scan "${devs[@]}" >/dev/null
	mount "${devs[0]}" "$mnt"
	populate_root_subvol
	umount "$mnt"
	local uuid
	uuid=$(blkid -s UUID -o value "${imgs[0]}")
	echo "${name}_UUID=$uuid" >>"$out/fixtures.env.tmp"
}

rm -f "$out/fixtures.env.tmp"
make_fs SINGLE single single.img
make_fs RAID1 raid1 raid1-a.img raid1-b.img
mv "$out/fixtures.env.tmp" "$out/fixtures.env"
echo "$want" >"$stamp"
