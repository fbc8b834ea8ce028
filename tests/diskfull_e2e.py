#!/usr/bin/python3
"""A store that cannot be written leaves the daemon alive with the reason,
and loses nothing (issue 12 §3), end to end:
- disk full: the database on a small tmpfs (root: mount -t tmpfs -o size=…)
  filled up, or, without root, the LD_PRELOAD shim tests/fault/full.c making
  every write to the database's files fail with ENOSPC. A refresh fails with
  the reason on `status` and /healthz ("degraded: store: … full"), `ping`
  answers; once space is back, the next refresh stores the round that
  failed: the feed's validators (ETag) were not saved by the failed ingest,
  so the publisher is asked without the failed round's ETag and answers 200,
  not a 304 of a document never stored.
- locked: another process holds the write lock (BEGIN IMMEDIATE) through a
  refresh: the same, the reason "locked".
- read-only: a daemon started on a database under a read-only bind mount
  (root) or a read-only file and directory (not root) refuses to start,
  exit 1, with the reason: nothing would be stored.
Usage: diskfull_e2e.py FINFEED_BIN SRCDIR"""
import http.server
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import FAILS, check, ctl, free_port  # noqa: E402
SRC = sys.argv[2]
SANITIZED = os.environ.get("FINFEED_SANITIZED", "") not in ("", "0")
FEEDS = ["f%d" % i for i in range(4)]



class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class Publisher(http.server.BaseHTTPRequestHandler):
    """Feed NAME lists every round's items so far; its ETag names the round."""
    protocol_version = "HTTP/1.1"
    round = 1
    log = []  # (feed, If-None-Match sent, status answered)

    def log_message(self, *a):
        pass

    def do_GET(self):
        name = self.path.strip("/").split(".")[0]
        etag = '"r%d"' % Publisher.round
        inm = self.headers.get("If-None-Match")
        if inm == etag:
            Publisher.log.append((name, inm, 304))
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        Publisher.log.append((name, inm, 200))
        items = "".join(
            "<item><title>%s round %d item %d: a story about rates</title>"
            "<link>http://pub.example/%s/%d/%d</link><guid>%s-%d-%d</guid>"
            "<description><![CDATA[<p>%s</p>]]></description></item>"
            % (name, r, i, name, r, i, name, r, i,
               # bodies of their own (rule 4 merges near-identical ones); round
               # 2 and later large, so that the WAL must grow
               words(name, r, i, 3000 if r > 1 else 20))
            for r in range(1, Publisher.round + 1) for i in range(3))
        body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                "<title>%s</title><link>http://pub.example/</link>%s</channel></rss>"
                % (name, items)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def words(name, r, i, n):
    rng = random.Random("%s/%d/%d" % (name, r, i))
    return " ".join("%x" % rng.getrandbits(32) for _ in range(n))




def healthz(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def guids(db, rnd):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return {g for (g,) in c.execute("SELECT guid FROM articles WHERE guid LIKE ?",
                                         ("%%-%d-%%" % rnd,))}
    finally:
        c.close()


def want(rnd):
    return {"%s-%d-%d" % (f, rnd, i) for f in FEEDS for i in range(3)}


def try_mount(where, size):
    if os.getuid() != 0 or os.environ.get("FINFEED_TEST_NO_TMPFS"):  # (the shim, by hand)
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", where],
                          capture_output=True).returncode == 0


