//! What only Jac apps have; the todo app's HTTP behaviour is the same for its Rust and
//! Jac builds and is tested against both by the other modules (`rust_build::*` and
//! `jac_build::*`). Here: `jac-scale start app.jac` (build cache), `jac-scale build -o`,
//! syntax errors, Jac exceptions with their Jac source line, `glob` semantics, `--reload`
//! on `.jac` sources, the guest's environment (`os.getenv`, `os.environ`), and the todo
//! app's webhook and WebSocket walkers, which the Rust build does not have.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::guests::JAC_BUILD_TIMEOUT;
use crate::support::process::{Process, jac_scale, run_to_exit};
use crate::support::{App, Server};

/// `jac-scale start <app> --host 127.0.0.1 --port 0 <args>` with `data_dir` as data dir.
fn serve(app: &Path, data_dir: &Path, args: &[&str]) -> Process {
    let mut command = jac_scale(data_dir);
    command
        .arg("start")
        .arg(app)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(args);
    Process::spawn(command)
}

#[test]
fn webhook_and_websocket_walkers_have_no_walker_route() {
    let server = Server::start(App::TodoJac);
    let user = server.register_and_login("hooks@example.com");
    for walker in ["PaymentHook", "EchoWS", "ChatWS"] {
        server
            .post_auth(&format!("/walker/{walker}"), json!({}), &user.token)
            .err(404, "NOT_FOUND");
    }
}

/// In production a Jac exception answers its type and message; its source line goes to
/// the server log only.
#[test]
fn jac_exception_source_line_is_logged_not_answered() {
    let mut server = Server::start(App::TodoJac);
    let reply = server.post("/walker/Boom", json!({}));
    let error = reply.err(500, "EXECUTION_ERROR");
    assert_eq!(
        error["details"],
        json!({"exception": "ValueError"}),
        "{reply:?}"
    );
    assert!(!reply.text.contains("app.jac"), "{reply:?}");
    let process = server.process();
    assert!(
        process.wait_for_log("line 46", Duration::from_secs(5)),
        "{}",
        process.output()
    );
    assert!(
        process.stderr.text().contains("app.jac"),
        "{}",
        process.output()
    );
}

/// With the operator's debug setting the answer carries the Jac source line too.
#[test]
fn jac_exception_carries_the_jac_source_line_in_debug_mode() {
    let server = Server::builder(App::TodoJac)
        .env("JAC_SCALE_DEBUG", "true")
        .start();
    let reply = server.post("/walker/Boom", json!({}));
    let error = reply.err(500, "EXECUTION_ERROR");
    let details = error["details"].to_string();
    assert!(details.contains("app.jac"), "{reply:?}");
    assert!(details.contains("line 46"), "{reply:?}");
}

/// A copy of the todo-jac app in a temp dir, so tests may change or break it.
fn todo_jac_copy() -> TempDir {
    let dir = TempDir::with_prefix("jac-scale-jac-app-").expect("temp dir");
    for file in ["app.jac", "jac.toml"] {
        std::fs::copy(
            App::TodoJac.jac_dir().expect("a Jac app").join(file),
            dir.path().join(file),
        )
        .expect("copy app");
    }
    dir
}

#[test]
fn start_app_jac_builds_once_then_starts_from_the_cache() {
    let app = todo_jac_copy();
    let data = TempDir::with_prefix("jac-scale-jac-data-").expect("temp dir");
    let entry = app.path().join("app.jac");
    for (round, expect_cached) in [(1, false), (2, true)] {
        let started = Instant::now();
        let mut process = serve(&entry, data.path(), &[]);
        let port = process.wait_listening();
        assert_eq!(
            ping(port),
            json!([{"pong": true}]),
            "round {round}\n{}",
            process.output()
        );
        eprintln!(
            "start app.jac round {round}: first 200 after {:?}",
            started.elapsed()
        );
        process.terminate();
        assert!(process.wait_exit(Duration::from_secs(20)).is_some());
        process.finish_output();
        assert_eq!(
            process.stderr.text().contains("using the cached build"),
            expect_cached,
            "round {round}\n{}",
            process.output()
        );
    }
}

