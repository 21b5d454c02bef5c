#!/usr/bin/env python3
"""Side-by-side benchmark of jac-scale (ours) against its peers, in one run.

Targets (each optional, but ratios need them in the same run):
  ours        `jac-scale start todo.wasm`                 (examples/todo)
  ours-jac    `jac-scale start app.jac`                   (examples/todo-jac, built on the fly)
  reference   `jac start app.jac` (Python jac-scale 0.2.31, ../shared/reference/app.jac)
  wasmtime    `wasmtime serve` with the hello-world wasi:http component
  axum        bench/axum-baseline, a raw axum handler returning the Ping JSON

Phases:
  1. start-up: time from spawn to the first 200 from POST /walker/Ping, and idle RSS.
     ours and ours-jac: one start with an empty data dir and cache dir (cold compile cache;
     for ours-jac this includes `jac-scale build`'s snapshot), then starts on the same data
     dir (warm cache). reference: optionally one start with no compile cache, then
     starts with a fresh data dir and a warm cache (as the reference's own bench.py does).
  2. load, all servers up at once: scenarios (a) public Ping, (b) authenticated CreateTodo,
     (c) authenticated ListTodos over 100 todos; `rounds` wrk runs each. Within a round every
     target runs back to back (rotating the order), so machine-load drift hits all of them
     alike; ratios are also computed per round (paired).
  3. login latency: sequential POST /user/login, one connection each (as a client would).
  4. fan-out: CreateTodo latency on one root as it grows to N children, then ListTodos and
     CountTodos over those N.

Only talks to 127.0.0.1. Needs `wrk` on PATH. Writes a JSON file with every number and a
Markdown report (see --out). Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
POST_LUA = os.path.join(HERE, "post.lua")
PASSWORD = "benchpw123"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- HTTP client


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port, JSON in and out."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def post(self, path: str, body: object, token: str | None = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        self.conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw or b"null")
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def close(self) -> None:
        self.conn.close()


def post_once(port: int, path: str, body: object, token: str | None = None,
              timeout: float = 30.0) -> tuple[int, object]:
    """POST on a fresh connection (what a browser or CLI client pays for one call)."""
    client = Client(port, timeout)
    try:
        return client.post(path, body, token)
    finally:
        client.close()


def identity_body(email: str, plural: bool) -> dict:
    """The 0.2.x identity body, understood by both the reference and ours."""
    identity = {"type": "email", "value": email}
    credential = {"type": "password", "password": PASSWORD}
    if plural:  # /user/register
        return {"identities": [identity], "credential": credential}
    return {"identity": identity, "credential": credential}


def token_of(body: object) -> str:
    """Ours answers login flat (`access_token`); the reference wraps it (`data.token`)."""
    if isinstance(body, dict):
        if "access_token" in body:
            return body["access_token"]
        data = body.get("data")
        if isinstance(data, dict) and "token" in data:
            return data["token"]
    raise RuntimeError(f"no token in login answer: {body!r:.300}")


def register_login(port: int, email: str, prefix: str = "") -> str:
    """A new user's token; `prefix` is an app's path under `jac-scale serve` (`/apps/x`)."""
    status, body = post_once(port, prefix + "/user/register", identity_body(email, plural=True))
    if status not in (200, 201):
        raise RuntimeError(f"register {email}: {status} {body!r:.300}")
    status, body = post_once(port, prefix + "/user/login", identity_body(email, plural=False))
    if status != 200:
        raise RuntimeError(f"login {email}: {status} {body!r:.300}")
    return token_of(body)


# ----------------------------------------------------------------------------- processes


def descendants(pid: int) -> list[int]:
    """pid and every process below it (the reference may fork workers)."""
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except FileNotFoundError:
                continue
            found += kids
            frontier += kids
    return found


def cpu_and_rss(pid: int) -> tuple[float, int]:
    """(CPU seconds, RSS KiB) summed over pid's process tree."""
    cpu, rss = 0.0, 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / CLK_TCK
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return cpu, rss


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / CLK_TCK, total / CLK_TCK


