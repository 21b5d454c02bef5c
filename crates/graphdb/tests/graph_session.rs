//! Behaviour of graph sessions over the real SQLite store.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tempfile::TempDir;

use graph::AccessLevel::{Connect, NoAccess, Read, Write};
use graph::*;
use host_error::HostError;
use jac_scale_graphdb::sqlite::SqliteStore;

struct Fixture {
    dir: TempDir,
    graph: Graph,
    alice: Caller,
    bob: Caller,
    guest: Caller,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let graph = open_graph(&db_path(&dir));
        let alice = Caller {
            root: graph.create_root().unwrap(),
            user: Some("alice".into()),
        };
        let bob = Caller {
            root: graph.create_root().unwrap(),
            user: Some("bob".into()),
        };
        let guest = Caller {
            root: graph.guest_root(),
            user: None,
        };
        Self {
            dir,
            graph,
            alice,
            bob,
            guest,
        }
    }

    fn session(&self, caller: &Caller) -> Session {
        self.graph.session(caller.clone())
    }

    /// Creates and commits a node of `caller` connected from their root.
    fn committed_node(&self, caller: &Caller, archetype: &str, value: Value) -> Id {
        let mut session = self.session(caller);
        let id = session.create_node(archetype, fields(value)).unwrap();
        session
            .connect(caller.root, id, "GenericEdge", Map::new(), false)
            .unwrap();
        session.commit().unwrap();
        id
    }

    /// Runs `change` in a session of `caller` and commits it.
    fn commit_as(&self, caller: &Caller, change: impl FnOnce(&mut Session)) {
        let mut session = self.session(caller);
        change(&mut session);
        session.commit().unwrap();
    }
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("jac.db")
}

fn open_graph(path: &std::path::Path) -> Graph {
    Graph::new(Arc::new(SqliteStore::open(path).expect("open store"))).expect("graph")
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn query(direction: Direction) -> NeighborQuery {
    NeighborQuery {
        direction,
        edge_types: vec![],
        node_types: vec![],
        offset: 0,
        limit: 1_000,
    }
}

fn neighbor_ids(session: &mut Session, origin: Id, query: &NeighborQuery) -> Vec<Id> {
    session
        .neighbors(origin, query)
        .unwrap()
        .into_iter()
        .map(|(_, node)| node.id)
        .collect()
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, HostError>) -> bool {
    matches!(result, Err(HostError::NotFound(_)))
}

fn is_denied<T: std::fmt::Debug>(result: Result<T, HostError>) -> bool {
    matches!(result, Err(HostError::AccessDenied(_)))
}

// ---- owners and strangers ----

#[test]
fn owner_reads_and_replaces_own_node() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({"title": "milk", "done": false}));
    fx.commit_as(&fx.alice, |s| {
        s.update_node(todo, fields(json!({"done": true}))).unwrap()
    });
    let node = fx.session(&fx.alice).get_node(todo).unwrap();
    assert_eq!(node.archetype, "Todo");
    assert_eq!(
        Value::Object(node.fields),
        json!({"done": true}),
        "update replaces the whole object"
    );
}

#[test]
fn read_of_unshared_node_is_not_found() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    for stranger in [&fx.bob, &fx.guest] {
        let mut session = fx.session(stranger);
        assert!(is_not_found(session.get_node(todo)));
        assert!(is_not_found(
            session.neighbors(todo, &query(Direction::Any))
        ));
        assert_eq!(session.access(todo), NoAccess);
    }
    assert!(is_not_found(fx.session(&fx.bob).get_node(fx.alice.root)));
}

#[test]
fn spawning_needs_read_on_the_target() {
    let fx = Fixture::new();
    let note = fx.committed_node(&fx.alice, "Note", json!({"text": "mine"}));
    let missing = Id::generate();
    assert!(fx.graph.spawn_session(fx.alice.clone(), Some(note)).is_ok());
    assert!(fx.graph.spawn_session(fx.bob.clone(), None).is_ok());
    // Unreadable and absent nodes answer alike.
    assert!(matches!(
        fx.graph.spawn_session(fx.bob.clone(), Some(note)),
        Err(HostError::NotFound(_))
    ));
    assert!(matches!(
        fx.graph.spawn_session(fx.alice.clone(), Some(missing)),
        Err(HostError::NotFound(_))
    ));
    fx.commit_as(&fx.alice, |s| s.grant(note, Read).unwrap());
    assert!(fx.graph.spawn_session(fx.bob.clone(), Some(note)).is_ok());
}

#[test]
fn write_to_unreadable_node_is_not_found_without_warning() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    let mut session = fx.session(&fx.bob);
    assert!(is_not_found(session.update_node(todo, Map::new())));
    assert!(is_not_found(session.delete_node(todo)));
    assert!(is_not_found(session.grant(todo, Write)));
    assert!(is_not_found(session.connect(
        fx.bob.root,
        todo,
        "E",
        Map::new(),
        false
    )));
    assert!(
        session.warnings().is_empty(),
        "a warning would reveal that the node exists"
    );
}

#[test]
fn neighbors_list_only_readable_nodes() {
    let fx = Fixture::new();
    let public = fx.committed_node(&fx.alice, "Post", json!({"n": 1}));
    let private = fx.committed_node(&fx.alice, "Post", json!({"n": 2}));
    fx.commit_as(&fx.alice, |s| {
        s.grant(fx.alice.root, Read).unwrap();
        s.grant(private, NoAccess).unwrap();
        s.allow_root(private, fx.bob.root, NoAccess).unwrap();
    });
    let mut bob = fx.session(&fx.bob);
    assert_eq!(
        neighbor_ids(&mut bob, fx.alice.root, &query(Direction::Outgoing)),
        [public]
    );
    let mut alice = fx.session(&fx.alice);
    assert_eq!(
        neighbor_ids(&mut alice, fx.alice.root, &query(Direction::Outgoing)),
        [public, private]
    );
}

