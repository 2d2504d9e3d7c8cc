#!/usr/bin/env bash
# Runs every test (unit tests, then QEMU boot tests) and ends with the line
# "N passed, N failed". Exit status is non-zero if anything failed.
set -uo pipefail
build=${1:?usage: run-all.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
log=$build/test-results.txt
: >"$log"

"$build/unit" | tee -a "$log"
if valgrind -q --error-exitcode=1 --leak-check=full "$build/unit-valgrind" \
	>"$build/valgrind.log" 2>&1; then
	echo "PASS valgrind/unit" | tee -a "$log"
else
	echo "FAIL valgrind/unit: see $build/valgrind.log" | tee -a "$log"
fi
"$here/run-lint.sh" "$build" | tee -a "$log"
"$here/run-fuzz.sh" "$build" "${CHECK_FUZZ_SECONDS:-30}" | tee -a "$log"
python3 "$here/boot_tests.py" "$build" ${BOOT_TESTS:-} | tee -a "$log"

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
grep '^FAIL ' "$log" | sed 's/^/  /'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
