#!/usr/bin/python3
"""WebSub for finfeed's own feeds (SPEC §11, issue 13 §4 and §5) through the
real daemon. Loopback servers (python3 standard library) play a publisher,
readers' callbacks and an external hub.

The built-in hub ([output] hub = builtin): every feed route advertises
rel="hub" and rel="self" (Atom, RSS, JSON Feed, Link headers); a reader
subscribes at POST /hub and gets the intent check; a new article at the
publisher is pushed to it within 1 s of being stored, signed (the HMAC
checked here), once; a subscriber of another topic gets only its topic's
changes, unsigned without a secret; unsubscribe stops the pushes; a callback
that does not echo the challenge gets nothing; a lease expires (an injected
clock); a failing callback is retried with backoff (5 s, 30 s, 2 min,
10 min), its content given up, and after ten failures in a row the
subscription dropped; bad topics, an oversize body, a flood and the
per-host limit are refused with the reason. Reloaded with hub = URL: a burst
of changes pings the external hub once a topic. Reloaded without
allow_private_hubs: loopback and private callbacks refused.

With --pg: two daemons on one PostgreSQL (tests/pg_run.sh), a reader
subscribed through one node, each new article pushed exactly once whichever
node stores it.

Usage: websub_hub_e2e.py FINFEED_BIN SRCDIR [--pg]"""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import FAILS, QuietHandler, check, free_port  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
PG = "--pg" in sys.argv
SLOW = os.environ.get("FINFEED_SANITIZED") == "1"
WITHIN = 4.0 if SLOW else 1.0  # the push after the article is stored, seconds

PUB = free_port()
READER = free_port()
XHUB = free_port()
PUB_BASE = "http://127.0.0.1:%d" % PUB
READER_BASE = "http://127.0.0.1:%d" % READER


class State:
    lock = threading.Lock()
    items = {"a": [("a-1", "Rates steady at the central bank")],
             "b": [("b-1", "Copper climbs on supply worries")]}
    verifications = []  # (name, query dict, status answered)
    pushes = []         # (name, time, headers dict, body bytes)
    pings = []          # (time, form dict)


def rss(feed):
    out = ['<?xml version="1.0" encoding="utf-8"?>', '<rss version="2.0"><channel>',
           "<title>Publisher %s</title><link>http://pub.example/%s</link>" % (feed, feed)]
    with State.lock:
        items = list(State.items[feed])
    for guid, title in items:
        out.append("<item><title>%s</title><link>http://pub.example/%s/%s</link><guid>%s</guid>"
                   "<description>&lt;p&gt;%s: the whole story of %s.&lt;/p&gt;</description>"
                   "</item>" % (title, feed, guid, guid, title, guid))
    out.append("</channel></rss>")
    return "\n".join(out).encode()


def publish(feed, guid, title):
    with State.lock:
        State.items[feed].insert(0, (guid, title))


class Handler(QuietHandler):

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self):
        port = self.server.server_address[1]
        u = urllib.parse.urlparse(self.path)
        if port == PUB and u.path in ("/a.xml", "/b.xml"):
            return self.send(200, rss(u.path[1]), [("Content-Type", "application/rss+xml")])
        if port == READER and u.path.startswith("/cb/"):
            # intent verification (W3C WebSub §5.3)
            name = u.path[4:]
            q = dict(urllib.parse.parse_qsl(u.query))
            status = 404 if name.startswith("deny") or (
                q.get("hub.mode") == "unsubscribe" and name.startswith("flood")) else 200
            with State.lock:
                State.verifications.append((name, q, status))
            return self.send(status, q.get("hub.challenge", "").encode() if status == 200 else b"")
        self.send(404)

    def do_POST(self):
        port = self.server.server_address[1]
        body = self.body()
        u = urllib.parse.urlparse(self.path)
        if port == READER and u.path.startswith("/cb/"):
            name = u.path[4:]
            headers = {k.lower(): v for k, v in self.headers.items()}
            headers["link"] = self.headers.get_all("Link") or []
            with State.lock:
                State.pushes.append((name, time.time(), headers, body))
            if name.startswith("slow"):
                time.sleep(1.0)
            return self.send(500 if name.startswith("fail") else 410 if name == "gone" else 200)
        if port == XHUB and u.path == "/publish":
            with State.lock:
                State.pings.append((time.time(), dict(urllib.parse.parse_qsl(body.decode()))))
            return self.send(204)
        self.send(404)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def wait_for(cond, seconds):
    end = time.time() + seconds * (4 if SLOW else 1)
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


