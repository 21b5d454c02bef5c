//! Jac apps: the todo app built from Jac (`examples/todo-jac/app.jac`) must answer exactly
//! like the Rust build (`examples/todo`), so every todo expectation below runs against
//! both builds (`rust_build::*` and `jac_build::*`). Then what only Jac apps have:
//! `jac-scale start app.jac` (build cache), syntax errors, Jac tracebacks, `--reload` on
//! `.jac` sources. Webhook and WebSocket walkers of app.jac are not HTTP walkers and are
//! left out here.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::guests::workspace_root;
use crate::support::process::{Process, jac_scale, run_to_exit};
use crate::support::server::copy_dir;
use crate::support::{App, Server, assert_node, is_hex_id};

/// How long `jac-scale build` of the todo app may take (it compiles the runtime once).
const BUILD_TIMEOUT: Duration = Duration::from_secs(240);

/// Which build of the todo app a test talks to.
#[derive(Debug, Clone, Copy)]
enum Build {
    /// `examples/todo`, a Rust guest.
    Rust,
    /// `examples/todo-jac/app.jac`, built with `jac-scale build`.
    Jac,
}

/// A running server of one build; for the Jac build it owns its data dir.
struct TodoServer {
    server: Server,
    _data_dir: Option<TempDir>,
}

impl Deref for TodoServer {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

fn start(build: Build) -> TodoServer {
    match build {
        Build::Rust => TodoServer {
            server: Server::start(App::Todo),
            _data_dir: None,
        },
        Build::Jac => {
            let data_dir = TempDir::with_prefix("jac-scale-jac-test-").expect("temp dir");
            if let Some(template) = jac_template_dir() {
                copy_dir(template, data_dir.path());
            }
            let server = Server::builder(App::Todo)
                .wasm_path(jac_todo_wasm().to_path_buf())
                .env("JAC_DATA_PATH", data_dir.path().display())
                .start();
            TodoServer {
                server,
                _data_dir: Some(data_dir),
            }
        }
    }
}

fn todo_jac_dir() -> PathBuf {
    workspace_root().join("examples").join("todo-jac")
}

/// `jac-scale build examples/todo-jac/app.jac`, once per test process.
fn jac_todo_wasm() -> &'static Path {
    static BUILT: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_, wasm) = BUILT.get_or_init(|| {
        let dir = TempDir::with_prefix("jac-scale-jac-build-").expect("temp dir");
        let wasm = dir.path().join("todo-jac.wasm");
        let mut command = jac_scale(dir.path());
        command
            .arg("build")
            .arg(todo_jac_dir().join("app.jac"))
            .arg("-o")
            .arg(&wasm);
        let (status, process) = run_to_exit(command, BUILD_TIMEOUT);
        assert!(
            status.success(),
            "jac-scale build failed\n{}",
            process.output()
        );
        (dir, wasm)
    });
    wasm
}

/// A data dir in which the Jac todo component was served once (compile cache, secret,
/// database), so each test does not compile the component again.
fn jac_template_dir() -> Option<&'static Path> {
    static TEMPLATE: OnceLock<Option<TempDir>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = TempDir::with_prefix("jac-scale-jac-template-").ok()?;
            let mut process = serve(jac_todo_wasm(), dir.path(), &[]);
            let ready = process.try_wait_listening();
            process.terminate();
            let stopped = process
                .wait_exit(Duration::from_secs(20))
                .is_some_and(|s| s.success());
            process.kill();
            (ready.is_ok() && stopped).then_some(dir)
        })
        .as_ref()
        .map(TempDir::path)
}

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

