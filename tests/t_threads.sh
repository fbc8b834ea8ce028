#!/bin/sh
# The loop never waits on SQLite (tests/threads_e2e.py): reload, the control
# socket, /healthz and the watchdog under a write lock held by another
# process; N feeds fail after one busy timeout, not N.
exec /usr/bin/python3 "$2/tests/threads_e2e.py" "$1" "$2"
