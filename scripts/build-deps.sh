#!/usr/bin/env bash
# Build the static musl libraries /init links against -- libcryptsetup with its
# dependency closure (libdevmapper, json-c, libcrypto, libblkid, libuuid),
# plus libzstd, liblzma and mimalloc (replacing musl's malloc) -- from Debian
# *source* packages, into a cached prefix.
#
# Usage:  PREFIX=$(scripts/build-deps.sh | tail -n1)
#
# The prefix path is the only line on stdout; progress goes to stderr and the
# full build output to $CACHE/deps-build-<hash>.log.
#
# The prefix also holds bin/musl-cc, the compiler wrapper to build /init with
# (musl-gcc + kernel UAPI headers), and lib/pkgconfig/*.pc for
#   PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig pkg-config --static ...
#
# The prefix name is a hash of this script and the exact Debian source
# versions (and of musl/linux-libc-dev), so editing the recipe or a security
# update of any source package yields a fresh build, while an unchanged setup
# is a sub-second no-op.
#
# Environment:
#   LUKSINIT_CACHE       cache directory (default /var/cache/luksinit)
#   LUKSINIT_KEEP_BUILD  if non-empty, keep the build directory of a failed
#                        build for debugging (the partial prefix is removed)
set -euo pipefail

CACHE=${LUKSINIT_CACHE:-/var/cache/luksinit}
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")

# Debian *source* package names (zstd's source package is "libzstd").
SRC_PKGS=(openssl json-c lvm2 util-linux cryptsetup libzstd xz-utils mimalloc)

# Host tools: musl-gcc and musl libc, the kernel UAPI headers, dpkg-source,
# the autotools chain cryptsetup's and util-linux's autogen.sh need (the
# latter refuses to run without bison), perl for OpenSSL's Configure, cmake
# for json-c, file for the self-check.
HOST_PKGS=(musl-tools musl-dev dpkg-dev build-essential autoconf automake
    libtool autopoint gettext bison pkg-config perl linux-libc-dev cmake file)

# Progress goes to the caller's stderr even from inside build steps whose
# stdout/stderr are redirected to the log.
exec 3>&2
log() { printf 'build-deps: %s\n' "$*" >&3; }
die() { log "error: $*"; exit 1; }

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
# Source versions
# --------------------------------------------------------------------------

# "<srcpkg> <version> <sha256 of .dsc>" for every version of every source
# package the indexes know, sorted. (apt-cache is ~3x faster than
# `apt-get source --print-uris`, which matters for the warm path.)
known_sources() {
    apt-cache showsrc --only-source "${SRC_PKGS[@]}" 2>/dev/null | awk '
        /^Package: /  { pkg = $2; ver = ""; insums = 0; next }
        /^Version: /  { ver = $2; next }
        /^Checksums-Sha256:/ { insums = 1; next }
        /^ / && insums { if ($3 ~ /\.dsc$/) print pkg, ver, $1; next }
        { insums = 0 }' | sort -u
}

