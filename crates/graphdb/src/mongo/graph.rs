//! [`GraphStore`] and [`AnchorRecords`] on MongoDB: anchors as documents, reads answered
//! by `view` from records, each changeset one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{ErrorKind, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
use mongodb::options::ReturnDocument;
use mongodb::{Client, ClientSession, Collection, Database};
use rand::Rng;
use serde_json::{Map, Value};

use super::{MongoStore, binary, corrupt, id_in, is_duplicate_key, level_in};
use crate::records::{AdjacencyRow, AnchorRecords, EdgeRecord, NodeRecord, changed};
use crate::view;
use graph::store::{
    AccessSpec, AdjacencyQuery, AdjacencyTally, AnchorKind, Changeset, EdgeInsert, GraphStore,
    NodeInsert, StoreError, StoredEdge, StoredNeighbor, StoredNode, VersionCheck,
};
use graph::{AccessFacts, AccessLevel, Id};

/// How long a transaction keeps being retried after transient errors (write conflicts
/// of concurrent commits on the same documents, an unknown commit outcome) before the
/// error is returned. Well inside the default call timeout (30 s); a busy node's writers
/// queue up here, each commit taking one turn.
const RETRY_BUDGET: Duration = Duration::from_secs(20);
/// The first backoff after a transient error; it doubles per attempt up to [`MAX_BACKOFF`],
/// and each wait is drawn at random below it (full jitter), so writers that collided
/// spread out instead of colliding again.
const FIRST_BACKOFF: Duration = Duration::from_millis(2);
const MAX_BACKOFF: Duration = Duration::from_millis(250);

