"""Experiment: Ping / CreateTodo / ListTodos-100 for variants of our server, interleaved.

    python3 bench/experiments/variants.py BASE_BIN PATCHED_BIN TODO_WASM [ROUNDS]

Variants: BASE_BIN as is, BASE_BIN with MALLOC_ARENA_MAX=2, and PATCHED_BIN (BASE_BIN's
commit with host-hotspots.patch applied). Same wrk settings as suite.py; prints a table.
"""
import sys, os, time, statistics, json, shutil
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import suite
BASE, PATCHED, WASM = sys.argv[1:4]
variants = [
    ("base", BASE, {}),
    ("base+arena2", BASE, {"MALLOC_ARENA_MAX": "2"}),
    ("patched", PATCHED, {}),
]
work = '/tmp/jac-scale-variants'; os.makedirs(work + '/logs', exist_ok=True)
targets = []
for i, (k, binary, env) in enumerate(variants):
    data = f'{work}/{k}-data'
    shutil.rmtree(data, ignore_errors=True)
    t = suite.Target(k, k, f"exec {binary} start {WASM} --host 127.0.0.1 --port {{port}}", 18200 + i, work, True,
                     env=dict(env, JAC_DATA_PATH=data))
    t.start(work + '/logs')
    targets.append(t)
res = {}
try:
    toks = {}
    for t in targets:
        toks[t.key] = suite.register_login(t.port, 'l@example.com')
        suite.post_once(t.port, '/walker/SeedTodos', {"n": 100}, toks[t.key])
    scen = [("ping", "/walker/Ping", {}, lambda t: None),
            ("create", "/walker/CreateTodo", {"title": "bench"}, lambda t: suite.register_login(t.port, f'c{time.time_ns()}@example.com')),
            ("list100", "/walker/ListTodos", {}, lambda t: toks[t.key])]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    for name, path, body, tok in scen:
        for t in targets:
            suite.run_wrk(t, path, body, tok(t), 4, 2, 1)
        for r in range(rounds):
            order = targets[r % 3:] + targets[:r % 3]
            for t in order:
                x = suite.run_wrk(t, path, body, tok(t), 16, 10, 1)
                res.setdefault(name, {}).setdefault(t.key, []).append(x)
                print(name, r, t.key, f"{x['rps']:.0f} req/s cpu/req {x['server_cpu_ms_per_req']:.3f} ms p50 {x['p50_ms']:.2f} p99 {x['p99_ms']:.2f} rss {x['peak_rss_mb']:.0f} MB other {x['other_cores']:.2f}", flush=True)
    for t in targets:
        res.setdefault('final_rss_mb', {})[t.key] = suite.cpu_and_rss(t.pid)[1] / 1024
finally:
    for t in targets:
        t.stop()
json.dump(res, open(work + '/variants.json', 'w'), indent=1)
print()
print("| variant | " + " | ".join(f"{s} req/s (median) | {s} CPU ms/req" for s in ("ping", "create", "list100")) + " | peak RSS MB | RSS after |")
print("|---" * 8 + "|")
for t in targets:
    cells = []
    for s in ("ping", "create", "list100"):
        runs = res[s][t.key]
        cells.append(f"{statistics.median([r['rps'] for r in runs]):,.0f}")
        cells.append(f"{statistics.median([r['server_cpu_ms_per_req'] for r in runs]):.3f}")
    peak = max(r['peak_rss_mb'] for s in ("ping", "create", "list100") for r in res[s][t.key])
    print(f"| {t.key} | " + " | ".join(cells) + f" | {peak:.0f} | {res['final_rss_mb'][t.key]:.0f} |")