class Node:
    """One daemon: its folder, configuration, process."""

    def __init__(self, tmp, name, port, database, link, env):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.port, self.database, self.link, self.env = port, database, link, env
        self.proc = None

    def conf(self, hub="builtin", private=True, extra=""):
        with open(os.path.join(self.dir, "finfeed.conf"), "w") as f:
            f.write("\n".join([
                "[daemon]", "database = %s" % self.database, "control_socket = ctl.sock",
                "listen = 127.0.0.1:%d" % self.port, "interval = 1h", "max_feed_size = 64K",
                "allow_private_hubs = %s" % ("yes" if private else "no"), "",
                "[output]", "link = %s" % self.link, "hub = %s" % hub,
                "hub_max_per_host = 5", extra, "",
                '[feed "a"]', "url = %s/a.xml" % PUB_BASE, "categories = Rates", "",
                '[feed "b"]', "url = %s/b.xml" % PUB_BASE, "",
                '[watchlist "metals"]', "keywords = gold", ""]))

    def start(self):
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([BIN, "daemon", "-c", "finfeed.conf"], cwd=self.dir,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        check(wait_for(lambda: self.get("/healthz")[0] == 200, 10),
              "daemon on :%d answers /healthz" % self.port)

    def ctl(self, *args):
        return subprocess.run([BIN] + list(args) + ["-s", os.path.join(self.dir, "ctl.sock")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)

    def refresh(self, *feeds):
        r = self.ctl("refresh", *feeds)
        check(r.returncode == 0, "refresh %s: %s" % (" ".join(feeds),
                                                     r.stdout.decode().strip()[:200]))

    def get(self, path):
        try:
            r = urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=10)
            return r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), e.headers
        except OSError as e:
            return 0, str(e), {}

    def hub(self, fields, source=None, raw=None, ctype="application/x-www-form-urlencoded"):
        """POST /hub: (status, text)."""
        body = raw if raw is not None else urllib.parse.urlencode(fields).encode()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10,
                                       source_address=(source, 0) if source else None)
        try:
            c.request("POST", "/hub", body=body, headers={"Content-Type": ctype})
            r = c.getresponse()
            return r.status, r.read().decode()
        except OSError as e:  # refused before the body was read
            return 0, str(e)
        finally:
            c.close()

    def metric(self, name):
        m = re.search(r"^%s (\d+)$" % re.escape(name), self.get("/metrics")[1], re.M)
        return int(m.group(1)) if m else None

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        check(rc == 0, "daemon on :%d exits 0 on SIGTERM (rc %s)" % (self.port, rc))
        self.log.close()


def pushes(name):
    with State.lock:
        return [p for p in State.pushes if p[0] == name]


def verified(name, mode="subscribe"):
    with State.lock:
        return [v for v in State.verifications if v[0] == name and v[1].get("hub.mode") == mode]


def event(node, e):
    return node.metric('finfeed_hub_events_total{event="%s"}' % e) or 0


def settled(node, failed):
    """Wait until the daemon has counted `failed` failed deliveries: its
    backoff then counts from the clock of that moment, and the test may
    move the clock on."""
    check(wait_for(lambda: event(node, "delivery_failed") >= failed, 5),
          "%d failed deliveries counted (%d)" % (failed, event(node, "delivery_failed")))


