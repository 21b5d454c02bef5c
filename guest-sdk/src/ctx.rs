//! [`Ctx`]: what one call of an endpoint sees. It holds the reports and wraps the host's
//! graph imports in typed helpers, one host call each (listing neighbours is one call
//! per page of [`NEIGHBOR_PAGE`], each page continuing after the last; counting them is
//! one call).
//!
//! Writes are explicit: changing a [`Node`] locally costs nothing, [`Ctx::save`] writes
//! it in one call. All writes of a call are committed together when it succeeds.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::graph::{
    AccessLevel, Edge, EdgeRef, EdgeType, GenericEdge, HasId, Id, Node, NodeRef, NodeType, Root,
    to_fields,
};
use crate::host::{Direction, Host, LogLevel, Neighbor, NeighborQuery, NewEdge};
use crate::walk::{Locations, Walk, Walker};

/// How many neighbours the SDK asks for per host call. A page shorter than this ends a
/// listing, so the host's page bound must not be below it.
pub const NEIGHBOR_PAGE: u32 = 1000;

/// The context of one call: reports, the graph, the log.
///
/// Walker abilities get a [`Walk`], which derefs to `Ctx`; endpoint functions may take
/// `&Ctx` as their first parameter. Every method takes `&self`, so calls nest freely
/// (`w.report(w.here())`).
pub struct Ctx {
    host: Rc<dyn Host>,
    root: OnceCell<Id>,
    /// Reported values as JSON text: encoded once, handed to the host as they are.
    reports: RefCell<Vec<String>>,
    /// Nodes saved during this call: queued visits see these fields, not older copies.
    saved: RefCell<HashMap<Id, NodeRef>>,
    /// Nodes deleted during this call: queued visits to them are dropped.
    deleted: RefCell<HashSet<Id>>,
}

impl Ctx {
    /// A context on `host` with no reports yet.
    pub fn new(host: Rc<dyn Host>) -> Self {
        Self {
            host,
            root: OnceCell::new(),
            reports: RefCell::default(),
            saved: RefCell::default(),
            deleted: RefCell::default(),
        }
    }

    /// Appends one report, the list of the values `items` yields (`report [-->][?:Todo];`),
    /// encoded as they come: with a lazy iterator ([`Neighbors::iter_of`]) only the
    /// report's text is held, never the whole list of values. The first error ends it and
    /// reports nothing.
    #[track_caller]
    pub fn report_each<T: Serialize>(&self, items: impl IntoIterator<Item = Result<T>>) -> Result {
        let mut text = b"[".to_vec();
        for (n, item) in items.into_iter().enumerate() {
            if n > 0 {
                text.push(b',');
            }
            serde_json::to_writer(&mut text, &item?)?;
        }
        text.push(b']');
        let text = String::from_utf8(text).expect("serde_json writes UTF-8");
        self.reports.borrow_mut().push(text);
        Ok(())
    }

    /// Appends a value to the call's reports (`report expr;`). Reporting never stops anything.
    #[track_caller]
    pub fn report(&self, value: impl Serialize) -> Result {
        let text = serde_json::to_string(&value)?;
        self.reports.borrow_mut().push(text);
        Ok(())
    }

    /// Sends `value` to the client at once, as one event of a streamed answer (what a
    /// Jac generator's `yield` does): the first call turns the HTTP answer into
    /// `text/event-stream`; the host waits while the client reads behind. Transports
    /// that cannot stream get the streamed values as the call's reports.
    #[track_caller]
    pub fn stream(&self, value: impl Serialize) -> Result {
        let text = serde_json::to_string(&value)?;
        self.host.stream(&text);
        Ok(())
    }

    /// The values reported so far, in order.
    pub fn reports(&self) -> Vec<Value> {
        self.reports
            .borrow()
            .iter()
            .map(|text| parse_report(text))
            .collect()
    }

    /// Takes the reports out, leaving none.
    pub fn take_reports(&self) -> Vec<Value> {
        self.take_report_texts()
            .iter()
            .map(|text| parse_report(text))
            .collect()
    }

