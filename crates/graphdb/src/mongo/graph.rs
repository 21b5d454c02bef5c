//! [`GraphStore`] and [`AnchorRecords`] on MongoDB: anchors as documents, reads answered
//! by `view` from records, each changeset one transaction.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::ReturnDocument;
use mongodb::{Client, ClientSession, Collection, Database};
use serde_json::{Map, Value};

use super::{MongoStore, binary, corrupt, id_in, is_duplicate_key, level_in};
use crate::records::{AdjacencyRow, AnchorRecords, EdgeRecord, NodeRecord};
use crate::view;
use graph::store::{
    AccessSpec, AdjacencyQuery, AnchorKind, Changeset, EdgeInsert, GraphStore, NodeInsert,
    StoreError, StoredEdge, StoredNeighbor, StoredNode,
};
use graph::{AccessFacts, AccessLevel, Id};

/// Attempts of one transaction before a transient error is given up on.
const MAX_ATTEMPTS: usize = 16;

/// The work of one transaction attempt: `Ok(Err(_))` refuses (see [`in_transaction`]).
type Transaction<'s, T> =
    Pin<Box<dyn Future<Output = Result<Result<T, StoreError>, mongodb::error::Error>> + Send + 's>>;

impl AnchorRecords for MongoStore {
    fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.store_id.clone())
    }

    fn node_records(&self, ids: &[Id]) -> Result<Vec<Option<NodeRecord>>, StoreError> {
        let (nodes, ids) = (self.nodes(), ids.to_vec());
        self.run(async move {
            let found = find_by_ids(&nodes, &ids).await?;
            ids.iter()
                .map(|id| found.get(id).map(node_record).transpose())
                .collect()
        })
    }

    fn edge_records(&self, ids: &[Id]) -> Result<Vec<Option<EdgeRecord>>, StoreError> {
        let (edges, ids) = (self.edges(), ids.to_vec());
        self.run(async move {
            let found = find_by_ids(&edges, &ids).await?;
            ids.iter()
                .map(|id| found.get(id).map(edge_record).transpose())
                .collect()
        })
    }

    fn adjacency(&self, node: Id, after: u64, limit: u32) -> Result<Vec<AdjacencyRow>, StoreError> {
        let edges = self.edges();
        self.run(async move {
            let filter = doc! {
                "$or": [{"source": binary(node)}, {"target": binary(node)}],
                "seq": {"$gt": i64::try_from(after).unwrap_or(i64::MAX)},
            };
            let mut cursor = edges
                .find(filter)
                .sort(doc! {"seq": 1})
                .limit(i64::from(limit))
                .await?;
            let mut rows = Vec::new();
            while cursor.advance().await? {
                let edge = edge_record(&cursor.deserialize_current()?)?;
                rows.push(AdjacencyRow::of(node, &edge));
            }
            Ok(rows)
        })
    }
}

impl GraphStore for MongoStore {
    fn ensure_guest_root(&self, candidate: &NodeInsert) -> Result<Id, StoreError> {
        let (client, db, candidate) = (self.client.clone(), self.db.clone(), candidate.clone());
        self.run(async move {
            let meta = db.collection::<Document>("meta");
            if let Some(found) = meta.find_one(doc! {"_id": "guest_root"}).await? {
                return id_in(&found, "value");
            }
            let created = in_transaction(&client, |session| {
                let (db, candidate) = (db.clone(), candidate.clone());
                Box::pin(async move {
                    db.collection::<Document>("nodes")
                        .insert_one(node_document(&candidate))
                        .session(&mut *session)
                        .await?;
                    db.collection::<Document>("meta")
                        .insert_one(doc! {"_id": "guest_root", "value": binary(candidate.id)})
                        .session(&mut *session)
                        .await?;
                    Ok(Ok(candidate.id))
                })
            })
            .await;
            match created {
                // Another process created it first.
                Err(StoreError::Conflict(_)) => {
                    let found = meta
                        .find_one(doc! {"_id": "guest_root"})
                        .await?
                        .ok_or_else(|| corrupt("the guest root vanished"))?;
                    id_in(&found, "value")
                }
                other => other,
            }
        })
    }

