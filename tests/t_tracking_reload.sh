#!/bin/sh
# A reload's tracking_params take effect at once (SPEC §5.2, §7): the links
# the output emits lose the newly listed parameters, and the dedup keys of
# the next fetch drop them too (a repost carrying only a new tracking
# parameter is a duplicate; keys stored before keep the list they were made
# with). Before, both connections kept the list they
# were opened with until the daemon restarted.
# Usage: t_tracking_reload.sh FINFEED_BIN SRCDIR
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$2/tests/need.sh"
[ -x /usr/bin/python3 ] || need t_tracking_reload "/usr/bin/python3 (package python3)"
. "$2/tests/daemon_test.sh"

port=$(free_port)
urls() { # the url of every item of /feed.json, one a line
    /usr/bin/python3 -c 'import json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1], timeout=10))
print("\n".join(i.get("url", "-") for i in d["items"]))' "http://127.0.0.1:$port/feed.json"
}
item() { # FEED GUID LINK TITLE BODY: titles and bodies apart, so only the link can match
    cat >"$tmp/$1.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>$1</title><link>http://example.com/</link>
<item><title>$4</title><link>$3</link>
<guid>$2</guid><description>$5</description>
<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>
</channel></rss>
XML
}
item a a-1 'https://wire.example/pboc/rrr?id=5&amp;src=feed' \
    'PBOC cuts the reserve requirement ratio again' \
    'The central bank lowered the ratio by 25 basis points on Friday evening.'
item b b-7 'https://wire.example/fx/yuan?id=7&amp;src=wire' \
    'Yuan firms past 7.10 as exporters sell dollars' \
    'The onshore yuan strengthened in late trade as exporters converted receipts.'
item c c-7 'https://wire.example/fx/yuan?src=copy&amp;id=7' \
    'Exporters lift the yuan in late trade' \
    'Dollar selling by exporters pushed the currency to a two-week high, traders said.'
conf() { # TRACKING_PARAMS
    printf '[daemon]\ndatabase = db.sqlite\ncontrol_socket = ctl.sock\nlisten = 127.0.0.1:%s\n' "$port"
    printf 'allow_file_urls = yes\ntracking_params = %s\n\n' "$1"
    printf '[feed "a"]\nurl = file://%s/a.xml\n\n' "$tmp"
    for f in b c; do
        printf '[feed "%s"]\nurl = file://%s/%s.xml\nenabled = %s\n\n' "$f" "$tmp" "$f" "$2"
    done
}
conf "utm_*" no >"$tmp/finfeed.conf"
cd "$tmp"
"$bin" daemon -c "$tmp/finfeed.conf" >"$tmp/log" 2>&1 &
pid=$!
i=0
until "$bin" refresh -s "$tmp/ctl.sock" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "daemon did not answer within 10 s"
    kill -0 "$pid" 2>/dev/null || fail "daemon died at start"
    sleep 0.1
done
got=$(urls)
[ "$got" = 'https://wire.example/pboc/rrr?id=5&src=feed' ] || fail "before the reload: $got"
ok "src= is kept while it is no tracking parameter"

conf "utm_*, src" yes >"$tmp/finfeed.conf"
"$bin" reload -s "$tmp/ctl.sock" >"$tmp/out" 2>&1 || fail "reload: $(cat "$tmp/out")"
got=$(urls | grep pboc)
[ "$got" = 'https://wire.example/pboc/rrr?id=5' ] || fail "after the reload the output says: $(echo "$got" | tr "\n" " ")"
ok "after the reload the emitted link drops src="
# b and c, enabled by the reload, carry one story under links that differ
# only by src=: now a tracking parameter, it is one story (the titles and
# bodies differ, so only the link rule can tell)
"$bin" refresh -s "$tmp/ctl.sock" b c >"$tmp/out" 2>&1 || fail "refresh b c: $(cat "$tmp/out")"
[ "$(grep -c 'event=fetch feed=[bc] outcome=ok .*new=1' "$tmp/log")" = 1 ] &&
    [ "$(grep -c 'event=fetch feed=[bc] outcome=ok .*duplicates=1' "$tmp/log")" = 1 ] ||
    fail "b and c stored the story twice after the reload"
[ "$(urls | grep -c yuan)" = 1 ] || fail "the copy shows twice: $(urls)"
ok "the dedup keys drop src= too: b's copy is a duplicate"
