#!/bin/sh
# Issue 13 §1-2 end to end (tests/freshness_e2e.py): why each next fetch is
# when it is (auto, a fixed interval, a schedule closed on a holiday, the
# backoff), the lag of articles first seen on a feed's later fetches in
# status, the status page and /metrics, kept across a restart — on SQLite,
# then on a throw-away PostgreSQL (tests/pg_run.sh), the same script.
# Usage: t_freshness.sh FINFEED_BIN SRCDIR
set -eu
if [ "${T_FRESHNESS_PG:-0}" = 1 ]; then # under pg_virtualenv
    bin=$1 src=$2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    psql -X -q -d postgres -c "CREATE DATABASE freshness TEMPLATE template0 ENCODING 'UTF8'
        LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'" >/dev/null || { echo "FAIL createdb"; exit 1; }
    echo "---- PostgreSQL"
    /usr/bin/python3 "$src/tests/freshness_e2e.py" "$bin" "$tmp" "postgresql:///freshness"
    exit
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
. "$src/tests/need.sh"
[ -x /usr/bin/python3 ] || need t_freshness "/usr/bin/python3 (package python3)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "---- SQLite"
/usr/bin/python3 "$src/tests/freshness_e2e.py" "$bin" "$tmp"
command -v psql >/dev/null 2>&1 || need t_freshness "psql (package postgresql-client)"
T_FRESHNESS_PG=1 sh "$src/tests/pg_run.sh" t_freshness sh "$src/tests/t_freshness.sh" "$bin" "$src"
