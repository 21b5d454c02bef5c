//! `@schedule`d walkers and functions (`examples/schedules-jac`) through the real
//! binary: the host runs them on its timer in the sandbox as the system user (its own
//! private root; the jobs record their runs in a kvstore that public walkers read),
//! never overlapping a run with itself, logging failures, and no longer after a reload.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::guests::JAC_BUILD_TIMEOUT;
use crate::support::process::{Process, jac_scale};
use crate::support::{App, Server};

/// Polls `read` until `done` holds of its value, for at most `within`.
fn wait_for(
    within: Duration,
    mut read: impl FnMut() -> Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let value = read();
        if done(&value) || Instant::now() > deadline {
            return value;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn tick_count(server: &Server) -> i64 {
    let reply = server.post("/walker/Ticks", json!({}));
    reply.only_report()["ticks"].as_i64().expect("a count")
}

#[test]
fn an_interval_job_runs_as_the_system_user_and_is_no_endpoint() {
    let server = Server::start(App::SchedulesJac);
    let seen = wait_for(
        Duration::from_secs(10),
        || {
            server
                .post("/walker/Ticks", json!({}))
                .only_report()
                .clone()
        },
        |seen| seen["ticks"].as_i64() >= Some(4),
    );
    assert!(
        seen["ticks"].as_i64() >= Some(4),
        "{seen}\n{}",
        server.log()
    );
    // The job runs at its own root, where its Ticks stay; not at the anonymous caller's.
    assert!(seen["job_root_ticks"].as_i64() >= Some(3), "{seen}");
    assert_ne!(seen["job_root"], seen["caller_root"], "{seen}");
    assert_eq!(seen["caller_root_ticks"], 0, "{seen}");
    // Nor at a user's, and that root is the same across runs and restarts of the job.
    let user = server.register_and_login("scheduled@example.com");
    let own = server.post_auth("/walker/Ticks", json!({}), &user.token);
    assert_eq!(own.only_report()["caller_root_ticks"], 0, "{own:?}");
    assert_eq!(own.only_report()["job_root"], seen["job_root"], "{own:?}");
    // Nobody logs in as the system user.
    let login = server.post(
        "/user/login",
        json!({"username": "__system__", "password": "__no_login__"}),
    );
    assert_eq!(login.status, 401, "{login:?}");
    // Scheduled walkers and functions have no routes.
    server
        .post("/walker/Ticker", json!({}))
        .err(404, "NOT_FOUND");
    server
        .post("/function/broken", json!({}))
        .err(404, "NOT_FOUND");
}

#[test]
fn a_slow_job_never_overlaps_itself() {
    let mut server = Server::start(App::SchedulesJac);
    let runs = wait_for(
        Duration::from_secs(15),
        || server.post("/walker/Runs", json!({})).only_report().clone(),
        |runs| runs.as_array().is_some_and(|r| r.len() >= 3),
    );
    let mut spans: Vec<(f64, f64)> = runs
        .as_array()
        .unwrap_or_else(|| panic!("runs: {runs}"))
        .iter()
        .map(|pair| (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()))
        .collect();
    assert!(spans.len() >= 3, "runs: {runs}\n{}", server.log());
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in spans.windows(2) {
        // Each run takes 0.6 s and fires every 0.2 s: started only after the last ended.
        assert!(pair[1].0 >= pair[0].1, "runs overlap: {spans:?}");
        assert!(
            pair[0].1 - pair[0].0 >= 0.6,
            "a run was cut short: {spans:?}"
        );
    }
    let logged = server
        .process()
        .wait_for_log("skipped firings", Duration::from_secs(5));
    assert!(logged, "{}", server.log());
}

#[test]
fn a_failing_job_is_logged_and_runs_again() {
    let server = Server::start(App::SchedulesJac);
    let deadline = Instant::now() + Duration::from_secs(10);
    let failures = |log: &str| {
        log.lines()
            .filter(|l| l.contains("scheduled run failed") && l.contains("broken"))
            .count()
    };
    while failures(&server.log()) < 2 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
    }
    let log = server.log();
    assert!(failures(&log) >= 2, "{log}");
    assert!(log.contains("scheduled failure on purpose"), "{log}");
    // The other jobs and the endpoints are unaffected.
    assert!(tick_count(&server) > 0);
}

fn serve(app: &Path, data_dir: &Path) -> Process {
    let mut command = jac_scale(data_dir);
    command
        .arg("start")
        .arg(app)
        .args(["--host", "127.0.0.1", "--port", "0", "--reload"]);
    Process::spawn(command)
}

fn ticks_at(port: u16) -> i64 {
    let reply: Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/walker/Ticks"))
        .json(&json!({}))
        .send()
        .and_then(|r| r.json())
        .expect("Ticks answers");
    reply["data"]["reports"][0]["ticks"]
        .as_i64()
        .expect("a count")
}

#[test]
fn a_reload_stops_the_old_versions_jobs() {
    let app = TempDir::with_prefix("jac-scale-schedules-").expect("temp dir");
    let source = App::SchedulesJac
        .jac_dir()
        .expect("a Jac app")
        .join("app.jac");
    let entry = app.path().join("app.jac");
    std::fs::copy(&source, &entry).expect("copy app");
    let data = TempDir::with_prefix("jac-scale-schedules-data-").expect("temp dir");
    let mut process = serve(&entry, data.path());
    let port = process.wait_listening();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ticks_at(port) < 2 {
        assert!(Instant::now() < deadline, "no ticks\n{}", process.output());
        thread::sleep(Duration::from_millis(100));
    }

    // The new version has no Ticker job: it is an ordinary (protected) walker now.
    let text = std::fs::read_to_string(&entry).expect("read app");
    let changed = text.replace(
        "@schedule(trigger=ScheduleTrigger.STATIC, interval=0.3)\nwalker Ticker",
        "walker Ticker",
    );
    assert_ne!(
        text, changed,
        "the Ticker job is where this test expects it"
    );
    std::fs::write(&entry, changed).expect("write app");
    let deadline = Instant::now() + JAC_BUILD_TIMEOUT;
    while walker_status(port, "Ticker") != 401 {
        assert!(Instant::now() < deadline, "no reload\n{}", process.output());
        thread::sleep(Duration::from_millis(200));
    }
    let after_reload = ticks_at(port);
    thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        ticks_at(port),
        after_reload,
        "the old version's job still runs\n{}",
        process.output()
    );
    process.kill();
}

fn walker_status(port: u16, walker: &str) -> u16 {
    reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/walker/{walker}"))
        .json(&json!({}))
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}
