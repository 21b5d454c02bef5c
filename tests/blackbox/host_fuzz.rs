//! A fuzz test of every host-import family through a guest, on the stable toolchain:
//! `HostFuzz` (`examples/misbehave`) turns random bytes into raw host calls of one family
//! (`graph`, `kvstore`, `storage`, `misc`: timer, log and streaming). For a bounded time
//! per family (`JAC_FUZZ_MILLIS`, default 3000; `JAC_FUZZ_SEED` replays a run, each run
//! prints its seed) every call must answer with a documented status and the API
//! envelope, the host must not panic and keep serving with bounded memory, and no read of
//! one app may return what another app of the same `serve` keeps under the same names.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::support::many::Many;
use crate::support::{App, Reply, Site};

/// Every host-import family `HostFuzz` knows.
const FAMILIES: [&str; 4] = ["graph", "kvstore", "storage", "misc"];
/// Statuses a walker call may answer with (API.md); anything else is a host fault.
const DOCUMENTED: [u16; 10] = [200, 400, 403, 404, 409, 413, 429, 500, 503, 504];
/// Growth of the server's resident memory allowed over a run, after a warm-up.
const MAX_RSS_GROWTH: u64 = 256 << 20;

/// SplitMix64: a seeded stream of random numbers.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 16 to 511 random bytes.
    fn input(&mut self) -> Vec<u8> {
        let len = 16 + self.next() % 496;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The resident memory of process `pid`, in bytes (`VmRSS`).
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib << 10
}

/// `HostFuzz` of `family` on `site` with `input`; asserts a documented answer.
fn fuzz(site: &Site, family: &str, input: &[u8]) -> Reply {
    let reply = site.post(
        "/walker/HostFuzz",
        json!({"family": family, "input": input}),
    );
    assert!(
        DOCUMENTED.contains(&reply.status),
        "{family} {input:?}: {reply:?}"
    );
    if reply.status == 200 && reply.json.is_none() {
        assert_event_stream(&reply);
    } else {
        reply.assert_envelope(reply.status == 200);
    }
    reply
}

/// A walker that streamed answers with server-sent events (README, "Streaming"): JSON
/// data, then `event: end` (or `event: error` when it failed midway).
fn assert_event_stream(reply: &Reply) {
    for data in reply.text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        let parsed = serde_json::from_str::<serde_json::Value>(data);
        assert!(parsed.is_ok(), "event data is not JSON: {reply:?}");
    }
    let last = reply
        .text
        .trim_end()
        .rsplit("\n\n")
        .next()
        .unwrap_or_default();
    assert!(
        last.starts_with("event: end") || last.starts_with("event: error"),
        "the stream did not end: {reply:?}"
    );
}

fn plant(site: &Site, marker: &str) {
    let reply = site.post("/walker/Plant", json!({"marker": marker}));
    assert_eq!(reply.only_report()["planted"], marker, "{reply:?}");
}

#[test]
fn random_host_calls_of_every_family_keep_the_host_serving_and_the_apps_apart() {
    let seed = env_number("JAC_FUZZ_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos() as u64
    });
    let per_family = Duration::from_millis(env_number("JAC_FUZZ_MILLIS").unwrap_or(3000));
    eprintln!("host fuzz: JAC_FUZZ_SEED={seed}");
    let server = Many::builder()
        .app("alpha", App::Misbehave)
        .app("beta", App::Misbehave)
        .start();
    let (alpha, beta) = (server.app("alpha"), server.app("beta"));
    let (own, other) = ("alpha-own-marker", format!("beta-marker-{seed}"));
    plant(&alpha, own);
    plant(&beta, &other);
    let mut random = Random(seed);
    for family in FAMILIES {
        for _ in 0..10 {
            fuzz(&alpha, family, &random.input());
        }
    }
    let pid = server.process().child.id();
    let warm = resident_bytes(pid);

    let mut own_seen = 0;
    for family in FAMILIES {
        let (until, mut calls, mut statuses) = (Instant::now() + per_family, 0, Vec::new());
        let mut outcomes = std::collections::BTreeMap::new();
        while calls == 0 || Instant::now() < until {
            let input = random.input();
            let reply = fuzz(&alpha, family, &input);
            assert!(
                !reply.text.contains(&other),
                "{family} {input:?} read the other app's marker: {reply:?}"
            );
            own_seen += usize::from(reply.text.contains(own));
            statuses.push(reply.status);
            if let Some(counted) = reply
                .json
                .as_ref()
                .and_then(|body| body["data"]["reports"][0]["outcomes"].as_object().cloned())
            {
                for (outcome, count) in counted {
                    *outcomes.entry(outcome).or_insert(0) += count.as_u64().unwrap_or(0);
                }
            }
            calls += 1;
        }
        statuses.sort_unstable();
        statuses.dedup();
        eprintln!(
            "host fuzz: {family}: {calls} calls, statuses {statuses:?}, host answers {outcomes:?}"
        );
        let fine = alpha.post("/walker/Fine", json!({}));
        assert_eq!(fine.only_report(), &json!({"ok": true}), "{fine:?}");
    }
    let grown = resident_bytes(pid).saturating_sub(warm);
    eprintln!(
        "host fuzz: resident memory grew {} MiB; {own_seen} answers held the app's own marker",
        grown >> 20
    );
    assert!(grown < MAX_RSS_GROWTH, "grew {} MiB", grown >> 20);
    // The reads did reach the names both apps use: alpha found its own marker.
    assert!(own_seen > 0, "no read returned the app's own marker");
    let log = server.process().output();
    assert!(!log.contains("panicked"), "the host panicked:\n{log}");
    let planted = beta.post("/walker/Plant", json!({"marker": other}));
    assert_eq!(planted.status, 200, "beta still serves: {planted:?}");
}
