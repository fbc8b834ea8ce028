#!/bin/sh
# tests/t_systemd.sh — finfeed.service under real systemd (issue 10 §3.12,
# SPEC §8): systemd boots as PID 1 in private PID, mount, network and cgroup
# namespaces over a minimal Debian root (mmdebstrap --variant=minbase from the
# host's configured Debian mirror, cached), finfeed is installed into it with
# `cmake --install`, and the test checks what an operator does:
#   - the service starts (Type=notify: active only after READY=1) as a
#     dynamic user, with its STATUS line in `systemctl show -p StatusText`;
#   - `finfeed refresh` through the control socket fetches a loopback feed
#     served inside the container, and markdown_dir gets the posts;
#   - `systemctl reload` with a good configuration adds a feed; with a bad
#     one it fails, the reason is in the journal, and the old one runs on;
#   - `systemctl stop` is clean (SIGTERM, exit 0), and after a start the
#     articles are still there (StateDirectory).
# The root is cached in $FINFEED_TEST_CACHE (default
# /var/cache/finfeed-test), keyed on the package list and the mirror: a cold
# run spends ~20 s on mmdebstrap, a cached one none. Each run writes into an
# overlay of its own, so the cache stays pristine.
#
# systemd starts in the root after pivot_root, not chroot: the kernel refuses
# a user namespace to a chrooted process, so under a bare `chroot ROOT
# systemd` the unit's PrivateUsers=yes fails ("Failed to set up user
# namespacing: Operation not permitted", 217/USER). Should it still fail so
# (a kernel without user namespaces), that one setting is dropped in a
# drop-in of the test's own, and the start is retried.
#
# Needs root, mmdebstrap, unshare, nsenter; without them it skips (77), or
# fails under make check (tests/need.sh).
#
# usage: sh tests/t_systemd.sh BUILD/finfeed SRCDIR [BUILDDIR]
set -eu

BIN=${1:?usage: t_systemd.sh BIN SRCDIR [BUILDDIR]}
SRC=${2:?usage: t_systemd.sh BIN SRCDIR [BUILDDIR]}
BUILD=${3:-$(dirname "$BIN")}
CACHE=${FINFEED_TEST_CACHE:-/var/cache/finfeed-test}
PY=/usr/bin/python3
. "$SRC/tests/need.sh"

[ "$(id -u)" = 0 ] || need t_systemd "root (namespaces, mounts, pivot_root)"
command -v mmdebstrap >/dev/null 2>&1 || need t_systemd "mmdebstrap (package mmdebstrap)"
command -v unshare >/dev/null 2>&1 || need t_systemd "unshare (package util-linux)"
command -v nsenter >/dev/null 2>&1 || need t_systemd "nsenter (package util-linux)"
command -v cmake >/dev/null 2>&1 || need t_systemd "cmake (package cmake)"
[ -x "$PY" ] || need t_systemd "$PY (package python3)"
[ -f "$BUILD/cmake_install.cmake" ] || need t_systemd "the build directory $BUILD"

T0=$(date +%s)
say() {
    echo "t_systemd: [$(($(date +%s) - T0))s] $*"
}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/finfeed-systemd-XXXXXX")
UNSHARE_PID=
INIT=
SERVER_PID=
CGROUP=

cleanup() {
    set +e
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
    if [ -n "$INIT" ] && kill -0 "$INIT" 2>/dev/null; then
        kill -KILL "$INIT" 2>/dev/null # PID 1 of the namespace: all of it goes
    fi
    [ -n "$UNSHARE_PID" ] && wait "$UNSHARE_PID" 2>/dev/null
    # the cgroups systemd made under ours, deepest first
    [ -n "$CGROUP" ] && [ -d "$CGROUP" ] && find "$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "t_systemd: FAIL: $*" >&2
    set +e
    if [ -n "$INIT" ] && kill -0 "$INIT" 2>/dev/null; then
        echo "---- systemctl status finfeed" >&2
        in_root systemctl status --no-pager -l finfeed >&2 2>&1
        echo "---- journal of finfeed" >&2
        in_root journalctl --no-pager -u finfeed 2>&1 | tail -40 >&2
    fi
    echo "---- console of systemd (last lines)" >&2
    tail -n 30 "$TMP/console" "$TMP/boot.log" >&2
    exit 1
}

# ---- the minimal Debian root, cached ---------------------------------------

