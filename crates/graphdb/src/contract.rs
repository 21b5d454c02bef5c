//! The contract every graph store keeps, written once and run against each backend:
//! SQLite, the cache tier (SQLite + a real Redis) and MongoDB (a real wire-protocol
//! server); the tests start the servers (`test-services`). A backend's test module calls
//! [`graph_contract!`] with a function that makes fresh, empty data.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use graph::store::{
    AccessSpec, AccessUpdate, AdjacencyQuery, AdjacencyTally, AnchorKind, Changeset, EdgeInsert,
    FieldsUpdate, GraphStore, NodeInsert, StoreError, VersionCheck,
};
use graph::{AccessLevel, Direction, Id, NeighborCount};

/// Fresh data for one test; every handle reads and writes the same data, as separate
/// processes sharing it would.
pub(crate) trait TestData {
    type Store: GraphStore + 'static;
    /// A new handle on the data.
    fn handle(&self) -> Arc<Self::Store>;
}

/// One `#[test]` per contract case, for the backend whose fresh data `$fresh()` makes.
macro_rules! graph_contract {
    ($fresh:expr) => {
        graph_contract!(@cases $fresh();
            guest_root_is_created_once,
            nodes_read_back_with_the_viewers_access_facts,
            updates_and_access_changes_are_read_back,
            neighbours_follow_insertion_order_directions_filters_and_pages,
            neighbour_counts_group_what_the_listing_shows,
            deleting_a_node_deletes_its_edges,
            a_conflict_rolls_back_the_whole_changeset,
            versions_count_field_changes_and_stale_checks_conflict,
            concurrent_commits_lose_no_edges,
            concurrent_checked_increments_lose_no_update,
            roots_are_listed_in_id_order,
            a_commit_through_one_handle_is_read_through_another,
        );
    };
    (@cases $data:expr; $($case:ident,)*) => {
        $(
            #[test]
            fn $case() {
                $crate::contract::$case(&$data)
            }
        )*
    };
}
pub(crate) use graph_contract;

fn fields(value: Value) -> String {
    value.to_string()
}

fn root(id: Id) -> NodeInsert {
    node_of(id, id, "Root", json!({}))
}

fn node_of(id: Id, owner: Id, archetype: &str, value: Value) -> NodeInsert {
    NodeInsert {
        id,
        archetype: archetype.into(),
        fields: fields(value),
        owner,
        access: AccessSpec::default(),
    }
}

fn edge_of(owner: Id, source: Id, target: Id, archetype: &str) -> EdgeInsert {
    EdgeInsert {
        id: Id::generate(),
        archetype: archetype.into(),
        fields: "{}".into(),
        owner,
        source,
        target,
        undirected: false,
        access: AccessSpec::default(),
    }
}

fn apply(store: &impl GraphStore, changes: Changeset) {
    store.apply(changes).expect("changeset applies");
}

fn query<'a>(origin: Id, viewer: Id, direction: Direction) -> AdjacencyQuery<'a> {
    AdjacencyQuery {
        origin,
        viewer,
        direction,
        edge_types: &[],
        node_types: &[],
        after: 0,
        limit: 10_000,
    }
}

/// Ids of the neighbour nodes `query` lists.
fn neighbour_ids(store: &impl GraphStore, query: &AdjacencyQuery<'_>) -> Vec<Id> {
    store
        .neighbors(query)
        .expect("neighbours")
        .into_iter()
        .map(|row| row.node.node.id)
        .collect()
}

/// A root with one `Todo` child; (root, child).
fn root_with_child(store: &impl GraphStore) -> (Id, Id) {
    let (owner, child) = (Id::generate(), Id::generate());
    apply(
        store,
        Changeset {
            new_nodes: vec![root(owner), node_of(child, owner, "Todo", json!({"n": 0}))],
            new_edges: vec![edge_of(owner, owner, child, "Has")],
            ..Changeset::default()
        },
    );
    (owner, child)
}

pub(crate) fn guest_root_is_created_once(data: &impl TestData) {
    let store = data.handle();
    let first = root(Id::generate());
    let id = store.ensure_guest_root(&first).unwrap();
    assert_eq!(id, first.id);
    assert_eq!(store.ensure_guest_root(&root(Id::generate())).unwrap(), id);
    assert_eq!(
        data.handle()
            .ensure_guest_root(&root(Id::generate()))
            .unwrap(),
        id
    );
    assert!(store.node(id, id).unwrap().is_some());
}

