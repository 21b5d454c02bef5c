//! The viewer-specific reads of [`graph::store::GraphStore`], computed from viewer-independent
//! [`AnchorRecords`]: the same answers the SQLite store gives with its joins. Used by
//! every backend that keeps records rather than SQL rows (the cache tier, MongoDB).

use std::collections::{HashMap, HashSet};

use super::records::{AnchorRecords, EdgeRecord, NodeRecord, entry_for};
use graph::store::{
    AdjacencyQuery, AdjacencyTally, StoreError, StoredEdge, StoredNeighbor, StoredNode,
};
use graph::{AccessFacts, AccessLevel, Edge, Id, NeighborCount, Node, SharedFacts};

/// Adjacency rows read per batch when the filters drop rows.
const MIN_ADJACENCY_BATCH: u32 = 64;
/// Adjacency rows read per batch while counting.
const COUNT_BATCH: u32 = 1_000;

/// `viewer`'s facts on an anchor, given its owner's record (`None` when the owner is gone).
fn facts(
    owner: Id,
    all: AccessLevel,
    roots: &[(Id, AccessLevel)],
    owner_record: Option<&NodeRecord>,
    viewer: Id,
) -> AccessFacts {
    AccessFacts {
        owner,
        all,
        viewer_entry: entry_for(roots, viewer),
        owner_all: owner_record.map_or_else(AccessLevel::default, |owner| owner.all),
        owner_viewer_entry: owner_record.and_then(|owner| owner.entry_for(viewer)),
    }
}

/// A node record with its owner's record (itself for a root).
fn node_with_owner(
    records: &impl AnchorRecords,
    id: Id,
) -> Result<Option<(NodeRecord, Option<NodeRecord>)>, StoreError> {
    let Some(node) = records.node_records(&[id])?.pop().flatten() else {
        return Ok(None);
    };
    let owner = if node.owner == id {
        Some(node.clone())
    } else {
        records.node_records(&[node.owner])?.pop().flatten()
    };
    Ok(Some((node, owner)))
}

/// [`graph::store::GraphStore::node`] from records.
pub fn node(
    records: &impl AnchorRecords,
    id: Id,
    viewer: Id,
) -> Result<Option<StoredNode>, StoreError> {
    Ok(
        node_with_owner(records, id)?
            .map(|(node, owner)| stored_node(node, owner.as_ref(), viewer)),
    )
}

/// [`graph::store::GraphStore::node_access`] from records.
pub fn node_access(
    records: &impl AnchorRecords,
    id: Id,
    viewer: Id,
) -> Result<Option<AccessFacts>, StoreError> {
    Ok(node_with_owner(records, id)?
        .map(|(node, owner)| facts(node.owner, node.all, &node.roots, owner.as_ref(), viewer)))
}

/// [`graph::store::GraphStore::edge`] from records. An edge whose end is gone is gone too (a
/// record cached before a node deletion must not outlive it).
pub fn edge(
    records: &impl AnchorRecords,
    id: Id,
    viewer: Id,
) -> Result<Option<StoredEdge>, StoreError> {
    let Some(edge) = records.edge_records(&[id])?.pop().flatten() else {
        return Ok(None);
    };
    let mut related = records
        .node_records(&[edge.owner, edge.source, edge.target])?
        .into_iter();
    let (owner, source, target) = (related.next(), related.next(), related.next());
    if source.flatten().is_none() || target.flatten().is_none() {
        return Ok(None);
    }
    let facts = facts(
        edge.owner,
        edge.all,
        &edge.roots,
        owner.flatten().as_ref(),
        viewer,
    );
    Ok(Some(StoredEdge {
        version: edge.version,
        edge: plain_edge(edge),
        access: facts,
    }))
}

/// [`graph::store::GraphStore::neighbors`] from records: adjacency rows in order, filtered by
/// direction and archetypes, each with its edge and its node (with the viewer's facts).
pub fn neighbors(
    records: &impl AnchorRecords,
    query: &AdjacencyQuery<'_>,
) -> Result<Vec<StoredNeighbor>, StoreError> {
    let limit = query.limit as usize;
    let mut found = Vec::with_capacity(limit.min(1024));
    let mut after = query.after;
    while found.len() < limit {
        let want = u32::try_from(limit - found.len())
            .unwrap_or(u32::MAX)
            .max(MIN_ADJACENCY_BATCH);
        let Some(batch) = read_batch(records, query, after, want)? else {
            break;
        };
        after = batch.last;
        for (seq, edge, node) in batch.matches {
            let owner = batch.owners.get(&node.owner);
            found.push(StoredNeighbor {
                seq,
                edge_version: edge.version,
                edge: plain_edge(edge),
                node: stored_node(node, owner, query.viewer),
            });
            if found.len() == limit {
                break;
            }
        }
        if batch.exhausted {
            break;
        }
    }
    Ok(found)
}

