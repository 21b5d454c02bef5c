//! [`GraphStore`] on SQLite: anchor lookups with the viewer's access facts, ordered
//! adjacency pages, and changesets applied in one transaction.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::SqliteStore;
use crate::records::changed;
use graph::store::{
    AccessSpec, AccessUpdate, AdjacencyQuery, AdjacencyTally, AnchorKind, Changeset, EdgeInsert,
    GraphStore, NodeInsert, StoreError, StoredEdge, StoredNeighbor, StoredNode, VersionCheck,
};
use graph::{AccessFacts, AccessLevel, Direction, Edge, Id, NeighborCount, Node, SharedFacts};

/// `adjacency.directions` bit: the edge is followed outward from `node`.
pub(super) const OUTGOING: i64 = 1;
/// `adjacency.directions` bit: the edge is followed inward to `node`.
pub(super) const INCOMING: i64 = 2;

/// The five access-fact columns every anchor query selects (after its own columns), for
/// the anchor aliased `x` and the viewer bound as `?2`.
macro_rules! facts_columns {
    ($x:literal) => {
        concat!(
            $x,
            ".owner, ",
            $x,
            ".access_all, xa.level, o.access_all, oa.level ",
            "FROM ",
        )
    };
}

/// The joins that find the viewer's entries on anchor `x` and on its owner root.
macro_rules! facts_joins {
    ($x:literal) => {
        concat!(
            " LEFT JOIN access xa ON xa.anchor = ",
            $x,
            ".id AND xa.root = ?2",
            " LEFT JOIN nodes o ON o.id = ",
            $x,
            ".owner",
            " LEFT JOIN access oa ON oa.anchor = ",
            $x,
            ".owner AND oa.root = ?2 ",
        )
    };
}

const SELECT_NODE: &str = concat!(
    "SELECT n.archetype, n.fields, n.version, ",
    facts_columns!("n"),
    "nodes n",
    facts_joins!("n"),
    "WHERE n.id = ?1"
);

const SELECT_NODE_ACCESS: &str = concat!(
    "SELECT ",
    facts_columns!("n"),
    "nodes n",
    facts_joins!("n"),
    "WHERE n.id = ?1"
);

const SELECT_EDGE: &str = concat!(
    "SELECT e.archetype, e.fields, e.source, e.target, e.undirected, e.version, ",
    facts_columns!("e"),
    "edges e",
    facts_joins!("e"),
    "WHERE e.id = ?1"
);

const SELECT_NEIGHBORS: &str = concat!(
    "SELECT a.seq, e.id, e.archetype, e.fields, e.source, e.target, e.undirected, e.version, ",
    "n.id, n.archetype, n.fields, n.version, ",
    facts_columns!("n"),
    "adjacency a JOIN edges e ON e.seq = a.seq JOIN nodes n ON n.id = a.other",
    facts_joins!("n"),
    "WHERE a.node = ?1 AND a.seq > ?3 AND (a.directions & ?4) != 0",
    " AND (?5 IS NULL OR e.archetype IN (SELECT value FROM json_each(?5)))",
    " AND (?6 IS NULL OR n.archetype IN (SELECT value FROM json_each(?6)))",
    " ORDER BY a.seq LIMIT ?7"
);

/// The filters of a neighbour count on adjacency rows `a` (`?1` origin, `?2` viewer, `?3`
/// direction bits, `?4`/`?5` edge/node archetypes as JSON arrays or NULL).
macro_rules! count_filters {
    () => {
        concat!(
            " AND (a.directions & ?3) != 0",
            " AND (?4 IS NULL OR a.edge_archetype IN (SELECT value FROM json_each(?4)))",
            " AND (?5 IS NULL OR a.other_archetype IN (SELECT value FROM json_each(?5)))"
        )
    };
}

/// Each other node others own, once, with its number of matching rows (`k`).
macro_rules! shared_rows {
    ($owner:literal) => {
        concat!(
            "SELECT a.other, COUNT(*) AS k FROM adjacency a INDEXED BY adjacency_by_owner ",
            "WHERE a.node = ?1 AND a.other_owner ",
            $owner,
            " ?2",
            count_filters!(),
            " GROUP BY a.other_owner, a.other"
        )
    };
}

