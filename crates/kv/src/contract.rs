//! One contract per store kind, run against every backend: embedded, Redis and MongoDB
//! (real servers the tests start on loopback ports, `test-services`).

use std::time::Duration;

use serde_json::{Value, json};

use super::{Kind, KvSettings, MAX_VALUE_BYTES, Store, TenantStores};
use host_error::HostError;

fn j(v: Value) -> String {
    v.to_string()
}

fn parsed(text: Option<String>) -> Option<Value> {
    text.map(|t| serde_json::from_str(&t).unwrap())
}

/// A fresh tenant so runs never see each other's keys.
fn stores(dir: &tempfile::TempDir) -> TenantStores {
    let tenant = format!("contract-{}", uuid::Uuid::new_v4().simple());
    TenantStores::open(&tenant, dir.path(), KvSettings::default()).unwrap()
}

async fn key_value_contract(store: &Store, other_tenant: &Store) {
    assert_eq!(store.get("k", None).await.unwrap(), None);
    store.set("k", &j(json!({"a": 1})), None).await.unwrap();
    assert_eq!(
        parsed(store.get("k", None).await.unwrap()),
        Some(json!({"a": 1}))
    );
    assert!(store.exists("k", None).await.unwrap());
    assert_eq!(
        other_tenant.get("k", None).await.unwrap(),
        None,
        "tenants share a key"
    );

    assert_eq!(store.incr("n", 5).await.unwrap(), 5);
    assert_eq!(store.incr("n", -2).await.unwrap(), 3);
    assert!(matches!(
        store.incr("k", 1).await,
        Err(HostError::Invalid(_))
    ));

    for key in ["session:b", "session:a", "other:c"] {
        store.set(key, "true", None).await.unwrap();
    }
    assert_eq!(
        store.scan_keys("session:*", 0, 10).await.unwrap(),
        ["session:a", "session:b"]
    );
    assert_eq!(
        store.scan_keys("session:*", 1, 10).await.unwrap(),
        ["session:b"]
    );
    assert_eq!(store.scan_keys("*", 0, 2).await.unwrap().len(), 2);

    store.set_with_ttl("t", "1", 1).await.unwrap();
    assert!(store.expire("session:a", 1).await.unwrap());
    assert!(!store.expire("missing", 1).await.unwrap());
    assert!(matches!(
        store.set_with_ttl("t", "1", 0).await,
        Err(HostError::Invalid(_))
    ));
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(store.get("t", None).await.unwrap(), None);
    assert!(!store.exists("session:a", None).await.unwrap());
    assert_eq!(
        store.scan_keys("session:*", 0, 10).await.unwrap(),
        ["session:b"]
    );

    assert!(store.delete("k", None).await.unwrap());
    assert!(!store.delete("k", None).await.unwrap());

    let big = format!("\"{}\"", "x".repeat(MAX_VALUE_BYTES));
    assert!(matches!(
        store.set("big", &big, None).await,
        Err(HostError::QuotaExceeded(_))
    ));
    assert!(matches!(
        store.set("k", "{nope", None).await,
        Err(HostError::Invalid(_))
    ));
    assert!(matches!(
        store.find("c", "{}", 0, 1).await,
        Err(HostError::Invalid(_))
    ));
}

