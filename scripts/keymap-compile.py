#!/usr/bin/env python3
"""Compiles a console keymap into luksinit's binary form (init/console/keymap.h).

Usage: scripts/keymap-compile.py KEYMAP OUT

KEYMAP is a name loadkeys finds (de-latin1, fr, jp106: Debian's
console-data keymaps under /usr/share/keymaps) or a path to a .map/.kmap
file, gzipped or not. The host's loadkeys does the parsing (includes,
charsets, compose lines): `loadkeys --mktable -u` only prints C tables and
touches no console. This script turns those tables into the compact form
/init applies with KDSKBENT, KDSKBSENT and KDSKBDIACRUC.

The form, all numbers little-endian:
  header   "LKM1", u16 maps, u16 strings, u16 diacritics, u16 zero
  maps     ascending by index: u8 index, u8 zero, u16 n, then n u16 values
           for keys 0..n-1 (kb_value as KDSKBENT takes it; keys past n,
           and trailing holes, are K_HOLE)
  strings  ascending by function key: u8 func, u8 zero, u16 len, len bytes
  diacr    u32 accent, u32 base, u32 result (KDSKBDIACRUC)
Nothing follows.
"""
import os
import re
import struct
import subprocess
import sys

MAX_NR_KEYMAPS = 256
NR_KEYS = 256
MAX_NR_FUNC = 256
MAX_DIACR = 256
FUNC_LEN_MAX = 511
K_HOLE = 0x0200
K_NOSUCHMAP = 0x027F


def die(msg):
    sys.exit(f"keymap-compile: {msg}")


def c_char(tok):
    """A C character or number token as loadkeys --mktable prints them."""
    tok = tok.strip()
    if tok.startswith("'"):
        body = tok[1:-1]
        if body.startswith("\\"):
            esc = body[1:]
            if re.fullmatch(r"[0-7]{1,3}", esc):
                return int(esc, 8)
            simple = {"n": 10, "t": 9, "r": 13, "\\": 92, "'": 39, '"': 34}
            if esc in simple:
                return simple[esc]
            die(f"unknown escape {tok}")
        if len(body.encode("latin-1")) != 1:
            die(f"unexpected character token {tok}")
        return body.encode("latin-1")[0]
    return int(tok, 0)


CHAR_TOKEN = r"'(?:\\[0-7]{1,3}|\\.|[^'\\])'|0x[0-9a-fA-F]+|\d+"


def block(src, head):
    m = re.search(re.escape(head) + r"[^{]*\{(.*?)\n\};", src, re.S)
    if not m:
        die(f"no {head} in loadkeys output")
    return m.group(1)


def parse(src):
    tables = {}
    for m in re.finditer(r"unsigned short (\w+)\[NR_KEYS\] = \{(.*?)\};", src, re.S):
        vals = [int(v, 16) for v in re.findall(r"0x[0-9a-fA-F]{4}", m.group(2))]
        if len(vals) > NR_KEYS:
            die(f"{m.group(1)} has {len(vals)} keys")
        tables[m.group(1)] = vals
    names = [n.strip() for n in block(src, "*key_maps[MAX_NR_KEYMAPS]").split(",")]
    maps = []
    for index, name in enumerate(names):
        if name in ("0", ""):
            continue
        if name not in tables or index >= MAX_NR_KEYMAPS:
            die(f"key_maps names an unknown table {name}")
        # The tables hold the kernel's stored form U(v) = v ^ 0xf000;
        # KDSKBENT takes v.
        vals = [v ^ 0xF000 for v in tables[name]]
        while vals and vals[-1] == K_HOLE:
            vals.pop()
        if K_NOSUCHMAP in vals:
            die(f"{name} holds K_NOSUCHMAP")
        maps.append((index, vals))

    buf = bytes(c_char(t) for t in re.findall(CHAR_TOKEN, block(src, "char func_buf[]")))
    strings = []
    offsets = block(src, "*func_table[MAX_NR_FUNC]").split(",")
    for func, entry in enumerate(offsets):
        entry = entry.strip()
        if entry in ("0", ""):
            continue
        m = re.fullmatch(r"func_buf \+ (\d+)", entry)
        if not m or func >= MAX_NR_FUNC:
            die(f"unexpected func_table entry {entry}")
        start = int(m.group(1))
        end = buf.index(0, start)
        if end - start > FUNC_LEN_MAX:
            die(f"string for F{func} longer than {FUNC_LEN_MAX} bytes")
        strings.append((func, buf[start:end]))

    diacr = []
    m = re.search(r"accent_table\[MAX_DIACR\] = \{(.*?)\n\};", src, re.S)
    if m:
        for entry in re.findall(r"\{([^}]*)\}", m.group(1)):
            parts = re.findall(CHAR_TOKEN, entry)
            if len(parts) != 3:
                die(f"unexpected accent entry {{{entry}}}")
            diacr.append(tuple(c_char(p) for p in parts))
    if len(diacr) > MAX_DIACR:
        die(f"{len(diacr)} accent entries, at most {MAX_DIACR}")
    return maps, strings, diacr


def encode(maps, strings, diacr):
    out = bytearray(b"LKM1")
    out += struct.pack("<HHHH", len(maps), len(strings), len(diacr), 0)
    for index, vals in maps:
        out += struct.pack("<BBH", index, 0, len(vals))
        out += struct.pack(f"<{len(vals)}H", *vals)
    for func, s in strings:
        out += struct.pack("<BBH", func, 0, len(s)) + s
    for d in diacr:
        out += struct.pack("<III", *d)
    return bytes(out)


def main():
    if len(sys.argv) != 3:
        die("usage: keymap-compile.py KEYMAP OUT")
    keymap, out = sys.argv[1:]
    try:
        res = subprocess.run(
            ["loadkeys", "--mktable", "--unicode", keymap],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="latin-1",
            check=False,
        )
    except FileNotFoundError:
        die("loadkeys is missing (Debian package kbd)")
    if res.returncode != 0:
        die(f"loadkeys cannot read keymap {keymap}: {res.stderr.strip()}")
    maps, strings, diacr = parse(res.stdout)
    if not maps or maps[0][0] != 0:
        die(f"{keymap} defines no plain map")
    with open(out + ".tmp", "wb") as f:
        f.write(encode(maps, strings, diacr))


    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
