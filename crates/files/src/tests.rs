//! The storage contract: one suite, run against every backend. The local backend; S3
//! against moto's S3 emulator, which the tests start on a loopback port (`test-services`).

use std::sync::Arc;

use super::*;
use config::{S3Settings, StorageBackendSettings, StorageSettings};
use host_error::HostError;

/// Small limits so the bounds are reached quickly.
fn settings(backend: StorageBackendSettings, base_path: &str) -> StorageSettings {
    StorageSettings {
        backend,
        base_path: base_path.into(),
        create_dirs: true,
        max_file_bytes: 3 << 20,
        max_upload_bytes: 1 << 20,
    }
}

/// Everything a backend must do, through the buckets of two apps.
/// The app `app` on a local backend rooted at `<dir>/storage`, and its uploads folder
/// (keep it alive while the app is used).
fn local_app(dir: &std::path::Path) -> (TenantFiles, tempfile::TempDir) {
    let settings = settings(
        StorageBackendSettings::Local,
        dir.join("storage").to_str().unwrap(),
    );
    let uploads = tempfile::tempdir().unwrap();
    let app = TenantFiles::new(
        open_backend(&settings).unwrap(),
        "app",
        &settings,
        uploads.path(),
    )
    .unwrap();
    (app, uploads)
}

