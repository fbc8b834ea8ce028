#!/bin/sh
# OPML round trip: `opml export` of examples/finance.conf is valid OPML 2.0 with
# every feed; `opml import` of it gives [feed] sections the config reader takes,
# and so does the import of the hostile OPML files in tests/fixtures/opml.
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL $*"; exit 1; }
. "$src/tests/need.sh"
[ -x /usr/bin/python3 ] || need t_opml "/usr/bin/python3 (package python3)"

"$bin" opml export -c "$src/examples/finance.conf" >"$tmp/out.opml" || fail "export"
n_conf=$(grep -c '^\[feed ' "$src/examples/finance.conf")
n_opml=$(/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E
t = E.parse(sys.argv[1]); assert t.getroot().get("version") == "2.0"
print(len([o for o in t.iter("outline") if o.get("xmlUrl")]))' "$tmp/out.opml") || fail "not XML"
[ "$n_opml" = "$n_conf" ] || fail "export has $n_opml outlines, config $n_conf feeds"
printf '[daemon]\ndatabase = %s/db\n\n' "$tmp" >"$tmp/new.conf"
"$bin" opml import "$tmp/out.opml" >>"$tmp/new.conf" 2>"$tmp/err" || fail "import: $(cat "$tmp/err")"
n_new=$(grep -c '^\[feed ' "$tmp/new.conf")
[ "$n_new" = "$n_conf" ] || fail "import gave $n_new feeds, want $n_conf"
# the imported configuration loads, and its feeds are there with their categories
"$bin" parse -c "$tmp/new.conf" --feed wallstreetcn --articles "$src/examples/feeds/wire.xml" \
    >"$tmp/a.json" || fail "imported config does not load"
grep -q '华尔街见闻' "$tmp/a.json" || fail "categories lost"
# importing into a configuration that has them already renames, never clashes
"$bin" opml import -c "$src/examples/finance.conf" "$tmp/out.opml" >"$tmp/again" 2>/dev/null
grep -q '^\[feed "wallstreetcn-2"\]' "$tmp/again" || fail "name clash not avoided"
# not OPML: a clear error
if "$bin" opml import "$src/examples/feeds/wire.xml" >/dev/null 2>"$tmp/err"; then
    fail "an RSS file imported as OPML"
fi
grep -q 'not an OPML document' "$tmp/err" || fail "unclear error: $(cat "$tmp/err")"
# what fuzz/fuzz_opml.c found: a URL with a space or a line break, ill-formed
# UTF-8, control characters in a folder or category. Whatever the OPML holds,
# the import appended to a configuration loads (the bad URLs are skipped).
for f in "$src"/tests/fixtures/opml/*.opml; do
    printf '[daemon]\ndatabase = %s/db\n\n' "$tmp" >"$tmp/fix.conf"
    "$bin" opml import "$f" >>"$tmp/fix.conf" 2>/dev/null || fail "import $f"
    "$bin" opml export -c "$tmp/fix.conf" >/dev/null 2>"$tmp/err" ||
        fail "import of $(basename "$f") does not load: $(cat "$tmp/err")"
    case $f in */control_chars.opml) cp "$tmp/fix.conf" "$tmp/cc.conf" ;; esac
done
grep -q '^url = http://ok.test/rss$' "$tmp/cc.conf" || fail "control_chars.opml: feed lost"
grep -q '^categories = del  folder, tab %23 not a comment, del cat$' "$tmp/cc.conf" ||
    fail "control_chars.opml: categories $(grep '^categories' "$tmp/cc.conf")"
echo "ok opml export/import round trip ($n_conf feeds)"
