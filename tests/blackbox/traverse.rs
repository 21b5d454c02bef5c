use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{App, Reply, Server, User, assert_node};

fn traverse(server: &Server, user: &User, body: Value) -> Reply {
    server.post_auth("/traverse", body, &user.token)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item["_jac_id"].as_str().expect("an id").to_owned())
        .collect()
}

#[test]
fn traverse_needs_a_token() {
    let server = Server::start(App::Todo);
    server.post("/traverse", json!({})).err(401, "UNAUTHORIZED");
    server
        .post_auth("/traverse", json!({}), "not-a-token")
        .err(401, "UNAUTHORIZED");
}

#[test]
fn traverse_walks_the_callers_graph_with_filters_and_details() {
    let server = Server::start(App::Todo);
    let user = server.register_and_login("walker@example.com");
    let seeded = server.post_auth(
        "/walker/SeedTodos",
        json!({"n": 3, "prefix": "t"}),
        &user.token,
    );
    assert_eq!(seeded.status, 200, "{seeded:?}");

    let reply = traverse(&server, &user, json!({}));
    let data = &reply.ok();
    assert_eq!(data["source"], user.root_id.as_str());
    assert_eq!(data["total_nodes"], 4, "{reply:?}");
    assert_eq!(data["next_cursor"], Value::Null);
    let nodes = data["nodes"].as_array().expect("nodes");
    assert_eq!(nodes[0]["_jac_id"], user.root_id.as_str());
    assert!(
        nodes[1..]
            .iter()
            .all(|n| n["_jac_type"] == "Todo" && n.get("title").is_none())
    );
    let edges = data["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 3);
    assert!(
        edges
            .iter()
            .all(|e| e["_jac_source"] == user.root_id.as_str())
    );

    let detailed = traverse(&server, &user, json!({"detailed": true, "depth": 3}));
    let nodes = &detailed.ok()["nodes"];
    let titles: HashSet<&str> = nodes.as_array().expect("nodes")[1..]
        .iter()
        .map(|n| n["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, HashSet::from(["t-0", "t-1", "t-2"]));
    assert_node(&nodes[1], "Todo");

    let only_root = traverse(&server, &user, json!({"node_types": ["Nothing"]}));
    assert_eq!(only_root.ok()["total_nodes"], 1);
    let by_depth = traverse(&server, &user, json!({"depth": 0}));
    assert_eq!(ids(&by_depth.ok()["nodes"]), vec![user.root_id.clone()]);

    // From a todo: it has no outgoing edges.
    let todo = ids(&reply.ok()["nodes"])[1].clone();
    let from_todo = traverse(&server, &user, json!({"source": todo}));
    assert_eq!(from_todo.ok()["total_nodes"], 1);
}

#[test]
fn traverse_pages_with_a_cursor() {
    let server = Server::start(App::Todo);
    let user = server.register_and_login("pager@example.com");
    let seeded = server.post_auth("/walker/SeedTodos", json!({"n": 250}), &user.token);
    assert_eq!(seeded.status, 200, "{seeded:?}");
    let mut seen_nodes = Vec::new();
    let mut seen_edges = Vec::new();
    let mut cursor = Value::Null;
    let mut pages = 0;
    loop {
        let mut body = json!({"limit": 100});
        if !cursor.is_null() {
            body["cursor"] = cursor.clone();
        }
        let reply = traverse(&server, &user, body);
        let data = &reply.ok();
        assert_eq!(data["total_nodes"], 251);
        seen_nodes.extend(ids(&data["nodes"]));
        seen_edges.extend(ids(&data["edges"]));
        pages += 1;
        cursor = data["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
        assert!(pages < 5, "the cursor does not advance");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen_nodes.len(), 251);
    assert_eq!(seen_nodes.iter().collect::<HashSet<_>>().len(), 251);
    assert_eq!(seen_edges.len(), 250);
    assert_eq!(seen_edges.iter().collect::<HashSet<_>>().len(), 250);
    traverse(&server, &user, json!({"cursor": "999"})).err(422, "VALIDATION_ERROR");
    traverse(&server, &user, json!({"cursor": "x"})).err(422, "VALIDATION_ERROR");
}

#[test]
fn traverse_limits_answer_422() {
    let server = Server::start(App::Todo);
    let user = server.register_and_login("limits@example.com");
    for body in [
        json!({"depth": 11}),
        json!({"depth": -1}),
        json!({"depth": "deep"}),
        json!({"limit": 0}),
        json!({"limit": 1001}),
        json!({"node_types": "Todo"}),
        json!({"detailed": "yes"}),
    ] {
        traverse(&server, &user, body.clone()).err(422, "VALIDATION_ERROR");
    }
    let reply = traverse(&server, &user, json!({"depth": 10, "limit": 1000}));
    reply.ok();
}

#[test]
fn traverse_shows_only_what_the_caller_may_read() {
    let server = Server::start(App::SharedNotes);
    let alice = server.register_and_login("alice@example.com");
    let bob = server.register_and_login("bob@example.com");
    let on = |walker: &str, node: &str, body: Value| {
        let reply = server.post_auth(&format!("/walker/{walker}/{node}"), body, &alice.token);
        assert_eq!(reply.status, 200, "{reply:?}");
    };
    let note = |text: &str| {
        let reply = server.post_auth("/walker/CreateNote", json!({"text": text}), &alice.token);
        assert_node(reply.only_report(), "Note").to_owned()
    };
    // shared --> private, shared --> open; everyone may read `shared` and `open`.
    let shared = note("shared");
    let private = note("private");
    let open = note("open");
    on("LinkNote", &shared, json!({"target_id": private}));
    on("LinkNote", &shared, json!({"target_id": open}));
    on("ShareNote", &shared, json!({"level": "READ"}));
    on("ShareNote", &open, json!({"level": "READ"}));

    let all = traverse(&server, &alice, json!({"source": shared}));
    assert_eq!(
        ids(&all.ok()["nodes"]),
        vec![shared.clone(), private.clone(), open.clone()]
    );
    let seen = traverse(&server, &bob, json!({"source": shared, "detailed": true}));
    assert_eq!(
        ids(&seen.ok()["nodes"]),
        vec![shared.clone(), open.clone()],
        "{seen:?}"
    );
    assert!(!seen.text.contains(&private) && !seen.text.contains("\"private\""));
    assert_eq!(seen.ok()["edges"].as_array().map(Vec::len), Some(1));

    // What bob may not read is 404, as an id that does not exist.
    traverse(&server, &bob, json!({"source": alice.root_id})).err(404, "NOT_FOUND");
    traverse(&server, &bob, json!({"source": private})).err(404, "NOT_FOUND");
    traverse(
        &server,
        &bob,
        json!({"source": "00000000000000000000000000000000"}),
    )
    .err(404, "NOT_FOUND");
    traverse(&server, &bob, json!({"source": "not-an-id"})).err(404, "NOT_FOUND");
    // Bob's own traversal does not reach into alice's graph.
    assert_eq!(traverse(&server, &bob, json!({})).ok()["total_nodes"], 1);
}

#[test]
fn traverse_from_an_edge_starts_where_it_leads() {
    let server = Server::start(App::Todo);
    let user = server.register_and_login("edges@example.com");
    let other = server.register_and_login("other-edges@example.com");
    let seeded = server.post_auth(
        "/walker/SeedTodos",
        json!({"n": 2, "prefix": "t"}),
        &user.token,
    );
    assert_eq!(seeded.status, 200, "{seeded:?}");
    let from_root = traverse(&server, &user, json!({}));
    let edge = from_root.ok()["edges"][0].clone();
    let edge_id = edge["_jac_id"].as_str().expect("an edge id");

    let reply = traverse(&server, &user, json!({"source": edge_id, "detailed": true}));
    let data = reply.ok();
    assert_eq!(data["source"], edge_id);
    assert_eq!(
        ids(&data["nodes"]),
        vec![edge["_jac_target"].as_str().unwrap()]
    );
    assert_eq!(data["nodes"][0]["_jac_type"], "Todo");
    assert_eq!(ids(&data["edges"]), vec![edge_id]);
    assert_eq!(data["total_nodes"], 1);

    // Another user's edge is 404, as an id that does not exist.
    traverse(&server, &other, json!({"source": edge_id})).err(404, "NOT_FOUND");
}