    fn node(&self, id: Id, viewer: Id) -> Result<Option<StoredNode>, StoreError> {
        view::node(self, id, viewer)
    }

    fn node_access(&self, id: Id, viewer: Id) -> Result<Option<AccessFacts>, StoreError> {
        view::node_access(self, id, viewer)
    }

    fn edge(&self, id: Id, viewer: Id) -> Result<Option<StoredEdge>, StoreError> {
        view::edge(self, id, viewer)
    }

    fn neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<Vec<StoredNeighbor>, StoreError> {
        view::neighbors(self, query)
    }

    fn roots(
        &self,
        viewer: Id,
        after: Option<Id>,
        limit: u32,
    ) -> Result<Vec<StoredNode>, StoreError> {
        let nodes = self.nodes();
        self.run(async move {
            let mut filter = doc! {"root": true};
            if let Some(after) = after {
                filter.insert("_id", doc! {"$gt": binary(after)});
            }
            let mut cursor = nodes
                .find(filter)
                .sort(doc! {"_id": 1})
                .limit(i64::from(limit))
                .await?;
            let mut roots = Vec::new();
            while cursor.advance().await? {
                let record = node_record(&cursor.deserialize_current()?)?;
                let owner = record.clone();
                roots.push(view::stored_node(record, Some(&owner), viewer));
            }
            Ok(roots)
        })
    }

    fn apply(&self, changes: Changeset) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let (client, db, changes) = (self.client.clone(), self.db.clone(), Arc::new(changes));
        self.run(async move {
            in_transaction(&client, |session| {
                let (db, changes) = (db.clone(), Arc::clone(&changes));
                Box::pin(async move { apply_changes(&db, session, &changes).await })
            })
            .await
        })
    }
}

/// Runs `body` in a transaction, retrying transient failures. `body` answers
/// `Ok(Err(_))` to refuse (the transaction is aborted and the refusal returned); a
/// duplicate key is a [`StoreError::Conflict`].
async fn in_transaction<T>(
    client: &Client,
    mut body: impl for<'s> FnMut(&'s mut ClientSession) -> Transaction<'s, T>,
) -> Result<T, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut session = client.start_session().await?;
        session.start_transaction().await?;
        let error = match body(&mut session).await {
            Ok(Ok(value)) => match commit(&mut session).await {
                Ok(()) => return Ok(value),
                Err(error) => error,
            },
            Ok(Err(refused)) => {
                let _ = session.abort_transaction().await;
                return Err(refused);
            }
            Err(error) => {
                let _ = session.abort_transaction().await;
                error
            }
        };
        if is_duplicate_key(&error) {
            return Err(StoreError::Conflict(error.to_string()));
        }
        if !error.contains_label(TRANSIENT_TRANSACTION_ERROR) || attempt >= MAX_ATTEMPTS {
            return Err(error.into());
        }
    }
}

/// Commits, retrying while the outcome is unknown (the driver's documented pattern).
async fn commit(session: &mut ClientSession) -> Result<(), mongodb::error::Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match session.commit_transaction().await {
            Err(error)
                if error.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                    && attempt < MAX_ATTEMPTS => {}
            other => return other,
        }
    }
}

