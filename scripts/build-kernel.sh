#!/usr/bin/env bash
# Build (once) the small test kernel used to boot luksinit in QEMU.
#
# Usage: scripts/build-kernel.sh [variant]
#
#   variant   optional; applies scripts/kernel-<variant>.config on top of
#             scripts/kernel.config (none is needed today: the firmware test of
#             a kernel without USER_HELPER_FALLBACK sets the equivalent sysctl
#             on the command line instead of building a second kernel).
#
# The kernel is Debian's linux-source-6.1, configured as `make tinyconfig`
# + scripts/kernel.config (+ the variant fragment), built in-tree in
#   ${LUKSINIT_CACHE:-/var/cache/luksinit}/kernel-<hash>/
# where <hash> covers this script, the fragment(s), the variant name and the
# installed linux-source-6.1 version. Every fragment line is checked to have
# survived olddefconfig. The tree is built in <dir>.tree and published, when
# done, by atomically renaming a symlink <dir> -> kernel-<hash>.tree into
# place: the tree itself must never move after the build, because kbuild
# records absolute paths (tools/objtool) and a moved tree rebuilds from
# scratch on the next relink. So <dir> (with its .luksinit-built stamp)
# exists only when complete; concurrent callers serialize on <dir>.lock. A
# warm call does no work. The build log is <dir>.log; on failure its tail is
# printed.
#
# Test-only kernel code (scripts/kernel-patches/*.patch, e.g. the firmware
# test driver) is applied to the unpacked tree and covered by the hash.
#
# CONFIG_INITRAMFS_SOURCE is left empty here: scripts/link-kernel.sh relinks
# the cached tree with a given initramfs list, scripts/make-cpio.sh makes an
# external cpio for -initrd.
#
# Last line of stdout: the kernel build directory (the source tree).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
variant=${1:-}
cache=${LUKSINIT_CACHE:-/var/cache/luksinit}

die() { echo "build-kernel: $*" >&2; exit 1; }
log() { echo "build-kernel: $*" >&2; }

[[ $# -le 1 ]] || die "usage: $0 [variant]"

fragments=("$here/kernel.config")
if [[ -n $variant ]]; then
    [[ $variant =~ ^[a-z0-9_-]+$ ]] || die "bad variant name: $variant"
    [[ -f $here/kernel-$variant.config ]] ||
        die "unknown variant '$variant' (no $here/kernel-$variant.config)"
    fragments+=("$here/kernel-$variant.config")
fi

# --- packages ----------------------------------------------------------------
packages=(linux-source-6.1 build-essential patch bc bison flex libelf-dev libssl-dev
          cpio xz-utils zstd python3)
missing=()
while read -r pkg status; do
    [[ $status == installed ]] || missing+=("$pkg")
done < <(for p in "${packages[@]}"; do
             s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || s=missing
             echo "$p ${s:-missing}"
         done)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >&2
fi

tarball=/usr/src/linux-source-6.1.tar.xz
[[ -f $tarball ]] || die "$tarball missing"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)

# --- cache key -----------------------------------------------------------------
patches=("$here"/kernel-patches/*.patch)
hash=$( {
    sha256sum "$here/build-kernel.sh" "${fragments[@]}" "${patches[@]}" |
        cut -d' ' -f1
    echo "variant=$variant"
    echo "linux-source-6.1=$srcver"
} | sha256sum | cut -c1-16)
dir=$cache/kernel-$hash
tree=$dir.tree
logfile=$dir.log
stamp=.luksinit-built

if [[ -f $dir/$stamp ]]; then
    echo "$dir"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9
if [[ -f $dir/$stamp ]]; then      # built by a concurrent caller meanwhile
    echo "$dir"
    exit 0
fi
rm -rf "$dir"   # unstamped leftover (symlink or old-style directory)

on_fail() {
    local rc=$?
    if ((rc)) && [[ -f $logfile ]]; then
        echo "build-kernel: FAILED (exit $rc); last lines of $logfile:" >&2
        tail -n 40 "$logfile" >&2
    fi
}
trap on_fail EXIT

log "building ${variant:-default} kernel in $dir (log: $logfile)"
start=$SECONDS
: >"$logfile"
rm -rf "$tree"
mkdir -p "$tree"
log "unpacking $tarball ($srcver)"
tar -xJf "$tarball" -C "$tree" --strip-components=1 >>"$logfile" 2>&1

for p in "${patches[@]}"; do
    log "applying ${p##*/}"
    patch -d "$tree" -p1 --forward --batch <"$p" >>"$logfile" 2>&1
done

kmake() { make -C "$tree" KBUILD_BUILD_USER=luksinit KBUILD_BUILD_HOST=luksinit "$@"; }

log "configuring: tinyconfig + ${fragments[*]##*/}"
{
    kmake tinyconfig
    (cd "$tree" && scripts/kconfig/merge_config.sh -m .config "${fragments[@]}")
    kmake olddefconfig
} >>"$logfile" 2>&1

# Every line of the fragments must have stuck (later fragments win).
declare -A want=()
order=()
for f in "${fragments[@]}"; do
    while IFS= read -r line; do
        if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
            sym=${BASH_REMATCH[1]}
        elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
            sym=${BASH_REMATCH[1]}
        else
            continue
        fi
        [[ -n ${want[$sym]+x} ]] || order+=("$sym")
        want[$sym]=$line
    done <"$f"
done
bad=()
for sym in "${order[@]}"; do
    line=${want[$sym]}
    if [[ $line == "# "* ]]; then
        # unset: either "# X is not set" or absent (invisible) is fine
        if got=$(grep -m1 "^$sym=" "$tree/.config"); then
            bad+=("$line   (got: $got)")
        fi
    elif ! grep -qxF -- "$line" "$tree/.config"; then
        got=$(grep -m1 -E "^$sym=|^# $sym is not set" "$tree/.config" || echo "absent")
        bad+=("$line   (got: $got)")
    fi
done
if ((${#bad[@]})); then
    {
        echo "build-kernel: these fragment lines did not stick (missing dependency?):"
        printf '  %s\n' "${bad[@]}"
    } | tee -a "$logfile" >&2
    trap - EXIT
    exit 1
fi
log "config verified (${#order[@]} symbols); building bzImage with -j$(nproc)"

if ! kmake -j"$(nproc)" bzImage >>"$logfile" 2>&1; then
    exit 1
fi
[[ -f $tree/arch/x86/boot/bzImage ]] || die "no bzImage produced"

{
    echo "hash=$hash"
    echo "variant=$variant"
    echo "linux-source-6.1=$srcver"
    echo "built=$(date -u +%FT%TZ)"
    echo "seconds=$((SECONDS - start))"
} >"$tree/$stamp"
ln -sfn "${tree##*/}" "$dir.link"
mv -T "$dir.link" "$dir"
trap - EXIT
log "done in $((SECONDS - start)) s"
echo "$dir"
