//! `jac-scale start app.jac` across starts: the built component is reused for unchanged
//! sources (no rebuild, no recompile), an edit rebuilds and serves the new code, and the
//! machine-wide compile cache (`JAC_SCALE_CACHE_DIR`) survives restarts and concurrent
//! starts: every entry stays whole, and a later build of another app reuses its functions.
//! A cold app serves from baseline code first and switches to optimised code (tiering).
//!
//! Observable signals only: log lines, the Ping answer, and the files of the caches
//! (names, modification times, the documented entry format: SHA-256 of the payload, then
//! the payload). No timing assertions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::support::guests::workspace_root;
use crate::support::process::{OPTIMISED, Process, START_TIMEOUT, jac_scale};

/// A copy of `examples/todo-jac` whose Ping reports `{"pong": pong}`, with its own data dir.
struct JacApp {
    dir: TempDir,
    data: TempDir,
}

impl JacApp {
    fn new(pong: &str) -> JacApp {
        let dir = TempDir::with_prefix("jac-scale-start-app-").expect("temp dir");
        let example = workspace_root().join("examples").join("todo-jac");
        std::fs::copy(example.join("jac.toml"), dir.path().join("jac.toml")).expect("copy");
        let app = JacApp {
            dir,
            data: TempDir::with_prefix("jac-scale-start-data-").expect("temp dir"),
        };
        let source = std::fs::read_to_string(example.join("app.jac")).expect("read app");
        app.write_source(&source, pong);
        app
    }

    fn entry(&self) -> PathBuf {
        self.dir.path().join("app.jac")
    }

    /// Writes `source` with its Ping changed to report `pong`.
    fn write_source(&self, source: &str, pong: &str) {
        let ping = r#"report {"pong": True};"#;
        assert!(source.contains(ping), "Ping is where this test expects it");
        let edited = source.replace(ping, &format!("report {{\"pong\": {pong}}};"));
        std::fs::write(self.entry(), edited).expect("write app");
    }

    /// `jac-scale start app.jac`, compiling through `compile_cache` (`None` = the default).
    fn start(&self, compile_cache: Option<&Path>) -> Started {
        let mut command = jac_scale(self.data.path());
        command
            .arg("start")
            .arg(self.entry())
            .args(["--host", "127.0.0.1", "--port", "0"]);
        if let Some(dir) = compile_cache {
            command.env("JAC_SCALE_CACHE_DIR", dir);
        }
        let mut process = Process::spawn(command);
        let port = process.wait_listening();
        Started { process, port }
    }

    /// The app's build and compile caches in its data dir.
    fn data_cache(&self) -> PathBuf {
        self.data.path().join("cache")
    }
}

/// A running server of a [`JacApp`].
struct Started {
    process: Process,
    port: u16,
}

impl Started {
    /// The reports of `POST /walker/Ping`.
    fn ping(&self) -> Value {
        let reply: Value = reqwest::blocking::Client::new()
            .post(format!("http://127.0.0.1:{}/walker/Ping", self.port))
            .json(&json!({}))
            .send()
            .and_then(|r| r.json())
            .expect("Ping answers");
        reply["data"]["reports"].clone()
    }

    /// Waits until the server runs its optimised code (it may start on baseline code while
    /// Cranelift compiles; `runtime::tiering`), which is then in the compile cache.
    fn wait_optimised(&self) {
        assert!(
            self.process.wait_optimised(START_TIMEOUT),
            "no optimised code\n{}",
            self.process.output()
        );
    }

    /// Stops the server (SIGTERM) and returns its log.
    fn stop(mut self) -> String {
        self.process.terminate();
        let stopped = self.process.wait_exit(Duration::from_secs(20));
        assert!(
            stopped.is_some_and(|s| s.success()),
            "{}",
            self.process.output()
        );
        self.process.finish_output();
        self.process.stderr.text()
    }
}

