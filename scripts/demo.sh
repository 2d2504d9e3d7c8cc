#!/usr/bin/env bash
# Boots the demo: the test kernel with luksinit embedded, on a Btrfs RAID1
# over two disks, each its own LUKS2 container. You type the passphrase
# ("test-pass") once at the prompt; both disks unlock, the array is
# assembled and the root's /sbin/init reports what it sees, then powers
# off. Ctrl-A x quits QEMU.
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$build/fixtures/fixtures.env"
args=(--kernel "$build/bzImage"
      --disk "$build/fixtures/crypt2-a.img" --disk "$build/fixtures/crypt2-b.img"
      --snapshot
      # Two consoles, as on a laptop with a serial port: the emulated
      # screen (tty0) and this terminal (ttyS0, /dev/console as the last
      # one). The prompt shows on both, the first answer counts.
      --qemu-arg=-device --qemu-arg=VGA
      --append "console=tty0 console=ttyS0 root=UUID=$CRYPT2_UUID rootflags=subvol=@root rd.luks.uuid=$CRYPT2_LUKS_0 rd.luks.uuid=$CRYPT2_LUKS_1"
      --log "$build/demo.log")
if [ -t 0 ]; then
	echo "demo: at the prompt, type the passphrase: test-pass" >&2
	exec "$here/run-qemu" --interactive "${args[@]}"
fi
# No terminal (e.g. under CI): type the passphrase for the person. Success
# means the root's own /sbin/init ran to its end (it prints "RESULT done").
exec "$here/run-qemu" "${args[@]}" --timeout 300 \
	--expect 'Passphrase for 2 encrypted disks' --send $'test-pass\n' \
	--expect '^RESULT done'