/// One test per build for each scenario.
macro_rules! for_both_builds {
    ($($scenario:ident),* $(,)?) => {
        mod rust_build {
            $( #[test] fn $scenario() { super::$scenario(super::Build::Rust) } )*
        }
        mod jac_build {
            $( #[test] fn $scenario() { super::$scenario(super::Build::Jac) } )*
        }
    };
}

for_both_builds!(
    ping_reports_a_constant_with_an_empty_result,
    walker_fields_get_defaults_and_come_back_as_result,
    walker_fields_given_in_the_body_override_defaults,
    numeric_strings_are_accepted_for_int_fields,
    reports_come_in_order_and_may_be_absent,
    raising_walker_is_an_execution_error_without_host_details,
    protected_walker_runs_for_a_logged_in_user,
    create_and_list_todos_in_creation_order,
    each_user_sees_only_their_own_todos,
    seed_and_count_todos,
    complete_todo_visits_the_match_and_persists_it,
    where_am_i_on_the_root_and_on_an_own_node,
    spawning_on_foreign_or_unknown_nodes_is_not_found,
    unknown_walkers_and_functions_are_not_found,
    functions_return_values_with_typed_defaults,
    protected_function_needs_a_token,
    function_without_a_required_parameter_is_a_validation_error,
    get_walker_takes_typed_fields_from_the_query_string,
    custom_paths_replace_the_default_routes,
    webhook_and_websocket_walkers_have_no_walker_route,
);

fn ping_reports_a_constant_with_an_empty_result(build: Build) {
    let server = start(build);
    let reply = server.post("/walker/Ping", json!({}));
    let data = reply.ok();
    assert_eq!(data["result"], json!({}), "{reply:?}");
    assert_eq!(data["reports"], json!([{"pong": true}]), "{reply:?}");
    assert!(data.get("warnings").is_none(), "{reply:?}");
}

fn walker_fields_get_defaults_and_come_back_as_result(build: Build) {
    let server = start(build);
    let reply = server.post("/walker/Echo", json!({"name": "ada", "colour": "red"}));
    let expected = json!({"name": "ada", "count": 1, "tags": []});
    assert_eq!(reply.result(), &expected, "{reply:?}");
    assert_eq!(reply.reports(), &vec![expected], "{reply:?}");
}

fn walker_fields_given_in_the_body_override_defaults(build: Build) {
    let server = start(build);
    let body = json!({"name": "ada", "count": 3, "tags": ["a", "b"]});
    let reply = server.post("/walker/Echo", body.clone());
    assert_eq!(reply.only_report(), &body, "{reply:?}");
}

fn numeric_strings_are_accepted_for_int_fields(build: Build) {
    let server = start(build);
    let reply = server.post("/walker/Echo", json!({"name": "ada", "count": "7"}));
    assert_eq!(reply.only_report()["count"], json!(7), "{reply:?}");
}

fn reports_come_in_order_and_may_be_absent(build: Build) {
    let server = start(build);
    let reply = server.post("/walker/TwoReports", json!({}));
    assert_eq!(reply.reports(), &vec![json!(1), json!("two")], "{reply:?}");
    let reply = server.post("/walker/NoReport", json!({}));
    assert!(reply.reports().is_empty(), "{reply:?}");
}

fn raising_walker_is_an_execution_error_without_host_details(build: Build) {
    let server = start(build);
    let reply = server.post("/walker/Boom", json!({}));
    let error = reply.err(500, "EXECUTION_ERROR");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("ValueError"), "{reply:?}");
    assert!(message.contains("boom!"), "{reply:?}");
    for host_detail in [
        "/work/", "/root/", "/home/", "/tmp/", "/rustc/", ".cargo", "host/src", "wasmtime",
        "panicked",
    ] {
        assert!(
            !reply.text.contains(host_detail),
            "error leaks {host_detail:?}: {reply:?}"
        );
    }
}

fn protected_walker_runs_for_a_logged_in_user(build: Build) {
    let server = start(build);
    server
        .post("/walker/Greet", json!({"name": "Ada"}))
        .err(401, "UNAUTHORIZED");
    let user = server.register_and_login("greet@example.com");
    let reply = server.post_auth("/walker/Greet", json!({"name": "Ada"}), &user.token);
    assert_eq!(reply.result(), &json!({"name": "Ada"}), "{reply:?}");
    assert_eq!(
        reply.reports(),
        &vec![json!({"greeting": "Hello, Ada!"})],
        "{reply:?}"
    );
}

fn listed(server: &Server, token: &str) -> Vec<Value> {
    let reply = server.post_auth("/walker/ListTodos", json!({}), token);
    reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .clone()
}

fn create_and_list_todos_in_creation_order(build: Build) {
    let server = start(build);
    let user = server.register_and_login("list@example.com");
    let mut created_ids = Vec::new();
    for title in ["one", "two", "three"] {
        let reply = server.post_auth("/walker/CreateTodo", json!({"title": title}), &user.token);
        assert_eq!(reply.result(), &json!({"title": title}), "{reply:?}");
        let created = reply.only_report().as_array().cloned().unwrap_or_default();
        assert_eq!(created.len(), 1, "{reply:?}");
        assert_eq!(created[0]["title"], title, "{reply:?}");
        assert_eq!(created[0]["done"], false, "{reply:?}");
        created_ids.push(assert_node(&created[0], "Todo").to_owned());
    }
    let todos = listed(&server, &user.token);
    let titles: Vec<_> = todos.iter().map(|t| t["title"].clone()).collect();
    let ids: Vec<_> = todos
        .iter()
        .map(|t| assert_node(t, "Todo").to_owned())
        .collect();
    assert_eq!(titles, vec![json!("one"), json!("two"), json!("three")]);
    assert_eq!(ids, created_ids);
}

fn each_user_sees_only_their_own_todos(build: Build) {
    let server = start(build);
    let alice = server.register_and_login("alice@example.com");
    let bob = server.register_and_login("bob@example.com");
    server
        .post_auth("/walker/CreateTodo", json!({"title": "a"}), &alice.token)
        .ok();
    let count = |token: &str| {
        let reply = server.post_auth("/walker/CountTodos", json!({}), token);
        reply.only_report()["count"].clone()
    };
    assert_eq!(count(&alice.token), json!(1));
    assert_eq!(count(&bob.token), json!(0));
}

fn seed_and_count_todos(build: Build) {
    let server = start(build);
    let user = server.register_and_login("seed@example.com");
    let reply = server.post_auth("/walker/SeedTodos", json!({}), &user.token);
    assert_eq!(
        reply.result(),
        &json!({"n": 100, "prefix": "todo"}),
        "{reply:?}"
    );
    assert_eq!(reply.only_report(), &json!({"created": 100}), "{reply:?}");
    let reply = server.post_auth("/walker/CountTodos", json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!({"count": 100}), "{reply:?}");
    let todos = listed(&server, &user.token);
    assert_eq!(todos.len(), 100);
    assert_eq!(todos[0]["title"], "todo-0");
    assert_eq!(todos[99]["title"], "todo-99");
}

fn complete_todo_visits_the_match_and_persists_it(build: Build) {
    let server = start(build);
    let user = server.register_and_login("complete@example.com");
    for title in ["keep", "finish"] {
        server
            .post_auth("/walker/CreateTodo", json!({"title": title}), &user.token)
            .ok();
    }
    let reply = server.post_auth(
        "/walker/CompleteTodo",
        json!({"title": "finish"}),
        &user.token,
    );
    let marked = reply.only_report();
    assert_node(marked, "Todo");
    assert_eq!(marked["title"], "finish", "{reply:?}");
    assert_eq!(marked["done"], true, "{reply:?}");
    let done: Vec<_> = listed(&server, &user.token)
        .iter()
        .map(|t| (t["title"].clone(), t["done"].clone()))
        .collect();
    assert_eq!(
        done,
        vec![
            (json!("keep"), json!(false)),
            (json!("finish"), json!(true))
        ]
    );
    let reply = server.post_auth(
        "/walker/CompleteTodo",
        json!({"title": "ghost"}),
        &user.token,
    );
    assert!(reply.reports().is_empty(), "{reply:?}");
}

fn where_am_i_on_the_root_and_on_an_own_node(build: Build) {
    let server = start(build);
    let user = server.register_and_login("where@example.com");
    let reply = server.post_auth("/walker/WhereAmI", json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!({"at": "root"}), "{reply:?}");
    assert!(is_hex_id(&json!(user.root_id)));
    let on_root = format!("/walker/WhereAmI/{}", user.root_id);
    let reply = server.post_auth(&on_root, json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!({"at": "root"}), "{reply:?}");

    let reply = server.post_auth("/walker/CreateTodo", json!({"title": "here"}), &user.token);
    let todo_id = assert_node(&reply.only_report()[0], "Todo").to_owned();
    let reply = server.post_auth(
        &format!("/walker/WhereAmI/{todo_id}"),
        json!({}),
        &user.token,
    );
    assert_eq!(
        reply.only_report(),
        &json!({"at": "todo", "title": "here"}),
        "{reply:?}"
    );
}

fn spawning_on_foreign_or_unknown_nodes_is_not_found(build: Build) {
    let server = start(build);
    let user = server.register_and_login("hidden@example.com");
    let reply = server.post_auth(
        "/walker/CreateTodo",
        json!({"title": "secret"}),
        &user.token,
    );
    let todo_id = assert_node(&reply.only_report()[0], "Todo").to_owned();
    let reply = server.post(&format!("/walker/WhereAmI/{todo_id}"), json!({}));
    reply.err(404, "NOT_FOUND");
    assert!(!reply.text.contains("secret"), "{reply:?}");
    for id in ["0123456789abcdef0123456789abcdef", "not-an-id"] {
        server
            .post_auth(&format!("/walker/WhereAmI/{id}"), json!({}), &user.token)
            .err(404, "NOT_FOUND");
    }
}

fn unknown_walkers_and_functions_are_not_found(build: Build) {
    let server = start(build);
    for path in [
        "/walker/NoSuchWalker",
        "/function/no_such_function",
        "/function/Ping",
        "/walker/health_check",
    ] {
        server.post(path, json!({})).err(404, "NOT_FOUND");
    }
}

fn functions_return_values_with_typed_defaults(build: Build) {
    let server = start(build);
    let reply = server.post("/function/health_check", json!({}));
    assert_eq!(
        reply.ok()["result"],
        json!({"status": "healthy"}),
        "{reply:?}"
    );
    assert_eq!(reply.ok()["reports"], json!([]), "{reply:?}");
    let reply = server.post("/function/pub_add", json!({"a": 5}));
    assert_eq!(reply.result(), &json!(15), "{reply:?}");
    assert!(
        reply.result().is_i64(),
        "default must arrive as an int: {reply:?}"
    );
    let reply = server.post("/function/pub_add", json!({"a": 5, "b": -2}));
    assert_eq!(reply.result(), &json!(3), "{reply:?}");
}

fn protected_function_needs_a_token(build: Build) {
    let server = start(build);
    server
        .post("/function/add_numbers", json!({"a": 1, "b": 2}))
        .err(401, "UNAUTHORIZED");
    let user = server.register_and_login("adder@example.com");
    let reply = server.post_auth(
        "/function/add_numbers",
        json!({"a": 1, "b": 2}),
        &user.token,
    );
    assert_eq!(reply.result(), &json!(3), "{reply:?}");
}

fn function_without_a_required_parameter_is_a_validation_error(build: Build) {
    let server = start(build);
    let reply = server.post("/function/pub_add", json!({"b": 1}));
    let error = reply.err(422, "VALIDATION_ERROR");
    assert!(error["details"].to_string().contains("\"a\""), "{reply:?}");
}

fn get_walker_takes_typed_fields_from_the_query_string(build: Build) {
    let server = start(build);
    let reply = server.get("/walker/GetInfo?q=hello&n=5");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "hello", "n": 5, "method": "GET"}),
        "{reply:?}"
    );
    assert_eq!(reply.result(), &json!({"q": "hello", "n": 5}), "{reply:?}");
    let reply = server.get("/walker/GetInfo");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "default", "n": 0, "method": "GET"}),
        "{reply:?}"
    );
    let reply = server.get("/walker/GetInfo?n=five");
    let error = reply.err(422, "VALIDATION_ERROR");
    assert!(error["details"].to_string().contains("\"n\""), "{reply:?}");
    server
        .post("/walker/GetInfo", json!({"q": "x"}))
        .err(405, "METHOD_NOT_ALLOWED");
}