/// The rows to nodes the viewer (`?2`) owns, and how many of them lead to a node an
/// earlier row led to already (only pairs in `multi_edges` can): one index range, no node
/// read.
const COUNT_OWNED_NEIGHBORS: &str = concat!(
    "SELECT (SELECT COUNT(*) FROM adjacency a INDEXED BY adjacency_by_owner ",
    "WHERE a.node = ?1 AND a.other_owner = ?2",
    count_filters!(),
    "), (SELECT COALESCE(SUM(k - 1), 0) FROM (SELECT COUNT(*) AS k FROM multi_edges m ",
    "JOIN adjacency a INDEXED BY adjacency_by_owner ",
    "ON a.node = m.node AND a.other_owner = ?2 AND a.other = m.other WHERE m.node = ?1",
    count_filters!(),
    " GROUP BY m.other))"
);

/// The rows to nodes others own, by the viewer's shared facts on the node.
const COUNT_SHARED_NEIGHBORS: &str = concat!(
    "SELECT n.access_all, xa.level, o.access_all, oa.level, SUM(r.k), COUNT(*) FROM (",
    shared_rows!("<"),
    " UNION ALL ",
    shared_rows!(">"),
    ") r JOIN nodes n ON n.id = r.other",
    facts_joins!("n"),
    "GROUP BY 1, 2, 3, 4"
);

/// Roots own themselves, so their owner facts are their own (`o`/`oa` alias `n`/`xa`).
const SELECT_ROOTS: &str = "SELECT n.id, n.archetype, n.fields, n.version, \
     n.owner, n.access_all, xa.level, n.access_all, xa.level \
     FROM nodes n LEFT JOIN access xa ON xa.anchor = n.id AND xa.root = ?1 \
     WHERE n.owner = n.id AND n.id > ?2 ORDER BY n.id LIMIT ?3";

