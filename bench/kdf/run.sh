#!/usr/bin/env bash
# KDF-speed benchmark: our static musl libcryptsetup (as /init links it)
# verifying a passphrase vs Debian's `cryptsetup open --test-passphrase`, on
# the same LUKS2 headers at cryptsetup's default costs (PBKDF2-SHA256 and
# Argon2id), alternated, as a ratio.
#
# Usage: bench/kdf/run.sh OUTDIR [N]        (N runs per side, default 5)
#
# OUTDIR receives the images/headers (kept and reused on a later run, so
# that different builds are compared on the very same headers; delete them to
# re-benchmark the machine), the key file, the kdfbench binaries and
# times.tsv with every single run.
#
# Environment:
#   KDFBENCH_VARIANTS  space-separated LABEL=PREFIX list of static dependency
#                      prefixes (scripts/build-deps.sh layout) to compare,
#                      each alternated with Debian's binary. Default:
#                      ours=<the prefix in build/deps.prefix, or built>.
#   KDFBENCH_KDFS      default "pbkdf2 argon2id"
#   KDFBENCH_PARALLEL  P (default 1): verify P times at once, ours as P
#                      threads in one process (what /init does with several
#                      members, see init/luks/lukskdf.c), Debian's as P concurrent
#                      processes.
#
# Both sides are timed as whole processes (fork+exec to exit, bash
# $EPOCHREALTIME): Debian's binary pays for dynamic linking of ~13 shared
# libraries, ours for nothing comparable; the startup cost is a few ms
# against ~2 s of KDF, and it is measured separately (the `startup` line:
# `cryptsetup --version` vs `kdfbench` without arguments) so that it can be
# subtracted if wanted. User+sys CPU time of every run is recorded too: it
# is less sensitive than wall time to other jobs on the machine (but note
# Argon2 runs one thread per lane, so its wall time is ~CPU/lanes).
#
# Summary lines (stdout, one per KDF and variant):
#   KDF <kdf> parallel=P variant=<label> ours_median=S debian_median=S ratio=R
#       ours_min=S debian_min=S ratio_min=R ours_cpu_median=S
#       debian_cpu_median=S cpu_ratio=R n=N
# ratio = ours/debian (>1: ours is slower).
set -euo pipefail

OUT=${1:?usage: $0 OUTDIR [N]}
N=${2:-5}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
KDFS=${KDFBENCH_KDFS:-pbkdf2 argon2id}
PAR=${KDFBENCH_PARALLEL:-1}

"$ROOT/scripts/ensure-packages.sh" cryptsetup-bin pkg-config binutils
CRYPTSETUP=$(command -v cryptsetup || echo /usr/sbin/cryptsetup)
[[ -x $CRYPTSETUP ]] || { echo "run.sh: no cryptsetup binary" >&2; exit 1; }

mkdir -p -- "$OUT"
OUT=$(cd -- "$OUT" && pwd)

if [[ -z ${KDFBENCH_VARIANTS:-} ]]; then
    if [[ -s $ROOT/build/deps.prefix ]]; then
        prefix=$(<"$ROOT/build/deps.prefix")
    else
        prefix=$("$ROOT/scripts/build-deps.sh" | tail -n1)
    fi
    KDFBENCH_VARIANTS="ours=$prefix"
fi

# --- key file and headers -------------------------------------------------
# A passphrase of typical length; --key-file takes the whole file.
[[ -s $OUT/pass ]] || printf 'correct horse battery staple' >"$OUT/pass"
for kdf in $KDFS; do
    img=$OUT/$kdf.img
    [[ -s $img ]] && continue
    echo "run.sh: luksFormat $kdf (cryptsetup default costs: benchmarks this machine)" >&2
    rm -f -- "$img.tmp"
    truncate -s 32M "$img.tmp"
    "$CRYPTSETUP" luksFormat --batch-mode --type luks2 --pbkdf "$kdf" \
        --key-file "$OUT/pass" "$img.tmp" >&2
    mv -- "$img.tmp" "$img"
done
for kdf in $KDFS; do
    "$CRYPTSETUP" luksDump "$OUT/$kdf.img" |
        awk -v k="$kdf" '/^Keyslots:/ { s = 1 } s && /PBKDF:|Time cost:|Memory:|Threads:|Iterations:/ {
            sub(/^[ \t]+/, ""); printf "header %s %s\n", k, $0 } /^Tokens:/ { s = 0 }' >&2
done

