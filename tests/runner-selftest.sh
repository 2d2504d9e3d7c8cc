#!/usr/bin/env bash
# The runner's own test: run-all.sh against fake tests directories whose
# steps crash, raise, hang, get killed, stay silent, report a name twice or
# not at all, lose their script or its exec bit, retry boots, or whose
# filter selects nothing. Each broken case must end red with the right
# lines; the green cases (nothing broken, a subset, the environment, one
# retry) must end green, so the checks can fail. Where the rule lives in a
# step of its own (the unit binary's buffering, the fuzz minimum, the
# enroll check count), the real file runs against fakes around it.
# Prints "PLAN N", then "PASS runner/<case>" or "FAIL runner/<case>: why".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cases=(all_good unit_aborts boot_raises_at_import boot_killed_half_way
	step_exits_0_but_reports_too_few fuzz_step_fails_silently
	boot_case_not_reported boot_case_decorator_unreadable
	boot_sources_name_nothing boot_filter_selects_nothing boot_subset_is_said
	step_script_missing step_script_not_executable
	duplicate_pass_hides_missing unexpected_name plan_step_duplicate_name
	step_hangs_hits_timeout environment_is_shown
	unit_crash_keeps_earlier_lines fuzz_zero_runs enroll_case_checks_nothing
	two_retries one_retry_is_said)
echo "PLAN ${#cases[@]}"

# fake_cases FILE STEP NAME...: a step script with a cases=(...) array.
fake_cases() {
	local f=$1 s=$2
	shift 2
	printf '#!/usr/bin/env bash\ncases=(%s)\necho "PLAN ${#cases[@]}"\n' "$*" >"$f"
	printf 'for c in "${cases[@]}"; do echo "PASS %s/$c"; done\n' "$s" >>"$f"
	chmod +x "$f"
}

# fake_plan FILE STEP NAME...: a step script with only "PLAN N".
fake_plan() {
	local f=$1 s=$2 n
	shift 2
	printf '#!/bin/sh\necho "PLAN %d"\n' $# >"$f"
	for n in "$@"; do echo "echo \"PASS $s/$n\"" >>"$f"; done
	chmod +x "$f"
}

# A fake tests dir and build dir; every step passes unless a case breaks it.
make_fakes() {
	local t=$1/tests b=$1/build
	mkdir -p "$t/unit" "$t/fuzz" "$t/boot" "$b" "$1/bin"
	printf '\tRUN(one);\n\tRUN(two);\n' >"$t/unit/test_fake.c"
	: >"$t/fuzz/fuzz_a.c"
	: >"$t/fuzz/fuzz_b.c"
	printf '@case\ndef x():\n    pass\n\n\n@case\ndef y():\n    pass\n' >"$t/boot/fake.py"
	cat >"$b/unit" <<-'EOF'
		#!/bin/sh
		echo "PASS unit/one"; echo "PASS unit/two"
	EOF
	printf '#!/bin/sh\nexit 0\n' >"$b/unit-valgrind"
	cat >"$t/run-lint.sh" <<-'EOF'
		#!/bin/sh
		report() { echo "PASS lint/$1"; }
		report a 0 log
		report b 0 log
		report c 0 log
	EOF
	cat >"$t/run-fuzz.sh" <<-'EOF'
		#!/bin/sh
		echo "PASS fuzz/a (5000 runs in 30s)"; echo "PASS fuzz/b (5000 runs in 30s)"
	EOF
	fake_cases "$t/cache-prune-test.sh" cache c1 c2
	fake_plan "$t/kernel-config-test.sh" kconfig k1 k2
	fake_cases "$t/enroll-test.sh" enroll e1 e2
	fake_plan "$t/deps-build-test.sh" deps d1 d2
	fake_cases "$t/install-test.sh" install i1 i2
	fake_plan "$t/layout-test.sh" layout l1 l2
	fake_cases "$t/docs-test.sh" docs r1 r2
	# Selects as lib.py does; RETRY lines from the environment.
	cat >"$t/boot_tests.py" <<-'EOF'
		import os, sys
		cases = [("boot.fake", "x", 1.5), ("boot.fake", "y", 12.0)]
		words = sys.argv[2:]
		sel = [c for c in cases if not words or any(w in c[0] or w in c[1] for w in words)]
		print("PLAN %d" % len(sel))
		for m, n, s in sel:
		    for r in os.environ.get("FAKE_RETRY", "").split():
		        if r == n:
		            print("RETRY boot/%s: the guest reset before its init ran" % n)
		    print("PASS boot/%s (%.1f s)" % (n, s))
	EOF
	# valgrind itself is not under test here: the program runs bare.
	printf '#!/bin/sh\nfor a; do p=$a; done\nexec "$p"\n' >"$1/bin/valgrind"
	chmod +x "$b/unit" "$b/unit-valgrind" "$t/run-lint.sh" "$t/run-fuzz.sh" "$1/bin/valgrind"
}

