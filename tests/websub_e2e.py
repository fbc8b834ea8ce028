#!/usr/bin/python3
"""WebSub (SPEC §11, issue 13 §3 and §5) through the real daemon. A loopback
server (python3 standard library) plays a publisher and its hub: the feeds
name the hub in <atom:link rel="hub"> and in HTTP Link headers; the hub takes
the daemon's subscribe, checks its intent (the challenge echoed), pushes
signed content. Checked: discovery, subscribe, verify, a signed push stored
and visible in /feed.atom within 1 s with no poll, a bad or missing signature
refused and counted, a replay, an unknown callback, an oversize body and a
flood refused, renewal before the lease ends (an injected clock), unsubscribe
on reload. Usage: websub_e2e.py FINFEED_BIN SRCDIR"""
import hashlib
import hmac
import http.server
import os
import re
import secrets
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
SLOW = os.environ.get("FINFEED_SANITIZED") == "1"


PUB = free_port()
DAEMON = free_port()
BASE = "http://127.0.0.1:%d" % PUB
HUB = BASE + "/hub"


def rss(items, hub=True, self_url=BASE + "/a.xml"):
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>',
           "<title>Publisher</title><link>http://pub.example/</link>"]
    if hub:
        out.append('<atom:link rel="hub" href="%s"/><atom:link rel="self" href="%s"/>'
                   % (HUB, self_url))
    for guid, title in items:
        out.append("<item><title>%s</title><link>http://pub.example/%s</link><guid>%s</guid>"
                   "<description>&lt;p&gt;%s: the story.&lt;/p&gt;</description></item>"
                   % (title, guid, guid, title))
    out.append("</channel></rss>")
    return "\n".join(out).encode()


class Hub:
    lock = threading.Lock()
    asked = []       # (mode, topic, callback, secret, lease) in order
    verified = []    # (mode, callback, status, echoed ok)
    fetches = {}     # path -> count
    lease = 3600     # granted at verification


def verify(mode, topic, callback):
    challenge = secrets.token_hex(8)
    q = urllib.parse.urlencode({"hub.mode": mode, "hub.topic": topic,
                                "hub.challenge": challenge, "hub.lease_seconds": Hub.lease})
    try:
        r = urllib.request.urlopen(callback + "?" + q, timeout=10)
        status, body = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, body = e.code, ""
    with Hub.lock:
        Hub.verified.append((mode, callback, status, body == challenge))


