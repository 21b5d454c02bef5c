//! File storage and uploads with `examples/files`: the spec's upload_file / list_files /
//! download_file end to end over `multipart/form-data`, path escapes, the upload bound,
//! capability grants and two apps sharing one storage directory. The local backend runs
//! here (the S3 backend is covered by the storage contract suite against moto).

use std::path::{Path, PathBuf};

use reqwest::Method;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{App, Reply, Server, Site};

/// One part of a hand-built `multipart/form-data` body.
enum Part<'a> {
    Text(&'a str, &'a str),
    File {
        field: &'a str,
        filename: &'a str,
        content_type: &'a str,
        bytes: &'a [u8],
    },
}

const BOUNDARY: &str = "jac-scale-test-boundary-7d1f";

fn multipart_body(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File {
                field,
                filename,
                content_type,
                bytes,
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn multipart_request(server: &Site, path: &str, parts: &[Part<'_>]) -> RequestBuilder {
    server
        .request(Method::POST, path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart_body(parts))
}

fn post_multipart(server: &Site, path: &str, parts: &[Part<'_>]) -> Reply {
    server.send(multipart_request(server, path, parts))
}

/// The `upload_file` request storing `bytes` as `<folder>/<filename>`, not sent yet.
pub(crate) fn upload_request(
    server: &Site,
    folder: &str,
    filename: &str,
    bytes: &[u8],
) -> RequestBuilder {
    multipart_request(
        server,
        "/walker/upload_file",
        &[
            Part::File {
                field: "file",
                filename,
                content_type: "text/plain",
                bytes,
            },
            Part::Text("folder", folder),
        ],
    )
}

pub(crate) fn upload(server: &Site, folder: &str, filename: &str, bytes: &[u8]) -> Reply {
    server.send(upload_request(server, folder, filename, bytes))
}

/// `inspect_upload` of `bytes`: the upload is read on the host, not stored.
pub(crate) fn inspect(server: &Site, bytes: &[u8]) -> Reply {
    post_multipart(
        server,
        "/walker/inspect_upload",
        &[Part::File {
            field: "file",
            filename: "data.csv",
            content_type: "text/csv",
            bytes,
        }],
    )
}

/// A files server whose storage lives in `storage`.
fn files_server(storage: &Path) -> Server {
    Server::builder(App::Files)
        .env("JAC_STORAGE_PATH", storage.display())
        .start()
}

/// `files.wasm` copied as `<dir>/<name>.wasm` (the app's name is its file stem), with
/// an optional `jac.toml` next to it.
fn copied_app(dir: &Path, name: &str, jac_toml: Option<&str>) -> PathBuf {
    let wasm = dir.join(format!("{name}.wasm"));
    std::fs::copy(App::Files.wasm(), &wasm).expect("copy files.wasm");
    if let Some(text) = jac_toml {
        std::fs::write(dir.join("jac.toml"), text).expect("write jac.toml");
    }
    wasm
}

pub(crate) fn walker(server: &Site, name: &str, body: Value) -> Reply {
    server.post(&format!("/walker/{name}"), body)
}

/// Request folders left in the server's upload areas (`tmp/uploads/<area of a
/// process>/<request>/`; request folders are deleted with their call).
pub(crate) fn leftover_uploads(server: &Server) -> usize {
    let entries = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.expect("upload area entry").path())
                    .collect()
            })
            .unwrap_or_default()
    };
    entries(&server.data_dir().join("tmp/uploads"))
        .iter()
        .map(|area| entries(area).len())
        .sum()
}

