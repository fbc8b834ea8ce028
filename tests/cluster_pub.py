#!/usr/bin/python3
"""tests/cluster_pub.py — the loopback publisher of tests/t_cluster.sh and the
small HTTP/JSON checks the shell cannot make on its own.

    cluster_pub.py serve PORTFILE [NFEEDS]     the publisher (runs until killed)
    cluster_pub.py snap PUB OUT                save GET PUB/_counts to OUT
    cluster_pub.py once BEFORE AFTER [NAME=LO-HI ...]
                                               every feed requested exactly once
                                               between two snaps (NAME: other bounds)
    cluster_pub.py killed BEFORE AFTER PID CONCURRENCY
                                               the round a node (PID) was SIGKILLed in
    cluster_pub.py post PUB PATH               POST, print the JSON reply
    cluster_pub.py get URL                     print "CODE BODY" (first line of the body)
    cluster_pub.py atomids URL OUT             the entry ids of an Atom document, sorted
    cluster_pub.py inflight PUB SECONDS FEED|- SINCE [PID ...]
                                               the pid of a client with a request in flight
    cluster_pub.py requests PUB SECONDS N SINCE
                                               wait for N requests after request SINCE
    cluster_pub.py nlog PUB                    the number of requests so far
    cluster_pub.py polite BEFORE AFTER PER_HOST MAX_RATE
                                               the cluster-wide limits between two snaps
    cluster_pub.py refreshed REPLY N           a refresh --json reply: N feeds, all fetched

The publisher serves NFEEDS (300) RSS feeds at /f/f000.xml … and any other
/f/NAME.xml on first request (a node's extra feed). Every item has a stable
guid, link and a title and body of its own (no two stories alike for any of
SPEC §7's rules). A feed starts with 2 items; POST /_round adds one item to
a third of the feeds (a different third each round). It answers
If-None-Match with 304 (ETag: the feed's version).

For each request it records which process asked (the pid that owns the
client's socket, found through /proc/net/tcp and /proc/PID/fd), when it
started and when the answer was written. GET /_counts: {"counts": {NAME: n},
"stories": S (items of every feed requested so far, probes excluded),
"log": [[seq, NAME, pid, start, end], …]}.

Knobs: POST /_delay?s=X (every request waits X s before answering),
/_delay?feed=NAME&s=X (that feed), /_probe?feed=NAME&on=1 (each request for
NAME gets one more item, "probe NAME K", K = the request's number: which
requester's answer reached the store shows in it).
"""
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = 1700000000  # items' dates: BASE + the order they were published in (recent enough)
LOCK = threading.Lock()


class State:
    def __init__(self, nfeeds):
        self.feeds = {}     # name -> list of item numbers (0, 1, ...)
        self.order = []     # names, in creation order
        self.counts = {}
        self.log = []       # [seq, name, pid, start, end]
        self.delay = 0.0
        self.feed_delay = {}
        self.probe = {}     # name -> on
        self.round = 0
        self.clock = 0      # publication order, for dates
        for i in range(nfeeds):
            self.add_feed("f%03d" % i)

    def add_feed(self, name):
        self.feeds[name] = []
        self.order.append(name)
        for _ in range(2):
            self.publish(name)

    def publish(self, name):
        self.clock += 1
        self.feeds[name].append(self.clock)

    def stories(self):
        return sum(len(self.feeds[n]) for n in self.order if self.counts.get(n, 0) > 0)


ST = None


def item_xml(name, k, stamp):
    # Titles and bodies of their own: no rule of SPEC §7 but the guid matches.
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(BASE + stamp * 60))
    return ("<item><title>%s dispatch %d: %s</title><link>http://pub.example/%s/%d</link>"
            "<guid isPermaLink=\"false\">%s-%d</guid><pubDate>%s</pubDate>"
            "<description>Report %d of desk %s, serial %d.</description></item>"
            % (name, k, WORDS[(stamp * 7 + k) % len(WORDS)], name, k, name, k, date,
               k, name, stamp))


WORDS = ["rates hold", "yields climb", "copper slides", "yen firms", "oil steadies",
         "gold gains", "bonds rally", "stocks dip", "credit widens", "grain rises",
         "freight eases", "wages grow", "banks lend", "ports clear"]


