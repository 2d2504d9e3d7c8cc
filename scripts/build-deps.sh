#!/usr/bin/env bash
# Build the static musl libraries /init links against -- libcryptsetup with its
# dependency closure (libdevmapper, json-c, libcrypto, libblkid, libuuid),
# plus libzstd, liblzma and mimalloc (replacing musl's malloc) -- and the
# SSH server of the optional SSH unlock (dropbear, dropbearkey) from Debian
# *source* packages, into a cached prefix.
#
# Usage:  PREFIX=$(scripts/build-deps.sh | tail -n1)
#         scripts/build-deps.sh --update-lock    (make update-deps-lock)
#
# The prefix path is the only line on stdout; progress goes to stderr and the
# full build output to $CACHE/deps-build-<hash>.log.
#
# The source versions are pinned in scripts/deps.lock (see "Source versions"
# below); --update-lock rewrites it with the newest versions the mirror
# serves, a deliberate step whose result is reviewed and committed.
#
# The prefix also holds bin/musl-cc, the compiler wrapper to build /init with
# (musl-gcc + kernel UAPI headers), and lib/pkgconfig/*.pc for
#   PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig pkg-config --static ...
#
# The prefix name is a hash of this script, of our patches on Debian's
# sources (scripts/deps-patches/<source>-*.patch), of the pinned source
# versions (scripts/deps.lock) and of the installed musl/linux-libc-dev, so editing
# the recipe or the pins yields a fresh build, while an unchanged setup is a
# sub-second no-op that needs neither network nor apt indexes.
#
# After a successful build, the cache keeps only the newest three prefixes
# and their logs (scripts/cache-prune.sh); the one built is always kept.
#
# Environment:
#   LUKSINIT_CACHE       cache directory (default /var/cache/luksinit)
#   LUKSINIT_KEEP_BUILD  if non-empty, keep the build directory of a failed
#                        build for debugging (the partial prefix is removed)
set -euo pipefail

CACHE=${LUKSINIT_CACHE:-/var/cache/luksinit}
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
# shellcheck source=scripts/cache-prune.sh
. "$(dirname -- "$SELF")/cache-prune.sh"

# Debian *source* package names (zstd's source package is "libzstd").
SRC_PKGS=(openssl json-c lvm2 util-linux cryptsetup libzstd xz-utils mimalloc dropbear)

# Host tools: musl-gcc and musl libc, the kernel UAPI headers, dpkg-source,
# the autotools chain cryptsetup's and util-linux's autogen.sh need (the
# latter refuses to run without bison), perl for OpenSSL's Configure, cmake
# for json-c, file for the self-check.
HOST_PKGS=(musl-tools musl-dev dpkg-dev build-essential autoconf automake
    libtool autopoint gettext bison pkg-config perl linux-libc-dev cmake file
    patch)

# Progress goes to the caller's stderr even from inside build steps whose
# stdout/stderr are redirected to the log.
exec 3>&2
log() { printf 'build-deps: %s\n' "$*" >&3; }
# (The last error is repeated after the log tail a failed build prints.)
ERROR=
die() { ERROR=$*; log "error: $*"; exit 1; }

# Only changes to the system need root; a warm run works for anyone.
need_root() { [[ $(id -u) -eq 0 ]] || die "$* needs root"; }

# --------------------------------------------------------------------------
# Host packages
# --------------------------------------------------------------------------

# Fills HOST_VERSION[pkg] for the installed HOST_PKGS. One dpkg-query for
# everything keeps the warm path cheap. It exits non-zero if any package is
# unknown; those are simply not reported.
declare -A HOST_VERSION=()
query_host_pkgs() {
    local pkg version status
    HOST_VERSION=()
    while IFS='|' read -r pkg version status; do
        [[ $status == "install ok installed" ]] && HOST_VERSION[$pkg]=$version
    done < <(dpkg-query -W -f='${Package}|${Version}|${Status}\n' "${HOST_PKGS[@]}" 2>/dev/null || true)
}

ensure_host_pkgs() {
    local missing=() pkg
    query_host_pkgs
    for pkg in "${HOST_PKGS[@]}"; do
        [[ -n ${HOST_VERSION[$pkg]:-} ]] || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    need_root "installing ${missing[*]}"
    log "installing host packages: ${missing[*]}"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >&2
    query_host_pkgs
}

# --------------------------------------------------------------------------
# deb-src entries
# --------------------------------------------------------------------------

# Only the distribution's own repositories get a deb-src twin: third-party
# repos rarely publish sources, and a missing Sources index makes every
# `apt-get update` complain. "Own" means: the suite is the release codename
# or one of its pockets (-updates, -security, ...), and the entry is either
# signed by the Debian archive keyring or, having no Signed-By file (system
# keyring or an inline key), points at a .../debian or .../debian-security
# archive root.
SRC_LIST_DEB822=/etc/apt/sources.list.d/luksinit-src.sources
SRC_LIST_ONELINE=/etc/apt/sources.list.d/luksinit-src.list

