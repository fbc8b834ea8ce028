#!/bin/sh
# tests/t_crash.sh — crash safety of the store (issue 4): `finfeed ingest` of
# one large feed is killed with SIGKILL at random points, again and again, in
# the same database; after every kill the database must open, pass
# PRAGMA integrity_check and hold whole documents only (one document is one
# savepoint of a group's transaction, store_group_begin), and every file the
# killed run printed as stored must be there. Then one ingest runs to
# completion.
#
# usage: sh tests/t_crash.sh BUILD/finfeed SRCDIR
# Without the sqlite3 command-line shell or python3 it skips (exit 77), or
# fails under make check (tests/need.sh).
set -eu

BIN=${1:?usage: t_crash.sh BIN SRCDIR}
SRC=${2:?usage: t_crash.sh BIN SRCDIR}
ROUNDS=${CRASH_ROUNDS:-12}
PY=/usr/bin/python3
. "$SRC/tests/need.sh"

[ -x "$PY" ] || need t_crash "$PY (package python3)"
command -v sqlite3 >/dev/null 2>&1 || need t_crash "the sqlite3 command-line shell (package sqlite3)"

TMP=$(mktemp -d /tmp/finfeed-crash-XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
    echo "t_crash: FAIL: $*" >&2
    exit 1
}

# One large feed: the bench generator's RSS (5 MB, 3,000 items), else a
# plainer one of our own.
GEN="$SRC/../shared/bench/gen_bench_feeds.py"
FEED="$TMP/bench-rss.xml"
if [ -f "$GEN" ]; then
    "$PY" "$GEN" --only rss --size-mb 5 --items 3000 --out "$TMP" >/dev/null 2>&1 ||
        fail "gen_bench_feeds.py failed"
else
    "$PY" - "$FEED" <<'EOF' || fail "cannot generate the feed"
import sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            '<title>crash</title><link>https://crash.example/</link><description>d</description>\n')
    for n in range(3000):
        body = "".join("<p>第%d条新闻第%d段：沪指收涨%d.%02d%%，成交额%d亿元。Story %d, paragraph %d.</p>"
                       % (n, k, n % 7, (n * k) % 100, 1000 + n * k, n, k) for k in range(12))
        f.write("<item><title>Story number %d 第%d号</title><link>https://crash.example/s/%d</link>"
                "<guid>crash-%d</guid><pubDate>Mon, 04 Apr 2022 %02d:%02d:00 GMT</pubDate>"
                "<description><![CDATA[%s]]></description></item>\n"
                % (n, n, n, n, (n // 60) % 24, n % 60, body))
    f.write("</channel></rss>\n")
EOF
fi

# Every round ingests the document as DOCS other feeds in one run (one
# group of documents), so that every round writes (a source and a guid key
# for each item) until it is killed.
DOCS=3
CONF="$TMP/finfeed.conf"
{
    printf '[daemon]\ndatabase = %s/crash.db\n' "$TMP"
    printf '[feed "scratch"]\nurl = https://news.example-finance.com/rss.xml\n'
    i=0
    while [ $i -le "$ROUNDS" ]; do
        d=1
        while [ $d -le $DOCS ]; do
            printf '[feed "round-%d-%d"]\nurl = https://news.example-finance.com/rss.xml\n' $i $d
            d=$((d + 1))
        done
        i=$((i + 1))
    done
} >"$CONF"

now_ms() {
    date +%s%3N
}

sql() {
    sqlite3 -batch "$TMP/crash.db" "$1"
}

# How long a whole ingest takes, and what one whole document stores: into a
# scratch database, then that database is thrown away.
t0=$(now_ms)
"$BIN" ingest -c "$CONF" --feed scratch "$FEED" >/dev/null || fail "ingest failed"
t1=$(now_ms)
FULL_MS=$((t1 - t0))
ARTICLES=$(sql 'SELECT count(*) FROM articles')
[ "$ARTICLES" -gt 0 ] || fail "the document stored no articles"
rm -f "$TMP/crash.db" "$TMP/crash.db-wal" "$TMP/crash.db-shm"
echo "t_crash: one document: $ARTICLES articles in ${FULL_MS} ms; $ROUNDS kills"
# the schema, so that the counts below can be read before the first commit
"$BIN" export -c "$CONF" --format json >/dev/null || fail "cannot create the database"

random_below() {
    r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    echo $((r % $1))
}

check() {
    what=$1
    ic=$(sql 'PRAGMA integrity_check') || fail "$what: sqlite3 cannot open the database"
    [ "$ic" = ok ] || fail "$what: integrity_check: $ic"
    a=$(sql 'SELECT count(*) FROM articles')
    s=$(sql 'SELECT count(*) FROM sources')
    f=$(sql 'SELECT count(*) FROM articles_fts')
    # whole documents: no article, or all of them (with the full-text rows);
    # every later document adds one source to each
    [ "$a" -eq 0 ] || [ "$a" -eq "$ARTICLES" ] || fail "$what: $a articles (not 0 or $ARTICLES)"
    [ "$f" -eq "$a" ] || fail "$what: $f full-text rows for $a articles"
    [ $((s % ARTICLES)) -eq 0 ] || fail "$what: $s sources, not a multiple of $ARTICLES"
    "$BIN" export -c "$CONF" --format json --limit 1 >/dev/null ||
        fail "$what: finfeed cannot read the database"
}

# Kill between 10 ms and most of a whole round (a document after the first
# commit is faster: every item is then a duplicate).
span=$((FULL_MS * DOCS * 3 / 4 > 20 ? FULL_MS * DOCS * 3 / 4 : 20))
lost=0
kept=0
i=1
while [ $i -le "$ROUNDS" ]; do
    delay=$((10 + $(random_below $span)))
    before=$(sql 'SELECT count(*) FROM sources')
    "$BIN" ingest -c "$CONF" --feed "round-$i-1" "$FEED" --feed "round-$i-2" "$FEED" \
        --feed "round-$i-3" "$FEED" >"$TMP/out" 2>/dev/null &
    pid=$!
    sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
    kill -KILL $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    check "round $i (killed after ${delay} ms)"
    # a file printed is a file stored: its document's sources are there
    printed=$(wc -l <"$TMP/out")
    after=$(sql 'SELECT count(*) FROM sources')
    [ $(((after - before) / ARTICLES)) -ge "$printed" ] ||
        fail "round $i: $printed documents printed, $(((after - before) / ARTICLES)) stored"
    if [ "$after" -eq "$before" ]; then
        lost=$((lost + 1))
    else
        kept=$((kept + 1))
    fi
    i=$((i + 1))
done

"$BIN" ingest -c "$CONF" --feed "round-0-1" "$FEED" --feed "round-0-2" "$FEED" >"$TMP/out" ||
    fail "the final ingest failed"
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "the final ingest printed $(wc -l <"$TMP/out") lines, not 2"
check "after the final ingest"
a=$(sql 'SELECT count(*) FROM articles')
[ "$a" -eq "$ARTICLES" ] || fail "after the final ingest: $a articles, expected $ARTICLES"
echo "t_crash: ok: $lost kills before the commit (documents rolled back), $kept after it;" \
    "the database whole every time"
