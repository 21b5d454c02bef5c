//! The SQLite schema and its migrations, tracked in `PRAGMA user_version`.
//!
//! Tables:
//! - `nodes`: one row per node; a node that owns itself is a root (indexed by `nodes_roots`);
//!   `version` counts the replacements of its fields (`graph::store::VersionCheck`).
//! - `edges`: one row per edge; `seq` (the rowid) is the insertion order; `version` as for
//!   nodes.
//! - `adjacency`: one row per (node, incident edge), keyed `(node, seq)`, so listing a
//!   node's neighbours is one ordered index range and adding an edge never rewrites a list.
//!   `directions` says which ways the edge is followed from `node` (bit 1 outgoing,
//!   bit 2 incoming; undirected edges and self-loops have both). Each row also keeps the
//!   edge's archetype and the other node's archetype and owner, so `adjacency_by_owner`
//!   counts neighbours without reading a node (`count_neighbors`).
//! - `multi_edges`: the (node, other) pairs joined by more than one edge, the only
//!   places where counting distinct neighbours must look closer.
//! - `access`: per-root access entries of nodes and edges (`allow_root`).
//! - `users`: accounts; `identity` is unique.
//! - `meta`: singletons such as the guest root's id.
//! - `api_keys`: webhook API keys (id, owner, name, dates, SHA-256 of the key).
//!
//! Ids are 16-byte big-endian blobs; access levels are their Jac numbers (-1..=2).

use rusqlite::{Connection, TransactionBehavior};

use graph::store::StoreError;

/// Each entry upgrades the schema by one version; append, never edit.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE nodes (
        id BLOB PRIMARY KEY,
        archetype TEXT NOT NULL,
        fields TEXT NOT NULL,
        owner BLOB NOT NULL,
        access_all INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX nodes_roots ON nodes (id) WHERE owner = id;

    CREATE TABLE edges (
        seq INTEGER PRIMARY KEY,
        id BLOB NOT NULL UNIQUE,
        archetype TEXT NOT NULL,
        fields TEXT NOT NULL,
        owner BLOB NOT NULL,
        access_all INTEGER NOT NULL,
        source BLOB NOT NULL,
        target BLOB NOT NULL,
        undirected INTEGER NOT NULL
    );

    CREATE TABLE adjacency (
        node BLOB NOT NULL,
        seq INTEGER NOT NULL,
        directions INTEGER NOT NULL,
        other BLOB NOT NULL,
        PRIMARY KEY (node, seq)
    ) WITHOUT ROWID;

    CREATE TABLE access (
        anchor BLOB NOT NULL,
        root BLOB NOT NULL,
        level INTEGER NOT NULL,
        PRIMARY KEY (anchor, root)
    ) WITHOUT ROWID;

    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        identity TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        root BLOB NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // 2: webhook API keys.
    "
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        key_hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at);
    ",
    // 3: versions of fields (optimistic concurrency); existing anchors start at 0.
    "
    ALTER TABLE nodes ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE edges ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ",
    // 4: what a neighbour count filters on, kept with each adjacency row (an edge's and a
    // node's archetype and a node's owner never change), and an index that counts a node's
    // neighbours by owner without reading a node.
    "
    ALTER TABLE adjacency ADD COLUMN edge_archetype TEXT NOT NULL DEFAULT '';
    ALTER TABLE adjacency ADD COLUMN other_archetype TEXT NOT NULL DEFAULT '';
    ALTER TABLE adjacency ADD COLUMN other_owner BLOB NOT NULL DEFAULT x'';
    UPDATE adjacency SET
        edge_archetype = COALESCE((SELECT archetype FROM edges e WHERE e.seq = adjacency.seq), ''),
        other_archetype = COALESCE((SELECT archetype FROM nodes n WHERE n.id = adjacency.other), ''),
        other_owner = COALESCE((SELECT owner FROM nodes n WHERE n.id = adjacency.other), x'');
    CREATE INDEX adjacency_by_owner ON adjacency
        (node, other_owner, other, directions, other_archetype, edge_archetype);
    CREATE TABLE multi_edges (
        node BLOB NOT NULL,
        other BLOB NOT NULL,
        PRIMARY KEY (node, other)
    ) WITHOUT ROWID;
    INSERT INTO multi_edges (node, other)
        SELECT node, other FROM adjacency GROUP BY node, other HAVING COUNT(*) > 1;
    ",
];

/// Brings the database to the newest schema version, in one transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let current = MIGRATIONS.len() as i64;
    if version > current {
        return Err(StoreError::Corrupt(format!(
            "database schema version {version} is newer than this jac-scale knows ({current})"
        )));
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(None, "user_version", current)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteStore;
    use graph::Id;
    use graph::store::{AnchorKind, Changeset, FieldsUpdate, GraphStore, VersionCheck};

    #[test]
    fn a_database_from_before_versions_opens_and_its_anchors_start_at_version_0() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jac.db");
        let root = Id::generate();
        {
            let conn = Connection::open(&path).unwrap();
            for migration in &MIGRATIONS[..2] {
                conn.execute_batch(migration).unwrap();
            }
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute(
                "INSERT INTO nodes (id, archetype, fields, owner, access_all) \
                 VALUES (?1, 'Root', '{\"n\":1}', ?1, 0)",
                [root.to_bytes()],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let stored = store.node(root, root).unwrap().expect("the old node reads");
        assert_eq!(
            (stored.version, stored.node.fields["n"].clone()),
            (0, 1.into())
        );
        store
            .apply(Changeset {
                node_updates: vec![FieldsUpdate {
                    id: root,
                    fields: "{\"n\":2}".into(),
                }],
                checks: vec![VersionCheck {
                    anchor: root,
                    kind: AnchorKind::Node,
                    version: 0,
                }],
                ..Changeset::default()
            })
            .unwrap();
        assert_eq!(store.node(root, root).unwrap().unwrap().version, 1);
    }
}
