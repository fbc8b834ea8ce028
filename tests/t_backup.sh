#!/bin/sh
# finfeed backup, restore and check against a running daemon (issue 12 §3):
# a backup taken while a few hundred loopback feeds are being stored holds
# every article committed before it began; restored into a fresh path it
# checks clean; damaged backups are reported and refused (tests/backup_e2e.py;
# its --bench option is the manual 1,000-feed run).
exec /usr/bin/python3 "$2/tests/backup_e2e.py" "$1" "$2"
