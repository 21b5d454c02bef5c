//! Webhook calls as an external service makes them: API keys, HMAC signatures, the
//! spec's `PaymentReceived` payload and its cURL + openssl example, and apps served with
//! a custom `jac.toml`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tempfile::TempDir;

use super::{App, Reply, Site, User};

/// The spec's example payload, byte for byte.
pub const PAYLOAD: &str = r#"{"payment_id":"PAY-12345","amount":99.99,"currency":"USD"}"#;

/// `app`'s component copied next to a `jac.toml` with `toml`, as `<name>.wasm` (the app
/// name, which also names its Redis channel).
pub fn app_with_config(app: App, name: &str, toml: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let wasm = dir.path().join(format!("{name}.wasm"));
    std::fs::copy(app.wasm(), &wasm).expect("copy component");
    std::fs::write(dir.path().join("jac.toml"), toml).expect("write jac.toml");
    (dir, wasm)
}

/// Hex HMAC-SHA256 of `message` keyed with `key`.
pub fn hmac_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `POST /api-key/create` with `body` as `user`.
pub fn create_key(server: &Site, user: &User, body: Value) -> Reply {
    server.post_auth("/api-key/create", body, &user.token)
}

/// A fresh API key of `user`: `(api_key, api_key_id)`.
pub fn new_key(server: &Site, user: &User) -> (String, String) {
    let reply = create_key(server, user, json!({"name": "ci"}));
    assert_eq!(reply.status, 201, "{reply:?}");
    let data = &reply.body()["data"];
    (
        data["api_key"].as_str().unwrap().to_owned(),
        data["api_key_id"].as_str().unwrap().to_owned(),
    )
}

/// `DELETE /api-key/{id}` (revoke) as `user`.
pub fn delete_key(server: &Site, user: &User, id: &str) -> Reply {
    server.send(
        server
            .request(Method::DELETE, &format!("/api-key/{id}"))
            .bearer_auth(&user.token),
    )
}

/// `POST /webhook/PaymentReceived` with these headers and body.
pub fn webhook(server: &Site, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = server
        .request(Method::POST, "/webhook/PaymentReceived")
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    server.send(request)
}

/// A webhook call signed with `key` (no timestamp).
pub fn signed(server: &Site, key: &str, body: &str) -> Reply {
    let signature = hmac_hex(key, body.as_bytes());
    webhook(
        server,
        &[("X-API-Key", key), ("X-Webhook-Signature", &signature)],
        body,
    )
}

/// Asserts an error envelope whose message contains `says`.
pub fn assert_refused(reply: &Reply, status: u16, code: &str, says: &str) {
    let error = reply.err(status, code);
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "expected {says:?} in {reply:?}");
}

/// What `PaymentReceived` reports for [`PAYLOAD`].
pub fn payment_report() -> Value {
    json!({"status": "success", "message": "Payment PAY-12345 received", "amount": 99.99, "currency": "USD"})
}

/// Runs the spec's cURL + openssl example verbatim (only the URL and key filled in)
/// against `server` and returns curl's output as JSON. `timestamped` uses the timestamp
/// scheme instead, as the README shows it: the signature covers `<ts>.<body>`.
pub fn curl_spec_example(server: &Site, key: &str, timestamped: bool) -> Value {
    let url = server
        .request(Method::POST, "/webhook/PaymentReceived")
        .build()
        .unwrap()
        .url()
        .to_string();
    let script = if timestamped {
        format!(
            r#"API_KEY="{key}"
PAYLOAD='{PAYLOAD}'
TS=$(date +%s)
SIGNATURE=$(echo -n "$TS.$PAYLOAD" | openssl dgst -sha256 -hmac "$API_KEY" | cut -d' ' -f2)
curl -s -X POST "{url}" -H "X-API-Key: $API_KEY" \
    -H "X-Webhook-Signature: sha256=$SIGNATURE" -H "X-Webhook-Timestamp: $TS" -d "$PAYLOAD""#
        )
    } else {
        format!(
            r#"API_KEY="{key}"
PAYLOAD='{PAYLOAD}'
SIGNATURE=$(echo -n "$PAYLOAD" | openssl dgst -sha256 -hmac "$API_KEY" | cut -d' ' -f2)

curl -s -X POST "{url}" \
    -H "Content-Type: application/json" \
    -H "X-API-Key: $API_KEY" \
    -H "X-Webhook-Signature: $SIGNATURE" \
    -d "$PAYLOAD""#
        )
    };
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash runs");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("curl output: {}", String::from_utf8_lossy(&output.stdout)))
}