def subscribe(node, name, topic, secret=None, lease=None, mode="subscribe", expect=202):
    fields = {"hub.mode": mode, "hub.topic": topic, "hub.callback": READER_BASE + "/cb/" + name}
    if secret is not None:
        fields["hub.secret"] = secret
    if lease is not None:
        fields["hub.lease_seconds"] = str(lease)
    n = len(verified(name, mode))
    st, text = node.hub(fields)
    check(st == expect, "%s %s at the hub: %s %s" % (mode, name, st, text.strip()[:160]))
    if st == 202 and not name.startswith("deny"):
        check(wait_for(lambda: len(verified(name, mode)) > n, 10),
              "%s %s: the intent is verified at the callback" % (mode, name))
        # stored (or removed) once the worker wrote it
        ev = "subscribed" if mode == "subscribe" else "unsubscribed"
        target = subscribe.count.get((node.port, ev), 0) + 1
        check(wait_for(lambda: event(node, ev) >= target, 10), "%s %s: %s" % (mode, name, ev))
        subscribe.count[(node.port, ev)] = target
    return st, text


subscribe.count = {}


def sig_ok(secret, push):
    h = push[2].get("x-hub-signature", "")
    want = "sha256=" + hmac.new(secret.encode(), push[3], hashlib.sha256).hexdigest()
    return hmac.compare_digest(h, want)


def set_clock(clock, seconds):
    """The daemon reads the clock file at any moment (websub_skew): written
    aside and renamed over it, never seen empty. Truncated in place, it
    was read empty once under TSan: no skew, so a failed delivery's
    backoff counted from the real time, hours before the test's clock,
    and the delivery was due again at once (two extra tries, session 8)."""
    aside = clock + ".new"
    with open(aside, "w") as f:
        f.write("%d\n" % seconds)
    os.replace(aside, clock)


# ---------------------------------------------------------------------------

def discovery(node):
    base = node.link.rstrip("/")
    hub = base + "/hub"
    st, atom, h = node.get("/feed.atom")
    check(st == 200 and '<link rel="hub" href="%s"/>' % hub in atom and
          '<link rel="self" type="application/atom+xml" href="%s/feed.atom"/>' % base in atom,
          "Atom: rel=hub and rel=self")
    check(h.get("Link") == '<%s>; rel="hub", <%s/feed.atom>; rel="self"' % (hub, base),
          "Link header on /feed.atom: %s" % h.get("Link"))
    st, rss_doc, h = node.get("/feeds/a.rss")
    check('<atom:link rel="hub" href="%s"/>' % hub in rss_doc and
          'xmlns:atom="http://www.w3.org/2005/Atom"' in rss_doc and
          '<atom:link rel="self" type="application/rss+xml" href="%s/feeds/a.rss"/>' % base
          in rss_doc, "RSS: atom:link rel=hub and rel=self, namespace declared")
    st, js, h = node.get("/categories/Rates.json")
    d = json.loads(js)
    check(d.get("hubs") == [{"type": "WebSub", "url": hub}] and
          d.get("feed_url") == base + "/categories/Rates.json",
          "JSON Feed: hubs and feed_url (%s)" % d.get("hubs"))
    check(h.get("Link", "").endswith('<%s/categories/Rates.json>; rel="self"' % base),
          "Link header on a category's feed")
    # the instruments' routes too (SPEC §12): a ticker's, a watchlist's
    st, atom, h = node.get("/tickers/NYSE:NEM.atom")
    check(st == 200 and '<link rel="hub" href="%s"/>' % hub in atom and
          '<link rel="self" type="application/atom+xml" href="%s/tickers/NYSE%%3ANEM.atom"/>'
          % base in atom, "a ticker's feed: rel=hub and rel=self (%d)" % st)
    st, rss_doc, h = node.get("/watchlists/metals.rss")
    check(st == 200 and '<atom:link rel="hub" href="%s"/>' % hub in rss_doc and
          '<atom:link rel="self" type="application/rss+xml" href="%s/watchlists/metals.rss"/>'
          % base in rss_doc, "a watchlist's feed: rel=hub and rel=self (%d)" % st)
    check(h.get("Link") == '<%s>; rel="hub", <%s/watchlists/metals.rss>; rel="self"'
          % (hub, base), "Link header on a watchlist's feed: %s" % h.get("Link"))