    /// Takes the reports out as JSON text, leaving none.
    pub fn take_report_texts(&self) -> Vec<String> {
        std::mem::take(&mut self.reports.borrow_mut())
    }

    /// Writes a line to the host log, tagged with the app and the request.
    pub fn log(&self, level: LogLevel, message: impl AsRef<str>) {
        self.host.log(level, message.as_ref());
    }

    /// Waits `duration` (`await asyncio.sleep(...)`): the host suspends the call without
    /// holding a thread, so other calls run meanwhile. Counts against the call's time limit.
    pub fn sleep(&self, duration: std::time::Duration) {
        self.host.sleep(duration);
    }

    /// The caller's root node (`root`); the shared guest root for anonymous callers.
    pub fn root(&self) -> Node<Root> {
        let id = self.root.get_or_init(|| self.host.root());
        Node::new(id.clone(), Root {})
    }

    /// Every user root the caller may read (`allroots()`).
    pub fn all_roots(&self) -> Vec<Id> {
        self.host.all_roots()
    }

    /// Reads a node by id (`jobj(id)`); `NotFound` also when the caller may not read it.
    pub fn get(&self, node: &impl HasId) -> Result<NodeRef> {
        Ok(self.host.get_node(node.id())?)
    }

    /// Reads a node as a `T`; a `TypeError` when it is another archetype.
    #[track_caller]
    pub fn get_as<T: NodeType>(&self, node: &impl HasId) -> Result<Node<T>> {
        self.get(node)?.cast()
    }

    /// Reads an edge by id.
    pub fn get_edge(&self, edge: &impl HasId) -> Result<EdgeRef> {
        Ok(self.host.get_edge(edge.id())?)
    }

    /// Creates a node owned by the caller, not connected to anything (`Todo(...)`).
    /// It is dropped at the end of the request unless something connects it.
    #[track_caller]
    pub fn create<T: NodeType>(&self, node: T) -> Result<Node<T>> {
        let id = self.host.create_node(T::ARCHETYPE, &to_fields(&node)?)?;
        Ok(Node::new(id, node))
    }

    /// Creates a node and connects `from` to it (`from ++> Todo(...)`); returns the new node.
    #[track_caller]
    pub fn attach<T: NodeType>(&self, from: &impl HasId, node: T) -> Result<Node<T>> {
        let node = self.create(node)?;
        self.connect(from, &node)?;
        Ok(node)
    }

    /// Connects two nodes with a `GenericEdge` (`from ++> to`).
    #[track_caller]
    pub fn connect(&self, from: &impl HasId, to: &impl HasId) -> Result<Edge<GenericEdge>> {
        self.connect_with(from, to, GenericEdge {})
    }

    /// Connects two nodes with a typed edge (`from +>:Follow(since=2020):+> to`).
    #[track_caller]
    pub fn connect_with<E: EdgeType>(
        &self,
        from: &impl HasId,
        to: &impl HasId,
        edge: E,
    ) -> Result<Edge<E>> {
        self.new_edge(from.id(), to.id(), edge, false)
    }

    /// Connects two nodes with one undirected edge, traversable both ways (`a <+:E:+> b`).
    #[track_caller]
    pub fn connect_undirected<E: EdgeType>(
        &self,
        a: &impl HasId,
        b: &impl HasId,
        edge: E,
    ) -> Result<Edge<E>> {
        self.new_edge(a.id(), b.id(), edge, true)
    }

    #[track_caller]
    fn new_edge<E: EdgeType>(
        &self,
        source: &Id,
        target: &Id,
        edge: E,
        undirected: bool,
    ) -> Result<Edge<E>> {
        let fields = to_fields(&edge)?;
        let stored = self.host.connect(NewEdge {
            source,
            target,
            archetype: E::ARCHETYPE,
            fields: &fields,
            undirected,
        })?;
        Ok(Edge::new(stored, edge))
    }

