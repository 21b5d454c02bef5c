#!/usr/bin/env python3
"""Soak load for jac-scale (run by bench/soak.sh, which starts the servers).

Mixed load, for --secs seconds, on three servers: the Rust todo app, the Jac todo app
and the Jac data app (examples/data-jac). Every --interval seconds it samples each
server's RSS, open file descriptors and threads (/proc/<pid>) and the latencies of the
calls answered in that window (p50, p99), and counts non-2xx answers that were not
deliberate. At the end it reports the growth from the first sample after --warmup to the
last one, against the goals of issue 12 (RSS and fds under 10 % growth, p99 flat, no
unexpected non-2xx). Standard library only.

Load (each a thread looping on one keep-alive connection):
  rust-public   POST /walker/Ping                    Rust todo, anonymous
  rust-auth     POST /walker/Greet, /walker/ListTodos (20 todos), CreateTodo 1 in 10
  jac-public    POST /walker/Ping, pub_add function   Jac todo, anonymous
  jac-auth      POST /walker/Greet, /walker/ListTodos (20 todos), CreateTodo 1 in 10
  webhook       POST /webhook/PaymentHook, API key + HMAC signature (Jac todo), 8/s
  ws-echo       /ws/EchoWS: a message and its answer; a new connection every 50
  ws-broadcast  /ws/ChatWS: one client sends, it and a second client receive it
  kvstore       POST /walker/redis_example (the key-value store; embedded unless
                REDIS_URL is set for the server), mongo_example (document store)
  uploads       POST /walker/upload_file, multipart 4 KiB (data app), 20/s
  deliberate    POST /walker/Boom (500) and CreateTodo without a token (401), counted apart
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time

PASSWORD = "soak-pass-123"


# ------------------------------------------------------------------ recording


class Recorder:
    """Latencies and statuses of every call, by window."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []
        self.unexpected = []
        self.counts = {}
        self.deliberate = 0

    def record(self, op, started, status, expected):
        took = time.monotonic() - started
        with self.lock:
            self.counts[op] = self.counts.get(op, 0) + 1
            if status in expected:
                if status >= 300:
                    self.deliberate += 1
                else:
                    self.latencies.append(took)
            else:
                self.unexpected.append((op, status))

    def take(self):
        """The window's latencies and unexpected answers; starts a new window."""
        with self.lock:
            window = (self.latencies, self.unexpected, dict(self.counts), self.deliberate)
            self.latencies, self.unexpected = [], []
            return window


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


# ------------------------------------------------------------------ HTTP


class Http:
    """One keep-alive connection to a server; reconnects after a failure."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        """(status, parsed JSON or None); status 0 = no answer (connection failed)."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.request(method, path, body=body, headers=headers)
                reply = self.conn.getresponse()
                data = reply.read()
                try:
                    parsed = json.loads(data) if data else None
                except ValueError:
                    parsed = None
                return reply.status, parsed
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt:
                    return 0, None
        return 0, None


def find(value, key):
    """The first value of `key` anywhere in a JSON value."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = find(item, key)
            if found is not None:
                return found
    return None


def user(port, email):
    """Registers `email` (if new) and logs in; the bearer token."""
    http_ = Http(port)
    http_.call("POST", "/user/register", {"email": email, "password": PASSWORD})
    status, body = http_.call("POST", "/user/login", {"email": email, "password": PASSWORD})
    token = find(body, "access_token") or find(body, "token")
    if status != 200 or not token:
        sys.exit(f"login on port {port} failed: {status} {body}")
    return token


# ------------------------------------------------------------------ WebSocket


class WebSocket:
    """A minimal RFC 6455 client: text frames out (masked), text frames in."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("closed during the handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise OSError(f"upgrade refused: {head[:80]!r}")

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, value):
        self._frame(0x1, json.dumps(value).encode())

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        """The next text frame as JSON (pings answered)."""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x9:
                self._frame(0xA, payload)
            elif opcode == 0x8:
                raise OSError("closed by the server")

    def close(self):
        try:
            self._frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


# ------------------------------------------------------------------ load


def http_worker(stop, rec, port, calls, pace=0.0):
    """Cycles through `calls`: (op, method, path, body, headers, expected statuses), at
    most one call per `pace` seconds."""
    conn = Http(port)
    i = 0
    while not stop.is_set():
        op, method, path, body, headers, expected = calls[i % len(calls)]
        i += 1
        started = time.monotonic()
        status, _ = conn.call(method, path, body, headers)
        rec.record(op, started, status, expected)
        time.sleep(max(0.0, pace - (time.monotonic() - started)))


