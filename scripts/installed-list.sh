#!/usr/bin/env bash
# The initramfs.list that make install puts next to the installed /init:
# the repository's list with its "file /init" line naming INIT, so a user
# points CONFIG_INITRAMFS_SOURCE at it without exporting anything.
#
# Usage: scripts/installed-list.sh INIT <initramfs.list >installed.list
# The list's first comment paragraph (up to a line "#") is about the build
# tree and is replaced; the rest (firmware, rescue shell) is kept.
set -euo pipefail
die() { echo "installed-list: $*" >&2; exit 1; }
init=${1:?usage: installed-list.sh INIT}
# gen_init_cpio splits on blanks and expands ${...}: such a path cannot work.
[[ $init == /* ]] || die "not an absolute path: $init"
[[ $init != *[[:space:]\"\'\$\\]* ]] || die "blanks, quotes, \$ and \\ cannot appear in a gen_init_cpio path: $init"

cat <<HEAD
# luksinit's initramfs, in the kernel's gen_init_cpio format, as installed
# by make install. Embed it in your kernel with
#   CONFIG_INITRAMFS_SOURCE="$(dirname "$init")/initramfs.list"
# (scripts/config --set-str INITRAMFS_SOURCE ...); check the rest of the
# configuration with luksinit-check-kernel-config.
# make install overwrites this file: add files of your own (the firmware
# or rescue shell below) in a second list, named after this one:
#   CONFIG_INITRAMFS_SOURCE="$(dirname "$init")/initramfs.list /etc/luksinit/extra.list"
HEAD
awk -v init="$init" '
	intro && $0 == "#" { intro = 0 }
	NR == 1 { intro = 1 }
	intro { next }
	/^file[ \t]+\/init[ \t]/ {
		if ($3 != "${LUKSINIT_BUILD}/init") { print "unexpected /init line: " $0 > "/dev/stderr"; failed = 1; exit 1 }
		$3 = init; found = 1
	}
	!/^#/ && /\$\{/ { print "a ${VAR} left in: " $0 > "/dev/stderr"; failed = 1; exit 1 }
	{ print }
	# exit in a rule still runs END: it must not add a second complaint.
	END { if (failed) exit 1; if (!found) { print "no \"file /init\" line" > "/dev/stderr"; exit 1 } }
'