    /// A neighbour query from `origin`: outgoing edges of any type unless narrowed.
    pub fn neighbors(&self, origin: &impl HasId) -> Neighbors<'_> {
        Neighbors {
            cx: self,
            origin: origin.id().clone(),
            query: NeighborQuery::default(),
        }
    }

    /// Writes a node's fields to the graph (one host call). Needs write access.
    #[track_caller]
    pub fn save<T: NodeType>(&self, node: &Node<T>) -> Result {
        let node = node.to_ref()?;
        self.host.update_node(&node.id, &node.fields)?;
        self.saved.borrow_mut().insert(node.id.clone(), node);
        Ok(())
    }

    /// Writes an edge's fields to the graph. Needs write access to the edge.
    #[track_caller]
    pub fn save_edge<E: EdgeType>(&self, edge: &Edge<E>) -> Result {
        Ok(self.host.update_edge(edge.id(), &to_fields(&**edge)?)?)
    }

    /// Deletes a node and every edge touching it (`del node;`). Needs write access.
    pub fn delete(&self, node: &impl HasId) -> Result {
        self.host.delete_node(node.id())?;
        self.deleted.borrow_mut().insert(node.id().clone());
        Ok(())
    }

    /// Removes every edge from `from` to `to`, of any type (`from del --> to;`); returns
    /// how many. One host call to find them, one per removed edge.
    pub fn disconnect(&self, from: &impl HasId, to: &impl HasId) -> Result<usize> {
        let steps = self.neighbors(from).edges()?;
        let mut removed = 0;
        for step in steps.iter().filter(|step| step.node.id == *to.id()) {
            self.delete_edge(&step.edge)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Deletes one edge. Needs write access to the edge.
    pub fn delete_edge(&self, edge: &impl HasId) -> Result {
        Ok(self.host.delete_edge(edge.id())?)
    }

    /// Gives every root `level` access to a node or edge (`perm_grant`). Needs write access.
    pub fn grant(&self, target: &impl HasId, level: AccessLevel) -> Result {
        Ok(self.host.grant(target.id(), level)?)
    }

    /// Removes the access given to every root (`perm_revoke`). Needs write access.
    pub fn revoke(&self, target: &impl HasId) -> Result {
        Ok(self.host.revoke(target.id())?)
    }

    /// Gives one root `level` access to a node or edge (`allow_root`). Needs write access.
    pub fn allow_root(&self, target: &impl HasId, root: &impl HasId, level: AccessLevel) -> Result {
        Ok(self.host.allow_root(target.id(), root.id(), level)?)
    }

    /// Removes one root's access to a node or edge (`disallow_root`). Needs write access.
    pub fn disallow_root(&self, target: &impl HasId, root: &impl HasId) -> Result {
        Ok(self.host.disallow_root(target.id(), root.id())?)
    }

    /// The caller's effective access level to a node or edge.
    pub fn access(&self, target: &impl HasId) -> AccessLevel {
        self.host.access(target.id())
    }

    /// Spawns `walker` on a node, an id or a list of them, runs it to completion and
    /// returns it with its fields as the run left them (`W() spawn node`).
    ///
    /// Its reports join this call's reports, as in Jac.
    #[track_caller]
    pub fn spawn<W: Walker>(&self, mut walker: W, on: impl Locations) -> Result<W> {
        let start = on.locations(self)?;
        Walk::run(self, &mut walker, start)?;
        Ok(walker)
    }

    /// Whether the node was deleted during this call (queued visits to it are dropped).
    pub(crate) fn is_deleted(&self, id: &Id) -> bool {
        self.deleted.borrow().contains(id)
    }

    /// A queued location with the fields this call last saved for it.
    pub(crate) fn latest(&self, location: NodeRef) -> NodeRef {
        self.saved
            .borrow()
            .get(&location.id)
            .cloned()
            .unwrap_or(location)
    }
}

/// A neighbour query under construction; one of [`Neighbors::nodes`], [`Neighbors::of`]
/// or [`Neighbors::edges`] runs it.
#[must_use = "a neighbour query does nothing until `nodes`, `of` or `edges` runs it"]
pub struct Neighbors<'c> {
    cx: &'c Ctx,
    origin: Id,
    query: NeighborQuery,
}