def ws_worker(stop, rec, port, op, paths, exchange):
    """Connects one socket per path, runs `exchange(sockets, n)` (whether the answer was
    right) 50 times, and connects again: connections come and go all the time."""
    while not stop.is_set():
        try:
            sockets = [WebSocket(port, path) for path in paths]
        except OSError:
            rec.record(op, time.monotonic(), 0, {200})
            time.sleep(0.1)
            continue
        try:
            for n in range(50):
                if stop.is_set():
                    break
                started = time.monotonic()
                rec.record(op, started, 200 if exchange(sockets, n) else 599, {200})
        except OSError:
            rec.record(op, time.monotonic(), 0, {200})
        finally:
            for ws in sockets:
                ws.close()


def echo(sockets, n):
    """EchoWS answers the sender."""
    (ws,) = sockets
    ws.send({"message": f"m{n}", "client_id": "soak"})
    frame = ws.receive()
    return bool(frame.get("ok")) and find(frame, "echo") == f"m{n}"


def broadcast(sockets, n):
    """ChatWS broadcasts: the sender and the listener both receive the message."""
    text = f"b{n}-{time.monotonic_ns()}"
    sockets[0].send({"message": text, "sender": "soak"})
    return [find(ws.receive(), "content") for ws in sockets] == [text, text]


def multipart(filename, data):
    boundary = "soak-boundary-4f1c"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode() + data + (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"folder\"\r\n\r\n"
        f"soak\r\n--{boundary}--\r\n"
    ).encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def seed(port, token, count):
    conn = Http(port)
    for i in range(count):
        conn.call(
            "POST", "/walker/CreateTodo", {"title": f"seed {i}"}, {"Authorization": f"Bearer {token}"}
        )


def start_load(stop, rec, ports):
    rust, jac, data = ports["rust"], ports["jac"], ports["data"]
    ok = {200}
    threads = []

    def spawn(target, *args):
        thread = threading.Thread(target=target, args=(stop, rec) + args, daemon=True)
        thread.start()
        threads.append(thread)

    for name, port in (("rust", rust), ("jac", jac)):
        reader = user(port, f"soak-reader-{name}@example.com")
        writer = user(port, f"soak-writer-{name}@example.com")
        seed(port, reader, 20)
        read_auth = {"Authorization": f"Bearer {reader}"}
        write_auth = {"Authorization": f"Bearer {writer}"}
        public = [(f"{name}-public", "POST", "/walker/Ping", {}, {}, ok)]
        if name == "jac":
            public.append(("jac-public", "POST", "/function/pub_add", {"a": 1, "b": 2}, {}, ok))
        spawn(http_worker, port, public)
        authed = [(f"{name}-auth", "POST", "/walker/Greet", {"name": "soak"}, read_auth, ok)] * 5
        authed += [(f"{name}-auth", "POST", "/walker/ListTodos", {}, read_auth, ok)] * 4
        authed += [(f"{name}-auth", "POST", "/walker/CreateTodo", {"title": "soak"}, write_auth, ok)]
        spawn(http_worker, port, authed)
        deliberate = [
            ("deliberate", "POST", "/walker/Boom", {}, {}, {500}),
            ("deliberate", "POST", "/walker/CreateTodo", {"title": "x"}, {}, {401}),
        ] + [(f"{name}-public", "POST", "/walker/Ping", {}, {}, ok)] * 18
        spawn(http_worker, port, deliberate)

    # Webhook on the Jac todo app: an API key of the writer, each call signed.
    owner = user(jac, "soak-webhook@example.com")
    status, body = Http(jac).call(
        "POST", "/api-key/create", {"name": "soak"}, {"Authorization": f"Bearer {owner}"}
    )
    api_key = find(body, "api_key")
    if not api_key:
        sys.exit(f"API key creation failed: {status} {body}")
    payload = json.dumps({"payment_id": "PAY-1", "amount": 9.5, "currency": "USD"}).encode()
    signature = hmac.new(api_key.encode(), payload, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-API-Key": api_key,
               "X-Webhook-Signature": signature}
    # 8 calls/s: within the default rate limit of a key (600 a minute).
    webhook = [("webhook", "POST", "/webhook/PaymentHook", payload, headers, ok)]
    spawn(http_worker, jac, webhook, 0.125)

    spawn(ws_worker, jac, "ws-echo", ["/ws/EchoWS"], echo)
    spawn(ws_worker, jac, "ws-broadcast", ["/ws/ChatWS", "/ws/ChatWS"], broadcast)

    kv = [("kvstore", "POST", "/walker/redis_example", {}, {}, ok)] * 4
    kv.append(("kvstore", "POST", "/walker/mongo_example", {}, {}, ok))
    spawn(http_worker, data, kv)
    upload_body, upload_headers = multipart("soak.bin", os.urandom(4096))
    # 20 uploads/s: each stores a file (4 KiB, about 50 MiB in ten minutes).
    uploads = [("uploads", "POST", "/walker/upload_file", upload_body, upload_headers, ok)]
    spawn(http_worker, data, uploads, 0.05)
    return threads


