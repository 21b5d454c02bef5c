//! The contract every user and API key store keeps, written once and run against each
//! backend (SQLite, and MongoDB on a real wire-protocol server the tests start). A
//! backend's test module calls [`accounts_contract!`] with a function that makes fresh,
//! empty data.

use std::sync::Arc;

use auth::api_keys::{ApiKeyRecord, ApiKeyStore};
use auth::{UserRecord, UserStore};
use graph::Id;
use graph::store::StoreError;

/// Fresh account data for one test; every handle reads and writes the same data, as
/// separate processes sharing it would.
pub(crate) trait AccountsData {
    type Store: UserStore + ApiKeyStore + 'static;
    /// A new handle on the data.
    fn handle(&self) -> Arc<Self::Store>;
}

/// One `#[test]` per contract case, for the backend whose fresh data `$fresh()` makes.
macro_rules! accounts_contract {
    ($fresh:expr) => {
        accounts_contract!(@cases $fresh();
            a_user_reads_back_by_identity_and_by_id,
            a_taken_identity_is_a_conflict,
            a_deleted_user_is_gone,
            an_api_key_reads_back_with_its_owners_root,
            a_users_keys_are_listed_oldest_first_and_only_theirs,
            a_taken_key_id_is_a_conflict,
            a_revoked_key_or_a_deleted_owner_ends_the_key,
            accounts_written_through_one_handle_are_read_through_another,
        );
    };
    (@cases $data:expr; $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                $crate::accounts_contract::$case(&$data)
            }
        )*
    };
}
pub(crate) use accounts_contract;

fn user(identity: &str) -> UserRecord {
    UserRecord {
        id: Id::generate().to_string(),
        identity: identity.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        root: Id::generate(),
        created_at: 1_700_000_000,
    }
}

fn key(owner: &UserRecord, name: &str, created_at: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: Id::generate().to_string(),
        user_id: owner.id.clone(),
        name: name.into(),
        key_hash: [name.len() as u8; 32],
        created_at,
        expires_at: Some(created_at + 3600),
    }
}

pub(crate) fn a_user_reads_back_by_identity_and_by_id(data: &impl AccountsData) {
    let store = data.handle();
    let ada = user("ada@example.com");
    store.insert_user(&ada).unwrap();
    assert_eq!(
        store.user_by_identity("ada@example.com").unwrap(),
        Some(ada.clone())
    );
    assert_eq!(store.user_by_id(&ada.id).unwrap(), Some(ada));
    assert_eq!(store.user_by_identity("bob@example.com").unwrap(), None);
    assert_eq!(store.user_by_id(&Id::generate().to_string()).unwrap(), None);
}

pub(crate) fn a_taken_identity_is_a_conflict(data: &impl AccountsData) {
    let store = data.handle();
    let first = user("ada@example.com");
    store.insert_user(&first).unwrap();
    let second = user("ada@example.com");
    assert!(matches!(
        store.insert_user(&second),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.user_by_id(&second.id).unwrap(), None);
    assert_eq!(
        store.user_by_identity("ada@example.com").unwrap(),
        Some(first)
    );
}

pub(crate) fn a_deleted_user_is_gone(data: &impl AccountsData) {
    let store = data.handle();
    let ada = user("ada@example.com");
    store.insert_user(&ada).unwrap();
    assert!(store.delete_user(&ada.id).unwrap());
    assert!(!store.delete_user(&ada.id).unwrap(), "deleted twice");
    assert_eq!(store.user_by_id(&ada.id).unwrap(), None);
    assert_eq!(store.user_by_identity("ada@example.com").unwrap(), None);
    // The identity is free again.
    store.insert_user(&user("ada@example.com")).unwrap();
}

pub(crate) fn an_api_key_reads_back_with_its_owners_root(data: &impl AccountsData) {
    let store = data.handle();
    let ada = user("ada@example.com");
    store.insert_user(&ada).unwrap();
    let mut never = key(&ada, "ci", 1_700_000_100);
    never.expires_at = None;
    let expiring = key(&ada, "deploy", 1_700_000_200);
    for key in [&never, &expiring] {
        store.insert_api_key(key).unwrap();
        let found = store.api_key(&key.id).unwrap().expect("the key");
        assert_eq!(&found.key, key);
        assert_eq!(found.owner_root, ada.root);
    }
    assert!(
        store
            .api_key(&Id::generate().to_string())
            .unwrap()
            .is_none()
    );
}

pub(crate) fn a_users_keys_are_listed_oldest_first_and_only_theirs(data: &impl AccountsData) {
    let store = data.handle();
    let (ada, bob) = (user("ada@example.com"), user("bob@example.com"));
    store.insert_user(&ada).unwrap();
    store.insert_user(&bob).unwrap();
    let newest = key(&ada, "newest", 1_700_000_300);
    let oldest = key(&ada, "oldest", 1_700_000_100);
    let bobs = key(&bob, "bobs", 1_700_000_200);
    for key in [&newest, &bobs, &oldest] {
        store.insert_api_key(key).unwrap();
    }
    assert_eq!(store.api_keys_of(&ada.id).unwrap(), vec![oldest, newest]);
    assert_eq!(store.api_keys_of(&bob.id).unwrap(), vec![bobs]);
    assert!(
        store
            .api_keys_of(&Id::generate().to_string())
            .unwrap()
            .is_empty()
    );
}

pub(crate) fn a_taken_key_id_is_a_conflict(data: &impl AccountsData) {
    let store = data.handle();
    let ada = user("ada@example.com");
    store.insert_user(&ada).unwrap();
    let first = key(&ada, "first", 1_700_000_100);
    store.insert_api_key(&first).unwrap();
    let again = ApiKeyRecord {
        name: "again".into(),
        ..first.clone()
    };
    assert!(matches!(
        store.insert_api_key(&again),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.api_key(&first.id).unwrap().unwrap().key, first);
}

pub(crate) fn a_revoked_key_or_a_deleted_owner_ends_the_key(data: &impl AccountsData) {
    let store = data.handle();
    let ada = user("ada@example.com");
    store.insert_user(&ada).unwrap();
    let revoked = key(&ada, "revoked", 1_700_000_100);
    let orphaned = key(&ada, "orphaned", 1_700_000_200);
    store.insert_api_key(&revoked).unwrap();
    store.insert_api_key(&orphaned).unwrap();

    assert!(store.delete_api_key(&revoked.id).unwrap());
    assert!(!store.delete_api_key(&revoked.id).unwrap(), "revoked twice");
    assert!(store.api_key(&revoked.id).unwrap().is_none());
    assert_eq!(store.api_keys_of(&ada.id).unwrap(), vec![orphaned.clone()]);

    store.delete_user(&ada.id).unwrap();
    assert!(
        store.api_key(&orphaned.id).unwrap().is_none(),
        "a key outlived its owner"
    );
}

pub(crate) fn accounts_written_through_one_handle_are_read_through_another(
    data: &impl AccountsData,
) {
    let (writer, reader) = (data.handle(), data.handle());
    let ada = user("ada@example.com");
    writer.insert_user(&ada).unwrap();
    let ci = key(&ada, "ci", 1_700_000_100);
    writer.insert_api_key(&ci).unwrap();
    assert_eq!(
        reader.user_by_identity("ada@example.com").unwrap(),
        Some(ada.clone())
    );
    assert_eq!(
        reader.api_key(&ci.id).unwrap().unwrap().owner_root,
        ada.root
    );
    assert!(matches!(
        reader.insert_user(&user("ada@example.com")),
        Err(StoreError::Conflict(_))
    ));
}