pub(crate) fn nodes_read_back_with_the_viewers_access_facts(data: &impl TestData) {
    let store = data.handle();
    let (owner, viewer, other) = (Id::generate(), Id::generate(), Id::generate());
    let note = Id::generate();
    let mut insert = node_of(note, owner, "Note", json!({"title": "hi", "n": [1, 2]}));
    insert.access = AccessSpec {
        all: AccessLevel::Read,
        roots: vec![(viewer, AccessLevel::Write)],
    };
    let mut owner_root = root(owner);
    owner_root.access.roots = vec![(other, AccessLevel::Connect)];
    apply(
        &*store,
        Changeset {
            new_nodes: vec![owner_root, insert],
            ..Changeset::default()
        },
    );
    let stored = store.node(note, viewer).unwrap().expect("node exists");
    assert_eq!(stored.node.archetype, "Note");
    assert_eq!(
        Value::Object(stored.node.fields),
        json!({"title": "hi", "n": [1, 2]})
    );
    assert_eq!(stored.access.owner, owner);
    assert_eq!(stored.access.all, AccessLevel::Read);
    assert_eq!(stored.access.viewer_entry, Some(AccessLevel::Write));
    assert_eq!(stored.access.owner_all, AccessLevel::NoAccess);
    assert_eq!(stored.access.owner_viewer_entry, None);
    let seen_by_other = store.node_access(note, other).unwrap().expect("facts");
    assert_eq!(seen_by_other.viewer_entry, None);
    assert_eq!(seen_by_other.owner_viewer_entry, Some(AccessLevel::Connect));
    assert_eq!(seen_by_other.level(note, other), AccessLevel::Connect);
    assert!(store.node(Id::generate(), viewer).unwrap().is_none());
    assert!(store.node_access(Id::generate(), viewer).unwrap().is_none());
    assert!(store.edge(Id::generate(), viewer).unwrap().is_none());
}

pub(crate) fn updates_and_access_changes_are_read_back(data: &impl TestData) {
    let store = data.handle();
    let (owner, child) = root_with_child(&*store);
    let viewer = Id::generate();
    let edge = store
        .neighbors(&query(owner, owner, Direction::Outgoing))
        .unwrap()[0]
        .edge
        .id;
    // Read first, so a cache holds the old values.
    assert!(store.node(child, viewer).unwrap().is_some());
    assert!(store.edge(edge, viewer).unwrap().is_some());
    apply(
        &*store,
        Changeset {
            node_updates: vec![FieldsUpdate {
                id: child,
                fields: fields(json!({"n": 1})),
            }],
            edge_updates: vec![FieldsUpdate {
                id: edge,
                fields: fields(json!({"w": 2})),
            }],
            access_updates: vec![
                AccessUpdate {
                    anchor: child,
                    kind: AnchorKind::Node,
                    all: Some(AccessLevel::Read),
                    roots: vec![(viewer, Some(AccessLevel::Write))],
                },
                AccessUpdate {
                    anchor: owner,
                    kind: AnchorKind::Node,
                    all: Some(AccessLevel::Connect),
                    roots: Vec::new(),
                },
                AccessUpdate {
                    anchor: edge,
                    kind: AnchorKind::Edge,
                    all: Some(AccessLevel::Write),
                    roots: Vec::new(),
                },
            ],
            ..Changeset::default()
        },
    );
    let stored = store.node(child, viewer).unwrap().unwrap();
    assert_eq!(Value::Object(stored.node.fields), json!({"n": 1}));
    assert_eq!(stored.access.all, AccessLevel::Read);
    assert_eq!(stored.access.viewer_entry, Some(AccessLevel::Write));
    assert_eq!(stored.access.owner_all, AccessLevel::Connect);
    let stored_edge = store.edge(edge, viewer).unwrap().unwrap();
    assert_eq!(Value::Object(stored_edge.edge.fields), json!({"w": 2}));
    assert_eq!(stored_edge.access.all, AccessLevel::Write);
    // Removing the entry again.
    apply(
        &*store,
        Changeset {
            access_updates: vec![AccessUpdate {
                anchor: child,
                kind: AnchorKind::Node,
                all: None,
                roots: vec![(viewer, None)],
            }],
            ..Changeset::default()
        },
    );
    let facts = store.node_access(child, viewer).unwrap().unwrap();
    assert_eq!(facts.viewer_entry, None);
}