/// Every file under `dir` with its modification time.
fn files(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                found.insert(entry.path(), meta.modified().expect("mtime"));
            }
        }
    }
    found
}

#[test]
fn second_start_with_the_same_sources_reuses_the_build() {
    let app = JacApp::new("True");
    let first = app.start(None);
    assert_eq!(first.ping(), json!([{"pong": true}]));
    first.wait_optimised();
    let log = first.stop();
    assert!(log.contains("built Jac app"), "{log}");
    let built = files(&app.data_cache());
    assert!(
        built
            .keys()
            .any(|p| p.extension().is_some_and(|e| e == "cwasm")),
        "the compiled component is kept: {built:?}"
    );

    let second = app.start(None);
    assert_eq!(second.ping(), json!([{"pong": true}]));
    let log = second.stop();
    assert!(log.contains("using the cached build"), "{log}");
    assert!(log.contains("tier=Optimized"), "{log}");
    assert!(!log.contains("built Jac app"), "{log}");
    assert_eq!(
        files(&app.data_cache()),
        built,
        "nothing was rebuilt or recompiled"
    );
}

#[test]
fn an_edited_source_rebuilds_and_serves_the_new_code() {
    let app = JacApp::new("True");
    let first = app.start(None);
    assert_eq!(first.ping(), json!([{"pong": true}]));
    first.stop();
    let builds = |app: &JacApp| {
        std::fs::read_dir(app.data_cache().join("jac"))
            .expect("build cache")
            .count()
    };
    assert_eq!(builds(&app), 1);

    let source = std::fs::read_to_string(workspace_root().join("examples/todo-jac/app.jac"))
        .expect("read app");
    app.write_source(&source, r#""edited""#);
    let second = app.start(None);
    assert_eq!(second.ping(), json!([{"pong": "edited"}]));
    let log = second.stop();
    assert!(log.contains("built Jac app"), "{log}");
    assert!(!log.contains("using the cached build"), "{log}");
    assert_eq!(builds(&app), 2, "one build per version of the sources");
}

/// Entries of the compiled-function cache, and whether each is whole.
fn function_entries(cache: &Path) -> BTreeMap<PathBuf, bool> {
    files(&cache.join("functions"))
        .into_keys()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read entry");
            let whole = bytes.len() > 32 && Sha256::digest(&bytes[32..])[..] == bytes[..32];
            (path, whole)
        })
        .collect()
}

