use std::time::Instant;

use crate::support::{App, Server, for_both_todo_builds};
use serde_json::json;

for_both_todo_builds!(a_root_with_a_hundred_thousand_todos_counts_and_lists_them);

/// Todos on the one root.
const TODOS: usize = 100_000;
/// Todos per `SeedTodos` call: a call writes at most 50,000 anchors (a todo is a node and
/// an edge).
const PER_CALL: usize = 20_000;

/// Seeded through the app's own `SeedTodos` walker, many calls, as a user would. Then
/// `CountTodos` answers from the host's count (no todo crosses into the guest) and
/// `ListTodos` lists them all, page by page into the one report, within the call's 64 MiB.
fn a_root_with_a_hundred_thousand_todos_counts_and_lists_them(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("many@example.com");
    let stranger = server.register_and_login("none@example.com");
    for batch in 0..TODOS / PER_CALL {
        let reply = server.post_auth(
            "/walker/SeedTodos",
            json!({"n": PER_CALL, "prefix": format!("b{batch}")}),
            &user.token,
        );
        assert_eq!(
            reply.only_report(),
            &json!({"created": PER_CALL}),
            "{reply:?}"
        );
    }
    let started = Instant::now();
    let reply = server.post_auth("/walker/CountTodos", json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!({"count": TODOS}), "{reply:?}");
    eprintln!("CountTodos over {TODOS} todos: {:?}", started.elapsed());
    let reply = server.post_auth("/walker/CountTodos", json!({}), &stranger.token);
    assert_eq!(reply.only_report(), &json!({"count": 0}), "{reply:?}");

    let started = Instant::now();
    let reply = server.post_auth("/walker/ListTodos", json!({}), &user.token);
    let listed = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply:?}"));
    eprintln!("ListTodos of {TODOS} todos: {:?}", started.elapsed());
    assert_eq!(listed.len(), TODOS);
    assert_eq!(listed[0]["title"], "b0-0");
    assert_eq!(listed[TODOS - 1]["title"], format!("b4-{}", PER_CALL - 1));
    assert_eq!(listed[TODOS / 2]["_jac_type"], "Todo");
}