/// Asks `Ping` on `port` and returns the answer's reports.
fn ping(port: u16) -> Value {
    let reply: Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/walker/Ping"))
        .json(&json!({}))
        .send()
        .and_then(|r| r.json())
        .expect("Ping answers");
    reply["data"]["reports"].clone()
}

#[test]
fn build_writes_a_self_contained_component_that_start_serves() {
    let app = todo_jac_copy();
    let wasm = app.path().join("dist").join("todo.wasm");
    let mut command = jac_scale(app.path());
    command
        .arg("build")
        .arg(app.path().join("app.jac"))
        .arg("-o")
        .arg(&wasm);
    let (status, process) = run_to_exit(command, JAC_BUILD_TIMEOUT);
    assert!(status.success(), "{}", process.output());
    assert!(
        process.stdout.text().contains("built "),
        "{}",
        process.output()
    );
    // The component holds the program: the sources are not needed to serve it.
    std::fs::remove_file(app.path().join("app.jac")).expect("remove the source");
    let data = TempDir::with_prefix("jac-scale-jac-data-").expect("temp dir");
    let mut process = serve(&wasm, data.path(), &[]);
    let port = process.wait_listening();
    assert_eq!(ping(port), json!([{"pong": true}]), "{}", process.output());
    process.kill();
}

#[test]
fn syntax_error_is_reported_with_file_line_column_and_caret() {
    let app = TempDir::with_prefix("jac-scale-jac-bad-").expect("temp dir");
    std::fs::write(
        app.path().join("app.jac"),
        "walker:pub Ping {\n    can run with Root entry {\n        report {\"pong\": True;\n    }\n}\n",
    )
    .expect("write app");
    for subcommand in ["build", "start"] {
        let mut command = jac_scale(app.path());
        command.arg(subcommand).arg(app.path().join("app.jac"));
        let (status, process) = run_to_exit(command, JAC_BUILD_TIMEOUT);
        assert!(!status.success(), "{subcommand}\n{}", process.output());
        let stderr = process.stderr.text();
        assert!(stderr.contains("app.jac:3:"), "{subcommand}\n{stderr}");
        assert!(stderr.contains('^'), "{subcommand}\n{stderr}");
        assert!(
            stderr.contains("report {\"pong\": True;"),
            "{subcommand}\n{stderr}"
        );
    }
}