#[test]
fn the_compile_cache_survives_restarts_and_concurrent_starts() {
    let cache = TempDir::with_prefix("jac-scale-compile-cache-").expect("temp dir");
    let (a, b) = (JacApp::new(r#""a""#), JacApp::new(r#""b""#));
    // Both build into the empty cache at once.
    let (started_a, started_b) = std::thread::scope(|s| {
        let a = s.spawn(|| a.start(Some(cache.path())));
        let b = s.spawn(|| b.start(Some(cache.path())));
        (a.join().expect("start a"), b.join().expect("start b"))
    });
    assert_eq!(started_a.ping(), json!([{"pong": "a"}]));
    assert_eq!(started_b.ping(), json!([{"pong": "b"}]));
    started_a.wait_optimised();
    started_b.wait_optimised();
    started_a.stop();
    started_b.stop();

    let entries = function_entries(cache.path());
    assert!(!entries.is_empty(), "compiled functions are kept");
    let damaged: Vec<_> = entries.iter().filter(|(_, whole)| !**whole).collect();
    assert!(damaged.is_empty(), "damaged entries: {damaged:?}");
    let leftovers: Vec<_> = files(cache.path())
        .into_keys()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.to_string_lossy().starts_with("tmp"))
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let components = files(&cache.path().join("components"));
    assert_eq!(
        components.len(),
        1,
        "one compiled (baseline) runtime: {components:?}"
    );

    // A third app after a restart: the runtime is not compiled again, and its snapshot's
    // code comes from the cache (measured: ~3% of the functions are compiled again).
    let c = JacApp::new(r#""c""#);
    let started_c = c.start(Some(cache.path()));
    assert_eq!(started_c.ping(), json!([{"pong": "c"}]));
    started_c.wait_optimised();
    started_c.stop();
    assert_eq!(files(&cache.path().join("components")), components);
    let after = function_entries(cache.path());
    let new = after.len() - entries.len();
    assert!(
        new * 10 <= entries.len(),
        "{new} new compiled functions for a data-only change ({} before)",
        entries.len()
    );
    assert!(after.values().all(|whole| *whole));
}

/// A program with a `glob` counter and a walker that never ends.
const COUNTER_APP: &str = r#"glob hits: int = 0;

walker:pub Hit {
    can run with Root entry {
        global hits;
        hits += 1;
        report hits;
    }
}

walker:pub Spin {
    has turns: int = 0;

    can run with Root entry {
        while True {
            self.turns += 1;
        }
    }
}
"#;

/// A Jac app whose code is not cached yet serves at once from baseline (Winch) code with
/// the same sandbox (a spinning walker still times out), switches to Cranelift's code
/// between calls when it is ready, keeping its `glob` values, and starts optimised next
/// time. The compile cache is empty, so Cranelift needs seconds: the first calls surely
/// run on baseline code (the log says when the switch happened).
#[test]
fn a_cold_app_serves_baseline_code_then_switches_to_optimised_code() {
    let app = TempDir::with_prefix("jac-scale-tiering-app-").expect("temp dir");
    std::fs::write(app.path().join("app.jac"), COUNTER_APP).expect("write app");
    let data = TempDir::with_prefix("jac-scale-tiering-data-").expect("temp dir");
    let compile_cache = TempDir::with_prefix("jac-scale-tiering-cache-").expect("temp dir");
    let start = || {
        let mut command = jac_scale(data.path());
        command
            .arg("start")
            .arg(app.path().join("app.jac"))
            .args(["--host", "127.0.0.1", "--port", "0"])
            .env("JAC_SCALE_CACHE_DIR", compile_cache.path())
            .env("JAC_SCALE_CALL_TIMEOUT_MS", "500");
        let mut process = Process::spawn(command);
        let port = process.wait_listening();
        Started { process, port }
    };
    let client = reqwest::blocking::Client::new();
    let post = |server: &Started, walker: &str| -> (u16, Value) {
        let reply = client
            .post(format!("http://127.0.0.1:{}/walker/{walker}", server.port))
            .json(&json!({}))
            .send()
            .expect("the server answers");
        (reply.status().as_u16(), reply.json().expect("a JSON body"))
    };
    let hits = |server: &Started| post(server, "Hit").1["data"]["reports"][0].clone();

    let cold = start();
    assert!(
        cold.process.stderr.text().contains("tier=Baseline"),
        "{}",
        cold.process.output()
    );
    assert_eq!(hits(&cold), json!(1));
    let (status, body) = post(&cold, "Spin");
    assert_eq!(
        (status, &body["error"]["code"]),
        (504, &json!("TIMEOUT")),
        "{body}"
    );
    assert_eq!(hits(&cold), json!(2));
    assert!(
        !cold.process.stderr.text().contains(OPTIMISED),
        "these calls were meant to run on baseline code\n{}",
        cold.process.output()
    );

    cold.wait_optimised();
    assert_eq!(hits(&cold), json!(3), "globals survive the switch");
    let (status, body) = post(&cold, "Spin");
    assert_eq!(
        (status, &body["error"]["code"]),
        (504, &json!("TIMEOUT")),
        "{body}"
    );
    cold.stop();

    let warm = start();
    assert!(
        warm.process.stderr.text().contains("tier=Optimized"),
        "{}",
        warm.process.output()
    );
    assert_eq!(hits(&warm), json!(1));
    let log = warm.stop();
    assert!(!log.contains("tier=Baseline"), "{log}");
}