async fn document_contract(db: &Store, other_tenant: &Store) {
    let alice = db
        .insert_one(
            "users",
            &j(json!({"name": "Alice", "role": "admin", "age": 30})),
        )
        .await
        .unwrap();
    let ids = db
        .insert_many(
            "users",
            &[
                j(json!({"_id": "bob", "name": "Bob", "role": "user", "age": 25})),
                j(json!({"name": "Carol", "role": "admin", "age": 41})),
            ],
        )
        .await
        .unwrap();
    assert_eq!(ids[0], "bob");
    assert!(matches!(
        db.insert_one("users", &j(json!({"_id": "bob"}))).await,
        Err(HostError::Conflict(_))
    ));
    assert_eq!(
        other_tenant.find("users", "{}", 0, 10).await.unwrap().len(),
        0
    );

    let found = parsed(
        db.find_one("users", &j(json!({"name": "Alice"})))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(found["_id"], json!(alice));
    let names = |docs: Vec<String>| -> Vec<String> {
        docs.iter()
            .map(|d| {
                serde_json::from_str::<Value>(d).unwrap()["name"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        names(
            db.find("users", &j(json!({"role": "admin"})), 0, 10)
                .await
                .unwrap()
        ),
        ["Alice", "Carol"]
    );
    assert_eq!(
        names(
            db.find("users", &j(json!({"age": {"$gt": 28}})), 0, 10)
                .await
                .unwrap()
        ),
        ["Alice", "Carol"]
    );
    assert_eq!(
        names(
            db.find(
                "users",
                &j(json!({"$or": [{"age": {"$lt": 26}}, {"name": {"$in": ["Carol"]}}]})),
                0,
                10
            )
            .await
            .unwrap()
        ),
        ["Bob", "Carol"]
    );
    assert_eq!(names(db.find("users", "{}", 1, 1).await.unwrap()), ["Bob"]);
    assert!(matches!(
        db.find("users", &j(json!({"$where": "1"})), 0, 1).await,
        Err(HostError::Invalid(_))
    ));

    assert_eq!(
        db.update(
            "users",
            &j(json!({"name": "Alice"})),
            &j(json!({"$set": {"age": 31}})),
            false
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        db.update(
            "users",
            &j(json!({"role": "admin"})),
            &j(json!({"$inc": {"logins": 1}, "$push": {"tags": "x"}})),
            true
        )
        .await
        .unwrap(),
        2
    );
    let alice_now = parsed(db.find_by_id("users", &alice).await.unwrap()).unwrap();
    assert_eq!(
        (alice_now["age"].clone(), alice_now["logins"].clone()),
        (json!(31), json!(1))
    );
    assert_eq!(alice_now["tags"], json!(["x"]));
    assert!(
        db.update_by_id("users", "bob", &j(json!({"$unset": {"age": ""}})))
            .await
            .unwrap()
    );
    assert!(
        !db.update_by_id("users", "nobody", &j(json!({"$set": {"a": 1}})))
            .await
            .unwrap()
    );
    assert_eq!(
        parsed(db.find_by_id("users", "bob").await.unwrap())
            .unwrap()
            .get("age"),
        None
    );

    assert_eq!(
        db.delete_matching("users", &j(json!({"name": "Bob"})), false)
            .await
            .unwrap(),
        1
    );
    assert!(!db.delete_by_id("users", "bob").await.unwrap());
    assert_eq!(
        db.delete_matching("users", &j(json!({"role": "admin"})), true)
            .await
            .unwrap(),
        2
    );
    assert_eq!(db.find("users", "{}", 0, 10).await.unwrap().len(), 0);

    db.set(
        "user:123",
        &j(json!({"status": "active"})),
        Some("sessions"),
    )
    .await
    .unwrap();
    assert_eq!(
        parsed(db.get("user:123", Some("sessions")).await.unwrap()),
        Some(json!({"status": "active"}))
    );
    assert_eq!(db.get("user:123", None).await.unwrap(), None);
    assert!(db.exists("user:123", Some("sessions")).await.unwrap());
    assert!(db.delete("user:123", Some("sessions")).await.unwrap());
    assert!(matches!(db.incr("n", 1).await, Err(HostError::Invalid(_))));
}

#[tokio::test]
async fn embedded_key_value_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (stores(&dir), stores(&dir));
    key_value_contract(
        &a.store("cache", Kind::KeyValue, None).await.unwrap(),
        &b.store("cache", Kind::KeyValue, None).await.unwrap(),
    )
    .await;
}

#[tokio::test]
async fn embedded_document_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (stores(&dir), stores(&dir));
    document_contract(
        &a.store("my_app", Kind::Document, None).await.unwrap(),
        &b.store("my_app", Kind::Document, None).await.unwrap(),
    )
    .await;
}

#[tokio::test]
async fn redis_key_value_store_keeps_the_contract() {
    let redis = test_services::redis_url();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (stores(&dir), stores(&dir));
    key_value_contract(
        &a.store("cache", Kind::KeyValue, Some(&redis))
            .await
            .unwrap(),
        &b.store("cache", Kind::KeyValue, Some(&redis))
            .await
            .unwrap(),
    )
    .await;
}

#[cfg(feature = "mongo")]
#[tokio::test]
async fn mongodb_document_store_keeps_the_contract() {
    let uri = test_services::shared(test_services::Kind::MongoDb).url();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (stores(&dir), stores(&dir));
    document_contract(
        &a.store("my_app", Kind::Document, Some(uri)).await.unwrap(),
        &b.store("my_app", Kind::Document, Some(uri)).await.unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_uri_of_the_wrong_kind_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let s = stores(&dir);
    for (kind, uri) in [
        (Kind::KeyValue, "mongodb://x"),
        (Kind::Document, "redis://127.0.0.1:1"),
        (Kind::KeyValue, "http://x"),
    ] {
        assert!(matches!(
            s.store("c", kind, Some(uri)).await,
            Err(HostError::Invalid(_))
        ));
    }
    assert!(matches!(
        s.store("bad name!", Kind::KeyValue, None).await,
        Err(HostError::Invalid(_))
    ));
}

/// What `stores` hold after each write equals the count before it plus the write's
/// [`Change`](crate::Change): the ledger of the `kvstore_mib` quota stays true.
async fn usage_contract(stores: &TenantStores, store: &Store) {
    let mut expected = stores.used_bytes().await.unwrap();
    assert_eq!(expected, 0, "a fresh tenant holds nothing");
    macro_rules! counted {
        ($change:expr, $write:expr) => {{
            let change = $change.await.unwrap();
            $write.await.unwrap();
            expected = expected + change.added - change.removed;
            assert_eq!(
                stores.used_bytes().await.unwrap(),
                expected,
                "after {}",
                stringify!($write)
            );
        }};
    }
    match store {
        Store::KeyValue(_) => {
            let v = j(json!({"a": "x".repeat(100)}));
            counted!(store.change_of_set("k", &v, None), store.set("k", &v, None));
            counted!(
                store.change_of_set("k", "1", None),
                store.set("k", "1", None)
            );
            counted!(store.change_of_incr("k", 999), store.incr("k", 999));
            counted!(store.change_of_incr("n", -5), store.incr("n", -5));
            counted!(
                store.change_of_set_with_ttl("t", &v),
                store.set_with_ttl("t", &v, 60)
            );
            counted!(store.change_of_delete("k", None), store.delete("k", None));
            counted!(store.change_of_delete("k", None), store.delete("k", None));
        }
        Store::Document(_) => {
            let docs = [
                j(json!({"_id": "a", "name": "Alice", "age": 30})),
                j(json!({"name": "Bob", "age": 25, "tags": ["x"]})),
            ];
            counted!(
                store.change_of_insert(&docs),
                store.insert_many("users", &docs)
            );
            let (filter, update) = (
                j(json!({"age": {"$gt": 1}})),
                j(json!({"$inc": {"age": 100}})),
            );
            counted!(
                store.change_of_update("users", &filter, &update, true),
                store.update("users", &filter, &update, true)
            );
            let push = j(json!({"$push": {"tags": "yy"}, "$set": {"city": "Paris"}}));
            counted!(
                store.change_of_update_by_id("users", "a", &push),
                store.update_by_id("users", "a", &push)
            );
            let v = j(json!([1, 2, 3]));
            counted!(
                store.change_of_set("key", &v, Some("pairs")),
                store.set("key", &v, Some("pairs"))
            );
            counted!(
                store.change_of_set("key", "2", Some("pairs")),
                store.set("key", "2", Some("pairs"))
            );
            counted!(
                store.change_of_delete_by_id("users", "a"),
                store.delete_by_id("users", "a")
            );
            counted!(
                store.change_of_delete_matching("users", "{}", true),
                store.delete_matching("users", "{}", true)
            );
        }
    }
    assert!(expected > 0);
}

#[tokio::test]
async fn embedded_stores_count_what_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    let s = stores(&dir);
    usage_contract(&s, &s.store("cache", Kind::KeyValue, None).await.unwrap()).await;
    let other = stores(&dir);
    usage_contract(
        &other,
        &other.store("docs", Kind::Document, None).await.unwrap(),
    )
    .await;
    // A restart counts the same from the database.
    let again = TenantStores::open(&s.tenant, dir.path(), KvSettings::default()).unwrap();
    assert_eq!(
        again.used_bytes().await.unwrap(),
        s.used_bytes().await.unwrap()
    );
}

#[tokio::test]
async fn redis_stores_count_what_they_hold() {
    let redis = test_services::redis_url();
    let dir = tempfile::tempdir().unwrap();
    let s = stores(&dir);
    assert_eq!(s.servers(), 0);
    let store = s
        .store("cache", Kind::KeyValue, Some(&redis))
        .await
        .unwrap();
    assert_eq!(s.servers(), 1, "an opened server is counted from now on");
    usage_contract(&s, &store).await;
}

#[cfg(feature = "mongo")]
#[tokio::test]
async fn mongodb_stores_count_what_they_hold() {
    let uri = test_services::shared(test_services::Kind::MongoDb).url();
    let dir = tempfile::tempdir().unwrap();
    let s = stores(&dir);
    let store = s.store("my_app", Kind::Document, Some(uri)).await.unwrap();
    usage_contract(&s, &store).await;
}
