#!/usr/bin/env python3
"""QEMU boot tests: boot the test kernel (initramfs embedded through
CONFIG_INITRAMFS_SOURCE) against real disk images and assert on what the
booted system reports (RESULT lines from the test root's /sbin/init) and on
what the console showed. The cases live in tests/boot/, one module a theme.

usage: boot_tests.py BUILD_DIR [CASE_NAME_SUBSTRING...]
"""
import sys

from boot import lib
from boot import (basic, documented, luks, luks_state, firmware,  # noqa: F401
                  failures, initcheck, fwdriver, entropy,
                  derived, consoles, keymap, params,
                  header, swap, keydev,
                  headerdev, tpm2, ssh)  # (importing registers the cases)

if __name__ == "__main__":
    sys.exit(lib.main())