class Handler(QuietHandler):

    def do_GET(self):
        with Hub.lock:
            Hub.fetches[self.path] = Hub.fetches.get(self.path, 0) + 1
        if self.path == "/a.xml":
            self.send(200, rss([("a-1", "Rates steady")]), [("Content-Type", "application/rss+xml")])
        elif self.path == "/b.xml":  # discovery from the Link headers only
            self.send(200, rss([("b-1", "Copper climbs")], hub=False),
                      [("Content-Type", "application/rss+xml"),
                       ("Link", '<%s>; rel="hub", <%s/b.xml>; rel="self"' % (HUB, BASE))])
        else:
            self.send(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if self.path != "/hub":
            return self.send(404)
        g = lambda k: form.get(k, [None])[0]
        with Hub.lock:
            Hub.asked.append((g("hub.mode"), g("hub.topic"), g("hub.callback"), g("hub.secret"),
                              g("hub.lease_seconds")))
        self.send(202)
        threading.Thread(target=verify, args=(g("hub.mode"), g("hub.topic"), g("hub.callback")),
                         daemon=True).start()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def wait_for(cond, seconds):
    end = time.time() + seconds * (4 if SLOW else 1)
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def get(path):
    try:
        r = urllib.request.urlopen("http://127.0.0.1:%d%s" % (DAEMON, path), timeout=10)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def push(callback, body, secret=None, sig=None):
    req = urllib.request.Request(callback, data=body, method="POST")
    req.add_header("Content-Type", "application/rss+xml; charset=utf-8")
    if sig is None and secret is not None:
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if sig is not None:
        req.add_header("X-Hub-Signature", sig)
    try:
        r = urllib.request.urlopen(req, timeout=10)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (ConnectionError, urllib.error.URLError) as e:  # refused before the body was read
        return 413, str(e)


def conf(feeds):
    out = ["[daemon]", "database = db.sqlite", "control_socket = ctl.sock",
           "listen = 127.0.0.1:%d" % DAEMON, "interval = 1h", "max_feed_size = 64K",
           "public_url = http://127.0.0.1:%d/" % DAEMON, "allow_private_hubs = yes", ""]
    for name in feeds:
        out += ['[feed "%s"]' % name, "url = %s/%s.xml" % (BASE, name), ""]
    return "\n".join(out)


def main():
    srv = Server(("127.0.0.1", PUB), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    clock = os.path.join(tmp, "clock")
    with open(clock, "w") as f:
        f.write("0\n")
    with open(os.path.join(tmp, "finfeed.conf"), "w") as f:
        f.write(conf(["a", "b"]))
    log = open(os.path.join(tmp, "log"), "w")
    env = dict(os.environ, FINFEED_TEST_CLOCK=clock)
    d = subprocess.Popen([BIN, "daemon", "-c", "finfeed.conf"], cwd=tmp, stdout=log,
                         stderr=subprocess.STDOUT, env=env)
    try:
        run(tmp, clock, d)
    finally:
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
            try:
                rc = d.wait(timeout=10)
            except subprocess.TimeoutExpired:
                d.kill()
                rc = d.wait()
            check(rc == 0, "daemon exits 0 on SIGTERM (rc %s)" % rc)
        srv.shutdown()
        log.close()
        if FAILS:
            print("--- daemon log")
            print(open(os.path.join(tmp, "log")).read())
        shutil.rmtree(tmp, ignore_errors=True)


def sub_of(topic, mode="subscribe"):
    with Hub.lock:
        for a in Hub.asked:
            if a[0] == mode and a[1] == topic:
                return a
    return None


def verified(callback, mode="subscribe"):
    with Hub.lock:
        return [v for v in Hub.verified if v[0] == mode and v[1] == callback]


def run(tmp, clock, d):
    topic_a, topic_b = BASE + "/a.xml", BASE + "/b.xml"
    check(wait_for(lambda: sub_of(topic_a) is not None, 10),
          "rel=hub and rel=self in the feed: subscribe sent to the hub")
    check(wait_for(lambda: sub_of(topic_b) is not None, 10),
          "Link: rel=hub and rel=self headers: subscribe sent to the hub")
    mode, topic, cb_a, secret_a, lease = sub_of(topic_a)
    _, _, cb_b, secret_b, _ = sub_of(topic_b)
    check(cb_a.startswith("http://127.0.0.1:%d/websub/" % DAEMON) and
          re.fullmatch(r"[0-9a-f]{32}", cb_a.rsplit("/", 1)[1]) is not None,
          "callback: public_url/websub/ + 128 random bits (%s)" % cb_a)
    check(secret_a and secret_b and secret_a != secret_b and len(secret_a) >= 32,
          "a hub.secret of its own per subscription")
    check(cb_a != cb_b, "a callback of its own per subscription")
    check(wait_for(lambda: any(v[2] == 200 and v[3] for v in verified(cb_a)), 10),
          "intent verification: the challenge echoed")
    check(wait_for(lambda: any(v[2] == 200 and v[3] for v in verified(cb_b)), 10),
          "intent verification of the Link-header subscription")

    # intent checks we did not ask for
    st, _ = get("/websub/%s?%s" % ("0" * 32, urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.topic": topic_a, "hub.challenge": "x"})))
    check(st == 404, "an intent check for an unknown callback: 404 (%s)" % st)
    path_a = urllib.parse.urlparse(cb_a).path
    st, _ = get(path_a + "?" + urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.topic": BASE + "/other.xml", "hub.challenge": "x"}))
    check(st == 404, "an intent check for another topic: 404 (%s)" % st)
    st, _ = get(path_a + "?" + urllib.parse.urlencode(
        {"hub.mode": "unsubscribe", "hub.topic": topic_a, "hub.challenge": "x"}))
    check(st == 404, "an unsubscribe check nobody asked for: 404 (%s)" % st)

    # a signed push: stored and served within 1 s, no poll
    polls = dict(Hub.fetches)
    body = rss([("a-1", "Rates steady"), ("a-2", "Pushed story arrives")])
    t0 = time.time()
    st, text = push(cb_a, body, secret_a)
    check(st == 200, "a signed push is taken: %s %s" % (st, text.strip()))
    seen = wait_for(lambda: "Pushed story arrives" in get("/feed.atom")[1], 1)
    check(seen, "the pushed story is in /feed.atom within 1 s (%.2f s)" % (time.time() - t0))
    check(dict(Hub.fetches) == polls, "no poll of the publisher for it")

    # refused, the store untouched
    bad = rss([("a-3", "Forged story")])
    st, _ = push(cb_a, bad, sig="sha256=" + "0" * 64)
    check(st == 403, "a bad signature: 403 (%s)" % st)
    st, _ = push(cb_a, bad, secret=None)
    check(st == 403, "no signature: 403 (%s)" % st)
    st, _ = push(cb_a, bad, secret_b)
    check(st == 403, "another subscription's secret: 403 (%s)" % st)
    st, _ = push(cb_a, bad, sig="sha1=" + hmac.new(secret_a.encode(), bad, hashlib.sha1).hexdigest())
    check(st == 403, "a sha1 signature: 403 (%s)" % st)
    st, _ = push(cb_a, body, secret_a)
    check(st == 409, "a replayed delivery: 409 (%s)" % st)
    st, _ = push(BASE.replace(str(PUB), str(DAEMON)) + "/websub/" + "1" * 32, bad, secret_a)
    check(st == 404, "a push for an unknown subscription: 404 (%s)" % st)
    big = rss([("a-9", "Huge")] + [("x-%d" % i, "x" * 200) for i in range(400)])
    st, _ = push(cb_a, big, secret_a)
    check(st == 413, "a body over max_feed_size: 413 (%s)" % st)
    feed = get("/feed.atom")[1]
    check("Forged story" not in feed and "Huge" not in feed, "nothing refused was stored")
    m = get("/metrics")[1]
    check('finfeed_websub_events_total{event="bad_signature"} 4' in m,
          "bad signatures counted on /metrics")
    check('finfeed_websub_events_total{event="replay"} 1' in m, "the replay counted")

    # a flood: rate-limited per subscription
    codes = [push(cb_b, rss([("b-%d" % i, "Flood %d" % i)], hub=False), secret_b)[0]
             for i in range(40)]
    check(429 in codes and codes[0] == 200, "a flood of pushes is rate-limited: %s" %
          sorted(set(codes)))

    # renewal before the lease ends: the clock moved past four fifths of it
    n_before = len([a for a in Hub.asked if a[2] == cb_a and a[0] == "subscribe"])
    with open(clock + ".new", "w") as f:  # renamed over it: never read empty
        f.write("%d\n" % int(Hub.lease * 0.85))
    os.replace(clock + ".new", clock)
    check(wait_for(lambda: len([a for a in Hub.asked if a[2] == cb_a and a[0] == "subscribe"])
                   > n_before, 10),
          "renewed (same callback) before hub.lease_seconds runs out")
    renew = [a for a in Hub.asked if a[2] == cb_a and a[0] == "subscribe"][-1]
    check(renew[3] == secret_a, "the renewal keeps the subscription's secret")
    time.sleep(1.5)
    check(len([a for a in Hub.asked if a[2] == cb_a and a[0] == "subscribe"]) == n_before + 1,
          "renewed once, not again while the hub verifies")

    # unsubscribe when the feed goes
    with open(os.path.join(tmp, "finfeed.conf"), "w") as f:
        f.write(conf(["b"]))
    subprocess.run([BIN, "reload", "-s", os.path.join(tmp, "ctl.sock")], check=True,
                   stdout=subprocess.DEVNULL)
    check(wait_for(lambda: sub_of(topic_a, "unsubscribe") is not None, 10),
          "a reload that drops the feed unsubscribes it")
    check(wait_for(lambda: any(v[2] == 200 and v[3] for v in verified(cb_a, "unsubscribe")), 10),
          "the unsubscribe's intent check is answered")
    st, _ = push(cb_a, rss([("a-7", "After unsubscribe")]), secret_a)
    check(st in (404, 410), "a push for the removed subscription: %s" % st)
    check("After unsubscribe" not in get("/feed.atom")[1], "… and nothing stored")


main()
sys.exit(1 if FAILS else 0)
