use crate::support::{App, Reply, Server};
use serde_json::{Value, json};

/// Asserts a 422 whose `details` hold one `{loc, msg, type}` entry per problem, and
/// returns the `loc` of each entry as JSON text.
fn validation_locs(reply: &Reply) -> Vec<String> {
    let error = reply.err(422, "VALIDATION_ERROR");
    let details = error["details"]
        .as_array()
        .unwrap_or_else(|| panic!("details is not a list: {reply:?}"));
    details
        .iter()
        .map(|detail| {
            assert!(
                detail["msg"].as_str().is_some_and(|msg| !msg.is_empty()),
                "detail without msg: {reply:?}"
            );
            assert!(detail["type"].is_string(), "detail without type: {reply:?}");
            assert!(!detail["loc"].is_null(), "detail without loc: {reply:?}");
            detail["loc"].to_string()
        })
        .collect()
}

fn mentions(locs: &[String], field: &str) -> bool {
    let quoted = format!("\"{field}\"");
    locs.iter()
        .any(|loc| loc.contains(&quoted) || loc.contains(&format!(".{field}")))
}

fn ping_still_works(server: &Server) {
    let reply = server.post("/walker/Ping", json!({}));
    assert_eq!(reply.only_report(), &json!({"pong": true}), "{reply:?}");
}

#[test]
fn invalid_json_is_a_validation_error() {
    let server = Server::start(App::Todo);
    for body in [
        "{",
        "{\"name\": }",
        "not json",
        "{\"name\": \"a\"} trailing",
    ] {
        server
            .post_raw("/walker/Echo", body, None)
            .err(422, "VALIDATION_ERROR");
    }
}

#[test]
fn body_that_is_not_an_object_is_a_validation_error() {
    let server = Server::start(App::Todo);
    for body in ["[]", "\"name\"", "42", "null"] {
        server
            .post_raw("/walker/Echo", body, None)
            .err(422, "VALIDATION_ERROR");
    }
}

#[test]
fn every_wrong_type_is_listed() {
    let server = Server::start(App::Todo);
    let reply = server.post(
        "/walker/Echo",
        json!({"name": 5, "count": "many", "tags": "not a list"}),
    );
    let locs = validation_locs(&reply);
    assert_eq!(locs.len(), 3, "{reply:?}");
    for field in ["name", "count", "tags"] {
        assert!(mentions(&locs, field), "{field} not listed: {reply:?}");
    }
}

/// Asserts that `count` sent to Echo is refused with one problem naming it.
fn assert_count_refused(server: &Server, count: Value) {
    let reply = server.post("/walker/Echo", json!({"name": "a", "count": count}));
    let locs = validation_locs(&reply);
    assert_eq!(locs.len(), 1, "{reply:?}");
    assert!(mentions(&locs, "count"), "{reply:?}");
}

#[test]
fn booleans_floats_and_non_numeric_strings_are_not_ints() {
    let server = Server::start(App::Todo);
    for count in [
        json!(true),
        json!(1.5),
        json!("1e400"),
        json!("7 apples"),
        json!([7]),
    ] {
        assert_count_refused(&server, count);
    }
}

#[test]
fn out_of_range_int_is_a_validation_error_naming_the_field() {
    let server = Server::start(App::Todo);
    assert_count_refused(&server, json!(9_223_372_036_854_775_808u64));
    assert_count_refused(&server, json!("-9223372036854775809"));
}

#[test]
fn wrong_list_item_type_is_a_validation_error() {
    let server = Server::start(App::Todo);
    let reply = server.post("/walker/Echo", json!({"name": "a", "tags": ["ok", 3]}));
    let locs = validation_locs(&reply);
    assert!(mentions(&locs, "tags"), "{reply:?}");
}