// ---- grants to everyone ----

#[test]
fn grant_read_lets_everyone_read_but_not_write() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({"title": "milk"}));
    fx.commit_as(&fx.alice, |s| s.grant(todo, Read).unwrap());
    for other in [&fx.bob, &fx.guest] {
        let mut session = fx.session(other);
        assert_eq!(session.get_node(todo).unwrap().fields["title"], "milk");
        assert_eq!(session.access(todo), Read);
        assert!(is_denied(session.update_node(todo, Map::new())));
        assert!(is_denied(session.connect(
            other.root,
            todo,
            "E",
            Map::new(),
            false
        )));
    }
}

#[test]
fn grant_connect_allows_edges_but_not_field_writes() {
    let fx = Fixture::new();
    let board = fx.committed_node(&fx.alice, "Board", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(board, Connect).unwrap());
    let mut bob = fx.session(&fx.bob);
    let note = bob
        .create_node("Note", fields(json!({"text": "hi"})))
        .unwrap();
    bob.connect(board, note, "Pinned", Map::new(), false)
        .unwrap();
    assert!(is_denied(bob.update_node(board, Map::new())));
    assert!(is_denied(bob.delete_node(board)));
    bob.commit().unwrap();
    // Bob's note is his; Alice sees the edge only once Bob shares the note.
    let mut alice = fx.session(&fx.alice);
    assert!(neighbor_ids(&mut alice, board, &query(Direction::Outgoing)).is_empty());
    fx.commit_as(&fx.bob, |s| s.grant(note, Read).unwrap());
    let mut alice = fx.session(&fx.alice);
    assert_eq!(
        neighbor_ids(&mut alice, board, &query(Direction::Outgoing)),
        [note]
    );
}

#[test]
fn grant_write_lets_others_update_and_delete() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({"done": false}));
    fx.commit_as(&fx.alice, |s| s.grant(todo, Write).unwrap());
    fx.commit_as(&fx.guest, |s| {
        s.update_node(todo, fields(json!({"done": true}))).unwrap()
    });
    assert_eq!(
        fx.session(&fx.alice).get_node(todo).unwrap().fields["done"],
        true
    );
    fx.commit_as(&fx.bob, |s| s.delete_node(todo).unwrap());
    assert!(is_not_found(fx.session(&fx.alice).get_node(todo)));
}

#[test]
fn revoke_closes_a_granted_node() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(todo, Write).unwrap());
    fx.commit_as(&fx.alice, |s| s.revoke(todo).unwrap());
    assert!(is_not_found(fx.session(&fx.bob).get_node(todo)));
}

// ---- per-root entries ----

#[test]
fn allow_root_opens_a_node_to_that_root_only() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| {
        s.allow_root(todo, fx.bob.root, Connect).unwrap()
    });
    assert_eq!(fx.session(&fx.bob).access(todo), Connect);
    assert!(is_not_found(fx.session(&fx.guest).get_node(todo)));
}

#[test]
fn disallow_root_removes_that_roots_entry() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| {
        s.allow_root(todo, fx.bob.root, Write).unwrap()
    });
    fx.commit_as(&fx.alice, |s| s.disallow_root(todo, fx.bob.root).unwrap());
    assert!(is_not_found(fx.session(&fx.bob).get_node(todo)));
}

#[test]
fn a_nodes_own_entry_for_a_root_wins_over_grants() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| {
        s.grant(todo, Write).unwrap();
        s.allow_root(todo, fx.bob.root, Read).unwrap();
    });
    assert_eq!(fx.session(&fx.bob).access(todo), Read);
    assert_eq!(fx.session(&fx.guest).access(todo), Write);
    fx.commit_as(&fx.alice, |s| {
        s.allow_root(todo, fx.bob.root, NoAccess).unwrap()
    });
    assert!(is_not_found(fx.session(&fx.bob).get_node(todo)));
}

#[test]
fn allow_root_on_a_root_opens_the_whole_graph() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({"title": "milk"}));
    fx.commit_as(&fx.alice, |s| {
        s.allow_root(fx.alice.root, fx.bob.root, Write).unwrap()
    });
    let mut bob = fx.session(&fx.bob);
    assert_eq!(
        neighbor_ids(&mut bob, fx.alice.root, &query(Direction::Outgoing)),
        [todo]
    );
    bob.update_node(todo, fields(json!({"title": "eggs"})))
        .unwrap();
    bob.commit().unwrap();
    assert_eq!(
        fx.session(&fx.alice).get_node(todo).unwrap().fields["title"],
        "eggs"
    );
    assert_eq!(fx.session(&fx.guest).access(todo), NoAccess);
}

#[test]
fn grant_on_a_root_opens_the_whole_graph_to_everyone() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(fx.alice.root, Read).unwrap());
    assert_eq!(fx.session(&fx.guest).access(todo), Read);
    assert_eq!(fx.session(&fx.bob).access(fx.alice.root), Read);
}

#[test]
fn anonymous_guests_share_the_guest_root() {
    let fx = Fixture::new();
    let note = fx.committed_node(&fx.guest, "Note", json!({}));
    let mut other_guest = fx.session(&Caller {
        root: fx.graph.guest_root(),
        user: None,
    });
    assert_eq!(
        neighbor_ids(&mut other_guest, fx.guest.root, &query(Direction::Outgoing)),
        [note]
    );
    assert_eq!(other_guest.access(note), Write);
    assert!(is_not_found(fx.session(&fx.alice).get_node(note)));
}

