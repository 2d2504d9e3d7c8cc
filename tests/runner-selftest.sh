#!/usr/bin/env bash
# The runner's own test: run-all.sh against fake tests directories whose
# steps crash, raise, get killed or stay silent. Each case must end red with
# the right line; the all-good case must end green (so the checks can fail).
# Prints "PLAN N", then "PASS runner/<case>" or "FAIL runner/<case>: why".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cases=(all_good unit_aborts boot_raises_at_import boot_killed_half_way
	step_exits_0_but_reports_too_few fuzz_step_fails_silently)
echo "PLAN ${#cases[@]}"

# A fake tests dir and build dir; every step passes unless a case breaks it.
make_fakes() {
	local t=$1/tests b=$1/build
	mkdir -p "$t/unit" "$t/fuzz" "$b"
	printf '\tRUN(one);\n\tRUN(two);\n' >"$t/unit/test_fake.c"
	: >"$t/fuzz/fuzz_a.c"
	: >"$t/fuzz/fuzz_b.c"
	cat >"$b/unit" <<-'EOF'
		#!/bin/sh
		echo "PASS unit/one"; echo "PASS unit/two"
	EOF
	printf '#!/bin/sh\nexit 0\n' >"$b/unit-valgrind"
	cat >"$t/run-lint.sh" <<-'EOF'
		#!/bin/sh
		for t in a b c; do echo "PASS lint/$t"; done
	EOF
	cat >"$t/run-fuzz.sh" <<-'EOF'
		#!/bin/sh
		echo "PASS fuzz/a"; echo "PASS fuzz/b"
	EOF
	cat >"$t/layout-test.sh" <<-'EOF'
		#!/bin/sh
		echo "PLAN 1"; echo "PASS layout/a"
	EOF
	chmod +x "$t/layout-test.sh"
	cat >"$t/boot_tests.py" <<-'EOF'
		print("PLAN 2")
		print("PASS boot/x")
		print("PASS boot/y")
	EOF
	chmod +x "$b/unit" "$b/unit-valgrind" "$t/run-lint.sh" "$t/run-fuzz.sh"
}

break_case() {
	local t=$1/tests b=$1/build
	case $2 in
	unit_aborts)
		printf '#!/bin/sh\necho "PASS unit/one"\nkill -ABRT $$\n' >"$b/unit" ;;
	boot_raises_at_import)
		printf 'import no_such_module_here\nprint("PLAN 2")\n' >"$t/boot_tests.py" ;;
	boot_killed_half_way)
		printf 'import os, signal\nprint("PLAN 3", flush=True)\nprint("PASS boot/x", flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n' \
			>"$t/boot_tests.py" ;;
	step_exits_0_but_reports_too_few)
		printf '#!/bin/sh\necho "PASS unit/one"\n' >"$b/unit" ;;
	fuzz_step_fails_silently)
		printf '#!/bin/sh\necho "PASS fuzz/a"\nexit 3\n' >"$t/run-fuzz.sh" ;;
	esac
}

# What each case must print (a regex on the runner's output).
want() {
	case $1 in
	all_good) echo '^11 passed, 0 failed$' ;;
	unit_aborts) echo '^FAIL unit \(exit 134\)$' ;;
	boot_raises_at_import) echo '^FAIL boot: it never said how many tests it runs' ;;
	boot_killed_half_way) echo '^FAIL boot: 2 of 3 tests did not report$' ;;
	step_exits_0_but_reports_too_few) echo '^FAIL unit: 1 of 2 tests did not report$' ;;
	fuzz_step_fails_silently) echo '^FAIL fuzz \(exit 3\)$' ;;
	esac
}

for c in "${cases[@]}"; do
	d=$work/$c
	make_fakes "$d"
	break_case "$d" "$c"
	out=$(LUKSINIT_RUNNER_SELFTEST=1 LUKSINIT_TESTS_HOME="$d/tests" \
		"$here/run-all.sh" "$d/build" 2>&1)
	rc=$?
	last=$(printf '%s\n' "$out" | tail -n1)
	why=""
	if ! printf '%s\n' "$out" | grep -qE "$(want "$c")"; then
		why="no line matching /$(want "$c")/"
	elif [ "$c" = all_good ] && [ $rc -ne 0 ]; then
		why="all steps passed but the runner exited $rc"
	elif [ "$c" != all_good ] && [ $rc -eq 0 ]; then
		why="the runner exited 0"
	elif [ "$c" != all_good ] && ! [[ $last =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed$ ]]; then
		why="last line is not red: $last"
	fi
	if [ -z "$why" ]; then
		echo "PASS runner/$c"
	else
		echo "FAIL runner/$c: $why"
		printf '%s\n' "$out" | sed 's/^/    | /' | tail -n 15
	fi
done
