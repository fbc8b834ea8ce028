#!/bin/sh
# [output] tokens and [daemon] node through the real daemon: 401 with the
# challenge without a token, 200 with ?token= or Basic, /healthz open, a
# reload that changes the tokens applies at once, no secret in the log; the
# node name on the start line, in `finfeed status` and in /metrics.
# Usage: t_tokens.sh FINFEED_BIN SRCDIR
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$2/tests/daemon_test.sh"

port=$(free_port)
# get PATH [USER:PASSWORD]: prints the status, then the WWW-Authenticate header
get() {
    /usr/bin/python3 - "http://127.0.0.1:$port$1" "${2:-}" <<'PY'
import base64, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1])
if sys.argv[2]:
    req.add_header("Authorization", "Basic " + base64.b64encode(sys.argv[2].encode()).decode())
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.headers.get("WWW-Authenticate", "-"))
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("WWW-Authenticate", "-"))
PY
}

old=old-secret-0123456789
new=new-secret-9876543210
conf() { # TOKENS
    printf '[daemon]\ndatabase = db.sqlite\ncontrol_socket = ctl.sock\nlisten = 127.0.0.1:%s\n' "$port"
    printf 'node = "desk 1"\n\n[output]\ntokens = %s\n' "$1"
}
conf "alice:$old" >"$tmp/finfeed.conf"
cd "$tmp"
"$bin" daemon -c "$tmp/finfeed.conf" >"$tmp/log" 2>&1 &
pid=$!
i=0
until "$bin" status -s "$tmp/ctl.sock" >/dev/null 2>&1 && [ "$(get /healthz | cut -d' ' -f1)" = 200 ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "daemon did not answer within 10 s"
    kill -0 "$pid" 2>/dev/null || fail "daemon died at start"
    sleep 0.1
done
ok "/healthz open without a token"

grep -q 'event=start .*node="desk 1"' "$tmp/log" || fail "no node= on the start line"
"$bin" status -s "$tmp/ctl.sock" | grep -q '^node desk 1$' || fail "finfeed status prints no node"
"$bin" status --json -s "$tmp/ctl.sock" | grep -q '"node": *"desk 1"' || fail "no node in the status reply"
ok "node on the start line and in status"

for p in /feed.atom / /metrics /opml /feeds/none.atom; do
    got=$(get "$p")
    [ "$got" = '401 Basic realm="finfeed"' ] || fail "GET $p without a token: $got"
done
[ "$(get "/feed.atom?token=wrong-secret-012345")" = '401 Basic realm="finfeed"' ] ||
    fail "a wrong token is accepted"
ok "every route but /healthz answers 401 with the challenge"

[ "$(get "/feed.atom?token=$old" | cut -d' ' -f1)" = 200 ] || fail "?token= refused"
[ "$(get /feed.atom "reader:$old" | cut -d' ' -f1)" = 200 ] || fail "Basic refused"
got=$(get "/metrics?token=$old")
[ "${got%% *}" = 200 ] || fail "/metrics with a token: $got"
/usr/bin/python3 -c "import urllib.request,sys; b=urllib.request.urlopen(sys.argv[1]).read().decode(); sys.exit(0 if 'finfeed_node_info{node=\"desk 1\"} 1' in b else 1)" \
    "http://127.0.0.1:$port/metrics?token=$old" || fail "no finfeed_node_info in /metrics"
ok "?token= and Basic accepted; node in /metrics"

conf "bob:$new" >"$tmp/finfeed.conf"
"$bin" reload -s "$tmp/ctl.sock" >"$tmp/out" 2>&1 || fail "reload: $(cat "$tmp/out")"
[ "$(get "/feed.atom?token=$old" | cut -d' ' -f1)" = 401 ] || fail "the old token survives a reload"
[ "$(get "/feed.atom?token=$new" | cut -d' ' -f1)" = 200 ] || fail "the new token is refused"
ok "a reload applies new tokens at once"

conf "bob:short" >"$tmp/finfeed.conf"
rc=0
"$bin" reload -s "$tmp/ctl.sock" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "finfeed.conf:8: \[output\] tokens: reader 'bob': secret of 5 characters" "$tmp/out" ||
    fail "a short secret reloads: rc=$rc $(cat "$tmp/out")"
[ "$(get "/feed.atom?token=$new" | cut -d' ' -f1)" = 200 ] || fail "a refused reload changed the tokens"
ok "a refused reload keeps the tokens: $(cat "$tmp/out")"

kill "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "daemon exit $rc on SIGTERM"
if grep -q -e "$old" -e "$new" "$tmp/log"; then fail "a secret in the log"; fi
ok "no secret in the log"