#[test]
fn access_changes_apply_within_the_session() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| {
        s.allow_root(todo, fx.bob.root, Write).unwrap()
    });
    let mut bob = fx.session(&fx.bob);
    bob.disallow_root(todo, fx.bob.root).unwrap();
    assert!(
        is_not_found(bob.get_node(todo)),
        "bob's own revocation shows at once"
    );
}

// ---- refused writes ----

#[test]
fn refused_write_is_reported_and_not_applied() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({"title": "milk"}));
    fx.commit_as(&fx.alice, |s| s.grant(todo, Read).unwrap());
    let mut bob = fx.session(&fx.bob);
    let refused = bob.update_node(todo, fields(json!({"title": "hacked"})));
    assert!(is_denied(refused));
    assert!(is_denied(bob.grant(todo, Write)));
    assert_eq!(
        bob.warnings(),
        [
            format!("write to node {todo} refused: read access only"),
            format!("write to node {todo} refused: read access only"),
        ]
    );
    bob.commit().unwrap();
    assert_eq!(
        fx.session(&fx.alice).get_node(todo).unwrap().fields["title"],
        "milk"
    );
    assert_eq!(fx.session(&fx.guest).access(todo), Read);
}

#[test]
fn refused_connect_names_the_node_and_level() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(todo, Read).unwrap());
    let mut bob = fx.session(&fx.bob);
    assert!(is_denied(bob.connect(
        bob.root(),
        todo,
        "E",
        Map::new(),
        false
    )));
    assert_eq!(
        bob.warnings(),
        [format!("connect to node {todo} refused: read access only")]
    );
}

#[test]
fn warnings_are_bounded() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(todo, Read).unwrap());
    let mut bob = fx.session(&fx.bob);
    for _ in 0..1_000 {
        assert!(is_denied(bob.update_node(todo, Map::new())));
    }
    assert_eq!(bob.warnings().len(), 65);
    assert_eq!(
        bob.warnings().last().unwrap(),
        "further refused writes are not listed"
    );
}

// ---- edges ----

#[test]
fn edges_are_read_updated_and_deleted_by_their_owner() {
    let fx = Fixture::new();
    let mut alice = fx.session(&fx.alice);
    let a = alice.create_node("A", Map::new()).unwrap();
    let edge = alice
        .connect(
            fx.alice.root,
            a,
            "Owns",
            fields(json!({"since": 2020})),
            false,
        )
        .unwrap();
    alice.commit().unwrap();

    let mut alice = fx.session(&fx.alice);
    assert_eq!(alice.get_edge(edge.id).unwrap(), edge);
    alice
        .update_edge(edge.id, fields(json!({"since": 2021})))
        .unwrap();
    assert_eq!(alice.get_edge(edge.id).unwrap().fields["since"], 2021);
    alice.commit().unwrap();
    assert!(is_not_found(fx.session(&fx.bob).get_edge(edge.id)));
    assert!(is_not_found(fx.session(&fx.bob).delete_edge(edge.id)));

    let mut alice = fx.session(&fx.alice);
    assert_eq!(alice.get_edge(edge.id).unwrap().fields["since"], 2021);
    alice.delete_edge(edge.id).unwrap();
    assert!(is_not_found(alice.get_edge(edge.id)));
    alice.commit().unwrap();
    let mut alice = fx.session(&fx.alice);
    assert!(is_not_found(alice.get_edge(edge.id)));
    assert!(neighbor_ids(&mut alice, fx.alice.root, &query(Direction::Any)).is_empty());
    assert!(
        alice.get_node(a).is_ok(),
        "deleting an edge keeps its nodes"
    );
}

#[test]
fn edge_grants_follow_the_same_rules() {
    let fx = Fixture::new();
    let mut alice = fx.session(&fx.alice);
    let a = alice.create_node("A", Map::new()).unwrap();
    let edge = alice
        .connect(fx.alice.root, a, "E", Map::new(), false)
        .unwrap();
    alice.grant(edge.id, Read).unwrap();
    alice.commit().unwrap();
    let mut bob = fx.session(&fx.bob);
    assert_eq!(bob.access(edge.id), Read);
    assert!(is_denied(bob.update_edge(edge.id, Map::new())));
    assert_eq!(
        bob.warnings(),
        [format!(
            "write to edge {} refused: read access only",
            edge.id
        )]
    );
}

#[test]
fn deleting_a_node_deletes_its_edges() {
    let fx = Fixture::new();
    let hub = fx.committed_node(&fx.alice, "Hub", json!({}));
    let mut alice = fx.session(&fx.alice);
    let spoke = alice.create_node("Spoke", Map::new()).unwrap();
    let out = alice.connect(hub, spoke, "E", Map::new(), false).unwrap();
    let back = alice.connect(spoke, hub, "E", Map::new(), true).unwrap();
    alice.commit().unwrap();

    let mut alice = fx.session(&fx.alice);
    alice.delete_node(hub).unwrap();
    assert!(
        is_not_found(alice.get_edge(out.id)),
        "in-session view drops the edges at once"
    );
    assert!(neighbor_ids(&mut alice, spoke, &query(Direction::Any)).is_empty());
    assert!(neighbor_ids(&mut alice, fx.alice.root, &query(Direction::Any)).is_empty());
    alice.commit().unwrap();

    let mut alice = fx.session(&fx.alice);
    assert!(is_not_found(alice.get_node(hub)));
    assert!(is_not_found(alice.get_edge(out.id)));
    assert!(is_not_found(alice.get_edge(back.id)));
    assert!(neighbor_ids(&mut alice, spoke, &query(Direction::Any)).is_empty());
    assert!(neighbor_ids(&mut alice, fx.alice.root, &query(Direction::Any)).is_empty());
}

