#!/usr/bin/env bash
# Builds a dracut (systemd-based) initramfs and a bare test kernel, to
# benchmark dracut against luksinit on the same kernel and the same disks.
#
# Usage: bench/dracut-image.sh [--check] [OUTDIR]      (OUTDIR: build/bench)
#
# Writes OUTDIR/dracut.img (zstd cpio) and OUTDIR/bzImage-bare and prints
# their absolute paths on stdout (one a line; everything else goes to stderr).
# Both are cached in ${LUKSINIT_CACHE:-/var/cache/luksinit}/dracut-bench/:
# the image keyed by this script and the versions of dracut and of the Debian
# packages it copies files from, the kernel keyed by the cached kernel tree
# and the initramfs list. A warm call copies nothing that is already up to date.
# --check then boots the 2-member encrypted fixture with them (see below).
#
# bzImage-bare is the test kernel (scripts/build-kernel.sh) relinked with an
# initramfs of only /dev and /dev/console: build/bzImage embeds our /init,
# and an external initrd is unpacked over the embedded one, so booting
# dracut's image needs neither our /init nor its files underneath.
#
# The image has no kernel modules (--no-kernel): the test kernel has all
# that dracut and systemd 252 need built in (scripts/kernel.config, its
# systemd/udev section). Host configuration is
# ignored (--conf/--confdir point at nothing), the image is generic
# (--no-hostonly), has no early microcode cpio in front (it is one zstd
# stream) and leaves out plymouth and resume.
#
# Boot (the 2-member fixture, passphrase "test-pass"; . build/fixtures/fixtures.env):
#
#   scripts/run-qemu --kernel build/bench/bzImage-bare --initrd build/bench/dracut.img \
#       --disk build/fixtures/crypt2-a.img --disk build/fixtures/crypt2-b.img --snapshot \
#       --timeout 300 --append "root=UUID=$CRYPT2_UUID rootflags=subvol=@root \
#   rd.luks.uuid=$CRYPT2_LUKS_0 rd.luks.uuid=$CRYPT2_LUKS_1 init=/sbin/init rd.shell=0 rd.emergency=poweroff" \
#       --expect 'Please enter passphrase for disk [^\n]*\(press TAB for no echo\)' \
#       --send $'test-pass\n' --expect 'RESULT uptime='
#
# Append string, and why each part is there:
#   root=UUID=<btrfs fs UUID> rootflags=subvol=@root   the root, as for luksinit
#   rd.luks.uuid=<LUKS UUID>, one per member   dracut does not read crypt_roots=;
#       systemd-cryptsetup-generator makes one unit per member. The typed
#       passphrase is cached in the kernel keyring, so members sharing a
#       passphrase are asked for once (one prompt for both members here).
#   init=/sbin/init   systemd refuses to switch into a root without
#       /etc/os-release unless init= is given (our test roots have one).
#   rd.shell=0 rd.emergency=poweroff   a failure powers the VM off instead
#       of waiting on an emergency shell until the harness times out. It is
#       slow (a missing member: dracut's initqueue gives up after its retry
#       limit, power-off at ~390 s guest uptime under TCG on a busy host) and
#       a clean power-off, run-qemu exit status 0: only the 'RESULT uptime='
#       line tells success.
#   console=ttyS0 (the harness prepends it)   /dev/console is then the
#       serial port, where systemd-ask-password-console.service asks
#       ("Starting password query on /dev/ttyS0"); nothing else is needed
#       for the typed passphrase to reach it.
# The prompt, exactly (ANSI bold before it, the typed characters echo as "*"):
#   Please enter passphrase for disk luks-<LUKS UUID>: (press TAB for no echo)
# Expect regexes: the prompt as above, then 'RESULT uptime=' (our report
# init, /sbin/init in the fixture, started after switch-root).
# Seen on the console, all harmless: text sent the moment the prompt shows
# may arrive before the agent turns echo off, so the passphrase is echoed
# once in clear and then redrawn as "*" (it is read all the same). Both
# members' units ask at once; the agent may print the second member's
# prompt too, and withdraw it a moment later when that unit finds the
# cached passphrase in the keyring: send the passphrase once only.
# Harmless noise: "[FAILED] Failed to start systemd-sysctl.service": Debian's
# 50-pid-max.conf sets kernel.pid_max=4194304, more than the tiny test
# kernel (CONFIG_BASE_SMALL) allows.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
self=$repo/bench/dracut-image.sh
cache=${LUKSINIT_CACHE:-/var/cache/luksinit}/dracut-bench
# A private kernel version: with --no-kernel dracut needs no
# /lib/modules/<kver>, and this one can never name a real kernel.
kver=6.1.0-luksinit-bench
# Packages the image takes files from (their versions key the cache).
packages=(dracut-core systemd udev libsystemd-shared cryptsetup cryptsetup-bin
          libcryptsetup12 btrfs-progs dmsetup libdevmapper1.02.1 kmod libc6 bash
          coreutils util-linux mount zstd)

die() { echo "dracut-image: $*" >&2; exit 1; }
log() { echo "dracut-image: $*" >&2; }