impl Neighbors<'_> {
    /// Follow edges arriving at the origin (`[<--]`).
    pub fn incoming(mut self) -> Self {
        self.query.direction = Direction::Incoming;
        self
    }

    /// Follow edges in both directions (`[<-->]`).
    pub fn both(mut self) -> Self {
        self.query.direction = Direction::Any;
        self
    }

    /// Only via edges of type `E` (`[->:E:->]`); call again to allow more edge types.
    pub fn via<E: EdgeType>(mut self) -> Self {
        self.query.edge_types.push(E::ARCHETYPE.to_owned());
        self
    }

    /// The neighbour nodes, each once, in edge order (`[-->]`).
    pub fn nodes(self) -> Result<Vec<NodeRef>> {
        self.iter_nodes().collect()
    }

    /// The neighbour nodes of type `T`, each once, in edge order (`[-->][?:T]`).
    #[track_caller]
    pub fn of<T: NodeType>(self) -> Result<Vec<Node<T>>> {
        self.iter_of::<T>().collect()
    }

    /// Each edge taken with the node it leads to (`[edge -->]`).
    pub fn edges(self) -> Result<Vec<Neighbor>> {
        self.iter().collect()
    }

    /// How many nodes [`Neighbors::nodes`] would list (`len([-->])`), counted by the
    /// host: one call, nothing listed, whatever the size of the neighbourhood.
    pub fn count(self) -> Result<u64> {
        Ok(self
            .cx
            .host
            .count_neighbors(&self.origin, &self.query)?
            .nodes)
    }

    /// How many nodes [`Neighbors::of`] would list (`len([-->][?:T])`), counted by the host.
    pub fn count_of<T: NodeType>(mut self) -> Result<u64> {
        self.query.node_types.push(T::ARCHETYPE.to_owned());
        self.count()
    }

    /// How many steps [`Neighbors::edges`] would list (`len([edge -->])`), counted by the host.
    pub fn count_edges(self) -> Result<u64> {
        Ok(self
            .cx
            .host
            .count_neighbors(&self.origin, &self.query)?
            .edges)
    }

    /// The steps of [`Neighbors::edges`], fetched lazily: one host call per page of
    /// [`NEIGHBOR_PAGE`], each page continuing where the last ended, so at most one page
    /// is held at a time however many there are (`for x in [edge -->]`).
    pub fn iter(mut self) -> impl Iterator<Item = Result<Neighbor>> {
        self.query.limit = NEIGHBOR_PAGE;
        Pages {
            neighbors: self,
            page: Vec::new().into_iter(),
            next: Some(None),
        }
    }

    /// The nodes of [`Neighbors::nodes`], fetched lazily page by page (only their ids are
    /// kept, to list each node once).
    pub fn iter_nodes(self) -> impl Iterator<Item = Result<NodeRef>> {
        let mut seen = HashSet::new();
        self.iter().filter_map(move |step| match step {
            Ok(step) => seen.insert(step.node.id.clone()).then_some(Ok(step.node)),
            Err(error) => Some(Err(error)),
        })
    }

    /// The nodes of [`Neighbors::of`], fetched lazily page by page (`for t in [-->][?:T]`).
    #[track_caller]
    pub fn iter_of<T: NodeType>(mut self) -> impl Iterator<Item = Result<Node<T>>> {
        self.query.node_types.push(T::ARCHETYPE.to_owned());
        self.iter_nodes().map(|node| node?.cast())
    }
}

/// The pages of one neighbour query, fetched as they are consumed.
struct Pages<'c> {
    neighbors: Neighbors<'c>,
    page: std::vec::IntoIter<Neighbor>,
    /// The cursor of the next page to fetch (`Some(None)`: the first), `None` once the
    /// last page was fetched or a fetch failed.
    next: Option<Option<String>>,
}

