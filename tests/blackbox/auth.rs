use crate::support::store::on_mongodb_database;
use crate::support::{App, Server, User, for_both_todo_builds};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

for_both_todo_builds!(
    protected_walker_without_a_token_is_unauthorized,
    protected_walker_with_a_valid_token_runs,
    token_issued_by_the_server_carries_subject_and_expiry_claims,
    token_signed_with_the_configured_secret_is_accepted,
    token_issued_by_the_python_original_is_accepted,
    jwt_algorithm_selects_the_only_accepted_algorithm,
    expired_token_is_unauthorized,
    token_without_expiry_is_unauthorized,
    token_signed_with_another_secret_is_unauthorized,
    unsigned_alg_none_token_is_unauthorized,
    token_whose_claims_were_edited_is_unauthorized,
    malformed_authorization_headers_are_unauthorized,
    token_of_a_deleted_user_is_unauthorized,
    public_walker_with_an_invalid_token_runs_anonymously,
    missing_token_is_reported_before_the_body_is_validated,
);

/// The signing secret these tests give the server, so they can forge tokens with it.
const SECRET: &str = "blackbox-auth-secret-5c8e0f0e3b1d4a27";

fn server_with_known_secret(app: App) -> Server {
    Server::builder(app).env("JWT_SECRET", SECRET).start()
}

fn now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit i64")
}

/// The claims of a token the server issued (decoded, not verified).
fn claims_of(token: &str) -> serde_json::Map<String, Value> {
    let payload = token.split('.').nth(1).expect("JWT has a payload");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("payload is base64url");
    serde_json::from_slice(&bytes).expect("payload is a JSON object")
}

/// Signs `claims` with HS256 and `secret`.
fn sign(claims: &serde_json::Map<String, Value>, secret: &str) -> String {
    sign_with(Algorithm::HS256, claims, secret)
}

/// Signs `claims` with `algorithm` and `secret`.
fn sign_with(
    algorithm: Algorithm,
    claims: &serde_json::Map<String, Value>,
    secret: &str,
) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("claims sign")
}

fn greet(server: &Server, token: &str) -> crate::support::Reply {
    server.post_auth("/walker/Greet", json!({"name": "Ada"}), token)
}

fn logged_in(server: &Server) -> User {
    server.register_and_login("auth@example.com")
}

fn protected_walker_without_a_token_is_unauthorized(app: App) {
    let server = server_with_known_secret(app);
    server
        .post("/walker/Greet", json!({"name": "Ada"}))
        .err(401, "UNAUTHORIZED");
}

fn protected_walker_with_a_valid_token_runs(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let reply = greet(&server, &user.token);
    assert_eq!(
        reply.only_report(),
        &json!({"greeting": "Hello, Ada!"}),
        "{reply:?}"
    );
}

fn token_issued_by_the_server_carries_subject_and_expiry_claims(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let claims = claims_of(&user.token);
    assert!(
        claims.contains_key("sub") || claims.contains_key("user_id"),
        "{claims:?}"
    );
    let issued_at = claims["iat"].as_i64().expect("iat is a number");
    let expires = claims["exp"].as_i64().expect("exp is a number");
    assert_eq!(expires - issued_at, 7 * 24 * 3600, "{claims:?}");
}

fn token_signed_with_the_configured_secret_is_accepted(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let mut claims = claims_of(&user.token);
    claims.insert("iat".into(), json!(now() - 60));
    claims.insert("exp".into(), json!(now() + 3600));
    let reply = greet(&server, &sign(&claims, SECRET));
    reply.ok();
}

/// An operator moving from jac-scale 0.2.31 with the same `JWT_SECRET`: its tokens carry
/// `user_id`, `exp`, a float `iat` and `role`, and neither `sub` nor `root_id`.
fn token_issued_by_the_python_original_is_accepted(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let user_id = claims_of(&user.token)["user_id"].clone();
    let original = json!({
        "user_id": user_id,
        "role": "user",
        "iat": now() as f64 + 0.5,
        "exp": now() + 3600,
    });
    let Value::Object(claims) = original else {
        unreachable!("a JSON object literal")
    };
    greet(&server, &sign(&claims, SECRET)).ok();
    // A user id that does not exist is still refused.
    let mut stranger = claims.clone();
    stranger.insert("user_id".into(), json!("0".repeat(32)));
    greet(&server, &sign(&stranger, SECRET)).err(401, "UNAUTHORIZED");
}

fn jwt_algorithm_selects_the_only_accepted_algorithm(app: App) {
    let server = Server::builder(app)
        .env("JWT_SECRET", SECRET)
        .env("JWT_ALGORITHM", "HS512")
        .start();
    let user = logged_in(&server);
    let header = user.token.split('.').next().expect("JWT has a header");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
        .expect("header is JSON");
    assert_eq!(header["alg"], "HS512", "{header}");
    greet(&server, &user.token).ok();
    // Same secret and claims, another algorithm: refused.
    let claims = claims_of(&user.token);
    greet(&server, &sign_with(Algorithm::HS256, &claims, SECRET)).err(401, "UNAUTHORIZED");
    greet(&server, &sign_with(Algorithm::HS512, &claims, SECRET)).ok();
}