have_deb_src_configured() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] && grep -Eqs '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        awk 'BEGIN { RS = ""; FS = "\n"; found = 0 }
             {
                 types = ""; enabled = "yes"
                 for (i = 1; i <= NF; i++) {
                     if (tolower($i) ~ /^types:/) types = " " substr($i, 7) " "
                     if (tolower($i) ~ /^enabled:/) enabled = tolower(substr($i, 9))
                 }
                 gsub(/[ \t]/, "", enabled)
                 if (types ~ /[ \t]deb-src[ \t]/ && enabled !~ /^(no|false|0)$/) found = 1
             }
             END { exit !found }' "$f" && return 0
    done
    return 1
}

# deb822 (.sources) files -> deb-src stanzas on stdout.
deb822_to_src() {
    local codename=$1
    shift
    (($#)) || return 0
    awk -v cn="$codename" '
        BEGIN { RS = ""; FS = "\n" }
        {
            delete f; key = ""
            for (i = 1; i <= NF; i++) {
                line = $i
                if (line ~ /^#/) continue
                # Continuation line, e.g. an inline Signed-By key block.
                if (line ~ /^[ \t]/) { if (key != "") f[key] = f[key] "\n" line; continue }
                p = index(line, ":"); if (!p) continue
                key = tolower(substr(line, 1, p - 1))
                val = substr(line, p + 1)
                sub(/^[ \t]+/, "", val); sub(/[ \t]+$/, "", val)
                f[key] = val
            }
            if (tolower(f["enabled"]) ~ /^(no|false|0)$/) next
            if ((" " f["types"] " ") !~ /[ \t]deb[ \t]/) next

            n = split(f["suites"], s, /[ \t\n]+/); suites = ""
            for (j = 1; j <= n; j++)
                if (s[j] == cn || index(s[j], cn "-") == 1) suites = suites " " s[j]
            if (suites == "") next

            if ("signed-by" in f && f["signed-by"] !~ /BEGIN PGP/) {
                if (f["signed-by"] !~ /debian-archive-keyring/) next
            } else {
                official = 0
                n = split(f["uris"], u, /[ \t\n]+/)
                for (j = 1; j <= n; j++) if (u[j] ~ /\/debian(-security)?\/?$/) official = 1
                if (!official) next
            }

            printf "%sTypes: deb-src\nURIs: %s\nSuites:%s\nComponents: %s\n",
                (out++ ? "\n" : ""), f["uris"], suites, f["components"]
            if ("signed-by" in f) printf "Signed-By: %s\n", f["signed-by"]
        }' "$@"
}

# One-line (.list) files -> "deb-src" lines on stdout.
oneline_to_src() {
    local codename=$1
    shift
    (($#)) || return 0
    awk -v cn="$codename" '
        {
            sub(/#.*/, "")
            if ($1 != "deb") next
            opts = ""; i = 2
            if ($2 ~ /^\[/) {           # [ option=value ... ]
                for (; i <= NF; i++) { opts = opts (opts ? " " : "") $i; if ($i ~ /\]$/) break }
                i++
            }
            uri = $(i); suite = $(i + 1)
            if (!(suite == cn || index(suite, cn "-") == 1)) next
            if (opts ~ /signed-by=/) {
                if (opts !~ /signed-by=[^ \]]*debian-archive-keyring/) next
            } else if (uri !~ /\/debian(-security)?\/?$/) next
            line = "deb-src" (opts ? " " opts : "") " " uri
            for (k = i + 1; k <= NF; k++) line = line " " $k
            print line
        }' "$@"
}

ensure_deb_src() {
    need_root "setting up deb-src entries"
    if ! have_deb_src_configured; then
        local codename f deb822 oneline sources=() lists=()
        # shellcheck source=/dev/null
        codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
        [[ -n $codename ]] || die "cannot determine the release codename from /etc/os-release"
        for f in /etc/apt/sources.list.d/*.sources; do
            [[ -f $f && $f != "$SRC_LIST_DEB822" ]] && sources+=("$f")
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [[ -f $f && $f != "$SRC_LIST_ONELINE" ]] && lists+=("$f")
        done
        deb822=$(deb822_to_src "$codename" "${sources[@]}")
        oneline=$(oneline_to_src "$codename" "${lists[@]}")
        [[ -n $deb822 || -n $oneline ]] ||
            die "no Debian '$codename' apt entries found to derive deb-src entries from"
        local header='# Added by luksinit scripts/build-deps.sh (for apt-get source).'
        if [[ -n $deb822 ]]; then
            log "adding deb-src entries: $SRC_LIST_DEB822"
            printf '%s\n%s\n' "$header" "$deb822" >"$SRC_LIST_DEB822"
        fi
        if [[ -n $oneline ]]; then
            log "adding deb-src entries: $SRC_LIST_ONELINE"
            printf '%s\n%s\n' "$header" "$oneline" >"$SRC_LIST_ONELINE"
        fi
    fi
    log "apt-get update (for the Sources indexes)"
    apt-get update -q >&2
}

# --------------------------------------------------------------------------
# Source versions: scripts/deps.lock
# --------------------------------------------------------------------------

# The lock file pins every source package to one version and the sha256 of
# its .dsc. A build downloads exactly those (apt-get source PKG=VERSION)
# and checks the .dsc against the lock; dpkg-source -x then checks every
# other file against the .dsc. What apt would resolve today plays no part,
# so a rerun never rebuilds by surprise; moving to newer versions is
# `make update-deps-lock` (this script with --update-lock).
LOCK=$(dirname -- "$SELF")/deps.lock
UPDATE_HINT="to pin versions the mirror serves now, run (as root) 'make update-deps-lock' (scripts/build-deps.sh --update-lock), review the change to scripts/deps.lock and commit it"

# Sets PINNED ("<pkg> <version> <dsc sha256>" lines, sorted) from $LOCK:
# exactly one line for each of SRC_PKGS.
read_lock() {
    [[ -f $LOCK ]] || die "$LOCK is missing; $UPDATE_HINT"
    local line pkg ver sum extra n=0
    local -A seen=()
    PINNED=
    while read -r pkg ver sum extra; do
        [[ -z $pkg || $pkg == \#* ]] && continue
        line="$pkg $ver $sum"
        [[ -n $ver && $sum =~ ^[0-9a-f]{64}$ && -z $extra ]] ||
            die "$LOCK: bad line '$line${extra:+ $extra}' (want: <source package> <version> <sha256 of the .dsc>)"
        [[ " ${SRC_PKGS[*]} " == *" $pkg "* ]] || die "$LOCK: '$pkg' is not one of: ${SRC_PKGS[*]}"
        [[ -z ${seen[$pkg]:-} ]] || die "$LOCK: $pkg is pinned twice"
        seen[$pkg]=1
        PINNED+=$line$'\n'
        n=$((n + 1))
    done <"$LOCK"
    ((n == ${#SRC_PKGS[@]})) || die "$LOCK pins $n of the ${#SRC_PKGS[@]} source packages (${SRC_PKGS[*]}); $UPDATE_HINT"
    PINNED=$(LC_ALL=C sort <<<"$PINNED" | sed '/^$/d')
}

# "<srcpkg> <version> <sha256 of .dsc>" for every version of every source
# package the apt indexes know, sorted.
known_sources() {
    apt-cache showsrc --only-source "${SRC_PKGS[@]}" 2>/dev/null | awk '
        /^Package: /  { pkg = $2; ver = ""; insums = 0; next }
        /^Version: /  { ver = $2; next }
        /^Checksums-Sha256:/ { insums = 1; next }
        /^ / && insums { if ($3 ~ /\.dsc$/) print pkg, ver, $1; next }
        { insums = 0 }' | sort -u
}

# Versions of source package $1 in $known, newest first (dpkg ordering,
# epochs and ~ included).
versions_desc() {
    local v i out=()
    while read -r v; do
        i=${#out[@]}
        while ((i > 0)) && dpkg --compare-versions "$v" gt "${out[i - 1]}"; do
            out[i]=${out[i - 1]}
            i=$((i - 1))
        done
        out[i]=$v
    done < <(awk -v p="$1" '$1 == p { print $2 }' <<<"$known")
    printf '%s\n' "${out[@]}"
}

# Downloads source package $1 version $2 into directory $3 (created empty);
# prints the path of its .dsc. Output of apt goes to stderr.
download_source() {
    local pkg=$1 ver=$2 dir=$3 dscs
    rm -rf -- "$dir"
    mkdir -p -- "$dir"
    # The directory is root-only, so download as root rather than _apt.
    (cd -- "$dir" && apt-get -q -o APT::Sandbox::User=root --only-source \
        --download-only source "$pkg=$ver") </dev/null >&2 || return 1
    dscs=("$dir"/*.dsc)
    [[ ${#dscs[@]} -eq 1 && -f ${dscs[0]} ]] || return 1
    echo "${dscs[0]}"
}

# --update-lock: pins the newest version of each source package that the
# mirror actually serves. A mirror may list a version it cannot serve (seen
# with an openssl security update whose .dsc gave 404), so each version is
# downloaded to prove it, falling back to the next older one.
update_lock() {
    need_root "updating $LOCK"
    ensure_deb_src
    known=$(known_sources) || die "apt-cache showsrc failed"
    local tmp pkg v newest dsc sum lines=
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064 # expand $tmp now
    trap "rm -rf -- '$tmp'" EXIT
    for pkg in "${SRC_PKGS[@]}"; do
        newest=
        sum=
        while read -r v; do
            [[ -n $v ]] || continue
            [[ -n $newest ]] || newest=$v
            log "trying $pkg $v"
            if dsc=$(download_source "$pkg" "$v" "$tmp/$pkg" 2>>"$tmp/apt.log"); then
                sum=$(sha256sum <"$dsc" | cut -d' ' -f1)
                break
            fi
            log "warning: $pkg $v is listed but could not be downloaded"
        done < <(versions_desc "$pkg")
        if [[ -z $sum ]]; then
            tail -n 20 -- "$tmp/apt.log" >&3 || true
            die "no version of source package $pkg could be downloaded (apt's last words above)"
        fi
        [[ $v == "$newest" ]] || log "warning: pinning $pkg $v, not the newest listed $newest"
        lines+="$pkg $v $sum"$'\n'
        rm -rf -- "${tmp:?}/$pkg"
    done
    {
        cat <<'HEADER'
# Debian source packages scripts/build-deps.sh builds the static libraries
# (and dropbear) from, pinned: <source package> <version> <sha256 of its .dsc>.
# The build downloads exactly these versions (apt-get source PKG=VERSION)
# and checks each .dsc against the sha256 here (dpkg-source then checks the
# other files against the .dsc); the deps prefix is keyed by these lines.
# Written by `make update-deps-lock` (scripts/build-deps.sh --update-lock),
# which pins the newest version the mirror serves; review and commit.
HEADER
        LC_ALL=C sort <<<"$lines" | sed '/^$/d'
    } >"$LOCK.tmp"
    mv -f -- "$LOCK.tmp" "$LOCK"
    log "wrote $LOCK:"
    grep -v '^#' "$LOCK" | cut -d' ' -f1,2 | sed 's/^/build-deps:   /' >&3
}

if [[ ${1:-} == --update-lock ]]; then
    ensure_host_pkgs
    update_lock
    exit 0
fi
[[ $# -eq 0 ]] || die "usage: $0 [--update-lock]"

# --------------------------------------------------------------------------
# Fast path: work out the prefix and return it if it is already built.
# --------------------------------------------------------------------------

ensure_host_pkgs
read_lock

# musl and the kernel headers end up in the result too.
toolchain=$(for pkg in musl-tools musl-dev linux-libc-dev; do echo "$pkg ${HOST_VERSION[$pkg]}"; done)

PATCHES=()
for p in "$(dirname -- "$SELF")"/deps-patches/*.patch; do
    if [[ -f $p ]]; then PATCHES+=("$p"); fi
done
HASH=$( { cat -- "$SELF" "${PATCHES[@]}"; printf '%s\n' "$PINNED" "$toolchain"; } | sha256sum | cut -c1-16)
PREFIX=$CACHE/deps-$HASH
STAMP=$PREFIX/.stamp

# If the prefix is complete: prints it and exits. Its mtime records the
# last use, which is what pruning (scripts/cache-prune.sh) ranks by; a
# non-root caller may not be able to touch it, which is harmless.
done_if_built() {
    [[ -f $STAMP ]] || return 0
    touch -c -- "$PREFIX" 2>/dev/null || true
    echo "$PREFIX"
    exit 0
}
done_if_built

# --------------------------------------------------------------------------
# Cold path
# --------------------------------------------------------------------------

need_root "building $PREFIX"
mkdir -p -- "$CACHE"
# Serialize concurrent runs (e.g. parallel make); the loser then finds the
# winner's result below.
exec 9>"$CACHE/deps.lock"
flock 9
done_if_built

# Every pinned version must be in the apt indexes. On a fresh machine there
# are no deb-src entries (or no Sources indexes yet): set them up once.
unlisted() {
    local pkg ver sum
    while read -r pkg ver sum; do
        grep -qxF -- "$pkg $ver $sum" <<<"$known" || echo "$pkg $ver"
    done <<<"$PINNED"
}
known=$(known_sources || true)
if [[ -n $(unlisted) ]]; then
    ensure_deb_src
    known=$(known_sources || true)
fi
not_listed=$(unlisted)
if [[ -n $not_listed ]]; then
    while read -r pkg ver; do
        listed=$(versions_desc "$pkg" | tr '\n' ' ')
        log "scripts/deps.lock pins $pkg $ver; the apt indexes list: ${listed:-nothing}"
        if grep -q "^$pkg $ver " <<<"$known"; then
            log "  ... but with a different .dsc sha256 than scripts/deps.lock"
        fi
    done <<<"$not_listed"
    die "the pinned source versions are not in the apt indexes (Debian drops superseded versions, e.g. after a security update); $UPDATE_HINT"
fi

BUILD=$(mktemp -d "$CACHE/build.XXXXXX")
LOG=$CACHE/deps-build-$HASH.log
PT=$PREFIX.tmp   # build-time prefix
: >"$LOG"

on_exit() {
    local rc=$?
    if ((rc != 0)); then
        log "FAILED (exit $rc); last 40 lines of $LOG:"
        tail -n 40 -- "$LOG" >&3 || true
        [[ -z $ERROR ]] || log "error: $ERROR"
        [[ -n $PT ]] && rm -rf -- "$PT"
        if [[ -n ${LUKSINIT_KEEP_BUILD:-} ]]; then
            log "keeping build directory $BUILD"
            return
        fi
    fi
    rm -rf -- "$BUILD"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs one build step (a function) in a subshell with errexit and tracing,
# output to the log. Deliberately no `|| handler`: that would silently turn
# off errexit inside the function.
step() {
    local t0=$SECONDS
    log "  $1 ..."
    printf '\n===== %s =====\n' "$1" >>"$LOG"
    (set -euxo pipefail; "$@") >>"$LOG" 2>&1
    log "  $1 done ($((SECONDS - t0))s)"
}

log "fetching sources"
while read -r pkg ver sum; do
    dsc=$(download_source "$pkg" "$ver" "$BUILD/dl/$pkg" 2>>"$LOG") ||
        die "could not download source package $pkg $ver although the apt indexes list it (a mirror may list a version it does not serve); $UPDATE_HINT"
    got=$(sha256sum <"$dsc" | cut -d' ' -f1)
    [[ $got == "$sum" ]] ||
        die "${dsc##*/}: sha256 $got, but scripts/deps.lock says $sum"
    # The .dsc is now known good; dpkg-source checks every file it lists
    # against its checksums (and warns, in the log, that it cannot check
    # the signature without debian-keyring: the checksum chain from the
    # lock file is what is relied on).
    dpkg-source --require-strong-checksums -x "$dsc" "$BUILD/$pkg" >>"$LOG" 2>&1 ||
        die "dpkg-source -x ${dsc##*/} failed (checksums?); see $LOG"
done <<<"$PINNED"

rm -rf -- "$PT"   # leftover of a killed run

JOBS=$(nproc)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
case $(dpkg-architecture -qDEB_HOST_GNU_CPU) in
    x86_64) OPENSSL_TARGET=linux-x86_64 ;;
    aarch64) OPENSSL_TARGET=linux-aarch64 ;;
    *) die "no OpenSSL target known for $(dpkg-architecture -qDEB_HOST_GNU_CPU)" ;;
esac

log "cold build of $PREFIX from: $(cut -d' ' -f1,2 <<<"$PINNED" | tr ' \n' '= ')"
log "full log: $LOG"

# The compiler everything (and later /init) is built with. musl-gcc's specs
# pass -nostdinc, which also hides the kernel UAPI headers (linux/, asm/,
# asm-generic/) that libdevmapper and libcryptsetup include. Copies of them
# live in the prefix and are appended to the search path with -idirafter,
# so musl's own headers always win. A wrapper rather than CFLAGS, because
# not every rule honours CFLAGS (lvm2's symbol-export rule does not) and so
# that /init's Makefile gets the same compiler by name. The wrapper finds the
# prefix relative to itself, so it survives the final rename.
mkdir -p -- "$PT/bin" "$PT/lib/pkgconfig" "$PT/include" "$PT/kheaders"
cp -a /usr/include/linux /usr/include/asm-generic "$PT/kheaders/"
cp -a "/usr/include/$MULTIARCH/asm" "$PT/kheaders/asm"
cat >"$PT/bin/musl-cc" <<'EOF'
#!/bin/sh
# musl-gcc with the kernel UAPI headers (linux/, asm/, asm-generic/) visible.
# Generated by luksinit scripts/build-deps.sh.
p=$(readlink -f -- "$0")
p=${p%/bin/*}
exec musl-gcc -idirafter "$p/kheaders" "$@"
EOF
chmod 0755 "$PT/bin/musl-cc"

# Every configure/cmake below sees only this environment. pkg-config is
# confined to the prefix so no glibc .pc file can ever be picked up, and
# --static makes configure-time link tests use the full static closure.
# The compiler is found via PATH so that its (temporary) location is not
# baked into version strings; the prefix map keeps the build directory out
# of __FILE__ strings.
export PATH=$PT/bin:$PATH
export CC=musl-cc
export CFLAGS="-O2 -ffile-prefix-map=$BUILD/="
export CPPFLAGS=-I$PT/include
export LDFLAGS=-L$PT/lib
export PKG_CONFIG="pkg-config --static"
export PKG_CONFIG_LIBDIR=$PT/lib/pkgconfig
export PKG_CONFIG_PATH=
unset PKG_CONFIG_SYSROOT_DIR CXX CXXFLAGS LIBS LD_LIBRARY_PATH MAKEFLAGS || true

build_openssl() {
    cd "$BUILD/openssl"
    # Installation is by hand, so --prefix only feeds libcrypto.pc and the
    # compiled-in (unused with no-module/no-engine) module directories: use
    # the final prefix. OPENSSLDIR (openssl.cnf) points at the conventional
    # system path; a missing file is fine. Environment CFLAGS replace
    # OpenSSL's default -O3 and end up verbatim in OpenSSL_version(), hence
    # without the prefix map. Assembler implementations stay enabled.
    # OpenSSL 3's providers reference every algorithm they carry, so
    # --gc-sections cannot drop unused ones: what LUKS never uses (public
    # keys, TLS, exotic ciphers) is configured out. That took /init from
    # 4.5 MB to 3.3 MB (xz: 1.58 to 1.09 MiB). Kept: AES, SHA-1/2,
    # RIPEMD-160, Whirlpool, BLAKE2 (hashes a LUKS header may name), HMAC.
    env -u CPPFLAGS -u LDFLAGS CFLAGS=-O2 ./Configure "$OPENSSL_TARGET" \
        no-shared no-module no-dso no-engine no-async no-tests \
        no-aria no-bf no-camellia no-cast no-chacha no-cmac no-cmp no-cms \
        no-comp no-ct no-des no-dgram no-dh no-dsa no-ec no-ec2m no-gost \
        no-idea no-md4 no-mdc2 no-ocb no-ocsp no-poly1305 no-psk no-rc2 \
        no-rc4 no-scrypt no-seed no-siphash no-siv no-sm2 no-sm3 no-sm4 \
        no-sock no-srp no-srtp no-ssl no-tls no-dtls no-ts no-ui-console \
        --prefix="$PREFIX" --libdir=lib --openssldir=/etc/ssl
    # (libcrypto.pc depends on all libraries, so libssl gets built as well.)
    make -j"$JOBS" build_libs
    install -m 0644 libcrypto.a "$PT/lib/"
    install -m 0644 libcrypto.pc "$PT/lib/pkgconfig/"
    mkdir -p "$PT/include/openssl"
    install -m 0644 include/openssl/*.h "$PT/include/openssl/"
}

build_json_c() {
    cd "$BUILD/json-c"
    # json-c defaults to a debug build; its apps and tests are avoided by
    # building only the library target.
    cmake -S . -B build \
        -DCMAKE_C_COMPILER="$CC" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2" \
        -DCMAKE_INSTALL_PREFIX="$PT" -DCMAKE_INSTALL_LIBDIR=lib \
        -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON -DBUILD_TESTING=OFF \
        -DDISABLE_WERROR=ON -DDISABLE_EXTRA_LIBS=ON
    cmake --build build -j "$JOBS" --target json-c
    cmake --install build
}

build_zstd() {
    cd "$BUILD/libzstd"
    # CFLAGS come from the environment so the Makefile's own += additions
    # still apply. The static library defaults to single-threaded.
    make -C lib -j"$JOBS" CC="$CC" libzstd.a
    make -C lib CC="$CC" PREFIX="$PT" install-static install-includes install-pc
}

build_xz() {
    cd "$BUILD/xz-utils"
    ./configure --prefix="$PT" --disable-shared --enable-static \
        --disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo \
        --disable-lzma-links --disable-scripts --disable-doc --disable-nls
    make -C src/liblzma -j"$JOBS"
    make -C src/liblzma install
}

build_util_linux() {
    cd "$BUILD/util-linux"
    # Debian patches configure.ac/Makemodule.am; regenerate (as Debian does)
    # rather than let make half-regenerate it on the fly.
    ./autogen.sh
    ./configure --prefix="$PT" --disable-shared --enable-static \
        --disable-all-programs --enable-libblkid --enable-libuuid \
        --disable-nls --disable-asciidoc --disable-poman --disable-bash-completion \
        --disable-makeinstall-chown --disable-makeinstall-setuid \
        --without-python --without-systemd --without-udev --without-selinux \
        --without-audit --without-cap-ng --without-libmagic --without-libz \
        --without-readline --without-ncurses --without-ncursesw --without-tinfo \
        --without-btrfs --without-user --without-utempter --without-econf \
        --without-smack --without-cryptsetup
    make -j"$JOBS" libblkid.la libuuid.la
    make install-usrlib_execLTLIBRARIES install-pkgconfigDATA \
        install-nodist_blkidincHEADERS install-uuidincHEADERS
}

build_lvm2() {
    cd "$BUILD/lvm2"
    # Without libaio only libdm can be built, which is all that is wanted.
    # No symbol versioning: it only matters for the shared library.
    ./configure --prefix="$PT" --enable-static_link --with-symvers=no \
        --disable-selinux --disable-udev_sync --disable-udev-systemd-background-jobs \
        --disable-blkid_wiping --disable-readline --disable-nls \
        --disable-dmeventd --disable-cmdlib --disable-lvmpolld --disable-use-lvmlockd \
        --disable-use-lvmpolld --disable-systemd-journal --disable-app-machineid \
        --disable-notify-dbus
    make -C libdm -j"$JOBS" ioctl/libdevmapper.a libdevmapper.pc
    install -m 0644 libdm/ioctl/libdevmapper.a "$PT/lib/"
    install -m 0644 libdm/libdevmapper.h "$PT/include/"
    # libdm uses pthread mutexes but its .pc does not say so.
    sed -e '/^Libs.private:/s/$/ -pthread/' libdm/libdevmapper.pc >"$PT/lib/pkgconfig/devmapper.pc"
}

# mimalloc replaces musl's malloc in /init. OpenSSL 3 allocates and frees
# ~4 digest contexts per PBKDF2 iteration (HMAC_CTX_copy -> dupctx), and
# musl's mallocng spends ~1/3 of a PBKDF2 unlock in malloc/free, which made
# it ~18% slower than glibc's cryptsetup. Built as the single override object
# upstream provides (src/static.c with MI_MALLOC_OVERRIDE, upstream's GCC
# flags), linked as an object so it always wins over libc.a's malloc
# (musl supports replacing malloc in static links; its internal
# __libc_malloc users keep musl's own allocator).
build_mimalloc() {
    cd "$BUILD/mimalloc"
    # shellcheck disable=SC2086 # CFLAGS is a list of flags
    $CC $CFLAGS -DNDEBUG -DMI_MALLOC_OVERRIDE -Iinclude \
        -fvisibility=hidden -ftls-model=initial-exec -fno-builtin-malloc \
        -ffunction-sections -fdata-sections -Wall -Wno-unknown-pragmas \
        -c src/static.c -o mimalloc.o
    install -m 0644 mimalloc.o "$PT/lib/"
    install -m 0644 include/mimalloc.h "$PT/include/"
    local version
    version=$(sed -n 's/^#define MI_MALLOC_VERSION *\([0-9]*\).*/\1/p' include/mimalloc.h)
    cat >"$PT/lib/pkgconfig/mimalloc.pc" <<EOF
prefix=$PT
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: mimalloc
Description: mimalloc as a malloc replacement object for static links
Version: $version
Cflags: -I\${includedir}
Libs: \${libdir}/mimalloc.o -pthread
EOF
}

build_cryptsetup() {
    cd "$BUILD/cryptsetup"
    # Our patches on top of Debian's (scripts/deps-patches/, each says why).
    local p
    for p in "${PATCHES[@]}"; do
        if [[ $(basename -- "$p") == cryptsetup-* ]]; then
            patch -p1 --forward <"$p"
        fi
    done
    ./autogen.sh
    # configure looks for an "openssl" pkg-config module (libssl + libcrypto),
    # but only libcrypto is used and installed: hand it libcrypto directly.
    # It also insists on popt even with all tools disabled; nothing built
    # here links it. The (disabled) token plugin path is compiled in anyway;
    # keep the build prefix out of it. The internal Argon2 uses the SSE2
    # implementation where configure finds <emmintrin.h> (x86_64; elsewhere
    # configure falls back to the reference code by itself): same results,
    # less CPU time than the reference code Debian's libargon2 uses.
    ./configure --prefix="$PT" --disable-shared --enable-static \
        --with-crypto_backend=openssl --enable-internal-argon2 \
        --enable-internal-sse-argon2 \
        --disable-asciidoc --disable-ssh-token --disable-external-tokens \
        --disable-cryptsetup --disable-veritysetup --disable-integritysetup \
        --disable-selinux --disable-udev --disable-nls \
        --with-luks2-external-tokens-path=/lib/cryptsetup \
        OPENSSL_CFLAGS="$($PKG_CONFIG --cflags libcrypto)" \
        OPENSSL_LIBS="$($PKG_CONFIG --libs libcrypto)" \
        OPENSSL_STATIC_CFLAGS="$($PKG_CONFIG --cflags libcrypto)" \
        OPENSSL_STATIC_LIBS="$($PKG_CONFIG --libs libcrypto)" \
        ac_cv_lib_popt_poptConfigFileToString=yes
    make -j"$JOBS" libcryptsetup.la
    make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA
    # Make `pkg-config --static --libs libcryptsetup` a complete link line:
    # the Requires.private "openssl" module does not exist here (libcrypto
    # does), and the internal Argon2 uses threads.
    sed -i -e '/^Requires.private:/s/\<openssl\>/libcrypto/' \
        -e '$a Libs.private: -pthread' "$PT/lib/pkgconfig/libcryptsetup.pc"
}

# dropbear, the SSH server of the optional SSH unlock (man luksinit(7)):
# /init starts it with a forced command, so every session runs the unlock
# client. What an unlock never needs is compiled out rather than switched
# off by options: password and PAM logins, TCP/agent/X11 forwarding, sftp,
# the motd, inetd mode. With them gone, dropbear rejects -s, -g, -j, -k and
# -m as unknown options; -E stays (syslog is compiled in, -E bypasses it,
# and there is no /dev/log in an initramfs anyway). A client that never
# authenticates is cut off after AUTH_TIMEOUT (20 s, not 300), and at most
# MAX_UNAUTH_CLIENTS such connections (MAX_UNAUTH_PER_IP from one address)
# are served at once: a flood costs the boot a bounded handful of processes.
# DROPBEAR_SVR_MULTIUSER stays: without it dropbear refuses to run on a
# kernel with CONFIG_MULTIUSER, whoever logs in. The host key is ed25519
# (the one luksinit(7) has users make); RSA and ECDSA stay for users' keys
# in authorized_keys; SHA-1 key exchange and ssh-rsa SHA-1 signatures are
# off (OpenSSH clients do not need them).
build_dropbear() {
    cd "$BUILD/dropbear"
    cat >localoptions.h <<'OPTS'
/* Written by luksinit scripts/build-deps.sh: see build_dropbear there. */
#define INETD_MODE 0
#define DROPBEAR_SVR_PASSWORD_AUTH 0
#define DROPBEAR_SVR_PAM_AUTH 0
#define DROPBEAR_SVR_PUBKEY_AUTH 1
#define DROPBEAR_SVR_LOCALTCPFWD 0
#define DROPBEAR_SVR_REMOTETCPFWD 0
#define DROPBEAR_SVR_AGENTFWD 0
#define DROPBEAR_X11FWD 0
#define DROPBEAR_SFTPSERVER 0
#define DO_MOTD 0
#define AUTH_TIMEOUT 20
#define MAX_UNAUTH_CLIENTS 10
#define MAX_UNAUTH_PER_IP 5
#define MAX_AUTH_TRIES 5
#define DROPBEAR_ED25519 1
#define DROPBEAR_DSS 0
#define DROPBEAR_DH_GROUP14_SHA1 0
#define DROPBEAR_RSA_SHA1 0
OPTS
    # The bundled libtomcrypt/libtommath: nothing from the host. No
    # login records: an initramfs has no utmp/wtmp/lastlog to write.
    env -u CPPFLAGS -u LDFLAGS ./configure --enable-static --enable-bundled-libtom \
        --disable-zlib --disable-pam --disable-shadow --disable-plugin \
        --disable-lastlog --disable-utmp --disable-utmpx --disable-wtmp \
        --disable-wtmpx --disable-loginfunc --disable-pututline --disable-pututxline
    make -j"$JOBS" PROGRAMS="dropbear dropbearkey"
    install -D -s -m 0755 dropbear "$PT/sbin/dropbear"
    install -D -s -m 0755 dropbearkey "$PT/bin/dropbearkey"
}

# The installed dropbear is static, makes and reads an ed25519 host key,
# and really lacks password logins and forwarding (their options unknown).
self_check_dropbear() {
    local dir=$BUILD/selfcheck-dropbear opt
    mkdir -p "$dir"
    file "$PT/sbin/dropbear" "$PT/bin/dropbearkey" | tee "$dir/file.txt"
    [[ $(grep -c 'statically linked' "$dir/file.txt") -eq 2 ]]
    "$PT/bin/dropbearkey" -t ed25519 -f "$dir/host_key"
    "$PT/bin/dropbearkey" -y -f "$dir/host_key" | grep '^ssh-ed25519 '
    "$PT/sbin/dropbear" -V
    for opt in -s -j -k; do
        if "$PT/sbin/dropbear" "$opt" -V 2>"$dir/err.txt"; then
            echo "dropbear accepts $opt: compiled in"
            return 1
        fi
        grep -q "Invalid option $opt" "$dir/err.txt"
    done
    ls -l "$PT/sbin/dropbear" "$PT/bin/dropbearkey"
}

# Each pkg-config file must resolve from the final location; libtool
# archives are useless for static linking and would carry the .tmp path.
finalize_prefix() {
    rm -f "$PT"/lib/*.la
    rm -rf "$PT/share" "$PT/lib/cmake"
    sed -i "s|$PT|$PREFIX|g" "$PT"/lib/pkgconfig/*.pc
    if grep -rlF "$PT" "$PT"; then
        echo "build path $PT leaked into the files above"
        return 1
    fi
}

# Links and runs a program against the whole set using only what the
# consumer (the project Makefile) will use: bin/musl-cc and pkg-config
# --static with libcryptsetup + blkid + libzstd + liblzma + mimalloc.
self_check() {
    local dir=$BUILD/selfcheck
    mkdir -p "$dir"
    cat >"$dir/check.c" <<'EOF'
#include <stdio.h>
#include <linux/dm-ioctl.h>
#include <libcryptsetup.h>
#include <blkid/blkid.h>
#include <zstd.h>
#include <lzma.h>
#include <stdlib.h>
#include <mimalloc.h>

int main(void)
{
    /* The malloc in effect must be mimalloc's (see build_mimalloc). */
    void *p = malloc(64);
    if (!p || !mi_is_in_heap_region(p)) {
        fprintf(stderr, "malloc is not mimalloc's\n");
        return 1;
    }
    free(p);
    const char *blkid_ver = NULL;
    blkid_get_library_version(&blkid_ver, NULL);
    /* Any libcryptsetup call links setup.o, which references (nearly) the
     * whole dependency closure: devmapper, json-c, libcrypto, blkid, uuid. */
    crypt_set_debug_level(CRYPT_DEBUG_NONE);
    printf("libcryptsetup (default %s), blkid %s, zstd %s, lzma %s, mimalloc %d, dm-ioctl %d.%d\n",
           crypt_get_default_type(), blkid_ver, ZSTD_versionString(),
           lzma_version_string(), mi_version(), DM_VERSION_MAJOR, DM_VERSION_MINOR);
    return 0;
}
EOF
    local pc="pkg-config --static"
    # shellcheck disable=SC2046 # word splitting of pkg-config output is intended
    "$PT/bin/musl-cc" -static -O2 -o "$dir/check" "$dir/check.c" \
        $(PKG_CONFIG_LIBDIR=$PT/lib/pkgconfig $pc --cflags --libs libcryptsetup blkid libzstd liblzma mimalloc)
    "$dir/check"
    file "$dir/check" | tee "$dir/file.txt"
    grep -q 'statically linked' "$dir/file.txt"
    ls -l "$dir/check"
}

step build_openssl
step build_mimalloc
step build_json_c
step build_zstd
step build_xz
step build_util_linux
step build_lvm2
step build_cryptsetup
step build_dropbear
step self_check
step self_check_dropbear
step finalize_prefix

{
    echo "# luksinit deps $HASH, built $(date -u +%FT%TZ) by $SELF"
    printf '%s\n' "$PINNED" "$toolchain"
} >"$PT/.stamp"
mv -- "$PT" "$PREFIX"
PT=
log "done: $PREFIX"

# Older prefixes and their logs: the newest three are kept (this one among
# them). No other deps build runs meanwhile (deps.lock is held), so other
# build.* directories are leftovers of killed builds or ones kept with
# LUKSINIT_KEEP_BUILD, and *.tmp prefixes are partial. known-*.lst and
# sources-*.lst memoized the version resolution that scripts/deps.lock
# replaced: all go.
prune_cache() {
    cache_prune "$CACHE" 3 "$HASH" '[0-9a-f]{16}' 'deps-*' 'deps-*.tmp' 'deps-build-*.log' &&
        cache_prune "$CACHE" 3 "${BUILD##*/build.}" '[A-Za-z0-9]{6}' 'build.*' &&
        cache_prune "$CACHE" 0 '' '[0-9a-f]{16}' 'known-*.lst' &&
        cache_prune "$CACHE" 0 '' '[0-9a-f]{16}' 'sources-*.lst'
}
prune_cache 2>&3 || log "warning: could not prune all of $CACHE"
echo "$PREFIX"