# The host's configured Debian sources for this release (sources.list, .list
# and deb822 .sources files), as one-line entries of the main component.
debian_sources() {
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '{
            sub(/\[[^]]*\]/, ""); n = split($0, f, " ")   # [options] dropped
            if (f[1] == "deb" && n >= 4 && (f[3] == s || index(f[3], s "-") == 1))
                print "deb " f[2] " " f[3] " main" }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '
        function flush(  u, x, nu, ns, us, ss) {
            if (types ~ /(^| )deb( |$)/ && enabled !~ /^no$/ && comps ~ /(^| )main( |$)/) {
                nu = split(uris, us, " "); ns = split(suites, ss, " ")
                for (u = 1; u <= nu; u++) for (x = 1; x <= ns; x++)
                    if (ss[x] == s || index(ss[x], s "-") == 1) print "deb " us[u] " " ss[x] " main"
            }
            types = uris = suites = comps = enabled = ""
        }
        /^#/ { next }
        /^[ \t]*$/ { flush(); next }
        { key = tolower($1); sub(/^[^:]*:[ \t]*/, "") }
        key == "types:" { types = $0 } key == "uris:" { uris = $0 }
        key == "suites:" { suites = $0 } key == "components:" { comps = $0 }
        key == "enabled:" { enabled = tolower($0) }
        END { flush() }' "$f"
    done
}

SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
SOURCES=$(debian_sources | sort -u)
[ -n "$SOURCES" ] || need t_systemd "a Debian $SUITE source in /etc/apt/sources.list*"
# systemd, and the libraries finfeed links at run time
PACKAGES="systemd,libcurl4,libuv1,libxml2,libsqlite3-0,libpq5,libinih1,libjansson4,libmicrohttpd12,libsystemd0,zlib1g"
# the units a minimal root would start that touch the host's kernel or
# terminals; masked (the root's /proc/sys and /sys are read-only besides)
MASK="getty.target getty@.service serial-getty@.service console-getty.service
container-getty@.service systemd-firstboot.service systemd-sysctl.service
systemd-modules-load.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount
sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount
systemd-remount-fs.service systemd-journald-audit.socket systemd-random-seed.service
systemd-hwdb-update.service systemd-udevd.service systemd-udev-trigger.service"
KEY=$(printf '%s\n' "minbase $SUITE" "$PACKAGES" "$SOURCES" "$MASK" | sha256sum | cut -c1-16)
LOWER="$CACHE/root-$KEY"

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 600 9 || fail "another run holds $CACHE/lock"
if [ ! -x "$LOWER/usr/lib/systemd/systemd" ]; then
    say "building the minimal $SUITE root (mmdebstrap, from: $(echo "$SOURCES" | awk '{print $2}' | sort -u | tr '\n' ' '))"
    rm -rf "$LOWER.new"
    # shellcheck disable=SC2086
    ( IFS='
'; set -- $SOURCES; mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
        "$SUITE" "$LOWER.new" "$@" ) >"$TMP/mmdebstrap.log" 2>&1 || {
        tail -20 "$TMP/mmdebstrap.log" >&2
        rm -rf "$LOWER.new"
        need t_systemd "a minimal Debian root (mmdebstrap failed, above)"
    }
    for u in $MASK; do
        ln -sf /dev/null "$LOWER.new/etc/systemd/system/$u"
    done
    echo finfeed-test >"$LOWER.new/etc/hostname"
    mv "$LOWER.new" "$LOWER"
    say "cached in $LOWER"
else
    say "minimal root cached in $LOWER"
fi
exec 9>&-

# ---- this run's files: finfeed installed, a configuration, a feed ---------

UPPER="$TMP/upper"
mkdir -p "$UPPER" "$TMP/work" "$TMP/root" "$TMP/www"
DESTDIR="$UPPER" cmake --install "$BUILD" --prefix /usr >"$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log" >&2; fail "cmake --install"; }
UNIT="$UPPER/usr/lib/systemd/system/finfeed.service"
[ -f "$UNIT" ] || fail "cmake --install put no unit in /usr/lib/systemd/system"
grep -qx 'ExecStart=/usr/bin/finfeed daemon -c /etc/finfeed/finfeed.conf' "$UNIT" ||
    fail "installed unit: $(grep ExecStart= "$UNIT")"
grep -qx 'ExecReload=/usr/bin/finfeed reload -s /run/finfeed/control.sock' "$UNIT" ||
    fail "installed unit: $(grep ExecReload= "$UNIT")"