#[test]
fn upload_list_download_end_to_end() {
    let storage = TempDir::new().unwrap();
    let server = files_server(storage.path());

    let reply = upload(&server, "documents", "notes.txt", b"hello storage");
    let report = reply.only_report();
    assert_eq!(
        report,
        &json!({"success": true, "storage_path": "documents/notes.txt", "size": 13}),
        "{reply:?}"
    );
    // where the spec's `store(base_path="./uploads")` keeps it: <storage>/<app>/uploads/
    let on_disk = storage.path().join("files/uploads/documents/notes.txt");
    assert_eq!(std::fs::read(&on_disk).unwrap(), b"hello storage");
    assert_eq!(
        leftover_uploads(&server),
        0,
        "the request's upload folder is gone"
    );

    upload(&server, "documents/sub", "deep.txt", b"deep").only_report();
    let listed = walker(&server, "list_files", json!({}));
    assert_eq!(
        listed.only_report(),
        &json!({"files": [{"path": "documents/notes.txt", "size": 13, "name": "notes.txt"}]})
    );
    let listed = walker(&server, "list_files", json!({"recursive": true}));
    assert_eq!(
        listed.only_report()["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["documents/notes.txt", "documents/sub/deep.txt"]
    );

    let downloaded = walker(
        &server,
        "download_file",
        json!({"path": "documents/notes.txt"}),
    );
    assert_eq!(
        downloaded.only_report(),
        &json!({"content": "hello storage", "size": 13})
    );
    let missing = walker(
        &server,
        "download_file",
        json!({"path": "documents/none.txt"}),
    );
    assert_eq!(missing.only_report(), &json!({"error": "File not found"}));

    // copy, move, metadata, delete
    let copied = walker(
        &server,
        "copy_file",
        json!({"source": "documents/notes.txt", "destination": "backup/notes.txt"}),
    );
    assert_eq!(copied.only_report(), &json!({"copied": true}));
    let moved = walker(
        &server,
        "move_file",
        json!({"source": "backup/notes.txt", "destination": "archive/n.txt"}),
    );
    assert_eq!(moved.only_report(), &json!({"moved": true}));
    let meta = walker(&server, "file_metadata", json!({"path": "archive/n.txt"}));
    let meta = meta.only_report();
    assert_eq!(
        (&meta["name"], &meta["size"], &meta["is_dir"]),
        (&json!("n.txt"), &json!(13), &json!(false))
    );
    assert!(meta["modified"].as_f64().unwrap() > 1.6e9, "{meta}");
    let deleted = walker(&server, "delete_file", json!({"path": "archive"}));
    assert_eq!(deleted.only_report(), &json!({"deleted": true}));
    assert!(!storage.path().join("files/uploads/archive").exists());

    // an upload read without being stored
    let inspected = inspect(&server, b"a,b\n1,2\n");
    assert_eq!(
        inspected.only_report(),
        &json!({"filename": "data.csv", "content_type": "text/csv", "size": 8, "head": "a,b\n1,2\n"})
    );
}

#[test]
fn upload_fields_must_be_sent_as_files() {
    let storage = TempDir::new().unwrap();
    let server = files_server(storage.path());
    let no_file = post_multipart(&server, "/walker/upload_file", &[Part::Text("folder", "x")]);
    let error = no_file.err(422, "VALIDATION_ERROR");
    assert_eq!(
        error["details"][0]["loc"],
        json!(["body", "file"]),
        "{no_file:?}"
    );
    // a JSON body cannot name an upload (keys are per request, held by the host)
    let forged = walker(
        &server,
        "upload_file",
        json!({"file": {"upload": "upload-0"}}),
    );
    forged.err(422, "VALIDATION_ERROR");
    assert!(std::fs::read_dir(storage.path()).unwrap().next().is_none());
}

/// The host's refusal of a path, as the client sees it: a failed call whose message
/// says why.
fn assert_refused(reply: &Reply, why: &str) {
    let error = reply.err(500, "EXECUTION_ERROR");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(why), "expected {why:?} in {reply:?}");
}

#[test]
fn paths_that_escape_the_storage_base_are_refused() {
    let storage = TempDir::new().unwrap();
    let outside = TempDir::new().unwrap();
    std::fs::write(outside.path().join("secret.txt"), b"top secret").unwrap();
    let server = files_server(storage.path());
    upload(&server, "documents", "a.txt", b"mine").only_report();

    for path in ["../x", "documents/../../x", "../../../../etc/passwd"] {
        let reply = walker(&server, "download_file", json!({"path": path}));
        assert_refused(&reply, "`..` is not allowed");
    }
    let reply = walker(&server, "download_file", json!({"path": "/etc/passwd"}));
    assert_refused(&reply, "absolute paths are not allowed");
    let reply = upload(&server, "../escaped", "a.txt", b"x");
    assert_refused(&reply, "`..` is not allowed");
    let reply = upload(&server, "documents", "../../../escaped.txt", b"x");
    assert_refused(&reply, "`..` is not allowed");
    let reply = walker(
        &server,
        "copy_file",
        json!({"source": "documents/a.txt", "destination": "/tmp/stolen"}),
    );
    assert_refused(&reply, "absolute paths are not allowed");

    // a symlink inside the base that points out of it
    let base = storage.path().join("files/uploads");
    std::os::unix::fs::symlink(outside.path(), base.join("link")).unwrap();
    let reply = walker(&server, "download_file", json!({"path": "link/secret.txt"}));
    assert_refused(&reply, "leads outside the storage base");
    let reply = upload(&server, "link", "planted.txt", b"x");
    assert_refused(&reply, "leads outside the storage base");
    assert!(!outside.path().join("planted.txt").exists());
    let listed = walker(
        &server,
        "list_files",
        json!({"folder": "", "recursive": true}),
    );
    assert_eq!(
        listed.only_report(),
        &json!({"files": [{"path": "documents/a.txt", "size": 4, "name": "a.txt"}]})
    );
    // the server keeps serving
    let ok = walker(&server, "download_file", json!({"path": "documents/a.txt"}));
    assert_eq!(ok.only_report()["content"], "mine");
}