impl GraphStore for SqliteStore {
    fn ensure_guest_root(&self, candidate: &NodeInsert) -> Result<Id, StoreError> {
        self.write(|tx| {
            let existing: Option<[u8; 16]> = tx
                .prepare_cached("SELECT value FROM meta WHERE key = 'guest_root'")?
                .query_row([], |row| row.get(0))
                .optional()?;
            if let Some(bytes) = existing {
                return Ok(Id::from_bytes(bytes));
            }
            insert_node(tx, candidate)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('guest_root', ?1)",
                [candidate.id.to_bytes()],
            )?;
            Ok(candidate.id)
        })
    }

    fn node(&self, id: Id, viewer: Id) -> Result<Option<StoredNode>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(SELECT_NODE)?;
            let mut rows = statement.query(params![id.to_bytes(), viewer.to_bytes()])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let node = Node {
                id,
                archetype: row.get(0)?,
                fields: fields_at(row, 1)?,
            };
            Ok(Some(StoredNode {
                node,
                version: version_at(row, 2)?,
                access: facts_at(row, 3)?,
            }))
        })
    }

    fn node_access(&self, id: Id, viewer: Id) -> Result<Option<AccessFacts>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(SELECT_NODE_ACCESS)?;
            let mut rows = statement.query(params![id.to_bytes(), viewer.to_bytes()])?;
            rows.next()?.map(|row| facts_at(row, 0)).transpose()
        })
    }

    fn edge(&self, id: Id, viewer: Id) -> Result<Option<StoredEdge>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(SELECT_EDGE)?;
            let mut rows = statement.query(params![id.to_bytes(), viewer.to_bytes()])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let edge = Edge {
                id,
                archetype: row.get(0)?,
                fields: fields_at(row, 1)?,
                source: id_at(row, 2)?,
                target: id_at(row, 3)?,
                undirected: row.get(4)?,
            };
            Ok(Some(StoredEdge {
                edge,
                version: version_at(row, 5)?,
                access: facts_at(row, 6)?,
            }))
        })
    }

    fn neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<Vec<StoredNeighbor>, StoreError> {
        let directions = direction_bits(query.direction);
        let edge_types = type_filter(query.edge_types);
        let node_types = type_filter(query.node_types);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(SELECT_NEIGHBORS)?;
            let mut rows = statement.query(params![
                query.origin.to_bytes(),
                query.viewer.to_bytes(),
                i64::try_from(query.after).unwrap_or(i64::MAX),
                directions,
                edge_types,
                node_types,
                query.limit,
            ])?;
            let mut neighbors = Vec::new();
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                let edge = Edge {
                    id: id_at(row, 1)?,
                    archetype: row.get(2)?,
                    fields: fields_at(row, 3)?,
                    source: id_at(row, 4)?,
                    target: id_at(row, 5)?,
                    undirected: row.get(6)?,
                };
                let node = Node {
                    id: id_at(row, 8)?,
                    archetype: row.get(9)?,
                    fields: fields_at(row, 10)?,
                };
                neighbors.push(StoredNeighbor {
                    seq: u64::try_from(seq).map_err(|_| corrupt("negative edge position"))?,
                    edge,
                    edge_version: version_at(row, 7)?,
                    node: StoredNode {
                        node,
                        version: version_at(row, 11)?,
                        access: facts_at(row, 12)?,
                    },
                });
            }
            Ok(neighbors)
        })
    }

    fn count_neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<AdjacencyTally, StoreError> {
        let edge_types = type_filter(query.edge_types);
        let node_types = type_filter(query.node_types);
        let arguments = params![
            query.origin.to_bytes(),
            query.viewer.to_bytes(),
            direction_bits(query.direction),
            edge_types,
            node_types,
        ];
        self.read(|conn| {
            let (edges, repeats): (i64, i64) = conn
                .prepare_cached(COUNT_OWNED_NEIGHBORS)?
                .query_row(arguments, |row| Ok((row.get(0)?, row.get(1)?)))?;
            let mut tally = AdjacencyTally {
                owned: neighbor_count((edges, edges - repeats))?,
                shared: Vec::new(),
            };
            let mut statement = conn.prepare_cached(COUNT_SHARED_NEIGHBORS)?;
            let mut rows = statement.query(arguments)?;
            while let Some(row) = rows.next()? {
                let facts = SharedFacts {
                    all: level_at(row, 0)?.unwrap_or_default(),
                    viewer_entry: level_at(row, 1)?,
                    owner_all: level_at(row, 2)?.unwrap_or_default(),
                    owner_viewer_entry: level_at(row, 3)?,
                };
                tally
                    .shared
                    .push((facts, neighbor_count((row.get(4)?, row.get(5)?))?));
            }
            Ok(tally)
        })
    }

    fn roots(
        &self,
        viewer: Id,
        after: Option<Id>,
        limit: u32,
    ) -> Result<Vec<StoredNode>, StoreError> {
        // Every 16-byte id sorts after the empty blob.
        let after = after.map_or_else(Vec::new, |id| id.to_bytes().to_vec());
        self.read(|conn| {
            let mut statement = conn.prepare_cached(SELECT_ROOTS)?;
            let mut rows = statement.query(params![viewer.to_bytes(), after, limit])?;
            let mut roots = Vec::new();
            while let Some(row) = rows.next()? {
                let node = Node {
                    id: id_at(row, 0)?,
                    archetype: row.get(1)?,
                    fields: fields_at(row, 2)?,
                };
                roots.push(StoredNode {
                    node,
                    version: version_at(row, 3)?,
                    access: facts_at(row, 4)?,
                });
            }
            Ok(roots)
        })
    }

    fn apply(&self, changes: Changeset) -> Result<(), StoreError> {
        self.apply_grouped(changes, apply_changes)
    }
}

