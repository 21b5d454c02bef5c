//! `jac-scale serve`: many apps in one process, each reached under `/apps/<name>/` or
//! on `<name>.<domain>`, each with its own users, graph, tokens, kvstore, files and
//! WebSocket broadcasts; the admin API and `jac-scale apps` deploying, replacing (under
//! load, with no failed call) and removing apps; app names that try path tricks refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::storage::{upload, walker};
use crate::support::many::Many;
use crate::support::process::{jac_scale, run_to_exit};
use crate::support::websocket::{connect, next, send};
use crate::support::{App, Reply, assert_node};

/// The Jac source of the todo app.
fn todo_jac_source() -> String {
    let folder = App::TodoJac.jac_dir().expect("todo-jac is a Jac app");
    std::fs::read_to_string(folder.join("app.jac")).expect("examples/todo-jac/app.jac")
}

/// `PUT /apps/<name>` on the admin API with `body`.
fn deploy(server: &Many, name: &str, body: Vec<u8>) -> Reply {
    server.admin.send(
        server
            .admin_request(Method::PUT, &format!("/apps/{name}"))
            .body(body),
    )
}

/// The status of `PUT <path>` with `body` on the admin API, the path sent as it is
/// (HTTP clients resolve `..` before sending; an attacker's does not).
fn raw_put_status(server: &Many, path: &str, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let address = server.admin.base_url().trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the admin API");
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        server.token,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

/// `GET /apps` on the admin API: the apps by name.
fn listed(server: &Many) -> Vec<Value> {
    let reply = server
        .admin
        .send(server.admin_request(Method::GET, "/apps"));
    reply.ok()["apps"]
        .as_array()
        .expect("apps is a list")
        .clone()
}

#[test]
fn apps_under_their_prefix_have_their_own_users_tokens_and_graphs() {
    // The same component twice and the Jac build: compiled code is shared, data is not.
    let server = Many::builder()
        .app("alpha", App::Todo)
        .app("gamma", App::Todo)
        .app("beta", App::TodoJac)
        .start();
    let (alpha, gamma, beta) = (server.app("alpha"), server.app("gamma"), server.app("beta"));
    for app in [&alpha, &gamma, &beta] {
        assert_eq!(
            app.post("/walker/Ping", json!({})).reports(),
            &vec![json!({"pong": true})]
        );
    }
    // The two copies of one component share its compiled code: it is made ready once.
    let log = server.process().output();
    assert_eq!(log.matches("component ready").count(), 2, "{log}");

    // One email, three independent accounts.
    let on_alpha = alpha.register_and_login("same@example.com");
    let on_gamma = gamma.register_and_login("same@example.com");
    beta.register_and_login("same@example.com");
    assert_ne!(on_alpha.root_id, on_gamma.root_id);

    // A token of one app is refused by another, though the user's email exists there.
    let created = alpha.post_auth(
        "/walker/CreateTodo",
        json!({"title": "alpha's"}),
        &on_alpha.token,
    );
    let todo_id = assert_node(&created.only_report()[0], "Todo").to_owned();
    gamma
        .post_auth("/walker/ListTodos", json!({}), &on_alpha.token)
        .err(401, "UNAUTHORIZED");
    beta.post_auth("/walker/ListTodos", json!({}), &on_alpha.token)
        .err(401, "UNAUTHORIZED");
    // An id of one app is not found in another, even by the same email's user.
    for path in [
        format!("/walker/WhereAmI/{todo_id}"),
        format!("/walker/WhereAmI/{}", on_alpha.root_id),
    ] {
        gamma
            .post_auth(&path, json!({}), &on_gamma.token)
            .err(404, "NOT_FOUND");
        alpha.post_auth(&path, json!({}), &on_alpha.token).ok();
    }
    let mine = gamma.post_auth("/walker/ListTodos", json!({}), &on_gamma.token);
    assert_eq!(mine.only_report(), &json!([]), "{mine:?}");

    // Every data folder is the app's own.
    for name in ["alpha", "beta", "gamma"] {
        assert!(
            server
                .data_dir()
                .join("apps")
                .join(name)
                .join("jac.db")
                .is_file()
        );
        assert!(
            server
                .data_dir()
                .join("apps")
                .join(name)
                .join("jwt-secret")
                .is_file()
        );
    }
    let secret = |name: &str| {
        std::fs::read(server.data_dir().join("apps").join(name).join("jwt-secret")).unwrap()
    };
    assert_ne!(secret("alpha"), secret("gamma"));

    // No app, no route; an unknown app is 404 like an unknown route.
    server
        .root
        .post("/walker/Ping", json!({}))
        .err(404, "NOT_FOUND");
    server
        .app("nope")
        .post("/walker/Ping", json!({}))
        .err(404, "NOT_FOUND");
    server
        .app("ALPHA")
        .post("/walker/Ping", json!({}))
        .err(404, "NOT_FOUND");
    // The admin API is not on the public listener.
    server.root.get("/apps").err(404, "NOT_FOUND");
}

#[test]
fn a_shared_jwt_secret_in_the_environment_is_not_shared_by_apps() {
    let server = Many::builder()
        .app("one", App::Todo)
        .app("two", App::Todo)
        .env("JWT_SECRET", "one-secret-for-the-whole-process-0123456789")
        .start();
    let user = server.app("one").register_and_login("a@example.com");
    server.app("two").register_and_login("a@example.com");
    server
        .app("two")
        .post_auth("/walker/ListTodos", json!({}), &user.token)
        .err(401, "UNAUTHORIZED");
    assert!(
        server
            .process()
            .stderr
            .text()
            .contains("JWT_SECRET is ignored")
    );
}

#[test]
fn the_host_header_reaches_an_app_under_the_domain() {
    let server = Many::builder()
        .app("todo", App::Todo)
        .arg("--domain")
        .arg("apps.test")
        .start();
    let with_host = |host: &str, path: &str| {
        server.root.send(
            server
                .root
                .request(Method::POST, path)
                .header("host", host)
                .json(&json!({})),
        )
    };
    assert_eq!(
        with_host("todo.apps.test:80", "/walker/Ping").reports(),
        &vec![json!({"pong": true})]
    );
    assert_eq!(
        with_host("TODO.Apps.Test", "/walker/Ping").reports(),
        &vec![json!({"pong": true})]
    );
    with_host("other.apps.test", "/walker/Ping").err(404, "NOT_FOUND");
    // Another host falls back to the path prefix.
    assert_eq!(
        with_host("example.com", "/apps/todo/walker/Ping").reports(),
        &vec![json!({"pong": true})]
    );
}

#[test]
fn docs_under_a_prefix_name_the_prefix_as_their_server() {
    let server = Many::builder().app("todo", App::Todo).start();
    let app = server.app("todo");
    let document = app.get("/openapi.json");
    assert_eq!(document.status, 200, "{document:?}");
    let document = document.body();
    assert_eq!(document["servers"], json!([{"url": "/apps/todo"}]));
    assert!(document["paths"]["/walker/Ping"].is_object());
    let page = app.get("/docs");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("./openapi.json"),
        "the page fetches its own app's document"
    );
}