grep -qx 'RuntimeDirectory=finfeed' "$UNIT" || fail "the reload socket is not in the RuntimeDirectory"
[ -f "$UPPER/etc/finfeed/finfeed.conf.example" ] ||
    fail "cmake --install --prefix /usr put no /etc/finfeed/finfeed.conf.example"
# another prefix: both ExecStart and ExecReload name its binary
DESTDIR="$TMP/opt" cmake --install "$BUILD" --prefix /opt/ff >/dev/null 2>&1 || fail "cmake --install --prefix /opt/ff"
n=$(grep -c '^Exec[A-Za-z]*=/opt/ff/bin/finfeed ' "$TMP/opt/opt/ff/lib/systemd/system/finfeed.service")
[ "$n" = 2 ] || fail "--prefix /opt/ff: $(grep '^Exec' "$TMP/opt/opt/ff/lib/systemd/system/finfeed.service")"
rm -rf "$TMP/opt"

# The loopback publisher's feed (served inside the container's network) with
# N stories.
publish() {
    "$PY" - "$TMP/www/feed.xml" "$1" <<'EOF'
import sys
items = "".join(
    "<item><title>Story %d</title><link>http://pub.example/%d</link><guid>g-%d</guid>"
    "<pubDate>Mon, 04 Apr 2022 0%d:00:00 GMT</pubDate>"
    "<description>&lt;p&gt;Markets moved %d points on story %d.&lt;/p&gt;</description></item>"
    % (n, n, n, n, n * 17, n) for n in range(1, int(sys.argv[2]) + 1))
open(sys.argv[1], "w").write('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                             "<title>Loopback</title><link>http://pub.example/</link>"
                             "<description>d</description>%s</channel></rss>" % items)
EOF
}
publish 3
touch -d 2022-04-04 "$TMP/www/feed.xml" # Last-Modified: older than the update below
mkdir -p "$UPPER/etc/finfeed"
cat >"$UPPER/etc/finfeed/more.xml" <<'EOF'
<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>More</title>
<link>http://more.example/</link><description>d</description>
<item><title>Copper climbs</title><link>http://more.example/1</link><guid>m-1</guid>
<pubDate>Tue, 05 Apr 2022 01:00:00 GMT</pubDate><description>Copper rose.</description></item>
</channel></rss>
EOF
CONF_GOOD='[daemon]
database = /var/lib/finfeed/finfeed.db
control_socket = /run/finfeed/control.sock
listen = 127.0.0.1:8470
allow_file_urls = yes
interval = 1h

[output]
markdown_dir = /var/lib/finfeed/posts

[feed "loopback"]
url = http://127.0.0.1:8080/feed.xml
'
printf '%s' "$CONF_GOOD" >"$UPPER/etc/finfeed/finfeed.conf"

# ---- boot ----------------------------------------------------------------

# Runs a command inside the container (all its namespaces, its root).
in_root() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
        nsenter -t "$INIT" -m -p -n -C -r -w "$@"
}

# A cgroup of this run's own in the cgroup2 hierarchy, which becomes the root
# of the container's cgroup namespace: systemd's cgroups go under it.
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2" ] || fail "no cgroup2 hierarchy is mounted (systemd needs one)"
CGROUP="$CG2$(sed -n 's/^0:://p' /proc/self/cgroup)"
CGROUP="${CGROUP%/}/finfeed-test-$$"
mkdir "$CGROUP" || fail "cannot make the cgroup $CGROUP"

: >"$TMP/console"
say "booting systemd as PID 1"
# The setup runs in the new namespaces, then becomes systemd: the overlay
# root bind-mounted onto itself, /proc (this PID namespace's, /proc/sys
# read-only), /sys read-only with the cgroup2 hierarchy under it (rooted at
# CGROUP by the cgroup namespace), a /dev of its own whose console is a
# file; then pivot_root into it, the old root detached.
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CGROUP" \
    unshare --fork --pid --mount --net --cgroup --propagation private --kill-child=SIGKILL \
    sh -euc '
    L=$1 U=$2 W=$3 R=$4 C=$5
    mount -t overlay overlay -o "lowerdir=$L,upperdir=$U,workdir=$W" "$R"
    mount --bind "$R" "$R"
    mount -t proc proc "$R/proc"
    mount --bind "$R/proc/sys" "$R/proc/sys"
    mount -o remount,bind,ro "$R/proc/sys"
    mount -t sysfs -o ro sysfs "$R/sys"
    mount -t cgroup2 -o nsdelegate cgroup2 "$R/sys/fs/cgroup"
    mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
    for n in null zero full random urandom tty; do
        : >"$R/dev/$n"
        mount --bind "/dev/$n" "$R/dev/$n"
    done
    mkdir "$R/dev/pts" "$R/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
    ln -s pts/ptmx "$R/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
    ln -s /proc/self/fd "$R/dev/fd"
    : >"$R/dev/console"
    mount --bind "$C" "$R/dev/console"
    cd "$R"
    mkdir -p .oldroot
    pivot_root . .oldroot
    exec /usr/sbin/chroot . /bin/sh -c "umount -l /.oldroot && rmdir /.oldroot &&
        exec env -i container=finfeed-test TERM=dumb /usr/lib/systemd/systemd --system"
    ' setup "$LOWER" "$UPPER" "$TMP/work" "$TMP/root" "$TMP/console" \
    >"$TMP/boot.log" 2>&1 </dev/null &
