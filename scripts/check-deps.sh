#!/usr/bin/env bash
# Checks that /init can be built against the libraries pkg-config finds, and
# prints the flags to build it with. Called by the Makefile before anything
# is compiled, for every DEPS= (the Debian prefix, a prefix, the system).
#
# Usage: scripts/check-deps.sh OUT
#   Environment: INIT_CC (the compiler, may carry flags), PKG_CONFIG (and
#   whatever PKG_CONFIG_LIBDIR / PKG_CONFIG_PATH the caller set), CPPFLAGS,
#   LDFLAGS,
#   MIMALLOC (auto: link it when found; yes: required; no: never).
#
# Every missing piece is named, all of them in one run (a user fixing one
# per build would rebuild ten times): a compiler that cannot link static
# programs, kernel headers, a .pc file, a static archive a .pc names. The
# one exception: the archives of a package whose .pc needs a missing .pc
# (libcryptsetup's needs json-c's, ...) are named in the run after that
# .pc is there; pkg-config cannot read it before.
# On success OUT holds the lines CC=, CPPFLAGS=, CFLAGS=, LDFLAGS=, LIBS=.
set -uo pipefail
out=${1:?usage: check-deps.sh OUT}
cc=${INIT_CC:-cc}
pkgconf=${PKG_CONFIG:-pkg-config}
mimalloc=${MIMALLOC:-auto}

# What libcryptsetup pulls in is listed too, so that a missing one is named
# here rather than by the linker. uuid: libcryptsetup's Requires.private.
required=(libcryptsetup blkid devmapper json-c libcrypto uuid libzstd liblzma)
# The flags come from these (the rest arrive through Requires.private).
link=(libcryptsetup blkid libzstd liblzma)
# crypt_reencrypt_status() appeared in 2.2.0.
min_cryptsetup=2.2.0

missing=()
miss() { missing+=("$1"); }

read -r -a ccv <<<"$cc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc_ok=""
if ! command -v "${ccv[0]}" >/dev/null 2>&1; then
	miss "the C compiler '${ccv[0]}' (set CC=)"
else
	printf 'int main(void) { return 0; }\n' >"$work/t.c"
	# shellcheck disable=SC2086 # CPPFLAGS, LDFLAGS are lists of words
	if ! "${ccv[@]}" ${CPPFLAGS:-} ${LDFLAGS:-} -static -o "$work/t" "$work/t.c" >"$work/cc.log" 2>&1; then
		miss "a static C library: '$cc -static' cannot link a program ($(head -n1 "$work/cc.log"))"
	else
		cc_ok=1
	fi
	# /init includes the kernel's UAPI headers; musl toolchains often lack them.
	for h in linux/btrfs.h linux/magic.h linux/netlink.h; do
		# shellcheck disable=SC2086
		printf '#include <%s>\n' "$h" | "${ccv[@]}" ${CPPFLAGS:-} -E -x c - \
			>/dev/null 2>&1 || miss "the kernel header <$h> (install the kernel's UAPI headers, or pass CPPFLAGS=\"-idirafter DIR\")"
	done
fi

if ! command -v "$pkgconf" >/dev/null 2>&1; then
	miss "pkg-config ('$pkgconf'; set PKG_CONFIG=)"
	required=()
	link=()
fi
# The packages pkg-config can answer for; the static archives are probed
# for these even when others are missing, so one run names everything it
# can (a .pc whose own Requires are missing cannot be read: its archives
# are named once those are there).
resolved=()
for p in "${required[@]}"; do
	# pkg-config's own words: a .pc file may be there but need another.
	if why=$("$pkgconf" --exists --print-errors "$p" 2>&1 | tail -n1); then
		resolved+=("$p")
	else
		miss "$p (${why:-not found by $pkgconf})"
	fi
done
case $mimalloc in
auto) "$pkgconf" --exists mimalloc 2>/dev/null && link+=(mimalloc) resolved+=(mimalloc) ;;
yes) if "$pkgconf" --exists mimalloc 2>/dev/null; then link+=(mimalloc) resolved+=(mimalloc); else miss "mimalloc (MIMALLOC=yes, but no mimalloc.pc)"; fi ;;
no) ;;
*) miss "a valid MIMALLOC= (auto, yes or no; not '$mimalloc')" ;;
esac

if [[ " ${resolved[*]} " == *" libcryptsetup "* ]] &&
	! "$pkgconf" --atleast-version="$min_cryptsetup" libcryptsetup; then
	miss "libcryptsetup $min_cryptsetup or later (found $("$pkgconf" --modversion libcryptsetup))"
fi
# Every library a .pc file names must exist as a static archive: a
# distribution without static-libs ships only the .so, and the build would
# fail late with an unhelpful message. The linker itself is asked (with
# -static it only looks for archives), so its search path is the one the
# real link uses; it names every -l it cannot find in one run. Each
# resolved package is asked for its libraries on its own.
probe=""
for p in "${resolved[@]}"; do
	if l=$("$pkgconf" --static --libs "$p" 2>"$work/pc.log"); then
		probe="$probe $l"
	else
		miss "pkg-config's answer for $p: $(tr '\n' ' ' <"$work/pc.log")"
	fi
done
if [[ -n $cc_ok && -n $probe ]]; then
	# shellcheck disable=SC2086 # word lists
	if ! "${ccv[@]}" ${CPPFLAGS:-} ${LDFLAGS:-} -static -o "$work/t" \
		"$work/t.c" $probe >"$work/ld.log" 2>&1; then
		names=$(grep -oE 'cannot find -l[^ :]+' "$work/ld.log" | sed 's/.*-l//' | sort -u)
		for n in $names; do
			miss "lib$n.a (the static archive of $n; only a shared library or none is installed)"
		done
		[[ -n $names ]] || miss "a static link with$probe: $(head -n3 "$work/ld.log" | tr '\n' ' ')"
	fi
fi
if [[ ${#missing[@]} -eq 0 ]]; then
	if ! cflags=$("$pkgconf" --static --cflags "${link[@]}" 2>"$work/pc.log") ||
		! libs=$("$pkgconf" --static --libs "${link[@]}" 2>>"$work/pc.log"); then
		miss "pkg-config's answer for ${link[*]}: $(tr '\n' ' ' <"$work/pc.log")"
	fi
fi

if [[ ${#missing[@]} -gt 0 ]]; then
	echo "luksinit: cannot build /init, missing:" >&2
	printf '  - %s\n' "${missing[@]}" >&2
	echo "luksinit: see docs/BUILDING.md, \"Your own libraries (DEPS=)\"" >&2
	exit 1
fi
printf 'CC=%s\nCPPFLAGS=%s\nCFLAGS=%s\nLDFLAGS=%s\nLIBS=%s\n' "$cc" \
	"${CPPFLAGS:-}" "$cflags" "${LDFLAGS:-}" "$libs" >"$out"
