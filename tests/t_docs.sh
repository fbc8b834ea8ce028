#!/bin/sh
# tests/t_docs.sh — the man pages against the code (issue 10 §3.10: docs that
# drifted from what the program does).
#   - both pages render without a groff warning;
#   - finfeed(1)'s SYNOPSIS has exactly the commands of `finfeed --help`, and
#     for each the options of its `finfeed CMD --help` usage lines;
#   - finfeed.conf(5) documents exactly the keys of the code's key tables,
#     each in the section the program takes it in;
#   - the control socket of the unit's ExecReload is the unit's
#     RuntimeDirectory, the example's and the built-in default, as documented;
#   - markdown_dir is documented as what it is: the daemon writes posts.
# Without groff it skips (77), or fails under make check (tests/need.sh).
#
# usage: sh tests/t_docs.sh BUILD/finfeed SRCDIR
set -eu
BIN=${1:?usage: t_docs.sh BIN SRCDIR}
SRC=${2:?usage: t_docs.sh BIN SRCDIR}
. "$SRC/tests/need.sh"
command -v groff >/dev/null 2>&1 || need t_docs "groff (package groff-base)"

MAN1=$SRC/docs/finfeed.1
MAN5=$SRC/docs/finfeed.conf.5
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
bad=0
fail() { # report and go on: every drift at once
    echo "t_docs: FAIL: $*"
    bad=$((bad + 1))
}
# `a` and `b`, sorted word lists: what one has and the other lacks
differ() {
    printf '%s\n' "$1" | sort -u >"$TMP/a"
    printf '%s\n' "$2" | sort -u >"$TMP/b"
    comm -3 "$TMP/a" "$TMP/b" | sed '/^[[:space:]]*$/d'
}
# the options (-x, --long) named in text on standard input, roff or plain
options() {
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' |
        grep -oE '(^|[^A-Za-z0-9-])--?[a-z][a-z-]*' | sed 's/^[^-]*//' | sort -u
}

# ---- the pages render cleanly ----------------------------------------------
for m in "$MAN1" "$MAN5"; do
    groff -man -Tutf8 -ww -z "$m" 2>"$TMP/warn" || fail "$(basename "$m"): groff failed"
    [ -s "$TMP/warn" ] && fail "$(basename "$m"): groff: $(head -3 "$TMP/warn")"
done

# ---- commands and their options -------------------------------------------
# the command table's overview: "commands:", then one "  NAME  summary" a line
cmds=$("$BIN" --help | awk '/^commands:/ { on = 1; next } on && NF == 0 { on = 0 } on { print $1 }' | sort -u)
[ -n "$cmds" ] || fail "finfeed --help lists no command"
man_cmds=$(awk 'prev == ".SY finfeed" && /^\.B [a-z]/ { gsub(/\\-/, "-", $2); print $2 } { prev = $0 }' \
    "$MAN1" | sort -u)
d=$(differ "$cmds" "$man_cmds")
[ -z "$d" ] || fail "finfeed.1 SYNOPSIS and finfeed --help differ in commands (left: --help only," \
    "right: finfeed.1 only):" "$d"
for c in $cmds; do
    # the usage lines: up to the first blank line of `finfeed CMD --help`
    "$BIN" "$c" --help | sed '/^$/q' | options >"$TMP/usage" || true
    awk -v c="$c" '
        $0 == ".SY finfeed" { syn = 1; first = 1; keep = 0; next }
        $0 == ".YS" { syn = 0; next }
        syn && first && /^\.B / { first = 0; gsub(/\\-/, "-", $2); keep = ($2 == c); next }
        syn && keep' "$MAN1" | options >"$TMP/man" || true
    d=$(differ "$(cat "$TMP/usage")" "$(cat "$TMP/man")")
    [ -z "$d" ] || fail "finfeed $c: options of --help (left) and of finfeed.1 SYNOPSIS (right)" \
        "differ:" $d
done

# ---- configuration keys ----------------------------------------------------
# documented: "section key" from the .SH [section] entries of finfeed.conf(5)
awk '
    /^\.SH \[daemon\]/ { s = "daemon"; next }
    /^\.SH \[output\]/ { s = "output"; next }
    /^\.SH \[feed/ { s = "feed"; next }
    /^\.SH \[schedule/ { s = "schedule"; next }
    /^\.SH / { s = ""; next }
    s != "" && /^\.BR [a-z_]+ "/ { print s, $2 }' "$MAN5" >"$TMP/doc_keys"
[ -s "$TMP/doc_keys" ] || fail "finfeed.conf(5) documents no key"
# in the code: the names of its key tables ({"name", V_TYPE, ...})
code_keys=$(grep -rhoE '\{"[a-z_]+", *V_[A-Z_]+' "$SRC/daemon" | sed 's/^{"\([a-z_]*\)".*/\1/' | sort -u)
[ -n "$code_keys" ] || fail "no key table found under daemon/ (the test reads {\"key\", V_TYPE, ...})"
d=$(differ "$code_keys" "$(awk '{ print $2 }' "$TMP/doc_keys")")
[ -z "$d" ] || fail "keys of the code (left) and of finfeed.conf(5) (right) differ:" $d
# each documented key is taken in its section: an odd value may be refused,
# but never as an unknown key
while read -r sec key; do
    case $sec in
    feed) printf '[feed "t"]\n%s = x\nurl = http://a.example/\n' "$key" ;;
    schedule) printf '[schedule "t"]\n%s = x\n' "$key" ;;
    *) printf '[%s]\n%s = x\n' "$sec" "$key" ;;
    esac >"$TMP/k.conf"
    "$BIN" opml export -c "$TMP/k.conf" >/dev/null 2>"$TMP/err" || true
    grep -q "unknown key\|unknown section" "$TMP/err" && fail "finfeed.conf(5) [$sec] $key: $(cat "$TMP/err")"
done <"$TMP/doc_keys"

# ---- the control socket: unit, example, default, pages ---------------------
UNIT=$SRC/systemd/finfeed.service
reload_sock=$(sed -n 's/^ExecReload=.* -s \([^ ]*\).*/\1/p' "$UNIT")
rundir=$(sed -n 's/^RuntimeDirectory=//p' "$UNIT")
example=$(sed -n 's/^control_socket *= *//p' "$SRC/examples/finance.conf")
: >"$TMP/empty.conf"
default=$("$BIN" status -c "$TMP/empty.conf" 2>&1 | sed -n 's/.*no daemon answers on \([^ ]*\) .*/\1/p')
[ -n "$reload_sock" ] || fail "the unit's ExecReload names no control socket (-s PATH)"
case $reload_sock in
"/run/$rundir/"*) ;;
*) fail "ExecReload's socket $reload_sock is not in RuntimeDirectory=$rundir" ;;
esac
[ "$reload_sock" = "$default" ] || fail "ExecReload's socket $reload_sock, the default $default"
[ "$reload_sock" = "$example" ] || fail "ExecReload's socket $reload_sock, examples/finance.conf $example"
for m in "$MAN1" "$MAN5"; do
    grep -q "^\.I $default\$" "$m" || fail "$(basename "$m") does not name the socket $default"
done

# ---- what the daemon does with markdown_dir ------------------------------------
awk '/^\.BR markdown_dir /, /^\.TP/' "$MAN5" >"$TMP/md"
grep -qi 'not write' "$TMP/md" && fail "finfeed.conf(5) says the daemon does not write posts; it does"

[ "$bad" -eq 0 ] || exit 1
echo "t_docs: ok: man pages render; $(echo "$cmds" | wc -w) commands and their options," \
    "$(wc -l <"$TMP/doc_keys") keys and the control socket agree with the code"