#[test]
fn root_nodes_cannot_be_deleted() {
    let fx = Fixture::new();
    let mut alice = fx.session(&fx.alice);
    assert!(matches!(
        alice.delete_node(fx.alice.root),
        Err(HostError::Invalid(_))
    ));
    fx.commit_as(&fx.alice, |s| {
        s.allow_root(fx.alice.root, fx.bob.root, Write).unwrap()
    });
    let mut bob = fx.session(&fx.bob);
    assert!(matches!(
        bob.delete_node(fx.alice.root),
        Err(HostError::Invalid(_))
    ));
}

// ---- neighbours: direction, types, order, paging ----

#[test]
fn neighbors_follow_direction_and_undirected_edges() {
    let fx = Fixture::new();
    let mut s = fx.session(&fx.alice);
    let [a, b, c, d] = ["A", "B", "C", "D"].map(|name| s.create_node(name, Map::new()).unwrap());
    s.connect(a, b, "E", Map::new(), false).unwrap(); // a -> b
    s.connect(c, a, "E", Map::new(), false).unwrap(); // c -> a
    s.connect(a, d, "E", Map::new(), true).unwrap(); // a <-> d
    s.connect(a, a, "E", Map::new(), false).unwrap(); // a -> a
    let check = |s: &mut Session| {
        assert_eq!(neighbor_ids(s, a, &query(Direction::Outgoing)), [b, d, a]);
        assert_eq!(neighbor_ids(s, a, &query(Direction::Incoming)), [c, d, a]);
        assert_eq!(neighbor_ids(s, a, &query(Direction::Any)), [b, c, d, a]);
        assert_eq!(neighbor_ids(s, d, &query(Direction::Outgoing)), [a]);
        assert_eq!(
            neighbor_ids(s, b, &query(Direction::Outgoing)),
            [] as [Id; 0]
        );
        assert_eq!(neighbor_ids(s, b, &query(Direction::Incoming)), [a]);
    };
    check(&mut s);
    s.commit().unwrap();
    check(&mut fx.session(&fx.alice));
}

#[test]
fn neighbors_filter_by_edge_and_node_archetype() {
    let fx = Fixture::new();
    let mut s = fx.session(&fx.alice);
    let root = fx.alice.root;
    let todo = s.create_node("Todo", Map::new()).unwrap();
    let note = s.create_node("Note", Map::new()).unwrap();
    let tag = s.create_node("Tag", Map::new()).unwrap();
    s.connect(root, todo, "Has", Map::new(), false).unwrap();
    s.connect(root, note, "Has", Map::new(), false).unwrap();
    s.connect(root, tag, "Tagged", Map::new(), false).unwrap();
    let check = |s: &mut Session| {
        let only = |edge_types: &[&str], node_types: &[&str]| NeighborQuery {
            edge_types: edge_types.iter().map(|t| t.to_string()).collect(),
            node_types: node_types.iter().map(|t| t.to_string()).collect(),
            ..query(Direction::Outgoing)
        };
        assert_eq!(neighbor_ids(s, root, &only(&["Has"], &[])), [todo, note]);
        assert_eq!(
            neighbor_ids(s, root, &only(&[], &["Tag", "Todo"])),
            [todo, tag]
        );
        assert_eq!(neighbor_ids(s, root, &only(&["Has"], &["Note"])), [note]);
        assert_eq!(
            neighbor_ids(s, root, &only(&["Missing"], &[])),
            [] as [Id; 0]
        );
    };
    check(&mut s);
    s.commit().unwrap();
    check(&mut fx.session(&fx.alice));
}

#[test]
fn neighbors_keep_insertion_order_and_page() {
    let fx = Fixture::new();
    let root = fx.alice.root;
    let mut ids = Vec::new();
    let mut s = fx.session(&fx.alice);
    for n in 0..20 {
        let id = s.create_node("Item", fields(json!({"n": n}))).unwrap();
        s.connect(root, id, "E", Map::new(), false).unwrap();
        ids.push(id);
    }
    s.commit().unwrap();
    let mut s = fx.session(&fx.alice);
    for n in 20..30 {
        let id = s.create_node("Item", fields(json!({"n": n}))).unwrap();
        s.connect(root, id, "E", Map::new(), false).unwrap();
        ids.push(id);
    }
    let page = |s: &mut Session, offset, limit| {
        neighbor_ids(
            s,
            root,
            &NeighborQuery {
                offset,
                limit,
                ..query(Direction::Outgoing)
            },
        )
    };
    assert_eq!(
        page(&mut s, 0, 100),
        ids,
        "committed edges first, then this session's"
    );
    assert_eq!(page(&mut s, 5, 10), ids[5..15]);
    assert_eq!(
        page(&mut s, 15, 10),
        ids[15..25],
        "a page spanning committed and new edges"
    );
    assert_eq!(page(&mut s, 28, 10), ids[28..]);
    assert_eq!(page(&mut s, 30, 10), [] as [Id; 0]);
    assert_eq!(page(&mut s, 0, 0), [] as [Id; 0]);
    // Paging counts only readable matches: hide every other committed node from Bob.
    s.commit().unwrap();
    fx.commit_as(&fx.alice, |s| {
        s.grant(root, Read).unwrap();
        for hidden in ids.iter().step_by(2) {
            s.allow_root(*hidden, fx.bob.root, NoAccess).unwrap();
        }
    });
    let visible: Vec<Id> = ids.iter().skip(1).step_by(2).copied().collect();
    let mut bob = fx.session(&fx.bob);
    assert_eq!(page(&mut bob, 3, 4), visible[3..7]);
}

