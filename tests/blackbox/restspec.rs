use crate::support::{App, Server};
use serde_json::json;

#[test]
fn get_walker_takes_typed_fields_from_the_query_string() {
    let server = Server::start(App::Todo);
    let reply = server.get("/walker/GetInfo?q=hello&n=5");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "hello", "n": 5, "method": "GET"}),
        "{reply:?}"
    );
    assert_eq!(reply.result(), &json!({"q": "hello", "n": 5}), "{reply:?}");
}

#[test]
fn get_walker_query_values_are_percent_decoded_and_unknown_ones_ignored() {
    let server = Server::start(App::Todo);
    let reply = server.get("/walker/GetInfo?q=hello%20world%26more&n=-3&unknown=1");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "hello world&more", "n": -3, "method": "GET"}),
        "{reply:?}"
    );
}

#[test]
fn get_walker_without_query_uses_defaults() {
    let server = Server::start(App::Todo);
    let reply = server.get("/walker/GetInfo");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "default", "n": 0, "method": "GET"}),
        "{reply:?}"
    );
}

#[test]
fn get_walker_rejects_a_non_numeric_int_query_parameter() {
    let server = Server::start(App::Todo);
    let reply = server.get("/walker/GetInfo?n=five");
    let error = reply.err(422, "VALIDATION_ERROR");
    assert!(error["details"].to_string().contains("\"n\""), "{reply:?}");
}

#[test]
fn get_walker_is_not_served_on_post() {
    let server = Server::start(App::Todo);
    server
        .post("/walker/GetInfo", json!({"q": "x"}))
        .err(405, "METHOD_NOT_ALLOWED");
}

#[test]
fn custom_path_serves_the_walker() {
    let server = Server::start(App::Todo);
    let reply = server.get("/custom/users");
    assert_eq!(
        reply.only_report(),
        &json!({"users": ["alice", "bob"], "path": "/custom/users"}),
        "{reply:?}"
    );
}

#[test]
fn custom_path_replaces_the_default_route() {
    let server = Server::start(App::Todo);
    server.get("/walker/CustomUsers").err(404, "NOT_FOUND");
    server
        .post("/walker/CustomUsers", json!({}))
        .err(404, "NOT_FOUND");
    server.get("/walker/GetItem").err(404, "NOT_FOUND");
    server
        .post("/walker/GetItem", json!({"item_id": "x"}))
        .err(404, "NOT_FOUND");
}

#[test]
fn path_parameter_binds_the_field_of_that_name() {
    let server = Server::start(App::Todo);
    let reply = server.get("/items/abc-42");
    assert_eq!(
        reply.only_report(),
        &json!({"item_id": "abc-42"}),
        "{reply:?}"
    );
    assert_eq!(reply.result(), &json!({"item_id": "abc-42"}), "{reply:?}");
}

#[test]
fn path_parameter_is_percent_decoded() {
    let server = Server::start(App::Todo);
    let reply = server.get("/items/a%20b");
    assert_eq!(reply.only_report(), &json!({"item_id": "a b"}), "{reply:?}");
}

#[test]
fn function_with_a_custom_get_path() {
    let server = Server::start(App::Todo);
    let reply = server.get("/custom/func");
    assert_eq!(
        reply.result(),
        &json!({"message": "custom func"}),
        "{reply:?}"
    );
    server
        .post("/function/custom_func", json!({}))
        .err(404, "NOT_FOUND");
}
