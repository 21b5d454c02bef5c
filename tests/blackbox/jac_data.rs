//! The data tier from Jac (`examples/data-jac/app.jac`, built with `jac-scale build`),
//! served by the real binary: the spec's MongoDB example on the embedded document store,
//! its Redis example on the embedded key-value store and on a real Redis
//! (started by the test), the wrong-kind `NotImplementedError`, and the spec's upload_file /
//! list_files / download_file walkers with a real `curl -F` multipart upload. The MongoDB
//! example also runs on a real MongoDB wire-protocol server (started by the tests).

use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{App, Server};

/// A server of the example with its own storage directory.
fn start(redis: bool) -> (Server, TempDir) {
    let storage = TempDir::new().expect("temp dir");
    let mut builder =
        Server::builder(App::DataJac).env("JAC_STORAGE_PATH", storage.path().display());
    if redis {
        builder = builder.env("REDIS_URL", test_services::redis_url());
    }
    (builder.start(), storage)
}

#[test]
fn the_specs_mongodb_example_runs_on_the_embedded_document_store() {
    let (server, _storage) = start(false);
    mongo_example(&server);
}

#[test]
fn the_specs_mongodb_example_runs_on_mongodb() {
    // The graph goes to this database; the documents to `jac_scale_kvstore`.
    let uri = test_services::mongodb_uri("jac_data_documents");
    let server = Server::builder(App::DataJac)
        .env("MONGODB_URI", uri)
        .start();
    mongo_example(&server);
}

/// The spec's MongoDB example; it cleans up after itself.
fn mongo_example(server: &Server) {
    let reply = server.post("/walker/mongo_example", json!({}));
    assert_eq!(
        reply.only_report(),
        &json!({"alice": "Alice", "admins": 1, "older": 1, "age_now": 31, "session": "active"}),
        "{reply:?}"
    );
    // The walker removes Alice again, so a second run sees the same data.
    let again = server.post("/walker/mongo_example", json!({}));
    assert_eq!(again.only_report()["admins"], 1, "{again:?}");
}

#[test]
fn a_node_id_filed_in_the_kvstore_in_the_creating_call_is_the_permanent_id() {
    let (server, _storage) = start(false);
    let user = server.register_and_login("marks@example.com");
    let body = json!({"title": "rust"});
    let reply = server.post_auth("/walker/save_bookmark", body.clone(), &user.token);
    let filed = reply.only_report();
    let id = filed["id"].as_str().unwrap_or_else(|| panic!("{reply:?}"));
    assert!(crate::support::is_hex_id(&filed["id"]), "{reply:?}");
    assert!(
        !id.starts_with("0000000000000000"),
        "provisional id: {reply:?}"
    );
    assert_eq!(filed["label"], format!("bookmark {id}"), "{reply:?}");
    // A later call reads the id back from the store and reaches the node.
    let reply = server.post_auth("/walker/open_bookmark", body, &user.token);
    assert_eq!(
        crate::support::assert_node(reply.only_report(), "Bookmark"),
        id,
        "{reply:?}"
    );
}

/// Calls adding to one tally at once (each also writes a kvstore document).
const TALLY_WRITERS: usize = 24;

/// A call whose commit conflicts after it wrote a kvstore document is not run again: it
/// answers 409 `CONFLICT` and its graph change is dropped; the others answer 200 and each
/// of their additions is kept (the count is exactly the number of 200s).
#[test]
fn a_conflicting_call_that_wrote_a_kvstore_answers_409_and_loses_no_update() {
    let (server, _storage) = start(false);
    let user = server.register_and_login("tally@example.com");
    let reply = server.post_auth("/walker/create_tally", json!({}), &user.token);
    let tally = crate::support::assert_node(reply.only_report(), "Tally").to_owned();
    let add = format!("/walker/add_to_tally/{tally}");
    let (mut kept, mut conflicts) = (0, 0);
    // Whether two calls collide is up to timing: rounds until one did.
    for _ in 0..5 {
        let statuses: Vec<(u16, Value)> = std::thread::scope(|scope| {
            let calls: Vec<_> = (0..TALLY_WRITERS)
                .map(|_| {
                    let (server, add, token) = (&server, &add, &user.token);
                    scope.spawn(move || {
                        let reply = server.post_auth(add, json!({}), token);
                        (reply.status, reply.json.clone().unwrap_or_default())
                    })
                })
                .collect();
            calls.into_iter().map(|call| call.join().unwrap()).collect()
        });
        for (status, body) in statuses {
            match status {
                200 => kept += 1,
                409 => {
                    assert_eq!(body["error"]["code"], "CONFLICT", "{body}");
                    conflicts += 1;
                }
                other => panic!("{other}: {body}"),
            }
        }
        if conflicts > 0 {
            break;
        }
    }
    assert!(conflicts > 0, "no two calls ever collided");
    let reply = server.post_auth(&add, json!({}), &user.token);
    assert_eq!(reply.only_report(), &json!(kept + 1), "{reply:?}");
}