/// Applies one changeset in the open transaction, in the documented order.
fn apply_changes(conn: &Connection, changes: &Changeset) -> Result<(), StoreError> {
    for check in &changes.checks {
        check_version(conn, check)?;
    }
    let mut existing: HashSet<Id> = changes.new_nodes.iter().map(|node| node.id).collect();
    for node in &changes.new_nodes {
        insert_node(conn, node)?;
    }
    for edge in &changes.new_edges {
        for end in [edge.source, edge.target] {
            if !existing.contains(&end) {
                if !node_exists(conn, end)? {
                    return Err(gone("node", end));
                }
                existing.insert(end);
            }
        }
        insert_edge(conn, edge)?;
    }
    for update in &changes.node_updates {
        let mut statement = conn
            .prepare_cached("UPDATE nodes SET fields = ?2, version = version + 1 WHERE id = ?1")?;
        if statement.execute(params![update.id.to_bytes(), update.fields])? == 0 {
            return Err(gone("node", update.id));
        }
    }
    for update in &changes.edge_updates {
        let mut statement = conn
            .prepare_cached("UPDATE edges SET fields = ?2, version = version + 1 WHERE id = ?1")?;
        if statement.execute(params![update.id.to_bytes(), update.fields])? == 0 {
            return Err(gone("edge", update.id));
        }
    }
    for update in &changes.access_updates {
        update_access(conn, update)?;
    }
    for &edge in &changes.deleted_edges {
        delete_edge(conn, edge)?;
    }
    for &node in &changes.deleted_nodes {
        delete_node(conn, node)?;
    }
    Ok(())
}

fn insert_node(conn: &Connection, node: &NodeInsert) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO nodes (id, archetype, fields, owner, access_all) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        node.id.to_bytes(),
        node.archetype,
        node.fields,
        node.owner.to_bytes(),
        node.access.all.value(),
    ])?;
    insert_access_entries(conn, node.id, &node.access)
}

fn insert_edge(conn: &Connection, edge: &EdgeInsert) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO edges (id, archetype, fields, owner, access_all, source, target, undirected) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        edge.id.to_bytes(),
        edge.archetype,
        edge.fields,
        edge.owner.to_bytes(),
        edge.access.all.value(),
        edge.source.to_bytes(),
        edge.target.to_bytes(),
        edge.undirected,
    ])?;
    let seq = conn.last_insert_rowid();
    // The other node's archetype and owner come from its row (inserted before any edge).
    let mut adjacency = conn.prepare_cached(
        "INSERT INTO adjacency \
         (node, seq, directions, other, edge_archetype, other_archetype, other_owner) \
         SELECT ?1, ?2, ?3, ?4, ?5, archetype, owner FROM nodes WHERE id = ?4",
    )?;
    let mut add_row = |node: Id, directions: i64, other: Id| {
        adjacency.execute(params![
            node.to_bytes(),
            seq,
            directions,
            other.to_bytes(),
            edge.archetype
        ])
    };
    let both = OUTGOING | INCOMING;
    if edge.source == edge.target {
        add_row(edge.source, both, edge.target)?;
        note_multi_edges(conn, edge.source, edge.target)?;
    } else {
        let (from_source, from_target) = if edge.undirected {
            (both, both)
        } else {
            (OUTGOING, INCOMING)
        };
        add_row(edge.source, from_source, edge.target)?;
        add_row(edge.target, from_target, edge.source)?;
        note_multi_edges(conn, edge.source, edge.target)?;
        note_multi_edges(conn, edge.target, edge.source)?;
    }
    insert_access_entries(conn, edge.id, &edge.access)
}

/// Records `(node, other)` in `multi_edges` when more than one edge joins them now.
fn note_multi_edges(conn: &Connection, node: Id, other: Id) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO multi_edges (node, other) \
         SELECT a.node, a.other FROM adjacency a INDEXED BY adjacency_by_owner \
         WHERE a.node = ?1 AND a.other_owner = (SELECT owner FROM nodes WHERE id = ?2) \
         AND a.other = ?2 GROUP BY a.node, a.other HAVING COUNT(*) > 1",
    )?
    .execute(params![node.to_bytes(), other.to_bytes()])?;
    Ok(())
}

/// Drops `(node, other)` from `multi_edges` once at most one edge joins them.
fn forget_multi_edges(conn: &Connection, node: &[u8], other: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM multi_edges WHERE node = ?1 AND other = ?2 AND \
         (SELECT COUNT(*) FROM adjacency a INDEXED BY adjacency_by_owner WHERE a.node = ?1 \
         AND a.other_owner = (SELECT owner FROM nodes WHERE id = ?2) AND a.other = ?2) < 2",
    )?
    .execute(params![node, other])?;
    Ok(())
}

