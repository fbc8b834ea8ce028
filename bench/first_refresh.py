#!/usr/bin/python3
"""bench/daemon's clock for a daemon's first full refresh.

usage: first_refresh.py BIN CONF LOG SOCKET NFEEDS [TIMEFILE]

Starts `BIN daemon -c CONF` (under /usr/bin/time -o TIMEFILE when given),
its stderr appended to LOG, and times it from just before the start to the
NFEEDS-th `event=fetch` log line (written once a feed is stored).  Prints one
line: the daemon's pid, /usr/bin/time's pid (or the daemon's again), the
seconds until the control SOCKET appeared, until the 10 % mark, its RSS there
(KiB), until the end, the count of lines seen, the daemon's CPU ticks and
VmHWM (KiB) at the end.  The daemon runs on; the caller stops it.

Until session 9 the shell started the daemon, then polled for its pid
(pgrep) and for the socket (a sleep process every 5 ms), then started this
follower, all inside the timed span: on two cores their start-up competed
with the daemon's.  This process starts before the clock and polls the log
and the socket with reads every 2 ms; it starts nothing while timing.
"""
import os
import sys
import time
import subprocess


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def proc_field(pid, name):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
        return int(st[11]) + int(st[12])
    except OSError:
        return 0


def main():
    binpath, conf, logpath, sock, want = sys.argv[1:6]
    timefile = sys.argv[6] if len(sys.argv) > 6 else ""
    want = int(want)
    cmd = [binpath, "daemon", "-c", conf]
    if timefile:
        cmd = ["/usr/bin/time", "-f", "%M %e %U %S", "-o", timefile] + cmd
    log = open(logpath, "ab")
    log.flush()
    pos = os.path.getsize(logpath)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stderr=log, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    dpid = p.pid if not timefile else 0
    n, rest = 0, b""
    t_sock = t10 = t1 = None
    rss10 = 0
    until = t0 + 240
    with open(logpath, "rb") as f:
        f.seek(pos)
        while n < want and time.monotonic() < until:
            if dpid == 0:
                kids = children(p.pid)
                dpid = kids[0] if kids else 0
            if t_sock is None and os.path.exists(sock):
                t_sock = time.monotonic() - t0
            chunk = f.read(1 << 16)
            if not chunk:
                if p.poll() is not None:
                    break
                time.sleep(0.002)
                continue
            *lines, rest = (rest + chunk).split(b"\n")
            for line in lines:
                if b" event=fetch " not in line:
                    continue
                n += 1
                if n == want // 10:
                    t10 = time.monotonic() - t0
                    rss10 = proc_field(dpid, "VmRSS")
                if n == want:
                    t1 = time.monotonic() - t0
                    break
    cpu = cpu_ticks(dpid)
    hwm = proc_field(dpid, "VmHWM")
    if t_sock is None and os.path.exists(sock):
        t_sock = time.monotonic() - t0
    print(dpid or p.pid, p.pid, "%.3f" % (t_sock or 0), "%.3f" % (t10 or 0), rss10,
          "%.3f" % (t1 or 0), n, cpu, hwm)


if __name__ == "__main__":
    main()