/// What `count_neighbors` must answer: the listing's length and its distinct nodes.
fn listed_count(s: &mut Session, origin: Id, query: &NeighborQuery) -> NeighborCount {
    let listed = s.neighbors(origin, query).unwrap();
    let nodes: std::collections::HashSet<Id> = listed.iter().map(|(_, node)| node.id).collect();
    NeighborCount {
        edges: listed.len() as u64,
        nodes: nodes.len() as u64,
    }
}

/// Every query shape against `origin`: counted as listed.
fn assert_counts_as_listed(s: &mut Session, origin: Id) {
    let shapes = [
        query(Direction::Outgoing),
        query(Direction::Incoming),
        query(Direction::Any),
        NeighborQuery {
            node_types: vec!["Item".into()],
            ..query(Direction::Any)
        },
        NeighborQuery {
            edge_types: vec!["Likes".into()],
            ..query(Direction::Outgoing)
        },
    ];
    for shape in shapes {
        assert_eq!(
            s.count_neighbors(origin, &shape).unwrap(),
            listed_count(s, origin, &shape),
            "{shape:?}"
        );
    }
}

#[test]
fn counts_match_the_listing_through_access_rules_and_this_calls_writes() {
    let fx = Fixture::new();
    let root = fx.alice.root;
    let items: Vec<Id> = (0..6)
        .map(|n| fx.committed_node(&fx.alice, "Item", json!({"n": n})))
        .collect();
    let other = fx.committed_node(&fx.alice, "Other", json!({}));
    fx.commit_as(&fx.alice, |s| {
        // A second edge to one item: two edges, one node.
        s.connect(root, items[0], "Likes", Map::new(), false)
            .unwrap();
        // Everyone may read Alice's graph and connect to it.
        s.grant(root, Connect).unwrap();
        s.allow_root(items[1], fx.bob.root, NoAccess).unwrap();
        s.grant(items[2], NoAccess).unwrap();
    });
    // Bob's own node pointing at Alice's root: incoming for her, his for him.
    let bobs = fx.committed_node(&fx.bob, "Item", json!({}));
    fx.commit_as(&fx.bob, |s| {
        s.connect(bobs, root, "Likes", Map::new(), false).unwrap();
    });
    for caller in [&fx.alice, &fx.bob, &fx.guest] {
        assert_counts_as_listed(&mut fx.session(caller), root);
    }
    let mut bob = fx.session(&fx.bob);
    assert_eq!(
        bob.count_neighbors(root, &query(Direction::Outgoing))
            .unwrap(),
        NeighborCount { edges: 7, nodes: 6 },
        "items 0 (twice), 2, 3, 4, 5 and `other`; not item 1, hidden from Bob"
    );
    // This call's writes count before they are committed, whatever they are.
    let mut s = fx.session(&fx.alice);
    let fresh = s.create_node("Item", Map::new()).unwrap();
    s.connect(root, fresh, "E", Map::new(), false).unwrap();
    assert_counts_as_listed(&mut s, root);
    assert_eq!(
        s.count_neighbors(root, &query(Direction::Outgoing))
            .unwrap(),
        NeighborCount { edges: 9, nodes: 8 }
    );
    s.connect(root, items[3], "Likes", Map::new(), false)
        .unwrap();
    assert_counts_as_listed(&mut s, root);
    s.delete_node(items[4]).unwrap();
    s.delete_node(other).unwrap();
    assert_counts_as_listed(&mut s, root);
    let mut bob = fx.session(&fx.bob);
    bob.delete_node(bobs).unwrap();
    assert_counts_as_listed(&mut bob, root);
    let mut alice = fx.session(&fx.alice);
    alice.allow_root(items[5], fx.bob.root, NoAccess).unwrap();
    alice.revoke(root).unwrap();
    assert_counts_as_listed(&mut alice, root);
    // A node this call created is an origin too.
    let mut s = fx.session(&fx.alice);
    let hub = s.create_node("Item", Map::new()).unwrap();
    s.connect(hub, items[0], "E", Map::new(), false).unwrap();
    s.connect(hub, items[0], "E", Map::new(), false).unwrap();
    assert_eq!(
        s.count_neighbors(hub, &query(Direction::Outgoing)).unwrap(),
        NeighborCount { edges: 2, nodes: 1 }
    );
    assert!(is_not_found(
        fx.session(&fx.bob)
            .count_neighbors(items[1], &query(Direction::Any))
    ));
}

#[test]
fn cursor_pages_continue_where_the_last_ended() {
    let fx = Fixture::new();
    let root = fx.alice.root;
    let mut s = fx.session(&fx.alice);
    for n in 0..25 {
        let id = s.create_node("Item", fields(json!({"n": n}))).unwrap();
        s.connect(root, id, "E", Map::new(), false).unwrap();
    }
    s.commit().unwrap();
    let mut s = fx.session(&fx.alice);
    for n in 25..32 {
        let id = s.create_node("Item", fields(json!({"n": n}))).unwrap();
        s.connect(root, id, "E", Map::new(), false).unwrap();
    }
    let everything = neighbor_ids(&mut s, root, &query(Direction::Outgoing));
    assert_eq!(everything.len(), 32);
    let by_10 = NeighborQuery {
        limit: 10,
        ..query(Direction::Outgoing)
    };
    let mut paged = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s.neighbors_after(root, &by_10, after).unwrap();
        pages += 1;
        paged.extend(page.neighbors.iter().map(|(_, node)| node.id));
        match page.next {
            Some(next) => {
                let text = next.encode();
                after = Some(NeighborCursor::decode(&text).unwrap());
            }
            None => break,
        }
    }
    assert_eq!(paged, everything, "committed, then this call's, each once");
    assert_eq!(pages, 4);
    // The offset skips matches after the cursor.
    let first = s.neighbors_after(root, &by_10, None).unwrap();
    let skip_2 = NeighborQuery {
        offset: 2,
        ..by_10.clone()
    };
    let second = s.neighbors_after(root, &skip_2, first.next).unwrap();
    assert_eq!(first.neighbors.len(), 10);
    assert_eq!(second.neighbors[0].1.id, everything[12]);
    assert!(matches!(
        NeighborCursor::decode("x12"),
        Err(HostError::Invalid(_))
    ));
}