fn insert_access_entries(
    conn: &Connection,
    anchor: Id,
    access: &AccessSpec,
) -> Result<(), StoreError> {
    for &(root, level) in &access.roots {
        set_access_entry(conn, anchor, root, Some(level))?;
    }
    Ok(())
}

/// Sets (`Some`) or removes (`None`) one root's entry on an anchor.
fn set_access_entry(
    conn: &Connection,
    anchor: Id,
    root: Id,
    level: Option<AccessLevel>,
) -> Result<(), StoreError> {
    match level {
        Some(level) => conn
            .prepare_cached(
                "INSERT INTO access (anchor, root, level) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (anchor, root) DO UPDATE SET level = excluded.level",
            )?
            .execute(params![anchor.to_bytes(), root.to_bytes(), level.value()])?,
        None => conn
            .prepare_cached("DELETE FROM access WHERE anchor = ?1 AND root = ?2")?
            .execute(params![anchor.to_bytes(), root.to_bytes()])?,
    };
    Ok(())
}

fn update_access(conn: &Connection, update: &AccessUpdate) -> Result<(), StoreError> {
    let (table, kind) = match update.kind {
        AnchorKind::Node => ("nodes", "node"),
        AnchorKind::Edge => ("edges", "edge"),
    };
    let exists = match update.all {
        Some(all) => {
            let sql = format!("UPDATE {table} SET access_all = ?2 WHERE id = ?1");
            conn.prepare_cached(&sql)?
                .execute(params![update.anchor.to_bytes(), all.value()])?
                > 0
        }
        None => {
            let sql = format!("SELECT 1 FROM {table} WHERE id = ?1");
            conn.prepare_cached(&sql)?
                .exists([update.anchor.to_bytes()])?
        }
    };
    if !exists {
        return Err(gone(kind, update.anchor));
    }
    for &(root, level) in &update.roots {
        set_access_entry(conn, update.anchor, root, level)?;
    }
    Ok(())
}

/// `Conflict` when the checked anchor exists at another version.
fn check_version(conn: &Connection, check: &VersionCheck) -> Result<(), StoreError> {
    let (sql, kind) = match check.kind {
        AnchorKind::Node => ("SELECT version FROM nodes WHERE id = ?1", "node"),
        AnchorKind::Edge => ("SELECT version FROM edges WHERE id = ?1", "edge"),
    };
    let current: Option<i64> = conn
        .prepare_cached(sql)?
        .query_row([check.anchor.to_bytes()], |row| row.get(0))
        .optional()?;
    match current {
        Some(current) if u64::try_from(current).ok() != Some(check.version) => {
            Err(changed(kind, check.anchor, check.version))
        }
        _ => Ok(()),
    }
}

fn node_exists(conn: &Connection, id: Id) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM nodes WHERE id = ?1")?
        .exists([id.to_bytes()])?)
}

