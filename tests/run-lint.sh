#!/usr/bin/env bash
# Static checks, zero findings allowed: clang-format (the checked-in
# .clang-format), clang-tidy (.clang-tidy) and cppcheck over init/, common/ and enroll/.
# Prints "PASS lint/<tool>" or "FAIL lint/<tool>" per tool.
set -uo pipefail
build=${1:?usage: run-lint.sh BUILD_DIR}
cd "$(dirname "$0")/.."
prefix=$(cat "$build/deps.prefix")
status=0
report() { # name, rc, log
	if [ "$2" -eq 0 ]; then
		echo "PASS lint/$1"
	else
		echo "FAIL lint/$1: $(head -c 3000 "$3")"
		status=1
	fi
}
log=$build/lint.log

mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find init tests -name '*.[ch]')
clang-format --dry-run --Werror "${sources[@]}" >"$log" 2>&1
report clang-format $? "$log"

# Two at a time (the machine's cores); xargs exits non-zero if any did.
printf '%s\n' init/*.c init/*/*.c common/*.c enroll/*.c |
	xargs -P 2 -n 6 sh -c 'clang-tidy --quiet "$@" -- -std=c11 \
		-D_GNU_SOURCE -Iinit -I. -isystem "$0/include" \
		-idirafter "$0/kheaders"' "$prefix" >"$log" 2>&1
report clang-tidy $? "$log"

cppcheck -j 2 --enable=warning,style,performance,portability --std=c11 \
	--error-exitcode=1 --inline-suppr --quiet -D_GNU_SOURCE \
	--suppress=missingIncludeSystem -Iinit -I. init/ common/ enroll/ >"$log" 2>&1
report cppcheck $? "$log"
exit $status
