#!/bin/sh
# GNU make, installed first if it is missing: a fresh Debian 12 has no make,
# and the README's two commands (./make demo, ./make check) must work there
# as written. Once make is installed, ./make X and make X are the same.
# (Debian's /usr/bin/make by its path: with "." in PATH, "make" could be
# this script.)
set -e
if [ ! -x /usr/bin/make ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "./make: GNU make is not installed; as root: apt-get install make" >&2
		exit 1
	fi
	echo "./make: installing GNU make" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends make >&2
fi
exec /usr/bin/make "$@"
