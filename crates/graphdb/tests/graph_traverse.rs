//! `Session::traverse` over the real SQLite store: the node bound, the depth bound,
//! cycles and undirected edges.

use std::sync::Arc;

use graph::{Caller, Graph, Id, MAX_DEPTH, MAX_NODES, TraverseQuery};
use host_error::HostError;
use jac_scale_graphdb::sqlite::SqliteStore;
use serde_json::Map;

fn graph() -> (tempfile::TempDir, Graph, Caller) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("jac.db")).expect("open store");
    let graph = Graph::new(Arc::new(store)).expect("graph");
    let caller = Caller {
        root: graph.create_root().expect("root"),
        user: Some("alice".into()),
    };
    (dir, graph, caller)
}

/// `n` nodes hung off the caller's root, committed.
fn star(graph: &Graph, caller: &Caller, n: usize) {
    let mut session = graph.session(caller.clone());
    for _ in 0..n {
        let id = session.create_node("Leaf", Map::new()).expect("node");
        session
            .connect(caller.root, id, "GenericEdge", Map::new(), false)
            .expect("edge");
    }
    session.commit().expect("commit");
}

fn query(source: Id, depth: u32) -> TraverseQuery {
    TraverseQuery {
        source,
        depth,
        node_types: Vec::new(),
        edge_types: Vec::new(),
    }
}

#[test]
fn traversal_reaching_more_than_max_nodes_is_refused() {
    let (_dir, graph, caller) = graph();
    star(&graph, &caller, MAX_NODES - 1);
    let mut session = graph.session(caller.clone());
    let found = session
        .traverse(&query(caller.root, 1))
        .expect("at the limit");
    assert_eq!(found.nodes.len(), MAX_NODES);
    star(&graph, &caller, 1);
    let mut session = graph.session(caller.clone());
    assert!(matches!(
        session.traverse(&query(caller.root, 1)),
        Err(HostError::QuotaExceeded(_))
    ));
}

#[test]
fn depth_past_the_limit_is_invalid() {
    let (_dir, graph, caller) = graph();
    let mut session = graph.session(caller.clone());
    assert!(matches!(
        session.traverse(&query(caller.root, MAX_DEPTH + 1)),
        Err(HostError::Invalid(_))
    ));
}

#[test]
fn cycles_end_and_undirected_edges_are_listed_once() {
    let (_dir, graph, caller) = graph();
    let mut session = graph.session(caller.clone());
    let a = session.create_node("A", Map::new()).expect("a");
    let b = session.create_node("B", Map::new()).expect("b");
    session
        .connect(caller.root, a, "E", Map::new(), false)
        .expect("root->a");
    session.connect(a, b, "E", Map::new(), false).expect("a->b");
    session.connect(b, a, "E", Map::new(), false).expect("b->a");
    session
        .connect(b, caller.root, "U", Map::new(), true)
        .expect("b-root");
    session.commit().expect("commit");
    let mut session = graph.session(caller.clone());
    let found = session
        .traverse(&query(caller.root, MAX_DEPTH))
        .expect("walk");
    let ids: Vec<Id> = found.nodes.iter().map(|n| n.id).collect();
    assert_eq!(ids, vec![caller.root, a, b]);
    // root->a, a->b, b->a, and the undirected b-root once.
    assert_eq!(found.edges.len(), 4, "{:?}", found.edges);
    let undirected = found.edges.iter().filter(|(_, e)| e.undirected).count();
    assert_eq!(undirected, 1);
    // Each edge sits with the later of its two ends.
    assert!(found.edges.iter().all(|(at, e)| {
        let pos = |id| ids.iter().position(|x| *x == id).expect("reached");
        *at == pos(e.source).max(pos(e.target))
    }));
}