/// Applies one changeset inside the session's transaction, in the documented order.
async fn apply_changes(
    db: &Database,
    session: &mut ClientSession,
    changes: &Changeset,
) -> Result<Result<(), StoreError>, mongodb::error::Error> {
    let nodes = db.collection::<Document>("nodes");
    let edges = db.collection::<Document>("edges");
    if !changes.new_nodes.is_empty() {
        let documents = changes.new_nodes.iter().map(node_document);
        nodes.insert_many(documents).session(&mut *session).await?;
    }
    if !changes.new_edges.is_empty() {
        let created: HashSet<Id> = changes.new_nodes.iter().map(|node| node.id).collect();
        let ends: HashSet<Id> = changes
            .new_edges
            .iter()
            .flat_map(|edge| [edge.source, edge.target])
            .filter(|end| !created.contains(end))
            .collect();
        if !ends.is_empty() {
            let wanted: Vec<Bson> = ends.iter().map(|&id| binary(id)).collect();
            let present = nodes
                .count_documents(doc! {"_id": {"$in": wanted}})
                .session(&mut *session)
                .await?;
            if present != ends.len() as u64 {
                return Ok(Err(StoreError::Conflict(
                    "an edge's end node was deleted meanwhile".into(),
                )));
            }
        }
        let count = changes.new_edges.len() as i64;
        let counter = db
            .collection::<Document>("counters")
            .find_one_and_update(doc! {"_id": "edge_seq"}, doc! {"$inc": {"value": count}})
            .upsert(true)
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await?
            .ok_or_else(|| mongodb::error::Error::custom("the edge counter vanished"))?;
        let last = counter
            .get_i64("value")
            .map_err(mongodb::error::Error::custom)?;
        let documents = changes
            .new_edges
            .iter()
            .zip(last - count + 1..)
            .map(|(edge, seq)| edge_document(edge, seq));
        edges.insert_many(documents).session(&mut *session).await?;
    }
    for (collection, updates, kind) in [
        (&nodes, &changes.node_updates, "node"),
        (&edges, &changes.edge_updates, "edge"),
    ] {
        for update in updates {
            let result = collection
                .update_one(
                    doc! {"_id": binary(update.id)},
                    doc! {"$set": {"fields": &update.fields}},
                )
                .session(&mut *session)
                .await?;
            if result.matched_count == 0 {
                return Ok(Err(gone(kind, update.id)));
            }
        }
    }
    for update in &changes.access_updates {
        let (collection, kind) = match update.kind {
            AnchorKind::Node => (&nodes, "node"),
            AnchorKind::Edge => (&edges, "edge"),
        };
        let filter = doc! {"_id": binary(update.anchor)};
        let Some(found) = collection
            .find_one(filter.clone())
            .session(&mut *session)
            .await?
        else {
            return Ok(Err(gone(kind, update.anchor)));
        };
        let mut entries: HashMap<Id, AccessLevel> = match access_entries(&found) {
            Ok(entries) => entries.into_iter().collect(),
            Err(error) => return Ok(Err(error)),
        };
        for &(root, level) in &update.roots {
            match level {
                Some(level) => entries.insert(root, level),
                None => entries.remove(&root),
            };
        }
        let mut set = doc! {"roots": entries_bson(entries)};
        if let Some(all) = update.all {
            set.insert("all", i32::from(all.value()));
        }
        collection
            .update_one(filter, doc! {"$set": set})
            .session(&mut *session)
            .await?;
    }
    if !changes.deleted_edges.is_empty() {
        let ids: Vec<Bson> = changes.deleted_edges.iter().map(|&id| binary(id)).collect();
        edges
            .delete_many(doc! {"_id": {"$in": ids}})
            .session(&mut *session)
            .await?;
    }
    if !changes.deleted_nodes.is_empty() {
        let ids: Vec<Bson> = changes.deleted_nodes.iter().map(|&id| binary(id)).collect();
        edges
            .delete_many(doc! {"$or": [{"source": {"$in": &ids}}, {"target": {"$in": &ids}}]})
            .session(&mut *session)
            .await?;
        nodes
            .delete_many(doc! {"_id": {"$in": ids}})
            .session(&mut *session)
            .await?;
    }
    Ok(Ok(()))
}

