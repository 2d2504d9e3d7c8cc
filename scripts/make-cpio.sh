#!/usr/bin/env bash
# Make an external gzip'd initramfs (for qemu -initrd) from a gen_init_cpio list.
#
# Usage: scripts/make-cpio.sh <kernel-build-dir> <initramfs.list> <out.cpio.gz>
#
# Uses the usr/gen_init_cpio of the cached kernel tree (scripts/build-kernel.sh),
# i.e. exactly what scripts/link-kernel.sh embeds. ${VAR}s in file locations
# are expanded from the environment; a referenced unset variable is an error.
set -euo pipefail

die() { echo "make-cpio: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || die "usage: $0 <kernel-build-dir> <initramfs.list> <out.cpio.gz>"

kdir=$(cd "$1" && pwd -P) || die "no such dir: $1"
gen=$kdir/usr/gen_init_cpio
[[ -x $gen ]] || die "$gen missing (run scripts/build-kernel.sh)"
list=$2
[[ -f $list ]] || die "no such list: $list"
out=$3

# shellcheck source=scripts/initramfs-list.sh
. "$(dirname "${BASH_SOURCE[0]}")/initramfs-list.sh"
check_initramfs_list "$list"

mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
"$gen" "$list" | gzip -9n >"$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "make-cpio: $out ($(stat -c %s "$out") bytes)" >&2
