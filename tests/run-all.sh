#!/usr/bin/env bash
# Runs every test and ends with the line "N passed, N failed"; exits non-zero
# if anything failed or nothing passed. usage: run-all.sh BUILD_DIR
#
# The verdict cannot shrink unseen. Its rules:
# - Steps are a fixed list (runner, unit, cache, kconfig, layout, enroll,
#   valgrind, lint, fuzz, deps, install, docs, boot). A step whose script or binary is
#   missing or not executable is "FAIL <step>: missing or not executable".
#   Each runs under `timeout`, about three times what it needs (boot: an
#   hour); an overrun is "FAIL <step>: timed out after N s (exit 124)". A
#   non-zero exit with no FAIL line of the step's own is "FAIL <step> (exit
#   N)" (134 a sanitizer abort, 137 a kill).
# - Lines. A step prints "PASS <step>/<name>[ (details)]" and "FAIL
#   <step>/<name>: why"; the name is the word after PASS/FAIL up to a space
#   or a colon. Steps that plan print "PLAN N" before their first test; no
#   PLAN line is a failure. "RETRY boot/<name>: why" says a guest was booted
#   again after an early reset.
# - Names come from the sources, not from the step: unit, every RUN(name) in
#   tests/unit/*.c; fuzz, every tests/fuzz/fuzz_<name>.c; boot, every `def
#   name(` right below an `@case` line in tests/boot/*.py (with BOOT_TESTS,
#   those it selects as lib.py does: a word that is a substring of the name
#   or of "boot.<module>"); lint, every `report <name>` in run-lint.sh;
#   runner, cache, enroll, install and docs, the script's cases=(...) array;
#   valgrind, "unit". kconfig, layout and deps only declare "PLAN N": their count
#   must match it, and no name may come twice. A name expected and not
#   reported is "FAIL <step>/<name>: did not report"; one reported more than
#   once (PASS or FAIL) is "FAIL <step>/<name>: reported N times"; one not
#   expected is "FAIL <step>/<name>: not expected". A PLAN that differs from
#   the names expected fails; so do sources that name no test, and a
#   BOOT_TESTS that selects none.
# - Retries: "N retried" (the RETRY lines of the whole run) is the line just
#   above the last; more than one is "FAIL boot: N guests were booted again
#   after an early reset (at most 1 allowed)".
# - The closing block shows what changes what is tested (LUKSINIT_TEST_KERNEL,
#   LUKSINIT_TEST_INITRD, LUKSINIT_ACCEL, CHECK_FUZZ_SECONDS, BOOT_TESTS, any timeout override),
#   "SUBSET: BOOT_TESTS=..." when only some boot tests were expected, each
#   step's time, the 10 slowest tests (the "(12.3 s)" ending PASS lines),
#   every FAIL line, "N retried" and "N passed, N failed".
# tests/runner-selftest.sh shows each rule red with fake steps that break it.
#
# LUKSINIT_TESTS_HOME points the runner at another tests directory (the
# self-test's fakes); LUKSINIT_TIMEOUT_<step>=SECONDS overrides one step's
# bound; BOOT_TESTS selects boot tests by name.
set -uo pipefail
build=${1:?usage: run-all.sh BUILD_DIR}
here=${LUKSINIT_TESTS_HOME:-$(cd "$(dirname "$0")" && pwd)}
log=$build/test-results.txt
mkdir -p "$build"
: >"$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fuzz_seconds=${CHECK_FUZZ_SECONDS:-10}
read -ra boot_filters <<<"${BOOT_TESTS:-}"
step_times=()

fail() { echo "FAIL $*" | tee -a "$log"; }

# An interrupt or a kill stops the running step too: `timeout` puts it in a
# process group of its own, which the terminal's ^C does not reach.
on_signal() {
	trap - INT TERM HUP
	if [ -s "$work/pid" ]; then kill -TERM "$(cat "$work/pid")" 2>/dev/null; fi
	wait
	echo "run-all.sh: interrupted" >&2
	exit 130
}
trap on_signal INT TERM HUP

