#!/usr/bin/env bash
# Host tests of luksinit-enroll on fresh image files in a temporary
# directory: enrol, list, remove; failures leave every image byte-identical.
# Usage: enroll-test.sh BUILD_DIR. Prints "PLAN N", then "PASS enroll/<case>
# (N checks)" or "FAIL enroll/<case>: why"; a case that ran no check fails.
set -uo pipefail
build=$(cd "${1:?usage: enroll-test.sh BUILD_DIR}" && pwd)
tool=$build/luksinit-enroll
work=$(mktemp -d)
# The tool's header backups go here, where a leftover is seen: a tmpfs, as
# the tool takes none but a directory in memory (backupdir.h).
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR" "$work/ext4"
mount -t tmpfs -o size=256m,mode=0700 luksinit-enroll-test "$TMPDIR" || exit 1
trap 'umount "$work/ext4" 2>/dev/null; umount "$TMPDIR"; rm -rf "$work"' EXIT
cd "$work" || exit 1

cases=(enrols_members_and_lists_them derived_key_is_hkdf_of_primary_volume_key
	existing_keyslots_untouched remove_takes_out_keyslot_and_token
	failed_step_leaves_headers_byte_identical luks1_refused_clearly
	wrong_passphrase_writes_nothing already_enrolled_refused
	enrolled_primary_refused backups_never_reach_a_disk
	stale_after_primary_rekeyed usage_errors)
echo "PLAN ${#cases[@]}"

printf 'test-pass' >pass.key
printf 'wrong-pass' >wrong.key

# fresh NAME [luks1]: a small LUKS image with a cheap PBKDF2 keyslot 0.
fresh() {
	rm -f "$1.img"
	truncate -s 24M "$1.img"
	cryptsetup luksFormat --batch-mode --disable-locks --type "${2:-luks2}" \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file pass.key \
		"$1.img" >/dev/null
}
fresh_set() { for n in p a b "$@"; do fresh "$n"; done; }
uuid() { cryptsetup luksUUID "$1.img"; }
hashes() { sha256sum ./*.img; }
opens() { # IMG SLOT KEYFILE
	cryptsetup open --disable-locks --test-passphrase --key-slot "$2" \
		--key-file "$3" "$1.img" 2>/dev/null
}
# The keyslot and primary --list shows for IMG, as "SLOT PRIMARY".
listed() {
	"$tool" --list "$1.img" |
		sed -n 's/.*: keyslot \([0-9]*\) derived from primary \([0-9a-f-]*\) .*/\1 \2/p'
}

fail_msg=
checks=0
check() { # CONDITION-TEXT, then the command
	local what=$1
	shift
	checks=$((checks + 1))
	if ! "$@"; then
		[ -z "$fail_msg" ] && fail_msg=$what
	fi
}

enrols_members_and_lists_them() {
	fresh_set
	check "enrol did not exit 0" "$tool" --key-file pass.key p.img a.img b.img
	check "member a not listed with the primary" \
		[ "$(listed a)" = "1 $(uuid p)" ]
	check "member b not listed with the primary" \
		[ "$(listed b)" = "1 $(uuid p)" ]
	check "the primary claims a derived keyslot" [ -z "$(listed p)" ]
	check "the token is not in the header" \
		sh -c "cryptsetup luksDump a.img | grep -q 'luksinit-derived'"
}

derived_key_is_hkdf_of_primary_volume_key() {
	fresh_set
	"$tool" --key-file pass.key p.img a.img >/dev/null
	cryptsetup luksDump --batch-mode --dump-volume-key --volume-key-file \
		vk.bin --key-file pass.key p.img >/dev/null 2>&1
	# Independently of derive.c: Python's hmac, RFC 5869.
	python3 - "$(uuid a)" <<-'PY'
		import hashlib, hmac, sys
		vk = open("vk.bin", "rb").read()
		prk = hmac.new(b"luksinit-derived-key v1", vk, hashlib.sha256).digest()
		okm = hmac.new(prk, sys.argv[1].encode() + b"\x01", hashlib.sha256).digest()
		open("derived.bin", "wb").write(okm)
		bad = hmac.new(prk, b"other-uuid\x01", hashlib.sha256).digest()
		open("other.bin", "wb").write(bad)
	PY
	check "the HKDF of the primary's volume key does not open keyslot 1" \
		opens a 1 derived.bin
	check "a key derived for another UUID opens it" \
		sh -c '! cryptsetup open --disable-locks --test-passphrase --key-slot 1 --key-file other.bin a.img 2>/dev/null'
	check "keyslot 1 is not PBKDF2 at the minimum cost" \
		sh -c "cryptsetup luksDump a.img | sed -n '/^  1: luks2/,/Digest ID/p' | grep -q 'Iterations: 1000'"
}