check=0
if [[ ${1:-} == --check ]]; then check=1; shift; fi
[[ $# -le 1 ]] || die "usage: $0 [--check] [OUTDIR]"
outdir=${1:-$repo/build/bench}

# systemd-cryptsetup is part of the systemd package in bookworm; cryptsetup
# (not only -bin) because dracut's crypt module wants its files.
"$repo/scripts/ensure-packages.sh" dracut-core systemd udev cryptsetup btrfs-progs dmsetup zstd
kdir=$("$repo/scripts/build-kernel.sh" | tail -n1)
[[ -f $kdir/.luksinit-built ]] || die "scripts/build-kernel.sh gave no kernel tree: $kdir"

mkdir -p "$cache" "$outdir"
outdir=$(cd "$outdir" && pwd -P)
exec 8>"$cache/.lock"
flock 8 # one builder at a time: the cache entries are published once
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

script_sum=$(sha256sum <"$self" | cut -c1-64)
img_key=$( { echo "$script_sum"
             dpkg-query -W -f='${Package}=${Version}\n' "${packages[@]}" 2>/dev/null || true
           } | sha256sum | cut -c1-16)
dracut_version=$(dpkg-query -W -f='${Version}' dracut-core)
img=$cache/dracut-$dracut_version-$img_key.img
if [[ ! -f $img ]]; then
    mkdir "$work/conf.d"
    : >"$work/dracut.conf"
    log "building $img (dracut $dracut_version)"
    start=$(date +%s.%N)
    if ! dracut --conf "$work/dracut.conf" --confdir "$work/conf.d" \
        --no-kernel --kver "$kver" --force --no-hostonly --no-hostonly-cmdline \
        --no-early-microcode --add "crypt btrfs" -o "plymouth resume" \
        --compress zstd "$work/dracut.img" >"$work/dracut.log" 2>&1; then
        tail -n 30 "$work/dracut.log" >&2
        die "dracut failed"
    fi
    end=$(date +%s.%N)
    [[ $(head -c4 "$work/dracut.img" | od -An -tx1 | tr -d ' ') == 28b52ffd ]] ||
        die "dracut's image is not one zstd stream"
    raw=$(zstd -dcq "$work/dracut.img" | wc -c)
    chmod 0644 "$work/dracut.img"
    mv "$work/dracut.log" "$img.log"
    mv "$work/dracut.img" "$img"
    log "$(printf 'built in %.1f s: %s bytes zstd, %s bytes uncompressed' \
        "$(echo "$end - $start" | bc)" "$(stat -c %s "$img")" "$raw")"
fi

printf '%s\n' 'dir /dev 0755 0 0' 'nod /dev/console 0600 0 0 c 5 1' >"$work/bare.list"
bare=$cache/bzImage-bare-$(basename "$kdir")-$(sha256sum <"$work/bare.list" | cut -c1-16)
if [[ ! -f $bare ]]; then
    "$repo/scripts/link-kernel.sh" "$kdir" "$work/bare.list" "$work/bzImage-bare"
    mv "$work/bzImage-bare" "$bare"
fi

publish() { # copy $1 to $2 unless it is already there (keeps the mtime)
    cmp -s "$1" "$2" && return 0
    cp "$1" "$2.tmp.$$"
    mv -f "$2.tmp.$$" "$2"
}
publish "$img" "$outdir/dracut.img"
publish "$bare" "$outdir/bzImage-bare"
# Entries of other keys (an older script, older packages, another kernel).
find "$cache" -maxdepth 1 -type f \( -name 'dracut-*.img*' -o -name 'bzImage-bare-*' \) \
    ! -name "$(basename "$img")" ! -name "$(basename "$img").log" ! -name "$(basename "$bare")" \
    -delete
echo "$outdir/dracut.img"
echo "$outdir/bzImage-bare"

((check)) || exit 0
fixtures=$repo/build/fixtures
[[ -f $fixtures/fixtures.env ]] || make -C "$repo" fixtures >&2
# shellcheck disable=SC1091
. "$fixtures/fixtures.env"
append="root=UUID=$CRYPT2_UUID rootflags=subvol=@root rd.luks.uuid=$CRYPT2_LUKS_0"
append+=" rd.luks.uuid=$CRYPT2_LUKS_1 init=/sbin/init rd.shell=0 rd.emergency=poweroff"
bootlog=$outdir/dracut-check.log
log "booting the 2-member fixture (log: $bootlog)"
"$repo/scripts/run-qemu" --kernel "$outdir/bzImage-bare" --initrd "$outdir/dracut.img" \
    --disk "$fixtures/crypt2-a.img" --disk "$fixtures/crypt2-b.img" --snapshot \
    --timeout 300 --log "$bootlog" --append "$append" \
    --expect 'Please enter passphrase for disk [^\n]*\(press TAB for no echo\)' \
    --send $'test-pass\n' --expect 'RESULT uptime=' >/dev/null ||
    die "boot failed (status $?); see $bootlog"
up=$(grep -ao 'RESULT uptime=[0-9.]*' "$bootlog" | head -n1) || die "no RESULT uptime= line; see $bootlog"
log "ok: real init started at ${up#RESULT uptime=} s guest uptime"
