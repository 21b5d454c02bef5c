use crate::support::{App, Server, assert_node, for_both_todo_builds, is_hex_id};
use serde_json::json;

for_both_todo_builds!(
    public_walker_reports_a_constant_in_the_envelope,
    walker_fields_get_defaults_and_come_back_as_result,
    walker_fields_given_in_the_body_override_defaults,
    numeric_strings_are_accepted_for_int_fields_as_ints,
    unknown_body_keys_are_ignored,
    unicode_text_round_trips,
    reports_come_in_order,
    walker_without_reports_answers_an_empty_list,
    raising_walker_is_an_execution_error_without_host_details,
    protected_walker_runs_for_a_logged_in_user,
    create_todo_reports_the_new_node_in_a_list,
    list_todos_returns_the_created_nodes_in_creation_order,
    each_user_sees_only_the_todos_on_their_own_root,
    seed_todos_uses_its_defaults_and_count_todos_counts_them,
    complete_todo_visits_the_matching_node_and_persists_the_change,
    complete_todo_without_a_match_reports_nothing,
    where_am_i_on_the_root_and_spawned_on_an_own_node,
    spawning_on_the_own_root_id_is_the_same_as_no_id,
    anonymous_spawn_on_a_users_node_is_not_found,
    spawning_on_an_unknown_or_malformed_node_id_is_not_found,
    unknown_walker_is_not_found,
    walker_routes_refuse_other_methods_in_the_envelope,
    unknown_route_is_not_found_in_the_envelope,
);

fn public_walker_reports_a_constant_in_the_envelope(app: App) {
    let server = Server::start(app);
    let reply = server.post("/walker/Ping", json!({}));
    let data = reply.ok();
    assert_eq!(data["result"], json!({}), "{reply:?}");
    assert_eq!(data["reports"], json!([{"pong": true}]), "{reply:?}");
    assert!(
        data.get("warnings").is_none(),
        "warnings without a refused write: {reply:?}"
    );
}

fn walker_fields_get_defaults_and_come_back_as_result(app: App) {
    let server = Server::start(app);
    let reply = server.post("/walker/Echo", json!({"name": "ada"}));
    let expected = json!({"name": "ada", "count": 1, "tags": []});
    assert_eq!(reply.result(), &expected, "{reply:?}");
    assert_eq!(reply.reports(), &vec![expected], "{reply:?}");
}

fn walker_fields_given_in_the_body_override_defaults(app: App) {
    let server = Server::start(app);
    let reply = server.post(
        "/walker/Echo",
        json!({"name": "ada", "count": 3, "tags": ["a", "b"]}),
    );
    assert_eq!(
        reply.only_report(),
        &json!({"name": "ada", "count": 3, "tags": ["a", "b"]}),
        "{reply:?}"
    );
}

fn numeric_strings_are_accepted_for_int_fields_as_ints(app: App) {
    let server = Server::start(app);
    let reply = server.post("/walker/Echo", json!({"name": "ada", "count": "7"}));
    assert_eq!(reply.only_report()["count"], json!(7), "{reply:?}");
}

fn unknown_body_keys_are_ignored(app: App) {
    let server = Server::start(app);
    let reply = server.post("/walker/Echo", json!({"name": "ada", "colour": "red"}));
    assert_eq!(
        reply.result(),
        &json!({"name": "ada", "count": 1, "tags": []}),
        "{reply:?}"
    );
}

fn unicode_text_round_trips(app: App) {
    let server = Server::start(app);
    let name = "h\u{e9}llo \u{1f30d} \u{4e16}\u{754c} \"quoted\" \\ back";
    let reply = server.post("/walker/Echo", json!({"name": name}));
    assert_eq!(reply.only_report()["name"], name, "{reply:?}");
}

fn reports_come_in_order(app: App) {
    let server = Server::start(app);
    let reply = server.post("/walker/TwoReports", json!({}));
    assert_eq!(reply.reports(), &vec![json!(1), json!("two")], "{reply:?}");
}

fn walker_without_reports_answers_an_empty_list(app: App) {
    let server = Server::start(app);
    let reply = server.post("/walker/NoReport", json!({}));
    assert_eq!(
        reply.reports(),
        &Vec::<serde_json::Value>::new(),
        "{reply:?}"
    );
}

fn raising_walker_is_an_execution_error_without_host_details(app: App) {
    let server = Server::start(app);
    let reply = server.post("/walker/Boom", json!({}));
    let error = reply.err(500, "EXECUTION_ERROR");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("ValueError"), "{reply:?}");
    assert!(message.contains("boom!"), "{reply:?}");
    for host_detail in [
        "/work/", "/root/", "/home/", "/tmp/", "/rustc/", ".cargo", "host/src", "crates/",
        "wasmtime", "panicked",
    ] {
        assert!(
            !reply.text.contains(host_detail),
            "error leaks {host_detail:?}: {reply:?}"
        );
    }
}

