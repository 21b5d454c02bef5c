use std::time::Instant;

use crate::support::{App, Server, on_mongodb};
use serde_json::json;

/// Todos per `SeedTodos` call: a call writes at most 50,000 anchors (a todo is a node and
/// an edge).
const PER_CALL: usize = 20_000;

#[test]
fn rust_app_counts_and_lists_a_hundred_thousand_todos_on_one_root() {
    one_root_with(App::Todo, 100_000, Listing::Whole);
}

#[test]
fn jac_app_counts_a_hundred_thousand_todos_on_one_root() {
    one_root_with(App::TodoJac, 100_000, Listing::PastMemory);
}

#[test]
fn jac_app_lists_fifty_thousand_todos_on_one_root() {
    one_root_with(App::TodoJac, 50_000, Listing::Whole);
}

/// MongoDB counts by reading every adjacency row (no index to count by yet): fewer todos.
#[test]
fn mongodb_store_counts_and_lists_two_thousand_todos_on_one_root() {
    on_mongodb(|| one_root_with(App::Todo, 2_000, Listing::Whole));
}

/// What `ListTodos` answers.
enum Listing {
    /// Every todo, in creation order.
    Whole,
    /// A Jac list holds every node it lists: past the call's 64 MiB, the memory quota's
    /// error (not a hang, not a crash of the server).
    PastMemory,
}

/// `todos` todos seeded through the app's own `SeedTodos` walker, many calls, as a user
/// would. `CountTodos` answers from the host's count (no todo crosses into the guest);
/// `ListTodos` lists them page by page into its one report.
fn one_root_with(app: App, todos: usize, listing: Listing) {
    let server = Server::start(app);
    let user = server.register_and_login("many@example.com");
    let stranger = server.register_and_login("none@example.com");
    let calls = todos.div_ceil(PER_CALL);
    for batch in 0..calls {
        let n = PER_CALL.min(todos - batch * PER_CALL);
        let reply = server.post_auth(
            "/walker/SeedTodos",
            json!({"n": n, "prefix": format!("b{batch}")}),
            &user.token,
        );
        assert_eq!(reply.only_report(), &json!({"created": n}), "{reply:?}");
    }
    let started = Instant::now();
    let reply = server.post_auth("/walker/CountTodos", json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!({"count": todos}), "{reply:?}");
    eprintln!("CountTodos over {todos} todos: {:?}", started.elapsed());
    let reply = server.post_auth("/walker/CountTodos", json!({}), &stranger.token);
    assert_eq!(reply.only_report(), &json!({"count": 0}), "{reply:?}");

    let started = Instant::now();
    let reply = server.post_auth("/walker/ListTodos", json!({}), &user.token);
    eprintln!("ListTodos of {todos} todos: {:?}", started.elapsed());
    match listing {
        Listing::Whole => {
            let listed = reply
                .only_report()
                .as_array()
                .unwrap_or_else(|| panic!("not a list: {reply:?}"));
            assert_eq!(listed.len(), todos);
            assert_eq!(listed[0]["title"], "b0-0");
            let last = format!("b{}-{}", calls - 1, (todos - 1) % PER_CALL);
            assert_eq!(listed[todos - 1]["title"], last);
        }
        Listing::PastMemory => {
            let error = reply.err(500, "EXECUTION_ERROR");
            assert_eq!(
                error["details"]["quota"], "memory_per_instance_mib",
                "{reply:?}"
            );
            let reply = server.post_auth("/walker/CountTodos", json!({}), &user.token);
            assert_eq!(reply.only_report(), &json!({"count": todos}), "{reply:?}");
        }
    }
}