/// The documents with these ids, by id.
async fn find_by_ids(
    collection: &Collection<Document>,
    ids: &[Id],
) -> Result<HashMap<Id, Document>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let wanted: Vec<Bson> = ids.iter().map(|&id| binary(id)).collect();
    let mut cursor = collection.find(doc! {"_id": {"$in": wanted}}).await?;
    let mut found = HashMap::with_capacity(ids.len());
    while cursor.advance().await? {
        let document = cursor.deserialize_current()?;
        found.insert(id_in(&document, "_id")?, document);
    }
    Ok(found)
}

fn node_document(node: &NodeInsert) -> Document {
    doc! {
        "_id": binary(node.id),
        "archetype": &node.archetype,
        "fields": &node.fields,
        "owner": binary(node.owner),
        "root": node.owner == node.id,
        "all": i32::from(node.access.all.value()),
        "roots": spec_entries(&node.access),
    }
}

fn edge_document(edge: &EdgeInsert, seq: i64) -> Document {
    doc! {
        "_id": binary(edge.id),
        "seq": seq,
        "archetype": &edge.archetype,
        "fields": &edge.fields,
        "owner": binary(edge.owner),
        "all": i32::from(edge.access.all.value()),
        "roots": spec_entries(&edge.access),
        "source": binary(edge.source),
        "target": binary(edge.target),
        "undirected": edge.undirected,
    }
}

fn spec_entries(access: &AccessSpec) -> Bson {
    entries_bson(access.roots.iter().copied())
}

fn entries_bson(entries: impl IntoIterator<Item = (Id, AccessLevel)>) -> Bson {
    Bson::Array(
        entries
            .into_iter()
            .map(|(root, level)| {
                Bson::Document(doc! {"root": binary(root), "level": i32::from(level.value())})
            })
            .collect(),
    )
}

fn access_entries(document: &Document) -> Result<Vec<(Id, AccessLevel)>, StoreError> {
    let entries = document
        .get_array("roots")
        .map_err(|error| corrupt(&format!("roots: {error}")))?;
    entries
        .iter()
        .map(|entry| {
            let entry = entry
                .as_document()
                .ok_or_else(|| corrupt("an access entry is not a document"))?;
            Ok((id_in(entry, "root")?, level_in(entry, "level")?))
        })
        .collect()
}

fn fields_in(document: &Document) -> Result<Map<String, Value>, StoreError> {
    let text = document
        .get_str("fields")
        .map_err(|error| corrupt(&format!("fields: {error}")))?;
    serde_json::from_str(text).map_err(|error| corrupt(&format!("fields: {error}")))
}

fn text_in(document: &Document, key: &str) -> Result<String, StoreError> {
    document
        .get_str(key)
        .map(str::to_owned)
        .map_err(|error| corrupt(&format!("{key}: {error}")))
}

fn node_record(document: &Document) -> Result<NodeRecord, StoreError> {
    Ok(NodeRecord {
        id: id_in(document, "_id")?,
        archetype: text_in(document, "archetype")?,
        fields: fields_in(document)?,
        owner: id_in(document, "owner")?,
        all: level_in(document, "all")?,
        roots: access_entries(document)?,
    })
}

fn edge_record(document: &Document) -> Result<EdgeRecord, StoreError> {
    let seq = document
        .get_i64("seq")
        .map_err(|error| corrupt(&format!("seq: {error}")))?;
    Ok(EdgeRecord {
        id: id_in(document, "_id")?,
        seq: u64::try_from(seq).map_err(|_| corrupt("negative edge position"))?,
        archetype: text_in(document, "archetype")?,
        fields: fields_in(document)?,
        owner: id_in(document, "owner")?,
        all: level_in(document, "all")?,
        roots: access_entries(document)?,
        source: id_in(document, "source")?,
        target: id_in(document, "target")?,
        undirected: document
            .get_bool("undirected")
            .map_err(|error| corrupt(&format!("undirected: {error}")))?,
    })
}

fn gone(kind: &str, id: Id) -> StoreError {
    StoreError::Conflict(format!("{kind} {id} was deleted meanwhile"))
}