# A unit binary from the real tests/unit/main.c: "one" passes, "two" aborts.
crashing_unit() {
	local b=$1/build src=$1/fake_tests.c
	{
		printf '#include <stdlib.h>\n#include "check.h"\n'
		printf 'static void one(void) { CHECK(1); }\nstatic void two(void) { abort(); }\n'
		sed -nE 's/^void ([a-z0-9_]+_tests)\(void\);$/\1/p' "$here/unit/check.h" |
			awk 'NR == 1 { print "void " $1 "(void) { RUN(one); RUN(two); }"; next }
				{ print "void " $1 "(void) {}" }'
	} >"$src"
	cc -std=c11 -I "$here/unit" -o "$b/unit" "$here/unit/main.c" "$src" 2>"$1/cc.log"
}

# Break what case $2 is about in the fakes under $1; non-zero if it could not.
break_case() {
	local t=$1/tests b=$1/build
	case $2 in
	unit_aborts)
		printf '#!/bin/sh\necho "PASS unit/one"\nkill -ABRT $$\n' >"$b/unit" ;;
	boot_raises_at_import)
		printf 'import no_such_module_here\nprint("PLAN 2")\n' >"$t/boot_tests.py" ;;
	boot_killed_half_way)
		printf 'import os, signal\nprint("PLAN 2", flush=True)\nprint("PASS boot/x", flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n' \
			>"$t/boot_tests.py" ;;
	step_exits_0_but_reports_too_few)
		printf '#!/bin/sh\necho "PASS unit/one"\n' >"$b/unit" ;;
	fuzz_step_fails_silently)
		printf '#!/bin/sh\necho "PASS fuzz/a"\nexit 3\n' >"$t/run-fuzz.sh" ;;
	boot_case_not_reported) # a module boot_tests.py does not import
		printf '@case\ndef z():\n    pass\n' >"$t/boot/other.py" ;;
	boot_case_decorator_unreadable)
		printf '@case\n@other\ndef z():\n    pass\n' >"$t/boot/other.py" ;;
	boot_sources_name_nothing)
		rm "$t/boot/fake.py" ;;
	step_script_missing)
		rm "$t/cache-prune-test.sh" ;;
	step_script_not_executable)
		chmod -x "$t/enroll-test.sh" ;;
	duplicate_pass_hides_missing)
		printf '#!/bin/sh\necho "PASS unit/one"\necho "PASS unit/one"\n' >"$b/unit" ;;
	unexpected_name)
		printf '#!/bin/sh\nfor t in one two three; do echo "PASS unit/$t"; done\n' >"$b/unit" ;;
	plan_step_duplicate_name)
		fake_plan "$t/kernel-config-test.sh" kconfig k1 k1 ;;
	step_hangs_hits_timeout)
		printf '#!/bin/sh\necho "PLAN 2"\necho "PASS kconfig/k1"\nsleep 300\n' \
			>"$t/kernel-config-test.sh" ;;
	unit_crash_keeps_earlier_lines)
		crashing_unit "$1" ;;
	fuzz_zero_runs) # the real run-fuzz.sh, libFuzzer faked
		cp "$here/run-fuzz.sh" "$t/run-fuzz.sh"
		mkdir -p "$b/fuzz"
		printf '#!/bin/sh\necho "stat::number_of_executed_units: 5000"\n' >"$b/fuzz/fuzz_a"
		printf '#!/bin/sh\necho "stat::number_of_executed_units: 0"\n' >"$b/fuzz/fuzz_b"
		chmod +x "$b/fuzz/fuzz_a" "$b/fuzz/fuzz_b" ;;
	enroll_case_checks_nothing) # the real enroll-test.sh, every check taken out
		sed 's/^\([[:space:]]*\)check /\1: check /' "$here/enroll-test.sh" >"$t/enroll-test.sh"
		chmod +x "$t/enroll-test.sh"
		printf '#!/bin/sh\nexit 1\n' >"$1/bin/cryptsetup"
		chmod +x "$1/bin/cryptsetup"
		grep -q '^[[:space:]]*: check ' "$t/enroll-test.sh" ;;
	esac
}