async fn contract(backend: Arc<dyn Backend>, settings: &StorageSettings) {
    let uploads = tempfile::tempdir().unwrap();
    let app = TenantFiles::new(backend.clone(), "app-one", settings, uploads.path()).unwrap();
    let other = TenantFiles::new(backend, "app-two", settings, uploads.path()).unwrap();
    let bucket = app.open(Some("./uploads"), None).await.unwrap();

    // write, read ranges, append
    bucket
        .write("docs/a.txt", b"hello world", false)
        .await
        .unwrap();
    assert_eq!(
        bucket.read("docs/a.txt", 0, 100).await.unwrap(),
        b"hello world"
    );
    assert_eq!(bucket.read("./docs//a.txt", 6, 3).await.unwrap(), b"wor");
    assert!(bucket.read("docs/a.txt", 11, 10).await.unwrap().is_empty());
    assert!(bucket.read("docs/a.txt", 500, 10).await.unwrap().is_empty());
    bucket.write("docs/a.txt", b"!", true).await.unwrap();
    assert_eq!(
        bucket.read("docs/a.txt", 0, 100).await.unwrap(),
        b"hello world!"
    );
    bucket.write("docs/a.txt", b"new", false).await.unwrap();
    assert_eq!(bucket.read("docs/a.txt", 0, 100).await.unwrap(), b"new");

    // exists, metadata
    assert!(bucket.exists("docs/a.txt").await.unwrap());
    assert!(bucket.exists("docs").await.unwrap());
    assert!(!bucket.exists("docs/zzz").await.unwrap());
    let meta = bucket.metadata("docs/a.txt").await.unwrap();
    assert_eq!(
        (meta.name.as_str(), meta.size, meta.is_dir),
        ("a.txt", 3, false)
    );
    assert!(meta.modified > 1.6e9 && meta.created > 0.0, "{meta:?}");
    assert!(bucket.metadata("docs").await.unwrap().is_dir);
    assert!(matches!(
        bucket.metadata("nope.txt").await,
        Err(HostError::NotFound(_))
    ));
    assert!(matches!(
        bucket.read("nope.txt", 0, 1).await,
        Err(HostError::NotFound(_))
    ));
    assert!(matches!(
        bucket.read("docs", 0, 1).await,
        Err(HostError::Invalid(_))
    ));

    // list: direct files only unless recursive, byte order, paging
    for name in [
        "docs/b.txt",
        "docs/sub/c.txt",
        "docs/sub/deep/d.txt",
        "top.txt",
    ] {
        bucket.write(name, name.as_bytes(), false).await.unwrap();
    }
    assert_eq!(
        bucket.list("docs", false, 0, 100).await.unwrap(),
        ["docs/a.txt", "docs/b.txt"]
    );
    assert_eq!(
        bucket.list("docs", true, 0, 100).await.unwrap(),
        [
            "docs/a.txt",
            "docs/b.txt",
            "docs/sub/c.txt",
            "docs/sub/deep/d.txt"
        ]
    );
    assert_eq!(bucket.list("", false, 0, 100).await.unwrap(), ["top.txt"]);
    assert_eq!(
        bucket.list("docs", true, 1, 2).await.unwrap(),
        ["docs/b.txt", "docs/sub/c.txt"]
    );
    assert!(
        bucket
            .list("missing", true, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // copy and move: files only; false when the source is missing
    assert!(bucket.copy("docs/b.txt", "copies/b.txt").await.unwrap());
    assert_eq!(
        bucket.read("copies/b.txt", 0, 100).await.unwrap(),
        b"docs/b.txt"
    );
    assert!(!bucket.copy("nope", "copies/x").await.unwrap());
    assert!(bucket.rename("copies/b.txt", "moved/b.txt").await.unwrap());
    assert!(!bucket.exists("copies/b.txt").await.unwrap());
    assert_eq!(
        bucket.read("moved/b.txt", 0, 100).await.unwrap(),
        b"docs/b.txt"
    );
    assert!(!bucket.rename("copies/b.txt", "moved/c.txt").await.unwrap());
    assert!(matches!(
        bucket.copy("docs/sub", "x").await,
        Err(HostError::Invalid(_))
    ));

    // delete files and folders with their contents
    assert!(bucket.delete("moved/b.txt").await.unwrap());
    assert!(!bucket.delete("moved/b.txt").await.unwrap());
    assert!(bucket.delete("docs/sub").await.unwrap());
    assert!(!bucket.exists("docs/sub/deep/d.txt").await.unwrap());
    assert_eq!(
        bucket.list("docs", true, 0, 100).await.unwrap(),
        ["docs/a.txt", "docs/b.txt"]
    );

    // paths never leave the bucket
    for bad in ["../x", "docs/../../x", "/etc/passwd", "a\\b"] {
        assert!(
            matches!(bucket.read(bad, 0, 1).await, Err(HostError::Invalid(_))),
            "{bad}"
        );
        assert!(
            matches!(
                bucket.write(bad, b"x", false).await,
                Err(HostError::Invalid(_))
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        app.open(Some("../app-two"), None).await,
        Err(HostError::Invalid(_))
    ));
    assert!(matches!(
        bucket.delete("").await,
        Err(HostError::Invalid(_))
    ));

    // bounds: one chunk per write, reads clamped, files bounded
    let chunk = vec![7u8; MAX_CHUNK_BYTES];
    assert!(matches!(
        bucket.write("big", &[0; MAX_CHUNK_BYTES + 1], false).await,
        Err(HostError::QuotaExceeded(_))
    ));
    for _ in 0..3 {
        bucket.write("big", &chunk, true).await.unwrap();
    }
    assert!(matches!(
        bucket.write("big", b"x", true).await,
        Err(HostError::QuotaExceeded(_))
    ));
    assert_eq!(bucket.metadata("big").await.unwrap().size, 3 << 20);
    assert_eq!(
        bucket.read("big", 0, u32::MAX).await.unwrap().len(),
        MAX_CHUNK_BYTES
    );

    // uploads are saved without passing through the guest
    let mut request = app.uploads().begin();
    let stream = futures_util::stream::iter([Ok::<_, ()>(bytes::Bytes::from_static(b"pdf!"))]);
    let key = request
        .receive("r.pdf".into(), "application/pdf".into(), stream)
        .await
        .unwrap();
    let saved = bucket
        .save_file(request.get(&key).unwrap(), "./in/r.pdf")
        .await
        .unwrap();
    assert_eq!(saved, "in/r.pdf");
    drop(request);
    assert_eq!(bucket.read("in/r.pdf", 0, 10).await.unwrap(), b"pdf!");

    // two apps using the same names never see each other's files
    let theirs = other.open(Some("uploads"), None).await.unwrap();
    assert!(!theirs.exists("docs/a.txt").await.unwrap());
    assert!(theirs.list("", true, 0, 100).await.unwrap().is_empty());
    theirs.write("docs/a.txt", b"theirs", false).await.unwrap();
    assert_eq!(bucket.read("docs/a.txt", 0, 100).await.unwrap(), b"new");
    // another base path of the same app is another folder
    let root = app.open(None, None).await.unwrap();
    assert_eq!(
        root.read("uploads/docs/a.txt", 0, 100).await.unwrap(),
        b"new"
    );
}

#[tokio::test]
async fn local_backend_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(
        StorageBackendSettings::Local,
        dir.path().join("storage").to_str().unwrap(),
    );
    contract(open_backend(&settings).unwrap(), &settings).await;
}

#[tokio::test]
async fn local_backend_refuses_symlinks_that_leave_the_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), b"secret").unwrap();
    let (app, _uploads) = local_app(dir.path());
    let bucket = app.open(Some("uploads"), None).await.unwrap();
    let base = dir.path().join("storage/app/uploads");
    std::os::unix::fs::symlink(&outside, base.join("link-dir")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), base.join("link-file")).unwrap();
    std::os::unix::fs::symlink(outside.join("gone"), base.join("dangling")).unwrap();
    bucket.write("inside.txt", b"ok", false).await.unwrap();
    std::os::unix::fs::symlink(base.join("inside.txt"), base.join("link-inside")).unwrap();

    for path in ["link-dir/secret.txt", "link-file", "dangling"] {
        let read = bucket.read(path, 0, 10).await;
        assert!(
            matches!(&read, Err(HostError::Invalid(m)) if m.contains("outside the storage base")),
            "{path}: {read:?}"
        );
        assert!(matches!(
            bucket.write(path, b"pwned", false).await,
            Err(HostError::Invalid(_))
        ));
        assert!(matches!(
            bucket.exists(path).await,
            Err(HostError::Invalid(_))
        ));
        assert!(matches!(
            bucket.delete(path).await,
            Err(HostError::Invalid(_))
        ));
    }
    assert!(matches!(
        bucket.write("link-dir/new.txt", b"pwned", false).await,
        Err(HostError::Invalid(_))
    ));
    assert!(!outside.join("new.txt").exists());
    assert!(!outside.join("gone").exists());
    assert_eq!(
        std::fs::read(outside.join("secret.txt")).unwrap(),
        b"secret"
    );
    // a link that stays inside works; escaping links are not listed
    assert_eq!(bucket.read("link-inside", 0, 10).await.unwrap(), b"ok");
    assert_eq!(
        bucket.list("", true, 0, 100).await.unwrap(),
        ["inside.txt", "link-inside"]
    );
    // a bucket whose own folder is a link out of the storage root is refused too
    std::os::unix::fs::symlink(&outside, dir.path().join("storage/app/escape")).unwrap();
    let escaped = app.open(Some("escape"), Some(false)).await;
    assert!(
        matches!(escaped, Err(HostError::Invalid(_))),
        "{:?}",
        escaped.err()
    );
}

