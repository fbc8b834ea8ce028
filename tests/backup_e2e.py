#!/usr/bin/python3
"""finfeed backup, restore and check against a running daemon (issue 12 §3).
A loopback publisher serves a few hundred small feeds; the daemon stores a
first round, then `finfeed backup` runs while a second round is being
fetched and stored. The backup holds every article committed before it
began; the daemon's refresh is not disturbed; `restore` installs it into a
fresh path and `check` finds it clean. Then what must be refused: restore
while a daemon runs or holds the database, an existing OUT without --force,
a truncated and a damaged backup (check reports them, restore refuses them
and leaves the target alone).
Usage: backup_e2e.py FINFEED_BIN SRCDIR [--feeds N] [--bench DIR]
  --bench DIR  serve DIR/small/feed-NNNN.xml (shared/bench/gen_bench_feeds.py
               --only small) instead: the manual 1,000-feed run, e.g.
               python3 ../shared/bench/gen_bench_feeds.py --only small --out /tmp/bench
               tests/backup_e2e.py build/finfeed . --bench /tmp/bench --feeds 1000"""
import http.server
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import FAILS, check, ctl, free_port  # noqa: E402
SANITIZED = os.environ.get("FINFEED_SANITIZED", "") not in ("", "0")
ARGS = sys.argv[3:]
BENCH = ARGS[ARGS.index("--bench") + 1] if "--bench" in ARGS else None
NFEEDS = int(ARGS[ARGS.index("--feeds") + 1]) if "--feeds" in ARGS else (80 if SANITIZED else 300)
ITEMS = 8  # items a feed adds a round



WORDS = ("bond yield rate yuan dollar equity index central bank minutes inflation "
         "credit spread liquidity 央行 流动性 债券 股市 汇率 通胀 利率").split()


def item_body(seed):
    """A body of its own (rule 4 would merge bodies that are near-identical)."""
    rng = random.Random(seed)
    return "".join("<p>%s.</p>" % " ".join(rng.choice(WORDS) + str(rng.randrange(1000))
                                            for _ in range(40)) for _ in range(4))


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # a few hundred fetches at once: no dropped connection
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that closes a kept-alive connection is no error


class Publisher(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    round = 1

    def log_message(self, *a):
        pass

    def do_GET(self):
        name = self.path.strip("/").split(".")[0]
        if BENCH:
            try:
                with open(os.path.join(BENCH, "small", name + ".xml"), "rb") as f:
                    return self.reply(f.read())
            except OSError:
                return self.reply(b"", 404)
        items = []
        for r in range(1, Publisher.round + 1):
            for i in range(ITEMS):
                items.append(
                    "<item><title>%s round %d story %d on rates and the yuan</title>"
                    "<link>http://pub.example/%s/%d/%d</link><guid>%s-%d-%d</guid>"
                    "<description><![CDATA[%s<p>Story %d of %s, round %d.</p>]]></description>"
                    "</item>" % (name, r, i, name, r, i, name, r, i, item_body("%s/%d/%d" % (name, r, i)),
                                 i, name, r))
        body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                "<title>%s</title><link>http://pub.example/</link>%s</channel></rss>"
                % (name, "".join(items))).encode()
        self.reply(body)

    def reply(self, body, code=200):
        self.send_response(code)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)




def run(*args, timeout=600):
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def uids(path):
    """The articles' output ids, read the way any reader would (WAL: never waits)."""
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return {r[0] for r in c.execute("SELECT uid FROM articles")}
    finally:
        c.close()


def write_conf(path, db, sock, port, names, pub):
    with open(path, "w") as f:
        f.write("[daemon]\ndatabase = %s\ncontrol_socket = %s\nlisten = %s\n"
                "timeout = 30s\ninterval = 1h\nstale_after = 0\n"
                % (db, sock, "127.0.0.1:%d" % port if port else '""'))
        for name in names:
            f.write('[feed "%s"]\nurl = %s/%s.xml\n' % (name, pub, name))


