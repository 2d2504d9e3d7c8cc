#!/usr/bin/env bash
# Builds the disk images the QEMU tests boot from, into $1 (a build dir).
# Each filesystem holds a subvolume @root with the test init ($2) as
# /sbin/init. Writes UUIDs to $1/fixtures.env:
#   NAME_UUID         the Btrfs filesystem UUID
#   NAME_LUKS_<i>     the LUKS UUID of member i (0-based), if encrypted
# Needs root (loop mounts). The host has no device-mapper, so members are
# encrypted after the fact: a LUKS header by luksFormat, the filesystem's
# extents by encrypt-extents with the header's volume key.
set -euo pipefail

mkdir -p "$1"
out=$(cd "$1" && pwd) # absolute: encrypt() works from inside it
report=$2
set_name=${3:-tests} # "bench": the benchmark's disks instead
# The host tool that enrols derived keyslots (built next to the test init).
enroll=${LUKSINIT_ENROLL:-$(dirname "$report")/luksinit-enroll}
# The hibernating init of the swap fixture (tests/guest/hibernate.c).
hibernate=$(dirname "$report")/hibernate
# The host tool that encrypts an image's extents (tests/host/).
encrypt_extents=$(dirname "$report")/encrypt-extents
# The one that gives a LUKS2 header's data another cipher (tests/host/).
segment_cipher=$(dirname "$0")/host/luks2-segment-cipher.py
stamp="$out/fixtures.stamp"
want=$(cat "$0" "$report" "$enroll" "$encrypt_extents" "$segment_cipher" $([ -f "$hibernate" ] && echo "$hibernate") | sha256sum | cut -c1-16)-$set_name
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
rm -f "$stamp"

# The images are the same in every clone built from the same recipe (the
# binaries they hold are reproducible), and making them takes minutes: a
# finished set is kept in the cache, keyed by $want, and copied from there.
# The newest three sets are kept (scripts/cache-prune.sh).
cache=${LUKSINIT_CACHE:-/var/cache/luksinit}
cached=$cache/fixtures-$want
# shellcheck source=scripts/cache-prune.sh
. "$(dirname "$0")/../scripts/cache-prune.sh"
# The stamp is written last, and only if the whole copy succeeded (another
# clone may prune the set while it is copied: then it is made here).
copy_cached() {
	[ -f "$cached/fixtures.stamp" ] && [ "$(cat "$cached/fixtures.stamp")" = "$want" ] ||
		return 1
	touch "$cached"
	if (cd "$cached" && find . -mindepth 1 -maxdepth 1 ! -name fixtures.stamp \
		-exec cp -a --sparse=always -t "$out/" {} +) 2>/dev/null &&
		[ "$(cat "$cached/fixtures.stamp" 2>/dev/null)" = "$want" ]; then
		echo "$want" >"$stamp"
		echo "fixtures: copied from $cached"
		return 0
	fi
	echo "fixtures: the cached set $cached went away while copied; making it"
	return 1
}
copy_cached && exit 0
# One set made at a time on this machine: the images share their Btrfs
# UUIDs, and the kernel's Btrfs device list is one for the whole host (two
# builds at once can mount each other's loop devices). The one that waited
# then finds the other's set in the cache, if it is the same.
mkdir -p "$cache" 2>/dev/null || true
exec 8>"${LUKSINIT_FIXTURES_LOCK:-/run/luksinit-make-fixtures.lock}"
flock -w 3600 8 || { echo "fixtures: another build held the lock for an hour" >&2; exit 1; }
copy_cached && exit 0
# Copies a killed run left half-made.
find "$cache" -maxdepth 1 -name 'fixtures-*.tmp.*' -mmin +120 -exec rm -rf {} + 2>/dev/null || true

# finish: the stamp says the set is complete; a copy goes to the cache
# (best effort: no cache, no copy, and the build still succeeds).
finish() {
	echo "$want" >"$stamp"
	if mkdir -p "$cache" 2>/dev/null && tmp=$(mktemp -d "$cache/fixtures-$want.tmp.XXXXXX"); then
		if cp -a --sparse=always "$out/." "$tmp/" && mv -T "$tmp" "$cached" 2>/dev/null; then
			echo "fixtures: kept in $cached"
		fi
		rm -rf "$tmp"
		cache_prune "$cache" 3 "$want" '[0-9a-f]{16}-[a-z]+' 'fixtures-*' ||
			echo "fixtures: warning: could not prune $cache" >&2
	fi
}

