#!/usr/bin/env python3
"""Many apps in one `jac-scale serve` (issue 13, item 5), measured in one run.

Two servers of the same binary run side by side: `single` serves one copy of the todo app,
`many` serves N copies (`app1` ... `appN`, each with its own users and data).

  1. memory: idle RSS of each server right after start, then again once every app has
     answered one call; the cost of an extra app is (RSS many - RSS single) / (N - 1).
     Once for the Rust todo component and, with --jac-app, once for the Jac todo app.
  2. cold app: latency of the first call to each app of `many` that has not been called yet.
  3. load: Ping and CreateTodo on `single` (its one app) and on `many` (every request goes
     to the next app: bench/apps/rotate.lua), `--rounds` wrk runs each, alternating; the
     ratio many/single is the throughput kept when the load spreads over N apps.

usage: bench/apps/run.py --bin target/release/jac-scale --wasm .../todo.wasm
                         [--jac-app examples/todo-jac/app.jac] [--apps 50] [--rounds 3]
Writes bench/results/<date>-<host>-apps.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from suite import (Client, Target, cpu_and_rss, machine_info, register_login,  # noqa: E402
                   run_wrk, write_results)

ROTATE_LUA = os.path.join(HERE, "rotate.lua")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def apps_dir(root: str, count: int, files: list[str], app_file: str) -> str:
    """`root/app1 ... appN`, each holding a copy of the app as `app_file` plus `files`."""
    os.makedirs(root)
    for i in range(1, count + 1):
        folder = os.path.join(root, f"app{i}")
        os.makedirs(folder)
        shutil.copy(files[0], os.path.join(folder, app_file))
        for extra in files[1:]:
            shutil.copy(extra, folder)
    return root


# Registrations per client address are throttled by default (30 a minute); the setup
# registers one user per app from one address.
UNTHROTTLED = "[serve.settings.plugins.scale.server]\nregistrations_per_address = 0\n"


def server(key: str, binary: str, apps: str, work: str) -> Target:
    data = os.path.join(work, f"{key}-data")
    config = os.path.join(work, f"{key}-apps.toml")
    with open(config, "w") as f:
        f.write(UNTHROTTLED)
    command = (f"exec {shlex.quote(binary)} serve --apps {shlex.quote(apps)} "
               f"--config {shlex.quote(config)} "
               f"--host 127.0.0.1 --port {{port}} --admin 127.0.0.1:{free_port()}")
    return Target(key, key, command, free_port(), work, True,
                  env={"JAC_DATA_PATH": data, "XDG_CACHE_HOME": os.path.join(work, "cache")},
                  ready_path="/apps/app1/walker/Ping")


def rss_mb(target: Target) -> float:
    return cpu_and_rss(target.pid)[1] / 1024


def memory_phase(kind: str, app_files: list[str], app_file: str, args, work: str,
                 res: dict) -> tuple[Target, Target]:
    """Starts `single` and `many` for one kind of app; returns them running."""
    out = res["memory"][kind] = {}
    targets = []
    for key, count in (("single", 1), ("many", args.apps)):
        folder = apps_dir(os.path.join(work, f"{kind}-{key}-apps"), count, app_files, app_file)
        target = server(f"{kind}-{key}", args.bin, folder, work)
        seconds, cpu = target.start(args.log_dir)
        time.sleep(1.0)
        out[key] = {"apps": count, "start_s": seconds, "start_cpu_s": cpu,
                    "idle_rss_mb": rss_mb(target)}
        targets.append(target)
    single, many = targets
    first_calls = []
    client = Client(many.port)
    for i in range(2, args.apps + 1):
        t0 = time.perf_counter()
        status, body = client.post(f"/apps/app{i}/walker/Ping", {})
        first_calls.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"{kind} app{i} Ping: {status} {body!r:.300}")
    client.close()
    time.sleep(1.0)
    out["many"]["called_rss_mb"] = rss_mb(many)
    out["single"]["called_rss_mb"] = rss_mb(single)
    extra = args.apps - 1
    out["per_extra_app_idle_mb"] = (out["many"]["idle_rss_mb"]
                                    - out["single"]["idle_rss_mb"]) / extra
    out["per_extra_app_called_mb"] = (out["many"]["called_rss_mb"]
                                      - out["single"]["called_rss_mb"]) / extra
    out["first_call_ms"] = {"median": statistics.median(first_calls), "max": max(first_calls)}
    print(f"[memory] {kind}: single {out['single']['idle_rss_mb']:.1f} MB, "
          f"{args.apps} apps {out['many']['idle_rss_mb']:.1f} MB idle / "
          f"{out['many']['called_rss_mb']:.1f} MB called: "
          f"{out['per_extra_app_idle_mb']:.2f} / {out['per_extra_app_called_mb']:.2f} MB per "
          f"extra app; first call of a cold app median "
          f"{out['first_call_ms']['median']:.2f} ms", flush=True)
    return single, many


def load_phase(kind: str, single: Target, many: Target, args, res: dict) -> None:
    def create(target: Target, app: int) -> str:
        prefix = f"/apps/app{app}"
        token = register_login(target.port, f"bench-{time.time_ns()}@example.com", prefix)
        return f"{prefix}/walker/CreateTodo|{token}"

    creates = {"single": [create(single, 1)],
               "many": [create(many, i) for i in range(1, args.apps + 1)]}
    pings = {"single": ["/apps/app1/walker/Ping"],
             "many": [f"/apps/app{i}/walker/Ping" for i in range(1, args.apps + 1)]}
    scenarios = (("ping", "{}", pings), ("create", '{"title": "bench"}', creates))
    out = res["load"][kind] = {}
    for name, body, routes in scenarios:
        runs = out[name] = {"single": [], "many": []}
        for r in range(args.rounds):
            order = (("single", single), ("many", many))
            for key, target in order if r % 2 == 0 else reversed(order):
                run = run_wrk(target, "/", {}, None, args.conns, args.secs, 1,
                              script=ROTATE_LUA, script_args=[body, *routes[key]])
                if run["non2xx"]:
                    raise RuntimeError(f"{kind} {name} {key}: {run['non2xx']} non-2xx")
                runs[key].append(run)
                print(f"[{kind} {name}] round {r + 1} {key}: {run['rps']:.0f} req/s "
                      f"p50 {run['p50_ms']:.2f} ms p99 {run['p99_ms']:.2f} ms "
                      f"other-load {run['other_cores']:.2f} cores", flush=True)
        medians = {k: statistics.median(x["rps"] for x in v) for k, v in runs.items()}
        runs["ratio_many_over_single"] = medians["many"] / medians["single"]
        print(f"[{kind} {name}] {args.apps} apps / 1 app: "
              f"{runs['ratio_many_over_single']:.2f}", flush=True)


def markdown(res: dict) -> str:
    n = res["apps"]
    lines = [f"# {n} apps in one process ({res['commit']})", "",
             f"Machine: {res['machine']['nproc']} cores, {res['machine']['cpu']}; "
             f"load at start {res['machine']['loadavg_start']}", "",
             "| app | RSS 1 app | RSS idle | RSS called | per extra app idle | "
             "per extra app called | cold app first call (median / max) |",
             "|---|---|---|---|---|---|---|"]
    for kind, m in res["memory"].items():
        lines.append(
            f"| {kind} | {m['single']['idle_rss_mb']:.1f} MB | {m['many']['idle_rss_mb']:.1f} MB"
            f" | {m['many']['called_rss_mb']:.1f} MB | {m['per_extra_app_idle_mb']:.2f} MB | "
            f"{m['per_extra_app_called_mb']:.2f} MB | {m['first_call_ms']['median']:.2f} / "
            f"{m['first_call_ms']['max']:.2f} ms |")
    lines += ["", f"| app | scenario | 1 app req/s | {n} apps req/s | ratio |",
              "|---|---|---|---|---|"]
    for kind, scenarios in res["load"].items():
        for name, runs in scenarios.items():
            single = statistics.median(r["rps"] for r in runs["single"])
            many = statistics.median(r["rps"] for r in runs["many"])
            lines.append(f"| {kind} | {name} | {single:.0f} | {many:.0f} | "
                         f"{runs['ratio_many_over_single']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="a release jac-scale")
    ap.add_argument("--wasm", required=True, help="examples/todo's todo.wasm (release)")
    ap.add_argument("--jac-app", help="examples/todo-jac/app.jac (its jac.toml is copied too)")
    ap.add_argument("--apps", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=int, default=5)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--out", help="path prefix of the .md and .json results")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="jac-scale-apps-")
    args.log_dir = os.path.join(work, "logs")
    os.makedirs(args.log_dir)
    res = {"apps": args.apps, "commit": args.commit, "machine": machine_info(),
           "memory": {}, "load": {}}
    kinds = [("rust", [args.wasm], "app.wasm")]
    if args.jac_app:
        toml = os.path.join(os.path.dirname(args.jac_app), "jac.toml")
        kinds.append(("jac", [args.jac_app] + ([toml] if os.path.exists(toml) else []),
                      "app.jac"))
    running: list[Target] = []
    try:
        for kind, files, app_file in kinds:
            single, many = memory_phase(kind, files, app_file, args, work, res)
            running += [single, many]
            load_phase(kind, single, many, args, res)
            single.stop()
            many.stop()
    finally:
        for target in running:
            target.stop()
    out = write_results(args.out, "apps", res, markdown(res))
    print(f"results: {out}.md (logs in {args.log_dir})")


if __name__ == "__main__":
    main()
