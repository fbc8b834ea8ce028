#!/bin/sh
# tests/pg_run.sh — run a test program against a throw-away PostgreSQL:
# pg_virtualenv (Debian postgresql-common) creates a private cluster in a
# temporary directory (-t, also as root), sets the PG* variables for the
# command and drops the cluster afterwards; FINFEED_TEST_PG=1 makes the
# program use it (tests/test_store.c). Without PostgreSQL the test skips
# (77), and under make check fails (tests/need.sh); a cluster that does not
# start is a failure either way.
#
# usage: sh tests/pg_run.sh NAME PROGRAM [ARG…]
. "$(dirname "$0")/need.sh"
name=$1
shift
command -v pg_virtualenv >/dev/null 2>&1 ||
    need "$name" "pg_virtualenv (package postgresql-common)"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
    need "$name" "a PostgreSQL server (package postgresql)"
ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1 ||
    need "$name" "pg_trgm (package postgresql-contrib)"
# Clusters made at once would take the same port: one at a time, across
# builds too (make check's plain and ASan runs).
exec 9>/tmp/finfeed-pg-test.lock
flock -w 600 9 || { echo "$name: FAIL: another test holds /tmp/finfeed-pg-test.lock" >&2; exit 1; }
# fsync off: a test cluster, thrown away; the sanitizers' variables are for
# the program, not for PostgreSQL's tools (ASAN_OPTIONS is harmless there)
exec pg_virtualenv -t -o fsync=off -o synchronous_commit=off -o full_page_writes=off \
    env FINFEED_TEST_PG=1 "$@"
