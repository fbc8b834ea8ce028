#!/usr/bin/python3
"""tests/freshness_e2e.py — issue 13 §1-2 through the real daemon, against a
loopback publisher: why each next fetch is when it is (auto from the feed's
publishing rate, a fixed interval, a schedule closed on a holiday and its
opening, the backoff of a failing feed), the lag of articles first seen on a
feed's second or later fetch (a new feed's backlog and an unbelieved date are
no lag) in `status --json`, the LAG column, the status page and the
finfeed_article_lag_seconds histogram of /metrics; all of it kept in the
store across a restart.

usage: freshness_e2e.py FINFEED_BIN WORKDIR [DATABASE]
DATABASE: a postgresql:// URI (tests/t_freshness.sh runs it under
pg_virtualenv too); default a SQLite file in WORKDIR."""
import datetime
import email.utils
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

BIN, WORK = sys.argv[1], sys.argv[2]
DATABASE = sys.argv[3] if len(sys.argv) > 3 else os.path.join(WORK, "db.sqlite")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---- the publisher ----
NOW = int(time.time())
items = {  # feed -> [(guid, pubDate)]
    "a": [("a%d" % i, NOW - 60 - 600 * i) for i in range(10)],  # one every 10 minutes
    "f": [("f%d" % i, NOW - 3600 * i) for i in range(3)],
    "s": [("s%d" % i, NOW - 7200 * i) for i in range(3)],
}
lock = threading.Lock()


def rss(feed):
    with lock:
        entries = list(items[feed])
    out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
           "<title>%s</title><link>http://example.com/%s</link>" % (feed, feed)]
    for guid, t in entries:
        date = "<pubDate>%s</pubDate>" % email.utils.formatdate(t, usegmt=True) if t else ""
        out.append("<item><title>Story %s of the freshness test</title>"
                   "<link>http://example.com/%s/%s</link><guid>%s</guid>%s"
                   "<description>Body of %s, long enough to be a body.</description></item>"
                   % (guid, feed, guid, guid, date, guid))
    out.append("</channel></rss>")
    return "".join(out).encode()


class Pub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.strip("/").split(".")[0]
        if name == "e":
            self.send_response(500)
            self.end_headers()
            return
        body = rss(name)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


pub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pub)
threading.Thread(target=pub.serve_forever, daemon=True).start()
pport = pub.server_address[1]

# ---- the daemon ----
hport = free_port()
sock = os.path.join(WORK, "ctl.sock")
today = datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc).date()
d1, d2 = today + datetime.timedelta(days=1), today + datetime.timedelta(days=2)
opens = int(datetime.datetime(d2.year, d2.month, d2.day, tzinfo=datetime.timezone.utc).timestamp())
conf = os.path.join(WORK, "finfeed.conf")
with open(conf, "w") as fp:
    fp.write("""[daemon]
database = %s
control_socket = %s
listen = 127.0.0.1:%d
interval = auto

[schedule "s"]
hours = daily 00:00-24:00 UTC
holidays = %s, %s
interval = 1m
interval_outside = 3d

[feed "a"]
url = http://127.0.0.1:%d/a.xml

[feed "f"]
url = http://127.0.0.1:%d/f.xml
interval = 10m

[feed "s"]
url = http://127.0.0.1:%d/s.xml
schedule = s

[feed "e"]
url = http://127.0.0.1:%d/e.xml
""" % (DATABASE, sock, hport, today.isoformat(), d1.isoformat(), pport, pport, pport, pport))

log = open(os.path.join(WORK, "log"), "ab")
daemon = None


def start():
    global daemon
    daemon = subprocess.Popen([BIN, "daemon", "-c", conf], stdout=log, stderr=log)
    for _ in range(200):
        if daemon.poll() is not None:
            check(False, "the daemon runs (it exited %d)" % daemon.returncode)
            raise SystemExit(1)
        if subprocess.run([BIN, "status", "-c", conf], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    check(False, "the daemon answers within 20 s")
    raise SystemExit(1)


def stop():
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=20)


def status():
    out = subprocess.run([BIN, "status", "-c", conf, "--json"], capture_output=True, text=True,
                         timeout=30)
    return {f["feed"]: f for f in json.loads(out.stdout)["feeds"]}


def refresh(*feeds):
    out = subprocess.run([BIN, "refresh", "-c", conf, "--json"] + list(feeds),
                         capture_output=True, text=True, timeout=90)
    return out.returncode


def get(path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (hport, path), timeout=10) as r:
        return r.read().decode()


