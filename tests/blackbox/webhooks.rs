//! Webhook walkers and API keys with the realtime app: the spec's signed call, each
//! refusal with its own status and message, key listing, revocation, expiry, restarts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::webhook::{
    PAYLOAD, app_with_config, assert_refused, create_key, curl_spec_example, delete_key, hmac_hex,
    new_key, payment_report, signed, unix_now, webhook,
};
use crate::support::{App, Server, User};

/// A known webhook secret, so tests can forge keys the server would have signed.
const SECRET: &str = "blackbox-webhook-secret-0123456789abcdef";

/// The spec's script, then the README's timestamped variant of it.
pub(crate) fn the_specs_curl_and_openssl_example_works_verbatim(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("hook@example.com");
    let (key, _) = new_key(&server, &user);
    for timestamped in [false, true] {
        let body = curl_spec_example(&server, &key, timestamped);
        assert_eq!(body["ok"], true, "timestamped: {timestamped}: {body}");
        assert_eq!(body["data"]["reports"], json!([payment_report()]));
    }
}

pub(crate) fn signed_calls_run_as_the_keys_owner_with_or_without_timestamp(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("owner@example.com");
    let (key, _) = new_key(&server, &user);

    let plain = signed(&server, &key, PAYLOAD);
    assert_eq!(plain.only_report(), &payment_report(), "{plain:?}");

    let prefixed = format!("sha256={}", hmac_hex(&key, PAYLOAD.as_bytes()));
    let reply = webhook(
        &server,
        &[("X-API-Key", &key), ("X-Webhook-Signature", &prefixed)],
        PAYLOAD,
    );
    assert_eq!(reply.status, 200, "{reply:?}");

    let ts = unix_now().to_string();
    let over = format!("{ts}.{PAYLOAD}");
    let signature = hmac_hex(&key, over.as_bytes());
    let reply = webhook(
        &server,
        &[
            ("X-API-Key", &key),
            ("X-Webhook-Signature", &signature),
            ("X-Webhook-Timestamp", &ts),
        ],
        PAYLOAD,
    );
    assert_eq!(reply.status, 200, "{reply:?}");

    // Defaults apply like on any walker.
    let reply = signed(&server, &key, r#"{"payment_id": "P2", "amount": 1}"#);
    assert_eq!(reply.only_report()["currency"], "USD", "{reply:?}");
}

pub(crate) fn each_refusal_has_its_own_status_and_message(app: App) {
    let server = Server::builder(app)
        .env("WEBHOOK_SECRET", SECRET)
        .env("JAC_SCALE_BODY_LIMIT_BYTES", 512)
        .start();
    let user = server.register_and_login("refusals@example.com");
    let (key, key_id) = new_key(&server, &user);
    let good_signature = hmac_hex(&key, PAYLOAD.as_bytes());

    let reply = webhook(
        &server,
        &[("X-Webhook-Signature", &good_signature)],
        PAYLOAD,
    );
    assert_refused(&reply, 401, "UNAUTHORIZED", "missing X-API-Key");

    let reply = webhook(
        &server,
        &[
            ("X-API-Key", "not-a-key"),
            ("X-Webhook-Signature", &good_signature),
        ],
        PAYLOAD,
    );
    assert_refused(&reply, 401, "UNAUTHORIZED", "malformed API key");

    let reply = webhook(&server, &[("X-API-Key", &key)], PAYLOAD);
    assert_refused(
        &reply,
        401,
        "UNAUTHORIZED",
        "missing signature header X-Webhook-Signature",
    );

    let wrong = hmac_hex("another key", PAYLOAD.as_bytes());
    let reply = webhook(
        &server,
        &[("X-API-Key", &key), ("X-Webhook-Signature", &wrong)],
        PAYLOAD,
    );
    assert_refused(&reply, 401, "UNAUTHORIZED", "does not match");

    // A body changed after signing.
    let reply = webhook(
        &server,
        &[
            ("X-API-Key", &key),
            ("X-Webhook-Signature", &good_signature),
        ],
        r#"{"payment_id":"PAY-12345","amount":1000000}"#,
    );
    assert_refused(&reply, 401, "UNAUTHORIZED", "does not match");

    let stale = (unix_now() - 1_000).to_string();
    let signature = hmac_hex(&key, format!("{stale}.{PAYLOAD}").as_bytes());
    let reply = webhook(
        &server,
        &[
            ("X-API-Key", &key),
            ("X-Webhook-Signature", &signature),
            ("X-Webhook-Timestamp", &stale),
        ],
        PAYLOAD,
    );
    assert_refused(&reply, 401, "UNAUTHORIZED", "300 seconds");

    let big = format!(r#"{{"payment_id":"{}","amount":1}}"#, "x".repeat(600));
    let reply = signed(&server, &key, &big);
    reply.err(413, "PAYLOAD_TOO_LARGE");

    let reply = signed(&server, &key, r#"{"amount": "lots"}"#);
    reply.err(422, "VALIDATION_ERROR");

    // An expired key, signed with the server's secret.
    let claims = json!({"jti": key_id, "sub": user.user_id, "typ": "jac-scale/api-key", "iat": unix_now() - 100, "exp": unix_now() - 10});
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let reply = signed(&server, &expired, PAYLOAD);
    assert_refused(&reply, 401, "UNAUTHORIZED", "expired");

    let revoked = delete_key(&server, &user, &key_id);
    assert_eq!(revoked.status, 200, "{revoked:?}");
    let reply = signed(&server, &key, PAYLOAD);
    assert_refused(&reply, 401, "UNAUTHORIZED", "revoked");
}

pub(crate) fn webhook_walkers_exist_only_at_webhook_routes(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("routes@example.com");
    let (key, _) = new_key(&server, &user);
    server
        .post_auth(
            "/walker/PaymentReceived",
            serde_json::from_str(PAYLOAD).unwrap(),
            &user.token,
        )
        .err(404, "NOT_FOUND");
    let signature = hmac_hex(&key, b"{}");
    let reply = server.send(
        server
            .request(Method::POST, "/webhook/EchoMessage")
            .header("X-API-Key", &key)
            .header("X-Webhook-Signature", &signature)
            .body("{}"),
    );
    reply.err(404, "NOT_FOUND");
}

#[test]
fn config_rate_limit_required_timestamp_and_unsigned_mode() {
    let (_dir, wasm) = app_with_config(
        App::Realtime,
        "realtime",
        "[plugins.scale.webhook]\nrate_limit_per_minute = 2\nrequire_timestamp = true\n",
    );
    let server = Server::builder(App::Realtime).wasm_path(wasm).start();
    let user = server.register_and_login("limits@example.com");
    let (key, _) = new_key(&server, &user);
    assert_refused(
        &signed(&server, &key, PAYLOAD),
        401,
        "UNAUTHORIZED",
        "requires",
    );
    let ts = unix_now().to_string();
    let signature = hmac_hex(&key, format!("{ts}.{PAYLOAD}").as_bytes());
    let headers = [
        ("X-API-Key", key.as_str()),
        ("X-Webhook-Signature", &signature),
        ("X-Webhook-Timestamp", &ts),
    ];
    // The refused call above counted too: one more passes, the next is limited.
    assert_eq!(webhook(&server, &headers, PAYLOAD).status, 200);
    assert_refused(
        &webhook(&server, &headers, PAYLOAD),
        429,
        "RATE_LIMITED",
        "this minute",
    );

    let (_dir, wasm) = app_with_config(
        App::Realtime,
        "realtime",
        "[plugins.scale.webhook]\nverify_signature = false\nsignature_header = \"X-Sig\"\n",
    );
    let server = Server::builder(App::Realtime).wasm_path(wasm).start();
    let user = server.register_and_login("unsigned@example.com");
    let (key, _) = new_key(&server, &user);
    let reply = webhook(&server, &[("X-API-Key", &key)], PAYLOAD);
    assert_eq!(reply.status, 200, "{reply:?}");
    webhook(&server, &[], PAYLOAD).err(401, "UNAUTHORIZED");
}

#[test]
fn keys_are_listed_revoked_per_owner_and_survive_restarts() {
    let mut server = Server::start(App::Realtime);
    let ada = server.register_and_login("ada@example.com");
    let bob = server.register_and_login("bob@example.com");

    let created = create_key(
        &server,
        &ada,
        json!({"name": "My Webhook Key", "expiry_days": 30}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let data = created.body()["data"].clone();
    for field in ["api_key", "api_key_id", "name", "created_at", "expires_at"] {
        assert!(data[field].is_string(), "{field} in {data}");
    }
    let forever = create_key(&server, &ada, json!({"name": "forever", "expiry_days": 0}));
    assert_eq!(forever.status, 201, "{forever:?}");
    assert_eq!(forever.body()["data"]["expires_at"], Value::Null);
    let default = create_key(&server, &ada, json!({"name": "default"}));
    let year = |d: &Value| {
        d["expires_at"].as_str().unwrap()[..4]
            .parse::<i32>()
            .unwrap()
            - d["created_at"].as_str().unwrap()[..4]
                .parse::<i32>()
                .unwrap()
    };
    assert_eq!(
        year(&default.body()["data"]),
        1,
        "365 days by default: {default:?}"
    );
    create_key(&server, &ada, json!({"name": "bad", "expiry_days": -1}))
        .err(422, "VALIDATION_ERROR");
    server
        .post("/api-key/create", json!({"name": "anon"}))
        .err(401, "UNAUTHORIZED");

    let list = |user: &User| {
        let reply = server.send(
            server
                .request(Method::GET, "/api-key/list")
                .bearer_auth(&user.token),
        );
        reply.ok()["api_keys"].as_array().unwrap().clone()
    };
    let keys = list(&ada);
    let mut names: Vec<&str> = keys.iter().map(|k| k["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["My Webhook Key", "default", "forever"]);
    assert!(
        keys.iter().all(|k| k.get("api_key").is_none()),
        "the key itself is never listed"
    );
    assert!(list(&bob).is_empty());

    let id = data["api_key_id"].as_str().unwrap();
    delete_key(&server, &bob, id).err(403, "FORBIDDEN");
    delete_key(&server, &ada, "0123456789abcdef0123456789abcdef").err(404, "NOT_FOUND");

    let key = data["api_key"].as_str().unwrap().to_owned();
    server.restart();
    assert_eq!(
        signed(&server, &key, PAYLOAD).status,
        200,
        "keys survive a restart"
    );
    assert_eq!(delete_key(&server, &ada, id).status, 200);
    server.restart();
    assert_refused(
        &signed(&server, &key, PAYLOAD),
        401,
        "UNAUTHORIZED",
        "revoked",
    );
    let ada = server.login("ada@example.com");
    let mut after: Vec<String> = {
        let reply = server.send(
            server
                .request(Method::GET, "/api-key/list")
                .bearer_auth(&ada.token),
        );
        reply.ok()["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect()
    };
    after.sort_unstable();
    assert_eq!(after, ["default", "forever"]);
}

/// Verified keys are remembered in memory (a webhook call then skips the key's signature
/// check and database read); a revoked key must still be refused on the very next call,
/// while another key of the same owner keeps working.
#[test]
fn a_remembered_key_is_refused_on_the_call_right_after_its_revocation() {
    let server = Server::start(App::Realtime);
    let user = server.register_and_login("remembered@example.com");
    let (key, key_id) = new_key(&server, &user);
    let (other, _) = new_key(&server, &user);
    for _ in 0..3 {
        let reply = signed(&server, &key, PAYLOAD);
        assert_eq!(reply.only_report(), &payment_report(), "{reply:?}");
    }
    let reply = signed(&server, &other, PAYLOAD);
    assert_eq!(reply.status, 200, "{reply:?}");

    let revoked = delete_key(&server, &user, &key_id);
    assert_eq!(revoked.status, 200, "{revoked:?}");
    let reply = signed(&server, &key, PAYLOAD);
    assert_refused(&reply, 401, "UNAUTHORIZED", "revoked");
    let reply = signed(&server, &other, PAYLOAD);
    assert_eq!(reply.only_report(), &payment_report(), "{reply:?}");
}

/// The scenarios shared with the Jac build (`jac_realtime`), run with the Rust build.
mod rust_build {
    crate::support::app_scenarios!(crate::support::App::Realtime; crate::webhooks:
        the_specs_curl_and_openssl_example_works_verbatim,
        signed_calls_run_as_the_keys_owner_with_or_without_timestamp,
        each_refusal_has_its_own_status_and_message,
        webhook_walkers_exist_only_at_webhook_routes,
    );
}
