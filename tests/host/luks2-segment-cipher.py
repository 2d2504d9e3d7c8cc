#!/usr/bin/env python3
"""luks2-segment-cipher.py IMAGE CIPHER: sets the data segment's cipher of
the LUKS2 header on IMAGE to CIPHER (e.g. serpent-xts-plain64), in both
header copies, with their checksums made again.

For a test member whose keyslots open with the right passphrase (their own
cipher, aes, is untouched) but whose mapping the test kernel cannot make:
it has no serpent. cryptsetup itself refuses to format with a cipher the
host kernel lacks, and this host has no device-mapper to try it with."""
import hashlib
import json
import struct
import sys

MAGICS = (b"LUKS\xba\xbe", b"SKUL\xba\xbe")
CSUM_AT, CSUM_LEN = 0x1C0, 64
BINARY_HEADER = 4096


def rewrite(disk, at, cipher):
    disk.seek(at)
    size = struct.unpack(">Q", disk.read(16)[8:16])[0]
    disk.seek(at)
    hdr = bytearray(disk.read(size))
    if bytes(hdr[:6]) not in MAGICS:
        sys.exit("no LUKS2 header at %d" % at)
    area = hdr[BINARY_HEADER:]
    meta = json.loads(bytes(area).rstrip(b"\0").decode())
    for seg in meta["segments"].values():
        seg["encryption"] = cipher
    text = json.dumps(meta, separators=(",", ":")).encode()
    if len(text) >= len(area):
        sys.exit("the new JSON does not fit")
    hdr[BINARY_HEADER:] = text + b"\0" * (len(area) - len(text))
    hdr[CSUM_AT:CSUM_AT + CSUM_LEN] = b"\0" * CSUM_LEN
    digest = hashlib.sha256(hdr).digest()
    hdr[CSUM_AT:CSUM_AT + len(digest)] = digest
    disk.seek(at)
    disk.write(hdr)
    return size


def main():
    image, cipher = sys.argv[1], sys.argv[2]
    with open(image, "r+b") as disk:
        size = rewrite(disk, 0, cipher)
        rewrite(disk, size, cipher)


if __name__ == "__main__":
    main()
