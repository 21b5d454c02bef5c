//! The memory hierarchy across processes: two real `jac-scale` servers on the same SQLite
//! data dir, both with the cache tier on a real Redis (started by the tests). Each reads
//! through its own L1 (process memory) and the shared L2 (Redis); a commit through one
//! must be seen through the other on the very next call, not after a TTL.
//!
//! Nothing is faked here. (The MongoDB store of record is exercised by the
//! `mongodb_store::` variants of the todo scenarios and its contract suites.)

use crate::support::{App, Server};
use serde_json::{Value, json};

/// Two servers of the todo app sharing one data dir and Redis.
fn two_processes() -> (Server, Server) {
    let first = Server::builder(App::Todo)
        .env("REDIS_URL", test_services::redis_url())
        .start();
    let second = Server::builder(App::Todo)
        .env("REDIS_URL", test_services::redis_url())
        .env("JAC_DATA_PATH", first.data_dir().display())
        .start();
    (first, second)
}

fn todos(server: &Server, token: &str) -> Vec<(Value, Value)> {
    let reply = server.post_auth("/walker/ListTodos", json!({}), token);
    reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .iter()
        .map(|todo| (todo["title"].clone(), todo["done"].clone()))
        .collect()
}

#[test]
fn a_write_through_one_process_is_read_through_the_other_on_the_next_call() {
    let (mut first, mut second) = two_processes();
    let user = first.register_and_login("tiers@example.com");
    // The same user logs in through the other process (users are in the shared store).
    let again = second.login("tiers@example.com");
    assert_eq!(again.root_id, user.root_id);

    // Both processes read (and cache) the empty list first.
    assert!(todos(&first, &user.token).is_empty());
    assert!(todos(&second, &user.token).is_empty());

    for (writer, reader, title) in [
        (&first, &second, "from first"),
        (&second, &first, "from second"),
        (&first, &second, "again from first"),
    ] {
        writer
            .post_auth("/walker/CreateTodo", json!({"title": title}), &user.token)
            .ok();
        let listed = todos(reader, &user.token);
        assert_eq!(
            listed.last(),
            Some(&(json!(title), json!(false))),
            "{listed:?}"
        );
    }

    // A field update (not only a new edge) crosses too.
    assert_eq!(todos(&first, &user.token)[0].1, json!(false));
    second
        .post_auth(
            "/walker/CompleteTodo",
            json!({"title": "from first"}),
            &user.token,
        )
        .ok();
    assert_eq!(
        todos(&first, &user.token)[0],
        (json!("from first"), json!(true))
    );

    for server in [&mut first, &mut second] {
        let log = server.process().output();
        assert!(
            log.contains("cache tier: L1 process memory + L2 Redis"),
            "the start log names the tiers: {log}"
        );
    }
}

#[test]
fn concurrent_creates_through_two_processes_lose_no_edges() {
    let (first, second) = two_processes();
    let user = first.register_and_login("tiers-concurrent@example.com");
    std::thread::scope(|scope| {
        for (n, server) in [&first, &second, &first, &second].into_iter().enumerate() {
            let token = &user.token;
            scope.spawn(move || {
                for i in 0..10 {
                    server
                        .post_auth(
                            "/walker/CreateTodo",
                            json!({"title": format!("t{n}-{i}")}),
                            token,
                        )
                        .ok();
                }
            });
        }
    });
    for server in [&first, &second] {
        assert_eq!(todos(server, &user.token).len(), 40);
    }
}