existing_keyslots_untouched() {
	fresh_set
	cryptsetup luksDump --dump-json-metadata a.img 2>/dev/null |
		python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["keyslots"]["0"], sort_keys=True))' >slot0.before
	check "enrol did not exit 0" "$tool" --key-file pass.key p.img a.img b.img
	cryptsetup luksDump --dump-json-metadata a.img 2>/dev/null |
		python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["keyslots"]["0"], sort_keys=True))' >slot0.after
	check "keyslot 0's metadata changed" cmp -s slot0.before slot0.after
	check "keyslot 0's metadata could not be read" [ -s slot0.before ]
	check "the passphrase no longer opens keyslot 0" opens a 0 pass.key
}

remove_takes_out_keyslot_and_token() {
	fresh_set
	"$tool" --key-file pass.key p.img a.img b.img >/dev/null
	check "--remove did not exit 0" "$tool" --remove a.img b.img
	check "a still lists a derived keyslot" [ -z "$(listed a)" ]
	check "the token is still in a's header" \
		sh -c "! cryptsetup luksDump a.img | grep -q 'luksinit-derived'"
	check "keyslot 1 is still active" \
		sh -c "! cryptsetup luksDump a.img | grep -q '^  1: luks2'"
	check "the passphrase no longer opens keyslot 0" opens a 0 pass.key
	check "removing again is not a success with nothing to do" \
		"$tool" --remove a.img
}

failed_step_leaves_headers_byte_identical() {
	fresh_set c
	hashes >before
	check "a failure after writes still exited 0" \
		sh -c "! LUKSINIT_ENROLL_FAULT=token '$tool' --key-file pass.key p.img a.img b.img c.img 2>err"
	check "it did not say it undid the changes" grep -q "header restored" err
	check "an image differs from before the failed run" \
		sha256sum --quiet -c before
	check "a backup was left behind" \
		sh -c '[ -z "$(ls -A "$TMPDIR")" ]'
}

luks1_refused_clearly() {
	fresh_set
	fresh old luks1
	hashes >before
	check "a LUKS1 member was not refused" \
		sh -c "! '$tool' --key-file pass.key p.img a.img old.img 2>err"
	check "no clear message about LUKS1" grep -q "old.img: LUKS1 is not supported" err
	check "an image changed" sha256sum --quiet -c before
	check "a LUKS1 primary was not refused" \
		sh -c "! '$tool' --key-file pass.key old.img a.img 2>/dev/null"
}

wrong_passphrase_writes_nothing() {
	fresh_set
	# b opens only with another passphrase: found before any write.
	cryptsetup luksFormat --batch-mode --disable-locks --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-file wrong.key b.img >/dev/null
	hashes >before
	check "a member the passphrase does not open was enrolled" \
		sh -c "! '$tool' --key-file pass.key p.img a.img b.img 2>err"
	check "no message naming the member" \
		grep -q "b.img: the passphrase opens none of its keyslots" err
	check "an image changed" sha256sum --quiet -c before
}

already_enrolled_refused() {
	fresh_set
	"$tool" --key-file pass.key p.img a.img >/dev/null
	hashes >before
	check "enrolling twice was not refused" \
		sh -c "! '$tool' --key-file pass.key p.img b.img a.img 2>err"
	check "no message saying so" grep -q "a.img: already enrolled" err
	check "an image changed" sha256sum --quiet -c before
}

# No chains: a primary that is itself enrolled (a member deriving its key
# from another) is refused, and nothing is written.
enrolled_primary_refused() {
	fresh_set
	"$tool" --key-file pass.key p.img a.img >/dev/null
	hashes >before
	check "an enrolled primary was not refused" \
		sh -c "! '$tool' --key-file pass.key a.img b.img 2>err"
	check "no message saying so" grep -q "a.img: is itself enrolled" err
	check "an image changed" sha256sum --quiet -c before
	check "b was enrolled all the same" [ -z "$(listed b)" ]
}

