//! Webhook API keys over the real SQLite store.

use std::sync::Arc;

use auth::api_keys::*;
use auth::{UserRecord, UserStore};
use graph::Id;
use jac_scale_graphdb::sqlite::SqliteStore;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};

/// The webhook secret of the fixture's keys.
const SECRET: &str = "s3cret-s3cret-s3cret-s3cret-s3cret";

fn fixture() -> (tempfile::TempDir, Arc<SqliteStore>, ApiKeys) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("jac.db")).unwrap());
    for (id, identity) in [("u1", "a@x.io"), ("u2", "b@x.io")] {
        store
            .insert_user(&UserRecord {
                id: id.into(),
                identity: identity.into(),
                password_hash: String::new(),
                root: Id::generate(),
                created_at: 0,
            })
            .unwrap();
    }
    let keys = ApiKeys::new(store.clone(), Some(SECRET), dir.path(), 365).unwrap();
    (dir, store, keys)
}

#[test]
fn rfc3339_formats_known_instants() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_705_314_600), "2024-01-15T10:30:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}

#[test]
fn created_key_verifies_and_is_stored_hashed() {
    let (_dir, store, keys) = fixture();
    let new = keys.create("u1", "ci", None).unwrap();
    let holder = keys.verify(&new.api_key).unwrap();
    assert_eq!(holder.user_id, "u1");
    assert_eq!(holder.key_id, new.record.id);
    let stored = store.api_key(&new.record.id).unwrap().unwrap();
    assert_eq!(
        stored.key.key_hash,
        <[u8; 32]>::from(Sha256::digest(new.api_key.as_bytes()))
    );
    assert_eq!(
        new.record.expires_at,
        Some(new.record.created_at + 365 * 86_400)
    );
}

#[test]
fn zero_days_never_expires() {
    let (_dir, _store, keys) = fixture();
    let new = keys.create("u1", "forever", Some(0)).unwrap();
    assert_eq!(new.record.expires_at, None);
    assert!(keys.verify(&new.api_key).is_ok());
}

#[test]
fn revoked_other_users_and_forged_keys_are_refused() {
    let (dir, store, keys) = fixture();
    let new = keys.create("u1", "ci", Some(1)).unwrap();
    // Verified (and so remembered) before the revocation.
    assert!(keys.verify(&new.api_key).is_ok());
    assert!(keys.verify(&new.api_key).is_ok());
    assert!(matches!(
        keys.revoke("u2", &new.record.id),
        Err(ApiKeyError::NotYours)
    ));
    assert!(
        keys.verify(&new.api_key).is_ok(),
        "a refused revocation changes nothing"
    );
    assert!(matches!(
        keys.revoke("u1", "nope"),
        Err(ApiKeyError::NotFound(_))
    ));
    keys.revoke("u1", &new.record.id).unwrap();
    assert!(matches!(
        keys.verify(&new.api_key),
        Err(ApiKeyError::Revoked)
    ));

    let other = ApiKeys::new(
        store,
        Some("another-secret-another-secret-xx"),
        dir.path(),
        365,
    )
    .unwrap();
    let forged = other.create("u1", "x", None).unwrap();
    assert!(matches!(
        keys.verify(&forged.api_key),
        Err(ApiKeyError::Malformed)
    ));
    assert!(matches!(
        keys.verify("not a key"),
        Err(ApiKeyError::Malformed)
    ));
}

#[test]
fn expired_key_is_refused() {
    let (_dir, _store, keys) = fixture();
    // A key as `create` would sign it, expired in 1970.
    let claims = serde_json::json!({
        "jti": Id::generate().to_string(),
        "sub": "u1",
        "typ": "jac-scale/api-key",
        "iat": 0,
        "exp": 1,
    });
    let key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert!(matches!(keys.verify(&key), Err(ApiKeyError::Expired)));
}
