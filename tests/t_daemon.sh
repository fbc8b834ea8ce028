#!/bin/sh
# The daemon end to end (tests/daemon_e2e.py): loopback publishers, the control
# socket, HTTP output read by feedparser and newsboat, reload, signals, sd_notify.
# Without its tools it skips (exit 77), or fails under make check (tests/need.sh).
bin=$1
src=$2
. "$src/tests/need.sh"
/usr/bin/python3 -c 'import feedparser' 2>/dev/null ||
    need t_daemon "/usr/bin/python3 with feedparser (package python3-feedparser)"
command -v newsboat >/dev/null 2>&1 || need t_daemon "newsboat (package newsboat)"
exec /usr/bin/python3 "$src/tests/daemon_e2e.py" "$bin" "$src"
