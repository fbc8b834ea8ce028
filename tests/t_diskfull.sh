#!/bin/sh
# A store that cannot be written (disk full, locked, read-only) leaves the
# daemon alive with the reason on status and /healthz, and no article whose
# fetch failed to store is marked seen: the next round stores it
# (tests/diskfull_e2e.py; a tmpfs when run as root, else tests/fault/full.c).
exec /usr/bin/python3 "$2/tests/diskfull_e2e.py" "$1" "$2"
