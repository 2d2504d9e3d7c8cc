#!/usr/bin/env bash
# Usage: scripts/prune-kernels.sh <kernel-dir>   (as printed by build-kernel.sh)
#
# Records the use of that kernel (its symlink's mtime) and keeps only the
# newest two kernels in the cache (a tree takes about 1.6 GB, and CI
# machines have been seen with little disk left), with their
# .tree/.log/.lock companions (scripts/cache-prune.sh). Kept apart from build-kernel.sh on purpose: the
# kernel's cache key is a hash of that script, and housekeeping must not
# force a 10-minute rebuild.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cache-prune.sh
. "$here/cache-prune.sh"
dir=${1:?usage: $0 <kernel-dir>}
cache=$(dirname "$dir")
name=${dir##*/}
hash=${name#kernel-}
touch -c -h -- "$dir" 2>/dev/null || true
cache_prune "$cache" 2 "$hash" '[0-9a-f]{16}' \
	'kernel-*' 'kernel-*.tree' 'kernel-*.log' 'kernel-*.lock' 'kernel-*.link' ||
	echo "prune-kernels: warning: could not prune all of $cache" >&2