/// [`graph::store::GraphStore::count_neighbors`] from records: every adjacency row read
/// in batches of [`COUNT_BATCH`], with its edge and node records (the ids of the distinct
/// nodes are held while counting). Linear in the neighbourhood: for a backend without an
/// index to count by.
pub fn count_neighbors(
    records: &impl AnchorRecords,
    query: &AdjacencyQuery<'_>,
) -> Result<AdjacencyTally, StoreError> {
    let mut owned = NeighborCount::default();
    let mut shared: HashMap<SharedFacts, NeighborCount> = HashMap::new();
    let mut reached = HashSet::new();
    let mut after = 0;
    while let Some(batch) = read_batch(records, query, after, COUNT_BATCH)? {
        after = batch.last;
        for (_, _, node) in batch.matches {
            let owner = batch.owners.get(&node.owner);
            let facts = facts(node.owner, node.all, &node.roots, owner, query.viewer);
            let group = if facts.owner == query.viewer {
                &mut owned
            } else {
                shared.entry(facts.shared()).or_default()
            };
            group.edges += 1;
            group.nodes += u64::from(reached.insert(node.id));
        }
        if batch.exhausted {
            break;
        }
    }
    Ok(AdjacencyTally {
        owned,
        shared: shared.into_iter().collect(),
    })
}

/// One batch of a node's adjacency rows: those the query's direction and archetypes
/// match, with their positions, edge and node records, and the nodes' owners.
struct Batch {
    matches: Vec<(u64, EdgeRecord, NodeRecord)>,
    owners: HashMap<Id, NodeRecord>,
    /// The position of the batch's last row, matching or not.
    last: u64,
    /// No rows come after it.
    exhausted: bool,
}

/// Up to `want` rows after position `after`; `None` when there are none.
fn read_batch(
    records: &impl AnchorRecords,
    query: &AdjacencyQuery<'_>,
    after: u64,
    want: u32,
) -> Result<Option<Batch>, StoreError> {
    let rows = records.adjacency(query.origin, after, want)?;
    let exhausted = rows.len() < want as usize;
    let Some(last) = rows.last().map(|row| row.seq) else {
        return Ok(None);
    };
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|row| row.follows(query.direction))
        .collect();
    let edge_ids: Vec<Id> = rows.iter().map(|row| row.edge).collect();
    let node_ids: Vec<Id> = rows.iter().map(|row| row.other).collect();
    let edges = records.edge_records(&edge_ids)?;
    let nodes = records.node_records(&node_ids)?;
    let owners = owners_of(records, &nodes)?;
    let matches = rows
        .iter()
        .zip(edges)
        .zip(nodes)
        .filter_map(|((row, edge), node)| {
            let (edge, node) = (edge?, node?);
            (matches(query.edge_types, &edge.archetype)
                && matches(query.node_types, &node.archetype))
            .then_some((row.seq, edge, node))
        })
        .collect();
    Ok(Some(Batch {
        matches,
        owners,
        last,
        exhausted,
    }))
}

/// The owner records of `nodes`, by id, read in one batch (roots are their own owners).
fn owners_of(
    records: &impl AnchorRecords,
    nodes: &[Option<NodeRecord>],
) -> Result<HashMap<Id, NodeRecord>, StoreError> {
    let mut owners: HashMap<Id, NodeRecord> = HashMap::new();
    let mut missing = Vec::new();
    for node in nodes.iter().flatten() {
        if node.owner == node.id {
            owners.insert(node.id, node.clone());
        }
    }
    for node in nodes.iter().flatten() {
        if !owners.contains_key(&node.owner) && !missing.contains(&node.owner) {
            missing.push(node.owner);
        }
    }
    if !missing.is_empty() {
        for owner in records.node_records(&missing)?.into_iter().flatten() {
            owners.insert(owner.id, owner);
        }
    }
    Ok(owners)
}

fn matches(types: &[String], archetype: &str) -> bool {
    types.is_empty() || types.iter().any(|t| t == archetype)
}

pub(super) fn stored_node(node: NodeRecord, owner: Option<&NodeRecord>, viewer: Id) -> StoredNode {
    let access = facts(node.owner, node.all, &node.roots, owner, viewer);
    StoredNode {
        node: Node {
            id: node.id,
            archetype: node.archetype,
            fields: node.fields,
        },
        access,
        version: node.version,
    }
}

fn plain_edge(edge: EdgeRecord) -> Edge {
    Edge {
        id: edge.id,
        archetype: edge.archetype,
        fields: edge.fields,
        source: edge.source,
        target: edge.target,
        undirected: edge.undirected,
    }
}