pub(crate) fn neighbours_follow_insertion_order_directions_filters_and_pages(data: &impl TestData) {
    let store = data.handle();
    let owner = Id::generate();
    let children: Vec<Id> = (0..100).map(|_| Id::generate()).collect();
    let (other, peer) = (Id::generate(), Id::generate());
    let mut new_nodes = vec![root(owner), node_of(other, owner, "Other", json!({}))];
    new_nodes.push(node_of(peer, owner, "Todo", json!({})));
    let mut new_edges = Vec::new();
    for (n, &child) in children.iter().enumerate() {
        new_nodes.push(node_of(child, owner, "Todo", json!({"n": n})));
        new_edges.push(edge_of(owner, owner, child, "Has"));
    }
    new_edges.push(edge_of(owner, owner, other, "Likes"));
    new_edges.push(edge_of(owner, peer, owner, "Has"));
    let mut undirected = edge_of(owner, owner, peer, "Knows");
    undirected.undirected = true;
    new_edges.push(undirected);
    new_edges.push(edge_of(owner, owner, owner, "Self"));
    apply(
        &*store,
        Changeset {
            new_nodes,
            new_edges,
            ..Changeset::default()
        },
    );
    let has = ["Has".to_owned()];
    let todo = ["Todo".to_owned()];
    let outgoing_has = AdjacencyQuery {
        edge_types: &has,
        ..query(owner, owner, Direction::Outgoing)
    };
    assert_eq!(neighbour_ids(&*store, &outgoing_has), children);
    let all_out = neighbour_ids(&*store, &query(owner, owner, Direction::Outgoing));
    let mut expected = children.clone();
    expected.extend([other, peer, owner]);
    assert_eq!(all_out, expected);
    let incoming = neighbour_ids(&*store, &query(owner, owner, Direction::Incoming));
    assert_eq!(incoming, vec![peer, peer, owner]);
    let any_todo = AdjacencyQuery {
        node_types: &todo,
        ..query(owner, owner, Direction::Any)
    };
    let mut expected = children.clone();
    expected.extend([peer, peer]);
    assert_eq!(neighbour_ids(&*store, &any_todo), expected);
    // Pages: `after` is the last row's position.
    let first = store
        .neighbors(&AdjacencyQuery {
            limit: 30,
            ..outgoing_has
        })
        .unwrap();
    assert_eq!(first.len(), 30);
    let rest = neighbour_ids(
        &*store,
        &AdjacencyQuery {
            after: first[29].seq,
            ..outgoing_has
        },
    );
    assert_eq!(rest, children[30..]);
    // Seen from a child, the edge is incoming, and the owner's facts come along.
    let back = store
        .neighbors(&query(children[5], owner, Direction::Incoming))
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].node.node.id, owner);
    assert_eq!(back[0].edge.source, owner);
    assert_eq!(back[0].node.access.owner, owner);
}

/// The tally `count_neighbors` should give: the listing's rows, grouped as it groups them.
fn tally_of_listing(store: &impl GraphStore, query: &AdjacencyQuery<'_>) -> AdjacencyTally {
    let rows = store.neighbors(query).expect("neighbours");
    let mut tally = AdjacencyTally::default();
    let mut reached = HashSet::new();
    for row in rows {
        let facts = row.node.access;
        let first = reached.insert(row.node.node.id);
        let group = if facts.owner == query.viewer {
            &mut tally.owned
        } else {
            let shared = facts.shared();
            match tally.shared.iter().position(|(f, _)| *f == shared) {
                Some(at) => &mut tally.shared[at].1,
                None => {
                    tally.shared.push((shared, NeighborCount::default()));
                    &mut tally.shared.last_mut().expect("just pushed").1
                }
            }
        };
        group.edges += 1;
        group.nodes += u64::from(first);
    }
    tally
}

fn sorted(mut tally: AdjacencyTally) -> AdjacencyTally {
    tally.shared.sort_by_key(|(facts, _)| format!("{facts:?}"));
    tally
}

