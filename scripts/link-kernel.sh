#!/usr/bin/env bash
# Relink a cached test kernel with a built-in initramfs.
#
# Usage: scripts/link-kernel.sh <kernel-build-dir> <initramfs.list> <out-bzImage>
#
#   <kernel-build-dir>  as printed by scripts/build-kernel.sh
#   <initramfs.list>    a usr/gen_init_cpio list ("file /init ${LUKSINIT_BUILD}/init
#                       0755 0 0", "dir ...", "nod ...", "slink ..."). ${VAR}s in
#                       file locations are expanded by gen_init_cpio from the
#                       environment: export them before calling. A referenced
#                       variable that is unset is an error here (gen_init_cpio
#                       would silently expand it to "" and pick up host files).
#   <out-bzImage>       where the bzImage is written (atomically)
#
# Sets CONFIG_INITRAMFS_SOURCE=<absolute list path> (+ gzip compression),
# rebuilds bzImage (only the initramfs, version object and the final links are
# redone: a few seconds), copies it out, then resets INITRAMFS_SOURCE to "" in
# .config so the cached tree never refers to a path that may disappear.
# Relinks of the same tree are serialized with a lock.
set -euo pipefail

die() { echo "link-kernel: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || die "usage: $0 <kernel-build-dir> <initramfs.list> <out-bzImage>"

kdir=$(cd "$1" && pwd -P) || die "no such dir: $1"
[[ -f $kdir/.luksinit-built ]] || die "$kdir is not a finished scripts/build-kernel.sh tree"
[[ -f $2 ]] || die "no such list: $2"
list=$(realpath "$2")
out=$3
[[ $list != *[[:space:]\"]* ]] || die "list path must not contain blanks or quotes: $list"

# shellcheck source=scripts/initramfs-list.sh
. "$(dirname "${BASH_SOURCE[0]}")/initramfs-list.sh"
check_initramfs_list "$list"

exec 9>"$kdir/.luksinit-link.lock"
flock 9

start=$(date +%s.%N)
logfile=$kdir/.luksinit-link.log
kmake() { make -C "$kdir" KBUILD_BUILD_USER=luksinit KBUILD_BUILD_HOST=luksinit "$@"; }

restore() {
    "$kdir/scripts/config" --file "$kdir/.config" --set-str INITRAMFS_SOURCE "" \
        --undefine INITRAMFS_COMPRESSION_GZIP || true
}
trap restore EXIT

"$kdir/scripts/config" --file "$kdir/.config" --set-str INITRAMFS_SOURCE "$list" \
    --enable INITRAMFS_COMPRESSION_GZIP
if ! kmake olddefconfig >"$logfile" 2>&1; then
    tail -n 30 "$logfile" >&2; die "olddefconfig failed"
fi
grep -qxF "CONFIG_INITRAMFS_SOURCE=\"$list\"" "$kdir/.config" || die "INITRAMFS_SOURCE did not stick"
grep -qx 'CONFIG_INITRAMFS_COMPRESSION_GZIP=y' "$kdir/.config" || die "INITRAMFS_COMPRESSION_GZIP did not stick"

# Always regenerate the cpio (its dependency tracking misses e.g. changed env).
rm -f "$kdir/usr/initramfs_data.cpio" "$kdir/usr/initramfs_inc_data"
if ! kmake -j"$(nproc)" bzImage >>"$logfile" 2>&1; then
    echo "link-kernel: make bzImage failed; last lines of $logfile:" >&2
    tail -n 30 "$logfile" >&2
    exit 1
fi

mkdir -p "$(dirname "$out")"
cp "$kdir/arch/x86/boot/bzImage" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
end=$(date +%s.%N)
printf 'link-kernel: %s (%s bytes) in %.1f s\n' "$out" "$(stat -c %s "$out")" \
    "$(echo "$end - $start" | bc)" >&2
