"""tests/e2e_lib.py — what the end-to-end scripts (tests/*_e2e.py) share:
the verdict lines, a free loopback port and the control socket's client."""
import json
import socket

FAILS = []


def check(cond, what):
    """Print one verdict line; a failure is kept for the exit status."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ctl(sock_path, line, timeout=60):
    """One request line (text, or bytes as sent) on the control socket,
    its JSON answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    raw = line if isinstance(line, bytes) else line.encode()
    s.sendall(raw if raw.endswith(b"\n") else raw + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)