@dataclass
class Target:
    """One server under test."""

    key: str
    label: str
    command: str  # shell command, `{port}` is substituted
    port: int
    cwd: str
    serves_app: bool  # the todo app (all scenarios) or a Ping-only stand-in
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/walker/Ping"  # polled until it answers 200
    wipe_each_start: list[str] = field(default_factory=list)  # removed before every start
    wipe_for_cold: list[str] = field(default_factory=list)  # removed for the cold-cache start
    proc: subprocess.Popen | None = None
    started_at: float = 0.0

    def start(self, log_dir: str, cold: bool = False) -> tuple[float, float]:
        """Start the server; returns (wall seconds, server CPU seconds) from spawn to the
        first 200 from Ping. The CPU figure does not depend on how busy the machine is."""
        for path in self.wipe_each_start + (self.wipe_for_cold if cold else []):
            shutil.rmtree(path, ignore_errors=True)
        env = dict(os.environ, **self.env)
        log = open(os.path.join(log_dir, f"{self.key}.log"), "a")
        command = self.command.format(port=self.port)
        log.write(f"\n### {time.strftime('%H:%M:%S')} {command}\n")
        log.flush()
        t0 = self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(command, shell=True, cwd=self.cwd, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.key} exited early (rc={self.proc.returncode}); "
                                   f"see {log.name}")
            try:
                status, _ = post_once(self.port, self.ready_path, {}, timeout=5)
                if status == 200:
                    return time.perf_counter() - t0, cpu_and_rss(self.proc.pid)[0]
            except OSError:
                pass
            if time.perf_counter() - t0 > 240:
                raise RuntimeError(f"{self.key} not ready after 240 s; see {log.name}")
            time.sleep(0.002)

    def wait_optimised(self, log_dir: str) -> float | None:
        """jac-scale serves a big component that has no compiled code yet from baseline
        (Winch) code and logs `running optimised code` once Cranelift's code replaced it.
        Waits for that (so a stop does not lose the compile and the load phase measures
        optimised code); returns the seconds from spawn to it, None if the start was
        optimised already."""
        path = os.path.join(log_dir, f"{self.key}.log")
        this_start = lambda: open(path).read().rsplit("\n### ", 1)[-1]
        if "tier=Baseline" not in this_start():
            return None
        while "running optimised code" not in this_start():
            if time.perf_counter() - self.started_at > 240:
                raise RuntimeError(f"{self.key} runs no optimised code after 240 s; see {path}")
            time.sleep(0.01)
        return time.perf_counter() - self.started_at

    @property
    def pid(self) -> int:
        assert self.proc is not None, "server not running"
        # `shell=True` with a single command: the shell execs it, so this is the server.
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


# ----------------------------------------------------------------------------- wrk


