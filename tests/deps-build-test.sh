#!/usr/bin/env bash
# The "bring your own libraries" path (make DEPS=/prefix CC=...), the way a
# user outside Debian takes it: the Debian-built prefix is used as if it were
# a foreign system's (its .pc files, Debian's plain musl-gcc, the kernel
# headers passed in CPPFLAGS; no build-deps.sh, not its musl-cc wrapper).
# The /init built so boots three of the suite's cases (a plain Btrfs RAID1,
# LUKS1 next to LUKS2, an Argon2id RAID1C3: the libraries' code paths that
# matter, not the whole suite once more); a prefix with pieces
# missing is refused with each piece named, before anything is compiled.
# The Debian path's lock (docs/BUILDING.md): a .dsc sha256 other than the
# lock's, or a pinned version the mirror no longer serves, stops the build
# before anything is downloaded, saying so.
# Prints "PLAN N", then "PASS deps/<case>" or "FAIL deps/<case>: why".
set -uo pipefail
build=$(cd "${1:?usage: deps-build-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(cat "$build/deps.prefix")
kdir=$(cat "$build/kernel.dir")
boot_cases=(raid1_two_devices_uuid_subvol luks1_and_luks2_members
	raid1c3_argon2id_genkernel_crypt_roots)
echo "PLAN $((6 + ${#boot_cases[@]}))"

work=$build/deps-test
rm -rf "$work"
mkdir -p "$work"
pass() { echo "PASS deps/$1"; }
fail() { echo "FAIL deps/$1: $2"; }
# Without the caller's make flags: a sub-make here is a user's make.
umake() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$here" "$@"; }

# make_broken DIR FILE...: the prefix as seen from DIR, without FILEs (paths
# below DIR).
make_broken() {
	local dir=$1 f
	shift
	mkdir -p "$dir/lib/pkgconfig"
	for f in "$prefix"/lib/pkgconfig/*.pc; do
		sed "s#$prefix#$dir#g" "$f" >"$dir/lib/pkgconfig/${f##*/}"
	done
	ln -s "$prefix/include" "$dir/include"
	for f in "$prefix"/lib/*.a "$prefix"/lib/*.o; do ln -s "$f" "$dir/lib/"; done
	for f in "$@"; do rm "$dir/$f"; done
}

# 1. A prefix without json-c's .pc file and without libcryptsetup.a.
broken=$work/broken-prefix
make_broken "$broken" lib/pkgconfig/json-c.pc lib/libcryptsetup.a
out=$(umake BUILD="$work/b1" DEPS="$broken" CC=musl-gcc \
	CPPFLAGS="-idirafter $prefix/kheaders" init 2>&1)
rc=$?
if [[ $rc -eq 0 ]]; then
	fail missing_pieces_named "the build succeeded without json-c"
elif ! grep -q -- '- json-c ' <<<"$out"; then
	fail missing_pieces_named "json-c not named: $out"
elif [[ -e $work/b1/obj ]]; then
	fail missing_pieces_named "something was compiled before the check"
else
	# json-c's absence hides the rest (libcryptsetup's .pc needs it);
	# with it back, the missing archive must be named.
	sed "s#$prefix#$broken#g" "$prefix/lib/pkgconfig/json-c.pc" >"$broken/lib/pkgconfig/json-c.pc"
	out=$(umake BUILD="$work/b1" DEPS="$broken" CC=musl-gcc \
		CPPFLAGS="-idirafter $prefix/kheaders" init 2>&1)
	rc=$?
	if [[ $rc -ne 0 ]] && grep -q -- '- libcryptsetup.a ' <<<"$out" && [[ ! -e $work/b1/obj ]]; then
		pass missing_pieces_named
	else
		fail missing_pieces_named "libcryptsetup.a not named before compiling: $out"
	fi
fi

# 1b. Two kinds of missing pieces, both named in one run: a .pc file
# (json-c's) and the static archive of a package that does not need it.
broken2=$work/broken-prefix2
make_broken "$broken2" lib/pkgconfig/json-c.pc lib/liblzma.a
out=$(umake BUILD="$work/b1b" DEPS="$broken2" CC=musl-gcc \
	CPPFLAGS="-idirafter $prefix/kheaders" init 2>&1)
rc=$?
if [[ $rc -eq 0 ]]; then
	fail one_run_names_all "the build succeeded without json-c and liblzma.a"
elif ! grep -q -- '- json-c ' <<<"$out" || ! grep -q -- '- liblzma.a ' <<<"$out"; then
	fail one_run_names_all "json-c and liblzma.a not both named: $out"
elif [[ -e $work/b1b/obj ]]; then
	fail one_run_names_all "something was compiled before the check"
else
	pass one_run_names_all
fi

# 2. The foreign build itself.
b=$work/b2
out=$(umake BUILD="$b" DEPS="$prefix" CC=musl-gcc \
	CPPFLAGS="-idirafter $prefix/kheaders" init 2>&1)
rc=$?
if [[ $rc -ne 0 ]]; then
	fail build "make DEPS=$prefix CC=musl-gcc failed: $(tail -n 20 <<<"$out")"
elif [[ -e $b/deps.prefix ]] || ! grep -qx 'CC=musl-gcc' "$b/deps.flags"; then
	fail build "the Debian path was used (deps.prefix, or CC is $(sed -n 's/^CC=//p' "$b/deps.flags"))"
elif readelf -l "$b/init" | grep -q INTERP; then
	fail build "$b/init is not static"
else
	pass build
fi

# 2b. The lock: a copy of build-deps.sh with a changed deps.lock (json-c's
# .dsc sha256 zeroed, lvm2 pinned to a version no mirror has) and a cache of
# its own, run as a build would (the apt indexes are there: the deps were
# built). It must stop, naming both, before any download or build. One run
# for both cases (each run reads the apt indexes: seconds).
d=$work/lock
mkdir -p "$d/scripts"
cp "$here/scripts/build-deps.sh" "$here/scripts/cache-prune.sh" "$d/scripts/"
cp -r "$here/scripts/deps-patches" "$d/scripts/"
zeros=$(printf '0%.0s' {1..64})
sed -E -e "s/^(json-c [^ ]+) [0-9a-f]{64}\$/\\1 $zeros/" \
	-e 's/^(lvm2) [^ ]+ /\1 0.0-0gone /' "$here/scripts/deps.lock" >"$d/scripts/deps.lock"
out=$(LUKSINIT_CACHE=$d/cache timeout 300 "$d/scripts/build-deps.sh" 2>&1)
rc=$?
started=
compgen -G "$d/cache/build.*" >/dev/null && started=yes
compgen -G "$d/cache/deps-*" >/dev/null && started=yes
lock_case() {
	local name=$1 line=$2
	if ! grep -qE "^json-c [^ ]+ $zeros\$" "$d/scripts/deps.lock" ||
		! grep -q '^lvm2 0.0-0gone ' "$d/scripts/deps.lock"; then
		fail "$name" "the test's change to deps.lock did not apply"
	elif [[ $rc -eq 0 ]]; then
		fail "$name" "build-deps.sh went on: $(tail -n 5 <<<"$out")"
	elif ! grep -qF -- "$line" <<<"$out" ||
		! grep -qF "the pinned source versions are not in the apt indexes" <<<"$out"; then
		fail "$name" "no '$line' and refusal in: $(tail -n 10 <<<"$out")"
	elif [[ -n $started ]]; then
		fail "$name" "it started a build before refusing"
	else
		pass "$name"
	fi
}
lock_case lock_dsc_sha256_checked "but with a different .dsc sha256 than scripts/deps.lock"
lock_case lock_version_gone_stops_the_build "pins lvm2 0.0-0gone; the apt indexes list:"
rm -rf "$d"

# 3. Boot it: the repository's list naming that init, packed as an
# external initramfs for the kernel that embeds none (the image is the one
# a link would embed; the link itself is the install step's to prove).
if LUKSINIT_BUILD=$b "$here/scripts/make-cpio.sh" "$kdir" "$here/initramfs.list" \
	"$b/initramfs.cpio.gz" >"$work/cpio.log" 2>&1; then
	pass make_cpio
else
	fail make_cpio "$(tail -n 20 "$work/cpio.log")"
fi
LUKSINIT_TEST_KERNEL=$build/bzImage-plain LUKSINIT_TEST_INITRD=$b/initramfs.cpio.gz \
	LUKSINIT_TEST_LOGS=$build/logs/deps \
	python3 "$here/tests/boot_tests.py" "$build" "${boot_cases[@]}" 2>&1 |
	sed -n 's#^\(PASS\|FAIL\|RETRY\) boot/#\1 deps/boot/#p'