impl Iterator for Pages<'_> {
    type Item = Result<Neighbor>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(step) = self.page.next() {
                return Some(Ok(step));
            }
            let after = self.next.take()?;
            let Neighbors { cx, origin, query } = &self.neighbors;
            match cx.host.neighbors_after(origin, query, after.as_deref()) {
                Ok(page) => {
                    self.next = page.next.map(Some);
                    self.page = page.neighbors.into_iter();
                }
                Err(error) => return Some(Err(error.into())),
            }
        }
    }
}

/// A report's value again; `report` wrote the text with serde_json, so it parses.
fn parse_report(text: &str) -> Value {
    serde_json::from_str(text).expect("a report is JSON written by `report`")
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::prelude::*;
    use crate::testing::MemoryGraph;

    #[node]
    struct Item {
        n: i64,
    }

    #[node]
    struct Other {}

    #[edge]
    struct Follow {
        #[jac(default = 2020)]
        since: i64,
    }

    fn graph() -> (Rc<MemoryGraph>, Ctx) {
        let graph = Rc::new(MemoryGraph::new());
        (graph.clone(), Ctx::new(graph))
    }

    #[test]
    fn counting_is_one_host_call_and_iterating_fetches_page_by_page() {
        let (graph, cx) = graph();
        let root = cx.root();
        let items = 2 * super::NEIGHBOR_PAGE as i64 + 5;
        for n in 0..items {
            cx.attach(&root, Item::new(n)).expect("attach");
        }
        let first = cx.neighbors(&root).of::<Item>().expect("list")[0].clone();
        cx.connect(&root, &first).expect("second edge");
        cx.attach(&root, Other::new()).expect("attach");
        let before = graph.host_calls();
        assert_eq!(
            cx.neighbors(&root).count_of::<Item>().expect("count"),
            items as u64
        );
        assert_eq!(
            cx.neighbors(&root).count().expect("count"),
            items as u64 + 1
        );
        assert_eq!(
            cx.neighbors(&root).count_edges().expect("count"),
            items as u64 + 2
        );
        assert_eq!(graph.host_calls() - before, 3);
        let before = graph.host_calls();
        let mut lazy = cx.neighbors(&root).iter_of::<Item>();
        assert_eq!(lazy.next().expect("one").expect("item").n, 0);
        assert_eq!(graph.host_calls() - before, 1, "one page fetched so far");
        let rest: Vec<i64> = lazy.map(|item| item.expect("item").n).collect();
        assert_eq!(rest, (1..items).collect::<Vec<_>>(), "each once, in order");
        assert_eq!(
            graph.host_calls() - before,
            3,
            "two full pages and a short one"
        );
        cx.report_each(cx.neighbors(&root).iter_of::<Item>().take(2))
            .expect("report");
        let reported = cx.take_reports();
        assert_eq!(reported[0].as_array().expect("a list").len(), 2);
        assert_eq!(reported[0][1]["n"], 1);
    }

    #[test]
    fn listing_a_hundred_nodes_is_one_host_call() {
        let (graph, cx) = graph();
        let root = cx.root();
        for n in 0..100 {
            cx.attach(&root, Item::new(n)).expect("attach");
        }
        let before = graph.host_calls();
        let items = cx.neighbors(&root).of::<Item>().expect("list");
        assert_eq!(graph.host_calls() - before, 1);
        assert_eq!(
            items.iter().map(|item| item.n).collect::<Vec<_>>(),
            (0..100).collect::<Vec<_>>()
        );
    }

    #[test]
    fn long_listings_are_paged() {
        let (graph, cx) = graph();
        let root = cx.root();
        let total = super::NEIGHBOR_PAGE as i64 + 5;
        for n in 0..total {
            cx.attach(&root, Item::new(n)).expect("attach");
        }
        let before = graph.host_calls();
        assert_eq!(
            cx.neighbors(&root).nodes().expect("list").len() as i64,
            total
        );
        assert_eq!(graph.host_calls() - before, 2);
    }

    #[test]
    fn queries_filter_by_direction_edge_type_and_node_type() {
        let (_, cx) = graph();
        let a = cx.attach(&cx.root(), Item::new(1)).expect("a");
        let b = cx.create(Item::new(2)).expect("b");
        let c = cx.create(Other::new()).expect("c");
        let follow = cx.connect_with(&a, &b, Follow::new()).expect("a -> b");
        cx.connect_undirected(&a, &c, GenericEdge {})
            .expect("a <-> c");
        assert_eq!(follow.since, 2020);
        assert_eq!(cx.neighbors(&a).nodes().expect("out").len(), 2);
        assert_eq!(cx.neighbors(&a).of::<Item>().expect("items")[0].n, 2);
        assert_eq!(
            cx.neighbors(&a).via::<Follow>().nodes().expect("via")[0].id,
            *b.id()
        );
        assert_eq!(
            cx.neighbors(&b).incoming().nodes().expect("in")[0].id,
            *a.id()
        );
        assert_eq!(cx.neighbors(&c).nodes().expect("undirected")[0].id, *a.id());
        assert_eq!(cx.neighbors(&a).both().edges().expect("edges").len(), 3);
    }

    #[test]
    fn saved_and_deleted_nodes_are_seen_by_later_reads() {
        let (graph, cx) = graph();
        let mut item = cx.attach(&cx.root(), Item::new(1)).expect("attach");
        item.n = 5;
        cx.save(&item).expect("save");
        assert_eq!(cx.get_as::<Item>(&item).expect("get").n, 5);
        cx.delete(&item).expect("delete");
        assert_eq!(graph.node_count(), 1);
        assert!(cx.neighbors(&cx.root()).nodes().expect("list").is_empty());
        assert!(matches!(
            cx.get(&item),
            Err(Error::Host(HostError::NotFound(_)))
        ));
    }

    #[test]
    fn disconnect_removes_only_the_edges_between_the_two_nodes() {
        let (_, cx) = graph();
        let a = cx.attach(&cx.root(), Item::new(1)).expect("a");
        let b = cx.attach(&a, Item::new(2)).expect("b");
        cx.connect_with(&a, &b, Follow::new())
            .expect("a -> b again");
        let c = cx.attach(&a, Item::new(3)).expect("c");
        assert_eq!(cx.disconnect(&a, &b).expect("disconnect"), 2);
        let left = cx.neighbors(&a).nodes().expect("list");
        assert_eq!(
            left.iter().map(|node| &node.id).collect::<Vec<_>>(),
            [c.id()]
        );
        assert_eq!(cx.disconnect(&a, &b).expect("nothing left"), 0);
    }

    #[test]
    fn permission_calls_reach_the_host() {
        let (graph, cx) = graph();
        let item = cx.create(Item::new(1)).expect("create");
        let friend = Id::from("ab".repeat(16));
        cx.grant(&item, AccessLevel::Read).expect("grant");
        cx.allow_root(&item, &friend, AccessLevel::Write)
            .expect("allow");
        assert_eq!(graph.granted(item.id()), Some(AccessLevel::Read));
        assert_eq!(graph.allowed(item.id(), &friend), Some(AccessLevel::Write));
        cx.revoke(&item).expect("revoke");
        cx.disallow_root(&item, &friend).expect("disallow");
        assert_eq!(
            (graph.granted(item.id()), graph.allowed(item.id(), &friend)),
            (None, None)
        );
        assert_eq!(cx.access(&item), AccessLevel::Write);
    }

    #[test]
    fn streamed_values_go_to_the_host_not_to_the_reports() {
        let (host, cx) = graph();
        cx.stream(serde_json::json!({"n": 1})).expect("stream");
        cx.stream("two").expect("stream");
        assert_eq!(
            host.streamed(),
            [serde_json::json!({"n": 1}), serde_json::json!("two")]
        );
        assert!(cx.reports().is_empty());
    }

    #[test]
    fn reports_serialize_nodes_like_jac() {
        let (_, cx) = graph();
        let item = cx.attach(&cx.root(), Item::new(7)).expect("attach");
        cx.report([&item]).expect("report");
        assert_eq!(
            cx.reports(),
            vec![
                json!([{"_jac_type": "Item", "_jac_id": item.id().as_str(), "_jac_archetype": "node", "n": 7}])
            ]
        );
    }
}