#[test]
fn reload_rebuilds_when_a_jac_source_changes() {
    let app = todo_jac_copy();
    let data = TempDir::with_prefix("jac-scale-jac-data-").expect("temp dir");
    let entry = app.path().join("app.jac");
    let mut process = serve(&entry, data.path(), &["--reload"]);
    let port = process.wait_listening();
    assert_eq!(ping(port), json!([{"pong": true}]));

    let source = std::fs::read_to_string(&entry).expect("read app");
    let changed = source.replace(r#"report {"pong": True};"#, r#"report {"pong": "again"};"#);
    assert_ne!(
        source, changed,
        "the Ping walker is where this test expects it"
    );
    std::fs::write(&entry, changed).expect("write app");

    let deadline = Instant::now() + JAC_BUILD_TIMEOUT;
    while ping(port) != json!([{"pong": "again"}]) {
        assert!(Instant::now() < deadline, "no reload\n{}", process.output());
        thread::sleep(Duration::from_millis(200));
    }
    process.kill();
}

/// A save with a syntax error keeps the previous version serving and is reported once:
/// the rebuild reads the sources, and reads must not count as changes (they once did,
/// and the same error was logged every 200 ms until the next save).
#[test]
fn reload_reports_a_broken_save_once_and_keeps_serving() {
    const FAILED: &str = "reload failed";
    let app = todo_jac_copy();
    let data = TempDir::with_prefix("jac-scale-jac-data-").expect("temp dir");
    let entry = app.path().join("app.jac");
    let mut process = serve(&entry, data.path(), &["--reload"]);
    let port = process.wait_listening();

    let source = std::fs::read_to_string(&entry).expect("read app");
    std::fs::write(&entry, format!("{source}\nwalker:pub Broken {{")).expect("write app");
    assert!(
        process.wait_for_log(FAILED, JAC_BUILD_TIMEOUT),
        "{}",
        process.output()
    );
    // Several settle periods later, still one report and the old version answering.
    thread::sleep(Duration::from_secs(2));
    assert_eq!(ping(port), json!([{"pong": true}]));
    let failures = process.stderr.text().matches(FAILED).count();
    assert_eq!(failures, 1, "{}", process.output());
    process.kill();
}

#[test]
fn globals_are_shared_by_the_calls_of_an_app_but_not_persisted() {
    let app = TempDir::with_prefix("jac-scale-jac-globals-").expect("temp dir");
    std::fs::write(
        app.path().join("app.jac"),
        r#"glob hits: int = 0;
glob seen: list = [];

walker:pub Hit {
    has who: str = "anon";

    can run with Root entry {
        global hits;
        hits += 1;
        seen.append(self.who);
        report {"hits": hits, "seen": seen};
    }
}
"#,
    )
    .expect("write app");
    let data = TempDir::with_prefix("jac-scale-jac-data-").expect("temp dir");
    let client = reqwest::blocking::Client::new();
    let hit = |port: u16, who: &str| -> Value {
        let reply: Value = client
            .post(format!("http://127.0.0.1:{port}/walker/Hit"))
            .json(&json!({"who": who}))
            .send()
            .and_then(|r| r.json())
            .expect("Hit answers");
        reply["data"]["reports"][0].clone()
    };
    let entry = app.path().join("app.jac");
    let mut process = serve(&entry, data.path(), &[]);
    let port = process.wait_listening();
    assert_eq!(hit(port, "a"), json!({"hits": 1, "seen": ["a"]}));
    assert_eq!(hit(port, "b"), json!({"hits": 2, "seen": ["a", "b"]}));
    process.terminate();
    assert!(process.wait_exit(Duration::from_secs(20)).is_some());

    let mut process = serve(&entry, data.path(), &[]);
    let port = process.wait_listening();
    assert_eq!(
        hit(port, "c"),
        json!({"hits": 1, "seen": ["c"]}),
        "globals must not survive a restart\n{}",
        process.output()
    );
    process.kill();
}

#[test]
fn the_guest_sees_its_declared_environment_and_nothing_else() {
    let app = TempDir::with_prefix("jac-scale-jac-env-").expect("temp dir");
    std::fs::write(
        app.path().join("app.jac"),
        r#"import os;
import from os { environ }

walker:pub Env {
    can run with Root entry {
        report {
            "key": os.getenv("OPENAI_API_KEY"),
            "level": os.getenv("LOG_LEVEL", "unset"),
            "home": os.getenv("HOME", "hidden"),
            "names": sorted(list(environ.keys())),
        };
    }
}
"#,
    )
    .expect("write app");
    std::fs::write(
        app.path().join("jac.toml"),
        "[plugins.scale.secrets]\nOPENAI_API_KEY = \"${TEST_OPENAI_KEY}\"\n\
         [plugins.scale.env]\nLOG_LEVEL = \"debug\"\n",
    )
    .expect("write jac.toml");
    let data = TempDir::with_prefix("jac-scale-jac-data-").expect("temp dir");
    let entry = app.path().join("app.jac");

    // Unset variable: the start stops naming it.
    let mut command = jac_scale(data.path());
    command.arg("start").arg(&entry).args(["--port", "0"]);
    let (status, process) = run_to_exit(command, JAC_BUILD_TIMEOUT);
    assert!(!status.success());
    assert!(
        process.output().contains("TEST_OPENAI_KEY"),
        "{}",
        process.output()
    );

    let mut command = jac_scale(data.path());
    command
        .arg("start")
        .arg(&entry)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .env("TEST_OPENAI_KEY", "sk-from-host")
        .env("HOME", "/root-of-the-host");
    let mut process = Process::spawn(command);
    let port = process.wait_listening();
    let reply: Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/walker/Env"))
        .json(&json!({}))
        .send()
        .and_then(|r| r.json())
        .expect("Env answers");
    assert_eq!(
        reply["data"]["reports"][0],
        json!({"key": "sk-from-host", "level": "debug", "home": "hidden",
               "names": ["LOG_LEVEL", "OPENAI_API_KEY"]}),
        "{}",
        process.output()
    );
    process.kill();
}