def render(name, items, probe_k):
    out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
           "<title>Desk %s</title><link>http://pub.example/%s/</link>"
           "<description>cluster test feed</description>" % (name, name)]
    if probe_k:
        out.append("<item><title>probe %s %d</title><link>http://pub.example/probe/%s/%d</link>"
                   "<guid isPermaLink=\"false\">probe-%s-%d</guid>"
                   "<description>Probe answer %d for %s.</description></item>"
                   % (name, probe_k, name, probe_k, name, probe_k, probe_k, name))
    for k, stamp in reversed(list(enumerate(items))):
        out.append(item_xml(name, k, stamp))
    out.append("</channel></rss>")
    return "".join(out).encode()


def client_pid(server_port, client_port):
    """The pid of the process owning the client end of this connection, or 0."""
    want = "0100007F:%04X" % client_port
    peer = "0100007F:%04X" % server_port
    inode = None
    try:
        with open("/proc/net/tcp") as f:
            for line in f:
                p = line.split()
                if len(p) > 9 and p[1] == want and p[2] == peer:
                    inode = p[9]
                    break
    except OSError:
        return 0
    if inode is None:
        return 0
    target = "socket:[%s]" % inode
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != "finfeed":
                    continue
            for fd in os.listdir("/proc/%s/fd" % pid):
                try:
                    if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == target:
                        return int(pid)
                except OSError:
                    pass
        except OSError:
            pass
    return 0