# apt-cache showsrc rescans all Sources indexes for every package: ~0.3 s,
# several times that on a busy machine, which would dominate the warm path.
# Its answer only changes when the indexes do, so it is memoized per index
# fingerprint (file names, sizes, mtimes) and package list.
known_sources_cached() {
    local LISTS=/var/lib/apt/lists/ files fp memo out rc=0
    eval "$(apt-config shell LISTS Dir::State::lists/d)"
    files=$(compgen -G "$LISTS*_Sources*") || { known_sources; return; }
    # shellcheck disable=SC2086 # one file name per line, none with spaces
    fp=$( { echo "${SRC_PKGS[*]}"; stat -c '%n %s %Y' $files; } | sha256sum | cut -c1-16)
    memo=$CACHE/known-$fp.lst
    if [[ -s $memo ]]; then
        cat -- "$memo"
        return
    fi
    out=$(known_sources) || rc=$?
    printf '%s\n' "$out"
    # Best effort: the cache may not be writable (non-root).
    mkdir -p -- "$CACHE" 2>/dev/null || true
    if ((rc == 0)) && [[ -n $out && -w $CACHE ]]; then
        rm -f -- "$CACHE"/known-*.lst
        printf '%s\n' "$out" >"$memo.$$" && mv -f -- "$memo.$$" "$memo"
    fi
    return "$rc"
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

# --------------------------------------------------------------------------
# Fast path: work out the prefix and return it if it is already built.
# --------------------------------------------------------------------------

ensure_host_pkgs

# (apt-cache fails outright while no deb-src entry exists at all.)
known=$(known_sources_cached || true)
for pkg in "${SRC_PKGS[@]}"; do
    if ! grep -q "^$pkg " <<<"$known"; then
        ensure_deb_src
        known=$(known_sources_cached || true)
        break
    fi
done
for pkg in "${SRC_PKGS[@]}"; do
    grep -q "^$pkg " <<<"$known" || die "no source package '$pkg' in the apt indexes"
done

# Normally the newest version of each source package is built. A mirror may
# however list a version it cannot serve (seen with a security update whose
# .dsc 404'd), so the cold path falls back to the newest version that
# actually downloads. That choice needs a download to make, so it is
# memoized per state of the indexes ($MEMO) to keep the warm path offline.
# A memo that needed a fallback expires after a day so the newer version is
# retried once the mirror has it.
KEY=$(sha256sum <<<"$known" | cut -c1-16)
MEMO=$CACHE/sources-$KEY.lst
memo_valid() {
    [[ -s $MEMO ]] || return 1
    grep -q ' fallback-from=' "$MEMO" || return 0
    [[ -z $(find "$MEMO" -mmin +1440) ]]
}

# musl and the kernel headers end up in the result too.
toolchain=$(for pkg in musl-tools musl-dev linux-libc-dev; do echo "$pkg ${HOST_VERSION[$pkg]}"; done)

# Sets HASH/PREFIX/STAMP from $versions ("<pkg> <version> <dsc sha256>
# [fallback-from=<v>]" lines).
set_prefix() {
    HASH=$( { cat -- "$SELF"; cut -d' ' -f1-3 <<<"$versions"; printf '%s\n' "$toolchain"; } |
        sha256sum | cut -c1-16)
    PREFIX=$CACHE/deps-$HASH
    STAMP=$PREFIX/.stamp
}

# If the prefix is complete: prints it (warning about fallbacks) and exits.
done_if_built() {
    [[ -f $STAMP ]] || return 0
    local line
    while read -r line; do
        log "warning: built ${line% *} instead of ${line##*=} (which the mirror did not serve)"
    done < <(grep ' fallback-from=' <<<"$versions" | cut -d' ' -f1,2,4)
    echo "$PREFIX"
    exit 0
}

if memo_valid; then
    versions=$(<"$MEMO")
    set_prefix
    done_if_built
fi

# --------------------------------------------------------------------------
# Cold path
# --------------------------------------------------------------------------

need_root "building $CACHE/deps-*"
mkdir -p -- "$CACHE"
# Serialize concurrent runs (e.g. parallel make); the loser then finds the
# winner's result below.
exec 9>"$CACHE/deps.lock"
flock 9
if memo_valid; then
    versions=$(<"$MEMO")
    set_prefix
    done_if_built
fi

BUILD=$(mktemp -d "$CACHE/build.XXXXXX")
LOG=$BUILD/fetch.log   # until the hash (which needs the fetched versions) is known
PT=                    # build-time prefix, set once known
: >"$LOG"

on_exit() {
    local rc=$?
    if ((rc != 0)); then
        log "FAILED (exit $rc); last 40 lines of $LOG:"
        tail -n 40 -- "$LOG" >&3 || true
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

# Downloads and unpacks every source package into $BUILD/<pkg>; writes the
# chosen versions to $BUILD/versions.
fetch_sources() {
    local pkg v newest dsc
    for pkg in "${SRC_PKGS[@]}"; do
        newest=
        while read -r v; do
            [[ -n $newest ]] || newest=$v
            rm -rf "$BUILD/dl/$pkg"
            mkdir -p "$BUILD/dl/$pkg"
            # The build dir is root-only, so download as root rather than _apt.
            if (cd "$BUILD/dl/$pkg" &&
                apt-get -q -o APT::Sandbox::User=root --only-source --download-only \
                    source "$pkg=$v"); then
                dsc=$(awk -v p="$pkg" -v v="$v" '$1 == p && $2 == v { print $3 }' <<<"$known")
                printf '%s %s %s%s\n' "$pkg" "$v" "$dsc" \
                    "$([[ $v == "$newest" ]] || echo " fallback-from=$newest")" >>"$BUILD/versions"
                [[ $v == "$newest" ]] ||
                    log "warning: $pkg $newest could not be downloaded, using $v"
                # apt already verified every file against the signed
                # indexes; --no-check skips the redundant (and, without
                # debian-keyring, noisy) .dsc signature check.
                dpkg-source --no-check -x "$BUILD/dl/$pkg"/*.dsc "$BUILD/$pkg"
                continue 2
            fi
        done < <(versions_desc "$pkg")
        echo "no version of source package $pkg could be downloaded"
        return 1
    done
}

log "fetching sources"
step fetch_sources
versions=$(sort "$BUILD/versions")
printf '%s\n' "$versions" >"$MEMO.tmp"
mv -f -- "$MEMO.tmp" "$MEMO"
set_prefix
done_if_built   # e.g. an expired fallback memo that resolved the same way

PT=$PREFIX.tmp
rm -rf -- "$PT"   # leftover of a killed run
cat -- "$LOG" >"$CACHE/deps-build-$HASH.log"
LOG=$CACHE/deps-build-$HASH.log

JOBS=$(nproc)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
case $(dpkg-architecture -qDEB_HOST_GNU_CPU) in
    x86_64) OPENSSL_TARGET=linux-x86_64 ;;
    aarch64) OPENSSL_TARGET=linux-aarch64 ;;
    *) die "no OpenSSL target known for $(dpkg-architecture -qDEB_HOST_GNU_CPU)" ;;
esac

log "cold build of $PREFIX from: $(cut -d' ' -f1,2 <<<"$versions" | tr ' \n' '= ')"
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
step self_check
step finalize_prefix

{
    echo "# luksinit deps $HASH, built $(date -u +%FT%TZ) by $SELF"
    printf '%s\n' "$versions" "$toolchain"
} >"$PT/.stamp"
mv -- "$PT" "$PREFIX"
PT=
log "done: $PREFIX"
echo "$PREFIX"