#[test]
fn kvstore_files_and_broadcasts_stay_in_their_app() {
    let shared_storage = tempfile::tempdir().unwrap();
    let server = Many::builder()
        .app("kv-one", App::Kv)
        .app("kv-two", App::Kv)
        .app("files-one", App::Files)
        .app("files-two", App::Files)
        .app("chat-one", App::Realtime)
        .app("chat-two", App::Realtime)
        // Settings the operator gives every app must not make them share.
        .env("JAC_STORAGE_PATH", shared_storage.path().display())
        .env("REDIS_URL", test_services::redis_url())
        .start();

    let kv = |app: &str, op: &str, args: Value| {
        server
            .app(app)
            .post(
                "/walker/KeyValue",
                json!({"store": "cache", "op": op, "args": args}),
            )
            .only_report()["result"]
            .clone()
    };
    kv("kv-one", "set", json!({"key": "k", "value": "one's"}));
    assert_eq!(kv("kv-two", "get", json!({"key": "k"})), Value::Null);
    assert_eq!(kv("kv-one", "get", json!({"key": "k"})), json!("one's"));
    assert_eq!(
        kv("kv-two", "scan_keys", json!({"pattern": "*"})),
        json!([])
    );

    let (files_one, files_two) = (server.app("files-one"), server.app("files-two"));
    upload(&files_one, "documents", "secret.txt", b"one's file").only_report();
    let missing = walker(
        &files_two,
        "download_file",
        json!({"path": "documents/secret.txt"}),
    );
    assert_eq!(missing.only_report(), &json!({"error": "File not found"}));
    let read = walker(
        &files_one,
        "download_file",
        json!({"path": "documents/secret.txt"}),
    );
    assert_eq!(read.only_report()["content"], "one's file");
    assert_eq!(
        std::fs::read_dir(shared_storage.path()).unwrap().count(),
        0,
        "each app's files live in its own data folder"
    );

    // Broadcast groups are per app, even over one Redis.
    let (chat_one, chat_two) = (server.app("chat-one"), server.app("chat-two"));
    let mut one = connect(&chat_one, "/ws/ChatRoom");
    let mut two = connect(&chat_two, "/ws/ChatRoom");
    send(&mut one, json!({"message": "for one only", "sender": "a"}));
    assert_eq!(
        next(&mut one)["data"]["reports"][0]["content"],
        "for one only"
    );
    send(&mut two, json!({"message": "for two", "sender": "b"}));
    assert_eq!(
        next(&mut two)["data"]["reports"][0]["content"],
        "for two",
        "app two's first frame is its own broadcast, not app one's"
    );
}

