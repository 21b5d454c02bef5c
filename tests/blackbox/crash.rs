//! Crash safety: the server is killed (SIGKILL, no shutdown) in the middle of a
//! concurrent write load, then started again on the same data. Every write that was
//! answered 200 must be there, no call's changeset may be half-applied (checked in the
//! store itself: every `Todo` node has its edge from the root and every edge its node),
//! and the server must start without any repair. On SQLite (both builds) and MongoDB.

use std::collections::HashSet;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ::mongodb::bson::{Document, doc};
use reqwest::Method;
use serde_json::{Value, json};

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
