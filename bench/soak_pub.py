#!/usr/bin/python3
"""bench/soak_pub.py — the loopback publishers of bench/soak: feeds that keep
changing, sometimes fail and sometimes move, for as long as the soak runs.

    soak_pub.py PORTFILE [--feeds N] [--rate R] [--updates U] [--timeout S] [--seed X]

Serves N feeds (200) on 127.0.0.1 at /s/pNNN.xml (also /m/pNNN.xml, where a
301 may have moved it, and /t/pNNN.xml, a 302's target), writes its port to
PORTFILE and runs until killed. GET /_stats: what it has published and served.

A thread publishes R new items a second (8), spread over the feeds at random
(the huge feeds a tenth as often), and edits U existing items a second (1):
a new title or body under the same guid (an update). A document lists a
feed's newest 25 items, from the first request on (a backlog of 25). Of the new
items, some are stories of their own, some reposts of a recent wire story
by another feed (same title, the body with a byline added: SPEC §7 rule 3/4),
some the same link with tracking parameters (rule 2), some a column title
("Market Wrap", "晚间公告汇总") with a body of its own; a few have no date or
a CMS's 1970 date. Feeds by number (i = 0 … N-1):

  i % 10 == 3  Atom 1.0            i % 10 == 9  JSON Feed 1.1
  i % 10 == 7  RSS in GBK (Chinese text, +0800 dates, sometimes a wrong HTTP charset)
  i % 25 == 5  huge: 25 items of ~60 KB each (a 1.5 MB document)
  i % 4 == 2   gzip when asked
  i % 6 == 1   flaky: 500, 503 + Retry-After, an HTML anti-bot page, random
               bytes, a document cut in half, a reset connection, or no answer
               within the daemon's timeout — about 15% of requests in all
  i % 9 == 4   moving: sometimes a 302 to /t/ (the URL stays), sometimes a
               301 to the other of /s/ and /m/ (the daemon's URL moves, and
               later moves back)

Every good answer carries ETag and Last-Modified (the document's version and
when it changed); If-None-Match, else If-Modified-Since, gets a 304.
The HTTP scaffolding (Server, the reply helper) is tests/cluster_pub.py's.
"""
import argparse
import gzip
import json
import os
import random
import sys
import threading
import time
from email.utils import formatdate

sys.dont_write_bytecode = True  # no __pycache__ left in tests/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import cluster_pub  # noqa: E402  (the loopback server and reply helper of the cluster test)

KEEP = 25          # items a document lists
BACKLOG = KEEP     # items a feed starts with: its first document is full
WIRE_POOL = 60     # recent wire stories a repost is drawn from
LOCK = threading.Lock()

EN = ("rates yields bond equity index central bank liquidity repo inflation credit "
      "spread dollar yen euro yuan copper oil gold grain freight wages lending "
      "earnings guidance outlook merger filing dividend buyback tariff exports "
      "imports deficit surplus payrolls futures options volatility treasury "
      "municipal sovereign default rating downgrade upgrade auction").split()
ZH = ("央行 流动性 债券 股市 汇率 通胀 利率 逆回购 财政 证监会 基金 期货 人民币 "
      "港股 沪指 深成指 创业板 北向资金 外汇 国债 信贷 社融 房地产 消费 出口").split()
COLUMNS = ["Market Wrap", "Daily FX Outlook", "晚间公告汇总", "早盘必读", "Stocks making the biggest moves"]


class Item:
    __slots__ = ("guid", "title", "link", "date", "body", "serial")

    def __init__(self, guid, title, link, date, body, serial):
        self.guid, self.title, self.link, self.date, self.body, self.serial = \
            guid, title, link, date, body, serial


