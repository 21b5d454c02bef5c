//! [`AnchorRecords`] on SQLite: whole anchors with all their access entries, as the cache
//! tier keeps them, and the store's identity (a random id kept in `meta`).

use rusqlite::{Connection, Row, params};

use super::SqliteStore;
use super::graph::{INCOMING, OUTGOING, corrupt, fields_at, id_at, version_at};
use crate::records::{AdjacencyRow, AnchorRecords, EdgeRecord, NodeRecord};
use graph::store::StoreError;
use graph::{AccessLevel, Id};

impl SqliteStore {
    /// The store's random identity, created on first use.
    pub(super) fn load_store_id(conn: &Connection) -> Result<String, StoreError> {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('store_id', ?1) ON CONFLICT DO NOTHING",
            [Id::generate().to_bytes()],
        )?;
        let bytes: [u8; 16] =
            conn.query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |row| {
                row.get(0)
            })?;
        Ok(Id::from_bytes(bytes).to_string())
    }
}

impl AnchorRecords for SqliteStore {
    fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.store_id.clone())
    }

    fn node_records(&self, ids: &[Id]) -> Result<Vec<Option<NodeRecord>>, StoreError> {
        self.read(|conn| {
            let mut select = conn.prepare_cached(
                "SELECT archetype, fields, owner, access_all, version FROM nodes WHERE id = ?1",
            )?;
            ids.iter()
                .map(|&id| {
                    let mut rows = select.query([id.to_bytes()])?;
                    let Some(row) = rows.next()? else {
                        return Ok(None);
                    };
                    Ok(Some(NodeRecord {
                        id,
                        archetype: row.get(0)?,
                        fields: fields_at(row, 1)?,
                        owner: id_at(row, 2)?,
                        all: level(row.get(3)?)?,
                        roots: access_entries(conn, id)?,
                        version: version_at(row, 4)?,
                    }))
                })
                .collect()
        })
    }

    fn edge_records(&self, ids: &[Id]) -> Result<Vec<Option<EdgeRecord>>, StoreError> {
        self.read(|conn| {
            let mut select = conn.prepare_cached(
                "SELECT archetype, fields, owner, access_all, source, target, undirected, \
                 version FROM edges WHERE id = ?1",
            )?;
            ids.iter()
                .map(|&id| {
                    let mut rows = select.query([id.to_bytes()])?;
                    let Some(row) = rows.next()? else {
                        return Ok(None);
                    };
                    Ok(Some(EdgeRecord {
                        id,
                        archetype: row.get(0)?,
                        fields: fields_at(row, 1)?,
                        owner: id_at(row, 2)?,
                        all: level(row.get(3)?)?,
                        roots: access_entries(conn, id)?,
                        source: id_at(row, 4)?,
                        target: id_at(row, 5)?,
                        undirected: row.get(6)?,
                        version: version_at(row, 7)?,
                    }))
                })
                .collect()
        })
    }

    fn adjacency(&self, node: Id, after: u64, limit: u32) -> Result<Vec<AdjacencyRow>, StoreError> {
        self.read(|conn| {
            let mut select = conn.prepare_cached(
                "SELECT a.seq, e.id, a.other, a.directions FROM adjacency a \
                 JOIN edges e ON e.seq = a.seq \
                 WHERE a.node = ?1 AND a.seq > ?2 ORDER BY a.seq LIMIT ?3",
            )?;
            let mut rows = select.query(params![
                node.to_bytes(),
                i64::try_from(after).unwrap_or(i64::MAX),
                limit
            ])?;
            let mut adjacency = Vec::new();
            while let Some(row) = rows.next()? {
                let directions: i64 = row.get(3)?;
                adjacency.push(AdjacencyRow {
                    seq: seq_at(row, 0)?,
                    edge: id_at(row, 1)?,
                    other: id_at(row, 2)?,
                    outgoing: directions & OUTGOING != 0,
                    incoming: directions & INCOMING != 0,
                });
            }
            Ok(adjacency)
        })
    }
}

/// Every per-root entry of an anchor.
fn access_entries(conn: &Connection, anchor: Id) -> Result<Vec<(Id, AccessLevel)>, StoreError> {
    let mut select = conn.prepare_cached("SELECT root, level FROM access WHERE anchor = ?1")?;
    let mut rows = select.query([anchor.to_bytes()])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push((id_at(row, 0)?, level(row.get(1)?)?));
    }
    Ok(entries)
}

fn level(value: i64) -> Result<AccessLevel, StoreError> {
    AccessLevel::from_value(value).ok_or_else(|| corrupt(&format!("access level {value}")))
}

fn seq_at(row: &Row<'_>, index: usize) -> Result<u64, StoreError> {
    let seq: i64 = row.get(index)?;
    u64::try_from(seq).map_err(|_| corrupt("negative edge position"))
}
