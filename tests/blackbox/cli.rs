use crate::support::process::{Process, jac_scale, run_to_exit, sigterm};
use crate::support::{App, Server};
use serde_json::json;
use std::net::TcpListener;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a failing start may take to give up.
const FAIL_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `jac-scale start <wasm> <args>` expecting it to fail; checks it exits non-zero
/// without listening or panicking, and returns its stderr.
fn start_fails(wasm: &Path, args: &[&str]) -> String {
    start_fails_with_env(wasm, args, &[])
}

/// [`start_fails`] with extra environment variables.
fn start_fails_with_env(wasm: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let data_dir = TempDir::new().expect("temp dir");
    let mut command = jac_scale(data_dir.path());
    command
        .arg("start")
        .arg(wasm)
        .args(["--host", "127.0.0.1"])
        .args(args)
        .envs(env.iter().copied());
    let (status, process) = run_to_exit(command, FAIL_TIMEOUT);
    let output = process.output();
    assert!(!status.success(), "start should fail ({status})\n{output}");
    assert!(
        !process.stdout.text().contains("listening"),
        "a failed start must not announce a port\n{output}"
    );
    let stderr = process.stderr.text();
    assert!(!stderr.contains("panicked"), "start panicked\n{output}");
    assert!(!stderr.contains("stack backtrace"), "{output}");
    stderr
}

/// Asserts that one line of `stderr` says what went wrong, naming one of `needles`.
fn assert_one_clear_line(stderr: &str, needles: &[&str]) {
    let lower = stderr.to_lowercase();
    let explaining = lower
        .lines()
        .filter(|line| {
            needles
                .iter()
                .any(|needle| line.contains(&needle.to_lowercase()))
        })
        .count();
    assert!(
        explaining >= 1,
        "no stderr line mentions any of {needles:?}:\n{stderr}"
    );
}

fn wasm_file(dir: &TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test wasm");
    path
}

#[test]
fn missing_app_file_fails_with_one_clear_line() {
    let dir = TempDir::new().expect("temp dir");
    let missing = dir.path().join("no-such-app.wasm");
    let stderr = start_fails(&missing, &["--port", "0"]);
    assert_one_clear_line(&stderr, &["no-such-app.wasm"]);
}

#[test]
fn random_bytes_are_not_a_component() {
    let dir = TempDir::new().expect("temp dir");
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = wasm_file(&dir, "junk.wasm", &junk);
    let stderr = start_fails(&path, &["--port", "0"]);
    assert_one_clear_line(&stderr, &["junk.wasm", "component", "wasm"]);
}

#[test]
fn core_module_is_not_a_component() {
    let dir = TempDir::new().expect("temp dir");
    // The smallest valid core module: magic + version 1.
    let path = wasm_file(&dir, "core.wasm", b"\0asm\x01\0\0\0");
    let stderr = start_fails(&path, &["--port", "0"]);
    assert_one_clear_line(&stderr, &["core.wasm", "component", "module"]);
}

#[test]
fn component_without_our_world_is_refused() {
    let dir = TempDir::new().expect("temp dir");
    // The smallest valid component (magic + component encoding): it exports nothing.
    let path = wasm_file(&dir, "empty.wasm", b"\0asm\x0d\0\x01\0");
    let stderr = start_fails(&path, &["--port", "0"]);
    assert_one_clear_line(&stderr, &["empty.wasm", "export", "world", "jac:scale"]);
}

#[test]
fn port_in_use_fails_instead_of_moving() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("local addr").port().to_string();
    let stderr = start_fails(&App::Todo.wasm(), &["--port", &port]);
    assert_one_clear_line(&stderr, &[&port, "in use"]);
}

#[test]
fn invalid_settings_in_the_environment_fail_the_start() {
    for (name, value) in [
        ("JAC_SCALE_MEMORY_LIMIT_MIB", "lots"),
        ("JAC_SCALE_CALL_TIMEOUT_MS", "-5"),
        ("JWT_ALGORITHM", "none"),
    ] {
        let stderr = start_fails_with_env(&App::Todo.wasm(), &["--port", "0"], &[(name, value)]);
        assert_one_clear_line(&stderr, &[name]);
    }
}