def main():
    tmp = tempfile.mkdtemp(prefix="finfeed-backup-")
    srv = Server(("127.0.0.1", 0), Publisher)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    pub = "http://127.0.0.1:%d" % srv.server_address[1]
    names = ["feed-%04d" % i for i in range(NFEEDS)]
    live = os.path.join(tmp, "live")
    os.mkdir(live)
    conf = os.path.join(tmp, "finfeed.conf")
    sock_path = os.path.join(tmp, "ctl.sock")
    db = os.path.join(live, "finfeed.db")
    write_conf(conf, db, sock_path, free_port(), names, pub)
    log = open(os.path.join(tmp, "daemon.log"), "w")
    daemon = subprocess.Popen([BIN, "daemon", "-c", conf], stdout=log, stderr=log)
    done = False
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if ctl(sock_path, "ping")["ok"]:
                    break
            except OSError:
                time.sleep(0.1)
        if not BENCH:
            r = ctl(sock_path, "refresh", timeout=600)
            bad = [(f["feed"], f["error"]) for f in r["feeds"] if f["status"] != "ok"]
            check(r["ok"] and not bad, "round 1: %d feeds stored (%s)" % (len(r["feeds"]), bad[:3]))
            Publisher.round = 2
        first = len(uids(db))

        # round 2 (or the bench's only round) being stored while the backup runs
        res = {}

        def refresh():
            res["r"] = ctl(sock_path, "refresh", timeout=1200)
        t = threading.Thread(target=refresh)
        t.start()
        deadline = time.monotonic() + 120
        while len(uids(db)) == first and time.monotonic() < deadline:
            time.sleep(0.02)
        before = uids(db)  # committed before the backup begins
        out = os.path.join(tmp, "backup.db")
        t0 = time.monotonic()
        rc, so, se = run("backup", "-c", conf, out)
        took = time.monotonic() - t0
        during = t.is_alive()
        check(rc == 0 and "checked: clean" in so,
              "backup during the refresh: exit %d, %.2f s (%s%s)" % (rc, took, so.strip(), se.strip()[-300:]))
        check("pages" in se, "backup shows its progress (%s)" % se.strip().splitlines()[-1:])
        t.join()
        after = uids(db)
        check(during or len(after) > len(before),
              "the daemon stored articles while the backup ran (%d before, %d after; refresh %s)"
              % (len(before), len(after), "still running" if during else "finished"))
        r = res.get("r", {})
        bad = [(f["feed"], f["error"]) for f in r.get("feeds", []) if f["status"] not in ("ok", "not-modified")]
        check(r.get("ok") and not bad, "the refresh around the backup: every feed stored (%s)" % bad[:3])
        check(not [n for n in os.listdir(tmp) if n.startswith(".backup.db")],
              "no temporary file left beside the backup")
        check(not os.path.exists(out + "-wal") and not os.path.exists(out + "-journal"),
              "the backup is one file (no -wal, no -journal)")

        # restore into a fresh path; check; every article of before
        fresh = os.path.join(tmp, "fresh")
        os.mkdir(fresh)
        conf2 = os.path.join(tmp, "fresh.conf")
        db2 = os.path.join(fresh, "finfeed.db")
        write_conf(conf2, db2, os.path.join(tmp, "fresh.sock"), 0, names, pub)
        rc, so, se = run("restore", "-c", conf2, out)
        check(rc == 0, "restore into a fresh path: exit %d (%s%s)" % (rc, so.strip(), se.strip()[-300:]))
        rc, so, se = run("check", "-c", conf2)
        check(rc == 0 and "clean" in so and "integrity_check: ok" in so and
              "fts5 integrity-check: ok" in so and "invariants: ok" in so,
              "check of the restored store: exit %d, clean" % rc)
        got = uids(db2)
        check(before <= got, "the restored store holds every article stored before the backup began "
              "(%d of %d; %d in all)" % (len(before & got), len(before), len(got)))
        rc, so, se = run("export", "-c", conf2, "--format", "json", "--limit", "1000000")
        n = len(json.loads(so).get("items", [])) if rc == 0 else -1
        check(n == len(got), "finfeed export reads the restored store: %d articles" % n)

        # refusals
        rc, so, se = run("restore", "-c", conf, out)
        check(rc == 1 and "daemon answers" in se, "restore refused while the daemon runs: %s" % se.strip())
        conf3 = os.path.join(tmp, "other-socket.conf")
        write_conf(conf3, db, os.path.join(tmp, "nobody.sock"), 0, names, pub)
        rc, so, se = run("restore", "-c", conf3, out)
        check(rc == 1 and "open in process %d" % daemon.pid in se,
              "restore refused while a process holds the database: %s" % se.strip())
        rc, so, se = run("backup", "-c", conf, out)
        check(rc == 1 and out in se and "--force" in se, "an existing OUT is refused: %s" % se.strip())
        rc, so, se = run("backup", "-c", conf, "--force", out)
        check(rc == 0, "--force replaces it: exit %d %s" % (rc, se.strip()[-200:]))
        rc, so, se = run("backup", "-c", conf, os.path.join(tmp, "no-such-dir", "b.db"))
        check(rc == 1 and "no-such-dir" in se, "an OUT in a missing directory: %s" % se.strip())

        # damaged backups: reported by check, refused by restore, target untouched
        with open(db2, "rb") as f:
            target_bytes = f.read()
        size = os.path.getsize(out)
        trunc = os.path.join(tmp, "truncated.db")
        shutil.copy(out, trunc)
        os.truncate(trunc, size // 2)
        flip = os.path.join(tmp, "flipped.db")
        shutil.copy(out, flip)
        with open(flip, "r+b") as f:
            # the b-tree page headers of every 7th page: what a bad sector does
            for page in range(2, size // 4096, 7):
                f.seek(page * 4096)
                f.write(b"\xff" * 12)
        for name, path in (("truncated", trunc), ("byte-flipped", flip)):
            rc, so, se = run("check", path)
            check(rc == 1 and "problem" in so, "check reports the %s backup: exit %d (%s)"
                  % (name, rc, [l for l in so.splitlines() if "problem" in l][:2]))
            rc, so, se = run("restore", "-c", conf2, "--force", path)
            check(rc == 1 and "not restored" in se, "restore refuses the %s backup: %s"
                  % (name, se.strip().splitlines()[-1:]))
            with open(db2, "rb") as f:
                check(f.read() == target_bytes, "… and leaves the target as it was")
        # a sound file whose rows break the store's invariants
        inv = os.path.join(tmp, "invariants.db")
        shutil.copy(db2, inv)
        c = sqlite3.connect(inv)
        a1, a2 = [r[0] for r in c.execute("SELECT id FROM articles ORDER BY id LIMIT 2")]
        c.execute("DELETE FROM sources WHERE article_id = ?", (a1,))
        c.execute("DELETE FROM keys WHERE kind = 1 AND article_id = ?", (a2,))
        c.execute("INSERT INTO keys VALUES(1, '999999' || char(31) || 'guid', ?, 0)", (a2,))
        c.execute("INSERT INTO keys VALUES(9, 'what', ?, 0)", (a2,))
        c.execute("DELETE FROM articles_fts WHERE rowid = ?", (a2,))
        c.execute("INSERT INTO sources VALUES(?, 999999, 0)", (a2,))
        c.commit()
        c.close()
        rc, so, se = run("check", inv)
        found = [l for l in so.splitlines() if "problem:" in l]
        for what in ("articles without a source", "first feed is not among their sources",
                     "without their guid key", "naming a feed that does not exist",
                     "unknown kind", "missing from the search index", "sources naming a feed"):
            check(rc == 1 and any(what in l for l in found), "check reports %s" % what)
        rc, so, se = run("check", os.path.join(tmp, "missing.db"))
        check(rc == 1 and "missing.db" in se, "check of a missing file: %s" % se.strip())
        done = True
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        srv.shutdown()
        if FAILS or not done:
            print("daemon exit: %s; its log's tail:" % daemon.returncode)
            with open(os.path.join(tmp, "daemon.log")) as f:
                print("".join(f.readlines()[-20:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(FAILS) if FAILS else "all passed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