#[test]
fn missing_and_mistyped_fields_are_listed_together() {
    let server = Server::start(App::Todo);
    let reply = server.post("/walker/Echo", json!({"count": 1.5}));
    let locs = validation_locs(&reply);
    assert_eq!(locs.len(), 2, "{reply:?}");
    assert!(mentions(&locs, "name"), "{reply:?}");
    assert!(mentions(&locs, "count"), "{reply:?}");
}

#[test]
fn missing_required_field_is_a_validation_error() {
    let server = Server::start(App::Todo);
    let reply = server.post("/walker/Echo", json!({}));
    let locs = validation_locs(&reply);
    assert_eq!(locs.len(), 1, "{reply:?}");
    assert!(mentions(&locs, "name"), "{reply:?}");
}

#[test]
fn null_for_a_required_string_is_a_validation_error() {
    let server = Server::start(App::Todo);
    let reply = server.post("/walker/Echo", json!({"name": null}));
    assert!(mentions(&validation_locs(&reply), "name"), "{reply:?}");
}

#[test]
fn two_megabyte_body_is_payload_too_large() {
    let server = Server::start(App::Todo);
    let body = json!({"name": "x".repeat(2 * 1024 * 1024)}).to_string();
    server
        .post_raw("/walker/Echo", body, None)
        .err(413, "PAYLOAD_TOO_LARGE");
    ping_still_works(&server);
}

#[test]
fn body_limit_covers_the_user_routes_too() {
    let server = Server::start(App::Todo);
    let body = json!({"email": "big@example.com", "password": "x".repeat(2 * 1024 * 1024)});
    for path in ["/user/register", "/user/login"] {
        server
            .post_raw(path, body.to_string(), None)
            .err(413, "PAYLOAD_TOO_LARGE");
    }
}

#[test]
fn body_limit_is_configurable() {
    let server = Server::builder(App::Todo)
        .env("JAC_SCALE_BODY_LIMIT_BYTES", 1000)
        .start();
    let small = json!({"name": "x".repeat(500)});
    server.post("/walker/Echo", small).ok();
    let large = json!({"name": "x".repeat(2000)});
    server
        .post("/walker/Echo", large)
        .err(413, "PAYLOAD_TOO_LARGE");
}

#[test]
fn oversized_body_is_refused_before_authentication_matters() {
    let server = Server::start(App::Todo);
    let user = server.register_and_login("big@example.com");
    let body = json!({"title": "x".repeat(2 * 1024 * 1024)}).to_string();
    server
        .post_raw("/walker/CreateTodo", body, Some(&user.token))
        .err(413, "PAYLOAD_TOO_LARGE");
    let reply = server.post_auth("/walker/CountTodos", json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!({"count": 0}), "{reply:?}");
}

#[test]
fn deeply_nested_json_is_a_validation_error_not_a_crash() {
    const DEPTH: usize = 10_000;
    let server = Server::start(App::Todo);
    let nested = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let body = format!("{{\"name\": \"a\", \"tags\": {nested}}}");
    server
        .post_raw("/walker/Echo", body, None)
        .err(422, "VALIDATION_ERROR");
    let objects = format!("{}{}", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH));
    server
        .post_raw("/walker/Echo", format!("{{\"name\": {objects}}}"), None)
        .err(422, "VALIDATION_ERROR");
    ping_still_works(&server);
}

#[test]
fn deeply_nested_json_in_a_registration_is_refused_too() {
    const DEPTH: usize = 10_000;
    let server = Server::start(App::Todo);
    let nested = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let reply = server.post_raw(
        "/user/register",
        format!("{{\"email\": {nested}, \"password\": \"x\"}}"),
        None,
    );
    reply.err(422, "VALIDATION_ERROR");
    ping_still_works(&server);
}

#[test]
fn a_string_field_holding_a_json_value_stays_a_string() {
    let server = Server::start(App::Todo);
    let tricky: Value = json!({"name": "{\"nested\": [1, 2]}"});
    let reply = server.post("/walker/Echo", tricky.clone());
    assert_eq!(reply.only_report()["name"], tricky["name"], "{reply:?}");
}