def iso(t):
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def metric(text, line):
    m = re.search("^" + re.escape(line) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


try:
    start()
    refresh()  # every feed's first fetch
    st = status()
    a, f, s, e = st["a"], st["f"], st["s"], st["e"]
    check(a["next_reason"] == "auto: 5m from 6.0 items/h",
          "auto from the feed's rate: %r" % a["next_reason"])
    gap = iso(a["next_fetch"]) - iso(a["last_fetch"])
    check(300 <= gap <= 331, "… and its next fetch 5m on (+ jitter): %ds" % gap)
    check(f["next_reason"] == "every 10m", "a fixed interval: %r" % f["next_reason"])
    want = "schedule s: closed (holiday), opens %s 00:00" % d2.strftime("%a")
    check(s["next_reason"] == want, "a schedule closed on a holiday: %r" % s["next_reason"])
    check(opens <= iso(s["next_fetch"]) <= opens + 6,
          "… fetched next at its opening: %s" % s["next_fetch"])
    check(e["next_reason"] == "backoff: 1 error", "a failing feed backs off: %r" % e["next_reason"])
    check(a["lag_articles"] == 0 and a["lag_median"] is None, "a new feed's backlog is no lag")
    m = get("/metrics")
    check(metric(m, 'finfeed_article_lag_seconds_count{feed="a"}') == 0,
          "an empty lag histogram a feed")

    # a story published 40 s ago, seen on the second fetch: 40 s of lag
    # (first seen is in seconds: the backlog's second is over first)
    time.sleep(1.1)
    with lock:
        items["a"].insert(0, ("a-new", int(time.time()) - 40))
    check(refresh("a") == 0, "refresh a")
    a = status()["a"]
    check(a["lag_articles"] == 1 and 40 <= a["lag_median"] <= 55,
          "the day's median lag: %s of %s" % (a["lag_median"], a["lag_articles"]))
    m = get("/metrics")
    check(metric(m, 'finfeed_article_lag_seconds_count{feed="a"}') == 1 and
          metric(m, 'finfeed_article_lag_seconds_bucket{feed="a",le="30"}') == 0 and
          metric(m, 'finfeed_article_lag_seconds_bucket{feed="a",le="60"}') == 1 and
          metric(m, 'finfeed_article_lag_seconds_bucket{feed="a",le="+Inf"}') == 1,
          "finfeed_article_lag_seconds counts it in le=60")
    check(40 <= metric(m, 'finfeed_article_lag_seconds_sum{feed="a"}') <= 55, "… and its sum")
    check(metric(m, 'finfeed_article_lag_seconds_count{feed="f"}') == 0, "… another feed's none")
    table = subprocess.run([BIN, "status", "-c", conf], capture_output=True, text=True).stdout
    row = [ln for ln in table.splitlines() if ln.startswith("a ")]
    check("LAG" in table.splitlines()[1] and "NEXT BECAUSE" in table and row and
          re.search(r" (4\d|5[0-5])s ", row[0]) is not None, "the LAG column: %r" % row)
    page = get("/")
    check("auto: 5m from 6.0 items/h" in page and "backoff: 1 error" in page and
          "of 1</small>" in page, "the status page says why, and the lag")

    # a date in the future is not believed, an item without one has none: no lag
    with lock:
        items["a"].insert(0, ("a-future", int(time.time()) + 3600))
        items["a"].insert(0, ("a-undated", None))
    refresh("a")
    a = status()["a"]
    m = get("/metrics")
    check(a["lag_articles"] == 1 and
          metric(m, 'finfeed_article_lag_seconds_count{feed="a"}') == 1,
          "an unbelieved date, or none, is no lag")

    # kept in the store: after a restart, before any fetch; and the next
    # article of the feed is lag (its first fetch was before the restart)
    stop()
    start()
    st = status()
    check(st["a"]["lag_articles"] == 1 and 40 <= st["a"]["lag_median"] <= 55 and
          st["a"]["next_reason"].startswith("auto: "),
          "after a restart: the lag and the reason from the store (%s)" % st["a"]["next_reason"])
    with lock:
        items["a"].insert(0, ("a-later", int(time.time()) - 20))
    refresh("a")
    a = status()["a"]
    check(a["lag_articles"] == 2, "the next story is lag after a restart: %s" % a["lag_articles"])
    m = get("/metrics")
    check(metric(m, 'finfeed_article_lag_seconds_count{feed="a"}') == 1,
          "the histogram is this run's: %s" % metric(m, 'finfeed_article_lag_seconds_count{feed="a"}'))
finally:
    if daemon is not None and daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    pub.shutdown()
    if failures or os.environ.get("FRESHNESS_LOG"):
        print("--- daemon log")
        with open(os.path.join(WORK, "log"), errors="replace") as fp:
            print(fp.read()[-6000:])
sys.exit(1 if failures else 0)