def refused(node):
    base = node.link.rstrip("/")
    st, _, h = node.get("/hub")
    check(st == 405 and h.get("Allow") == "POST", "GET /hub: 405, Allow: POST (%s)" % st)
    cases = [
        ({"hub.mode": "subscribe", "hub.callback": READER_BASE + "/cb/x"}, 400, "hub.topic"),
        ({"hub.mode": "subscribe", "hub.topic": "http://elsewhere.example/feed.atom",
          "hub.callback": READER_BASE + "/cb/x"}, 400, "not a feed of this hub"),
        ({"hub.mode": "subscribe", "hub.topic": base + "/feeds/nosuch.atom",
          "hub.callback": READER_BASE + "/cb/x"}, 400, "no feed of that name"),
        ({"hub.mode": "subscribe", "hub.topic": base + "/opml",
          "hub.callback": READER_BASE + "/cb/x"}, 400, "not one of this hub's feeds"),
        ({"hub.mode": "subscribe", "hub.topic": base + "/feed.atom"}, 400, "hub.callback"),
        ({"hub.mode": "subscribe", "hub.topic": base + "/feed.atom",
          "hub.callback": "ftp://127.0.0.1/x"}, 400, "http or https"),
        ({"hub.mode": "subscribe", "hub.topic": base + "/feed.atom",
          "hub.callback": READER_BASE + "/cb/x", "hub.secret": "s" * 200}, 400, "200 bytes"),
        ({"hub.mode": "subscribe", "hub.topic": base + "/feed.atom",
          "hub.callback": READER_BASE + "/cb/x", "hub.lease_seconds": "soon"}, 400,
         "hub.lease_seconds"),
        ({"hub.mode": "publish", "hub.url": base + "/feed.atom"}, 400, "hub.topic"),
        ({"hub.mode": "publish", "hub.topic": base + "/feed.atom",
          "hub.callback": READER_BASE + "/cb/x"}, 400, "publishes finfeed's own feeds only"),
    ]
    for fields, want, why in cases:
        st, text = node.hub(fields)
        check(st == want and why in text, "refused %s: %s %s" % (
            {k: v[:40] for k, v in fields.items()}, st, text.strip()[:160]))
    st, text = node.hub(None, raw=b"hub.mode=subscribe&hub.topic=" + b"x" * 9000)
    check(st == 413 and "8192" in text, "a body over 8 KiB: 413 (%s)" % st)
    st, text = node.hub(None, raw=b"{}", ctype="application/json")
    check(st == 415, "not a form: 415 (%s %s)" % (st, text.strip()))


