#!/usr/bin/env bash
# Tests scripts/cache-prune.sh on a fake cache in a temporary directory
# (never the real one). Prints "PLAN N", then "PASS cache/<case>" or
# "FAIL cache/<case>: why".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/cache-prune.sh
. "$here/../scripts/cache-prune.sh"
work=$(mktemp -d)
holder=
cleanup() {
	if [ -n "$holder" ]; then kill "$holder" 2>/dev/null; fi
	rm -rf "$work"
}
trap cleanup EXIT

cases=(keeps_newest_and_current in_use_lock_is_kept other_files_untouched
	symlinks_not_followed deps_kinds last_use_counts)
echo "PLAN ${#cases[@]}"

# hash N: a fake 16-hex-digit recipe hash.
hash() { printf '%016x' "$1"; }

# fake_kernel DIR N AGE_MINUTES: a published kernel group, as build-kernel.sh
# leaves it.
fake_kernel() {
	local d=$1 h
	h=$(hash "$2")
	mkdir -p "$d/kernel-$h.tree/arch"
	echo x >"$d/kernel-$h.tree/arch/file"
	: >"$d/kernel-$h.log"
	: >"$d/kernel-$h.lock"
	ln -s "kernel-$h.tree" "$d/kernel-$h"
	touch -h -d "-$3 minutes" "$d/kernel-$h.tree" "$d/kernel-$h.log" \
		"$d/kernel-$h.lock" "$d/kernel-$h"
}

prune_kernels() { # DIR CURRENT
	cache_prune "$1" 3 "$2" '[0-9a-f]{16}' \
		'kernel-*' 'kernel-*.tree' 'kernel-*.log' 'kernel-*.lock' 'kernel-*.link' 2>/dev/null
}

# names DIR: the sorted entry names of DIR, on one line.
names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' '; }

# kernel groups present in DIR, by fake number.
groups() {
	local d=$1 n out=
	for n in 1 2 3 4 5 6; do
		if [ -e "$d/kernel-$(hash $n).tree" ] || [ -L "$d/kernel-$(hash $n)" ]; then
			out+="$n "
		fi
	done
	echo "$out"
}

result() { # case, got, want
	if [ "$2" = "$3" ]; then
		echo "PASS cache/$1"
	else
		echo "FAIL cache/$1: got [$2], want [$3]"
	fi
}

# 5 kernels, 1 oldest; the current one (1) is kept although old, plus the
# newest three; the whole group goes (tree, log, lock, link).
t=keeps_newest_and_current d=$work/$t
mkdir -p "$d"
for n in 1 2 3 4 5; do fake_kernel "$d" $n $((100 - n * 10)); done
prune_kernels "$d" "$(hash 1)"
got="$(groups "$d")| $(find "$d" -maxdepth 1 -name "*$(hash 2)*" | wc -l)"
result $t "$got" "1 3 4 5 | 0"

# An old group whose .lock another process holds (a build running) stays.
t=in_use_lock_is_kept d=$work/$t
mkdir -p "$d"
for n in 1 2 3 4 5; do fake_kernel "$d" $n $((100 - n * 10)); done
# The holder is the process that holds the lock (sleep, exec'd), so the
# kill below ends it; a sleep left behind would keep the step's output
# pipe open, and the runner waiting, for its whole minute.
(
	exec 9<>"$d/kernel-$(hash 2).lock"
	flock 9
	exec sleep 60
) >/dev/null 2>&1 &
holder=$!
for _ in $(seq 50); do
	flock -n "$d/kernel-$(hash 2).lock" true 2>/dev/null || break
	sleep 0.1
done
prune_kernels "$d" "$(hash 5)"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
holder=
result $t "$(groups "$d")" "2 3 4 5 "

# Other kinds, other files and malformed keys are left alone.
t=other_files_untouched d=$work/$t
mkdir -p "$d/dracut-bench" "$d/kernel-notahash.tree"
: >"$d/deps.lock"
: >"$d/kvm-verdict"
: >"$d/deps-build-$(hash 9).log"
for n in 1 2 3 4 5; do fake_kernel "$d" $n $((100 - n * 10)); done
prune_kernels "$d" "$(hash 5)"
got=$(names "$d" | tr ' ' '\n' | grep -v "^kernel-0" | tr '\n' ' ')
result $t "$got" "deps-build-$(hash 9).log deps.lock dracut-bench kernel-notahash.tree kvm-verdict "

# A symlink entry is removed as a link: what it points to outside the
# cache survives.
t=symlinks_not_followed d=$work/$t
mkdir -p "$d" "$work/outside"
echo keep >"$work/outside/file"
for n in 2 3 4 5; do fake_kernel "$d" $n $((100 - n * 10)); done
ln -s "$work/outside" "$d/kernel-$(hash 1)"
touch -h -d "-200 minutes" "$d/kernel-$(hash 1)"
prune_kernels "$d" "$(hash 5)"
got="$(groups "$d")| $(cat "$work/outside/file")"
result $t "$got" "3 4 5 | keep"

# build-deps.sh's kinds: prefixes with their logs and partial .tmp
# prefixes, build.* directories, and the obsolete memo lists (all go).
t=deps_kinds d=$work/$t
mkdir -p "$d"
for n in 1 2 3 4 5; do
	h=$(hash $n)
	mkdir -p "$d/deps-$h/lib" "$d/build.abc00$n"
	: >"$d/deps-build-$h.log"
	: >"$d/known-$h.lst"
	: >"$d/sources-$h.lst"
	touch -d "-$((100 - n * 10)) minutes" "$d/deps-$h" "$d/deps-build-$h.log" "$d/build.abc00$n"
done
mkdir -p "$d/deps-$(hash 1).tmp"
touch -d "-200 minutes" "$d/deps-$(hash 1).tmp"
{
	cache_prune "$d" 3 "$(hash 5)" '[0-9a-f]{16}' 'deps-*' 'deps-*.tmp' 'deps-build-*.log' &&
		cache_prune "$d" 3 abc001 '[A-Za-z0-9]{6}' 'build.*' &&
		cache_prune "$d" 0 '' '[0-9a-f]{16}' 'known-*.lst' &&
		cache_prune "$d" 0 '' '[0-9a-f]{16}' 'sources-*.lst'
} 2>/dev/null
want=
for n in 3 4 5; do want+="build.abc00$n "; done
want="build.abc001 $want"
for n in 3 4 5; do want+="deps-$(hash $n) deps-build-$(hash $n).log "; done
result $t "$(names "$d")" "$(echo "$want" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')"

# Use, not creation, counts: a touched old group outranks newer ones.
t=last_use_counts d=$work/$t
mkdir -p "$d"
for n in 1 2 3 4 5; do fake_kernel "$d" $n $((100 - n * 10)); done
touch -h "$d/kernel-$(hash 1)"
prune_kernels "$d" "$(hash 5)"
result $t "$(groups "$d")" "1 4 5 "
