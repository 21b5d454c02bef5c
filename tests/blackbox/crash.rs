//! Crash safety: the server is killed (SIGKILL, no shutdown) in the middle of a
//! concurrent write load, then started again on the same data. Every write that was
//! answered 200 must be there, no call's changeset may be half-applied (checked in the
//! store itself: every `Todo` node has its edge from the root and every edge its node),
//! and the server must start without any repair. On SQLite (both builds) and MongoDB.
//! Also killed in the middle of `jac-scale build`, of an upload and of saving an upload
//! over an older file: no half component, no half stored file (the old one or the whole
//! new one) and no temporary file is left once the next build or start ran.

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ::mongodb::bson::{Document, doc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::storage::{leftover_uploads, upload, upload_request};
use crate::support::guests::{JAC_BUILD_TIMEOUT, workspace_root};
use crate::support::process::{Process, jac_scale, run_to_exit};
use crate::support::store::on_mongodb_database;
use crate::support::{App, Server, for_both_todo_builds};

for_both_todo_builds!(acknowledged_writes_survive_a_kill_during_eight_concurrent_writers);

/// Writers: two per user, four users (so writers share roots and use different ones).
const USERS: usize = 4;
const WRITERS_PER_USER: usize = 2;
/// Acknowledged writes to wait for before the kill.
const WRITES_BEFORE_KILL: usize = 40;

fn acknowledged_writes_survive_a_kill_during_eight_concurrent_writers(app: App) {
    let mut server = Server::start(app);
    let users: Vec<_> = (0..USERS)
        .map(|i| server.register_and_login(&format!("crash{i}@example.com")))
        .collect();
    let acknowledged: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    let killed = AtomicBool::new(false);
    let pid = server.pid();

    thread::scope(|scope| {
        for (u, user) in users.iter().enumerate() {
            for w in 0..WRITERS_PER_USER {
                let (server, acknowledged, killed) = (&server, &acknowledged, &killed);
                scope.spawn(move || {
                    for n in 0.. {
                        let title = format!("u{u}-w{w}-{n}");
                        let sent = server
                            .request(Method::POST, "/walker/CreateTodo")
                            .bearer_auth(&user.token)
                            .json(&json!({"title": title}))
                            .send();
                        match sent {
                            Ok(reply) if reply.status() == 200 => {
                                acknowledged.lock().unwrap().push((u, title));
                            }
                            // Refused or cut off by the kill: not acknowledged.
                            _ if killed.load(Ordering::SeqCst) => return,
                            Ok(reply) => panic!("{title}: {} before the kill", reply.status()),
                            Err(error) => panic!("{title}: {error} before the kill"),
                        }
                    }
                });
            }
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while acknowledged.lock().unwrap().len() < WRITES_BEFORE_KILL {
            assert!(Instant::now() < deadline, "the writers made no progress");
            thread::sleep(Duration::from_millis(10));
        }
        killed.store(true, Ordering::SeqCst);
        let status = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGKILL {pid}");
    });

    server.restart();
    let acknowledged = acknowledged.into_inner().unwrap();
    for (u, user) in users.iter().enumerate() {
        let again = server.login(&user.email);
        let reply = server.post_auth("/walker/ListTodos", json!({}), &again.token);
        let listed: HashSet<Value> = reply
            .only_report()
            .as_array()
            .unwrap_or_else(|| panic!("{reply:?}"))
            .iter()
            .map(|todo| todo["title"].clone())
            .collect();
        for (_, title) in acknowledged.iter().filter(|(owner, _)| *owner == u) {
            assert!(
                listed.contains(&json!(title)),
                "acknowledged write {title} is lost after the kill"
            );
        }
    }
    let counts = store_counts(&server);
    assert_eq!(
        counts.todos, counts.edges_to_todos,
        "a changeset was half-applied: {counts:?}"
    );
    assert_eq!(
        counts.dangling_edges, 0,
        "a changeset was half-applied: {counts:?}"
    );
    assert!(counts.todos >= acknowledged.len(), "{counts:?}");
}

/// What the store holds after the restart (the todo app links each new `Todo` from its
/// root in the same call).
#[derive(Debug)]
struct Counts {
    todos: usize,
    edges_to_todos: usize,
    /// Edges whose target node does not exist.
    dangling_edges: usize,
}

fn store_counts(server: &Server) -> Counts {
    match server.env("MONGODB_URI") {
        Some(uri) => mongodb_counts(uri),
        None => sqlite_counts(&server.data_dir().join("jac.db")),
    }
}

fn sqlite_counts(path: &std::path::Path) -> Counts {
    let conn = rusqlite::Connection::open(path).expect("jac.db opens");
    let count = |sql: &str| -> usize {
        conn.query_row(sql, [], |row| row.get::<_, i64>(0))
            .expect("count") as usize
    };
    Counts {
        todos: count("SELECT count(*) FROM nodes WHERE archetype = 'Todo'"),
        edges_to_todos: count(
            "SELECT count(*) FROM edges e JOIN nodes n ON n.id = e.target \
             WHERE n.archetype = 'Todo'",
        ),
        dangling_edges: count(
            "SELECT count(*) FROM edges e LEFT JOIN nodes n ON n.id = e.target \
             WHERE n.id IS NULL",
        ),
    }
}

fn mongodb_counts(uri: &str) -> Counts {
    on_mongodb_database(uri, |db| async move {
        let nodes = db.collection::<Document>("nodes");
        let edges = db.collection::<Document>("edges");
        let todos = nodes
            .distinct("_id", doc! {"archetype": "Todo"})
            .await
            .expect("Todo ids");
        let every_node = nodes.distinct("_id", doc! {}).await.expect("node ids");
        let count = |filter: Document| {
            let edges = edges.clone();
            async move { edges.count_documents(filter).await.expect("count") as usize }
        };
        Counts {
            todos: todos.len(),
            edges_to_todos: count(doc! {"target": {"$in": &todos}}).await,
            dangling_edges: count(doc! {"target": {"$nin": &every_node}}).await,
        }
    })
}

/// The temporary files (`files::partial`: `.<name>.partial-<random>`) under `dir`, to
/// `depth` folders down.
fn partials(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().contains(".partial-") {
            found.push(path);
        } else if depth > 0 && path.is_dir() {
            found.extend(partials(&path, depth - 1));
        }
    }
    found
}

/// The temporary files of a build: in the machine cache and next to its output.
fn all_partials(cache: &Path, out_dir: &Path) -> Vec<PathBuf> {
    [partials(cache, 3), partials(out_dir, 0)].concat()
}

/// `jac-scale build` of the todo app into `output`, compiling through the machine cache
/// `cache` (a fresh one makes the build write both a compiled runtime and the component).
fn jac_build(work: &Path, cache: &Path, output: &Path) -> Command {
    let mut command = jac_scale(work);
    command
        .env("JAC_SCALE_CACHE_DIR", cache)
        .arg("build")
        .arg(workspace_root().join("examples/todo-jac/app.jac"))
        .arg("-o")
        .arg(output);
    command
}

/// SIGKILL while `jac-scale build` writes its compiled runtime or its component (the
/// test watches for the temporary file and kills then): the output is absent, never
/// half written; the next build succeeds, leaves no temporary file behind (the killed
/// one's included) and its component serves.
#[test]
fn a_kill_during_jac_build_leaves_no_half_component_and_no_temporary_file() {
    let work = tempfile::tempdir().expect("work dir");
    let cache = work.path().join("machine-cache");
    let out_dir = work.path().join("out");
    let output = out_dir.join("app.wasm");
    let mut killed_while_writing = None;
    // The write windows are milliseconds long, and a write may end between the look and
    // the kill: each attempt is a cold build, killed when a temporary file shows.
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(&cache);
        let _ = std::fs::remove_file(&output);
        let mut build = Process::spawn(jac_build(work.path(), &cache, &output));
        let deadline = Instant::now() + JAC_BUILD_TIMEOUT;
        while matches!(build.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            if !all_partials(&cache, &out_dir).is_empty() {
                break;
            }
            thread::yield_now();
        }
        build.kill();
        let left = all_partials(&cache, &out_dir);
        if !left.is_empty() {
            killed_while_writing = Some(left);
            break;
        }
    }
    let left = killed_while_writing.expect("never killed the build while it wrote a file");
    assert!(
        !output.exists(),
        "a build killed while writing left an output (and {left:?})"
    );

    let (status, build) = run_to_exit(jac_build(work.path(), &cache, &output), JAC_BUILD_TIMEOUT);
    assert!(status.success(), "{}", build.output());
    let left = all_partials(&cache, &out_dir);
    assert!(
        left.is_empty(),
        "temporary files after the next build: {left:?}"
    );
    let server = Server::builder(App::TodoJac).wasm_path(output).start();
    let reply = server.post("/walker/Ping", json!({}));
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// SIGKILL while a client is uploading a file: after the restart no upload folder is
/// left, nothing of the file reached storage, and uploads work.
#[test]
fn a_kill_during_an_upload_leaves_no_temporary_file_after_the_restart() {
    let storage = tempfile::tempdir().expect("storage dir");
    let mut server = Server::builder(App::Files)
        .env("JAC_STORAGE_PATH", storage.path().display())
        .start();
    let address = server
        .base_url()
        .strip_prefix("http://")
        .expect("an http URL")
        .to_owned();
    let boundary = "crash-upload-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    // Announces a megabyte, sends the part's head and 64 KiB of it, then waits.
    let mut client = TcpStream::connect(&address).expect("connect");
    write!(
        client,
        "POST /walker/upload_file HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n{head}",
        head.len() + (1 << 20)
    )
    .expect("send the head");
    client.write_all(&[b'x'; 64 << 10]).expect("send a part");
    let deadline = Instant::now() + Duration::from_secs(30);
    while leftover_uploads(&server) == 0 {
        assert!(
            Instant::now() < deadline,
            "the upload never reached the upload area"
        );
        thread::sleep(Duration::from_millis(10));
    }
    server.process().kill();
    drop(client);

    server.restart();
    assert_eq!(
        leftover_uploads(&server),
        0,
        "the killed upload's folder is left"
    );
    let areas: Vec<_> = std::fs::read_dir(server.data_dir().join("tmp/uploads"))
        .expect("upload areas")
        .collect();
    assert_eq!(areas.len(), 1, "only the running server's area: {areas:?}");
    let reply = upload(&server, "documents", "after.txt", b"after the kill");
    assert_eq!(reply.only_report()["size"], 14, "{reply:?}");
    let stored: Vec<_> = crate::support::files_under(storage.path())
        .into_iter()
        .filter_map(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(stored, ["after.txt"], "the cut-off upload reached storage");
}

/// Bytes of the upload saved over an older file while the server is killed: big enough
/// that saving it takes a while to watch for.
const BIG_UPLOAD: usize = 96 << 20;

/// SIGKILL while a finished upload is saved over an older file of the same name (the
/// test watches the local storage's folder of partials and kills then): after the
/// restart the file is the old one or the whole new one, never part of it, no partial is
/// left, and saving works.
#[test]
fn a_kill_while_an_upload_is_saved_leaves_the_old_file_or_the_whole_new_one() {
    let storage = tempfile::tempdir().expect("storage dir");
    let limit = (BIG_UPLOAD + (1 << 20)).to_string();
    let mut server = Server::builder(App::Files)
        .env("JAC_STORAGE_PATH", storage.path().display())
        .env("JAC_STORAGE_MAX_UPLOAD_BYTES", &limit)
        .env("JAC_STORAGE_MAX_FILE_BYTES", &limit)
        .start();
    let old = b"the old file";
    let big = vec![b'n'; BIG_UPLOAD];
    let writing = storage.path().join(".jac-scale-partial");
    let mut killed_while_saving = None;
    // The save may end between the look and the kill: each attempt saves again.
    for _ in 0..5 {
        let reply = upload(&server, "documents", "big.bin", old);
        assert_eq!(reply.only_report()["size"], old.len(), "{reply:?}");
        let request = upload_request(&server, "documents", "big.bin", &big);
        let pid = server.pid();
        let seen = thread::scope(|scope| {
            // Answered 200, or cut off by the kill.
            scope.spawn(move || drop(request.send()));
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                let found = partials(&writing, 0);
                if !found.is_empty() {
                    let status = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status()
                        .expect("kill runs");
                    assert!(status.success(), "SIGKILL {pid}");
                    return Some(found);
                }
                thread::sleep(Duration::from_micros(200));
            }
            None
        });
        if let Some(found) = seen {
            killed_while_saving = Some(found);
            break;
        }
    }
    let found = killed_while_saving.expect("never killed the server while it saved the upload");

    server.restart();
    let stored: Vec<PathBuf> = crate::support::files_under(storage.path())
        .into_iter()
        .filter(|path| path.ends_with("documents/big.bin"))
        .collect();
    let [stored] = stored.as_slice() else {
        panic!("not one stored big.bin: {stored:?}");
    };
    let bytes = std::fs::read(stored).expect("the stored file reads");
    assert!(
        bytes == old || (bytes.len() == BIG_UPLOAD && bytes.iter().all(|&b| b == b'n')),
        "the file is neither the old one nor the whole new one: {} bytes (killed while {found:?} existed)",
        bytes.len()
    );
    let left = partials(storage.path(), 5);
    assert!(left.is_empty(), "partials after the restart: {left:?}");
    let reply = upload(&server, "documents", "big.bin", b"after the kill");
    assert_eq!(reply.only_report()["size"], 14, "{reply:?}");
    assert_eq!(std::fs::read(stored).unwrap(), b"after the kill");
}
