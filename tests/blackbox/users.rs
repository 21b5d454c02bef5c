use crate::support::{App, PASSWORD, Reply, Server, for_both_todo_builds, is_hex_id};
use serde_json::{Value, json};
use std::thread;
use std::time::{Duration, Instant};

for_both_todo_builds!(
    register_with_email_answers_201_with_a_login_body,
    register_with_username_and_log_in_with_it,
    register_and_log_in_with_the_identities_body_shape,
    login_answers_the_flat_token_body_with_a_week_of_validity,
    jwt_exp_delta_days_sets_expires_in,
    register_and_login_agree_on_user_and_root,
    duplicate_identity_is_taken_after_case_and_whitespace_folding,
    invalid_email_or_empty_password_is_a_validation_error,
    wrong_password_and_unknown_user_fail_alike,
    login_is_fast,
    concurrent_registrations_of_one_identity_create_one_account,
);

/// Asserts the flat OAuth2-style login body of API.md and returns it.
fn assert_login_body(reply: &Reply) -> &Value {
    let body = reply.body();
    let token = body["access_token"].as_str().unwrap_or_default();
    assert_eq!(
        token.split('.').count(),
        3,
        "access_token is not a JWT: {reply:?}"
    );
    assert_eq!(body["token_type"], "bearer", "{reply:?}");
    assert_eq!(body["token"], body["access_token"], "{reply:?}");
    assert!(body["expires_in"].is_u64(), "expires_in: {reply:?}");
    assert!(
        body["user_id"].as_str().is_some_and(|id| !id.is_empty()),
        "user_id: {reply:?}"
    );
    assert!(is_hex_id(&body["root_id"]), "root_id: {reply:?}");
    assert_eq!(body["role"], "user", "{reply:?}");
    body
}

fn register_with_email_answers_201_with_a_login_body(app: App) {
    let server = Server::start(app);
    let reply = server.post(
        "/user/register",
        json!({"email": "new@example.com", "password": PASSWORD}),
    );
    assert_eq!(reply.status, 201, "{reply:?}");
    let body = assert_login_body(&reply);
    let token = body["access_token"].as_str().unwrap_or_default();
    let reply = server.post_auth("/walker/CountTodos", json!({}), token);
    assert_eq!(reply.only_report(), &json!({"count": 0}), "{reply:?}");
}

fn register_with_username_and_log_in_with_it(app: App) {
    let server = Server::start(app);
    let credentials = json!({"username": "ada_lovelace", "password": PASSWORD});
    let reply = server.post("/user/register", credentials.clone());
    assert_eq!(reply.status, 201, "{reply:?}");
    let registered_root = assert_login_body(&reply)["root_id"].clone();
    let reply = server.post("/user/login", credentials);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(assert_login_body(&reply)["root_id"], registered_root);
}