def builtin_hub(node, clock):
    base = node.link.rstrip("/")
    topic = base + "/feed.atom"
    secret = "reader-secret-0123456789"
    subscribe(node, "main", topic, secret=secret, lease=86400)
    v = verified("main")[-1][1]
    check(v.get("hub.topic") == topic and v.get("hub.lease_seconds") == "86400" and
          len(v.get("hub.challenge", "")) >= 16,
          "the intent check names the topic, the lease, a challenge (%s)" % v)
    subscribe(node, "b", base + "/feeds/b.rss", lease=86400)  # no secret

    # a new article at the publisher: pushed, signed, within 1 s of storing
    publish("a", "a-2", "Central bank surprises with a cut")
    t0 = time.time()
    node.refresh("a")
    t_stored = time.time()  # the refresh answers once the fetch's articles are stored
    check(wait_for(lambda: len(pushes("main")) == 1, 5), "the subscriber of /feed.atom is pushed")
    p = pushes("main")[0]
    check(p[1] - t0 < WITHIN,
          "… within %g s of storing (%.3f s after the refresh began, %.3f s after it answered)"
          % (WITHIN, p[1] - t0, p[1] - t_stored))
    check(b"Central bank surprises with a cut" in p[3] and b"<feed" in p[3],
          "the push is the topic's document, the new article in it")
    check(p[2].get("content-type", "").startswith("application/atom+xml"),
          "Content-Type of the feed (%s)" % p[2].get("content-type"))
    check(sig_ok(secret, p), "X-Hub-Signature: sha256=HMAC(secret, body) verifies (%s)"
          % p[2].get("x-hub-signature", "")[:20])
    check('<%s/hub>; rel="hub"' % base in p[2]["link"] and
          '<%s>; rel="self"' % topic in p[2]["link"],
          "Link headers: rel=hub and rel=self (%s)" % p[2]["link"])
    time.sleep(1.0)
    check(len(pushes("main")) == 1, "pushed once")
    check(pushes("b") == [], "another topic's subscriber is not pushed (%d)" % len(pushes("b")))

    # a change of b: its subscriber pushed, unsigned (no secret); main too (merged feed)
    publish("b", "b-2", "Iron ore slides as mills cut output")
    node.refresh("b")
    check(wait_for(lambda: len(pushes("b")) == 1 and len(pushes("main")) == 2, 5),
          "a change of b: /feeds/b.rss and /feed.atom subscribers pushed")
    if pushes("b"):
        pb = pushes("b")[0]
        check("x-hub-signature" not in pb[2] and b"Iron ore slides" in pb[3] and
              pb[2].get("content-type", "").startswith("application/rss+xml"),
              "no secret: no signature; the RSS document")
    node.refresh("a", "b")  # nothing new: nothing pushed
    time.sleep(1.0)
    check(len(pushes("main")) == 2 and len(pushes("b")) == 1, "nothing new: no push")

    # a callback that does not echo the challenge: no subscription
    subscribe(node, "deny", topic)
    check(wait_for(lambda: len(verified("deny")) == 1, 10), "the denying callback was asked")
    check(wait_for(lambda: event(node, "verify_failed") >= 1, 10), "… and counted verify_failed")

    # unsubscribe: verified, then no more pushes
    subscribe(node, "main", topic, mode="unsubscribe")
    # a lease that runs out (the injected clock), and a failing callback
    subscribe(node, "lease", topic, lease=90)
    check(verified("lease")[-1][1].get("hub.lease_seconds") == "90", "the lease asked is granted")
    subscribe(node, "fail", topic, lease=86400)
    set_clock(clock, 200)  # the lease of 90 s is over
    skew = 200
    publish("a", "a-3", "Bond yields climb after the cut")
    node.refresh("a")
    check(wait_for(lambda: len(pushes("fail")) == 1, 5), "the failing callback is tried at once")
    settled(node, 1)
    time.sleep(1.0)
    check(len(pushes("main")) == 2, "unsubscribed: not pushed (%d)" % len(pushes("main")))
    check(pushes("lease") == [], "the lease ran out: not pushed")
    check(pushes("deny") == [], "never verified: not pushed")
    check(event(node, "expired") >= 1, "the expired subscription is removed and counted")

    # backoff: 5 s, 30 s, 2 min, 10 min; then this content is given up
    for n, wait in enumerate([5, 30, 120, 600], start=2):
        time.sleep(0.8)  # the clock stands still: the backoff is not over
        check(len(pushes("fail")) == n - 1, "no retry before %d s (%d tries)"
              % (wait, len(pushes("fail"))))
        skew += wait
        set_clock(clock, skew)
        check(wait_for(lambda: len(pushes("fail")) == n, 5), "retry %d after %d s" % (n - 1, wait))
        settled(node, n)
    skew += 3600
    set_clock(clock, skew)
    time.sleep(1.0)
    check(len(pushes("fail")) == 5 and event(node, "gave_up") == 1,
          "after 5 tries the content is given up (%d tries)" % len(pushes("fail")))
    # the next content: tried afresh; five more failures make ten in a row: dropped
    publish("a", "a-4", "Stocks rally into the close")
    node.refresh("a")
    for n, wait in enumerate([0, 5, 30, 120, 600], start=6):
        skew += wait
        set_clock(clock, skew)
        check(wait_for(lambda: len(pushes("fail")) == n, 5), "second content: try %d" % (n - 5))
        settled(node, n)
    check(wait_for(lambda: event(node, "dropped") == 1, 5),
          "ten failures in a row: the subscription dropped")
    skew += 3600
    set_clock(clock, skew)
    publish("a", "a-5", "Oil steady as inventories rise")
    node.refresh("a")
    time.sleep(1.0)
    check(len(pushes("fail")) == 10, "dropped: never tried again (%d)" % len(pushes("fail")))
    check(wait_for(lambda: node.metric("finfeed_hub_subscriptions") == 1, 5),
          "one subscription left (%s)" % node.metric("finfeed_hub_subscriptions"))

    # the per-host limit: 5 subscriptions of callback host 127.0.0.1
    for i in range(4):
        subscribe(node, "lim%d" % i, topic, lease=86400)
    subscribe(node, "lim9", topic, lease=86400, expect=403)
    st, text = node.hub({"hub.mode": "subscribe", "hub.topic": topic,
                         "hub.callback": READER_BASE + "/cb/lim9"})
    check(st == 403 and "hub_max_per_host" in text, "the reason names the limit: %s" % text)
    st, _ = node.hub({"hub.mode": "subscribe", "hub.topic": topic,
                      "hub.callback": READER_BASE + "/cb/lim0"})
    check(st == 202, "a renewal is no new subscription: 202 (%s)" % st)

    # a flood from one address: 429 once its burst is spent
    codes = [node.hub({"hub.mode": "unsubscribe", "hub.topic": topic,
                       "hub.callback": READER_BASE + "/cb/flood%d" % i}, source="127.0.0.3")[0]
             for i in range(40)]
    check(codes[0] == 202 and 429 in codes, "a flood of requests from one address: %s"
          % sorted(set(codes)))

    # a change while a push to the same subscriber is under way: pushed
    # right after it, not at the next slow look
    subscribe(node, "slow", base + "/feeds/a.json", lease=86400, expect=403)  # the host is full
    st, _ = node.hub({"hub.mode": "unsubscribe", "hub.topic": topic,
                      "hub.callback": READER_BASE + "/cb/lim3"})
    unsubs = subscribe.count[(node.port, "unsubscribed")] + 1
    check(wait_for(lambda: event(node, "unsubscribed") == unsubs, 10), "lim3 unsubscribed")
    subscribe.count[(node.port, "unsubscribed")] = unsubs
    time.sleep(1.2)  # the flood's bucket refills
    subscribe(node, "slow", base + "/feeds/a.json", lease=86400)
    publish("a", "a-7", "Yen weakens past a key level")
    node.refresh("a")
    check(wait_for(lambda: len(pushes("slow")) == 1, 5), "the slow subscriber is pushed")
    publish("a", "a-8", "Treasury auction draws strong demand")
    node.refresh("a")  # while the first push waits for its answer
    check(wait_for(lambda: len(pushes("slow")) == 2, 4),
          "a change during a push follows it at once (%d)" % len(pushes("slow")))
    if len(pushes("slow")) == 2:
        p1, p2 = pushes("slow")
        check(p2[1] - p1[1] < 1.0 + WITHIN and b"Treasury auction" in p2[3] and
              p2[2].get("content-type", "").startswith("application/feed+json"),
              "… %.2f s after the first (answered after 1 s), the JSON Feed with the change"
              % (p2[1] - p1[1]))
    return skew