# The environment of case $1 (run-all.sh's own is cleared first).
case_env() {
	case $1 in
	boot_filter_selects_nothing) echo BOOT_TESTS=nomatch ;;
	boot_subset_is_said) echo BOOT_TESTS=y ;;
	step_hangs_hits_timeout) echo LUKSINIT_TIMEOUT_kconfig=2 ;;
	environment_is_shown)
		echo LUKSINIT_TEST_KERNEL=/elsewhere/bzImage
		echo LUKSINIT_TEST_INITRD=/elsewhere/initramfs.cpio.gz
		echo LUKSINIT_ACCEL=tcg
		echo CHECK_FUZZ_SECONDS=7 ;;
	two_retries) echo "FAKE_RETRY=x y" ;;
	one_retry_is_said) echo FAKE_RETRY=y ;;
	esac
}

green() {
	case $1 in
	all_good | boot_subset_is_said | environment_is_shown | one_retry_is_said) return 0 ;;
	esac
	return 1
}

# What case $1 must print: one regex a line, each matching a line after the
# previous one's; "!REGEX": no line may match.
want() {
	case $1 in
	all_good)
		echo '^What changes what is tested:$'
		echo '^  LUKSINIT_TEST_KERNEL unset$'
		echo '^  LUKSINIT_TEST_INITRD unset$'
		echo '^  LUKSINIT_ACCEL unset$'
		echo '^  CHECK_FUZZ_SECONDS unset$'
		echo '^  BOOT_TESTS unset$'
		echo '^The 10 slowest tests:$'
		echo '^ +12\.0 s  boot/y$'
		echo '^ +1\.5 s  boot/x$'
		echo '^0 retried$'
		echo '^24 passed, 0 failed$'
		echo '!^SUBSET'
		echo '!FAIL' ;;
	unit_aborts)
		echo '^PASS unit/one$'
		echo '^FAIL unit \(exit 134\)$'
		echo '^FAIL unit/two: did not report$' ;;
	boot_raises_at_import)
		echo '^FAIL boot: it never said how many tests it runs'
		echo '^FAIL boot/x: did not report$'
		echo '^FAIL boot/y: did not report$' ;;
	boot_killed_half_way)
		echo '^FAIL boot \(exit 137\)$'
		echo '^FAIL boot/y: did not report$' ;;
	step_exits_0_but_reports_too_few)
		echo '^FAIL unit/two: did not report$'
		echo '!^FAIL unit \(exit' ;;
	fuzz_step_fails_silently)
		echo '^FAIL fuzz \(exit 3\)$'
		echo '^FAIL fuzz/b: did not report$' ;;
	boot_case_not_reported)
		echo '^FAIL boot/z: did not report$'
		echo '^FAIL boot: it planned 2 tests, but the sources name 3$' ;;
	boot_case_decorator_unreadable)
		echo '^FAIL boot: the @case at .*/boot/other\.py:1 is not followed by def NAME\($' ;;
	boot_sources_name_nothing)
		echo '^FAIL boot: the sources name no test'
		echo '^FAIL boot/x: not expected' ;;
	boot_filter_selects_nothing)
		echo "^FAIL boot: BOOT_TESTS='nomatch' selects no test$"
		echo '^  BOOT_TESTS=nomatch$'
		echo '^SUBSET: BOOT_TESTS=nomatch \(0 of 2 boot tests expected\)$' ;;
	boot_subset_is_said)
		echo '^PASS boot/y '
		echo '^SUBSET: BOOT_TESTS=y \(1 of 2 boot tests expected\)$'
		echo '^23 passed, 0 failed$'
		echo '!^PASS boot/x' ;;
	step_script_missing)
		echo '^FAIL cache: missing or not executable \(.*/cache-prune-test\.sh\)$' ;;
	step_script_not_executable)
		echo '^FAIL enroll: missing or not executable \(.*/enroll-test\.sh\)$' ;;
	duplicate_pass_hides_missing)
		echo '^FAIL unit/one: reported 2 times$'
		echo '^FAIL unit/two: did not report$' ;;
	unexpected_name)
		echo '^FAIL unit/three: not expected' ;;
	plan_step_duplicate_name)
		echo '^FAIL kconfig/k1: reported 2 times$'
		echo '^FAIL kconfig: 1 of 2 tests did not report$' ;;
	step_hangs_hits_timeout)
		echo '^FAIL kconfig: timed out after 2 s \(exit 124\)$'
		echo '^  LUKSINIT_TIMEOUT_kconfig=2$' ;;
	environment_is_shown)
		echo '^  LUKSINIT_TEST_KERNEL=/elsewhere/bzImage$'
		echo '^  LUKSINIT_TEST_INITRD=/elsewhere/initramfs.cpio.gz$'
		echo '^  LUKSINIT_ACCEL=tcg$'
		echo '^  CHECK_FUZZ_SECONDS=7$'
		echo '^  BOOT_TESTS unset$' ;;
	unit_crash_keeps_earlier_lines)
		echo '^PASS unit/one$'
		echo '^FAIL unit \(exit 134\)$'
		echo '^FAIL unit/two: did not report$' ;;
	fuzz_zero_runs)
		echo '^PASS fuzz/a \(5000 runs in 10s\)$'
		echo '^FAIL fuzz/b: 0 runs in 10s, at least 100 required' ;;
	enroll_case_checks_nothing)
		echo '^FAIL enroll/enrols_members_and_lists_them: it ran no check$'
		echo '^FAIL enroll/usage_errors: it ran no check$' ;;
	two_retries)
		echo '^RETRY boot/x: '
		echo '^RETRY boot/y: '
		echo '^FAIL boot: 2 guests were booted again after an early reset \(at most 1 allowed\)$'
		echo '^2 retried$' ;;
	one_retry_is_said)
		echo '^RETRY boot/y: '
		echo '^1 retried$'
		echo '^24 passed, 0 failed$' ;;
	esac
}

