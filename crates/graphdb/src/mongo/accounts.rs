//! [`UserStore`] and [`ApiKeyStore`] on MongoDB: `users` (unique `identity`) and
//! `api_keys`, next to the graph.

use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, Document, doc};

use super::{MongoStore, binary, corrupt, id_in, is_duplicate_key};
use auth::api_keys::{ApiKeyRecord, ApiKeyStore, ApiKeyWithOwner};
use auth::{UserRecord, UserStore};
use graph::store::StoreError;

impl MongoStore {
    fn users(&self) -> mongodb::Collection<Document> {
        self.db.collection("users")
    }

    fn api_keys(&self) -> mongodb::Collection<Document> {
        self.db.collection("api_keys")
    }
}

impl UserStore for MongoStore {
    fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let (users, user) = (self.users(), user.clone());
        self.run(async move {
            let document = doc! {
                "_id": &user.id,
                "identity": &user.identity,
                "password_hash": &user.password_hash,
                "root": binary(user.root),
                "created_at": user.created_at,
            };
            match users.insert_one(document).await {
                Err(error) if is_duplicate_key(&error) => Err(StoreError::Conflict(format!(
                    "identity {:?} is taken",
                    user.identity
                ))),
                other => other.map(drop).map_err(StoreError::from),
            }
        })
    }

    fn user_by_identity(&self, identity: &str) -> Result<Option<UserRecord>, StoreError> {
        let (users, identity) = (self.users(), identity.to_owned());
        self.run(async move {
            let found = users.find_one(doc! {"identity": identity}).await?;
            found.as_ref().map(user_record).transpose()
        })
    }

    fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let (users, id) = (self.users(), id.to_owned());
        self.run(async move {
            let found = users.find_one(doc! {"_id": id}).await?;
            found.as_ref().map(user_record).transpose()
        })
    }

    fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        let (users, id) = (self.users(), id.to_owned());
        self.run(async move { Ok(users.delete_one(doc! {"_id": id}).await?.deleted_count > 0) })
    }
}

impl ApiKeyStore for MongoStore {
    fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let (keys, key) = (self.api_keys(), key.clone());
        self.run(async move {
            let document = doc! {
                "_id": &key.id,
                "user_id": &key.user_id,
                "name": &key.name,
                "key_hash": Bson::Binary(Binary {
                    subtype: BinarySubtype::Generic,
                    bytes: key.key_hash.to_vec(),
                }),
                "created_at": key.created_at,
                "expires_at": key.expires_at,
            };
            match keys.insert_one(document).await {
                Err(error) if is_duplicate_key(&error) => {
                    Err(StoreError::Conflict(format!("api key {} exists", key.id)))
                }
                other => other.map(drop).map_err(StoreError::from),
            }
        })
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyWithOwner>, StoreError> {
        let (keys, users, id) = (self.api_keys(), self.users(), id.to_owned());
        self.run(async move {
            let Some(found) = keys.find_one(doc! {"_id": id}).await? else {
                return Ok(None);
            };
            let key = key_record(&found)?;
            let Some(owner) = users.find_one(doc! {"_id": &key.user_id}).await? else {
                return Ok(None);
            };
            Ok(Some(ApiKeyWithOwner {
                owner_root: id_in(&owner, "root")?,
                key,
            }))
        })
    }

    fn api_keys_of(&self, user_id: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let (keys, user_id) = (self.api_keys(), user_id.to_owned());
        self.run(async move {
            let mut cursor = keys
                .find(doc! {"user_id": user_id})
                .sort(doc! {"created_at": 1, "_id": 1})
                .await?;
            let mut records = Vec::new();
            while cursor.advance().await? {
                records.push(key_record(&cursor.deserialize_current()?)?);
            }
            Ok(records)
        })
    }

    fn delete_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let (keys, id) = (self.api_keys(), id.to_owned());
        self.run(async move { Ok(keys.delete_one(doc! {"_id": id}).await?.deleted_count > 0) })
    }
}

fn text(document: &Document, key: &str) -> Result<String, StoreError> {
    document
        .get_str(key)
        .map(str::to_owned)
        .map_err(|error| corrupt(&format!("{key}: {error}")))
}

fn integer(document: &Document, key: &str) -> Result<i64, StoreError> {
    document
        .get_i64(key)
        .map_err(|error| corrupt(&format!("{key}: {error}")))
}

fn user_record(document: &Document) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: text(document, "_id")?,
        identity: text(document, "identity")?,
        password_hash: text(document, "password_hash")?,
        root: id_in(document, "root")?,
        created_at: integer(document, "created_at")?,
    })
}

fn key_record(document: &Document) -> Result<ApiKeyRecord, StoreError> {
    let hash = document
        .get_binary_generic("key_hash")
        .map_err(|error| corrupt(&format!("key_hash: {error}")))?;
    Ok(ApiKeyRecord {
        id: text(document, "_id")?,
        user_id: text(document, "user_id")?,
        name: text(document, "name")?,
        key_hash: hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("key_hash is not 32 bytes"))?,
        created_at: integer(document, "created_at")?,
        expires_at: match document.get("expires_at") {
            None | Some(Bson::Null) => None,
            Some(_) => Some(integer(document, "expires_at")?),
        },
    })
}