def fill(where):
    """Write a file until the file system is full."""
    # unbuffered: a write the disk refused leaves nothing for close() to
    # flush (a buffered file raised ENOSPC again when closed)
    with open(os.path.join(where, "filler"), "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass


def failed_round(sock, port, what, reason, degraded=True):
    """A refresh of round N that cannot be stored: errors with the reason; alive.
    A lock held elsewhere is waited out, not a store failure: /healthz stays ok."""
    r = ctl(sock, "refresh", timeout=120)
    errs = [(f["feed"], f["status"], f["error"]) for f in r["feeds"]]
    check(all(s == "error" and e and reason in e.lower() for _, s, e in errs),
          "%s: every feed's refresh fails with the reason (%s)" % (what, errs[:1]))
    check(ctl(sock, "ping")["ok"], "%s: the daemon answers ping" % what)
    st = ctl(sock, "status")
    check(all(reason in (f.get("error") or "").lower() for f in st["feeds"]),
          "%s: status says why (%s)" % (what, st["feeds"][0].get("error")))
    code, body = healthz(port)
    if degraded:
        # a full disk may still take a claim's few bytes: /healthz follows the
        # last document's ingest, degraded until one is stored
        check(code == 200 and body.startswith("degraded") and reason in body.lower(),
              "%s: /healthz says 200 degraded with the reason: %d %s"
              % (what, code, body.strip()[:120]))
    else:
        check(code == 200 and body.startswith("ok"),
              "%s: /healthz stays ok (a lock is waited out): %d %s" % (what, code, body.strip()[:60]))


def recovered_round(sock, port, db, what, rnd):
    """The round that failed is stored by the next refresh: no 304 for it."""
    Publisher.log.clear()
    r = ctl(sock, "refresh", timeout=120)
    check(r["ok"] and all(f["status"] == "ok" and f["new"] == 3 for f in r["feeds"]),
          "%s: the next refresh stores the round that failed (%s)"
          % (what, [(f["feed"], f["status"], f["new"], f["error"]) for f in r["feeds"]][:2]))
    asked = {(n, inm, code) for n, inm, code in Publisher.log}
    check(all(inm != '"r%d"' % rnd and code == 200 for _, inm, code in asked),
          "%s: the failed round's ETag was never saved: asked with %s, answered 200, no 304"
          % (what, sorted({inm for _, inm, _ in asked})))
    check(want(rnd) <= guids(db, rnd), "%s: every article of round %d is in the store" % (what, rnd))
    code, body = healthz(port)
    check(code == 200 and body.startswith("ok"), "%s: /healthz ok again (%d %s)"
          % (what, code, body.strip()[:60]))


def main():
    tmp = tempfile.mkdtemp(prefix="finfeed-full-")
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    mounted = try_mount(mnt, "16m")
    env = dict(os.environ)
    shim_flag = os.path.join(tmp, "full.flag")
    if not mounted:
        if SANITIZED:  # a preloaded shim and a sanitizer runtime do not mix
            print("diskfull: SKIP: not root (no tmpfs) and a sanitized build (no LD_PRELOAD shim)")
            sys.exit(77)
        so = os.path.join(tmp, "full.so")
        if subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", so,
                           os.path.join(SRC, "tests", "fault", "full.c"), "-ldl"]).returncode != 0:
            print("FAIL cannot build the shim")
            sys.exit(1)
        env.update(LD_PRELOAD=so, FINFEED_FULL_FLAG=shim_flag, FINFEED_FULL_DIR=mnt)
    print("disk full by %s" % ("a 16 MiB tmpfs" if mounted else "the LD_PRELOAD shim tests/fault/full.c"))
    srv = Server(("127.0.0.1", 0), Publisher)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    pub = "http://127.0.0.1:%d" % srv.server_address[1]
    port = free_port()
    conf = os.path.join(tmp, "finfeed.conf")
    sock = os.path.join(tmp, "ctl.sock")
    db = os.path.join(mnt, "finfeed.db")
    with open(conf, "w") as f:
        f.write("[daemon]\ndatabase = %s\ncontrol_socket = %s\nlisten = 127.0.0.1:%d\n"
                "timeout = 10s\ninterval = 1h\nstale_after = 0\n" % (db, sock, port))
        for name in FEEDS:
            f.write('[feed "%s"]\nurl = %s/%s.xml\n' % (name, pub, name))
    log = open(os.path.join(tmp, "daemon.log"), "w")
    daemon = subprocess.Popen([BIN, "daemon", "-c", conf], stdout=log, stderr=log, env=env)
    done = False
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if ctl(sock, "ping")["ok"]:
                    break
            except OSError:
                time.sleep(0.1)
        r = ctl(sock, "refresh", timeout=120)
        check(all(f["status"] in ("ok", "not-modified") for f in r["feeds"]) and want(1) <= guids(db, 1),
              "round 1 stored")

        # disk full
        Publisher.round = 2
        if mounted:
            fill(mnt)
        else:
            open(shim_flag, "w").close()
        failed_round(sock, port, "disk full", "full")
        check(not guids(db, 2), "disk full: nothing of round 2 was half-stored")
        if mounted:
            os.unlink(os.path.join(mnt, "filler"))
        else:
            os.unlink(shim_flag)
        recovered_round(sock, port, db, "disk full", 2)

        # locked: another process holds the write lock through a refresh
        Publisher.round = 3
        holder = sqlite3.connect(db, timeout=30, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        failed_round(sock, port, "locked", "locked", degraded=False)
        holder.execute("ROLLBACK")
        holder.close()
        recovered_round(sock, port, db, "locked", 3)
        check(daemon.poll() is None, "the daemon ran through all of it")

        # read-only: a second daemon on a read-only copy refuses to start
        ro = os.path.join(tmp, "ro")
        os.mkdir(ro)
        shutil.copy(db, os.path.join(ro, "finfeed.db"))
        bound = False
        if os.getuid() == 0:
            bound = subprocess.run(["mount", "--bind", ro, ro]).returncode == 0 and \
                subprocess.run(["mount", "-o", "remount,ro,bind", ro]).returncode == 0
        else:
            os.chmod(os.path.join(ro, "finfeed.db"), 0o444)
            os.chmod(ro, 0o555)
        conf2 = os.path.join(tmp, "ro.conf")
        with open(conf2, "w") as f:
            f.write("[daemon]\ndatabase = %s/finfeed.db\ncontrol_socket = %s/ro.sock\nlisten = \"\"\n"
                    % (ro, tmp))
        p = subprocess.run([BIN, "daemon", "-c", conf2], capture_output=True, text=True,
                           timeout=60, env={k: v for k, v in env.items() if k != "LD_PRELOAD"})
        check(p.returncode == 1 and "read-only database" in p.stderr,
              "a read-only database: the daemon refuses to start, exit %d: %s"
              % (p.returncode, p.stderr.strip().splitlines()[-1:]))
        if bound:
            subprocess.run(["umount", ro])
        elif os.getuid() != 0:
            os.chmod(ro, 0o755)
        done = True
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        srv.shutdown()
        if FAILS or not done:
            with open(os.path.join(tmp, "daemon.log")) as f:
                print("daemon log tail:\n" + "".join(f.readlines()[-40:]))
        if mounted:
            subprocess.run(["umount", mnt])
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(FAILS) if FAILS else "all passed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