pub(crate) fn neighbour_counts_group_what_the_listing_shows(data: &impl TestData) {
    let store = data.handle();
    let (viewer, stranger) = (Id::generate(), Id::generate());
    let mine: Vec<Id> = (0..20).map(|_| Id::generate()).collect();
    let (open, closed, entry) = (Id::generate(), Id::generate(), Id::generate());
    let mut new_nodes = vec![root(viewer), root(stranger)];
    let mut new_edges = Vec::new();
    for &child in &mine {
        new_nodes.push(node_of(child, viewer, "Todo", json!({})));
        new_edges.push(edge_of(viewer, viewer, child, "Has"));
    }
    // Two edges to one node: two edges, one node.
    new_edges.push(edge_of(viewer, viewer, mine[0], "Likes"));
    let mut open_node = node_of(open, stranger, "Todo", json!({}));
    open_node.access.all = AccessLevel::Read;
    let mut entry_node = node_of(entry, stranger, "Other", json!({}));
    entry_node.access.roots = vec![(viewer, AccessLevel::Connect)];
    new_nodes.extend([
        open_node,
        node_of(closed, stranger, "Todo", json!({})),
        entry_node,
    ]);
    for other in [open, closed, entry, stranger] {
        new_edges.push(edge_of(stranger, viewer, other, "Has"));
    }
    new_edges.push(edge_of(stranger, stranger, viewer, "Follows"));
    apply(
        &*store,
        Changeset {
            new_nodes,
            new_edges,
            ..Changeset::default()
        },
    );
    let has = ["Has".to_owned()];
    let todo = ["Todo".to_owned()];
    let queries = [
        query(viewer, viewer, Direction::Outgoing),
        query(viewer, viewer, Direction::Incoming),
        query(viewer, viewer, Direction::Any),
        query(viewer, stranger, Direction::Outgoing),
        AdjacencyQuery {
            edge_types: &has,
            ..query(viewer, viewer, Direction::Outgoing)
        },
        AdjacencyQuery {
            node_types: &todo,
            ..query(viewer, viewer, Direction::Any)
        },
    ];
    for query in &queries {
        let counted = store.count_neighbors(query).expect("count");
        assert_eq!(
            sorted(counted),
            sorted(tally_of_listing(&*store, query)),
            "{query:?}"
        );
    }
    let all_out = store
        .count_neighbors(&query(viewer, viewer, Direction::Outgoing))
        .expect("count");
    assert_eq!(
        all_out.owned,
        NeighborCount {
            edges: 21,
            nodes: 20
        }
    );
    assert_eq!(
        all_out.shared.len(),
        3,
        "open, closed and entry differ: {all_out:?}"
    );
    // A deletion leaves the count at once.
    apply(
        &*store,
        Changeset {
            deleted_nodes: vec![mine[0]],
            ..Changeset::default()
        },
    );
    let after = store
        .count_neighbors(&query(viewer, viewer, Direction::Outgoing))
        .expect("count");
    assert_eq!(
        after.owned,
        NeighborCount {
            edges: 19,
            nodes: 19
        }
    );
}

pub(crate) fn deleting_a_node_deletes_its_edges(data: &impl TestData) {
    let store = data.handle();
    let (owner, child) = root_with_child(&*store);
    let edge = store
        .neighbors(&query(owner, owner, Direction::Any))
        .unwrap()[0]
        .edge
        .id;
    assert!(store.edge(edge, owner).unwrap().is_some());
    apply(
        &*store,
        Changeset {
            deleted_nodes: vec![child],
            ..Changeset::default()
        },
    );
    assert!(store.node(child, owner).unwrap().is_none());
    assert!(store.edge(edge, owner).unwrap().is_none());
    assert!(neighbour_ids(&*store, &query(owner, owner, Direction::Any)).is_empty());
    // Deleting what is already gone is not an error.
    apply(
        &*store,
        Changeset {
            deleted_nodes: vec![child],
            deleted_edges: vec![edge],
            ..Changeset::default()
        },
    );
    // Deleting an edge alone keeps both ends.
    let second = Id::generate();
    let link = edge_of(owner, owner, second, "Has");
    let link_id = link.id;
    apply(
        &*store,
        Changeset {
            new_nodes: vec![node_of(second, owner, "Todo", json!({}))],
            new_edges: vec![link],
            ..Changeset::default()
        },
    );
    assert_eq!(
        neighbour_ids(&*store, &query(owner, owner, Direction::Any)),
        vec![second]
    );
    apply(
        &*store,
        Changeset {
            deleted_edges: vec![link_id],
            ..Changeset::default()
        },
    );
    assert!(neighbour_ids(&*store, &query(owner, owner, Direction::Any)).is_empty());
    assert!(store.node(second, owner).unwrap().is_some());
}