fn protected_walker_runs_for_a_logged_in_user(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("greet@example.com");
    let reply = server.post_auth("/walker/Greet", json!({"name": "Ada"}), &user.token);
    assert_eq!(reply.result(), &json!({"name": "Ada"}), "{reply:?}");
    assert_eq!(
        reply.reports(),
        &vec![json!({"greeting": "Hello, Ada!"})],
        "{reply:?}"
    );
}

fn create_todo_reports_the_new_node_in_a_list(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("create@example.com");
    let reply = server.post_auth("/walker/CreateTodo", json!({"title": "milk"}), &user.token);
    assert_eq!(reply.result(), &json!({"title": "milk"}), "{reply:?}");
    let created = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"));
    assert_eq!(created.len(), 1, "{reply:?}");
    let todo = &created[0];
    assert_node(todo, "Todo");
    assert_eq!(todo["title"], "milk", "{reply:?}");
    assert_eq!(todo["done"], false, "{reply:?}");
}

fn list_todos_returns_the_created_nodes_in_creation_order(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("list@example.com");
    let mut created_ids = Vec::new();
    for title in ["one", "two", "three"] {
        let reply = server.post_auth("/walker/CreateTodo", json!({"title": title}), &user.token);
        created_ids.push(assert_node(&reply.only_report()[0], "Todo").to_owned());
    }
    let reply = server.post_auth("/walker/ListTodos", json!({}), &user.token);
    let listed = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"));
    let titles: Vec<_> = listed.iter().map(|todo| todo["title"].clone()).collect();
    let ids: Vec<_> = listed
        .iter()
        .map(|todo| assert_node(todo, "Todo").to_owned())
        .collect();
    assert_eq!(
        titles,
        vec![json!("one"), json!("two"), json!("three")],
        "{reply:?}"
    );
    assert_eq!(ids, created_ids, "{reply:?}");
}

fn each_user_sees_only_the_todos_on_their_own_root(app: App) {
    let server = Server::start(app);
    let alice = server.register_and_login("alice@example.com");
    let bob = server.register_and_login("bob@example.com");
    server
        .post_auth(
            "/walker/CreateTodo",
            json!({"title": "alice's"}),
            &alice.token,
        )
        .ok();
    let count = |token: &str| {
        let reply = server.post_auth("/walker/CountTodos", json!({}), token);
        reply.only_report()["count"].clone()
    };
    assert_eq!(count(&alice.token), json!(1));
    assert_eq!(count(&bob.token), json!(0));
    assert_ne!(alice.root_id, bob.root_id);
}

fn seed_todos_uses_its_defaults_and_count_todos_counts_them(app: App) {
    let server = Server::start(app);
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
    let reply = server.post_auth("/walker/ListTodos", json!({}), &user.token);
    let listed = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"));
    assert_eq!(listed.len(), 100, "{reply:?}");
    assert_eq!(listed[0]["title"], "todo-0", "{reply:?}");
    assert_eq!(listed[99]["title"], "todo-99", "{reply:?}");
}

fn complete_todo_visits_the_matching_node_and_persists_the_change(app: App) {
    let server = Server::start(app);
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

    let reply = server.post_auth("/walker/ListTodos", json!({}), &user.token);
    let done: Vec<_> = reply
        .only_report()
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .iter()
        .map(|todo| (todo["title"].clone(), todo["done"].clone()))
        .collect();
    assert_eq!(
        done,
        vec![
            (json!("keep"), json!(false)),
            (json!("finish"), json!(true))
        ],
        "{reply:?}"
    );
}

fn complete_todo_without_a_match_reports_nothing(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("nomatch@example.com");
    let reply = server.post_auth(
        "/walker/CompleteTodo",
        json!({"title": "ghost"}),
        &user.token,
    );
    assert!(reply.reports().is_empty(), "{reply:?}");
}