# --- build kdfbench exactly like /init (Makefile flags) -------------------
labels=()
declare -A BIN=()
for v in $KDFBENCH_VARIANTS; do
    label=${v%%=*} prefix=${v#*=}
    [[ -x $prefix/bin/musl-cc ]] || { echo "run.sh: $prefix: no bin/musl-cc" >&2; exit 1; }
    pkg=(env "PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig" PKG_CONFIG_PATH= pkg-config --static)
    # Link what /init links for the KDF: libcryptsetup's closure, plus the
    # malloc replacement if the prefix provides one (see README.md).
    pkgs=(libcryptsetup)
    "${pkg[@]}" --exists mimalloc && pkgs+=(mimalloc)
    # shellcheck disable=SC2046 # word splitting of pkg-config output is intended
    "$prefix/bin/musl-cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
        -Wformat=2 -Wvla -Os -ffunction-sections -fdata-sections \
        $("${pkg[@]}" --cflags "${pkgs[@]}") -c -o "$OUT/kdfbench-$label.o" "$HERE/kdfbench.c"
    # shellcheck disable=SC2046
    "$prefix/bin/musl-cc" -static -pthread -Wl,--gc-sections -o "$OUT/kdfbench-$label" \
        "$OUT/kdfbench-$label.o" $("${pkg[@]}" --libs "${pkgs[@]}")
    strip --strip-all "$OUT/kdfbench-$label"
    BIN[$label]=$OUT/kdfbench-$label
    labels+=("$label")
done

# --- timing ---------------------------------------------------------------
# timeit CMD...: runs CMD (output discarded), sets T (wall s) and C (user+sys
# s of the child), fails if CMD fails (unless ANYRC=1).
timeit() {
    local t0 t1 c0 c1 rc=0
    children_cpu >"$OUT/.c0"
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>"$OUT/last.err" || rc=$?
    if ((rc != 0)) && [[ ${ANYRC:-0} != 1 ]]; then
        echo "run.sh: failed (exit $rc): $*" >&2
        cat "$OUT/last.err" >&2
        return 1
    fi
    t1=$EPOCHREALTIME
    children_cpu >"$OUT/.c1"
    c0=$(<"$OUT/.c0") c1=$(<"$OUT/.c1")
    T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    C=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.4f", b - a }')
}
# Cumulative user+sys CPU seconds of this shell's reaped children.
children_cpu() {
    # `times` must run in this shell (not in a $(...) subshell, which has
    # no children of its own): its second line is "XmY.YYYs XmY.YYYs"
    # (children user, sys).
    times >"$OUT/.times"
    tail -n1 "$OUT/.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.4f", s }'
}

# Debian's side: P concurrent `cryptsetup open --test-passphrase` processes.
debian_verify() {
    local img=$1 pids=() pid rc=0 j
    for ((j = 0; j < PAR; j++)); do
        "$CRYPTSETUP" open --test-passphrase --key-file "$OUT/pass" "$img" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
    return "$rc"
}

TSV=$OUT/times.tsv
printf 'variant\tkdf\tside\trun\twall\tcpu\n' >"$TSV"

# Startup costs (median of 5 each), for reference: a run that only prints
# its version / usage (kdfbench's usage error exits 1).
for i in 1 2 3 4 5; do
    timeit "$CRYPTSETUP" --version; printf 'startup\t-\tdebian\t%d\t%s\t%s\n' "$i" "$T" "$C" >>"$TSV"
    for label in "${labels[@]}"; do
        ANYRC=1 timeit "${BIN[$label]}"
        printf 'startup\t-\t%s\t%d\t%s\t%s\n' "$label" "$i" "$T" "$C" >>"$TSV"
    done
done

for i in $(seq 1 "$N"); do
    for kdf in $KDFS; do
        img=$OUT/$kdf.img
        for label in "${labels[@]}"; do
            # Alternate which side goes first, so slow drifts of the
            # machine's load hit both equally.
            if ((i % 2)); then order=(ours debian); else order=(debian ours); fi
            for side in "${order[@]}"; do
                if [[ $side == ours ]]; then
                    timeit env KDFBENCH_PARALLEL="$PAR" "${BIN[$label]}" "$img" "$OUT/pass"
                else
                    timeit debian_verify "$img"
                fi
                printf '%s\t%s\t%s\t%d\t%s\t%s\n' "$label" "$kdf" "$side" "$i" "$T" "$C" >>"$TSV"
                echo "run.sh: run $i $kdf variant=$label $side wall=${T}s cpu=${C}s" >&2
            done
        done
    done
done