# Test passphrases and the key file; never used outside these images.
PASS=test-pass
OTHER_PASS=other-pass
# For the keyboard-layout tests: z, y and - sit on other keys on a German
# keyboard than on a US one, and Z needs the shift map.
KBD_PASS=Zy-test
printf '%s' "$PASS" >"$out/pass.key"
printf '%s' "$OTHER_PASS" >"$out/other-pass.key"
printf '%s' "$KBD_PASS" >"$out/kbd-pass.key"
head -c 4096 /dev/urandom >"$out/member.key"

# libblkid trusts a cache entry younger than two seconds without probing
# again: mkfs.btrfs -U would see a loop device's previous image.
export BLKID_FILE=/dev/null

mnt=$(mktemp -d)
loops=()
swtpm_pid=
cleanup() {
	[ -z "$swtpm_pid" ] || kill "$swtpm_pid" 2>/dev/null || true
	rm -f "$out/volume.key" # encrypt()'s, if it failed half-way
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

detach_all() {
	for l in "${loops[@]}"; do
		btrfs device scan --forget "$l" 2>/dev/null || true
		losetup -d "$l"
	done
	loops=()
}

# Firmware for the firmware tests, kept in $out/fw for comparison: the
# root gets some plain, some only compressed; initramfs.bin goes into a
# test initramfs instead.
make_firmware() {
	local fw=$out/fw
	rm -rf "$fw"
	mkdir -p "$fw"
	head -c 4096 /dev/urandom >"$fw/root-only.bin"
	head -c 2048 /dev/urandom >"$fw/initramfs.bin"
	head -c 225000 /dev/urandom | base64 >"$fw/comp-zst.bin"
	head -c 225000 /dev/urandom | base64 >"$fw/comp-xz.bin"
	head -c $((6 * 1024 * 1024)) /dev/urandom >"$fw/big.bin"
	# firmware_class.path=/opt/fw: one file in both places (the custom
	# path must win).
	head -c 3001 /dev/urandom >"$fw/path-first-custom.bin"
	head -c 3002 /dev/urandom >"$fw/path-first-plain.bin"
	zstd -q -19 -k "$fw/comp-zst.bin"
	xz -k --check=crc32 "$fw/comp-xz.bin"
}

# Inits for the init-check tests (tests/boot/initcheck.py), on one root.
add_test_inits() {
	local r=$1
	# The usual /sbin/init -> /lib/systemd/systemd: an absolute symlink
	# that must resolve inside the new root.
	mkdir -p "$r/lib/systemd"
	install -m 0755 "$report" "$r/lib/systemd/systemd-fake"
	ln -s /lib/systemd/systemd-fake "$r/sbin/init-link"
	install -m 0755 "$report" "$r/sbin/init-alt"
	# Dynamically linked, while this root has no ld.so and no libc.
	printf 'int main(void) { return 0; }\n' |
		gcc -x c -O1 -o "$r/sbin/init-dyn" -
	local interp
	interp=$(readelf -lW "$r/sbin/init-dyn" |
		sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	echo "INIT_DYN_INTERP=$interp" >>"$out/fixtures.env.tmp"
	printf '#!/bin/nothere\necho never\n' >"$r/sbin/init-script"
	# A valid ELF header and program header, for 32-bit ARM.
	python3 -c '
import struct, sys
h = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
h += struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0x8054, 52, 0, 0x5000000,
                 52, 32, 1, 40, 0, 0)
h += struct.pack("<IIIIIIII", 1, 0, 0x8000, 0x8000, 0x60, 0x60, 5, 0x1000)
sys.stdout.buffer.write(h + bytes(12))' >"$r/sbin/init-arm"
	printf 'echo this is text, not a program\n' >"$r/sbin/init-text"
	chmod 0755 "$r/sbin/init-script" "$r/sbin/init-arm" "$r/sbin/init-text"
}

populate_root_subvol() {
	btrfs -q subvolume create "$mnt/@root"
	local r="$mnt/@root"
	mkdir -p "$r/sbin" "$r/dev" "$r/proc" "$r/sys" "$r/run" "$r/etc" "$r/tmp"
	install -m 0755 "$report" "$r/sbin/init"
	printf 'NAME="luksinit test root"\nID=luksinit-test\n' >"$r/etc/os-release"
	if [ -n "${WITH_INITS:-}" ]; then
		add_test_inits "$r"
	fi
	if [ -n "${WITH_HIBERNATE:-}" ]; then
		install -m 0755 "$hibernate" "$r/sbin/hibernate"
	fi
	# The common layout: /sbin/init an absolute symlink to systemd.
	if [ -n "${SYMLINKED_INIT:-}" ]; then
		mkdir -p "$r/lib/systemd"
		mv "$r/sbin/init" "$r/lib/systemd/systemd"
		ln -s /lib/systemd/systemd "$r/sbin/init"
	fi
	if [ -n "${WITH_FIRMWARE:-}" ]; then
		local d="$r/lib/firmware/luksinit-test"
		mkdir -p "$d"
		cp "$out/fw/root-only.bin" "$out/fw/big.bin" "$d/"
		cp "$out/fw/comp-zst.bin.zst" "$out/fw/comp-xz.bin.xz" "$d/"
		cp "$out/fw/path-first-plain.bin" "$d/path-first.bin"
		# The kernel's order on the real root (FW_LOADER_COMPRESS): a
		# plain file in any directory, then .zst, then .xz; within one
		# suffix, updates/ over the plain directory.
		local u="$r/lib/firmware/updates/luksinit-test"
		mkdir -p "$u"
		cp "$out/fw/root-only.bin" "$d/order-plain.bin"
		zstd -q -c "$out/fw/initramfs.bin" >"$d/order-plain.bin.zst"
		zstd -q -c "$out/fw/initramfs.bin" >"$u/order-plain.bin.zst"
		zstd -q -c "$out/fw/initramfs.bin" >"$d/order-zst.bin.zst"
		xz -c --check=crc32 "$out/fw/root-only.bin" >"$d/order-zst.bin.xz"
		zstd -q -c "$out/fw/initramfs.bin" >"$u/order-updates.bin.zst"
		zstd -q -c "$out/fw/root-only.bin" >"$d/order-updates.bin.zst"
		local o="$r/opt/fw/luksinit-test"
		mkdir -p "$o"
		cp "$out/fw/path-first-custom.bin" "$o/path-first.bin"
		echo "not firmware: must never be read" >"$r/etc/fwsecret"
	fi
}

# encrypt IMAGE KIND KEYFILE [HEADER]: IMAGE's content becomes the data of
# a LUKS volume in its place (its header at the start, data 16 MiB in; or
# in the file HEADER, data from the start). KIND is luks1, luks2 (PBKDF2)
# or argon2id..., with the cheapest KDF cryptsetup accepts, so tests stay
# fast. Only IMAGE's written extents are encrypted (encrypt-extents.c):
# a disk takes its header and what its filesystem holds, not its size.
encrypt() {
	local img=$1 kind=$2 key=$3 header=${4:-} kdf type=luks2
	case $kind in
	luks1 | luks2) kdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000) ;;
	# Seconds under emulation (tests/boot/luks.py parallel_unlock_kdfs_overlap):
	# two such KDFs must take clearly longer than the rest of a boot.
	slow) kdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 300000) ;;
	# The benchmark's cost: seconds per member under emulation, as a real
	# KDF takes on real hardware, while runs stay affordable.
	bench) kdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 50000) ;;
	argon2id) kdf=(--pbkdf argon2id --pbkdf-memory 32
		--pbkdf-force-iterations 4 --pbkdf-parallel 1) ;;
	# 64 MiB each: a cost that matters under emulation (seconds), where
	# four in a row are what derived keyslots save.
	argon2mid) kdf=(--pbkdf argon2id --pbkdf-memory 65536
		--pbkdf-force-iterations 4 --pbkdf-parallel 1) ;;
	# 200 MiB each: three of them do not fit a small guest's memory.
	argon2big) kdf=(--pbkdf argon2id --pbkdf-memory 204800
		--pbkdf-force-iterations 4 --pbkdf-parallel 1) ;;
	*) echo "encrypt: unknown kind $kind" >&2; return 1 ;;
	esac
	[ "$kind" = luks1 ] && type=luks1 || kdf+=(--sector-size 512)
	local enc=$img.luks vk=$out/volume.key offset=$((16 << 20)) where=()
	if [ -n "$header" ]; then
		# Small metadata and keyslot areas keep the header file (and
		# the test initramfs carrying it) small.
		rm -f "$header"
		where=(--header "$header" --luks2-metadata-size 16k
			--luks2-keyslots-size 256k)
		offset=0
	else
		where=(--offset $((offset / 512)))
	fi
	rm -f "$enc" "$vk"
	truncate -s "$(stat -c %s "$img")" "$enc"
	# The cipher encrypt-extents writes, whatever cryptsetup's default.
	cryptsetup luksFormat --batch-mode --disable-locks --type "$type" \
		--cipher aes-xts-plain64 --key-size 512 \
		"${kdf[@]}" "${where[@]}" --key-file "$key" "$enc" >/dev/null
	cryptsetup luksDump --dump-volume-key --volume-key-file "$vk" \
		--batch-mode --disable-locks ${header:+--header "$header"} \
		--key-file "$key" "$enc" >/dev/null
	"$encrypt_extents" "$vk" "$img" "$enc" "$offset"
	rm -f "$vk"
	# What luksFormat wrote as zeros (the LUKS1 header's padding) reads
	# the same as a hole. The LUKS2 keyslot area is random: 16 MiB each.
	fallocate --dig-holes "$enc"
	mv "$enc" "$img"
}