def to_ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:
        raise ValueError(f"unparsable wrk duration {text!r}")
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(target: Target, path: str, body: dict, token: str | None, conns: int,
            secs: int, threads: int, script: str = POST_LUA,
            script_args: list[str] | None = None) -> dict:
    """One wrk run; server CPU, wrk CPU and the rest of the machine's CPU are measured too.
    `script` and `script_args` replace post.lua and its arguments (BODY [TOKEN])."""
    if script_args is None:
        script_args = [json.dumps(body)] + ([token] if token else [])
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--latency", "--timeout", "10s",
           "-s", script, f"http://127.0.0.1:{target.port}{path}", "--", *script_args]
    server_cpu0, _ = cpu_and_rss(target.pid)
    busy0, total0 = machine_busy_seconds()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_rss = 0
    wrk = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while wrk.poll() is None:
        peak_rss = max(peak_rss, cpu_and_rss(target.pid)[1])
        time.sleep(0.25)
    out = wrk.stdout.read() if wrk.stdout else ""
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, total1 = machine_busy_seconds()
    server_cpu1, rss = cpu_and_rss(target.pid)
    peak_rss = max(peak_rss, rss)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not rps or not total:
        raise RuntimeError(f"wrk failed against {target.key}:\n{out}")
    requests = max(int(total.group(1)), 1)
    latency = dict((k, to_ms(v)) for k, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    server_cpu = server_cpu1 - server_cpu0
    wrk_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    wall = (total1 - total0) / (os.cpu_count() or 1)
    return {
        "rps": float(rps.group(1)),
        "requests": requests,
        "p50_ms": latency.get("50"),
        "p90_ms": latency.get("90"),
        "p99_ms": latency.get("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "server_cpu_ms_per_req": server_cpu * 1000 / requests,
        "server_cores": server_cpu / wall if wall else None,
        "wrk_cores": wrk_cpu / wall if wall else None,
        # CPU the rest of the machine (other engineers' builds) took during the run
        "other_cores": max(0.0, (busy1 - busy0) - server_cpu - wrk_cpu) / wall if wall else None,
        "peak_rss_mb": peak_rss / 1024,
        "loadavg": open("/proc/loadavg").read().split()[0],
    }


# ----------------------------------------------------------------------------- phases


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    body: dict
    app_only: bool  # needs the todo app (auth, graph)
    token: Callable[[Target, int], str | None]


def startup_phase(targets: list[Target], args: argparse.Namespace, res: dict) -> None:
    for t in targets:
        entry = res["startup"].setdefault(t.key, {"warm_s": [], "warm_cpu_s": [],
                                                  "idle_rss_mb": []})
        cold = t.key in ("ours", "ours-jac") or (t.key == "reference"
                                                 and args.reference_cold_compile)
        if cold:
            seconds, cpu = t.start(args.log_dir, cold=True)
            optimised = t.wait_optimised(args.log_dir)
            if optimised is not None:
                entry["cold_cache_optimised_s"] = optimised
            time.sleep(1.0)
            entry["cold_cache_s"] = seconds
            entry["cold_cache_cpu_s"] = cpu
            entry["cold_cache_idle_rss_mb"] = cpu_and_rss(t.pid)[1] / 1024
            print(f"[start] {t.key} cold cache: {seconds * 1000:.1f} ms, "
                  f"idle RSS {entry['cold_cache_idle_rss_mb']:.1f} MB", flush=True)
            t.stop()
        for i in range(args.starts):
            seconds, cpu = t.start(args.log_dir)
            if t.wait_optimised(args.log_dir) is not None:
                print(f"[start] {t.key} #{i + 1} began on baseline code", flush=True)
            time.sleep(1.0)
            rss = cpu_and_rss(t.pid)[1] / 1024
            entry["warm_s"].append(seconds)
            entry["warm_cpu_s"].append(cpu)
            entry["idle_rss_mb"].append(rss)
            print(f"[start] {t.key} #{i + 1}: {seconds * 1000:.1f} ms "
                  f"(server CPU {cpu * 1000:.0f} ms), idle RSS {rss:.1f} MB", flush=True)
            if i < args.starts - 1:
                t.stop()
        # the last start keeps running for the load phase


def load_phase(targets: list[Target], args: argparse.Namespace, res: dict) -> None:
    listers: dict[str, str] = {}
    for t in targets:
        if not t.serves_app:
            continue
        token = register_login(t.port, "lister@example.com")
        status, body = post_once(t.port, "/walker/SeedTodos", {"n": 100}, token)
        if status != 200:
            raise RuntimeError(f"{t.key} SeedTodos: {status} {body!r:.300}")
        status, body = post_once(t.port, "/walker/CountTodos", {}, token)
        count = body["data"]["reports"][0]["count"] if status == 200 else None
        if count != 100:
            raise RuntimeError(f"{t.key} CountTodos after seeding 100: {status} {body!r:.300}")
        listers[t.key] = token

    def fresh_creator(t: Target, i: int) -> str:
        # a new root per run, so the reference's fan-out slowdown does not pile up
        return register_login(t.port, f"creator{i}-{time.time_ns()}@example.com")

    scenarios = [
        Scenario("a_ping", "(a) public Ping, constant report", "/walker/Ping", {}, False,
                 lambda t, i: None),
        Scenario("b_create", "(b) authenticated CreateTodo", "/walker/CreateTodo",
                 {"title": "bench"}, True, fresh_creator),
        Scenario("c_list100", "(c) authenticated ListTodos, 100 todos", "/walker/ListTodos", {},
                 True, lambda t, i: listers[t.key]),
    ]
    for sc in scenarios:
        runners = [t for t in targets if t.serves_app or not sc.app_only]
        if not runners:
            continue
        out = res["scenarios"][sc.key] = {"title": sc.title, "path": sc.path,
                                          "body": sc.body, "rounds": [], "single_client": {}}
        for t in runners:  # warm-up: JIT-free, but caches, pools and connections settle
            run_wrk(t, sc.path, sc.body, sc.token(t, 99), 4, 2, 1)
        for r in range(args.rounds):
            order = runners[r % len(runners):] + runners[:r % len(runners)]
            round_result = {}
            for t in order:
                run = run_wrk(t, sc.path, sc.body, sc.token(t, r), args.conns, args.secs,
                              args.threads)
                round_result[t.key] = run
                print(f"[{sc.key}] round {r + 1} {t.key}: {run['rps']:.0f} req/s "
                      f"p50 {run['p50_ms']:.2f} ms p99 {run['p99_ms']:.2f} ms "
                      f"cpu/req {run['server_cpu_ms_per_req']:.3f} ms "
                      f"non2xx {run['non2xx']} other-load {run['other_cores']:.2f} cores",
                      flush=True)
            out["rounds"].append(round_result)
        for t in runners:
            single = run_wrk(t, sc.path, sc.body, sc.token(t, 50), 1, max(3, args.secs // 2), 1)
            out["single_client"][t.key] = single
            print(f"[{sc.key}] c=1 {t.key}: {single['rps']:.0f} req/s "
                  f"p50 {single['p50_ms']:.3f} ms", flush=True)


def login_phase(targets: list[Target], res: dict) -> None:
    for t in targets:
        if not t.serves_app:
            continue
        email = f"login-{time.time_ns()}@example.com"
        t0 = time.perf_counter()
        status, body = post_once(t.port, "/user/register", identity_body(email, plural=True))
        register_s = time.perf_counter() - t0
        if status not in (200, 201):
            raise RuntimeError(f"{t.key} register: {status} {body!r:.300}")
        latencies = []
        for _ in range(10):
            t0 = time.perf_counter()
            status, body = post_once(t.port, "/user/login", identity_body(email, plural=False))
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{t.key} login: {status} {body!r:.300}")
        res["login"][t.key] = {"register_ms": register_s * 1000,
                               "login_ms": sorted(x * 1000 for x in latencies)}
        print(f"[login] {t.key}: median {statistics.median(latencies) * 1000:.1f} ms "
              f"(register {register_s * 1000:.1f} ms)", flush=True)


def fanout_phase(targets: list[Target], args: argparse.Namespace, res: dict) -> None:
    for t in targets:
        if not t.serves_app:
            continue
        n = args.fanout if t.key == "ours" else args.reference_fanout  # ours-jac: the latter
        token = register_login(t.port, f"fanout-{time.time_ns()}@example.com")
        client = Client(t.port)
        latencies = []
        cpu0, _ = cpu_and_rss(t.pid)
        for i in range(n):
            t0 = time.perf_counter()
            status, body = client.post("/walker/CreateTodo", {"title": f"t{i}"}, token)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"{t.key} CreateTodo #{i}: {status} {body!r:.300}")
        cpu1, _ = cpu_and_rss(t.pid)
        window = max(1, min(100, n // 10))
        checkpoints = sorted({c for c in (0, 1000, 2000, 5000, n - window)
                              if 0 <= c <= n - window} | {i * n // 10 for i in range(10)})
        windows = {c: statistics.median(latencies[c:c + window]) for c in checkpoints}
        lists = []
        for _ in range(5):
            t0 = time.perf_counter()
            status, body = client.post("/walker/ListTodos", {}, token)
            lists.append((time.perf_counter() - t0) * 1000)
        list_status = status
        list_bytes = len(json.dumps(body))
        counts = []
        for _ in range(5):
            t0 = time.perf_counter()
            status, body = client.post("/walker/CountTodos", {}, token)
            counts.append((time.perf_counter() - t0) * 1000)
        count = body["data"]["reports"][0]["count"] if status == 200 else body
        client.close()
        res["fanout"][t.key] = {
            "n": n, "window": window,
            "median_ms_at": {str(k): v for k, v in windows.items()},
            "server_cpu_ms_per_create": (cpu1 - cpu0) * 1000 / n,
            "list_all_ms": statistics.median(lists), "list_status": list_status,
            "list_response_bytes": list_bytes,
            "count_all_ms": statistics.median(counts), "count_reported": count,
        }
        print(f"[fanout] {t.key}: " + ", ".join(f"{k}: {v:.2f} ms" for k, v in windows.items())
              + f"; list {n}: {statistics.median(lists):.1f} ms (status {list_status}), "
              f"count {n}: {statistics.median(counts):.1f} ms -> {count}", flush=True)


# ----------------------------------------------------------------------------- report


def median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def scenario_median(res: dict, scenario: str, key: str, metric: str = "rps") -> float | None:
    rounds = res["scenarios"].get(scenario, {}).get("rounds", [])
    return median([r[key][metric] for r in rounds if key in r])


def paired_ratios(res: dict, scenario: str, ours: str, other: str) -> list[float]:
    rounds = res["scenarios"].get(scenario, {}).get("rounds", [])
    return [r[ours]["rps"] / r[other]["rps"] for r in rounds
            if ours in r and other in r and r[other]["rps"]]


def summary_rows(res: dict) -> list[tuple[str, str, str, str]]:
    """(metric, measured, target, verdict) for each target of issue 2."""
    rows = []

    def ratio_row(label: str, scenario: str, other: str, goal: float, key: str = "ours") -> None:
        ours, theirs = scenario_median(res, scenario, key), scenario_median(res, scenario, other)
        if ours is None or theirs is None:
            rows.append((label, "not measured", f">= {goal:g}x", "-"))
            return
        ratio = ours / theirs
        paired = paired_ratios(res, scenario, key, other)
        spread = f" (per round {min(paired):,.2f}-{max(paired):,.2f})" if paired else ""
        rows.append((label, f"{ours:,.0f} / {theirs:,.0f} req/s = **{ratio:,.2f}x**{spread}",
                     f">= {goal:g}x", "met" if ratio >= goal else "MISSED"))

    ratio_row("(a) Ping vs reference", "a_ping", "reference", 100)
    ratio_row("(a) Ping vs wasmtime serve", "a_ping", "wasmtime", 2)
    ratio_row("(a) Ping vs raw axum", "a_ping", "axum", 0.25)
    ratio_row("(b) CreateTodo vs reference", "b_create", "reference", 100)
    ratio_row("(c) ListTodos-100 vs reference", "c_list100", "reference", 100)
    ratio_row("Jac (a) Ping vs reference", "a_ping", "reference", 50, "ours-jac")
    ratio_row("Jac (b) CreateTodo vs reference", "b_create", "reference", 50, "ours-jac")
    ratio_row("Jac (c) ListTodos-100 vs reference", "c_list100", "reference", 50, "ours-jac")
    ratio_row("Jac (a) Ping vs Rust build", "a_ping", "ours", 0, "ours-jac")
    if "before" in res["targets"]:
        for scenario, name in (("a_ping", "(a) Ping"), ("b_create", "(b) CreateTodo"),
                               ("c_list100", "(c) ListTodos-100")):
            ratio_row(f"{name} vs before", scenario, "before", 0.95)
            ratio_row(f"Jac {name} vs before", scenario, "before-jac", 0.95, "ours-jac")

    jac_start = res["startup"].get("ours-jac", {})
    if "cold_cache_s" in jac_start:
        cold = jac_start["cold_cache_s"]
        rows.append(("Jac `start app.jac` to first 200, cold cache", f"{cold * 1000:.0f} ms",
                     "< 2 s", "met" if cold < 2 else "MISSED"))
    jac_warm = median(jac_start.get("warm_s", []))
    if jac_warm is not None:
        rows.append(("Jac `start app.jac` to first 200, warm (median)",
                     f"{jac_warm * 1000:.1f} ms", "< 100 ms",
                     "met" if jac_warm < 0.1 else "MISSED"))

    ours_start = res["startup"].get("ours", {})
    ref_start = res["startup"].get("reference", {})
    warm = median(ours_start.get("warm_s", []))
    if warm is not None:
        ref = median(ref_start.get("warm_s", []))
        rows.append(("cold start, warm compile cache (median)",
                     f"{warm * 1000:.1f} ms (reference {fmt(ref and ref * 1000, 0)} ms)",
                     "< 100 ms", "met" if warm < 0.1 else "MISSED"))
    rss = median(ours_start.get("idle_rss_mb", []))
    if rss is not None:
        ref = median(ref_start.get("idle_rss_mb", []))
        rows.append(("idle RSS (median)", f"{rss:.1f} MB (reference {fmt(ref)} MB)", "< 40 MB",
                     "met" if rss < 40 else "MISSED"))
    login = res["login"].get("ours")
    if login:
        ours_ms = median(login["login_ms"])
        ref = res["login"].get("reference")
        rows.append(("login (median of 10, fresh connection)",
                     f"{ours_ms:.1f} ms (reference {fmt(ref and median(ref['login_ms']))} ms)",
                     "< 50 ms", "met" if ours_ms < 50 else "MISSED"))
    fan = res["fanout"].get("ours")
    if fan:
        at = fan["median_ms_at"]
        first, last_key = at["0"], max(at, key=int)
        last = at[last_key]
        ref = res["fanout"].get("reference")
        ref_text = ""
        if ref:
            rat = ref["median_ms_at"]
            rlast = max(rat, key=int)
            ref_text = f" (reference {rat['0']:.1f} -> {rat[rlast]:.1f} ms at {int(rlast):,})"
        rows.append((f"create-node latency, fan-out 0 -> {fan['n']:,}",
                     f"{first:.2f} -> {last:.2f} ms at {int(last_key):,}{ref_text}",
                     "flat (last window <= 1.5x first)",
                     "met" if last <= 1.5 * first else "MISSED"))
    return rows


def render_markdown(res: dict) -> str:
    m = res["machine"]
    lines = [f"# jac-scale benchmark run {res['started_utc']}", "",
             f"- commit: `{res['commit']}`",
             f"- machine: {m['nproc']} cores ({m['cpu']}), kernel {m['kernel']}, "
             f"{m['mem_gb']:.1f} GB RAM, load average at start {m['loadavg_start']}",
             f"- wrk: `-t{res['args']['threads']} -c{res['args']['conns']} "
             f"-d{res['args']['secs']}s`, {res['args']['rounds']} rounds per scenario, "
             f"targets interleaved within each round",
             f"- command: `{res['command']}`", ""]
    lines += ["## Summary against the targets of issues 2 and 4", "",
              "| target | measured (same run) | goal | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in summary_rows(res)]
    lines += ["", "## Servers", "", "| key | server | command |", "|---|---|---|"]
    lines += [f"| {k} | {v['label']} | `{v['command']}` |" for k, v in res["targets"].items()]
    lines += ["", "## Start-up and idle memory", "",
              "| server | start to first 200, median (all), ms | server CPU until then, "
              "median, ms | idle RSS MB, median | cold compile cache start |",
              "|---|---|---|---|---|"]
    for key, s in res["startup"].items():
        allv = ", ".join(f"{x * 1000:.0f}" for x in s["warm_s"])
        cold = (f"{s['cold_cache_s'] * 1000:.0f} ms (CPU {s['cold_cache_cpu_s'] * 1000:.0f} "
                f"ms), {s['cold_cache_idle_rss_mb']:.1f} MB" if "cold_cache_s" in s else "-")
        if "cold_cache_optimised_s" in s:
            cold += f"; optimised code after {s['cold_cache_optimised_s'] * 1000:.0f} ms"
        lines.append(f"| {key} | {median(s['warm_s']) * 1000:.1f} ({allv}) | "
                     f"{median(s['warm_cpu_s']) * 1000:.0f} | "
                     f"{median(s['idle_rss_mb']):.1f} | {cold} |")
    for sc_key, sc in res["scenarios"].items():
        lines += ["", f"## {sc['title']}: `POST {sc['path']}` `{json.dumps(sc['body'])}`", "",
                  "| server | req/s median | req/s per round | p50 ms | p99 ms | "
                  "server CPU ms/req | server cores | wrk cores | other load (cores) | "
                  "peak RSS MB | non-2xx | c=1 req/s | c=1 p50 ms |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        keys = [k for k in res["targets"] if any(k in r for r in sc["rounds"])]
        for k in keys:
            runs = [r[k] for r in sc["rounds"] if k in r]
            single = sc["single_client"].get(k, {})
            per_round = ", ".join(f"{r['rps']:.0f}" for r in runs)
            lines.append(
                f"| {k} | {fmt(median([r['rps'] for r in runs]), 0)} | "
                f"{per_round} | "
                f"{fmt(median([r['p50_ms'] for r in runs]), 2)} | "
                f"{fmt(median([r['p99_ms'] for r in runs]), 2)} | "
                f"{fmt(median([r['server_cpu_ms_per_req'] for r in runs]), 3)} | "
                f"{fmt(median([r['server_cores'] for r in runs]), 2)} | "
                f"{fmt(median([r['wrk_cores'] for r in runs]), 2)} | "
                f"{fmt(median([r['other_cores'] for r in runs]), 2)} | "
                f"{fmt(max(r['peak_rss_mb'] for r in runs))} | "
                f"{sum(r['non2xx'] for r in runs)} | {fmt(single.get('rps'), 0)} | "
                f"{fmt(single.get('p50_ms'), 3)} |")
    if res["login"]:
        lines += ["", "## Login (sequential, a fresh connection each)", "",
                  "| server | login ms median | min | max | one register ms |", "|---|---|---|---|---|"]
        for k, v in res["login"].items():
            lines.append(f"| {k} | {median(v['login_ms']):.1f} | {min(v['login_ms']):.1f} | "
                         f"{max(v['login_ms']):.1f} | {v['register_ms']:.1f} |")
    if res["fanout"]:
        lines += ["", "## Create-node latency as one root's fan-out grows "
                  "(sequential, one keep-alive connection)", ""]
        for k, v in res["fanout"].items():
            lines.append(f"**{k}** ({v['n']:,} creates; median of {v['window']} creates "
                         f"starting at each fan-out; server CPU "
                         f"{v['server_cpu_ms_per_create']:.3f} ms per create):")
            lines.append("")
            lines.append("| fan-out | " + " | ".join(f"{int(c):,}" for c in v["median_ms_at"])
                         + " |")
            lines.append("|---" * (len(v["median_ms_at"]) + 1) + "|")
            lines.append("| ms | " + " | ".join(f"{x:.2f}" for x in v["median_ms_at"].values())
                         + " |")
            lines.append("")
            lines.append(f"ListTodos over {v['n']:,}: {v['list_all_ms']:.1f} ms "
                         f"(status {v['list_status']}, {v['list_response_bytes']:,} bytes); "
                         f"CountTodos: {v['count_all_ms']:.1f} ms -> {v['count_reported']}")
            lines.append("")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- main


def write_results(out: str | None, name: str, res: dict, report: str) -> str:
    """Writes `res` as JSON and `report` as Markdown to `out` (a path prefix; default
    bench/results/<date>-<host>-<name>), prints the report; returns the prefix."""
    out = out or os.path.join(HERE, "results", time.strftime("%Y-%m-%d-%H%M-")
                              + os.uname().nodename + "-" + name)
    with open(out + ".json", "w") as f:
        json.dump(res, f, indent=2)
    with open(out + ".md", "w") as f:
        f.write(report)
    print(report)
    return out


def machine_info() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "mem_gb": mem_kb / 1024 / 1024, "loadavg_start": open("/proc/loadavg").read().strip(),
            "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True)
            .stdout.splitlines()[0] if shutil.which("wrk") else None}


def build_targets(args: argparse.Namespace) -> list[Target]:
    targets = []
    if args.ours:
        data = os.path.join(args.work_dir, "ours-data")
        targets.append(Target(
            "ours", "jac-scale (Rust, examples/todo)",
            f"exec {shlex.quote(args.ours)} start {shlex.quote(args.ours_wasm)} "
            "--host 127.0.0.1 --port {port}",
            args.port_base, args.work_dir, True, env={"JAC_DATA_PATH": data},
            wipe_for_cold=[data]))
    if args.ours and args.ours_jac_app:
        data = os.path.join(args.work_dir, "ours-jac-data")
        cache = os.path.join(args.work_dir, "ours-jac-xdg-cache")
        targets.append(Target(
            "ours-jac", "jac-scale (Rust host, examples/todo-jac/app.jac)",
            f"exec {shlex.quote(args.ours)} start {shlex.quote(args.ours_jac_app)} "
            "--host 127.0.0.1 --port {port}",
            args.port_base + 4, args.work_dir, True,
            env={"JAC_DATA_PATH": data, "XDG_CACHE_HOME": cache},
            wipe_for_cold=[data, cache]))
    if args.before:
        # The same apps on the host as it was at an earlier commit (--before-commit), so a
        # change is judged against its predecessor in one run, not across machine moods.
        data = os.path.join(args.work_dir, "before-data")
        targets.append(Target(
            "before", f"jac-scale at {args.before_commit or 'an earlier commit'} (Rust)",
            f"exec {shlex.quote(args.before)} start {shlex.quote(args.before_wasm)} "
            "--host 127.0.0.1 --port {port}",
            args.port_base + 5, args.work_dir, True, env={"JAC_DATA_PATH": data},
            wipe_for_cold=[data]))
        if args.ours_jac_app:
            data = os.path.join(args.work_dir, "before-jac-data")
            cache = os.path.join(args.work_dir, "before-jac-xdg-cache")
            targets.append(Target(
                "before-jac", f"jac-scale at {args.before_commit or 'an earlier commit'} (Jac)",
                f"exec {shlex.quote(args.before)} start {shlex.quote(args.ours_jac_app)} "
                "--host 127.0.0.1 --port {port}",
                args.port_base + 6, args.work_dir, True,
                env={"JAC_DATA_PATH": data, "XDG_CACHE_HOME": cache},
                wipe_for_cold=[data, cache]))
    if args.reference_jac:
        app_dir = args.reference_app_dir
        targets.append(Target(
            "reference", "jac-scale 0.2.31 (Python, app.jac)",
            f"exec {shlex.quote(args.reference_jac)} start app.jac --port {{port}}",
            args.port_base + 1, app_dir, True,
            env={"XDG_CACHE_HOME": os.path.join(app_dir, "xdg-cache")},
            wipe_each_start=[os.path.join(app_dir, ".jac", "data")],
            wipe_for_cold=[os.path.join(app_dir, "xdg-cache"), os.path.join(app_dir, ".jac")]))
    if args.wasmtime:
        targets.append(Target(
            "wasmtime", "wasmtime serve (hello-world wasi:http component)",
            f"exec {shlex.quote(args.wasmtime)} serve -S cli=y --addr 127.0.0.1:{{port}} "
            f"{shlex.quote(args.wasmtime_hello)}", args.port_base + 2, args.work_dir, False))
    if args.axum:
        targets.append(Target("axum", "raw axum handler (bench/axum-baseline)",
                              f"exec {shlex.quote(args.axum)} {{port}}", args.port_base + 3,
                              args.work_dir, False))
    return targets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", help="path of the jac-scale binary")
    ap.add_argument("--ours-wasm", help="path of examples/todo's todo.wasm")
    ap.add_argument("--ours-jac-app", help="path of a copy of examples/todo-jac/app.jac")
    ap.add_argument("--reference-jac", help="path of the reference's `jac` (venv bin)")
    ap.add_argument("--reference-app-dir", help="writable folder holding app.jac and jac.toml")
    ap.add_argument("--reference-cold-compile", action="store_true",
                    help="also time one reference start with no compile cache (~35-50 s)")
    ap.add_argument("--before", help="path of a jac-scale binary built from an earlier commit")
    ap.add_argument("--before-wasm", help="examples/todo's todo.wasm from that commit")
    ap.add_argument("--before-commit", help="the commit --before was built from")
    ap.add_argument("--wasmtime", help="path of the wasmtime CLI")
    ap.add_argument("--wasmtime-hello", help="path of hello_http.wasm")
    ap.add_argument("--axum", help="path of the axum-baseline binary")
    ap.add_argument("--work-dir", required=True, help="scratch folder (data dirs, logs)")
    ap.add_argument("--port-base", type=int, default=18100)
    ap.add_argument("--starts", type=int, default=5, help="timed starts per server")
    ap.add_argument("--rounds", type=int, default=5, help="wrk runs per scenario and server")
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fanout", type=int, default=10000, help="children for ours' fan-out probe")
    ap.add_argument("--reference-fanout", type=int, default=2000)
    ap.add_argument("--skip", default="", help="comma list of phases to skip: "
                    "startup,load,login,fanout")
    ap.add_argument("--out", required=True, help="output path without extension (.json, .md)")
    ap.add_argument("--commit", help="commit the servers were built from "
                    "[default: `git describe` of this checkout]")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found on PATH (apt-get install -y wrk)")
    os.makedirs(args.work_dir, exist_ok=True)
    args.log_dir = os.path.join(args.work_dir, "logs")
    os.makedirs(args.log_dir, exist_ok=True)
    targets = build_targets(args)
    if not targets:
        sys.exit("no server to benchmark; see --help")
    skip = set(filter(None, args.skip.split(",")))
    commit = args.commit or subprocess.run(
        ["git", "-C", HERE, "describe", "--always", "--dirty", "--abbrev=12"],
        capture_output=True, text=True).stdout.strip()
    res = {"started_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "commit": commit, "machine": machine_info(), "command": shlex.join(sys.argv),
           "args": {k: v for k, v in vars(args).items()},
           "targets": {t.key: {"label": t.label, "command": t.command.format(port=t.port)}
                       for t in targets},
           "startup": {}, "scenarios": {}, "login": {}, "fanout": {}}
    try:
        if "startup" in skip:
            for t in targets:
                t.start(args.log_dir)  # timings not recorded
        else:
            startup_phase(targets, args, res)
        if "load" not in skip:
            load_phase(targets, args, res)
        if "login" not in skip:
            login_phase(targets, res)
        if "fanout" not in skip:
            fanout_phase(targets, args, res)
        for t in targets:
            res.setdefault("final_rss_mb", {})[t.key] = cpu_and_rss(t.pid)[1] / 1024
    finally:
        for t in targets:
            t.stop()
        with open(args.out + ".json", "w") as f:
            json.dump(res, f, indent=1)
    report = render_markdown(res)
    with open(args.out + ".md", "w") as f:
        f.write(report)
    print("\n" + report)


if __name__ == "__main__":
    main()
