use crate::support::{App, Server};
use serde_json::json;

#[test]
fn public_function_returns_its_value_as_result() {
    let server = Server::start(App::Todo);
    let reply = server.post("/function/health_check", json!({}));
    let data = reply.ok();
    assert_eq!(data["result"], json!({"status": "healthy"}), "{reply:?}");
    assert_eq!(data["reports"], json!([]), "{reply:?}");
}

#[test]
fn omitted_parameter_gets_its_default_as_an_int() {
    let server = Server::start(App::Todo);
    let reply = server.post("/function/pub_add", json!({"a": 5}));
    assert_eq!(reply.result(), &json!(15), "{reply:?}");
    assert!(
        reply.result().is_i64(),
        "default must arrive as an int: {reply:?}"
    );
}

#[test]
fn given_parameters_override_the_default() {
    let server = Server::start(App::Todo);
    let reply = server.post("/function/pub_add", json!({"a": 5, "b": -2}));
    assert_eq!(reply.result(), &json!(3), "{reply:?}");
}

#[test]
fn function_without_a_required_parameter_is_a_validation_error() {
    let server = Server::start(App::Todo);
    let reply = server.post("/function/pub_add", json!({"b": 1}));
    let error = reply.err(422, "VALIDATION_ERROR");
    assert!(error["details"].to_string().contains("\"a\""), "{reply:?}");
}

#[test]
fn protected_function_needs_a_token() {
    let server = Server::start(App::Todo);
    server
        .post("/function/add_numbers", json!({"a": 1, "b": 2}))
        .err(401, "UNAUTHORIZED");
    let user = server.register_and_login("adder@example.com");
    let reply = server.post_auth(
        "/function/add_numbers",
        json!({"a": 1, "b": 2}),
        &user.token,
    );
    assert_eq!(reply.result(), &json!(3), "{reply:?}");
}

#[test]
fn unknown_function_is_not_found() {
    let server = Server::start(App::Todo);
    server
        .post("/function/no_such_function", json!({}))
        .err(404, "NOT_FOUND");
}

#[test]
fn walkers_are_not_functions_and_functions_are_not_walkers() {
    let server = Server::start(App::Todo);
    server
        .post("/function/Ping", json!({}))
        .err(404, "NOT_FOUND");
    server
        .post("/walker/health_check", json!({}))
        .err(404, "NOT_FOUND");
}
