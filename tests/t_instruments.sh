#!/bin/sh
# Instruments (SPEC §12) through the binary and the real daemon: the
# extractor with a symbol dictionary; a feed's tickers_add carried by its
# articles and merged into the article a duplicate repeats; a watchlist's
# listing standing for its issuer's; `finfeed parse --articles`, `export --ticker`,
# `--watchlist` and the Markdown posts; /tickers/ and /watchlists/ with
# their validators, 304 and gzip, 400 and 404 with reasons; the status
# page and /opml; a reload that changes the watchlists, and one refused
# for a watchlist naming a feed that is not configured.
# Usage: t_instruments.sh FINFEED_BIN SRCDIR
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$2/tests/daemon_test.sh"

port=$(free_port)
cd "$tmp"
now=$(date -u '+%a, %d %b %Y %H:%M:%S GMT')
# the wire has the story first; the company's own feed carries it again
cat >wire.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>
<item><title>贵州茅台一季度营收增长18%</title><link>https://wire.example/maotai-q1</link>
<guid>wire-1</guid><pubDate>$now</pubDate>
<description>&lt;p&gt;贵州茅台发布一季度报告，营业收入同比增长18%。&lt;/p&gt;</description></item>
<item><title>Oil slips as inventories rise</title><link>https://wire.example/oil</link>
<guid>wire-2</guid><pubDate>$now</pubDate>
<description>&lt;p&gt;Crude fell for a third day.&lt;/p&gt;</description></item>
<item><title>Cloud unit to list on its own</title><link>https://wire.example/cloud</link>
<guid>wire-3</guid><pubDate>$now</pubDate>
<description>&lt;p&gt;Alibaba Group (NYSE: BABA) said its cloud unit would list.&lt;/p&gt;</description></item>
</channel></rss>
EOF
cat >maotai.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Moutai IR</title><link>https://ir.example/</link>
<item><title>一季度经营数据公告</title><link>https://wire.example/maotai-q1?utm_source=ir</link>
<guid>ir-1</guid><pubDate>$now</pubDate>
<description>&lt;p&gt;公司一季度营业收入同比增长18%。&lt;/p&gt;</description></item>
<item><title>Annual shareholders meeting notice</title><link>https://ir.example/agm</link>
<guid>ir-2</guid><pubDate>$now</pubDate>
<description>&lt;p&gt;The annual meeting will be held in June.&lt;/p&gt;</description></item>
</channel></rss>
EOF
# the symbol dictionary: Alibaba's two listings (the wire's 贵州茅台 has no
# code and no dictionary line: its article gets its ticker from the duplicate)
printf '# issuers\nNYSE:BABA,HKEX:9988\tAlibaba Group\t阿里巴巴\n' >dict.tsv
conf() { # EXTRA_WATCHLIST_LINES
    cat <<EOF
[daemon]
database = db.sqlite
control_socket = ctl.sock
listen = 127.0.0.1:$port
allow_file_urls = yes

[tickers]
file = dict.tsv

[feed "wire"]
url = file://$tmp/wire.xml

[feed "maotai"]
url = file://$tmp/maotai.xml
tickers = no
tickers_add = sse:600519

[watchlist "baijiu"]
tickers = SSE:600519
none_of = keywords: annual meeting

[watchlist "wire-desk"]
feeds = wire
all_of = tickers: SSE:600519

[watchlist "alibaba"]
tickers = HKEX:9988
$1
EOF
}
conf "" >finfeed.conf

# ---- offline: parse, ingest, export ----
"$bin" parse --articles -c finfeed.conf --feed maotai maotai.xml >out.json
/usr/bin/python3 - out.json <<'PY' || fail "parse --articles: $(cat out.json)"
import json, sys
a = json.load(open(sys.argv[1]))
assert [x.get("tickers") for x in a] == [["SSE:600519"], ["SSE:600519"]], a
PY
"$bin" parse --articles -c finfeed.conf --feed wire wire.xml >out.json
/usr/bin/python3 - out.json <<'PY' || fail "parse --articles wire: $(cat out.json)"
import json, sys
a = json.load(open(sys.argv[1]))
assert [x.get("tickers") for x in a] == [None, None, ["NYSE:BABA"]], a
PY
ok "parse --articles: tickers_add on every article of a feed with tickers = no; elsewhere what the text names"

