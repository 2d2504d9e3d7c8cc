# shellcheck shell=bash
# Sourced by scripts/build-deps.sh and scripts/prune-kernels.sh: keeps the
# build cache from growing without bound (every recipe change leaves a
# kernel tree of about 1.5 GB or a library prefix behind).
#
# cache_prune DIR KEEP CURRENT KEY_ERE PATTERN...
#
#   Each PATTERN is a file name with one '*' standing for a key, e.g.
#   'kernel-*' 'kernel-*.tree' 'kernel-*.log'; entries of DIR it matches
#   with a key matching KEY_ERE (whole) form one group per key. Groups are
#   ranked by the newest mtime among their entries (the build scripts touch
#   their entry on every warm use, so this is "most recently used"), and all
#   but the first KEEP are removed, except:
#     - the group CURRENT (the one just built or in use by the caller);
#     - a group with a '.lock' entry that another process holds (its build
#       is running); it is held while the group is removed.
#   Prints one line per removed group on stderr. Returns non-zero if
#   something could not be removed.
cache_prune() {
    local dir=$1 keep=$2 current=$3 key_re=$4
    shift 4
    local -A newest=() members=()
    local pat pre suf path name key m
    for pat in "$@"; do
        pre=${pat%%\**}
        suf=${pat#*\*}
        for path in "$dir/$pre"*"$suf"; do
            [[ -e $path || -L $path ]] || continue
            name=${path##*/}
            key=${name#"$pre"}
            key=${key%"$suf"}
            [[ $key =~ ^($key_re)$ ]] || continue
            m=$(stat -c %Y -- "$path") || continue
            if ((m > ${newest[$key]:-0})); then
                newest[$key]=$m
            fi
            members[$key]+="$name"$'\n'
        done
    done

    local order=() n=0 rc=0 lockfd entries
    mapfile -t order < <(for key in "${!newest[@]}"; do
        echo "${newest[$key]} $key"
    done | sort -k1,1nr -k2,2 | cut -d' ' -f2)
    for key in "${order[@]}"; do
        if [[ $key == "$current" ]] || ((n < keep)); then
            n=$((n + 1))
            continue
        fi
        mapfile -t entries < <(sort -u <<<"${members[$key]}" | sed '/^$/d')
        lockfd=
        for name in "${entries[@]}"; do
            [[ $name == *.lock && -f $dir/$name ]] || continue
            exec {lockfd}<>"$dir/$name"
            if ! flock -n "$lockfd"; then
                echo "cache-prune: keeping ${entries[*]} (in use)" >&2
                exec {lockfd}>&-
                continue 2
            fi
            break
        done
        echo "cache-prune: removing ${entries[*]} from $dir" >&2
        for name in "${entries[@]}"; do
            rm -rf -- "${dir:?}/$name" || rc=1
        done
        if [[ -n $lockfd ]]; then
            exec {lockfd}>&-
        fi
    done
    return "$rc"
}