fn custom_paths_replace_the_default_routes(build: Build) {
    let server = start(build);
    let reply = server.get("/custom/users");
    assert_eq!(
        reply.only_report(),
        &json!({"users": ["alice", "bob"], "path": "/custom/users"}),
        "{reply:?}"
    );
    let reply = server.get("/items/a%20b");
    assert_eq!(reply.only_report(), &json!({"item_id": "a b"}), "{reply:?}");
    assert_eq!(reply.result(), &json!({"item_id": "a b"}), "{reply:?}");
    let reply = server.get("/custom/func");
    assert_eq!(
        reply.result(),
        &json!({"message": "custom func"}),
        "{reply:?}"
    );
    server.get("/walker/CustomUsers").err(404, "NOT_FOUND");
    server
        .post("/walker/GetItem", json!({"item_id": "x"}))
        .err(404, "NOT_FOUND");
    server
        .post("/function/custom_func", json!({}))
        .err(404, "NOT_FOUND");
}

fn webhook_and_websocket_walkers_have_no_walker_route(build: Build) {
    let server = start(build);
    let user = server.register_and_login("hooks@example.com");
    for walker in ["PaymentHook", "EchoWS", "ChatWS"] {
        server
            .post_auth(&format!("/walker/{walker}"), json!({}), &user.token)
            .err(404, "NOT_FOUND");
    }
}