"$bin" ingest -c finfeed.conf --feed wire wire.xml --feed maotai maotai.xml >out 2>&1 ||
    fail "ingest: $(cat out)"
grep -q "wire.xml: new 3, updated 0, duplicates 0, unchanged 0" out &&
    grep -q "maotai.xml: new 1, updated 0, duplicates 1, unchanged 0" out || fail "ingest: $(cat out)"
"$bin" export -c finfeed.conf --format json --ticker sse:600519 >out.json
/usr/bin/python3 - out.json <<'PY' || fail "export --ticker: $(cat out.json)"
import json, sys
d = json.load(open(sys.argv[1]))
items = d["items"]
# the wire's story carries the ticker its duplicate brought
got = sorted((i["title"], tuple(i["_finfeed"]["tickers"])) for i in items)
assert got == [("Annual shareholders meeting notice", ("SSE:600519",)),
               ("贵州茅台一季度营收增长18%", ("SSE:600519",))], got
assert d["feed_url"].endswith("/tickers/SSE:600519.json"), d["feed_url"]
PY
ok "a duplicate's tickers are merged into the first article; export --ticker"

"$bin" export -c finfeed.conf --format atom --watchlist baijiu >out.atom
[ "$(grep -c '<entry>' out.atom)" = 1 ] && grep -q '贵州茅台一季度营收增长18%' out.atom ||
    fail "export --watchlist baijiu: $(cat out.atom)"
grep -q '<category scheme="http://127.0.0.1:8470/tickers" term="SSE:600519"/>' out.atom ||
    fail "no ticker category: $(cat out.atom)"
"$bin" export -c finfeed.conf --format rss --watchlist wire-desk >out.rss
[ "$(grep -c '<item>' out.rss)" = 1 ] || fail "export --watchlist wire-desk: $(cat out.rss)"
"$bin" export -c finfeed.conf --format json --ticker HKEX:9988 >out.json
grep -q '"items":\[\]' out.json || fail "export of a ticker nobody mentions: $(cat out.json)"
"$bin" export -c finfeed.conf --format json --watchlist alibaba >out.json
grep -q '"title":"Cloud unit to list on its own"' out.json ||
    fail "export --watchlist alibaba (HKEX:9988, the issuer of NYSE:BABA): $(cat out.json)"
ok "export --watchlist: none_of and all_of narrow it; a listing stands for its issuer's"

rc=0
"$bin" export -c finfeed.conf --format atom --ticker 600519 >out 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "finfeed export: --ticker: '600519': not EXCHANGE:SYMBOL (no colon)" out ||
    fail "a bad --ticker: rc=$rc $(cat out)"
rc=0
"$bin" export -c finfeed.conf --format atom --watchlist nope >out 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q 'finfeed.conf: no watchlist "nope"' out ||
    fail "an unknown --watchlist: rc=$rc $(cat out)"
ok "export: a bad ticker or an unknown watchlist is a usage error that says why"

"$bin" export -c finfeed.conf --format markdown --out posts --ticker SSE:600519 >out 2>&1 ||
    fail "export markdown: $(cat out)"