# ------------------------------------------------------------------ sampling


def proc_sample(pid):
    """(RSS MiB, open fds, threads) of `pid`."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), threads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--secs", type=int, default=600)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=60)
    for name in ("rust", "jac", "data"):
        parser.add_argument(f"--{name}", required=True, metavar="PORT:PID")
    parser.add_argument("--report", help="also write the report (markdown) here")
    args = parser.parse_args()
    servers = {}
    for name in ("rust", "jac", "data"):
        port, pid = getattr(args, name).split(":")
        servers[name] = (int(port), int(pid))
    ports = {name: port for name, (port, _) in servers.items()}

    rec = Recorder()
    stop = threading.Event()
    started = time.monotonic()
    start_load(stop, rec, ports)
    samples = []
    header = "  t(s)  " + "  ".join(f"{n}: rss MiB / fds / thr" for n in servers) + \
        "   calls  p50 ms  p99 ms  unexpected"
    print(header, flush=True)
    next_at = started + args.interval
    while True:
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += args.interval
        elapsed = time.monotonic() - started
        latencies, unexpected, counts, deliberate = rec.take()
        procs = {name: proc_sample(pid) for name, (_, pid) in servers.items()}
        sample = {
            "t": round(elapsed), "procs": procs, "calls": len(latencies),
            "p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000,
            "unexpected": unexpected, "counts": counts, "deliberate": deliberate,
        }
        samples.append(sample)
        print(f"{sample['t']:6d}  " + "  ".join(
            f"{n}: {r:7.1f} / {f:4d} / {t:3d}" + " " * 5 for n, (r, f, t) in procs.items())
            + f"  {sample['calls']:6d}  {sample['p50']:6.1f}  {sample['p99']:6.1f}  "
            + f"{len(unexpected)} {unexpected[:3] if unexpected else ''}", flush=True)
        if elapsed >= args.secs:
            break
    stop.set()
    report = summarise(samples, args, servers)
    print(report)
    if args.report:
        with open(args.report, "w") as out:
            out.write(report)
    failed = "FAIL" in report
    sys.exit(1 if failed else 0)


def growth(first, last):
    return (last - first) / first * 100 if first else 0.0


def summarise(samples, args, servers):
    after = [s for s in samples if s["t"] > args.warmup] or samples[-1:]
    base, last = after[0], after[-1]
    lines = [
        f"## Soak: {args.secs} s, samples every {args.interval} s, warm-up {args.warmup} s",
        "",
        "| server | RSS MiB after warm-up -> end | growth | fds | growth | threads |",
        "|---|---|---|---|---|---|",
    ]
    verdicts = []
    for name in servers:
        r0, f0, t0 = base["procs"][name]
        r1, f1, t1 = last["procs"][name]
        rg, fg = growth(r0, r1), growth(f0, f1)
        verdicts.append(rg < 10 and fg < 10)
        lines.append(f"| {name} | {r0:.1f} -> {r1:.1f} | {rg:+.1f} % | {f0} -> {f1} | "
                     f"{fg:+.1f} % | {t0} -> {t1} |")
    p99s = [s["p99"] for s in after]
    flat = max(p99s) <= 2 * max(min(p99s), 1.0) if p99s else True
    unexpected = [u for s in samples for u in s["unexpected"]]
    counts = samples[-1]["counts"]
    total = sum(counts.values())
    lines += [
        "",
        f"p99 per window after warm-up: first {p99s[0]:.1f} ms, last {p99s[-1]:.1f} ms, "
        f"min {min(p99s):.1f} ms, max {max(p99s):.1f} ms (flat = max within 2x of min)",
        f"calls: {total} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})",
        f"deliberate non-2xx: {samples[-1]['deliberate']}; unexpected non-2xx: {len(unexpected)}"
        + (f" (first: {unexpected[:5]})" if unexpected else ""),
        "",
        "RSS and fds under 10 % growth: " + ("PASS" if all(verdicts) else "FAIL"),
        "p99 flat: " + ("PASS" if flat else "FAIL"),
        "no unexpected non-2xx: " + ("PASS" if not unexpected else "FAIL"),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