/// The spec's Redis example; the counter counts across calls.
fn redis_example(server: &Server) {
    let first = server.post("/walker/redis_example", json!({}));
    let views = first.only_report()["views"].as_i64().expect("views");
    assert_eq!(
        first.only_report()["sessions"],
        json!(["session:user123"]),
        "{first:?}"
    );
    assert_eq!(first.only_report()["token"], json!({"token": "xyz"}));
    let second = server.post("/walker/redis_example", json!({}));
    assert_eq!(second.only_report()["views"], views + 1, "{second:?}");
}

#[test]
fn the_specs_redis_example_runs_on_the_embedded_key_value_store() {
    let (server, _storage) = start(false);
    redis_example(&server);
}

#[test]
fn the_specs_redis_example_runs_on_redis() {
    let (server, _storage) = start(true);
    redis_example(&server);
}

#[test]
fn a_wrong_kind_method_raises_not_implemented_error() {
    let (server, _storage) = start(false);
    let reply = server.post("/walker/wrong_kind", json!({}));
    assert_eq!(
        reply.only_report(),
        &json!({
            "error": "NotImplementedError",
            "message": "find_one() is only available on MongoDB kvstores; 'cache' was opened with db_type='redis'"
        })
    );
}

/// `curl -F` as the README shows it: uploads `bytes` as field `file` named `filename`.
fn curl_upload(server: &Server, filename: &str, bytes: &[u8]) -> Value {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join(filename);
    std::fs::write(&file, bytes).expect("write the upload");
    let url = server
        .request(Method::POST, "/walker/upload_file")
        .build()
        .expect("a request")
        .url()
        .to_string();
    let out = Command::new("curl")
        .args(["-s", "-X", "POST", &url, "-F"])
        .arg(format!("file=@{}", file.display()))
        .args(["-F", "folder=documents"])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl failed: {out:?}");
    serde_json::from_slice(&out.stdout).expect("a JSON answer")
}

#[test]
fn upload_list_and_download_round_trip_through_curl_multipart() {
    let (server, storage) = start(false);
    let content = "hello storage\nsecond line ü\n";
    let answer = curl_upload(&server, "hello.txt", content.as_bytes());
    let report = &answer["data"]["reports"][0];
    assert_eq!(report["success"], true, "{answer}");
    assert_eq!(report["size"], content.len(), "{answer}");
    assert_eq!(report["filename"], "hello.txt");
    assert_eq!(
        answer["data"]["result"]["file"],
        json!({"filename": "hello.txt", "content_type": "text/plain", "size": content.len()})
    );
    let path = report["storage_path"].as_str().expect("a storage path");
    assert!(
        path.starts_with("documents/") && path.ends_with(".dat"),
        "{path}"
    );

    let listed = server.post("/walker/list_files", json!({"folder": "documents"}));
    let name = path.trim_start_matches("documents/");
    assert_eq!(
        listed.only_report(),
        &json!({"files": [{"path": path, "size": content.len(), "name": name}]}),
        "{listed:?}"
    );

    let downloaded = server.post("/walker/download_file", json!({"path": path}));
    assert_eq!(
        downloaded.only_report(),
        &json!({"content": content, "size": content.len()}),
        "{downloaded:?}"
    );
    let missing = server.post(
        "/walker/download_file",
        json!({"path": "documents/none.dat"}),
    );
    assert_eq!(missing.only_report(), &json!({"error": "File not found"}));

    // The bytes are on disk under the configured storage directory, inside the app's prefix.
    let stored: Vec<_> = crate::support::files_under(storage.path())
        .into_iter()
        .filter(|p| p.ends_with(name))
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(std::fs::read(&stored[0]).expect("read"), content.as_bytes());
}