class Feed:
    def __init__(self, i):
        self.i = i
        self.name = "p%03d" % i
        self.kind = "atom" if i % 10 == 3 else "json" if i % 10 == 9 else \
            "gbk" if i % 10 == 7 else "rss"
        self.huge = i % 25 == 5
        self.gzip = i % 4 == 2
        self.flaky = i % 6 == 1
        self.moving = i % 9 == 4
        self.home = "s"          # where a 301 last sent the daemon ("s" or "m")
        self.items = []          # newest last
        self.serial = 0
        self.version = 0
        self.changed = time.time()
        self.doc = None          # (bytes, gzipped bytes or None), rendered on demand

    def touch(self):
        self.version += 1
        self.changed = time.time()
        self.doc = None


def words(rng, n, zh):
    pool = ZH if zh else EN
    sep = "" if zh else " "
    return sep.join(rng.choice(pool) + (str(rng.randrange(1000)) if rng.random() < 0.3 else "")
                    for _ in range(n))


def body_text(rng, zh, paragraphs, size):
    return "".join("<p>%s。</p>" % words(rng, size, zh) if zh else
                   "<p>%s.</p>" % words(rng, size, zh) for _ in range(paragraphs))


class Publisher:
    def __init__(self, nfeeds, rate, updates, timeout, seed):
        self.rng = random.Random(seed)
        self.feeds = [Feed(i) for i in range(nfeeds)]
        self.by_name = {f.name: f for f in self.feeds}
        self.rate, self.updates, self.timeout = rate, updates, timeout
        self.wire = []           # (title, body, serial) of recent stories others may repost
        self.stats = {"published": 0, "reposts": 0, "same_link": 0, "columns": 0, "updates": 0,
                      "requests": 0, "200": 0, "304": 0, "faults": {}, "redirects": 0}
        for f in self.feeds:
            for _ in range(BACKLOG):
                self.publish(f)

    # ---- what the feeds say -------------------------------------------------
    def publish(self, f):
        rng = self.rng
        f.serial += 1
        zh = f.kind == "gbk"
        serial = f.serial
        guid = "%s-%d" % (f.name, serial)
        link = "http://pub%d.example/%s/%d.html" % (f.i % 7, f.name, serial)
        r = rng.random()
        if f.huge:
            title = "%s long read %d: %s" % (f.name, serial, words(rng, 6, zh))
            body = body_text(rng, zh, 60, 150)
        elif r < 0.10 and self.wire:
            title, body, _ = rng.choice(self.wire)  # a repost: title and body, a byline added
            body = body + "<p>(%s desk)</p>" % f.name
            self.stats["reposts"] += 1
        elif r < 0.13 and self.wire:
            other = rng.choice(self.feeds)
            if other.items:
                src = other.items[-1]  # the same story, its link with tracking parameters
                title, body = src.title, src.body
                link = src.link.split("?")[0] + "?utm_source=%s&utm_medium=rss" % f.name
                self.stats["same_link"] += 1
            else:
                title, body = words(rng, 8, zh), body_text(rng, zh, 4, 30)
        elif r < 0.18:
            title = rng.choice(COLUMNS)
            body = body_text(rng, zh, 3, 25)
            self.stats["columns"] += 1
        else:
            title = "%s %s" % (words(rng, 7, zh), serial)
            body = body_text(rng, zh, rng.randrange(2, 7), rng.randrange(15, 45))
            if not f.huge and rng.random() < 0.5:
                self.wire.append((title, body, serial))
                del self.wire[:-WIRE_POOL]
        now = time.time()
        d = rng.random()
        date = None if d < 0.03 else 0 if d < 0.05 else now  # no date; a CMS's 1970
        f.items.append(Item(guid, title, link, date, body, serial))
        del f.items[:-KEEP]
        f.touch()
        self.stats["published"] += 1

    def update(self, f):
        if not f.items:
            return
        it = self.rng.choice(f.items)
        if self.rng.random() < 0.5:
            it.title = it.title + " (updated)" if not it.title.endswith("(updated)") else \
                it.title[:-10]
        else:
            it.body = it.body + "<p>Update %d.</p>" % self.rng.randrange(10 ** 6)
        f.touch()
        self.stats["updates"] += 1

    def ticker(self):
        step = 0.25
        huge = [f for f in self.feeds if f.huge]
        normal = [f for f in self.feeds if not f.huge]
        # a huge feed publishes a tenth as often as another
        share = 0.1 * len(huge) / (0.1 * len(huge) + len(normal)) if normal else 1.0
        while True:
            time.sleep(step)
            with LOCK:
                for _ in range(poisson(self.rng, self.rate * step)):
                    pool = huge if huge and self.rng.random() < share else normal
                    self.publish(self.rng.choice(pool))
                for _ in range(poisson(self.rng, self.updates * step)):
                    self.update(self.rng.choice(normal or huge))

    # ---- rendering ------------------------------------------------------------
    def render(self, f):
        if f.doc is None:
            body = {"atom": atom, "json": jsonfeed, "gbk": rss, "rss": rss}[f.kind](f)
            f.doc = (body, gzip.compress(body, 1) if f.gzip else None)
        return f.doc


