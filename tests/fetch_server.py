#!/usr/bin/python3
"""tests/fetch_server.py — loopback HTTP server playing feed publishers for
tests/test_fetch.c: validators and 304, gzip, redirects, error statuses,
Retry-After, max-age, silence, oversize bodies, a gzip bomb, and concurrency
counters. Listens on 127.0.0.1 and 127.0.0.2 (the latter plays a public
host), port 0 each; prints "PORT1 PORT2" and serves until stdin closes."""
import gzip
import http.server
import os
import sys
import threading
import time
import urllib.parse
from email.utils import formatdate

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>\n'
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
BOMB = gzip.compress(b"\0" * (10 * 1024 * 1024), 9)

lock = threading.Lock()
groups = {}  # group -> [current, max, total, {connections}]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fetch-test"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if path == "/feed":
            hdr = [("ETag", ETAG), ("Last-Modified", LAST_MODIFIED),
                   ("Content-Type", 'application/rss+xml; charset="UTF-8"')]
            if inm == ETAG or (inm is None and ims == LAST_MODIFIED):
                return self.send(304, b"", hdr[:2])
            return self.send(200, FEED, hdr)
        if path == "/weak":
            hdr = [("ETag", 'W/"x"')]
            if inm == 'W/"x"':
                return self.send(304, b"", hdr)
            return self.send(200, FEED, hdr)
        if path == "/echo":
            body = "INM=%s\nIMS=%s\nUA=%s\nAE=%s\n" % (
                inm, ims, self.headers.get("User-Agent"), self.headers.get("Accept-Encoding"))
            return self.send(200, body.encode("latin-1"), [("Content-Type", "text/plain")])
        if path == "/gzip":
            return self.send(200, gzip.compress(FEED), [("Content-Encoding", "gzip"),
                                                        ("Content-Type", "text/xml")])
        if path == "/redir":
            return self.send(int(q.get("code", "302")), b"moved\n", [("Location", q["to"])])
        if path.startswith("/chain/"):
            n = int(path[len("/chain/"):])
            if n == 0:
                return self.send(200, FEED)
            return self.send(int(q.get("code", "301")), b"",
                             [("Location", "/chain/%d?%s" % (n - 1, url.query))])
        if path.startswith("/status/"):
            code = int(path[len("/status/"):])
            hdr = []
            if code == 429:
                hdr.append(("Retry-After", "120"))
            if code == 503:
                hdr.append(("Retry-After", formatdate(time.time() + 3600, usegmt=True)))
            return self.send(code, b"error page\n", hdr)
        if path == "/maxage":
            return self.send(200, FEED, [("Cache-Control", "public, max-age=600")])
        if path == "/silent":
            time.sleep(float(q.get("s", "10")))
            self.close_connection = True
            return None
        if path == "/big":
            n = int(q["n"])
            if q.get("chunked") != "1":
                return self.send(200, b"x" * n)
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while n > 0:
                    part = chunk[:n]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    n -= len(part)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.close_connection = True
            return None
        if path == "/bomb":
            try:
                return self.send(200, BOMB, [("Content-Encoding", "gzip")])
            except OSError:
                self.close_connection = True
                return None
        if path == "/slow":
            g = q.get("group", "")
            with lock:
                st = groups.setdefault(g, [0, 0, 0, set()])
                st[0] += 1
                st[2] += 1
                st[1] = max(st[1], st[0])
                st[3].add(self.client_address)
            time.sleep(int(q.get("ms", "200")) / 1000.0)
            with lock:
                st[0] -= 1
            return self.send(200, ("%s\n" % q.get("id", "")).encode())
        if path == "/stats":
            with lock:
                st = groups.get(q.get("group", ""), [0, 0, 0, set()])
                body = "%d %d %d %d\n" % (st[0], st[1], st[2], len(st[3]))
            return self.send(200, body.encode())
        return self.send(404, b"not found\n")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # a backlog of 5 dropped SYNs of concurrent tests

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # clients hang up: normal here
            super().handle_error(request, client_address)


def serve(addr):
    srv = Server((addr, 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def main():
    p1 = serve("127.0.0.1")
    p2 = serve("127.0.0.2")
    print("%d %d" % (p1, p2), flush=True)
    sys.stdin.read()  # the test closes our stdin (or dies): stop
    os._exit(0)


if __name__ == "__main__":
    main()