#[test]
fn neighbor_limit_is_clamped_to_the_page_bound() {
    let fx = Fixture::new();
    let root = fx.alice.root;
    let mut s = fx.session(&fx.alice);
    for _ in 0..MAX_PAGE + 5 {
        let id = s.create_node("Item", Map::new()).unwrap();
        s.connect(root, id, "E", Map::new(), false).unwrap();
    }
    s.commit().unwrap();
    let mut s = fx.session(&fx.alice);
    let all = NeighborQuery {
        limit: u32::MAX,
        ..query(Direction::Outgoing)
    };
    assert_eq!(s.neighbors(root, &all).unwrap().len(), MAX_PAGE as usize);
    let rest = NeighborQuery {
        offset: MAX_PAGE,
        ..all
    };
    assert_eq!(s.neighbors(root, &rest).unwrap().len(), 5);
}

// ---- sessions: read-your-writes, commit, discard ----

#[test]
fn reads_see_the_sessions_own_writes() {
    let fx = Fixture::new();
    let committed = fx.committed_node(&fx.alice, "Todo", json!({"v": 1}));
    let mut s = fx.session(&fx.alice);
    let fresh = s.create_node("Todo", fields(json!({"v": 2}))).unwrap();
    s.connect(fx.alice.root, fresh, "E", Map::new(), false)
        .unwrap();
    s.update_node(committed, fields(json!({"v": 10}))).unwrap();
    s.update_node(fresh, fields(json!({"v": 20}))).unwrap();
    let listed: Vec<Value> = s
        .neighbors(fx.alice.root, &query(Direction::Outgoing))
        .unwrap()
        .into_iter()
        .map(|(_, node)| node.fields["v"].clone())
        .collect();
    assert_eq!(listed, [json!(10), json!(20)]);
    assert_eq!(s.get_node(fresh).unwrap().fields["v"], 20);
    assert_eq!(s.access(fresh), Write);
    // Others see nothing until commit.
    assert_eq!(
        fx.session(&fx.alice).get_node(committed).unwrap().fields["v"],
        1
    );
    assert!(is_not_found(fx.session(&fx.alice).get_node(fresh)));
    s.commit().unwrap();
    assert_eq!(
        fx.session(&fx.alice).get_node(fresh).unwrap().fields["v"],
        20
    );
}

#[test]
fn dropped_session_discards_writes() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({"v": 1}));
    let fresh = {
        let mut s = fx.session(&fx.alice);
        let fresh = s.create_node("Todo", Map::new()).unwrap();
        s.connect(fx.alice.root, fresh, "E", Map::new(), false)
            .unwrap();
        s.update_node(todo, fields(json!({"v": 2}))).unwrap();
        s.grant(todo, Write).unwrap();
        fresh
    };
    let mut s = fx.session(&fx.alice);
    assert!(is_not_found(s.get_node(fresh)));
    assert_eq!(s.get_node(todo).unwrap().fields["v"], 1);
    assert_eq!(
        neighbor_ids(&mut s, fx.alice.root, &query(Direction::Outgoing)),
        [todo]
    );
    assert_eq!(fx.session(&fx.bob).access(todo), NoAccess);
}

#[test]
fn a_node_created_and_deleted_in_one_session_is_never_stored() {
    let fx = Fixture::new();
    let mut s = fx.session(&fx.alice);
    let temp = s.create_node("Temp", Map::new()).unwrap();
    let edge = s
        .connect(fx.alice.root, temp, "E", Map::new(), false)
        .unwrap();
    s.delete_node(temp).unwrap();
    assert!(is_not_found(s.get_edge(edge.id)));
    s.commit().unwrap();
    let mut s = fx.session(&fx.alice);
    assert!(is_not_found(s.get_node(temp)));
    assert!(neighbor_ids(&mut s, fx.alice.root, &query(Direction::Any)).is_empty());
}

#[test]
fn failed_commit_applies_nothing() {
    let fx = Fixture::new();
    let shared = fx.committed_node(&fx.alice, "Todo", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(shared, Write).unwrap());
    let mut bob = fx.session(&fx.bob);
    let note = bob.create_node("Note", Map::new()).unwrap();
    bob.connect(fx.bob.root, note, "E", Map::new(), false)
        .unwrap();
    bob.update_node(shared, fields(json!({"by": "bob"})))
        .unwrap();
    fx.commit_as(&fx.alice, |s| s.delete_node(shared).unwrap());
    assert!(matches!(bob.commit(), Err(HostError::Conflict(_))));
    let mut bob = fx.session(&fx.bob);
    assert!(is_not_found(bob.get_node(note)));
    assert!(neighbor_ids(&mut bob, fx.bob.root, &query(Direction::Any)).is_empty());
}

#[test]
fn connecting_to_a_node_deleted_meanwhile_is_a_conflict() {
    let fx = Fixture::new();
    let board = fx.committed_node(&fx.alice, "Board", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(board, Connect).unwrap());
    let mut bob = fx.session(&fx.bob);
    bob.connect(fx.bob.root, board, "Follows", Map::new(), false)
        .unwrap();
    fx.commit_as(&fx.alice, |s| s.delete_node(board).unwrap());
    assert!(matches!(bob.commit(), Err(HostError::Conflict(_))));
    let mut bob = fx.session(&fx.bob);
    assert!(neighbor_ids(&mut bob, fx.bob.root, &query(Direction::Any)).is_empty());
}

