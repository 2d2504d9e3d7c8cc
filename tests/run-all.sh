#!/usr/bin/env bash
# Runs every test and ends with the line "N passed, N failed"; exits non-zero
# if anything failed.
#
# A step's word is not taken on trust. Each step prints "PASS name" and
# "FAIL name" lines; the runner also knows how many results to expect from
# each step (counted from the sources, or from the step's own "PLAN N" line
# printed before any test runs). A step that exits non-zero without a FAIL
# line of its own becomes "FAIL step (exit N)" (a sanitizer abort is exit
# 134, a kill 137); results that never came become "FAIL step: K of N tests
# did not report". tests/runner-selftest.sh proves this with steps that
# crash, raise and get killed.
#
# LUKSINIT_TESTS_HOME points the runner at another tests directory (the
# self-test's fakes); BOOT_TESTS selects boot tests by name.
set -uo pipefail
build=${1:?usage: run-all.sh BUILD_DIR}
here=${LUKSINIT_TESTS_HOME:-$(cd "$(dirname "$0")" && pwd)}
log=$build/test-results.txt
mkdir -p "$build"
: >"$log"

# step NAME EXPECTED CMD...: EXPECTED is a count, or "plan" to take it from
# the step's "PLAN N" line.
step() {
	local name=$1 expected=$2
	shift 2
	local out
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	local rc=${PIPESTATUS[0]}
	local pass fail plan
	pass=$(grep -c '^PASS ' "$out")
	fail=$(grep -c '^FAIL ' "$out")
	grep -E '^(PASS|FAIL) ' "$out" >>"$log"
	if [ "$expected" = plan ]; then
		plan=$(grep -m1 -oE '^PLAN [0-9]+$' "$out" | cut -d' ' -f2)
		if [ -z "$plan" ]; then
			echo "FAIL $name: it never said how many tests it runs (no PLAN line)" | tee -a "$log"
			plan=0
		fi
		expected=$plan
	fi
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "FAIL $name (exit $rc)" | tee -a "$log"
	fi
	local reported=$((pass + fail))
	if [ "$reported" -lt "$expected" ]; then
		echo "FAIL $name: $((expected - reported)) of $expected tests did not report" | tee -a "$log"
	elif [ "$reported" -gt "$expected" ]; then
		echo "FAIL $name: $reported results, but $expected were expected" | tee -a "$log"
	fi
	rm -f "$out"
}

count_unit_tests() { cat "$here"/unit/*.c | grep -cE '^[[:space:]]*RUN\('; }
count_fuzz_targets() { ls "$here"/fuzz/fuzz_*.c | wc -l; }

valgrind_unit() {
	if valgrind -q --error-exitcode=1 --leak-check=full "$build/unit-valgrind" \
		>"$build/valgrind.log" 2>&1; then
		echo "PASS valgrind/unit"
	else
		echo "FAIL valgrind/unit: see $build/valgrind.log"
	fi
}

if [ -z "${LUKSINIT_RUNNER_SELFTEST:-}" ] && [ -x "$here/runner-selftest.sh" ]; then
	step runner plan "$here/runner-selftest.sh"
fi
step unit "$(count_unit_tests)" "$build/unit"
if [ -x "$here/cache-prune-test.sh" ]; then
	step cache plan "$here/cache-prune-test.sh"
fi
if [ -x "$here/kernel-config-test.sh" ]; then
	step kconfig plan "$here/kernel-config-test.sh" "$build"
fi
if [ -x "$here/enroll-test.sh" ]; then
	step enroll plan "$here/enroll-test.sh" "$build"
fi
step layout plan "$here/layout-test.sh"
step valgrind 1 valgrind_unit
step lint 3 "$here/run-lint.sh" "$build"
step fuzz "$(count_fuzz_targets)" "$here/run-fuzz.sh" "$build" "${CHECK_FUZZ_SECONDS:-10}"
# Outside Debian: /init against a prefix of static libraries, and installed.
if [ -x "$here/deps-build-test.sh" ]; then
	step deps plan "$here/deps-build-test.sh" "$build"
fi
if [ -x "$here/install-test.sh" ]; then
	step install plan "$here/install-test.sh" "$build"
fi
[ -x "$here/docs-test.sh" ] && step docs plan "$here/docs-test.sh" "$build"
# shellcheck disable=SC2086 # BOOT_TESTS is a list of words
step boot plan python3 "$here/boot_tests.py" "$build" ${BOOT_TESTS:-}

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
grep '^FAIL ' "$log" | sed 's/^/  /'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
