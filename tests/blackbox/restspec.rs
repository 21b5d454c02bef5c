use crate::support::{App, Server, for_both_todo_builds};
use serde_json::json;

for_both_todo_builds!(
    get_walker_takes_typed_fields_from_the_query_string,
    get_walker_query_values_are_percent_decoded_and_unknown_ones_ignored,
    get_walker_without_query_uses_defaults,
    get_walker_rejects_a_non_numeric_int_query_parameter,
    get_walker_is_not_served_on_post,
    custom_path_serves_the_walker,
    custom_path_replaces_the_default_route,
    path_parameter_binds_the_field_of_that_name,
    path_parameter_is_percent_decoded,
    function_with_a_custom_get_path,
);

fn get_walker_takes_typed_fields_from_the_query_string(app: App) {
    let server = Server::start(app);
    let reply = server.get("/walker/GetInfo?q=hello&n=5");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "hello", "n": 5, "method": "GET"}),
        "{reply:?}"
    );
    assert_eq!(reply.result(), &json!({"q": "hello", "n": 5}), "{reply:?}");
}

fn get_walker_query_values_are_percent_decoded_and_unknown_ones_ignored(app: App) {
    let server = Server::start(app);
    let reply = server.get("/walker/GetInfo?q=hello%20world%26more&n=-3&unknown=1");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "hello world&more", "n": -3, "method": "GET"}),
        "{reply:?}"
    );
}

fn get_walker_without_query_uses_defaults(app: App) {
    let server = Server::start(app);
    let reply = server.get("/walker/GetInfo");
    assert_eq!(
        reply.only_report(),
        &json!({"q": "default", "n": 0, "method": "GET"}),
        "{reply:?}"
    );
}

fn get_walker_rejects_a_non_numeric_int_query_parameter(app: App) {
    let server = Server::start(app);
    let reply = server.get("/walker/GetInfo?n=five");
    let error = reply.err(422, "VALIDATION_ERROR");
    assert!(error["details"].to_string().contains("\"n\""), "{reply:?}");
}

fn get_walker_is_not_served_on_post(app: App) {
    let server = Server::start(app);
    server
        .post("/walker/GetInfo", json!({"q": "x"}))
        .err(405, "METHOD_NOT_ALLOWED");
}

fn custom_path_serves_the_walker(app: App) {
    let server = Server::start(app);
    let reply = server.get("/custom/users");
    assert_eq!(
        reply.only_report(),
        &json!({"users": ["alice", "bob"], "path": "/custom/users"}),
        "{reply:?}"
    );
}

fn custom_path_replaces_the_default_route(app: App) {
    let server = Server::start(app);
    server.get("/walker/CustomUsers").err(404, "NOT_FOUND");
    server
        .post("/walker/CustomUsers", json!({}))
        .err(404, "NOT_FOUND");
    server.get("/walker/GetItem").err(404, "NOT_FOUND");
    server
        .post("/walker/GetItem", json!({"item_id": "x"}))
        .err(404, "NOT_FOUND");
}

fn path_parameter_binds_the_field_of_that_name(app: App) {
    let server = Server::start(app);
    let reply = server.get("/items/abc-42");
    assert_eq!(
        reply.only_report(),
        &json!({"item_id": "abc-42"}),
        "{reply:?}"
    );
    assert_eq!(reply.result(), &json!({"item_id": "abc-42"}), "{reply:?}");
}

fn path_parameter_is_percent_decoded(app: App) {
    let server = Server::start(app);
    let reply = server.get("/items/a%20b");
    assert_eq!(reply.only_report(), &json!({"item_id": "a b"}), "{reply:?}");
}

fn function_with_a_custom_get_path(app: App) {
    let server = Server::start(app);
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

/// The spec's `@restspec` section, served from Jac (`examples/restspec-jac`).
#[test]
fn spec_examples_answer_on_their_methods_and_paths() {
    let server = Server::start(App::RestspecJac);
    let reply = server.get("/walker/get_users");
    assert_eq!(reply.reports(), &vec![json!([])], "{reply:?}");
    server
        .post("/walker/get_users", json!({}))
        .err(405, "METHOD_NOT_ALLOWED");
    let reply = server.get("/custom/users");
    assert_eq!(reply.reports(), &vec![json!([])], "{reply:?}");
    server.get("/walker/list_users").err(404, "NOT_FOUND");
    let reply = server.get("/function/health_check");
    assert_eq!(reply.result(), &json!({"status": "healthy"}), "{reply:?}");
    server
        .post("/function/health_check", json!({}))
        .err(405, "METHOD_NOT_ALLOWED");
    let reply = server.get("/custom/status");
    assert_eq!(
        reply.result(),
        &json!({"status": "running", "version": "1.0.0"}),
        "{reply:?}"
    );
    server
        .post("/function/app_status", json!({}))
        .err(404, "NOT_FOUND");
}