def interop(tmp, node):
    """finfeed subscribed to finfeed: B's subscriber (SPEC §11's first half)
    finds A's hub in A's /feed.atom, subscribes, and takes A's signed push."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "FINFEED_TEST_CLOCK"}
    b = Node(tmp, "reader-b", port, "db.sqlite", "http://127.0.0.1:%d/" % port, env)

    def conf_b(feeds):
        with open(os.path.join(b.dir, "finfeed.conf"), "w") as f:
            f.write("\n".join([
                "[daemon]", "database = db.sqlite", "control_socket = ctl.sock",
                "listen = 127.0.0.1:%d" % port, "interval = 1h",
                "public_url = http://127.0.0.1:%d/" % port, "allow_private_hubs = yes", ""] +
                ['[feed "%s"]\nurl = %s' % (n, u) for n, u in feeds]) + "\n")

    conf_b([("finfeed-a", node.link + "feed.atom")])
    subs0, unsubs0 = event(node, "subscribed"), event(node, "unsubscribed")
    b.start()
    try:
        check(wait_for(lambda: event(node, "subscribed") == subs0 + 1, 10),
              "finfeed B subscribed to finfeed A's hub (found in A's feed)")
        delivered0 = event(node, "delivered")
        publish("a", "a-i1", "Interop story crosses two daemons")
        t0 = time.time()
        node.refresh("a")
        check(wait_for(lambda: "Interop story crosses" in b.get("/feed.atom")[1], 2),
              "A's push stored by B: in B's /feed.atom %.3f s after A's refresh began"
              % (time.time() - t0))
        # A counts the delivery once B's answer is back, which may be a
        # moment after B's feed shows the story (TSan made it one)
        check(wait_for(lambda: event(node, "delivered") == delivered0 + 1, 2) and
              b.metric('finfeed_websub_events_total{event="pushed"}') == 1,
              "… pushed by A, its signature checked and taken by B")
        conf_b([])
        check(b.ctl("reload").returncode == 0, "B drops the feed")
        check(wait_for(lambda: event(node, "unsubscribed") == unsubs0 + 1, 10),
              "B unsubscribes; A verifies it with B and removes the subscription")
    finally:
        b.stop()
        if FAILS:
            print("--- reader B's log")
            print(open(os.path.join(b.dir, "log")).read()[-5000:])
    subscribe.count[(node.port, "subscribed")] = event(node, "subscribed")
    subscribe.count[(node.port, "unsubscribed")] = event(node, "unsubscribed")


def external_hub(node):
    node.conf(hub="http://127.0.0.1:%d/publish" % XHUB)
    check(node.ctl("reload").returncode == 0, "reloaded with hub = URL")
    st, atom, h = node.get("/feed.atom")
    check('<link rel="hub" href="http://127.0.0.1:%d/publish"/>' % XHUB in atom,
          "the external hub is advertised")
    st, text = node.hub({"hub.mode": "subscribe"})
    check(st == 404, "POST /hub without the built-in hub: 404 (%s)" % st)
    # a burst: two feeds refreshed at once, several documents stored
    publish("a", "a-6", "Gold hits a record high as Newmont (NYSE: NEM) rallies")
    publish("b", "b-3", "Aluminium eases on demand fears")
    node.refresh("a", "b")
    base = node.link.rstrip("/")
    # the topics the burst touched: the merged feed, a's and b's, a's
    # category, the ticker a's story names, the watchlist
    topics = {base + r + "." + ext for r in ("/feed", "/feeds/a", "/feeds/b", "/categories/Rates",
                                             "/tickers/NYSE%3ANEM", "/watchlists/metals")
              for ext in ("atom", "rss", "json")}

    def urls():
        with State.lock:
            return [p[1].get("hub.url") for p in State.pings]
    check(wait_for(lambda: topics <= set(urls()), 5), "each topic touched is pinged: %s"
          % sorted(topics - set(urls())))
    time.sleep(2.5 if SLOW else 1.5)  # a second ping of one would have come by now
    with State.lock:
        modes = {p[1].get("hub.mode") for p in State.pings}
    check(modes == {"publish"}, "hub.mode=publish (%s)" % modes)
    got = urls()
    check(all(got.count(t) == 1 for t in topics) and len(got) == len(topics),
          "one ping a topic for the burst (%d pings of %d topics)" % (len(got), len(topics)))
    n = len(got)
    time.sleep(1.0)
    check(len(urls()) == n, "nothing more without a change")
    check(event(node, "pinged") == n, "pings counted (%d)" % event(node, "pinged"))


def no_private(node):
    node.conf(private=False)
    check(node.ctl("reload").returncode == 0, "reloaded without allow_private_hubs")
    topic = node.link.rstrip("/") + "/feed.atom"
    for cb in ("http://127.0.0.1:%d/cb/p" % READER, "http://localhost:%d/cb/p" % READER,
               "http://[::1]/cb", "http://10.1.2.3/cb", "http://192.168.0.7/cb",
               "http://app.localhost/cb"):
        st, text = node.hub({"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": cb})
        check(st == 400 and "private" in text, "callback %s refused: %s %s"
              % (cb, st, text.strip()[:120]))


def single(tmp):
    clock = os.path.join(tmp, "clock")
    set_clock(clock, 0)
    port = free_port()
    env = dict(os.environ, FINFEED_TEST_CLOCK=clock)
    node = Node(tmp, "n1", port, "db.sqlite", "http://127.0.0.1:%d/" % port, env)
    node.conf()
    node.start()
    try:
        node.refresh("a", "b")
        discovery(node)
        refused(node)
        interop(tmp, node)
        builtin_hub(node, clock)
        external_hub(node)
        no_private(node)
    finally:
        node.stop()
        if FAILS:
            print("--- daemon log")
            print(open(os.path.join(node.dir, "log")).read()[-20000:])


def cluster(tmp):
    """Two nodes on one PostgreSQL (PG* from pg_virtualenv)."""
    db = "finfeed_hub"
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c",
                    "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' "
                    "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'" % db], check=True)
    p1, p2 = free_port(), free_port()
    link = "http://127.0.0.1:%d/" % p1  # one public address for both (a load balancer's)
    nodes = [Node(tmp, "n%d" % i, p, "postgresql:///" + db, link, dict(os.environ))
             for i, p in ((1, p1), (2, p2))]
    for n in nodes:
        n.conf(extra="")
        n.start()
    try:
        n1, n2 = nodes
        n1.refresh("a", "b")
        secret = "cluster-secret-0123456789"
        # subscribed through node 2, verified by it, stored for both
        subscribe(n2, "pg", link + "feed.atom", secret=secret, lease=86400)
        for i in range(3):
            publish("a", "pg-%d" % i, "Cluster story number %d arrives" % i)
            t0 = time.time()
            (n1 if i % 2 == 0 else n2).refresh("a")
            check(wait_for(lambda: len(pushes("pg")) == i + 1, 5),
                  "article %d pushed (%d pushes)" % (i, len(pushes("pg"))))
            if len(pushes("pg")) > i:
                p = pushes("pg")[i]
                check(p[1] - t0 < WITHIN + 1,
                      "… %.3f s after the refresh began" % (p[1] - t0))
                check(("Cluster story number %d" % i).encode() in p[3] and sig_ok(secret, p),
                      "… the new article in it, signed")
            time.sleep(1.5)  # both nodes have seen the change by now
            check(len(pushes("pg")) == i + 1, "article %d pushed exactly once across the nodes"
                  " (%d)" % (i, len(pushes("pg"))))
        total = sum(event(n, "delivered") for n in nodes)
        check(total == 3, "deliveries counted on the nodes: %d" % total)
    finally:
        for n in nodes:
            n.stop()
        if FAILS:
            for n in nodes:
                print("--- log of", n.dir)
                print(open(os.path.join(n.dir, "log")).read()[-10000:])


def main():
    servers = [Server(("127.0.0.1", p), Handler) for p in (PUB, READER, XHUB)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    try:
        (cluster if PG else single)(tmp)
    finally:
        for s in servers:
            s.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


main()
sys.exit(1 if FAILS else 0)