fn where_am_i_on_the_root_and_spawned_on_an_own_node(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("where@example.com");
    let reply = server.post_auth("/walker/WhereAmI", json!({}), &user.token);
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

fn spawning_on_the_own_root_id_is_the_same_as_no_id(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("rootid@example.com");
    assert!(is_hex_id(&json!(user.root_id)));
    let path = format!("/walker/WhereAmI/{}", user.root_id);
    let reply = server.post_auth(&path, json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!({"at": "root"}), "{reply:?}");
}

fn anonymous_spawn_on_a_users_node_is_not_found(app: App) {
    let server = Server::start(app);
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
}

fn spawning_on_an_unknown_or_malformed_node_id_is_not_found(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("badid@example.com");
    for id in ["0123456789abcdef0123456789abcdef", "not-an-id", "ZZZ"] {
        let reply = server.post_auth(&format!("/walker/WhereAmI/{id}"), json!({}), &user.token);
        reply.err(404, "NOT_FOUND");
    }
}

fn unknown_walker_is_not_found(app: App) {
    let server = Server::start(app);
    server
        .post("/walker/NoSuchWalker", json!({}))
        .err(404, "NOT_FOUND");
    let user = server.register_and_login("unknown@example.com");
    server
        .post_auth("/walker/NoSuchWalker", json!({}), &user.token)
        .err(404, "NOT_FOUND");
}

fn walker_routes_refuse_other_methods_in_the_envelope(app: App) {
    let server = Server::start(app);
    server.get("/walker/Ping").err(405, "METHOD_NOT_ALLOWED");
    server
        .send(
            server
                .request(reqwest::Method::PUT, "/walker/Ping")
                .json(&json!({})),
        )
        .err(405, "METHOD_NOT_ALLOWED");
    server
        .send(server.request(reqwest::Method::DELETE, "/function/health_check"))
        .err(405, "METHOD_NOT_ALLOWED");
}

fn unknown_route_is_not_found_in_the_envelope(app: App) {
    let server = Server::start(app);
    server.get("/no/such/route").err(404, "NOT_FOUND");
    server
        .post("/no/such/route", json!({}))
        .err(404, "NOT_FOUND");
}

/// The spec's "API Endpoints" and "Health Checks" walkers (`examples/api-endpoints-jac`).
#[test]
fn spec_endpoint_and_health_walkers() {
    let server = Server::start(App::ApiEndpointsJac);
    server
        .post("/walker/get_users", json!({}))
        .err(401, "UNAUTHORIZED");
    let user = server.register_and_login("spec@example.com");
    let call =
        |walker: &str, body| server.post_auth(&format!("/walker/{walker}"), body, &user.token);
    let reply = call("get_users", json!({}));
    assert_eq!(reply.reports(), &vec![json!([])], "{reply:?}");
    let reply = call("search", json!({"query": "hello", "limit": 20}));
    assert_eq!(
        reply.result(),
        &json!({"query": "hello", "limit": 20}),
        "{reply:?}"
    );
    assert!(reply.reports().is_empty(), "{reply:?}");
    let reply = call("search", json!({"query": "hello"}));
    assert_eq!(
        reply.result(),
        &json!({"query": "hello", "limit": 10}),
        "{reply:?}"
    );
    call("search", json!({"limit": 1})).err(422, "VALIDATION_ERROR");
    let reply = call("health", json!({}));
    assert_eq!(
        reply.only_report(),
        &json!({"status": "healthy"}),
        "{reply:?}"
    );
    let reply = call("ready", json!({}));
    assert_eq!(
        reply.only_report(),
        &json!({"status": "ready"}),
        "{reply:?}"
    );
}

/// The spec's "Async Walkers" and "Builtins" examples (`examples/api-endpoints-jac`).
#[test]
fn spec_async_walker_and_builtins() {
    let server = Server::start(App::ApiEndpointsJac);
    let alice = server.register_and_login("alice@example.com");
    let bob = server.register_and_login("bob@example.com");
    let reply = server.post_auth(
        "/walker/async_processor",
        json!({"items": [1, 2, 3]}),
        &alice.token,
    );
    assert_eq!(reply.only_report(), &json!([2, 4, 6]), "{reply:?}");
    let reply = server.post_auth("/walker/list_roots", json!({}), &alice.token);
    let roots = reply.only_report()["roots"].clone();
    for user in [&alice, &bob] {
        assert!(
            roots
                .as_array()
                .is_some_and(|r| r.contains(&json!(user.root_id))),
            "every user's root is listed: {reply:?}"
        );
    }
    for (title, expected) in [("a", json!(["a"])), ("b", json!(["a", "b"]))] {
        let reply = server.post_auth("/walker/add_note", json!({"title": title}), &alice.token);
        assert_eq!(
            reply.only_report(),
            &json!({"notes": expected}),
            "{reply:?}"
        );
    }
}

/// The walker semantics of the language notes, section 5 (`examples/osp-jac`), with the
/// results documented there: entries in queue order and exits in exact reverse,
/// `disengage` skipping every exit, a nested spawn's reports going to the outer answer.
#[test]
fn language_notes_traversal_order_disengage_and_nested_spawn() {
    let server = Server::start(App::OspJac);
    let user = server.register_and_login("osp@example.com");
    let call =
        |walker: &str, body| server.post_auth(&format!("/walker/{walker}"), body, &user.token);
    let reply = call("Build", json!({}));
    assert_eq!(reply.only_report(), &json!({"connected": 2}), "{reply:?}");
    let reply = call("Trace", json!({}));
    let trace = json!({
        "entries": ["root", "a", "b", "a1", "b1"],
        "exits": ["b1", "a1", "b", "a", "root"],
    });
    assert_eq!(reply.only_report(), &trace, "{reply:?}");
    assert_eq!(reply.result(), &trace, "{reply:?}");
    let reply = call("FindFirst", json!({"target": "a1"}));
    assert_eq!(
        reply.only_report(),
        &json!({"found": "a1", "seen": ["a", "b", "a1"]}),
        "{reply:?}"
    );
    let reply = call("FindFirst", json!({"target": "zz"}));
    assert_eq!(
        reply.only_report(),
        &json!({"not_found": "zz"}),
        "{reply:?}"
    );
    let reply = call("Outer", json!({}));
    assert_eq!(
        reply.reports(),
        &vec![
            json!("a"),
            json!("b"),
            json!("a1"),
            json!("b1"),
            json!({"inner_count": 4, "inner_reports": 0})
        ],
        "{reply:?}"
    );
}
