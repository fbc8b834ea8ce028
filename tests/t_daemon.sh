#!/bin/sh
# The daemon end to end (tests/daemon_e2e.py): loopback publishers, the control
# socket, HTTP output read by feedparser and newsboat, reload, signals, sd_notify.
bin=$1
src=$2
if ! /usr/bin/python3 -c 'import feedparser' 2>/dev/null; then
    echo "skip: /usr/bin/python3 with python3-feedparser is missing"
    exit 0
fi
exec /usr/bin/python3 "$src/tests/daemon_e2e.py" "$bin" "$src"