#[test]
fn sixteen_concurrent_creates_keep_every_edge() {
    let fx = Fixture::new();
    std::thread::scope(|scope| {
        for n in 0..16 {
            let mut session = fx.session(&fx.alice);
            scope.spawn(move || {
                let id = session
                    .create_node("Item", fields(json!({"n": n})))
                    .unwrap();
                session
                    .connect(session.root(), id, "E", Map::new(), false)
                    .unwrap();
                session.commit().unwrap();
            });
        }
    });
    let mut s = fx.session(&fx.alice);
    let listed = s
        .neighbors(fx.alice.root, &query(Direction::Outgoing))
        .unwrap();
    assert_eq!(listed.len(), 16);
    let mut numbers: Vec<i64> = listed
        .iter()
        .map(|(_, node)| node.fields["n"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..16).collect::<Vec<_>>());
    let edges: std::collections::HashSet<Id> = listed.iter().map(|(edge, _)| edge.id).collect();
    assert_eq!(edges.len(), 16);
}

#[test]
fn concurrent_updates_leave_one_whole_object() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({}));
    std::thread::scope(|scope| {
        for n in 0..8 {
            let mut session = fx.session(&fx.alice);
            scope.spawn(move || {
                session
                    .update_node(todo, fields(json!({"writer": n, "payload": n * 100})))
                    .unwrap();
                session.commit().unwrap();
            });
        }
    });
    let node = fx.session(&fx.alice).get_node(todo).unwrap();
    let writer = node.fields["writer"].as_i64().unwrap();
    assert_eq!(
        node.fields["payload"],
        writer * 100,
        "fields come from one writer"
    );
}

// ---- roots ----

#[test]
fn all_roots_lists_the_roots_the_caller_may_read() {
    let fx = Fixture::new();
    let mut bob = fx.session(&fx.bob);
    assert_eq!(bob.all_roots().unwrap(), [fx.bob.root]);
    fx.commit_as(&fx.alice, |s| s.grant(fx.alice.root, Read).unwrap());
    let mut expected = vec![fx.alice.root, fx.bob.root];
    expected.sort();
    assert_eq!(fx.session(&fx.bob).all_roots().unwrap(), expected);
    assert_eq!(
        fx.session(&fx.guest).all_roots().unwrap().len(),
        2,
        "guest root and alice's"
    );
}

#[test]
fn graph_survives_reopen() {
    let fx = Fixture::new();
    let todo = fx.committed_node(&fx.alice, "Todo", json!({"title": "milk"}));
    fx.commit_as(&fx.alice, |s| {
        s.allow_root(todo, fx.bob.root, Read).unwrap()
    });
    let guest_root = fx.graph.guest_root();
    let Fixture {
        dir,
        graph,
        alice,
        bob,
        ..
    } = fx;
    drop(graph);

    let graph = open_graph(&db_path(&dir));
    assert_eq!(
        graph.guest_root(),
        guest_root,
        "the guest root is created once"
    );
    let mut s = graph.session(alice.clone());
    assert_eq!(
        neighbor_ids(&mut s, alice.root, &query(Direction::Outgoing)),
        [todo]
    );
    let mut s = graph.session(bob);
    assert_eq!(s.get_node(todo).unwrap().fields["title"], "milk");
    assert_eq!(s.access(todo), Read);
}

#[test]
fn discarded_root_is_gone() {
    let fx = Fixture::new();
    let orphan = fx.graph.create_root().unwrap();
    fx.graph.discard_root(orphan).unwrap();
    fx.commit_as(&fx.alice, |s| s.grant(fx.alice.root, Read).unwrap());
    assert!(!fx.session(&fx.bob).all_roots().unwrap().contains(&orphan));
}

// ---- bounds and validation ----

#[test]
fn oversized_fields_are_quota_exceeded() {
    let fx = Fixture::new();
    let mut s = fx.session(&fx.alice);
    let big = fields(json!({"blob": "x".repeat(MAX_FIELDS_BYTES)}));
    assert!(matches!(
        s.create_node("Blob", big.clone()),
        Err(HostError::QuotaExceeded(_))
    ));
    let id = s.create_node("Blob", Map::new()).unwrap();
    assert!(matches!(
        s.update_node(id, big),
        Err(HostError::QuotaExceeded(_))
    ));
}

#[test]
fn a_changeset_is_bounded_in_anchors() {
    let fx = Fixture::new();
    let mut s = fx.session(&fx.alice);
    for _ in 0..MAX_CHANGESET_ANCHORS {
        s.create_node("N", Map::new()).unwrap();
    }
    assert!(matches!(
        s.create_node("N", Map::new()),
        Err(HostError::QuotaExceeded(_))
    ));
}

#[test]
fn a_changeset_is_bounded_in_bytes() {
    let fx = Fixture::new();
    let mut s = fx.session(&fx.alice);
    let chunk = fields(json!({"blob": "x".repeat(MAX_FIELDS_BYTES - 20)}));
    let fit = MAX_CHANGESET_BYTES / MAX_FIELDS_BYTES;
    let ids: Vec<Id> = (0..fit)
        .map(|_| s.create_node("Blob", chunk.clone()).unwrap())
        .collect();
    assert!(matches!(
        s.create_node("Blob", chunk.clone()),
        Err(HostError::QuotaExceeded(_))
    ));
    s.delete_node(ids[0]).unwrap();
    s.create_node("Blob", chunk).unwrap();
}