# make_fs NAME LABEL PROFILE IMAGE[:KIND[:KEYFILE]]...
make_fs() {
	local name=$1 label=$2 profile=$3
	shift 3
	local imgs=() specs=() devs=() size=256M fs_size=()
	for arg in "$@"; do
		imgs+=("$out/${arg%%:*}")
		specs+=("$arg")
		[[ $arg == *:* ]] && { size=288M; fs_size=(-b 256M); }
	done
	for img in "${imgs[@]}"; do
		rm -f "$img"
		truncate -s "$size" "$img"
		attach "$img"
		devs+=("$attached")
	done
	local prof=()
	[ "$profile" != single ] && prof=(-d "$profile" -m "$profile")
	mkfs.btrfs -q -f -L "$label" "${fs_size[@]}" "${prof[@]}" "${devs[@]}" >/dev/null
	btrfs device scan "${devs[@]}" >/dev/null
	mount "${devs[0]}" "$mnt"
	populate_root_subvol
	umount "$mnt"
	echo "${name}_UUID=$(blkid -s UUID -o value "${devs[0]}")" >>"$out/fixtures.env.tmp"
	detach_all
	local i=0
	for spec in "${specs[@]}"; do
		if [[ $spec == *:* ]]; then
			IFS=: read -r _ kind key <<<"$spec"
			encrypt "${imgs[$i]}" "$kind" "$out/${key:-pass.key}"
			echo "${name}_LUKS_$i=$(cryptsetup luksUUID "${imgs[$i]}")" >>"$out/fixtures.env.tmp"
		fi
		i=$((i + 1))
	done
}

