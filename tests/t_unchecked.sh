#!/bin/sh
# Every uv_*_init/start result is checked (issue 10 §3.8): with a shim that
# makes one of them fail (tests/fault/uv_fail.c, LD_PRELOAD), `finfeed
# daemon` refuses to start with the reason and exit 1, instead of running
# without signal handling (SIGTERM would then kill it mid-write) or without
# its timer. Plain build only: a sanitizer's runtime must be preloaded first.
# Usage: t_unchecked.sh FINFEED_BIN SRCDIR BUILDDIR
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
. "$src/tests/need.sh"
command -v cc >/dev/null || need t_unchecked "cc (package build-essential)"
pkg-config --exists libuv || need t_unchecked "libuv (package libuv1-dev)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -shared -fPIC -O1 -o "$tmp/uv_fail.so" "$src/tests/fault/uv_fail.c" $(pkg-config --cflags libuv) -ldl ||
    { echo "FAIL cannot build the shim"; exit 1; }
printf '[daemon]\ndatabase = %s/db.sqlite\ncontrol_socket = %s/ctl.sock\nlisten = 127.0.0.1:0\n' \
    "$tmp" "$tmp" >"$tmp/finfeed.conf"
for call in uv_signal_start uv_timer_init; do
    rc=0
    FINFEED_FAIL=$call LD_PRELOAD="$tmp/uv_fail.so" timeout 10 "$bin" daemon -c "$tmp/finfeed.conf" \
        >"$tmp/out" 2>&1 || rc=$?
    if [ "$rc" = 124 ]; then
        echo "FAIL $call failing: the daemon ran on regardless"
        cat "$tmp/out"
        exit 1
    fi
    [ "$rc" = 1 ] || { echo "FAIL $call failing: exit $rc, want 1"; cat "$tmp/out"; exit 1; }
    grep -q 'out of memory\|ENOMEM\|not enough memory' "$tmp/out" ||
        { echo "FAIL $call failing: the reason is not said"; cat "$tmp/out"; exit 1; }
    echo "ok   $call failing: exit 1, $(grep -m1 'finfeed:' "$tmp/out" || head -1 "$tmp/out")"
done