def poisson(rng, lam):
    # Knuth's; lam is small here
    n, p, limit = 0, rng.random(), pow(2.718281828459045, -lam)
    while p > limit:
        n += 1
        p *= rng.random()
    return n


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rfc822(t, zh):
    if zh:
        return time.strftime("%a, %d %b %Y %H:%M:%S +0800", time.gmtime(t + 8 * 3600))
    return formatdate(t, usegmt=True)


def rss(f):
    zh = f.kind == "gbk"
    out = ['<?xml version="1.0" encoding="%s"?>\n<rss version="2.0"><channel>'
           "<title>%s</title><link>http://pub.example/%s/</link><description>soak</description>"
           % ("gbk" if zh else "utf-8", "新浪财经 %s" % f.name if zh else "Desk " + f.name, f.name)]
    for it in reversed(f.items):
        date = "" if it.date is None else "<pubDate>%s</pubDate>" % (
            "Thu, 01 Jan 1970 00:00:00 GMT" if it.date == 0 else rfc822(it.date, zh))
        out.append("<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s</guid>%s"
                   "<description><![CDATA[%s]]></description></item>"
                   % (esc(it.title), esc(it.link), it.guid, date, it.body))
    out.append("</channel></rss>\n")
    text = "".join(out)
    return text.encode("gbk", "xmlcharrefreplace") if zh else text.encode()


def atom(f):
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
           "<title>Atom desk %s</title><id>urn:soak:%s</id><updated>%s</updated>"
           "<author><name>Desk %s</name></author>"
           % (f.name, f.name, iso(f.changed), f.name)]
    for it in reversed(f.items):
        date = "" if it.date is None else "<published>%s</published>" % (
            "1970-01-01T00:00:00Z" if it.date == 0 else iso(it.date))
        out.append("<entry><title>%s</title><link href=\"%s\"/><id>urn:soak:%s</id>%s"
                   "<content type=\"html\">%s</content></entry>"
                   % (esc(it.title), esc(it.link), it.guid, date, esc(it.body)))
    out.append("</feed>\n")
    return "".join(out).encode()


def jsonfeed(f):
    items = []
    for it in reversed(f.items):
        d = {"id": it.guid, "url": it.link, "title": it.title, "content_html": it.body}
        if it.date is not None:
            d["date_published"] = "1970-01-01T00:00:00Z" if it.date == 0 else iso(it.date)
        items.append(d)
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "JSON desk " + f.name,
                       "home_page_url": "http://pub.example/%s/" % f.name, "items": items},
                      ensure_ascii=False).encode()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


CTYPE = {"rss": "application/rss+xml; charset=utf-8", "atom": "application/atom+xml",
         "json": "application/feed+json", "gbk": "application/rss+xml; charset=gbk"}
PUB = None