#[test]
fn bad_archetype_names_are_invalid() {
    let fx = Fixture::new();
    let mut s = fx.session(&fx.alice);
    for bad in [
        String::new(),
        "a\nb".into(),
        "x".repeat(MAX_ARCHETYPE_BYTES + 1),
    ] {
        assert!(matches!(
            s.create_node(&bad, Map::new()),
            Err(HostError::Invalid(_))
        ));
    }
    let too_many = NeighborQuery {
        edge_types: vec!["E".into(); MAX_TYPE_FILTERS + 1],
        ..query(Direction::Any)
    };
    assert!(matches!(
        s.neighbors(fx.alice.root, &too_many),
        Err(HostError::QuotaExceeded(_))
    ));
}

#[test]
fn sessions_move_across_threads_and_graphs_are_shared() {
    fn send<T: Send>() {}
    fn shared<T: Send + Sync + Clone>() {}
    send::<Session>();
    shared::<Graph>();
}

#[test]
fn reserved_ids_become_the_ids_of_what_the_call_creates() {
    let fx = Fixture::new();
    let mut alice = fx.session(&fx.alice);
    let note = alice.reserve_id().unwrap();
    let link = alice.reserve_id().unwrap();
    alice
        .create_node_with_id(note, "Note", fields(json!({"text": "hi"})))
        .unwrap();
    let edge = alice
        .connect_with_id(
            link,
            (fx.alice.root, note, false),
            "GenericEdge",
            Map::new(),
        )
        .unwrap();
    assert_eq!(edge.id, link);
    // Each reservation is used once; ids nobody reserved are refused.
    let reuse = alice.create_node_with_id(note, "Note", Map::new());
    assert!(matches!(reuse, Err(HostError::Invalid(_))), "{reuse:?}");
    let unreserved = alice.create_node_with_id(Id::generate(), "Note", Map::new());
    assert!(
        matches!(unreserved, Err(HostError::Invalid(_))),
        "{unreserved:?}"
    );
    alice.commit().unwrap();
    let mut again = fx.session(&fx.alice);
    assert_eq!(
        again.get_node(note).unwrap().fields,
        fields(json!({"text": "hi"}))
    );
    assert_eq!(again.get_edge(link).unwrap().target, note);
}

#[test]
fn a_dropped_session_leaves_nothing_under_its_reserved_ids() {
    let fx = Fixture::new();
    let mut alice = fx.session(&fx.alice);
    let note = alice.reserve_id().unwrap();
    alice.create_node_with_id(note, "Note", Map::new()).unwrap();
    drop(alice);
    assert!(matches!(
        fx.session(&fx.alice).get_node(note),
        Err(HostError::NotFound(_))
    ));
}

#[test]
fn every_root_lists_all_roots_and_shows_only_what_others_shared_through_them() {
    let fx = Fixture::new();
    let mut expected = vec![fx.alice.root, fx.bob.root, fx.graph.guest_root()];
    expected.sort();
    for caller in [&fx.alice, &fx.bob, &fx.guest] {
        assert_eq!(fx.session(caller).every_root().unwrap(), expected);
    }
    let profile = fx.committed_node(&fx.alice, "Profile", json!({}));
    let diary = fx.committed_node(&fx.alice, "Diary", json!({}));
    fx.commit_as(&fx.alice, |s| s.grant(profile, Read).unwrap());
    for stranger in [&fx.bob, &fx.guest] {
        let mut session = fx.session(stranger);
        let seen = neighbor_ids(&mut session, fx.alice.root, &query(Direction::Outgoing));
        assert_eq!(seen, [profile], "the unshared diary stays hidden");
        assert!(is_not_found(session.get_node(fx.alice.root)));
        assert!(is_not_found(
            session.neighbors(diary, &query(Direction::Any))
        ));
    }
}

#[test]
fn a_write_based_on_a_read_another_commit_changed_since_conflicts() {
    let f = Fixture::new();
    let counter = f.committed_node(&f.alice, "Counter", json!({"n": 0}));
    let add_one = |session: &mut Session| {
        let n = session.get_node(counter).unwrap().fields["n"]
            .as_i64()
            .unwrap();
        session
            .update_node(counter, fields(json!({"n": n + 1})))
            .unwrap();
    };
    let (mut first, mut second) = (f.session(&f.alice), f.session(&f.alice));
    add_one(&mut first);
    add_one(&mut second);
    first.commit().unwrap();
    // The second read n = 0 too: committing would lose the first one's addition.
    assert!(matches!(second.commit(), Err(HostError::Conflict(_))));
    // Read through the neighbours, then deleted: the same check.
    let mut reader = f.session(&f.alice);
    let listed = neighbor_ids(&mut reader, f.alice.root, &query(Direction::Outgoing));
    assert_eq!(listed, [counter]);
    reader.delete_node(counter).unwrap();
    f.commit_as(&f.alice, add_one);
    assert!(matches!(reader.commit(), Err(HostError::Conflict(_))));
    // Run again on what is there now, it goes through.
    f.commit_as(&f.alice, add_one);
    let mut check = f.session(&f.alice);
    assert_eq!(check.get_node(counter).unwrap().fields["n"], 3);
}

#[test]
fn a_write_without_a_read_replaces_the_fields_whatever_changed() {
    let f = Fixture::new();
    let node = f.committed_node(&f.alice, "Note", json!({"text": "a"}));
    let mut blind = f.session(&f.alice);
    blind
        .update_node(node, fields(json!({"text": "blind"})))
        .unwrap();
    f.commit_as(&f.alice, |session| {
        session.get_node(node).unwrap();
        session
            .update_node(node, fields(json!({"text": "b"})))
            .unwrap();
    });
    blind.commit().unwrap();
    let mut check = f.session(&f.alice);
    assert_eq!(check.get_node(node).unwrap().fields["text"], "blind");
}