UNSHARE_PID=$!

# PID 1 of the container, as this PID namespace numbers it
i=0
while :; do
    kill -0 "$UNSHARE_PID" 2>/dev/null || { cat "$TMP/boot.log" >&2; fail "the container exited at once"; }
    child=$(cat "/proc/$UNSHARE_PID/task/$UNSHARE_PID/children" 2>/dev/null || true)
    child=${child%% *}
    if [ -n "$child" ] && [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ]; then
        INIT=$child
        break
    fi
    i=$((i + 1))
    [ $i -lt 150 ] || fail "systemd did not start within 30 s: $(cat "$TMP/boot.log")"
    sleep 0.2
done
i=0
until in_root test -S /run/systemd/private 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 150 ] || fail "systemd's private socket did not appear within 30 s"
    sleep 0.2
done
state=$(in_root timeout 60 systemctl is-system-running --wait 2>&1) || true
say "booted: $state"
case $state in
running | degraded) ;;
*) fail "the system did not come up: $state" ;;
esac
[ "$(in_root cat /proc/1/comm)" = systemd ] || fail "PID 1 of the container is not systemd"

# the publisher, in the container's network namespace (its loopback)
nsenter -t "$INIT" -n "$PY" -m http.server --bind 127.0.0.1 --directory "$TMP/www" 8080 \
    >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
i=0
until nsenter -t "$INIT" -n "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' \
    2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 50 ] || fail "the publisher does not listen: $(cat "$TMP/server.log")"
    sleep 0.2
done

show() { # show PROPERTY: the service's value of it
    in_root systemctl show -P "$1" finfeed
}

# ---- start ---------------------------------------------------------------

if ! in_root systemctl enable --now finfeed >"$TMP/start.log" 2>&1; then
    if [ "$(show ExecMainStatus)" = 217 ] && in_root journalctl --no-pager -u finfeed |
        grep -q 'Failed to set up user namespacing'; then
        say "PrivateUsers=yes cannot be set up in this container (217/USER): dropped in a drop-in"
        in_root systemctl stop finfeed # no restart after RestartSec
        in_root sh -c 'mkdir -p /etc/systemd/system/finfeed.service.d &&
            printf "# t_systemd: a nested container cannot set up a user namespace\n[Service]\nPrivateUsers=no\n" \
            >/etc/systemd/system/finfeed.service.d/t_systemd.conf'
        in_root systemctl daemon-reload
        in_root systemctl reset-failed finfeed
        in_root systemctl start finfeed >"$TMP/start.log" 2>&1 || fail "systemctl start: $(cat "$TMP/start.log")"
    else
        fail "systemctl enable --now: $(cat "$TMP/start.log")"
    fi
