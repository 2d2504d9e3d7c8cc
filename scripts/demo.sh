#!/usr/bin/env bash
# Boots the demo: the test kernel with luksinit embedded, on the two-disk
# Btrfs RAID1 fixture, interactively on this terminal (Ctrl-A x quits).
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$build/fixtures/fixtures.env"
args=(--kernel "$build/bzImage"
      --disk "$build/fixtures/raid1-a.img" --disk "$build/fixtures/raid1-b.img"
      --snapshot
      --append "root=UUID=$RAID1_UUID rootflags=subvol=@root"
      --log "$build/demo.log" --timeout "${DEMO_TIMEOUT:-600}")
if [ -t 0 ]; then
	exec "$here/run-qemu" --interactive "${args[@]}"
fi
# No terminal (e.g. under CI): boot it unattended and show the result.
exec "$here/run-qemu" "${args[@]}"
