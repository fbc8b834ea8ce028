#!/bin/sh
# Configuration errors are found when the file is read, never later (issue 10
# §3.4, §3.6): `finfeed daemon` refuses a bad `remove` or an interval over
# 365 d with exit 2 and file:line; a reload of such a file answers ok:false
# with file:line over the control socket and the daemon keeps its old
# configuration whole, every feed still served. Also a publisher's <ttl> of
# 2^66 minutes must not overflow the scheduler's time arithmetic (UBSan).
# Usage: t_config_reload.sh FINFEED_BIN SRCDIR
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$2/tests/daemon_test.sh"

feed() { # NAME TTL: one RSS item, a ttl in minutes
    cat >"$tmp/$1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>$1</title><link>http://example.com/$1</link>
<ttl>$2</ttl>
<item><title>$1 one</title><link>http://example.com/$1/1</link><guid>$1-1</guid>
<description>&lt;div class="ad"&gt;ad&lt;/div&gt;&lt;p&gt;text&lt;/p&gt;</description>
<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>
</channel></rss>
EOF
}
feed a 60
feed huge 99999999999999999999

head='[daemon]
database = db.sqlite
control_socket = ctl.sock
listen = 127.0.0.1:0
allow_file_urls = yes
'
good() { # the configuration the daemon starts with
    printf '%s\n[feed "a"]\nurl = file://%s/a.xml\nremove = .ad\n\n' "$head" "$tmp"
    printf '[feed "huge"]\nurl = file://%s/huge.xml\n' "$tmp"
}
good >"$tmp/finfeed.conf"

# At start: exit 2 with file:line, section and key.
{ good; printf 'remove = .x, div > p\n'; } >"$tmp/bad_remove.conf"
line=$(grep -c '' "$tmp/bad_remove.conf")
rc=0
"$bin" daemon -c "$tmp/bad_remove.conf" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "daemon with a bad remove exits $rc, want 2: $(cat "$tmp/out")"
grep -q "bad_remove.conf:$line: feed \"huge\": remove: bad selector" "$tmp/out" ||
    fail "no file:line for a bad remove at start: $(cat "$tmp/out")"
ok "daemon refuses a bad remove: $(tail -n 1 "$tmp/out")"

{ good; printf 'interval = 9223372036854775807\n'; } >"$tmp/bad_interval.conf"
line=$(grep -c '' "$tmp/bad_interval.conf")
rc=0
"$bin" daemon -c "$tmp/bad_interval.conf" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "daemon with interval 2^63-1 exits $rc, want 2: $(cat "$tmp/out")"
grep -q "bad_interval.conf:$line: feed \"huge\": interval: bad duration" "$tmp/out" ||
    fail "no file:line for a huge interval: $(cat "$tmp/out")"
ok "daemon refuses interval = 2^63-1: $(tail -n 1 "$tmp/out")"

# A running daemon with two good feeds.
cd "$tmp"
"$bin" daemon -c "$tmp/finfeed.conf" >"$tmp/log" 2>&1 &
pid=$!
i=0
until "$bin" status -s "$tmp/ctl.sock" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "daemon did not answer within 10 s"
    kill -0 "$pid" 2>/dev/null || fail "daemon died at start"
    sleep 0.1
done
"$bin" refresh -s "$tmp/ctl.sock" a huge >"$tmp/out" 2>&1 || fail "refresh: $(cat "$tmp/out")"
kill -0 "$pid" 2>/dev/null || fail "daemon died after a fetch with <ttl> 2^66"
"$bin" status --json -s "$tmp/ctl.sock" >"$tmp/st" || fail "status"
grep -q '"feed": *"a"' "$tmp/st" && grep -q '"feed": *"huge"' "$tmp/st" ||
    fail "feeds missing at start: $(cat "$tmp/st")"
ok "daemon serves a and huge (a <ttl> of 2^66 minutes did not overflow)"

# Reload with a bad selector, on a new feed and on a kept one: refused whole.
{ good; printf '\n[feed "new"]\nurl = file://%s/a.xml\nremove = div > p\n' "$tmp"; } \
    >"$tmp/finfeed.conf"