/// The node field counting the edge positions given out at the node (see the module doc
/// of `mongo`).
const LAST_EDGE_POSITION: &str = "last_edge_pos";
/// The anchor field counting the replacements of its fields (`VersionCheck`).
const VERSION: &str = "version";

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
            // The node's edges are those it is the source of and those it is the target
            // of, each side numbered by the node's own positions: merge the two pages.
            let mut rows = BTreeMap::new();
            for (end, position) in [("source", "source_pos"), ("target", "target_pos")] {
                let filter = doc! {
                    end: binary(node),
                    position: {"$gt": i64::try_from(after).unwrap_or(i64::MAX)},
                };
                let mut cursor = edges
                    .find(filter)
                    .sort(doc! {position: 1})
                    .limit(i64::from(limit))
                    .await?;
                while cursor.advance().await? {
                    let document = cursor.deserialize_current()?;
                    let seq = position_in(&document, position)?;
                    let edge = edge_record(&document)?;
                    // A self-loop is found from both sides, at the same position.
                    rows.insert(seq, AdjacencyRow::of(node, seq, &edge));
                }
            }
            Ok(rows.into_values().take(limit as usize).collect())
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
                        .insert_one(node_document(&candidate, 0))
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

    fn count_neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<AdjacencyTally, StoreError> {
        view::count_neighbors(self, query)
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

/// Runs `body` in a transaction, retrying it on a `TransientTransactionError` (and its
/// commit on an `UnknownTransactionCommitResult`) with jittered backoff for up to
/// [`RETRY_BUDGET`], as the drivers' `with_transaction` does. `body` answers `Ok(Err(_))`
/// to refuse (the transaction is aborted and the refusal returned); a duplicate key is a
/// [`StoreError::Conflict`].
async fn in_transaction<T>(
    client: &Client,
    mut body: impl for<'s> FnMut(&'s mut ClientSession) -> Transaction<'s, T>,
) -> Result<T, StoreError> {
    let mut backoff = Backoff::new();
    loop {
        let mut session = client.start_session().await?;
        session.start_transaction().await?;
        let error = match body(&mut session).await {
            Ok(Ok(value)) => match commit(&mut session, &mut backoff).await {
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
        // No server to select (MongoDB is down): waiting again would only delay the 503.
        let unreachable = matches!(*error.kind, ErrorKind::ServerSelection { .. });
        if unreachable
            || !error.contains_label(TRANSIENT_TRANSACTION_ERROR)
            || !backoff.wait().await
        {
            return Err(error.into());
        }
    }
}

/// Commits, retrying while the outcome is unknown (committing again is safe: the server
/// answers a repeated commit of a committed transaction with success).
async fn commit(
    session: &mut ClientSession,
    backoff: &mut Backoff,
) -> Result<(), mongodb::error::Error> {
    loop {
        match session.commit_transaction().await {
            Err(error)
                if error.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                    && backoff.wait().await => {}
            other => return other,
        }
    }
}

/// Exponential backoff with full jitter, until [`RETRY_BUDGET`] is spent.
struct Backoff {
    deadline: Instant,
    ceiling: Duration,
}

impl Backoff {
    fn new() -> Self {
        Self {
            deadline: Instant::now() + RETRY_BUDGET,
            ceiling: FIRST_BACKOFF,
        }
    }

    /// Sleeps before the next attempt; `false` (at once) when the budget is spent.
    async fn wait(&mut self) -> bool {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let pause = rand::rng().random_range(Duration::ZERO..=self.ceiling.min(left));
        self.ceiling = (self.ceiling * 2).min(MAX_BACKOFF);
        tokio::time::sleep(pause).await;
        true
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
    if let Err(refused) = check_versions(&nodes, &edges, session, &changes.checks).await? {
        return Ok(Err(refused));
    }
    let ends = ends_of(&changes.new_edges);
    if !changes.new_nodes.is_empty() {
        let documents = changes.new_nodes.iter().map(|node| {
            let given_out = ends.get(&node.id).copied().unwrap_or(0);
            node_document(node, given_out)
        });
        nodes.insert_many(documents).session(&mut *session).await?;
    }
    if !changes.new_edges.is_empty() {
        // The next free position at each end: a new node numbers from 1 (its counter was
        // inserted above already advanced); an existing one advances its counter here,
        // which also proves it still exists.
        let created: HashSet<Id> = changes.new_nodes.iter().map(|node| node.id).collect();
        let mut next: HashMap<Id, i64> = HashMap::with_capacity(ends.len());
        for (&end, &count) in &ends {
            if created.contains(&end) {
                next.insert(end, 1);
                continue;
            }
            let advanced = nodes
                .find_one_and_update(
                    doc! {"_id": binary(end)},
                    doc! {"$inc": {LAST_EDGE_POSITION: count}},
                )
                .return_document(ReturnDocument::After)
                .session(&mut *session)
                .await?;
            let Some(advanced) = advanced else {
                return Ok(Err(StoreError::Conflict(
                    "an edge's end node was deleted meanwhile".into(),
                )));
            };
            let last = match position_in(&advanced, LAST_EDGE_POSITION) {
                Ok(last) => last,
                Err(error) => return Ok(Err(error)),
            };
            next.insert(end, last as i64 - count + 1);
        }
        let mut take = |node: Id| {
            let position = next.get_mut(&node).expect("every end has a next position");
            *position += 1;
            *position - 1
        };
        let documents: Vec<Document> = changes
            .new_edges
            .iter()
            .map(|edge| {
                let source_position = take(edge.source);
                let target_position = if edge.target == edge.source {
                    source_position
                } else {
                    take(edge.target)
                };
                edge_document(edge, source_position, target_position)
            })
            .collect();
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
                    doc! {"$set": {"fields": &update.fields}, "$inc": {VERSION: 1_i64}},
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

/// `Ok(Err(_))` when a checked anchor exists at another version. Every checked anchor is
/// updated or deleted later in the same transaction, so a commit that changes it after
/// this read fails with a write conflict and the transaction runs again.
async fn check_versions(
    nodes: &Collection<Document>,
    edges: &Collection<Document>,
    session: &mut ClientSession,
    checks: &[VersionCheck],
) -> Result<Result<(), StoreError>, mongodb::error::Error> {
    for (collection, kind, name) in [
        (nodes, AnchorKind::Node, "node"),
        (edges, AnchorKind::Edge, "edge"),
    ] {
        let wanted: HashMap<Id, u64> = checks
            .iter()
            .filter(|check| check.kind == kind)
            .map(|check| (check.anchor, check.version))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let ids: Vec<Bson> = wanted.keys().map(|&id| binary(id)).collect();
        let mut cursor = collection
            .find(doc! {"_id": {"$in": ids}})
            .projection(doc! {VERSION: 1})
            .session(&mut *session)
            .await?;
        while cursor.advance(&mut *session).await? {
            let document = cursor.deserialize_current()?;
            let (id, version) = match (id_in(&document, "_id"), version_in(&document)) {
                (Ok(id), Ok(version)) => (id, version),
                (Err(error), _) | (_, Err(error)) => return Ok(Err(error)),
            };
            if let Some(&read) = wanted.get(&id).filter(|&&read| read != version) {
                return Ok(Err(changed(name, id, read)));
            }
        }
    }
    Ok(Ok(()))
}

/// How many positions each node gets from `new_edges` (a self-loop takes one), in id
/// order, so concurrent commits advance shared counters in the same order.
fn ends_of(new_edges: &[EdgeInsert]) -> BTreeMap<Id, i64> {
    let mut ends = BTreeMap::new();
    for edge in new_edges {
        *ends.entry(edge.source).or_insert(0) += 1;
        if edge.target != edge.source {
            *ends.entry(edge.target).or_insert(0) += 1;
        }
    }
    ends
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

/// A new node's document; `positions_given_out` of its edge positions are taken by
/// edges created with it.
fn node_document(node: &NodeInsert, positions_given_out: i64) -> Document {
    doc! {
        "_id": binary(node.id),
        VERSION: 0_i64,
        LAST_EDGE_POSITION: positions_given_out,
        "archetype": &node.archetype,
        "fields": &node.fields,
        "owner": binary(node.owner),
        "root": node.owner == node.id,
        "all": i32::from(node.access.all.value()),
        "roots": spec_entries(&node.access),
    }
}

/// A new edge's document, with its positions among its source's and its target's edges.
fn edge_document(edge: &EdgeInsert, source_position: i64, target_position: i64) -> Document {
    doc! {
        "_id": binary(edge.id),
        VERSION: 0_i64,
        "source_pos": source_position,
        "target_pos": target_position,
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
        version: version_in(document)?,
    })
}

/// An anchor's version; documents written before versions existed have none (0).
fn version_in(document: &Document) -> Result<u64, StoreError> {
    let version = match document.get(VERSION) {
        None => 0,
        Some(Bson::Int64(version)) => *version,
        Some(Bson::Int32(version)) => i64::from(*version),
        Some(other) => return Err(corrupt(&format!("{VERSION}: {other}"))),
    };
    u64::try_from(version).map_err(|_| corrupt("negative version"))
}

/// The edge position at `key` of a document.
fn position_in(document: &Document, key: &str) -> Result<u64, StoreError> {
    let position = document
        .get_i64(key)
        .map_err(|error| corrupt(&format!("{key}: {error}")))?;
    u64::try_from(position).map_err(|_| corrupt("negative edge position"))
}

fn edge_record(document: &Document) -> Result<EdgeRecord, StoreError> {
    Ok(EdgeRecord {
        id: id_in(document, "_id")?,
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
        version: version_in(document)?,
    })
}

fn gone(kind: &str, id: Id) -> StoreError {
    StoreError::Conflict(format!("{kind} {id} was deleted meanwhile"))
}