class Publisher(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        self.pid = None  # resolved once per connection (keep-alive reuses it)

    def reply(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code != 304:
            self.wfile.write(body)

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with LOCK:
            if u.path == "/_round":
                ST.round += 1
                changed = [name for i, name in enumerate(ST.order) if i % 3 == ST.round % 3]
                for name in changed:
                    ST.publish(name)
                out = {"round": ST.round, "changed": len(changed), "stories": ST.stories()}
            elif u.path == "/_delay":
                s = float(q.get("s", "0"))
                if "feed" in q:
                    ST.feed_delay[q["feed"]] = s
                else:
                    ST.delay = s
                out = {"delay": ST.delay, "feed_delay": ST.feed_delay}
            elif u.path == "/_probe":
                ST.probe[q["feed"]] = q.get("on", "1") == "1"
                out = {"probe": ST.probe}
            else:
                return self.reply(404, b"{}")
        self.reply(200, json.dumps(out).encode())

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/_counts":
            with LOCK:
                body = json.dumps({"counts": ST.counts, "stories": ST.stories(),
                                   "names": ST.order, "round": ST.round,
                                   "log": ST.log}).encode()
            return self.reply(200, body)
        if not (u.path.startswith("/f/") and u.path.endswith(".xml")):
            return self.reply(404, b"no such feed", "text/plain")
        name = u.path[3:-4]
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            return self.reply(404, b"no such feed", "text/plain")
        if self.pid is None:
            self.pid = client_pid(self.server.server_address[1], self.client_address[1])
        t0 = time.time()
        with LOCK:
            if name not in ST.feeds:
                ST.add_feed(name)
            ST.counts[name] = ST.counts.get(name, 0) + 1
            seq = len(ST.log)
            entry = [seq, name, self.pid, t0, None]
            ST.log.append(entry)
            delay = ST.feed_delay.get(name, ST.delay)
            probe_k = ST.counts[name] if ST.probe.get(name) else 0
            etag = '"%s-%d%s"' % (name, len(ST.feeds[name]), "-p%d" % probe_k if probe_k else "")
            body = render(name, ST.feeds[name], probe_k)
        if delay > 0:
            time.sleep(delay)
        try:
            if self.headers.get("If-None-Match") == etag:
                self.reply(304, headers=[("ETag", etag)])
            else:
                self.reply(200, body, "application/rss+xml; charset=utf-8", [("ETag", etag)])
        finally:
            with LOCK:
                entry[4] = time.time()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


def serve(portfile, nfeeds):
    global ST
    ST = State(nfeeds)
    srv = Server(("127.0.0.1", 0), Publisher)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    srv.serve_forever()


# ---- the client side: checks for the shell ----

def http(url, method="GET", timeout=30):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError) as e:  # refused, timed out: no answer
        return 0, str(e).encode()


def load(path):
    with open(path) as f:
        return json.load(f)


def deltas(before, after):
    a, b = load(before), load(after)
    names = set(a["counts"]) | set(b["counts"])
    d = {n: b["counts"].get(n, 0) - a["counts"].get(n, 0) for n in names}
    return a, b, d


def once(before, after, bounds):
    """Every feed the publisher knows requested exactly once between the
    snaps (or within NAME=LO-HI); FAIL lines name the others."""
    a, b, d = deltas(before, after)
    bad = []
    for n in sorted(set(d) | set(b["names"])):
        lo, hi = bounds.get(n, bounds.get("*", (1, 1)))
        if not lo <= d.get(n, 0) <= hi:
            pids = [e[2] for e in b["log"][len(a["log"]):] if e[1] == n]
            bad.append("%s requested %d times (want %s; by pids %s)"
                       % (n, d.get(n, 0), lo if lo == hi else "%d-%d" % (lo, hi), pids))
    for line in bad[:20]:
        print("FAIL   " + line)
    if len(bad) > 20:
        print("FAIL   … and %d more feeds" % (len(bad) - 20))
    print("%d feeds, %d requests, %d off" % (len(d), sum(d.values()), len(bad)))
    return 1 if bad else 0


def killed(before, after, pid, concurrency):
    """The round a node was SIGKILLed in: the live nodes requested every
    feed at most once, every feed was requested, and a feed requested twice
    had its first request from the killed node (in flight when it died), at
    most CONCURRENCY of them."""
    a, b, d = deltas(before, after)
    new = b["log"][len(a["log"]):]
    by = {}
    for e in new:
        by.setdefault(e[1], []).append(e)
    bad, redone = [], []
    for n in sorted(b["names"]):
        es = by.get(n, [])
        live = [e for e in es if e[2] != pid]
        dead = [e for e in es if e[2] == pid]
        if not es:
            bad.append("%s never requested in the round" % n)
        elif len(live) > 1:
            bad.append("%s requested %d times by live nodes (pids %s)"
                       % (n, len(live), [e[2] for e in live]))
        elif len(dead) > 1:
            bad.append("%s requested %d times by the killed node" % (n, len(dead)))
        elif dead and live:
            if live[0][0] < dead[0][0]:
                bad.append("%s fetched by a live node before the killed one asked" % n)
            redone.append(n)
        elif len(es) != 1:
            bad.append("%s requested %d times" % (n, len(es)))
    if len(redone) > concurrency:
        bad.append("%d feeds refetched after the kill, more than the killed node's"
                   " concurrency %d could have had in flight: %s"
                   % (len(redone), concurrency, redone[:10]))
    for line in bad[:20]:
        print("FAIL   " + line)
    print("%d requests in the round: %d by the killed node, %d feeds refetched after"
          " its lease (in flight at the kill: %s)"
          % (len(new), sum(1 for e in new if e[2] == pid), len(redone), redone[:10]))
    return 1 if bad else 0


def atomids(url, out):
    import xml.etree.ElementTree as ET
    code, body = http(url)
    if code != 200:
        print("GET %s: %d" % (url, code))
        return 1
    ns = "{http://www.w3.org/2005/Atom}"
    ids = sorted(e.findtext(ns + "id") or "" for e in ET.fromstring(body).iter(ns + "entry"))
    with open(out, "w") as f:
        f.write("\n".join(ids) + "\n")
    return 0


def inflight(pub, seconds, feed, pids, since=0):
    """Print the pid of a client with a request in flight (for FEED, or any
    feed when FEED is "-"; from one of PIDS when given) among the requests
    numbered since SINCE on; 1 when none came within SECONDS."""
    end = time.time() + float(seconds)
    while time.time() < end:
        code, body = http(pub + "/_counts")
        for e in json.loads(body)["log"][since:]:
            if (feed == "-" or e[1] == feed) and e[4] is None and e[2] and \
                    (not pids or e[2] in pids):
                print(e[2])
                return 0
        time.sleep(0.05)
    return 1


def requests(pub, seconds, at_least, since):
    """Wait until AT_LEAST requests were made since request number SINCE."""
    end = time.time() + float(seconds)
    while time.time() < end:
        code, body = http(pub + "/_counts")
        if len(json.loads(body)["log"]) - since >= at_least:
            return 0
        time.sleep(0.05)
    return 1


def polite(before, after, per_host, max_rate):
    """The cluster-wide politeness limits, as the publisher saw them: at most
    PER_HOST requests open at once (a request is open at the publisher for
    less time than in the daemon), at most MAX_RATE (10% and 2 of slack for
    the loopback's jitter) starting in any one second; 0: not checked."""
    a, b = load(before), load(after)
    new = [e for e in b["log"][len(a["log"]):] if e[4] is not None]
    ev = sorted([(e[3], 1) for e in new] + [(e[4], -1) for e in new], key=lambda x: (x[0], x[1]))
    open_, most = 0, 0
    for _, step in ev:
        open_ += step
        most = max(most, open_)
    starts = sorted(e[3] for e in new)
    j, rate = 0, 0
    for i, t in enumerate(starts):
        while starts[j] < t - 1.0:
            j += 1
        rate = max(rate, i - j + 1)
    rc = 0
    if per_host and most > per_host:
        print("FAIL   %d requests open at once at the publisher; per_host = %d across the"
              " cluster" % (most, per_host))
        rc = 1
    if max_rate and rate > max_rate * 1.1 + 2:
        print("FAIL   %d requests started within one second; max_rate = %d across the"
              " cluster" % (rate, max_rate))
        rc = 1
    print("at most %d open at once, %d started in one second" % (most, rate))
    return rc


def refreshed(path, n):
    """A `finfeed refresh --json` reply: ok, N feeds, each ok or not-modified."""
    try:
        r = load(path)
    except (OSError, ValueError) as e:
        print("FAIL   refresh reply unreadable: %s" % e)
        return 1
    if not r.get("ok"):
        print("FAIL   refresh answered %s" % json.dumps(r)[:300])
        return 1
    feeds = r.get("feeds", [])
    bad = [f for f in feeds if f.get("status") not in ("ok", "not-modified")]
    for f in bad[:10]:
        print("FAIL   refresh: %s %s http %s error %s"
              % (f.get("feed"), f.get("status"), f.get("http"), f.get("error")))
    lo, _, hi = n.partition("-")
    if not int(lo) <= len(feeds) <= int(hi or lo):
        print("FAIL   refresh reported %d feeds, want %s" % (len(feeds), n))
        return 1
    return 1 if bad else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "serve":
        serve(argv[2], int(argv[3]) if len(argv) > 3 else 300)
    elif cmd == "snap":
        code, body = http(argv[2] + "/_counts")
        if code != 200:
            return 1
        with open(argv[3], "wb") as f:
            f.write(body)
    elif cmd == "once":
        bounds = {}
        for spec in argv[4:]:
            n, r = spec.split("=")
            lo, _, hi = r.partition("-")
            bounds[n] = (int(lo), int(hi or lo))
        return once(argv[2], argv[3], bounds)
    elif cmd == "killed":
        return killed(argv[2], argv[3], int(argv[4]), int(argv[5]))
    elif cmd in ("post", "get"):
        url = argv[2] + argv[3] if cmd == "post" else argv[2]
        code, body = http(url, "POST" if cmd == "post" else "GET", 30 if cmd == "post" else 3)
        text = body.decode("utf-8", "replace").strip().split("\n")[0]
        print(text if cmd == "post" else "%d %s" % (code, text))
        return 0 if cmd == "get" or code == 200 else 1
    elif cmd == "atomids":
        return atomids(argv[2], argv[3])
    elif cmd == "inflight":
        return inflight(argv[2], argv[3], argv[4], [int(p) for p in argv[6:]], int(argv[5]))
    elif cmd == "requests":
        return requests(argv[2], argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "polite":
        return polite(argv[2], argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "refreshed":
        return refreshed(argv[2], argv[3])
    elif cmd == "nlog":
        code, body = http(argv[2] + "/_counts")
        print(len(json.loads(body)["log"]))
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
