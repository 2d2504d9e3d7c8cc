#!/usr/bin/env bash
# Installs the named Debian packages if any is missing (idempotent, quiet
# when nothing is to do). The project sets up its own machine: a fresh
# Debian 12 with nothing done before must work.
set -euo pipefail
missing=()
for p in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
