#!/usr/bin/env bash
# Runs every libFuzzer target: first its regression inputs (every crash ever
# found, kept in tests/fuzz/regressions/<target>/), then fuzzing for the
# FUZZ_JOBS (default 2) targets run at a time.
# given seconds from the seed corpus in tests/fuzz/corpus/<target>/ (new
# inputs go to a working copy under the build dir, not into the repo).
# A target that ran fewer than min_runs inputs (libFuzzer's final stats; 0
# when they are missing) fails: it fuzzed nothing worth a PASS.
# Prints "PASS fuzz/<target> (N runs in Ss)" or "FAIL fuzz/<target>: why"
# per target.
set -uo pipefail
build=${1:?usage: run-fuzz.sh BUILD_DIR SECONDS}
seconds=${2:?usage: run-fuzz.sh BUILD_DIR SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
min_runs=100
jobs=${FUZZ_JOBS:-2}

# fuzz_one BIN: the target's regressions, then its fuzzing; its verdict
# line on stdout.
fuzz_one() {
	local bin=$1 t work art log ok=1 runs
	t=${bin##*/fuzz_}
	work=$build/fuzz/work/$t
	art=$build/fuzz/artifacts/$t/
	mkdir -p "$work" "$art"
	cp -n "$here/fuzz/corpus/$t"/* "$work/" 2>/dev/null
	log=$build/fuzz/$t.log
	local regress=("$here/fuzz/regressions/$t"/*)
	if [ -e "${regress[0]}" ] && ! "$bin" "${regress[@]}" >"$log" 2>&1; then
		ok=0
	fi
	if [ $ok = 1 ] && ! "$bin" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$art" \
		-print_final_stats=1 "$work" >>"$log" 2>&1; then
		ok=0
	fi
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
	runs=${runs:-0}
	if [ $ok = 1 ] && [ "$runs" -lt "$min_runs" ]; then
		echo "FAIL fuzz/$t: $runs runs in ${seconds}s, at least $min_runs required (see $log)"
	elif [ $ok = 1 ]; then
		echo "PASS fuzz/$t ($runs runs in ${seconds}s)"
	else
		echo "FAIL fuzz/$t: see $log; crash inputs in $art (copy them to tests/fuzz/regressions/$t/)"
	fi
}

# FUZZ_JOBS targets at a time (2: the machine's cores), each verdict kept
# in a file and printed in the targets' order.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bins=("$build"/fuzz/fuzz_*)
for bin in "${bins[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	fuzz_one "$bin" >"$out/${bin##*/}" &
done
wait
status=0
for bin in "${bins[@]}"; do
	cat "$out/${bin##*/}"
	grep -q '^PASS ' "$out/${bin##*/}" || status=1
done
exit $status
