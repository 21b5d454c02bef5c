use crate::support::{App, Server, for_both_todo_builds};
use serde_json::json;

for_both_todo_builds!(
    public_function_returns_its_value_as_result,
    omitted_parameter_gets_its_default_as_an_int,
    given_parameters_override_the_default,
    function_without_a_required_parameter_is_a_validation_error,
    protected_function_needs_a_token,
    unknown_function_is_not_found,
    walkers_are_not_functions_and_functions_are_not_walkers,
);

fn public_function_returns_its_value_as_result(app: App) {
    let server = Server::start(app);
    let reply = server.post("/function/health_check", json!({}));
    let data = reply.ok();
    assert_eq!(data["result"], json!({"status": "healthy"}), "{reply:?}");
    assert_eq!(data["reports"], json!([]), "{reply:?}");
}

fn omitted_parameter_gets_its_default_as_an_int(app: App) {
    let server = Server::start(app);
    let reply = server.post("/function/pub_add", json!({"a": 5}));
    assert_eq!(reply.result(), &json!(15), "{reply:?}");
    assert!(
        reply.result().is_i64(),
        "default must arrive as an int: {reply:?}"
    );
}

fn given_parameters_override_the_default(app: App) {
    let server = Server::start(app);
    let reply = server.post("/function/pub_add", json!({"a": 5, "b": -2}));
    assert_eq!(reply.result(), &json!(3), "{reply:?}");
}

fn function_without_a_required_parameter_is_a_validation_error(app: App) {
    let server = Server::start(app);
    let reply = server.post("/function/pub_add", json!({"b": 1}));
    let error = reply.err(422, "VALIDATION_ERROR");
    assert!(error["details"].to_string().contains("\"a\""), "{reply:?}");
}

fn protected_function_needs_a_token(app: App) {
    let server = Server::start(app);
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

fn unknown_function_is_not_found(app: App) {
    let server = Server::start(app);
    server
        .post("/function/no_such_function", json!({}))
        .err(404, "NOT_FOUND");
}

fn walkers_are_not_functions_and_functions_are_not_walkers(app: App) {
    let server = Server::start(app);
    server
        .post("/function/Ping", json!({}))
        .err(404, "NOT_FOUND");
    server
        .post("/walker/health_check", json!({}))
        .err(404, "NOT_FOUND");
}