#[test]
fn oversized_upload_is_refused_and_nothing_is_kept() {
    let storage = TempDir::new().unwrap();
    let server = Server::builder(App::Files)
        .env("JAC_STORAGE_PATH", storage.path().display())
        .env("JAC_STORAGE_MAX_UPLOAD_BYTES", 64 << 10)
        .start();
    let big = vec![b'x'; 1 << 20];
    let reply = upload(&server, "documents", "big.bin", &big);
    reply.err(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(
        leftover_uploads(&server),
        0,
        "the partial upload was deleted"
    );
    assert!(
        !storage
            .path()
            .join("files/uploads/documents/big.bin")
            .exists()
    );
    let listed = walker(&server, "list_files", json!({}));
    assert_eq!(listed.only_report(), &json!({"files": []}));
    // the server still serves, and an upload within the bound works
    let small = upload(&server, "documents", "small.bin", &big[..1000]);
    assert_eq!(small.only_report()["size"], 1000);
}

#[test]
fn storage_without_a_grant_is_access_denied() {
    let storage = TempDir::new().unwrap();
    let dir = TempDir::new().unwrap();
    let wasm = copied_app(
        dir.path(),
        "files",
        Some("[plugins.scale.capabilities]\nstorage = [\"./avatars\"]\n"),
    );
    let server = Server::builder(App::Files)
        .wasm_path(wasm)
        .env("JAC_STORAGE_PATH", storage.path().display())
        .start();
    let reply = upload(&server, "documents", "a.txt", b"x");
    let error = reply.err(403, "FORBIDDEN");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no storage grant"),
        "{reply:?}"
    );
    let reply = walker(&server, "list_files", json!({}));
    reply.err(403, "FORBIDDEN");
    assert!(
        !storage.path().join("files").exists(),
        "nothing was created"
    );
}

#[test]
fn two_apps_sharing_a_storage_directory_never_see_each_others_files() {
    let storage = TempDir::new().unwrap();
    let dir = TempDir::new().unwrap();
    let first = files_server(storage.path());
    let second = Server::builder(App::Files)
        .wasm_path(copied_app(dir.path(), "other", None))
        .env("JAC_STORAGE_PATH", storage.path().display())
        .start();

    upload(&first, "documents", "same.txt", b"first app").only_report();
    upload(&second, "documents", "same.txt", b"second app").only_report();
    let read = |server: &Server| {
        walker(
            server,
            "download_file",
            json!({"path": "documents/same.txt"}),
        )
        .only_report()["content"]
            .clone()
    };
    assert_eq!(read(&first), "first app");
    assert_eq!(read(&second), "second app");
    upload(&first, "documents", "only-first.txt", b"1").only_report();
    let listed = walker(&second, "list_files", json!({}));
    assert_eq!(
        listed.only_report(),
        &json!({"files": [{"path": "documents/same.txt", "size": 10, "name": "same.txt"}]})
    );
    let missing = walker(
        &second,
        "download_file",
        json!({"path": "documents/only-first.txt"}),
    );
    assert_eq!(missing.only_report(), &json!({"error": "File not found"}));
    assert!(
        storage
            .path()
            .join("files/uploads/documents/only-first.txt")
            .is_file()
    );
    assert!(
        storage
            .path()
            .join("other/uploads/documents/same.txt")
            .is_file()
    );
}