#[test]
fn a_capability_that_cannot_be_set_up_fails_the_start_naming_app_and_capability() {
    let data_dir = TempDir::new().expect("temp dir");
    // The embedded kvstore database cannot be opened where a folder has its name.
    std::fs::create_dir_all(data_dir.path().join("kvstore.db")).expect("folder");
    let data = data_dir.path().to_str().expect("UTF-8 temp path");
    let stderr = start_fails_with_env(
        &App::Todo.wasm(),
        &["--port", "0"],
        &[("JAC_DATA_PATH", data)],
    );
    assert_one_clear_line(&stderr, &["kvstore"]);
    assert!(
        stderr.contains("app \"todo\": cannot set up its kvstore"),
        "{stderr}"
    );
}

#[test]
fn serves_with_an_explicit_worker_count() {
    let server = Server::builder(App::Todo).arg("--workers").arg("2").start();
    let reply = server.post("/walker/Ping", json!({}));
    assert_eq!(reply.only_report(), &json!({"pong": true}), "{reply:?}");
}

#[test]
fn listens_on_the_port_it_is_given() {
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").expect("bind a port");
        probe.local_addr().expect("local addr").port()
    };
    let data_dir = TempDir::new().expect("temp dir");
    let mut command = jac_scale(data_dir.path());
    command.arg("start").arg(App::Todo.wasm()).args([
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]);
    let mut process = Process::spawn(command);
    let listening = process.wait_listening();
    process.kill();
    assert_eq!(listening, port, "{}", process.output());
}

#[test]
fn sigterm_when_idle_exits_zero() {
    let mut server = Server::start(App::Todo);
    server.post("/walker/Ping", json!({})).ok();
    let process = server.process();
    process.terminate();
    let status = process.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some_and(|status| status.success()),
        "exit after SIGTERM: {status:?}\n{}",
        process.output()
    );
}

#[test]
fn sigterm_drains_the_call_in_flight_then_exits_zero() {
    let mut server = Server::builder(App::Misbehave)
        .env("JAC_SCALE_CALL_TIMEOUT_MS", 2000)
        .start();
    thread::scope(|scope| {
        let started = Instant::now();
        let in_flight = scope.spawn(|| server.post("/walker/Spin", json!({})));
        thread::sleep(Duration::from_millis(500));
        sigterm(server.pid());
        // The call still gets its answer (the budget ends it), not a dropped connection.
        in_flight
            .join()
            .expect("in-flight call")
            .err(504, "TIMEOUT");
        assert!(started.elapsed() >= Duration::from_millis(1500));
    });
    let process = server.process();
    let status = process.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some_and(|status| status.success()),
        "exit after draining: {status:?}\n{}",
        process.output()
    );
}

#[test]
fn reload_swaps_in_the_new_component_when_the_file_changes() {
    let dir = TempDir::new().expect("temp dir");
    let app = dir.path().join("app.wasm");
    std::fs::copy(App::Todo.wasm(), &app).expect("copy todo.wasm");
    let server = Server::builder(App::Todo)
        .wasm_path(app.clone())
        .arg("--reload")
        .start();
    server.post("/walker/Ping", json!({})).ok();

    // Replace the file the way build tools do: write aside, then rename over it.
    let staged = dir.path().join("app.wasm.new");
    std::fs::copy(App::Misbehave.wasm(), &staged).expect("copy misbehave.wasm");
    std::fs::rename(&staged, &app).expect("rename over app.wasm");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = server.post("/walker/Fine", json!({}));
        if reply.status == 200 {
            assert_eq!(reply.only_report(), &json!({"ok": true}), "{reply:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reload never happened: {reply:?}"
        );
        thread::sleep(Duration::from_millis(200));
    }
    server.post("/walker/Ping", json!({})).err(404, "NOT_FOUND");
}