// ------------------------------------------------------------------ Jac only

#[test]
fn jac_exception_carries_the_jac_source_line() {
    let server = start(Build::Jac);
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
        std::fs::copy(todo_jac_dir().join(file), dir.path().join(file)).expect("copy app");
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
        let url = format!("http://127.0.0.1:{port}/walker/Ping");
        let reply = reqwest::blocking::Client::new()
            .post(&url)
            .json(&json!({}))
            .send()
            .expect("Ping answers");
        assert_eq!(reply.status(), 200, "round {round}\n{}", process.output());
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
        let (status, process) = run_to_exit(command, BUILD_TIMEOUT);
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
    let client = reqwest::blocking::Client::new();
    let ping = || -> Value {
        client
            .post(format!("http://127.0.0.1:{port}/walker/Ping"))
            .json(&json!({}))
            .send()
            .and_then(|r| r.json())
            .expect("Ping answers")
    };
    assert_eq!(ping()["data"]["reports"], json!([{"pong": true}]));

    let source = std::fs::read_to_string(&entry).expect("read app");
    let changed = source.replace(r#"report {"pong": True};"#, r#"report {"pong": "again"};"#);
    assert_ne!(
        source, changed,
        "the Ping walker is where this test expects it"
    );
    std::fs::write(&entry, changed).expect("write app");

    let deadline = Instant::now() + BUILD_TIMEOUT;
    while ping()["data"]["reports"] != json!([{"pong": "again"}]) {
        assert!(Instant::now() < deadline, "no reload\n{}", process.output());
        thread::sleep(Duration::from_millis(200));
    }
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