/// Deletes an edge, its adjacency rows and its access entries (nothing if already gone).
fn delete_edge(conn: &Connection, id: Id) -> Result<(), StoreError> {
    let deleted: Option<(i64, [u8; 16], [u8; 16])> = conn
        .prepare_cached("DELETE FROM edges WHERE id = ?1 RETURNING seq, source, target")?
        .query_row([id.to_bytes()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let Some((seq, source, target)) = deleted else {
        return Ok(());
    };
    let mut adjacency =
        conn.prepare_cached("DELETE FROM adjacency WHERE node = ?1 AND seq = ?2")?;
    adjacency.execute(params![source, seq])?;
    adjacency.execute(params![target, seq])?;
    forget_multi_edges(conn, &source, &target)?;
    forget_multi_edges(conn, &target, &source)?;
    delete_access_entries(conn, id)
}

/// Deletes a node with every edge touching it and all their access entries.
fn delete_node(conn: &Connection, id: Id) -> Result<(), StoreError> {
    let incident: Vec<(i64, [u8; 16])> = conn
        .prepare_cached("SELECT seq, other FROM adjacency WHERE node = ?1")?
        .query_map([id.to_bytes()], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (seq, other) in incident {
        let edge: Option<[u8; 16]> = conn
            .prepare_cached("DELETE FROM edges WHERE seq = ?1 RETURNING id")?
            .query_row([seq], |row| row.get(0))
            .optional()?;
        if let Some(edge) = edge {
            delete_access_entries(conn, Id::from_bytes(edge))?;
        }
        conn.prepare_cached("DELETE FROM adjacency WHERE node = ?1 AND seq = ?2")?
            .execute(params![other, seq])?;
        // Every edge between the two goes.
        conn.prepare_cached("DELETE FROM multi_edges WHERE node = ?1 AND other = ?2")?
            .execute(params![other, id.to_bytes()])?;
    }
    conn.prepare_cached("DELETE FROM adjacency WHERE node = ?1")?
        .execute([id.to_bytes()])?;
    conn.prepare_cached("DELETE FROM multi_edges WHERE node = ?1")?
        .execute([id.to_bytes()])?;
    delete_access_entries(conn, id)?;
    conn.prepare_cached("DELETE FROM nodes WHERE id = ?1")?
        .execute([id.to_bytes()])?;
    Ok(())
}

fn delete_access_entries(conn: &Connection, anchor: Id) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM access WHERE anchor = ?1")?
        .execute([anchor.to_bytes()])?;
    Ok(())
}

/// The `adjacency.directions` bits a direction follows.
fn direction_bits(direction: Direction) -> i64 {
    match direction {
        Direction::Outgoing => OUTGOING,
        Direction::Incoming => INCOMING,
        Direction::Any => OUTGOING | INCOMING,
    }
}

/// Edges and distinct nodes as SQLite counted them.
fn neighbor_count((edges, nodes): (i64, i64)) -> Result<NeighborCount, StoreError> {
    let count = |n: i64| u64::try_from(n).map_err(|_| corrupt("negative count"));
    Ok(NeighborCount {
        edges: count(edges)?,
        nodes: count(nodes)?,
    })
}

/// A type filter as a JSON array bound to `json_each`, or NULL for "any".
fn type_filter(types: &[String]) -> Option<String> {
    (!types.is_empty()).then(|| Value::from(types).to_string())
}

pub(super) fn id_at(row: &Row<'_>, index: usize) -> Result<Id, StoreError> {
    Ok(Id::from_bytes(row.get(index)?))
}

pub(super) fn version_at(row: &Row<'_>, index: usize) -> Result<u64, StoreError> {
    let version: i64 = row.get(index)?;
    u64::try_from(version).map_err(|_| corrupt("negative version"))
}

pub(super) fn fields_at(row: &Row<'_>, index: usize) -> Result<Map<String, Value>, StoreError> {
    let text = row
        .get_ref(index)?
        .as_str()
        .map_err(|_| corrupt("fields are not text"))?;
    serde_json::from_str(text).map_err(|error| corrupt(&format!("fields: {error}")))
}

fn level_at(row: &Row<'_>, index: usize) -> Result<Option<AccessLevel>, StoreError> {
    row.get::<_, Option<i64>>(index)?
        .map(|value| {
            AccessLevel::from_value(value).ok_or_else(|| corrupt(&format!("access level {value}")))
        })
        .transpose()
}

/// The five access-fact columns starting at `index` (see `facts_columns!`).
fn facts_at(row: &Row<'_>, index: usize) -> Result<AccessFacts, StoreError> {
    Ok(AccessFacts {
        owner: id_at(row, index)?,
        all: level_at(row, index + 1)?.unwrap_or_default(),
        viewer_entry: level_at(row, index + 2)?,
        owner_all: level_at(row, index + 3)?.unwrap_or_default(),
        owner_viewer_entry: level_at(row, index + 4)?,
    })
}

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn gone(kind: &str, id: Id) -> StoreError {
    StoreError::Conflict(format!("{kind} {id} was deleted meanwhile"))
}
