#!/usr/bin/env bash
# Installs the named Debian packages if any is missing (idempotent, quiet
# when nothing is to do). The project sets up its own machine: a fresh
# Debian 12 with nothing done before must work.
#
# Builds and tests run side by side, and each may find a package missing:
# installs are taken one at a time (a lock of ours), and apt itself waits
# for a lock another apt holds (Lock::Timeout) instead of failing at once.
set -euo pipefail
missing_of() {
	local p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || echo "$p"
	done
}
mapfile -t missing < <(missing_of "$@")
[ ${#missing[@]} -eq 0 ] && exit 0
exec 9>/run/luksinit-ensure-packages.lock
flock -w 900 9 || { echo "ensure-packages: another install held the lock for 15 min" >&2; exit 1; }
mapfile -t missing < <(missing_of "$@") # installed meanwhile?
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
wait_lock=(-o DPkg::Lock::Timeout=600)
apt-get "${wait_lock[@]}" update -qq >&2
apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