fi
[ "$(show ActiveState)" = active ] || fail "finfeed is $(show ActiveState) after start"
[ "$(show Type)" = notify ] || fail "Type=$(show Type)"
[ "$(show WatchdogUSec)" != 0 ] || fail "no watchdog"
MAIN=$(show MainPID)
uid=$(in_root awk '/^Uid:/ { print $2 }' "/proc/$MAIN/status")
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "the daemon runs as uid '$uid', not a dynamic user"
status_text=$(show StatusText)
say "started: pid $MAIN uid $uid PrivateUsers=$(show PrivateUsers), STATUS=$status_text"
case $status_text in
*" feeds ("*" ok, "*" failing), "*" articles") ;;
*) fail "no STATUS line: '$status_text'" ;;
esac
# SPEC §8: hardening that systemd-analyze security rates at most 2.0
exposure=$(in_root systemd-analyze security --no-pager finfeed 2>&1 |
    sed -n 's/.*Overall exposure level for finfeed.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "systemd-analyze security gave no rating"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "systemd-analyze security rates the unit $exposure (> 2.0)"
say "systemd-analyze security: $exposure"

# the HTTP output answers, in the container's network
nsenter -t "$INIT" -n "$PY" -c 'import urllib.request, sys
sys.exit(urllib.request.urlopen("http://127.0.0.1:8470/healthz", timeout=5).read()[:2] != b"ok")' ||
    fail "/healthz does not answer ok"

# ---- refresh through the socket -------------------------------------------

# waits until STATUS counts N articles
status_counts() {
    i=0
    until show StatusText | grep -q ", $1 articles\$"; do
        i=$((i + 1))
        [ $i -lt 50 ] || fail "STATUS=$(show StatusText), not $1 articles"
        sleep 0.2
    done
}
# The first fetch runs at start; then the publisher adds a story, and a
# refresh through the socket fetches it.
status_counts 3
publish 4
CTL="-s /run/finfeed/control.sock"
out=$(in_root finfeed refresh $CTL 2>&1) || fail "finfeed refresh: $out"
echo "$out" | grep -q '^loopback  *ok  *200  *1 ' || fail "refresh did not store the new story: $out"
posts=$(in_root sh -c 'ls /var/lib/finfeed/posts/*.md | wc -l')
[ "$posts" = 4 ] || fail "markdown_dir holds $posts posts, not 4"
status_counts 4
say "refresh: the new story stored and posted; STATUS=$(show StatusText)"

# ---- reload: a good configuration, then a bad one ---------------------------

in_root sh -c 'cat >>/etc/finfeed/finfeed.conf' <<'EOF'

[feed "more"]
url = file:///etc/finfeed/more.xml
EOF
out=$(in_root systemctl reload finfeed 2>&1) || fail "systemctl reload (good file): $out"
out=$(in_root finfeed refresh $CTL more 2>&1) || fail "the feed added by reload: $out"
echo "$out" | grep -q '^more  *ok ' || fail "the feed added by reload did not fetch: $out"
say "reload (good file): feed 'more' added and fetched"

in_root sh -c 'echo "intervall = 5m" >>/etc/finfeed/finfeed.conf'
if out=$(in_root systemctl reload finfeed 2>&1); then
    fail "systemctl reload succeeded with a bad configuration"
fi
in_root journalctl --no-pager -u finfeed >"$TMP/journal" 2>&1
grep "the daemon says" "$TMP/journal" | grep -q "finfeed.conf:[0-9]*: .*intervall" ||
    fail "the reason of the refused reload is not in the journal: $(tail -5 "$TMP/journal")"
[ "$(show ActiveState)" = active ] || fail "finfeed is $(show ActiveState) after a bad reload"
[ "$(show MainPID)" = "$MAIN" ] || fail "the daemon was restarted by a bad reload"
out=$(in_root finfeed status $CTL more 2>&1) || fail "status after a bad reload: $out"
echo "$out" | grep -q '^more ' || fail "the old configuration is not kept: $out"
say "reload (bad file): refused ($(grep -o "the daemon says: .*" "$TMP/journal" | tail -1))"
printf '%s' "$CONF_GOOD" | in_root sh -c 'cat >/etc/finfeed/finfeed.conf'

# ---- stop, start: the state is kept --------------------------------------

t=$(date +%s)
in_root systemctl stop finfeed || fail "systemctl stop"
[ "$(show ActiveState)" = inactive ] || fail "finfeed is $(show ActiveState) after stop"
[ "$(show Result)" = success ] || fail "stop: Result=$(show Result) ExecMainStatus=$(show ExecMainStatus)"
[ $(($(date +%s) - t)) -le 5 ] || fail "stop took $(($(date +%s) - t)) s"
in_root systemctl start finfeed || fail "systemctl start (again)"
out=$(in_root finfeed status $CTL loopback 2>&1) || fail "status after a restart: $out"
n=$(echo "$out" | awk '$1 == "loopback" { print $7 }') # FEED STATE HTTP LAST NEXT ERRORS ARTICLES
[ "$n" = 4 ] || fail "articles lost over a restart: $out"
status_counts 5 # and the one of the feed "more"
say "restart: state kept ($(show StatusText))"

# ---- shut down -------------------------------------------------------------

in_root systemctl poweroff >/dev/null 2>&1 || true
i=0
while kill -0 "$UNSHARE_PID" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 150 ] || fail "systemd did not power off within 30 s"
    sleep 0.2
done
INIT=
say "ok: start, STATUS, refresh, reload (good and bad), stop, restart with state kept"