grep -l '^tickers: $' posts/*.md >/dev/null || fail "no tickers: in the front matter"
grep -A1 '^tickers: $' posts/*.md | grep -q ' - SSE:600519$' || fail "the tickers list"
"$bin" export -c finfeed.conf --format markdown --out posts2 --query Oil >out 2>&1
grep -q tickers posts2/*.md && fail "a post without tickers lists them"
ok "Markdown posts: a tickers: list only when there are any"

# ---- the daemon ----
get() { # PATH [HEADER]: status, ETag, Content-Encoding, then the body
    /usr/bin/python3 - "http://127.0.0.1:$port$1" "${2:-}" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1])
if sys.argv[2]:
    k, v = sys.argv[2].split(": ", 1)
    req.add_header(k, v)
try:
    r = urllib.request.urlopen(req, timeout=10)
    status, h, body = r.status, r.headers, r.read()
except urllib.error.HTTPError as e:
    status, h, body = e.code, e.headers, e.read()
try:  # `get … | head -1` reads the status line only
    print(status, h.get("ETag", "-"), h.get("Content-Encoding", "-"), flush=True)
    sys.stdout.write(body.decode("utf-8", "replace"))
    sys.stdout.flush()
except BrokenPipeError:
    sys.stdout = None
PY
}
"$bin" daemon -c "$tmp/finfeed.conf" >"$tmp/log" 2>&1 &
pid=$!
i=0
until [ "$(get /healthz 2>/dev/null | head -1 | cut -d' ' -f1)" = 200 ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "daemon did not answer within 10 s"
    kill -0 "$pid" 2>/dev/null || fail "daemon died at start"
    sleep 0.1
done

get /tickers/SSE:600519.atom >out
read -r status etag enc <out
[ "$status" = 200 ] && [ "$(grep -c '<entry>' out)" = 2 ] || fail "/tickers/SSE:600519.atom: $(cat out)"
[ "$(get /tickers/SSE:600519.atom "If-None-Match: $etag" | head -1 | cut -d' ' -f1)" = 304 ] ||
    fail "no 304 on the ticker route"
[ "$(get /tickers/sse%3A600519.atom "Accept-Encoding: gzip" | head -1 | cut -d' ' -f3)" = gzip ] ||
    fail "no gzip on the ticker route"
get "/feed.json?ticker=SSE:600519&ticker=nyse:baba" >out
[ "$(grep -c '"tickers":\["SSE:600519"\]' out)" = 2 ] && grep -q '"tickers":\["NYSE:BABA"\]' out ||
    fail "?ticker=: $(cat out)"
ok "/tickers/ and ?ticker= with ETag, 304 and gzip"

get /watchlists/baijiu.rss >out
read -r status etag enc <out
[ "$status" = 200 ] && [ "$(grep -c '<item>' out)" = 1 ] || fail "/watchlists/baijiu.rss: $(cat out)"
[ "$(get /watchlists/baijiu.rss "If-None-Match: $etag" | head -1 | cut -d' ' -f1)" = 304 ] ||
    fail "no 304 on the watchlist route"
get /watchlists/nope.atom >out
[ "$(head -1 out | cut -d' ' -f1)" = 404 ] && grep -q 'not found: no watchlist of that name' out ||
    fail "an unknown watchlist: $(cat out)"
get /tickers/600519.atom >out
[ "$(head -1 out | cut -d' ' -f1)" = 400 ] && grep -q "'600519' is no ticker" out ||
    fail "a bad ticker: $(cat out)"
ok "/watchlists/ with 304; an unknown watchlist 404, a bad ticker 400"

get /opml >out
grep -q 'xmlUrl="http://127.0.0.1:8470/watchlists/wire-desk.atom"' out || fail "/opml: $(cat out)"
i=0
until get / >out && grep -q 'href="tickers/SSE%3A600519.atom">SSE:600519</a> (2)' out; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "the status page shows no top ticker: $(cat out)"
    sleep 0.1
done
grep -q 'href="tickers/NYSE%3ABABA.atom">NYSE:BABA</a> (1)' out || fail "status page: $(cat out)"
grep -q 'href="watchlists/baijiu.atom">baijiu</a>' out || fail "status page: no watchlist"
get /watchlists/alibaba.atom >out
[ "$(grep -c '<entry>' out)" = 1 ] || fail "/watchlists/alibaba.atom: $(cat out)"
ok "the status page lists the watchlists and the most-mentioned tickers; /opml the watchlists"

# a reload adds a watchlist; one naming an unconfigured feed is refused
conf '[watchlist "oil"]
keywords = crude' >finfeed.conf
"$bin" reload -s ctl.sock >out 2>&1 || fail "reload: $(cat out)"
get /watchlists/oil.json >out
[ "$(head -1 out | cut -d' ' -f1)" = 200 ] && grep -q 'Oil slips' out || fail "/watchlists/oil: $(cat out)"
conf '[watchlist "oil"]
feeds = reuters' >finfeed.conf
rc=0
"$bin" reload -s ctl.sock >out 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'finfeed.conf:29: watchlist "oil": feeds: no feed "reuters" is configured' out ||
    fail "a watchlist naming no feed reloads: rc=$rc $(cat out)"
[ "$(get /watchlists/oil.json | head -1 | cut -d' ' -f1)" = 200 ] || fail "a refused reload dropped a watchlist"
ok "a reload applies watchlists; a bad one is refused with its file and line"
