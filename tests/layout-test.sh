#!/usr/bin/env bash
# The folders of init/ and their dependency rule (tests/include-rules.txt):
# every quoted #include in init/, common/ and enroll/ names a header that
# exists, by its folder ("luks/luks.h", "common/secret.h"; the top of init/
# by its bare name), and only a folder the rule allows. Every folder on disk
# has a row in the table, every row a folder; no .c file is over 800 lines
# and no function over 60. Two facts the documentation
# states about the code: /init calls no strcpy, strncpy, strtok or sprintf
# (docs/SECURITY.md), and main() opens the uevent socket before anything
# else, so no event is missed (docs/ARCHITECTURE.md). The LUKS member table and the
# files that work on it stay inside init/luks/: the rest of /init asks
# luks.h (struct luks_set is opaque there).
# Prints "PLAN N", then "PASS layout/<case>" or "FAIL layout/<case>: why".
set -uo pipefail
cd "$(dirname "$0")/.."
rules=tests/include-rules.txt
echo "PLAN 6"

declare -A allowed
while read -r folder deps; do
	[[ -z $folder || $folder == \#* ]] && continue
	allowed[$folder]=" ${deps//-/} "
done <"$rules"

# The folder a header path belongs to, as the rule table names folders.
folder_of_include() {
	local inc=$1
	case $inc in
	common/*) echo common ;;
	*/*) echo "init/${inc%%/*}" ;;
	*) echo init ;;
	esac
}
# A rule table entry for a folder name as "may include" lists them.
short() { [[ $1 == init/* ]] && echo "${1#init/}" || echo "$1"; }

problems=()
while IFS= read -r file; do
	from=$(dirname "$file")
	[[ -n ${allowed[$from]+x} ]] || { problems+=("$file: its folder $from has no row in $rules"); continue; }
	while IFS=: read -r line inc; do
		if [[ $from == enroll && $inc != */* ]]; then
			target=enroll/$inc
		elif [[ $inc == common/* ]]; then
			target=$inc
		else
			target=init/$inc
		fi
		if [[ ! -f $target ]]; then
			problems+=("$file:$line: #include \"$inc\" names no header ($target)")
			continue
		fi
		to=$(folder_of_include "$inc")
		[[ $from == enroll && $inc != */* ]] && to=enroll
		[[ $to == "$from" ]] && continue
		if [[ ${allowed[$from]} != *" $(short "$to") "* ]]; then
			problems+=("$file:$line: $from may not include $inc ($to): see $rules")
		fi
	done < <(grep -noE '^#include "[^"]+"' "$file" | sed -E 's/^([0-9]+):#include "([^"]+)"/\1:\2/')
done < <(git ls-files 'init/*.[ch]' 'common/*.[ch]' 'enroll/*.[ch]')
if ((${#problems[@]})); then
	echo "FAIL layout/includes_follow_the_rule: ${#problems[@]} problem(s):"
	printf '  %s\n' "${problems[@]}"
else
	echo "PASS layout/includes_follow_the_rule"
fi

missing=()
for d in init $(git ls-files 'init/*/*' | cut -d/ -f1-2 | sort -u) common enroll; do
	[[ -n ${allowed[$d]+x} ]] || missing+=("$d is on disk but has no row")
done
for d in "${!allowed[@]}"; do
	[[ -d $d ]] || missing+=("$d has a row but is not on disk")
done
if ((${#missing[@]})); then
	echo "FAIL layout/every_folder_has_a_rule: ${missing[*]}"
else
	echo "PASS layout/every_folder_has_a_rule"
fi

calls=$(git ls-files 'init/*.[ch]' 'common/*.[ch]' |
	xargs grep -nE '(^|[^[:alnum:]_])(strcpy|strncpy|strtok|sprintf)[[:space:]]*\(' || true)
if [[ -n $calls ]]; then
	echo "FAIL layout/no_unbounded_string_calls: docs/SECURITY.md says none:"
	printf '  %s\n' "$calls"
else
	echo "PASS layout/no_unbounded_string_calls"
fi

# In main(): loop_open (the uevent socket) is the first call, before
# early_setup looks at the devices already there.
first=$(awk '/^int main\(/ {in_main=1; next} in_main && /^}/ {exit}
	in_main && /^\t[a-z_]+\(/ {sub(/^\t/, ""); sub(/\(.*/, ""); print; exit}' init/main.c)
order=$(awk '/^int main\(/ {in_main=1} in_main && /loop_open\(/ {print "open"} in_main && /early_setup\(/ {print "setup"}' init/main.c | head -2 | tr '\n' ' ')
if [[ $order == "open setup " ]]; then
	echo "PASS layout/uevent_socket_opened_first"
else
	echo "FAIL layout/uevent_socket_opened_first: main() in init/main.c calls, in this order: ${order:-neither} (first call: ${first:-?})"
fi

# Headers that show struct luks_member: for init/luks/ alone.
private='"luks/(luksmembers|luksload|lukskdf|luksderived)\.h"'
leaks=$(git ls-files 'init/*.[ch]' 'common/*.[ch]' 'enroll/*.[ch]' |
	grep -v '^init/luks/' | xargs grep -nE "^#include $private" || true)
if [[ -n $leaks ]]; then
	echo "FAIL layout/luks_member_table_stays_in_init_luks: included outside init/luks/:"
	printf '  %s\n' "$leaks"
else
	echo "PASS layout/luks_member_table_stays_in_init_luks"
fi

# Small files, functions that fit on a screen: no .c file over 800 lines,
# no function over 60 (from its first line in column 0 to its closing
# brace in column 0).
big=$(git ls-files 'init/*.c' 'common/*.c' 'enroll/*.c' | xargs awk '
	FNR == 1 { if (prev && n > 800) printf "%s: %d lines\n", prev, n; prev = FILENAME; start = 0 }
	{ n = FNR }
	start == 0 && /^[A-Za-z][^;]*\(/ && !/;[[:space:]]*$/ && !/^(typedef|struct|enum|union) [^(]*$/ { start = FNR; name = $0 }
	start && /^}/ { if (FNR - start + 1 > 60) printf "%s:%d: %d lines: %s\n", FILENAME, start, FNR - start + 1, name; start = 0 }
	END { if (n > 800) printf "%s: %d lines\n", prev, n }')
if [[ -n $big ]]; then
	echo "FAIL layout/files_and_functions_are_small: over 800 lines a file or 60 a function:"
	printf '  %s\n' "$big"
else
	echo "PASS layout/files_and_functions_are_small"
fi
