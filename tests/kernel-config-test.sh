#!/usr/bin/env bash
# luksinit-check-kernel-config against the test kernel's .config (clean) and
# against copies with one thing broken each: the tool must name it, and its
# exit status must say whether it was required.
# Prints "PLAN N", then "PASS kconfig/<case>" or "FAIL kconfig/<case>: why".
set -uo pipefail
build=${1:?usage: kernel-config-test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
tool=$here/tools/luksinit-check-kernel-config
kdir=$(cat "$build/kernel.dir")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A relink (scripts/link-kernel.sh, maybe another build's) sets
# INITRAMFS_SOURCE in the shared tree for a while: copy under its lock.
base=$work/base.config
flock "$kdir/.luksinit-link.lock" cp "$kdir/.config" "$base"

# Required options: removing any one must be an error naming it.
required=(BLK_DEV_INITRD BINFMT_ELF DEVTMPFS PROC_FS SYSFS TMPFS NET FUTEX
	SIGNALFD BLOCK BTRFS_FS BLK_DEV_DM DM_CRYPT CRYPTO_XTS
	FW_LOADER_USER_HELPER)
optional=(VT HIBERNATION SWAP VFAT_FS IP_PNP IP_PNP_DHCP)
others=(clean aes_generic_and_ni btrfs_module fallback_is_a_warning
	no_fallback_no_word disk_driver_module initramfs_source_missing
	initramfs_source_installed serpent_header default_proc_config_gz
	default_usr_src_first not_a_config hostile_values ssh_nic_module
	ssh_no_nic ssh_no_ptys)
echo "PLAN $((${#required[@]} + ${#optional[@]} + ${#others[@]}))"

# edit OUT SED-EXPRESSION...: a copy of the test kernel's .config, edited.
edit() {
	local out=$work/$1
	shift
	cp "$base" "$out"
	for e in "$@"; do sed -i "$e" "$out"; done
	echo "$out"
}
unset_opt() { echo "s/^CONFIG_$1=.*/# CONFIG_$1 is not set/"; }
set_opt() { echo "/^CONFIG_$1=/d; /^# CONFIG_$1 is not set/d; \$a CONFIG_$1=$2"; }

# check NAME WANT_RC REGEX [ABSENT_REGEX] -- ARGS...: runs the tool.
check() {
	local name=$1 want=$2 re=$3 absent=$4
	shift 5
	local out rc
	out=$("$tool" "$@" 2>&1)
	rc=$?
	if [[ $rc -ne $want ]]; then
		echo "FAIL kconfig/$name: exit $rc, expected $want: $(head -c 600 <<<"$out")"
	elif ! grep -qE "$re" <<<"$out"; then
		echo "FAIL kconfig/$name: no line matching /$re/ in: $(head -c 600 <<<"$out")"
	elif [[ -n $absent ]] && grep -qE "$absent" <<<"$out"; then
		echo "FAIL kconfig/$name: a line matching /$absent/: $(grep -E "$absent" <<<"$out" | head -c 600)"
	else
		echo "PASS kconfig/$name"
	fi
}

check clean 0 ': nothing required is missing' '^error:' -- "$base"
for o in "${required[@]}"; do
	check "$o" 1 "^error: CONFIG_$o( is not set|=m)" '' -- "$(edit "$o" "$(unset_opt "$o")")"
done
for o in "${optional[@]}"; do
	check "$o" 0 "^optional: CONFIG_$o is not set" '^error:' -- "$(edit "$o" "$(unset_opt "$o")")"
done
check aes_generic_and_ni 1 '^error: CONFIG_CRYPTO_AES is not set' '' -- \
	"$(edit aes "$(unset_opt CRYPTO_AES)" "$(unset_opt CRYPTO_AES_NI_INTEL)")"
check btrfs_module 1 '^error: CONFIG_BTRFS_FS=m, must be y' '' -- \
	"$(edit btrfsm "$(set_opt BTRFS_FS m)")"
# Whatever the test kernel has: =y warns (exit 0), unset says nothing.
check fallback_is_a_warning 0 '^warning: CONFIG_FW_LOADER_USER_HELPER_FALLBACK=y' '^error:' -- \
	"$(edit fby "$(set_opt FW_LOADER_USER_HELPER_FALLBACK y)")"
check no_fallback_no_word 0 ': nothing required is missing' 'FALLBACK' -- \
	"$(edit fbn "$(unset_opt FW_LOADER_USER_HELPER_FALLBACK)")"
check disk_driver_module 1 '^error: no disk driver is built in' '' -- \
	"$(edit vblk "$(set_opt VIRTIO_BLK m)")"
check initramfs_source_missing 1 "^error: CONFIG_INITRAMFS_SOURCE names $work/nothere.list, which does not exist" '' -- \
	"$(edit src "$(set_opt INITRAMFS_SOURCE "\"$work/nothere.list\"")")"
printf 'file /init %s 0755 0 0\n' "$tool" >"$work/installed.list"
check initramfs_source_installed 0 ': nothing required is missing' 'INITRAMFS_SOURCE|installed.list' -- \
	"$(edit src2 "$(set_opt INITRAMFS_SOURCE "\"$work/installed.list\"")")"
check serpent_header 1 '^error: CONFIG_CRYPTO_SERPENT is not set.*serpent-xts-plain64' '' -- \
	--cipher serpent-xts-plain64 "$(edit serpent "$(unset_opt CRYPTO_SERPENT)")"
# SSH unlock (asked of a kernel with IP_PNP, as the test kernel's): the
# network card's driver as a module, none built in, no devpts ptys: each a
# warning, nothing required.
check ssh_nic_module 0 '^warning: CONFIG_VIRTIO_NET=m: SSH unlock' '^error:' -- \
	"$(edit nicm "$(set_opt VIRTIO_NET m)")"
check ssh_no_nic 0 '^warning: no network driver is built in' '^error:' -- \
	"$(edit nic0 "$(unset_opt VIRTIO_NET)")"
check ssh_no_ptys 0 '^warning: CONFIG_UNIX98_PTYS is not set: SSH unlock' '^error:' -- \
	"$(edit ptys "$(unset_opt UNIX98_PTYS)")"
# The defaults, below a fake root: /proc/config.gz when there is no
# /usr/src/linux/.config, and the latter first when both are there.
mkdir -p "$work/root/proc" "$work/root/usr/src/linux"
gzip -c "$base" >"$work/root/proc/config.gz"
check default_proc_config_gz 0 "^$work/root/proc/config.gz: nothing required" '' -- --sysroot "$work/root"
cp "$(edit nodm "$(unset_opt DM_CRYPT)")" "$work/root/usr/src/linux/.config"
check default_usr_src_first 1 '^error: CONFIG_DM_CRYPT is not set' '' -- --sysroot "$work/root"
echo "hello" >"$work/hello"
check not_a_config 2 'does not look like a kernel configuration' '' -- "$work/hello"
# Values are data: FAT's codepage and iocharset name NLS options, and a
# value carrying shell syntax must run nothing (the marker must not appear);
# the tool says it cannot check them and goes on.
marker=$work/pwned
hostile=$(edit hostile '/^CONFIG_FAT_DEFAULT_CODEPAGE=/d; /^# CONFIG_FAT_DEFAULT_CODEPAGE is not set/d' \
	'/^CONFIG_FAT_DEFAULT_IOCHARSET=/d; /^# CONFIG_FAT_DEFAULT_IOCHARSET is not set/d' \
	'/^CONFIG_UEVENT_HELPER_PATH=/d')
# shellcheck disable=SC2016 # the $(...) and `...` are the point: not run
{
	printf 'CONFIG_FAT_DEFAULT_CODEPAGE=437}$(echo INJECTED >%s)\n' "$marker"
	printf 'CONFIG_FAT_DEFAULT_IOCHARSET="iso8859-1`echo INJECTED >%s`"\n' "$marker"
	printf 'CONFIG_UEVENT_HELPER_PATH="'"'"'$(echo INJECTED >%s)'"'"'"\n' "$marker"
} >>"$hostile"
out=$(check hostile_values 0 '^warning: CONFIG_FAT_DEFAULT_CODEPAGE is not a codepage' '^error:' -- "$hostile")
if [[ -e $marker ]]; then
	echo "FAIL kconfig/hostile_values: a value in the .config ran a command ($marker exists)"
elif [[ $out == PASS* ]] && ! grep -q '^warning: CONFIG_FAT_DEFAULT_IOCHARSET is not a charset' <<<"$("$tool" "$hostile" 2>&1)"; then
	echo "FAIL kconfig/hostile_values: the hostile iocharset was not reported"
else
	echo "$out"
fi
