# tests/daemon_test.sh — sourced by the shell tests that run `finfeed
# daemon` (t_config_reload, t_tokens, t_tracking_reload): a scratch folder
# in $tmp, the daemon's pid in $pid (stopped and the folder removed on exit),
# fail (prints the daemon's log, $tmp/log) and ok, and a free loopback port.
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL $*"
    echo "--- daemon log"
    cat "$tmp/log" 2>/dev/null || true
    exit 1
}
ok() { echo "ok   $*"; }
# A loopback port free now (the daemon binds it next).
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