pub(crate) fn a_conflict_rolls_back_the_whole_changeset(data: &impl TestData) {
    let store = data.handle();
    let (owner, _) = root_with_child(&*store);
    let fresh = Id::generate();
    let result = store.apply(Changeset {
        new_nodes: vec![node_of(fresh, owner, "Todo", json!({}))],
        new_edges: vec![edge_of(owner, owner, fresh, "Has")],
        node_updates: vec![FieldsUpdate {
            id: Id::generate(),
            fields: "{}".into(),
        }],
        ..Changeset::default()
    });
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(store.node(fresh, owner).unwrap().is_none());
    assert_eq!(
        neighbour_ids(&*store, &query(owner, owner, Direction::Any)).len(),
        1
    );
    let dangling = store.apply(Changeset {
        new_edges: vec![edge_of(owner, owner, Id::generate(), "Has")],
        ..Changeset::default()
    });
    assert!(
        matches!(dangling, Err(StoreError::Conflict(_))),
        "{dangling:?}"
    );
}

fn node_check(anchor: Id, version: u64) -> VersionCheck {
    VersionCheck {
        anchor,
        kind: AnchorKind::Node,
        version,
    }
}

/// A node's version and its field `n`, as `viewer` reads them.
fn counter(store: &impl GraphStore, id: Id, viewer: Id) -> (u64, i64) {
    let stored = store.node(id, viewer).unwrap().expect("the node exists");
    (stored.version, stored.node.fields["n"].as_i64().unwrap())
}

pub(crate) fn versions_count_field_changes_and_stale_checks_conflict(data: &impl TestData) {
    let store = data.handle();
    let (owner, child) = root_with_child(&*store);
    let (read, _) = counter(&*store, child, owner);
    let update = |n: i64, checked: u64| Changeset {
        node_updates: vec![FieldsUpdate {
            id: child,
            fields: fields(json!({"n": n})),
        }],
        checks: vec![node_check(child, checked)],
        ..Changeset::default()
    };
    apply(&*store, update(1, read));
    assert_eq!(counter(&*store, child, owner), (read + 1, 1));
    // An access change is no change of the fields.
    apply(
        &*store,
        Changeset {
            access_updates: vec![AccessUpdate {
                anchor: child,
                kind: AnchorKind::Node,
                all: Some(AccessLevel::Read),
                roots: Vec::new(),
            }],
            ..Changeset::default()
        },
    );
    // A writer that read the old version loses nothing of the newer one.
    let stale = store.apply(update(5, read));
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(counter(&*store, child, owner), (read + 1, 1));
    let stale_delete = store.apply(Changeset {
        deleted_nodes: vec![child],
        checks: vec![node_check(child, read)],
        ..Changeset::default()
    });
    assert!(
        matches!(stale_delete, Err(StoreError::Conflict(_))),
        "{stale_delete:?}"
    );
    // Edges are versioned too, and listed with their version.
    let row = store
        .neighbors(&query(owner, owner, Direction::Outgoing))
        .unwrap()
        .remove(0);
    assert_eq!(row.node.version, read + 1);
    let edge_update = |checked: u64| Changeset {
        edge_updates: vec![FieldsUpdate {
            id: row.edge.id,
            fields: fields(json!({"weight": 2})),
        }],
        checks: vec![VersionCheck {
            anchor: row.edge.id,
            kind: AnchorKind::Edge,
            version: checked,
        }],
        ..Changeset::default()
    };
    apply(&*store, edge_update(row.edge_version));
    let edge = store.edge(row.edge.id, owner).unwrap().unwrap();
    assert_eq!(edge.version, row.edge_version + 1);
    let stale_edge = store.apply(edge_update(row.edge_version));
    assert!(
        matches!(stale_edge, Err(StoreError::Conflict(_))),
        "{stale_edge:?}"
    );
    // The current version deletes; a check of something already gone does not fail.
    let delete = Changeset {
        deleted_nodes: vec![child],
        checks: vec![node_check(child, read + 1)],
        ..Changeset::default()
    };
    apply(&*store, delete.clone());
    apply(&*store, delete);
    assert!(store.node(child, owner).unwrap().is_none());
}