# step NAME SECONDS PLAN EXPECTED CMD...: runs CMD under a timeout of
# SECONDS, its output streamed and kept. PLAN is "plan" if the step must
# print "PLAN N", else "-". EXPECTED is a file of the names it owes, one a
# line, or "-" to trust the count of its PLAN.
step() {
	local name=$1 bound=$2 plan_wanted=$3 expected=$4
	shift 4
	local override=LUKSINIT_TIMEOUT_$name
	bound=${!override:-$bound}
	local out=$work/$name.out t0=${EPOCHREALTIME//[!0-9]/} rc
	rm -f "$work/pid" "$work/rc"
	# (The group's own stderr is bash's "Killed" for the step: the FAIL
	# line says it.)
	{
		timeout -k 30 "$bound" "$@" </dev/null 2>&1 &
		echo $! >"$work/pid"
		wait $!
		echo $? >"$work/rc"
	} 2>/dev/null | tee "$out" &
	wait $!
	rc=$(cat "$work/rc" 2>/dev/null || echo 255)
	rm -f "$work/pid"
	local took=$((${EPOCHREALTIME//[!0-9]/} - t0))
	step_times+=("$name $((took / 1000000)).$((took / 100000 % 10)) s")
	took=$((took / 1000000))
	grep -E '^(PASS|FAIL|RETRY) ' "$out" >>"$log"

	# 124: timeout's TERM; 137: its KILL 30 s later (a step's own 124 or
	# 137 comes before the bound).
	if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ "$took" -ge "$bound" ]; then
		fail "$name: timed out after $bound s (exit $rc)"
	elif [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		fail "$name (exit $rc)"
	fi

	local plan=
	if [ "$plan_wanted" = plan ]; then
		plan=$(grep -m1 -oE '^PLAN [0-9]+$' "$out" | cut -d' ' -f2)
		if [ -z "$plan" ]; then
			fail "$name: it never said how many tests it runs (no PLAN line)"
		fi
	fi

	# The names reported, and any reported more than once.
	local reported=$work/$name.reported
	sed -nE 's/^(PASS|FAIL) ([^ :]+).*/\2/p' "$out" >"$reported"
	sort "$reported" | uniq -c | while read -r n what; do
		if [ "$n" -gt 1 ]; then fail "$what: reported $n times"; fi
	done

	if [ "$expected" = - ]; then
		local count want=${plan:-0}
		count=$(sort -u "$reported" | wc -l)
		if [ "$count" -lt "$want" ]; then
			fail "$name: $((want - count)) of $want tests did not report"
		elif [ "$count" -gt "$want" ]; then
			fail "$name: $count results, but $want were expected"
		fi
		return
	fi
	local what
	grep -vxF -f "$reported" "$expected" | while read -r what; do
		fail "$what: did not report"
	done
	grep -vxF -f "$expected" "$reported" | sort -u | while read -r what; do
		fail "$what: not expected (the sources name no such test)"
	done
	local owed
	owed=$(wc -l <"$expected")
	if [ -n "$plan" ] && [ "$plan" -ne "$owed" ]; then
		fail "$name: it planned $plan tests, but the sources name $owed"
	fi
}

# present NAME PATH [-x]: is the step's script there (and executable)?
present() {
	if [ -f "$2" ] && { [ "${3:-}" != -x ] || [ -x "$2" ]; }; then
		return 0
	fi
	fail "$1: missing or not executable ($2)"
	return 1
}

# expect NAME: reads the names NAME owes from stdin into $work/NAME.expected
# (a source naming none, or a name twice, is a failure of its own).
expect() {
	local f=$work/$1.expected
	cat >"$f"
	if [ ! -s "$f" ] && [ "$1" != boot ]; then
		fail "$1: the sources name no test"
	fi
	sort "$f" | uniq -d | while read -r what; do
		fail "$what: named more than once in the sources"
	done
}

# The cases=(...) array of a script, one name a line.
cases_of() {
	awk '/^cases=\(/ { on = 1; sub(/^cases=\(/, "") }
		on { done = sub(/\).*$/, ""); n = split($0, w, /[ \t]+/)
			for (i = 1; i <= n; i++) if (w[i] != "") print w[i]
			if (done) exit }' "$1"
}

unit_names() {
	local n
	n=$(cat "$here"/unit/*.c | grep -cE '^[[:space:]]*RUN\(')
	sed -nE 's/^[[:space:]]*RUN\(([A-Za-z0-9_]+)\);.*/unit\/\1/p' "$here"/unit/*.c |
		tee "$work/unit.names"
	if [ "$(wc -l <"$work/unit.names")" -ne "$n" ]; then
		fail "unit: a RUN( line in tests/unit/*.c whose name cannot be read" >&2
	fi
}

# Every "module name" of an @case in tests/boot/*.py; an @case line not
# followed by "def NAME(" is a failure.
boot_cases() {
	local f
	for f in "$here"/boot/*.py; do
		[ -e "$f" ] || continue
		awk -v m="boot.$(basename "$f" .py)" -v f="$f" '
			at && match($0, /^def [A-Za-z0-9_]+\(/) { print m, substr($0, 5, RLENGTH - 5); at = 0; next }
			at { printf "FAIL boot: the @case at %s:%d is not followed by def NAME(\n", f, line > "/dev/stderr"; at = 0 }
			/^@case[[:space:]]*$/ { at = 1; line = NR }' "$f"
	done
}

# The boot tests BOOT_TESTS selects (all without it), as "boot/NAME": a
# word that is a substring of the name or of the module's (lib.py's rule).
boot_names() {
	awk -v filters="${boot_filters[*]}" '
		BEGIN { n = split(filters, f, " ") }
		{ sel = (n == 0)
		  for (i = 1; i <= n; i++) if (index($2, f[i]) || index($1, f[i])) sel = 1
		  if (sel) print "boot/" $2 }' "$work/boot.cases"
}

valgrind_unit() {
	# (Valgrind runs vfork as fork: the one test that needs a child in
	# uninterruptible sleep is left to the ASan run, and says so.)
	if LUKSINIT_UNIT_UNDER_VALGRIND=1 valgrind -q --error-exitcode=1 \
		--leak-check=full "$build/unit-valgrind" \
		>"$build/valgrind.log" 2>&1; then
		echo "PASS valgrind/unit"
	else
		echo "FAIL valgrind/unit: see $build/valgrind.log"
	fi
}
export -f valgrind_unit

if [ -z "${LUKSINIT_RUNNER_SELFTEST:-}" ]; then
	s=$here/runner-selftest.sh
	if present runner "$s" -x; then
		cases_of "$s" | sed 's#^#runner/#' | expect runner
		step runner 900 plan "$work/runner.expected" "$s"
	fi
fi

if present unit "$build/unit" -x; then
	unit_names | expect unit
	step unit 600 - "$work/unit.expected" "$build/unit"
fi

s=$here/cache-prune-test.sh
if present cache "$s" -x; then
	cases_of "$s" | sed 's#^#cache/#' | expect cache
	step cache 600 plan "$work/cache.expected" "$s"
fi

s=$here/kernel-config-test.sh
if present kconfig "$s" -x; then
	step kconfig 600 plan - "$s" "$build"
fi

s=$here/layout-test.sh
if present layout "$s" -x; then
	step layout 300 plan - "$s"
fi

s=$here/enroll-test.sh
if present enroll "$s" -x; then
	cases_of "$s" | sed 's#^#enroll/#' | expect enroll
	step enroll 900 plan "$work/enroll.expected" "$s" "$build"
fi

if present valgrind "$build/unit-valgrind" -x; then
	echo valgrind/unit | expect valgrind
	# shellcheck disable=SC2016 # $1 is the inner shell's
	step valgrind 1200 - "$work/valgrind.expected" bash -c 'build=$1 valgrind_unit' - "$build"
fi

s=$here/run-lint.sh
if present lint "$s" -x; then
	sed -nE 's/^[[:space:]]*report ([A-Za-z0-9_-]+) .*/lint\/\1/p' "$s" | expect lint
	step lint 1200 - "$work/lint.expected" "$s" "$build"
fi

s=$here/run-fuzz.sh
if present fuzz "$s" -x; then
	for f in "$here"/fuzz/fuzz_*.c; do
		[ -e "$f" ] || continue
		f=${f##*/fuzz_}
		echo "fuzz/${f%.c}"
	done | expect fuzz
	n=$(wc -l <"$work/fuzz.expected")
	# Each target: its regression inputs, then the seconds of fuzzing.
	step fuzz $(((n * (fuzz_seconds + 20) * 3) > 600 ? n * (fuzz_seconds + 20) * 3 : 600)) \
		- "$work/fuzz.expected" "$s" "$build" "$fuzz_seconds"
fi

# Outside Debian: /init against a prefix of static libraries, and installed.
s=$here/deps-build-test.sh
if present deps "$s" -x; then
	step deps 2400 plan - "$s" "$build"
fi

s=$here/install-test.sh
if present install "$s" -x; then
	cases_of "$s" | sed 's#^#install/#' | expect install
	step install 1200 plan "$work/install.expected" "$s" "$build"
fi

s=$here/docs-test.sh
if present docs "$s" -x; then
	cases_of "$s" | sed 's#^#docs/#' | expect docs
	step docs 300 plan "$work/docs.expected" "$s" "$build"
fi

s=$here/boot_tests.py
if present boot "$s"; then
	boot_cases >"$work/boot.cases" 2>"$work/boot.problems"
	tee -a "$log" <"$work/boot.problems"
	boot_names | expect boot
	if [ -n "${BOOT_TESTS:-}" ] && [ ! -s "$work/boot.expected" ]; then
		fail "boot: BOOT_TESTS='$BOOT_TESTS' selects no test"
	elif [ ! -s "$work/boot.expected" ]; then
		fail "boot: the sources name no test (no @case in $here/boot/*.py)"
	fi
	step boot 3600 plan "$work/boot.expected" python3 "$s" "$build" "${boot_filters[@]}"
fi
retried=$(grep -c '^RETRY ' "$log")
if [ "$retried" -gt 1 ]; then
	fail "boot: $retried guests were booted again after an early reset (at most 1 allowed)"
fi

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
echo "What changes what is tested:"
for v in LUKSINIT_TEST_KERNEL LUKSINIT_TEST_INITRD LUKSINIT_ACCEL CHECK_FUZZ_SECONDS BOOT_TESTS \
	$(compgen -v LUKSINIT_TIMEOUT_); do
	if [ -n "${!v+set}" ]; then
		echo "  $v=${!v}"
	else
		echo "  $v unset"
	fi
done
if [ -n "${BOOT_TESTS:-}" ]; then
	echo "SUBSET: BOOT_TESTS=$BOOT_TESTS ($(wc -l <"$work/boot.expected") of $(wc -l <"$work/boot.cases") boot tests expected)"
fi
echo "Step times: $(printf '%s, ' "${step_times[@]}" | sed 's/, $//')"
slowest=$(sed -nE 's/^PASS ([^ ]+) .*\(([0-9]+(\.[0-9]+)?) s\)$/\2 \1/p' "$log" |
	sort -k1,1gr | head -n 10)
if [ -n "$slowest" ]; then
	echo "The 10 slowest tests:"
	printf '%s\n' "$slowest" | awk '{ printf "  %8.1f s  %s\n", $1, $2 }'
fi
grep '^FAIL ' "$log" | sed 's/^/  /'
echo "$retried retried"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