#[tokio::test]
async fn local_backend_without_create_dirs_needs_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _uploads) = local_app(dir.path());
    assert!(matches!(
        app.open(Some("nope"), Some(false)).await,
        Err(HostError::NotFound(m)) if m.contains("create_dirs is false")
    ));
    app.open(Some("nope"), Some(true)).await.unwrap();
    assert!(dir.path().join("storage/app/nope").is_dir());
    app.open(Some("nope"), Some(false)).await.unwrap();
}

#[tokio::test]
async fn local_backend_replaces_files_through_partials_and_sweeps_abandoned_ones() {
    let dir = tempfile::tempdir().unwrap();
    let partials = dir.path().join("storage").join(local::PARTIALS);
    // What a killed writer left: a partial nobody holds.
    std::fs::create_dir_all(&partials).unwrap();
    std::fs::write(partials.join(".a.txt.partial-0123456789abcdef"), b"half").unwrap();
    let (app, _uploads) = local_app(dir.path());
    assert!(
        std::fs::read_dir(&partials).unwrap().next().is_none(),
        "opening the backend removes the abandoned partial"
    );
    let bucket = app.open(Some("./uploads"), None).await.unwrap();
    bucket.write("a.txt", b"one", false).await.unwrap();
    bucket.write("a.txt", b"two", false).await.unwrap();
    assert!(bucket.copy("a.txt", "b.txt").await.unwrap());
    assert_eq!(bucket.read("b.txt", 0, 10).await.unwrap(), b"two");
    // A replacement that fails (a folder is in the way) leaves no partial either.
    bucket.write("dir/c.txt", b"three", false).await.unwrap();
    let refused = bucket.write("dir", b"x", false).await;
    assert!(matches!(refused, Err(HostError::Invalid(_))), "{refused:?}");
    assert!(std::fs::read_dir(&partials).unwrap().next().is_none());
    assert_eq!(
        bucket.list("", true, 0, 10).await.unwrap(),
        ["a.txt", "b.txt", "dir/c.txt"],
        "partials are outside every bucket"
    );
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn s3_backend_meets_the_contract_on_moto() {
    let endpoint = test_services::s3_endpoint();
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/contract"))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "create bucket: {created:?}");
    let settings = settings(
        StorageBackendSettings::S3(S3Settings {
            bucket: "contract".into(),
            endpoint: Some(endpoint),
            region: "us-east-1".into(),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
        }),
        "./storage",
    );
    contract(open_backend(&settings).unwrap(), &settings).await;
}