fn expired_token_is_unauthorized(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let mut claims = claims_of(&user.token);
    claims.insert("iat".into(), json!(now() - 3 * 24 * 3600));
    claims.insert("exp".into(), json!(now() - 24 * 3600));
    greet(&server, &sign(&claims, SECRET)).err(401, "UNAUTHORIZED");
}

fn token_without_expiry_is_unauthorized(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let mut claims = claims_of(&user.token);
    claims.remove("exp");
    greet(&server, &sign(&claims, SECRET)).err(401, "UNAUTHORIZED");
}

fn token_signed_with_another_secret_is_unauthorized(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let claims = claims_of(&user.token);
    greet(&server, &sign(&claims, "some-other-secret")).err(401, "UNAUTHORIZED");
}

fn unsigned_alg_none_token_is_unauthorized(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = user.token.split('.').nth(1).expect("JWT has a payload");
    for signature in ["", "AAAA"] {
        let forged = format!("{header}.{payload}.{signature}");
        greet(&server, &forged).err(401, "UNAUTHORIZED");
    }
}

fn token_whose_claims_were_edited_is_unauthorized(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let mut parts = user.token.split('.');
    let (header, payload, signature) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("claims");
    claims["exp"] = json!(now() + 10 * 365 * 24 * 3600);
    let edited = URL_SAFE_NO_PAD.encode(claims.to_string());
    greet(&server, &format!("{header}.{edited}.{signature}")).err(401, "UNAUTHORIZED");
}

fn malformed_authorization_headers_are_unauthorized(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    for header in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer not-a-jwt".to_owned(),
        format!("Basic {}", user.token),
        user.token.clone(),
    ] {
        let reply = server.send(
            server
                .request(Method::POST, "/walker/Greet")
                .header("authorization", header)
                .json(&json!({"name": "Ada"})),
        );
        reply.err(401, "UNAUTHORIZED");
    }
}

/// Deleting the user's row from the SQLite file (with the server stopped) stands in for
/// an account deletion endpoint, which jac-scale does not have yet.
fn token_of_a_deleted_user_is_unauthorized(app: App) {
    let mut server = server_with_known_secret(app);
    let user = logged_in(&server);
    greet(&server, &user.token).ok();
    server.stop();
    delete_user_row(&server, &user);
    server.restart();
    greet(&server, &user.token).err(401, "UNAUTHORIZED");
    server
        .post(
            "/user/login",
            json!({"email": user.email, "password": crate::support::PASSWORD}),
        )
        .err(401, "UNAUTHORIZED");
}

/// Removes the account of `user` from the store of record (SQLite or MongoDB).
fn delete_user_row(server: &Server, user: &User) {
    if let Some(uri) = server.env("MONGODB_URI") {
        let deleted = on_mongodb_database(uri, |db| async move {
            let users = db.collection::<::mongodb::bson::Document>("users");
            let filter = ::mongodb::bson::doc! {"_id": &user.user_id};
            users.delete_one(filter).await.expect("delete the user")
        });
        assert_eq!(deleted.deleted_count, 1, "no user {}", user.user_id);
        return;
    }
    let db = rusqlite::Connection::open(server.data_dir().join("jac.db")).expect("open jac.db");
    let deleted = db
        .execute("DELETE FROM users WHERE id = ?1", [&user.user_id])
        .expect("delete the user row");
    assert_eq!(deleted, 1, "no users row with id {}", user.user_id);
}

fn public_walker_with_an_invalid_token_runs_anonymously(app: App) {
    let server = server_with_known_secret(app);
    let user = logged_in(&server);
    let mut expired = claims_of(&user.token);
    expired.insert("exp".into(), json!(now() - 3600));
    for token in [
        "garbage".to_owned(),
        sign(&claims_of(&user.token), "some-other-secret"),
        sign(&expired, SECRET),
    ] {
        let reply = server.post_auth("/walker/Ping", json!({}), &token);
        assert_eq!(reply.only_report(), &json!({"pong": true}), "{reply:?}");
    }
}

fn missing_token_is_reported_before_the_body_is_validated(app: App) {
    let server = server_with_known_secret(app);
    server
        .post_raw("/walker/Greet", "{not json", None)
        .err(401, "UNAUTHORIZED");
    server
        .post("/walker/Greet", json!({"name": 42, "extra": []}))
        .err(401, "UNAUTHORIZED");
    server
        .post("/walker/Greet", json!({}))
        .err(401, "UNAUTHORIZED");
    server
        .post_raw("/walker/Greet", "{not json", Some("garbage"))
        .err(401, "UNAUTHORIZED");
}