pub(crate) fn concurrent_checked_increments_lose_no_update(data: &impl TestData) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 10;
    let store = data.handle();
    let (owner, child) = root_with_child(&*store);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            // Each thread its own handle, as separate processes would have.
            let store = data.handle();
            scope.spawn(move || {
                for _ in 0..PER_THREAD {
                    // Read, add one, commit if nobody changed it meanwhile; else again.
                    loop {
                        let (version, n) = counter(&*store, child, owner);
                        let result = store.apply(Changeset {
                            node_updates: vec![FieldsUpdate {
                                id: child,
                                fields: fields(json!({"n": n + 1})),
                            }],
                            checks: vec![node_check(child, version)],
                            ..Changeset::default()
                        });
                        match result {
                            Ok(()) => break,
                            Err(StoreError::Conflict(_)) => {}
                            Err(error) => panic!("{error}"),
                        }
                    }
                }
            });
        }
    });
    let expected = (THREADS * PER_THREAD) as i64;
    let started = Instant::now();
    while counter(&*store, child, owner).1 != expected {
        assert!(
            started.elapsed() < PROPAGATION_DEADLINE,
            "{:?}",
            counter(&*store, child, owner)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

pub(crate) fn concurrent_commits_lose_no_edges(data: &impl TestData) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 25;
    let store = data.handle();
    let owner = Id::generate();
    apply(
        &*store,
        Changeset {
            new_nodes: vec![root(owner)],
            ..Changeset::default()
        },
    );
    let created: Vec<Id> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                // Each thread its own handle, as separate processes would have.
                let store = data.handle();
                scope.spawn(move || {
                    (0..PER_THREAD)
                        .map(|_| {
                            let child = Id::generate();
                            apply(
                                &*store,
                                Changeset {
                                    new_nodes: vec![node_of(child, owner, "Todo", json!({}))],
                                    new_edges: vec![edge_of(owner, owner, child, "Has")],
                                    ..Changeset::default()
                                },
                            );
                            // Read in between, so caches are filled and invalidated.
                            let _ = store.neighbors(&query(owner, owner, Direction::Outgoing));
                            child
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
    let rows = store
        .neighbors(&query(owner, owner, Direction::Outgoing))
        .unwrap();
    assert_eq!(rows.len(), THREADS * PER_THREAD);
    let mut listed: Vec<Id> = rows.iter().map(|row| row.node.node.id).collect();
    let mut expected = created;
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(rows.windows(2).all(|pair| pair[0].seq < pair[1].seq));
}

pub(crate) fn roots_are_listed_in_id_order(data: &impl TestData) {
    let store = data.handle();
    let mut roots: Vec<Id> = (0..5).map(|_| Id::generate()).collect();
    apply(
        &*store,
        Changeset {
            new_nodes: roots.iter().map(|&id| root(id)).collect(),
            ..Changeset::default()
        },
    );
    roots.sort();
    let listed: Vec<Id> = store
        .roots(roots[0], None, 100)
        .unwrap()
        .into_iter()
        .map(|node| node.node.id)
        .filter(|id| roots.contains(id))
        .collect();
    assert_eq!(listed, roots);
    let after: Vec<Id> = store
        .roots(roots[0], Some(roots[2]), 2)
        .unwrap()
        .into_iter()
        .map(|node| node.node.id)
        .collect();
    assert_eq!(after, roots[3..5]);
}

/// How long another handle may take to see a commit: a cache tier hears invalidations
/// through Redis pub/sub (sub-millisecond locally); store handles see it at once.
const PROPAGATION_DEADLINE: Duration = Duration::from_secs(2);

pub(crate) fn a_commit_through_one_handle_is_read_through_another(data: &impl TestData) {
    let (writer, reader) = (data.handle(), data.handle());
    let (owner, child) = root_with_child(&*writer);
    // The reader reads (and caches) the old state first.
    assert_eq!(
        neighbour_ids(&*reader, &query(owner, owner, Direction::Outgoing)),
        vec![child]
    );
    let title = |store: &dyn GraphStore| -> Map<String, Value> {
        store.node(child, owner).unwrap().unwrap().node.fields
    };
    assert_eq!(Value::Object(title(&*reader)), json!({"n": 0}));
    let second = Id::generate();
    apply(
        &*writer,
        Changeset {
            new_nodes: vec![node_of(second, owner, "Todo", json!({}))],
            new_edges: vec![edge_of(owner, owner, second, "Has")],
            node_updates: vec![FieldsUpdate {
                id: child,
                fields: fields(json!({"n": 1})),
            }],
            ..Changeset::default()
        },
    );
    let started = Instant::now();
    loop {
        let listed = neighbour_ids(&*reader, &query(owner, owner, Direction::Outgoing));
        let fields = Value::Object(title(&*reader));
        if listed == [child, second] && fields == json!({"n": 1}) {
            break;
        }
        assert!(
            started.elapsed() < PROPAGATION_DEADLINE,
            "the other handle still reads {listed:?} / {fields}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