# matches OUTPUT REGEX...: prints why OUTPUT does not match, if it does not.
matches() {
	local out=$1 re from=0 n
	shift
	for re in "$@"; do
		if [[ $re == '!'* ]]; then
			if printf '%s\n' "$out" | grep -qE -- "${re#!}"; then
				echo "a line matches /${re#!}/"
				return
			fi
			continue
		fi
		n=$(printf '%s\n' "$out" | tail -n +$((from + 1)) | grep -nE -m1 -- "$re" | cut -d: -f1)
		if [ -z "$n" ]; then
			echo "no line matching /$re/ after line $from"
			return
		fi
		from=$((from + n))
	done
}

# What changes what run-all.sh tests, cleared for the fakes.
clear_env=(-u BOOT_TESTS -u LUKSINIT_TEST_KERNEL -u LUKSINIT_TEST_INITRD -u LUKSINIT_ACCEL -u CHECK_FUZZ_SECONDS)
for v in $(compgen -v LUKSINIT_TIMEOUT_); do clear_env+=(-u "$v"); done

# run_case CASE: its "PASS runner/CASE" or "FAIL runner/CASE: why" (with the
# end of the runner's output).
run_case() {
	local c=$1 d=$work/$1 vars res why="" out="" rc last above
	make_fakes "$d"
	mapfile -t vars < <(case_env "$c")
	mapfile -t res < <(want "$c")
	if ! break_case "$d" "$c"; then
		why="could not set the case up$(test -s "$d/cc.log" && echo ": $(head -c 300 "$d/cc.log")")"
	else
		out=$(env "${clear_env[@]}" PATH="$d/bin:$PATH" LUKSINIT_RUNNER_SELFTEST=1 \
			LUKSINIT_TESTS_HOME="$d/tests" "${vars[@]}" "$here/run-all.sh" "$d/build" 2>&1)
		rc=$?
		last=$(printf '%s\n' "$out" | tail -n1)
		above=$(printf '%s\n' "$out" | tail -n2 | head -n1)
		why=$(matches "$out" "${res[@]}")
		if [ -n "$why" ]; then
			:
		elif ! [[ $last =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
			why="the last line is not \"N passed, N failed\": $last"
		elif ! [[ $above =~ ^[0-9]+\ retried$ ]]; then
			why="the line above the last is not \"N retried\": $above"
		elif green "$c" && [ $rc -ne 0 ]; then
			why="nothing was broken but the runner exited $rc"
		elif green "$c" && ! [[ $last =~ \ 0\ failed$ ]]; then
			why="nothing was broken but the last line is red: $last"
		elif ! green "$c" && [ $rc -eq 0 ]; then
			why="the runner exited 0"
		elif ! green "$c" && ! [[ $last =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed$ ]]; then
			why="the last line is not red: $last"
		fi
	fi
	if [ -z "$why" ]; then
		echo "PASS runner/$c"
	else
		echo "FAIL runner/$c: $why"
		printf '%s\n' "${out:-}" | sed 's/^/    | /' | tail -n 25
	fi
}

# Two at a time (each is mostly waiting for processes to start); reported in
# the order of cases.
for c in "${cases[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
	run_case "$c" >"$work/$c.report" 2>&1 &
done
wait
for c in "${cases[@]}"; do cat "$work/$c.report"; done