line=$(grep -c '' "$tmp/finfeed.conf")
rc=0
"$bin" reload --json -s "$tmp/ctl.sock" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "reload of a bad remove exits $rc, want 1: $(cat "$tmp/out" "$tmp/err")"
grep -q '"ok": *false' "$tmp/out" || fail "reload answered: $(cat "$tmp/out")"
grep -q "finfeed.conf:$line: feed \\\\\"new\\\\\": remove: bad selector" "$tmp/out" ||
    fail "reload answer names no file:line: $(cat "$tmp/out")"
ok "reload of a bad remove answers $(cat "$tmp/out")"

good | sed 's/^remove = \.ad$/remove = p:first-child/' >"$tmp/finfeed.conf"
rc=0
"$bin" reload --json -s "$tmp/ctl.sock" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q '"ok": *false' "$tmp/out" &&
    grep -q 'finfeed.conf:[0-9]*: feed \\"a\\": remove: bad selector' "$tmp/out" ||
    fail "reload of a bad remove on a kept feed: rc=$rc $(cat "$tmp/out")"
ok "reload of a bad remove on a kept feed answers ok:false"

"$bin" status --json -s "$tmp/ctl.sock" >"$tmp/st" || fail "status after reload"
grep -q '"feed": *"a"' "$tmp/st" && grep -q '"feed": *"huge"' "$tmp/st" ||
    fail "a feed was dropped by a refused reload: $(cat "$tmp/st")"
if grep -q '"feed": *"new"' "$tmp/st"; then fail "a refused reload added a feed"; fi
"$bin" refresh -s "$tmp/ctl.sock" a >"$tmp/out" 2>&1 || fail "refresh after reload: $(cat "$tmp/out")"
kill -0 "$pid" 2>/dev/null || fail "daemon died"
ok "the old configuration stays whole and its feeds are served"

# A good file reloads.
{ good; printf '\n[feed "new"]\nurl = file://%s/a.xml\nremove = div\n' "$tmp"; } \
    >"$tmp/finfeed.conf"
"$bin" reload --json -s "$tmp/ctl.sock" >"$tmp/out" 2>&1 || fail "good reload: $(cat "$tmp/out")"
grep -q '"ok": *true' "$tmp/out" && grep -q '"feeds": *3' "$tmp/out" ||
    fail "good reload answered: $(cat "$tmp/out")"
ok "a good file reloads: $(cat "$tmp/out")"

kill "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "daemon exit $rc on SIGTERM"
if grep -q 'runtime error' "$tmp/log"; then fail "UBSan: $(grep 'runtime error' "$tmp/log")"; fi
ok "daemon stops cleanly"

# retention = forever (a compliance archive): nothing is ever pruned; a
# retention of a day prunes the 2024 articles once they were first seen more
# than a day ago (nothing first seen within a day is pruned, SPEC §3).
printf '%s\nretention = forever\n[feed "a"]\nurl = file://%s/a.xml\n' "$head" "$tmp" \
    >"$tmp/forever.conf"
"$bin" prune -c "$tmp/forever.conf" >"$tmp/out" 2>&1 || fail "prune forever: $(cat "$tmp/out")"
grep -q 'nothing pruned' "$tmp/out" || fail "prune with retention forever: $(cat "$tmp/out")"
"$bin" export -c "$tmp/forever.conf" --format atom --feed a >"$tmp/out" 2>&1 || fail "export"
grep -q 'a one' "$tmp/out" || fail "retention forever lost an article"
sed 's/^retention = forever$/retention = 1d/' "$tmp/forever.conf" >"$tmp/day.conf"
"$bin" prune -c "$tmp/day.conf" >"$tmp/out" 2>&1 || fail "prune 1d: $(cat "$tmp/out")"
grep -q '^pruned 0 ' "$tmp/out" || fail "retention 1d pruned what was first seen today: $(cat "$tmp/out")"
command -v sqlite3 >/dev/null || fail "the sqlite3 shell is missing (scripts/install-deps installs it)"
sqlite3 "$tmp/db.sqlite" "UPDATE articles SET first_seen = first_seen - 2 * 86400" ||
    fail "cannot age the articles"
"$bin" prune -c "$tmp/day.conf" >"$tmp/out" 2>&1 || fail "prune 1d: $(cat "$tmp/out")"
grep -q '^pruned [1-9]' "$tmp/out" || fail "retention 1d pruned nothing: $(cat "$tmp/out")"
ok "retention = forever prunes nothing, 1d prunes: $(cat "$tmp/out")"
