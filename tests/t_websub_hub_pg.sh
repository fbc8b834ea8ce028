#!/bin/sh
# The built-in WebSub hub on two nodes sharing one PostgreSQL (SPEC §10,
# §11): a reader subscribed through one node; each new article, stored by
# whichever node, pushed to it exactly once (tests/websub_hub_e2e.py --pg,
# in a throw-away cluster from tests/pg_run.sh).
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
. "$src/tests/need.sh"
command -v psql >/dev/null 2>&1 || need t_websub_hub_pg "psql (package postgresql-client)"
exec sh "$src/tests/pg_run.sh" t_websub_hub_pg /usr/bin/python3 "$src/tests/websub_hub_e2e.py" \
    "$bin" "$src" --pg