# --- summary --------------------------------------------------------------
awk -F'\t' -v par="$PAR" '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function min(list,   n, a, i, m) {
        n = split(list, a, " "); m = a[1]
        for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]
        return m
    }
    NR == 1 { next }
    $1 == "startup" { su[$3] = su[$3] " " $5; next }
    {
        k = $1 SUBSEP $2
        if (!(k in seen)) { seen[k] = 1; keys[++nk] = k }
        if ($3 == "ours") { ow[k] = ow[k] " " $5; oc[k] = oc[k] " " $6; n[k]++ }
        else { dw[k] = dw[k] " " $5; dc[k] = dc[k] " " $6 }
    }
    END {
        line = "STARTUP"
        for (s in su) line = line sprintf(" %s_median=%.4f", s, median(su[s]))
        print line
        for (i = 1; i <= nk; i++) {
            k = keys[i]; split(k, p, SUBSEP)
            om = median(ow[k]); dm = median(dw[k]); omin = min(ow[k]); dmin = min(dw[k])
            ocm = median(oc[k]); dcm = median(dc[k])
            printf "KDF %s parallel=%d variant=%s ours_median=%.4f debian_median=%.4f ratio=%.3f ours_min=%.4f debian_min=%.4f ratio_min=%.3f ours_cpu_median=%.4f debian_cpu_median=%.4f cpu_ratio=%.3f n=%d\n",
                p[2], par, p[1], om, dm, om / dm, omin, dmin, omin / dmin, ocm, dcm, ocm / dcm, n[k]
        }
    }' "$TSV"

# --- which Argon2 code each side runs ---------------------------------------
# Read from the binaries themselves: the object libcryptsetup's internal
# Argon2 was built from (opt.c, the SIMD code, or ref.c) and the vector
# instructions in it; Debian's cryptsetup links libargon2 (package named
# by dpkg). pmuludq: the SSE2 code's multiply; pshufb: SSSE3 rotations;
# ymm: AVX2.
simd() {
    local dis
    dis=$(objdump -d "$1")
    printf 'pmuludq=%s pshufb=%s ymm=%s' "$(grep -c pmuludq <<<"$dis")" \
        "$(grep -c pshufb <<<"$dis")" "$(grep -c ymm <<<"$dis")"
}
argon2_code() {
    local counts
    counts=$(simd "$1")
    case $counts in
    *" ymm="[1-9]*) echo "AVX2 ($counts)" ;;
    *pshufb=[1-9]*) echo "SSSE3 ($counts)" ;;
    pmuludq=[1-9]*) echo "SSE2 ($counts)" ;;
    *) echo "scalar reference code, no SIMD ($counts)" ;;
    esac
}
for v in $KDFBENCH_VARIANTS; do
    label=${v%%=*} prefix=${v#*=}
    tmp=$(mktemp -d)
    member=$(ar t "$prefix/lib/libcryptsetup.a" | grep -E '^libargon2_la-(opt|ref)\.o$' || true)
    if [[ -n $member ]]; then
        (cd "$tmp" && ar x "$prefix/lib/libcryptsetup.a" "$member")
        echo "ARGON2 variant=$label libcryptsetup's internal Argon2, built from $(sed -e "s/^libargon2_la-//" -e "s/\.o$/.c/" <<<"$member"): $(argon2_code "$tmp/$member")"
    else
        echo "ARGON2 variant=$label no internal Argon2 in libcryptsetup.a (an external libargon2)"
    fi
    # Its memory: mapped by the wrapper with huge pages asked for (it
    # calls madvise), or malloc's.
    (cd "$tmp" && ar x "$prefix/lib/libcryptsetup.a" libcrypto_backend_la-argon2_generic.o 2>/dev/null) || true
    if nm "$tmp/libcrypto_backend_la-argon2_generic.o" 2>/dev/null | grep -qw madvise; then
        echo "ARGON2 variant=$label memory: mapped with transparent huge pages asked for (madvise)"
    else
        echo "ARGON2 variant=$label memory: malloc's"
    fi
    rm -rf -- "$tmp"
done
thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || true)
echo "ARGON2 host transparent_hugepage=${thp:-absent} (always: every large mapping may get huge pages; madvise: only those that ask; never: none)"
lib=$(ldd "$CRYPTSETUP" | awk '/libargon2/ { print $3 }')
if [[ -n $lib ]]; then
    real=$(readlink -f -- "$lib")
    # dpkg may know the file by its /lib or its /usr/lib name.
    deb_pkg=$({ dpkg -S "$real" || dpkg -S "$lib"; } 2>/dev/null | cut -d: -f1,2 | head -n1 || true)
    ver=$(dpkg-query -W -f '${Version}' "$deb_pkg" 2>/dev/null || echo "?")
    echo "ARGON2 debian $(basename -- "$real") from ${deb_pkg:-?} $ver: $(argon2_code "$real")"
    if nm -D "$real" 2>/dev/null | grep -qw madvise; then
        echo "ARGON2 debian memory: calls madvise (huge pages may be asked for)"
    else
        echo "ARGON2 debian memory: malloc's (libargon2 never calls madvise)"
    fi
else
    echo "ARGON2 debian no libargon2 linked (Argon2 from OpenSSL or libcryptsetup itself)"
fi