# An unencrypted disk that claims to be the encrypted root: a one-device
# Btrfs made with that root's filesystem UUID and label, and an init of its
# own (what a stranger's stick could carry; the UUID is public).
make_spoof() {
	local of=$1 img=$out/$2 uuid label
	uuid=$(sed -n "s/^${of}_UUID=//p" "$out/fixtures.env.tmp")
	label=$(echo "$of" | tr '[:upper:]' '[:lower:]')
	rm -f "$img"
	truncate -s 256M "$img"
	attach "$img"
	mkfs.btrfs -q -f -L "$label" -U "$uuid" "$attached" >/dev/null
	mount "$attached" "$mnt"
	populate_root_subvol
	echo spoofed >"$mnt/@root/etc/spoofed"
	umount "$mnt"
	detach_all
}

# wrap_gpt VAR INNER OUT PARTLABEL: a GPT disk as on real machines, an
# EFI system partition then INNER's content as partition 2 named
# PARTLABEL; VAR_PARTUUID goes to fixtures.env. INNER is removed.
wrap_gpt() {
	local var=$1 inner=$out/$2 img=$out/$3 label=$4 start
	local size_mib=$(($(stat -c %s "$inner") / 1048576))
	rm -f "$img"
	truncate -s $((1 + 16 + size_mib + 1))M "$img"
	sfdisk -q "$img" >/dev/null <<-EOF
		label: gpt
		size=16MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system"
		size=${size_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="$label"
	EOF
	start=$(sfdisk -d "$img" | sed -n 's/.*2 : start= *\([0-9]*\),.*/\1/p')
	dd if="$inner" of="$img" bs=512 seek="$start" conv=notrunc,sparse status=none
	rm -f "$inner"
	echo "${var}_PARTUUID=$(sfdisk --part-uuid "$img" 2)" >>"$out/fixtures.env.tmp"
}

# enrol_copy FROM TO N: copies FROM1..N.img to TO1..N.img (the same
# filesystem, the same LUKS UUIDs and KDFs) and enrols the copies' members
# 2..N with derived keyslots from member 1.
enrol_copy() {
	local from=$1 to=$2 n=$3 imgs=()
	for i in $(seq 1 "$n"); do
		cp --sparse=always "$out/$from$i.img" "$out/$to$i.img"
		imgs+=("$out/$to$i.img")
	done
	"$enroll" --key-file "$out/pass.key" "${imgs[@]}" >/dev/null
}

# TPM2 tokens (issue 24): copies of the CRYPT2 members (the same LUKS and
# filesystem UUIDs), each enrolled by the host's own systemd-cryptenroll
# (Debian 12: systemd 252), not by a tool of ours, against an swtpm whose
# state directory, tpm2-state/, the boot harness copies for every boot
# (qemu_harness.run(tpm=)). Bound to no PCR: what the guest's firmware
# measures plays no part yet.
enrol_tpm2() {
	local st=$out/tpm2-state sock=$out/swtpm.sock img i
	rm -rf "$st"
	mkdir -p "$st"
	for img in a b; do
		cp --sparse=always "$out/crypt2-$img.img" "$out/tpm2-$img.img"
		# Without a resource manager, swtpm keeps the sessions each
		# enrolment leaves until it runs out: one swtpm per enrolment.
		rm -f "$sock" "$sock.ctrl"
		swtpm socket --tpm2 --tpmstate dir="$st" --flags startup-clear \
			--server type=unixio,path="$sock" \
			--ctrl type=unixio,path="$sock.ctrl" &
		swtpm_pid=$!
		for i in $(seq 50); do
			[ -S "$sock" ] && [ -S "$sock.ctrl" ] && break
			sleep 0.1
		done
		PASSWORD=$PASS systemd-cryptenroll --tpm2-device=swtpm:path="$sock" \
			--tpm2-pcrs= "$out/tpm2-$img.img" >/dev/null
		kill "$swtpm_pid"
		wait "$swtpm_pid" || true
		swtpm_pid=
	done
	rm -f "$sock" "$sock.ctrl"
	cryptsetup token export --disable-locks --token-id 0 "$out/tpm2-a.img" |
		grep -q '"type":"systemd-tpm2"'
}

rm -f "$out/fixtures.env.tmp"
if [ "$set_name" = bench ]; then
	# Eight: the largest arrays people run under one Btrfs root.
	for n in 1 2 3 4 8; do
		members=()
		for i in $(seq 1 "$n"); do members+=("b$n-$i.img:bench"); done
		profile=raid1
		[ "$n" = 1 ] && profile=single
		make_fs "B$n" "bench$n" "$profile" "${members[@]}"
	done
	# The same disks with derived keyslots (dN-i.img), for the derived
	# case next to the plain one.
	for n in 2 3 4 8; do
		enrol_copy "b$n-" "d$n-" "$n"
	done
	mv "$out/fixtures.env.tmp" "$out/fixtures.env"
	finish
	exit 0
fi
make_firmware
WITH_INITS=1 make_fs SINGLE single single single.img
make_fs RAID1 raid1 raid1 raid1-a.img raid1-b.img
WITH_FIRMWARE=1 make_fs CRYPT2 crypt2 raid1 crypt2-a.img:luks2 crypt2-b.img:luks2
make_spoof CRYPT2 spoof.img
# The same claim by another filesystem type: an ext4 with that UUID.
rm -f "$out/spoof-ext4.img"
truncate -s 64M "$out/spoof-ext4.img"
mkfs.ext4 -q -F -U "$(sed -n 's/^CRYPT2_UUID=//p' "$out/fixtures.env.tmp")" \
	-L crypt2 "$out/spoof-ext4.img"
make_fs CRYPT3 crypt3 raid1c3 crypt3-a.img:argon2id crypt3-b.img:argon2id crypt3-c.img:argon2id
make_fs MIXED mixed raid1 mixed-a.img:luks1 mixed-b.img:luks2
make_fs DIFF diff raid1 diff-a.img:luks2 diff-b.img:luks2:other-pass.key
make_fs PAR par raid1 par-a.img:slow par-b.img:slow
# One member whose passphrase differs between a US and a German layout.
make_fs KBD kbd single kbd.img:luks2:kbd-pass.key
# GPT disks: a plain Btrfs root partition, and a RAID1 over two LUKS
# partitions.
SYMLINKED_INIT=1 make_fs GPTPLAIN gptplain single gptplain-inner.img
wrap_gpt GPTPLAIN gptplain-inner.img gptplain.img rootfs
make_fs GPTCRYPT gptcrypt raid1 gptcrypt-a-inner.img:luks2 gptcrypt-b-inner.img:luks2
wrap_gpt GPTCRYPT_A gptcrypt-a-inner.img gptcrypt-a.img cryptroot-a
wrap_gpt GPTCRYPT_B gptcrypt-b-inner.img gptcrypt-b.img cryptroot-b
make_fs MEM mem raid1c3 mem-a.img:argon2big mem-b.img:argon2big mem-c.img:argon2big
# Four Argon2id members; b, c and d enrolled with keyslots derived from a
# (issue 14).
make_fs DER der raid1 der-a.img:argon2mid der-b.img:argon2mid \
	der-c.img:argon2mid der-d.img:argon2mid
"$enroll" --key-file "$out/pass.key" "$out"/der-{a,b,c,d}.img >/dev/null
# Copies of b, c and d whose passphrase keyslot needs 2 GiB of Argon2id
# memory, more than any test guest has: /init refuses to run that KDF, so
# these can open only through their derived keyslot. That, not /init's
# own log, is the one-KDF test's evidence.
for m in b c d; do
	cp --sparse=always "$out/der-$m.img" "$out/derbig-$m.img"
	cryptsetup luksConvertKey --batch-mode --disable-locks --key-slot 0 \
		--pbkdf argon2id --pbkdf-memory 2097152 --pbkdf-force-iterations 4 \
		--pbkdf-parallel 2 --key-file "$out/pass.key" "$out/derbig-$m.img"
done
# Copies of c and d whose token was edited to name an Argon2id keyslot of
# 600 MiB (keyslot 2): two such KDFs run at once do not fit a 1 GiB guest.
# /init refuses such a token (a derived keyslot is PBKDF2 at a low cost)
# and opens them with the passphrase, one KDF at a time; their passphrase
# keyslot is made cheap, so that takes no time.
for m in c d; do
	img=$out/derkdf-$m.img
	cp --sparse=always "$out/der-$m.img" "$img"
	cryptsetup luksConvertKey --batch-mode --disable-locks --key-slot 0 \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$out/pass.key" "$img"
	cryptsetup luksAddKey --batch-mode --disable-locks --key-slot 2 \
		--pbkdf argon2id --pbkdf-memory 614400 --pbkdf-force-iterations 4 \
		--pbkdf-parallel 1 --key-file "$out/pass.key" "$img" \
		"$out/other-pass.key"
	cryptsetup token export --disable-locks --token-id 0 "$img" |
		sed 's/"keyslots":\["1"\]/"keyslots":["2"]/' >"$out/token.json"
	grep -q '"keyslots":\["2"\]' "$out/token.json"
	cryptsetup token remove --disable-locks --token-id 0 "$img"
	cryptsetup token import --disable-locks --token-id 0 \
		--json-file "$out/token.json" "$img"
	rm -f "$out/token.json"
done
enrol_tpm2
# A second keyslot holding a binary key file, for the key-file test.
for img in crypt2-a.img crypt2-b.img; do
	cryptsetup luksAddKey --batch-mode --disable-locks --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-file "$out/pass.key" \
		"$out/$img" "$out/member.key"
done
# A member whose LUKS2 header is damaged in both copies (primary JSON at
# 4-16 KiB, secondary at 20-32 KiB): the magic stays, so blkid still says
# crypto_LUKS, but no header can be loaded.
cp --sparse=always "$out/crypt2-b.img" "$out/corrupt-b.img"
dd if=/dev/urandom of="$out/corrupt-b.img" bs=4096 seek=1 count=3 conv=notrunc status=none
dd if=/dev/urandom of="$out/corrupt-b.img" bs=4096 seek=5 count=3 conv=notrunc status=none
# A member whose keyslot opens with the passphrase (its own cipher is
# aes) but whose mapping the test kernel cannot make: its data is
# serpent, which that kernel lacks. A copy of diff-a (same LUKS UUID),
# never booted beside it.
cp --sparse=always "$out/diff-a.img" "$out/nocipher.img"
python3 "$segment_cipher" "$out/nocipher.img" serpent-xts-plain64
cryptsetup luksDump --disable-locks "$out/nocipher.img" | grep -q 'cipher: serpent-xts-plain64'
# A member whose LUKS2 reencryption was set up (a new volume key, the
# online-reencrypt requirement in the header) but not run: cryptsetup opens
# it only through its own activation path. Its new keyslot and its
# partner's (reenc-a, a copy of crypt2-a) cost seconds under emulation, as
# the parallel-unlock pair does: two such KDFs at once would use more CPU
# time than the boot takes, which the test rules out (it ran alone).
cp --sparse=always "$out/crypt2-b.img" "$out/reenc-b.img"
(cd "$out" && cryptsetup reencrypt --init-only --batch-mode --disable-locks \
	--key-file "$out/pass.key" --key-slot 0 --pbkdf pbkdf2 \
	--pbkdf-force-iterations 300000 "$out/reenc-b.img")
cp --sparse=always "$out/crypt2-a.img" "$out/reenc-a.img"
cryptsetup luksConvertKey --batch-mode --disable-locks --key-file "$out/pass.key" \
	--pbkdf pbkdf2 --pbkdf-force-iterations 300000 "$out/reenc-a.img"
# Detached LUKS header (issue 12): a RAID1 whose member a is plain LUKS2
# and whose member b keeps its LUKS2 header in a file (hdr-b.hdr, for the
# test initramfs): hdr-b.img itself carries no signature, all of it data.
# Same passphrase, so one prompt opens both.
make_fs HDR hdr raid1 hdr-a.img:luks2 hdr-b.img
# Member b as it was made, unencrypted: next to hdr-a.img, a mixed plain +
# LUKS array (tests/boot/luks_state.py), the plain half admitted by the
# root guard because the unlocked array really lacks it.
cp --sparse=always "$out/hdr-b.img" "$out/plainmix-b.img"
encrypt "$out/hdr-b.img" luks2 "$out/pass.key" "$out/hdr-b.hdr"
# The point of the fixture: nothing on hdr-b.img says what it is.
if cryptsetup isLuks "$out/hdr-b.img" || [ -n "$(blkid -p -o value -s TYPE "$out/hdr-b.img" || true)" ]; then
	echo "hdr-b.img carries a signature: $(blkid -p "$out/hdr-b.img")" >&2
	exit 1
fi
echo "HDR_LUKS_1=$(cryptsetup luksUUID "$out/hdr-b.hdr")" >>"$out/fixtures.env.tmp"
# Encrypted swap and resume (issue 12): a RAID1 root over two LUKS members
# whose /sbin/hibernate hibernates, and a LUKS swap member next to them with
# the same passphrase: mkswap on a plain image (160 MiB of its 192), then
# encrypted like the members (the header takes the first 16 MiB).
WITH_HIBERNATE=1 make_fs SWAPRT swaprt raid1 swaprt-a.img:luks2 swaprt-b.img:luks2
rm -f "$out/swap.img"
truncate -s 192M "$out/swap.img"
mkswap -q "$out/swap.img" $((160 * 1024)) >/dev/null
echo "SWAP_UUID=$(blkid -p -s UUID -o value "$out/swap.img")" >>"$out/fixtures.env.tmp"
encrypt "$out/swap.img" luks2 "$out/pass.key"
echo "SWAP_LUKS=$(cryptsetup luksUUID "$out/swap.img")" >>"$out/fixtures.env.tmp"
# Key sticks (tests/boot/keydev.py): FAT filesystems, as on a USB stick,
# with the same label and volume ID; one holds the members' key file at
# /keys/member.key, the other a key that opens nothing at the same path.
# mtools writes them without mounting (no root needed).
for stick in key-stick:member.key wrong-stick:other-pass.key; do
	img="$out/${stick%%:*}.img"
	rm -f "$img"
	mkfs.vfat -C -n KEYSTICK -i 4b455931 "$img" 8192 >/dev/null
	mmd -i "$img" ::/keys
	mcopy -i "$img" "$out/${stick#*:}" ::/keys/member.key
done
# A stick whose /keys/member.key is a symlink to /etc/luks.key: were it
# followed, the key would come from the initramfs (keydev.c refuses). FAT
# has no symlinks.
keytree=$(mktemp -d)
mkdir "$keytree/keys"
ln -s /etc/luks.key "$keytree/keys/member.key"
rm -f "$out/symlink-stick.img"
truncate -s 128M "$out/symlink-stick.img"
mkfs.btrfs -q -f -L KEYSTICK --rootdir "$keytree" "$out/symlink-stick.img" >/dev/null
# The stick the same again, but holding the members' key and made with
# the CRYPT2 root's filesystem UUID (public: root=UUID=): mounted, Btrfs
# would register it as a device of the root (review 2026-12-07, M14).
rm "$keytree/keys/member.key"
cp "$out/member.key" "$keytree/keys/member.key"
rm -f "$out/fsid-stick.img"
truncate -s 128M "$out/fsid-stick.img"
mkfs.btrfs -q -f -L KEYSTICK -U "$(sed -n 's/^CRYPT2_UUID=//p' "$out/fixtures.env.tmp")" \
	--rootdir "$keytree" "$out/fsid-stick.img" >/dev/null
rm -rf "$keytree"
# An ext4 key stick that needs journal recovery, as a /boot partition that
# was mounted when the system hibernated (review 2026-12-07, H4): the key
# is put in place by mke2fs, then the filesystem is mounted, written to,
# synced and copied while still mounted, so that needs_recovery is set and
# its journal holds the transaction. A mount that replays it changes the
# image.
keytree=$(mktemp -d)
mkdir "$keytree/keys"
cp "$out/member.key" "$keytree/keys/member.key"
rm -f "$out/ext4-stick.img" "$out/ext4-stick.img.tmp"
truncate -s 16M "$out/ext4-stick.img.tmp"
mkfs.ext4 -q -F -L KEYSTICK -d "$keytree" "$out/ext4-stick.img.tmp"
# The key on an ext2 (blkid: ext2), for root_keydev_fstype=ext4: the kernel
# says so when it mounts an ext2 with the ext4 driver as ext2, and not when
# as ext4 (tests/boot/keydev.py).
rm -f "$out/ext2-stick.img"
truncate -s 2M "$out/ext2-stick.img"
mkfs.ext2 -q -F -L KEYSTICK -d "$keytree" "$out/ext2-stick.img"
rm -rf "$keytree"
attach "$out/ext4-stick.img.tmp"
mount "$attached" "$mnt"
echo written >"$mnt/written"
sync
cp --sparse=always "$out/ext4-stick.img.tmp" "$out/ext4-stick.img"
umount "$mnt"
detach_all
rm -f "$out/ext4-stick.img.tmp"
if ! dumpe2fs -h "$out/ext4-stick.img" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'; then
	echo "ext4-stick.img does not need recovery" >&2
	exit 1
fi
echo "KEYSTICK_UUID=4B45-5931" >>"$out/fixtures.env.tmp"
# A header stick (tests/boot/headerdev.py): a FAT filesystem holding the
# detached header of hdr-b.img at /hdr/hdr-b.hdr, for rd.luks.header=
# UUID=PATH:DEVICE and genkernel's root_headerdev=.
rm -f "$out/hdr-stick.img"
mkfs.vfat -C -n HDRSTICK -i 48445231 "$out/hdr-stick.img" 8192 >/dev/null
mmd -i "$out/hdr-stick.img" ::/hdr
mcopy -i "$out/hdr-stick.img" "$out/hdr-b.hdr" ::/hdr/hdr-b.hdr
echo "HDRSTICK_UUID=4844-5231" >>"$out/fixtures.env.tmp"
mv "$out/fixtures.env.tmp" "$out/fixtures.env"
finish