fn register_and_log_in_with_the_identities_body_shape(app: App) {
    let server = Server::start(app);
    let reply = server.post(
        "/user/register",
        json!({
            "identities": [{"type": "email", "value": "shape@example.com"}],
            "credential": {"type": "password", "password": PASSWORD},
        }),
    );
    assert_eq!(reply.status, 201, "{reply:?}");
    let registered_root = assert_login_body(&reply)["root_id"].clone();

    let reply = server.post(
        "/user/login",
        json!({
            "identity": {"type": "email", "value": "shape@example.com"},
            "credential": {"type": "password", "password": PASSWORD},
        }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(assert_login_body(&reply)["root_id"], registered_root);
    // The plain shape reaches the same account.
    assert_eq!(server.login("shape@example.com").root_id, registered_root);
}

fn login_answers_the_flat_token_body_with_a_week_of_validity(app: App) {
    let server = Server::start(app);
    server.register_and_login("flat@example.com");
    let reply = server.post(
        "/user/login",
        json!({"email": "flat@example.com", "password": PASSWORD}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = assert_login_body(&reply);
    assert_eq!(body["expires_in"], json!(7 * 24 * 3600), "{reply:?}");
}

fn jwt_exp_delta_days_sets_expires_in(app: App) {
    let server = Server::builder(app).env("JWT_EXP_DELTA_DAYS", 2).start();
    server.register_and_login("delta@example.com");
    let reply = server.post(
        "/user/login",
        json!({"email": "delta@example.com", "password": PASSWORD}),
    );
    assert_eq!(
        assert_login_body(&reply)["expires_in"],
        json!(2 * 24 * 3600)
    );
}

fn register_and_login_agree_on_user_and_root(app: App) {
    let server = Server::start(app);
    let reply = server.post(
        "/user/register",
        json!({"email": "same@example.com", "password": PASSWORD}),
    );
    let registered = assert_login_body(&reply).clone();
    let user = server.login("same@example.com");
    assert_eq!(registered["root_id"], user.root_id.as_str());
    assert_eq!(registered["user_id"], user.user_id.as_str());
}

fn duplicate_identity_is_taken_after_case_and_whitespace_folding(app: App) {
    let server = Server::start(app);
    let first = server.register_and_login("Dup@Example.com");
    for duplicate in ["Dup@Example.com", "dup@example.com", "  DUP@example.COM  "] {
        let reply = server.post(
            "/user/register",
            json!({"email": duplicate, "password": "another password"}),
        );
        reply.err(400, "IDENTITY_TAKEN");
    }
    // The folded identity logs in to the first account, with the first password.
    assert_eq!(server.login("dup@example.com").root_id, first.root_id);
}

fn invalid_email_or_empty_password_is_a_validation_error(app: App) {
    let server = Server::start(app);
    for body in [
        json!({"email": "not-an-email", "password": PASSWORD}),
        json!({"email": "", "password": PASSWORD}),
        json!({"email": "ok@example.com", "password": ""}),
        json!({"email": "ok@example.com"}),
        json!({"password": PASSWORD}),
        json!({}),
    ] {
        let reply = server.post("/user/register", body);
        reply.err(422, "VALIDATION_ERROR");
    }
    // None of them created the account.
    let reply = server.post(
        "/user/login",
        json!({"email": "ok@example.com", "password": PASSWORD}),
    );
    reply.err(401, "UNAUTHORIZED");
}

fn wrong_password_and_unknown_user_fail_alike(app: App) {
    let server = Server::start(app);
    server.register_and_login("known@example.com");
    let wrong_password = server.post(
        "/user/login",
        json!({"email": "known@example.com", "password": "wrong"}),
    );
    let unknown_user = server.post(
        "/user/login",
        json!({"email": "nobody@example.com", "password": PASSWORD}),
    );
    let wrong = wrong_password.err(401, "UNAUTHORIZED");
    let unknown = unknown_user.err(401, "UNAUTHORIZED");
    assert_eq!(wrong["message"], unknown["message"]);
}

fn login_is_fast(app: App) {
    let server = Server::start(app);
    server.register_and_login("fast@example.com");
    // Warm up, then take the best of a few: a KDF tuned to 250 ms per hash fails this.
    let fastest = (0..3)
        .map(|_| {
            let started = Instant::now();
            server.login("fast@example.com");
            started.elapsed()
        })
        .min()
        .unwrap_or_default();
    assert!(
        fastest < Duration::from_millis(200),
        "login took {fastest:?}"
    );
}

fn concurrent_registrations_of_one_identity_create_one_account(app: App) {
    const ATTEMPTS: usize = 8;
    let server = Server::start(app);
    let statuses: Vec<u16> = thread::scope(|scope| {
        let attempts: Vec<_> = (0..ATTEMPTS)
            .map(|_| {
                scope.spawn(|| {
                    let body = json!({"email": "race@example.com", "password": PASSWORD});
                    let reply = server.post("/user/register", body);
                    if reply.status != 201 {
                        reply.err(400, "IDENTITY_TAKEN");
                    }
                    reply.status
                })
            })
            .collect();
        attempts
            .into_iter()
            .map(|attempt| attempt.join().expect("register call"))
            .collect()
    });
    let created = statuses.iter().filter(|&&status| status == 201).count();
    assert_eq!(created, 1, "statuses: {statuses:?}");
    server.login("race@example.com");
}