#[test]
fn the_admin_api_needs_the_operator_token() {
    let server = Many::builder().app("todo", App::Todo).start();
    let token_file = server.data_dir().join("admin-token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        server
            .process()
            .stdout
            .text()
            .contains(&token_file.display().to_string())
    );
    server.admin.get("/apps").err(401, "UNAUTHORIZED");
    server
        .admin
        .send(
            server
                .admin
                .request(Method::GET, "/apps")
                .bearer_auth("guess"),
        )
        .err(401, "UNAUTHORIZED");
    let anonymous_deploy = server.admin.send(
        server
            .admin
            .request(Method::PUT, "/apps/evil")
            .body(std::fs::read(App::Todo.wasm()).unwrap()),
    );
    anonymous_deploy.err(401, "UNAUTHORIZED");
    assert!(!server.apps_dir.join("evil").exists());
    assert_eq!(listed(&server).len(), 1);
}

#[test]
fn app_names_that_try_path_tricks_are_refused_at_deploy() {
    let server = Many::builder().app("todo", App::Todo).start();
    let wasm = std::fs::read(App::Todo.wasm()).unwrap();
    let long = "a".repeat(64);
    for name in [
        "..%2Ftodo",
        "a%2Fb",
        "Todo",
        "-x",
        "x-",
        long.as_str(),
        "a.b",
        "a%00",
    ] {
        deploy(&server, name, wasm.clone()).err(422, "VALIDATION_ERROR");
    }
    // `..` itself, as a client that does not normalise the path sends it.
    for path in ["/apps/..", "/apps/%2e%2e", "/apps/."] {
        assert_eq!(raw_put_status(&server, path, &wasm), 422, "PUT {path}");
    }
    // Neither files nor data were written outside (or inside) the apps dir.
    let mut folders: Vec<String> = std::fs::read_dir(&server.apps_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    folders.sort();
    assert_eq!(folders, vec!["todo"]);
    assert_eq!(
        std::fs::read_dir(server.data_dir().join("apps"))
            .unwrap()
            .count(),
        1
    );
    // Neither a binary that is not a component nor a broken component replaces the app.
    deploy(&server, "todo", vec![0xff, 0xfe, 0x00]).err(422, "VALIDATION_ERROR");
    deploy(&server, "todo", b"\0asm garbage".to_vec()).err(422, "VALIDATION_ERROR");
    deploy(&server, "todo", b"walker:pub Broken {".to_vec()).err(422, "VALIDATION_ERROR");
    assert_eq!(
        server.app("todo").post("/walker/Ping", json!({})).reports(),
        &vec![json!({"pong": true})]
    );
    assert!(server.apps_dir.join("todo/app.wasm").is_file());
    assert!(!server.apps_dir.join("todo/app.jac").exists());
}

#[test]
fn replacing_an_app_under_load_fails_no_call_and_keeps_its_data() {
    let server = Arc::new(Many::builder().app("todo", App::Todo).start());
    let user = server.app("todo").register_and_login("kept@example.com");
    server
        .app("todo")
        .post_auth(
            "/walker/CreateTodo",
            json!({"title": "before"}),
            &user.token,
        )
        .only_report();

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..4)
        .map(|_| {
            let (server, stop, calls) = (server.clone(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                let app = server.app("todo");
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let reply = app.post("/walker/Ping", json!({}));
                    assert_eq!(
                        reply.status, 200,
                        "a call failed during the replace: {reply:?}"
                    );
                    seen.push(reply.only_report()["pong"].clone());
                    calls.fetch_add(1, Ordering::Relaxed);
                }
                seen
            })
        })
        .collect();
    // The Rust build, then the Jac source (built on the fly) answering "v2".
    std::thread::sleep(Duration::from_millis(200));
    let v2 = todo_jac_source().replace(r#"report {"pong": True};"#, r#"report {"pong": "v2"};"#);
    assert!(v2.contains(r#""pong": "v2""#));
    let replaced = deploy(&server, "todo", v2.into_bytes());
    assert_eq!(replaced.status, 200, "{replaced:?}");
    assert_eq!(replaced.body()["data"]["replaced"], true);
    let after = server.app("todo").post("/walker/Ping", json!({}));
    assert_eq!(
        after.reports(),
        &vec![json!({"pong": "v2"})],
        "new calls get the new version"
    );
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let mut versions = Vec::new();
    for caller in callers {
        let seen = caller.join().expect("no caller saw a failed call");
        // Versions never go back: once a caller saw v2, it kept seeing v2.
        let first_v2 = seen
            .iter()
            .position(|v| v == "v2")
            .expect("every caller saw v2");
        assert!(seen[first_v2..].iter().all(|v| v == "v2"), "{seen:?}");
        versions.extend(seen);
    }
    assert!(
        calls.load(Ordering::Relaxed) > 20,
        "the load ran through the replace"
    );
    assert!(
        versions.contains(&json!(true)),
        "the old version served before the replace"
    );

    // The data stayed: the user logs in and finds its todo.
    let again = server.app("todo").login("kept@example.com");
    let todos = server
        .app("todo")
        .post_auth("/walker/ListTodos", json!({}), &again.token);
    assert_eq!(todos.only_report()[0]["title"], "before", "{todos:?}");
    assert!(server.apps_dir.join("todo/app.jac").is_file());
    assert!(!server.apps_dir.join("todo/app.wasm").exists());
    let usage = &listed(&server)[0];
    assert_eq!(usage["name"], "todo");
    assert_eq!(usage["kind"], "jac");
    assert!(usage["requests"].as_u64().unwrap() >= calls.load(Ordering::Relaxed) as u64);
    assert!(usage["storage_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn the_apps_command_deploys_lists_and_removes_with_or_without_the_data() {
    let server = Many::builder().start();
    let apps = |args: &[&str]| {
        let mut command = jac_scale(server.data_dir());
        command
            .arg("apps")
            .args(args)
            .args(["--admin", server.admin.base_url()]);
        let (status, process) = run_to_exit(command, Duration::from_secs(120));
        (
            status.success(),
            process.stdout.text(),
            process.stderr.text(),
        )
    };
    let wasm = App::Todo.wasm().display().to_string();
    let (ok, out, err) = apps(&["deploy", "todo", &wasm]);
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "deployed todo");
    let todo = server.app("todo");
    todo.register_and_login("stays@example.com");

    let (ok, out, err) = apps(&["list"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.lines()
            .any(|line| line.starts_with("todo ") && line.contains("wasm")),
        "{out}"
    );

    // Removed: not served, its files gone, its data kept for a later deploy.
    let (ok, out, err) = apps(&["remove", "todo"]);
    assert!(ok, "{out}{err}");
    todo.post("/walker/Ping", json!({})).err(404, "NOT_FOUND");
    assert!(!server.apps_dir.join("todo").exists());
    assert!(server.data_dir().join("apps/todo/jac.db").is_file());
    let (ok, _, err) = apps(&["deploy", "todo", &wasm]);
    assert!(ok, "{err}");
    todo.login("stays@example.com");

    // Purged: the data goes too.
    let (ok, out, err) = apps(&["remove", "todo", "--purge"]);
    assert!(ok, "{out}{err}");
    assert!(!server.data_dir().join("apps/todo").exists());
    let (ok, _, err) = apps(&["remove", "todo"]);
    assert!(!ok);
    assert!(err.contains("404"), "{err}");
    let (ok, _, err) = apps(&["deploy", "Bad/Name", &wasm]);
    assert!(!ok);
    assert!(err.contains("invalid app name"), "{err}");
}