class Handler(cluster_pub.Publisher):
    def fault(self, f):
        """Maybe answer badly (a flaky feed): True when it did."""
        rng = PUB.rng
        r = rng.random()
        with LOCK:
            kind = None
            if r < 0.05:
                kind = "500"
            elif r < 0.07:
                kind = "503"
            elif r < 0.09:
                kind = "html"
            elif r < 0.10:
                kind = "bytes"
            elif r < 0.12:
                kind = "cut"
            elif r < 0.13:
                kind = "reset"
            elif r < 0.14:
                kind = "silent"
            if kind is None:
                return False
            PUB.stats["faults"][kind] = PUB.stats["faults"].get(kind, 0) + 1
            doc = PUB.render(f)[0] if kind == "cut" else None
            noise = bytes(rng.randrange(256) for _ in range(2000)) if kind == "bytes" else None
        if kind == "500":
            self.reply(500, b"internal error\n", "text/plain")
        elif kind == "503":
            self.reply(503, b"busy\n", "text/plain", [("Retry-After", "3")])
        elif kind == "html":
            self.reply(200, b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
                       b"<body>Checking your browser before accessing.</body></html>", "text/html")
        elif kind == "bytes":
            self.reply(200, noise, "application/rss+xml")
        elif kind == "cut":
            self.reply(200, doc[:len(doc) // 2], CTYPE[f.kind])
        elif kind == "reset":
            self.close_connection = True
        elif kind == "silent":
            time.sleep(PUB.timeout + 2)
            self.close_connection = True
        return True

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/_stats":
            with LOCK:
                body = json.dumps(PUB.stats).encode()
            return self.reply(200, body)
        parts = path.split("/")
        if len(parts) != 3 or parts[1] not in ("s", "m", "t") or not parts[2].endswith(".xml"):
            return self.reply(404, b"no such feed\n", "text/plain")
        f = PUB.by_name.get(parts[2][:-4])
        if f is None:
            return self.reply(404, b"no such feed\n", "text/plain")
        with LOCK:
            PUB.stats["requests"] += 1
        if f.flaky and self.fault(f):
            return None
        if f.moving and parts[1] != "t":
            r = PUB.rng.random()
            with LOCK:
                if parts[1] != f.home or r < 0.02:
                    # the feed lives elsewhere now (or moves now): a permanent move
                    if parts[1] == f.home:
                        f.home = "m" if f.home == "s" else "s"
                    PUB.stats["redirects"] += 1
                    to = "/%s/%s" % (f.home, parts[2])
                    code = 301
                elif r < 0.12:
                    PUB.stats["redirects"] += 1
                    to, code = "/t/%s?via=%s" % (parts[2], parts[1]), 302
                else:
                    to = None
            if to:
                return self.reply(code, b"moved\n", "text/plain", [("Location", to)])
        with LOCK:
            body, gz = PUB.render(f)
            etag = '"%s-v%d"' % (f.name, f.version)
            lm = formatdate(f.changed, usegmt=True)
            ctype = CTYPE[f.kind]
            if f.kind == "gbk" and f.i % 20 == 7:
                ctype = "text/xml; charset=utf-8"  # a wrong HTTP charset over GBK bytes
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        hdr = [("ETag", etag), ("Last-Modified", lm)]
        if inm == etag or (inm is None and ims == lm):
            with LOCK:
                PUB.stats["304"] += 1
            return self.reply(304, b"", ctype, hdr)
        if gz is not None and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gz
            hdr.append(("Content-Encoding", "gzip"))
        with LOCK:
            PUB.stats["200"] += 1
        return self.reply(200, body, ctype, hdr)


class Server(cluster_pub.Server):
    def handle_error(self, request, client_address):
        pass  # a client that hangs up (the daemon's timeout) is no error here


def main():
    global PUB
    ap = argparse.ArgumentParser(description="the loopback publishers of bench/soak")
    ap.add_argument("portfile")
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--rate", type=float, default=8.0, help="new items a second, all feeds")
    ap.add_argument("--updates", type=float, default=1.0, help="edited items a second")
    ap.add_argument("--timeout", type=float, default=5.0, help="the daemon's timeout")
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    PUB = Publisher(a.feeds, a.rate, a.updates, a.timeout, a.seed)
    threading.Thread(target=PUB.ticker, daemon=True).start()
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as fp:
        fp.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
