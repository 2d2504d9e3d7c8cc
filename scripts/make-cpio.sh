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

# Check the list's "file" lines: ${VAR}s set, locations absolute, files exist
# (gen_init_cpio would expand an unset ${VAR} to "" and silently pick up host
# files; relative locations would depend on the directory it runs in).
check_list() {
    local list=$1 n=0 line type name loc rest exp var
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        read -r type name loc rest <<<"$line" || true
        [[ $type == file ]] || continue
        exp=$loc
        while [[ $exp =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
            var=${BASH_REMATCH[1]}
            printenv "$var" >/dev/null || die "$list:$n: \${$var} is not in the environment (export it): $line"
            exp=${exp//"\${$var}"/${!var}}
        done
        [[ $exp == /* ]] || die "$list:$n: file location must be absolute: $line"
        [[ -f $exp ]] || die "$list:$n: no such file: $exp"
    done <"$list"
}
check_list "$list"

mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
"$gen" "$list" | gzip -9n >"$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "make-cpio: $out ($(stat -c %s "$out") bytes)" >&2