# L22: the header backups hold every keyslot. With TMPDIR on a disk's
# filesystem (mounted sync, so what is written reaches the disk at once, as
# any write does sooner or later) nothing of them stays in its blocks.
backups_never_reach_a_disk() {
	fresh_set
	truncate -s 128M disk.ext4
	mkfs.ext4 -q -F disk.ext4
	mount -o loop,sync disk.ext4 "$work/ext4" || return
	mkdir "$work/ext4/tmp"
	check "enrol did not exit 0" \
		env TMPDIR="$work/ext4/tmp" "$tool" --key-file pass.key p.img a.img b.img
	check "--remove did not exit 0" \
		env TMPDIR="$work/ext4/tmp" "$tool" --remove a.img
	check "a backup directory was left in TMPDIR" \
		sh -c "[ -z \"\$(ls -A '$work/ext4/tmp')\" ]"
	umount "$work/ext4"
	python3 - "$(uuid a)" "$(uuid b)" <<-'PY' >found
		import sys
		disk = open("disk.ext4", "rb").read()
		for what in [b"LUKS\xba\xbe", b"SKUL\xba\xbe"] + [u.encode() for u in sys.argv[1:]]:
		    if what in disk:
		        print(what)
	PY
	check "the disk under TMPDIR holds a LUKS header or a member's UUID" \
		[ ! -s found ]
	check "the scan did not run" [ -f found ]
}

# hkdf VKFILE UUID OUT: the derived key, independently of derive.c.
hkdf() {
	python3 - "$@" <<-'PY'
		import hashlib, hmac, sys
		vk = open(sys.argv[1], "rb").read()
		prk = hmac.new(b"luksinit-derived-key v1", vk, hashlib.sha256).digest()
		okm = hmac.new(prk, sys.argv[2].encode() + b"\x01", hashlib.sha256).digest()
		open(sys.argv[3], "wb").write(okm)
	PY
}

# L23: re-keying the primary leaves the members' derived keyslots opening
# with its OLD volume key; --list says they are stale, and what to do.
stale_after_primary_rekeyed() {
	fresh_set
	"$tool" --key-file pass.key p.img a.img >/dev/null
	check "--list with the primary did not say current" \
		sh -c "'$tool' --list a.img p.img | grep -q ': current\$'"
	cryptsetup luksDump --batch-mode --dump-volume-key --volume-key-file \
		old-vk.bin --key-file pass.key p.img >/dev/null 2>&1
	check "re-keying the primary failed" \
		cryptsetup reencrypt --batch-mode --disable-locks \
		--force-offline-reencrypt --key-file pass.key --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 p.img
	hkdf old-vk.bin "$(uuid a)" old-derived.bin
	check "the old primary key no longer opens the member (the danger is gone?)" \
		opens a 1 old-derived.bin
	"$tool" --list a.img p.img >listed.out 2>&1
	check "--list does not name keyslot 1 stale" \
		grep -q "keyslot 1 derived from primary $(uuid p) .*STALE" listed.out
	check "--list does not say the old key opens it" \
		grep -q "OLD volume key still opens this keyslot" listed.out
	check "--list does not say how to remove it" \
		grep -q 'luksinit-enroll --remove a.img`, then enrol it again' listed.out
	# Without the primary at hand (no /dev/disk/by-uuid/ link for an
	# image), it says it cannot tell, never "current".
	"$tool" --list a.img >unknown.out 2>/dev/null
	check "--list without the primary did not say it cannot tell" \
		grep -q "cannot tell whether it is stale" unknown.out
}

usage_errors() {
	fresh_set
	for args in "" "p.img" "--list" "--list p.img a.img b.img" "--remove" \
		"--key-file pass.key p.img" "--bogus p.img a.img"; do
		# shellcheck disable=SC2086 # the words are the arguments
		"$tool" $args >/dev/null 2>&1
		check "'$args' did not exit 2" [ $? -eq 2 ]
	done
}

for c in "${cases[@]}"; do
	fail_msg=
	checks=0
	rm -f ./*.img err before
	"$c" >/dev/null 2>&1
	if [ -n "$fail_msg" ]; then
		echo "FAIL enroll/$c: $fail_msg"
	elif [ "$checks" -eq 0 ]; then
		echo "FAIL enroll/$c: it ran no check"
	else
		echo "PASS enroll/$c ($checks checks)"
	fi
done
