#!/usr/bin/env python3
"""The social app's feed, side by side with the reference (issue 15's benchmark).

Both servers serve examples/social-jac/app.jac unchanged: ours with `jac-scale start
app.jac`, the reference with `jac start app.jac` (jac-scale 0.2.31). On each, `--authors`
users (50) set up a profile and post `--posts` tweets (20) each; one reader follows every
author; then `load_feed` (the reader's tweets and those of everyone followed, newest first:
a two-hop typed traversal through 50 other users' graphs, 1,000 tweets) is loaded with wrk,
`--rounds` runs per server, alternating, after checking both answer the same feed length.

usage: bench/social/run.py --ours target/release/jac-scale [--reference-jac ~/refjac/bin/jac]
Writes bench/results/<date>-<host>-social.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from suite import (Client, Target, machine_info, register_login, run_wrk,  # noqa: E402
                   write_results)

APP = os.path.join(ROOT, "examples", "social-jac", "app.jac")
JAC_TOML = os.path.join(ROOT, "examples", "social-jac", "jac.toml")
# Registrations per client address are throttled by default (30 a minute)
UNTHROTTLED = "\n[plugins.scale.server]\nregistrations_per_address = 0\n"


def reports(status: int, body: object, what: str) -> list:
    if status != 200 or not isinstance(body, dict):
        raise RuntimeError(f"{what}: {status} {body!r:.300}")
    return body["data"]["reports"]


def populate(target: Target, authors: int, posts: int) -> tuple[str, int]:
    """Authors with tweets and a reader following them all; returns (reader token, feed
    length) after checking the feed holds every tweet."""
    stamp = time.time_ns()
    client = Client(target.port, timeout=120)
    profile_ids = []
    for a in range(authors):
        token = register_login(target.port, f"author{a}-{stamp}@example.com")
        card = reports(*client.post("/walker/setup_profile", {"username": f"author{a}"}, token),
                       "setup_profile")[0]["profile"]
        profile_ids.append(card["id"])
        for p in range(posts):
            reports(*client.post("/walker/create_tweet", {"content": f"tweet {p} of {a}"},
                                 token), "create_tweet")
    reader = register_login(target.port, f"reader-{stamp}@example.com")
    reports(*client.post("/walker/setup_profile", {"username": "reader"}, reader),
            "setup_profile")
    for profile in profile_ids:
        reports(*client.post(f"/walker/follow_user/{profile}", {}, reader), "follow_user")
    feed = reports(*client.post("/walker/load_feed", {}, reader), "load_feed")[0]
    client.close()
    if len(feed) != authors * posts:
        raise RuntimeError(f"{target.key}: feed has {len(feed)} tweets, "
                           f"expected {authors * posts}")
    return reader, len(feed)


def build_targets(args: argparse.Namespace, work: str) -> list[Target]:
    targets = []
    for key, command, env in (
        ("ours", f"exec {shlex.quote(args.ours or '')} start app.jac --host 127.0.0.1 --port {{port}}",
         {"JAC_DATA_PATH": "data", "XDG_CACHE_HOME": "cache"}),
        ("reference", f"exec {shlex.quote(args.reference_jac or '')} start app.jac "
         "--port {port}", {"XDG_CACHE_HOME": "cache"}),
    ):
        if not (args.ours if key == "ours" else args.reference_jac):
            continue
        app_dir = os.path.join(work, key)
        os.makedirs(app_dir)
        shutil.copy(APP, app_dir)
        shutil.copy(JAC_TOML, app_dir)
        if key == "ours":  # the setup registers 51 users from one address at once
            with open(os.path.join(app_dir, "jac.toml"), "a") as f:
                f.write(UNTHROTTLED)
        env = {k: os.path.join(app_dir, v) for k, v in env.items()}
        port = args.port_base + len(targets)
        targets.append(Target(key, key, command, port, app_dir, True, env=env,
                              ready_path="/walker/list_profiles"))
    return targets


def markdown(res: dict) -> str:
    lines = [f"# Social feed ({res['commit']}): {res['authors']} authors x {res['posts']} "
             f"tweets, wrk -c{res['conns']} -d{res['secs']}s", "",
             f"Machine: {res['machine']['nproc']} cores; load at start "
             f"{res['machine']['loadavg_start']}", "",
             "| server | req/s (median) | p50 ms | p99 ms | server CPU per request ms |",
             "|---|---|---|---|---|"]
    for key, runs in res["runs"].items():
        med = lambda m: statistics.median(r[m] for r in runs)  # noqa: E731
        lines.append(f"| {key} | {med('rps'):.1f} | {med('p50_ms'):.1f} | {med('p99_ms'):.1f} | "
                     f"{med('server_cpu_ms_per_req'):.2f} |")
    if "ratio_rps" in res:
        lines += ["", f"ours / reference: {res['ratio_rps']:.1f}x req/s, "
                  f"p99 {res['ratio_p99']:.1f}x lower"]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", help="a release jac-scale")
    ap.add_argument("--reference-jac", help="the reference's `jac` (venv bin)")
    ap.add_argument("--authors", type=int, default=50)
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--port-base", type=int, default=18300)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--out", help="path prefix of the .md and .json results")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="jac-scale-social-")
    log_dir = os.path.join(work, "logs")
    os.makedirs(log_dir)
    res = {"commit": args.commit, "machine": machine_info(), "authors": args.authors,
           "posts": args.posts, "conns": args.conns, "secs": args.secs, "runs": {}}
    targets = build_targets(args, work)
    readers = {}
    try:
        for t in targets:
            seconds, _ = t.start(log_dir)
            t.wait_optimised(log_dir)
            t0 = time.perf_counter()
            readers[t.key], length = populate(t, args.authors, args.posts)
            print(f"[{t.key}] started in {seconds:.1f} s; populated in "
                  f"{time.perf_counter() - t0:.1f} s; feed of {length}", flush=True)
            res["runs"][t.key] = []
        for r in range(args.rounds):
            order = targets if r % 2 == 0 else list(reversed(targets))
            for t in order:
                run = run_wrk(t, "/walker/load_feed", {}, readers[t.key], args.conns,
                              args.secs, 1)
                res["runs"][t.key].append(run)
                print(f"[feed] round {r + 1} {t.key}: {run['rps']:.1f} req/s "
                      f"p50 {run['p50_ms']:.1f} ms p99 {run['p99_ms']:.1f} ms "
                      f"non2xx {run['non2xx']} other-load {run['other_cores']:.2f} cores",
                      flush=True)
    finally:
        for t in targets:
            t.stop()
    if "reference" in res["runs"] and "ours" in res["runs"]:
        rps = {k: statistics.median(r["rps"] for r in v) for k, v in res["runs"].items()}
        p99 = {k: statistics.median(r["p99_ms"] for r in v) for k, v in res["runs"].items()}
        res["ratio_rps"] = rps["ours"] / rps["reference"]
        res["ratio_p99"] = p99["reference"] / p99["ours"]
    out = write_results(args.out, "social", res, markdown(res))
    print(f"results: {out}.md (logs in {log_dir})")


if __name__ == "__main__":
    main()
