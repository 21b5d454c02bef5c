//! Object-spatial programming: spawning walkers and the traversal algorithm,
//! `visit`/`disengage`, connect and disconnect operators, edge references
//! with their typed hops and filters, and assign comprehensions.
//!
//! Traversal (jaclang 0.9.8 - 0.36): one FIFO queue per spawn shared by every
//! location; children queued by `visit` are processed one at a time, so
//! entries fire in queue order and exits in exact reverse. The recursion of
//! the reference algorithm is run with an explicit stack of pending exits,
//! so long chains do not grow the native stack.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::graph::Direction;
use crate::syntax::ast::{
    ConnectDir, ConnectOp, EdgeDir, EdgeOp, EdgeRef, EdgeRefKind, Expr, ExprKind, Filter,
    FilterCond, HopTarget, Name,
};
use crate::value::{ArchKind, Args, Class, ExcType, Exception, Instance, JacResult, Str, Value};

use super::Interpreter;
use super::env::Scope;
use super::function::Ability;

/// One result of a hop: the edge followed (when asked for) and the node reached.
type HopStep = (Option<Rc<Instance>>, Rc<Instance>);

/// The ability groups run at each location, in entry order.
#[derive(Clone, Copy)]
enum Group {
    /// The walker's abilities typed on the location's type.
    WalkerOnLocation,
    /// The location's untyped abilities.
    LocationUntyped,
    /// The location's abilities typed on the walker's type.
    LocationOnWalker,
}

/// The state of one running spawn.
pub(crate) struct WalkerRun {
    queue: VecDeque<Value>,
    /// The list reports go to (the walker's `reports`).
    pub(crate) reports: Rc<RefCell<Vec<Value>>>,
    disengaged: bool,
    last: Option<Value>,
}

fn instance_of(v: &Value) -> Option<&Rc<Instance>> {
    match v {
        Value::Instance(i) => Some(i),
        _ => None,
    }
}

impl Interpreter {
    /// `a spawn b`: whichever side is a walker runs on the other (prefix form: on `here`).
    pub(crate) fn eval_spawn(
        &mut self,
        left: Option<&Expr>,
        right: &Expr,
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let r = self.eval(right, scope)?;
        let l = match left {
            Some(e) => self.eval(e, scope)?,
            None => self.lookup("here", scope)?,
        };
        let is_walker =
            |v: &Value| instance_of(v).is_some_and(|i| i.class.is_kind(ArchKind::Walker));
        let (walker, location) = if is_walker(&r) {
            (r, l)
        } else if is_walker(&l) {
            (l, r)
        } else {
            return Err(Exception::new(
                ExcType::TypeError,
                "spawn needs a walker instance on one side",
            ));
        };
        self.spawn(walker, location)
    }

    /// Runs a walker from `start` (a node, an edge, or a list of them) to completion.
    pub fn spawn(&mut self, walker: Value, start: Value) -> JacResult<Value> {
        let Value::Instance(w) = walker.clone() else {
            return Err(Exception::new(
                ExcType::TypeError,
                "spawn needs a walker instance",
            ));
        };
        let reports = match w.get("reports") {
            Some(Value::List(l)) => l,
            _ => {
                let l = Rc::new(RefCell::new(Vec::new()));
                w.set("reports", Value::List(l.clone()));
                l
            }
        };
        let mut queue = VecDeque::new();
        self.enqueue(&start, &mut queue)?;
        let first = queue.front().cloned().unwrap_or(Value::None);
        self.walkers.push(WalkerRun {
            queue,
            reports,
            disengaged: false,
            last: None,
        });
        let result = self.run_traversal(&w, first);
        self.walkers.pop();
        result.map(|()| walker)
    }

    fn run_traversal(&mut self, walker: &Rc<Instance>, first: Value) -> JacResult<()> {
        let abilities = walker.class.abilities.clone();
        for ab in abilities.iter().filter(|a| a.is_untyped() && a.is_entry()) {
            self.invoke_ability(ab, walker, &first, true)?;
            if self.current_run().disengaged {
                return Ok(());
            }
        }
        let mut pending_exits: Vec<Value> = Vec::new();
        loop {
            if self.current_run().disengaged {
                return Ok(());
            }
            let next = self.current_run_mut().queue.pop_front();
            match next {
                Some(loc) => {
                    self.current_run_mut().last = Some(loc.clone());
                    self.location_phase(walker, &loc, true)?;
                    pending_exits.push(loc);
                }
                None => match pending_exits.pop() {
                    Some(loc) => self.location_phase(walker, &loc, false)?,
                    None => break,
                },
            }
        }
        let last = self.current_run().last.clone();
        if let Some(here) = last {
            for ab in abilities.iter().filter(|a| a.is_untyped() && !a.is_entry()) {
                self.invoke_ability(ab, walker, &here, true)?;
                if self.current_run().disengaged {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Entry (or exit) abilities at one location, in the reference order.
    fn location_phase(&mut self, walker: &Rc<Instance>, loc: &Value, entry: bool) -> JacResult<()> {
        // Entry: walker-typed-on-location, location-untyped, location-typed-on-walker.
        // Exit: location-typed-on-walker, location-untyped, walker-typed-on-location.
        let order = if entry {
            [
                Group::WalkerOnLocation,
                Group::LocationUntyped,
                Group::LocationOnWalker,
            ]
        } else {
            [
                Group::LocationOnWalker,
                Group::LocationUntyped,
                Group::WalkerOnLocation,
            ]
        };
        for group in order {
            if !self.run_group(group, walker, loc, entry)? {
                break;
            }
        }
        Ok(())
    }

    /// Runs one group of abilities at a location; `false` once the walker disengaged.
    fn run_group(
        &mut self,
        group: Group,
        walker: &Rc<Instance>,
        loc: &Value,
        entry: bool,
    ) -> JacResult<bool> {
        let walker_value = Value::Instance(walker.clone());
        let (class, target, location) = match group {
            Group::WalkerOnLocation => (walker.class.clone(), loc, None),
            Group::LocationUntyped | Group::LocationOnWalker => match instance_of(loc) {
                Some(i) => (i.class.clone(), &walker_value, Some(i)),
                None => return Ok(true),
            },
        };
        for ab in &class.abilities {
            if ab.is_entry() != entry {
                continue;
            }
            let selected = match group {
                Group::LocationUntyped => ab.is_untyped(),
                _ => !ab.is_untyped() && self.triggers_match(ab, target)?,
            };
            if !selected {
                continue;
            }
            match location {
                None => self.invoke_ability(ab, walker, loc, true)?,
                Some(node) => self.invoke_ability(ab, node, &walker_value, false)?,
            }
            if self.current_run().disengaged {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn triggers_match(&mut self, ab: &Ability, target: &Value) -> JacResult<bool> {
        if ab.triggers.get().is_none() {
            let scope = Scope::module(ab.globals.clone());
            let mut classes = Vec::new();
            for t in &ab.decl.event.triggers {
                match self.eval(t, &scope)? {
                    Value::Class(c) => classes.push(c),
                    Value::Tuple(items) => classes.extend(items.iter().filter_map(|v| match v {
                        Value::Class(c) => Some(c.clone()),
                        _ => None,
                    })),
                    other => {
                        return Err(Exception::new(
                            ExcType::TypeError,
                            format!("ability trigger must be a type, not {}", other.type_name()),
                        ));
                    }
                }
            }
            let _ = ab.triggers.set(classes);
        }
        let class = crate::builtins::class_of(target);
        Ok(ab
            .triggers
            .get()
            .is_some_and(|ts| ts.iter().any(|t| class.is_subclass(t))))
    }

    /// Runs one ability. Walker abilities see `self` = walker, `here` = location;
    /// node/edge abilities see `self` = the location, `visitor` = the walker.
    fn invoke_ability(
        &mut self,
        ab: &Ability,
        owner: &Rc<Instance>,
        other: &Value,
        walker_side: bool,
    ) -> JacResult<()> {
        let Some(body) = &ab.decl.body else {
            return Ok(());
        };
        self.nested(|vm| {
            let scope = Scope::new(ab.globals.clone(), None);
            let names = vm.names.clone();
            scope.assign(&names.self_ref, Value::Instance(owner.clone()));
            if walker_side {
                scope.assign(&names.here, other.clone());
            } else {
                scope.assign(&names.here, Value::Instance(owner.clone()));
                scope.assign(&names.visitor, other.clone());
            }
            if let Some(c) = ab.owner.get() {
                scope.assign(&names.class_cell, Value::Class(c.clone()));
            }
            match vm.exec_block(body, &scope) {
                Ok(_) => Ok(()),
                Err(e) => Err(vm.add_frame(e, ab.decl.span, &ab.name())),
            }
        })
    }

    fn current_run(&self) -> &WalkerRun {
        self.walkers
            .last()
            .expect("a walker run is active during traversal")
    }

    fn current_run_mut(&mut self) -> &mut WalkerRun {
        self.walkers
            .last_mut()
            .expect("a walker run is active during traversal")
    }

    /// Appends locations for `target` (node, edge + its target, or a list) to `queue`.
    fn enqueue(&mut self, target: &Value, queue: &mut VecDeque<Value>) -> JacResult<()> {
        match target {
            Value::List(items) => {
                for item in items.borrow().clone() {
                    self.enqueue(&item, queue)?;
                }
            }
            Value::Tuple(items) => {
                for item in items.iter() {
                    self.enqueue(item, queue)?;
                }
            }
            Value::None => {}
            Value::Instance(inst) if inst.class.is_kind(ArchKind::Edge) => {
                queue.push_back(target.clone());
                let dest = inst
                    .anchor
                    .borrow()
                    .as_ref()
                    .and_then(|a| a.edge.as_ref().map(|e| e.target.clone()));
                if let Some(id) = dest
                    && let Some(node) = self.load_node(&id)?
                {
                    queue.push_back(node);
                }
            }
            Value::Instance(inst) if inst.class.is_kind(ArchKind::Node) => {
                queue.push_back(target.clone())
            }
            other => {
                return Err(Exception::new(
                    ExcType::TypeError,
                    format!(
                        "cannot visit a '{}' (expected a node, an edge or a list)",
                        other.type_name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `visit target;` (`front` for `visit :0:`). Returns whether anything was queued.
    pub(crate) fn visit(&mut self, target: &Value, front: bool) -> JacResult<bool> {
        if self.walkers.is_empty() {
            return Err(Exception::new(
                ExcType::RuntimeError,
                "visit used outside a walker",
            ));
        }
        let mut added = VecDeque::new();
        self.enqueue(target, &mut added)?;
        let queued = !added.is_empty();
        let run = self.current_run_mut();
        if front {
            for v in added.into_iter().rev() {
                run.queue.push_front(v);
            }
        } else {
            run.queue.extend(added);
        }
        Ok(queued)
    }

    /// `disengage;`: stop the current walker now (no further entries or exits).
    pub(crate) fn disengage(&mut self) {
        if let Some(run) = self.walkers.last_mut() {
            run.disengaged = true;
            run.queue.clear();
        }
    }

    /// The nodes of a connect operand (a node or a list of nodes).
    fn node_operands(&self, v: &Value) -> JacResult<Vec<Rc<Instance>>> {
        let items = match v {
            Value::List(l) => l.borrow().clone(),
            Value::Tuple(t) => t.to_vec(),
            other => vec![other.clone()],
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::Instance(i) if i.class.is_kind(ArchKind::Node) => Ok(i),
                other => Err(Exception::new(
                    ExcType::TypeError,
                    format!("connect operands must be nodes, not {}", other.type_name()),
                )),
            })
            .collect()
    }

    /// `a ++> b`, `a <++ b`, `a <++> b`, `a +>:E(..):+> b`: returns the target-side nodes as a list.
    pub(crate) fn eval_connect(
        &mut self,
        left: &Expr,
        op: &ConnectOp,
        right: &Expr,
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let l = self.eval(left, scope)?;
        let r = self.eval(right, scope)?;
        let lefts = self.node_operands(&l)?;
        let rights = self.node_operands(&r)?;
        for a in &lefts {
            for b in &rights {
                let edge = self.new_edge(op, scope)?;
                let (src, dst) = match op.dir {
                    ConnectDir::Forward | ConnectDir::Undirected => (a, b),
                    ConnectDir::Backward => (b, a),
                };
                self.connect_nodes(src, dst, &edge, op.dir == ConnectDir::Undirected)?;
            }
        }
        let result = if op.dir == ConnectDir::Backward {
            lefts
        } else {
            rights
        };
        Ok(Value::list(
            result.into_iter().map(Value::Instance).collect(),
        ))
    }

    fn new_edge(&mut self, op: &ConnectOp, scope: &Rc<Scope>) -> JacResult<Rc<Instance>> {
        let edge = match &op.edge {
            None => self.instantiate(&self.generic_edge_class.clone(), Args::default())?,
            Some(e) => match self.eval(e, scope)? {
                Value::Class(c) => self.instantiate(&c, Args::default())?,
                other => other,
            },
        };
        let Value::Instance(edge) = edge else {
            return Err(Exception::new(
                ExcType::TypeError,
                "the edge of a connect must be an edge type or instance",
            ));
        };
        if !edge.class.is_kind(ArchKind::Edge) {
            return Err(Exception::new(
                ExcType::TypeError,
                format!("'{}' is not an edge type", edge.class.name),
            ));
        }
        for (name, e) in &op.attrs {
            let v = self.eval(e, scope)?;
            edge.set(name, v);
        }
        Ok(edge)
    }

    /// `a del --> b`: removes the matching connections between the operands.
    pub(crate) fn eval_disconnect(
        &mut self,
        left: &Expr,
        op: &EdgeOp,
        right: &Expr,
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let l = self.eval(left, scope)?;
        let r = self.eval(right, scope)?;
        let lefts = self.node_operands(&l)?;
        let rights: Vec<Str> = self
            .node_operands(&r)?
            .iter()
            .filter_map(|n| n.id())
            .collect();
        for a in lefts {
            for (edge, node) in self.hop(&a, op, true, scope)? {
                if let Some(edge) = edge
                    && node.id().is_some_and(|id| rights.contains(&id))
                {
                    self.destroy(&Value::Instance(edge))?;
                }
            }
        }
        Ok(Value::None)
    }

    /// The subtype names of an edge type (for the graph's edge-type filter).
    fn edge_type_names(&mut self, ty: &Expr, scope: &Rc<Scope>) -> JacResult<Vec<String>> {
        let Value::Class(c) = self.eval(ty, scope)? else {
            return Err(Exception::new(
                ExcType::TypeError,
                "edge filter must be an edge type",
            ));
        };
        let mut names: Vec<String> = self
            .classes
            .values()
            .filter(|k| k.is_subclass(&c))
            .map(|k| k.name.to_string())
            .collect();
        if c.is_subclass(&self.generic_edge_class) {
            names.push(c.name.to_string());
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// One hop from `node`: the (edge, node) pairs passing the edge type and
    /// predicates. Edge instances are only built when `need_edges` (or when edge
    /// predicates must read them); otherwise the edge half is `None`.
    fn hop(
        &mut self,
        node: &Rc<Instance>,
        op: &EdgeOp,
        need_edges: bool,
        scope: &Rc<Scope>,
    ) -> JacResult<Vec<HopStep>> {
        let Some(id) = node.id().filter(|_| node.is_persisted()) else {
            return Ok(Vec::new());
        };
        let dir = graph_direction(op.dir);
        let types = match &op.edge_type {
            Some(t) => Some(self.edge_type_names(t, scope)?),
            None => None,
        };
        let type_refs: Option<Vec<&str>> = types
            .as_ref()
            .map(|t| t.iter().map(String::as_str).collect());
        if !need_edges && op.conds.is_empty() {
            return self
                .neighbour_instances(&id, dir, type_refs.as_deref())
                .map(|nodes| nodes.into_iter().map(|n| (None, n)).collect());
        }
        let found = self
            .graph
            .neighbours(&id, dir, type_refs.as_deref())
            .map_err(super::graph_error)?;
        let mut out = Vec::with_capacity(found.len());
        for n in found {
            let edge = self.edge_from_data(n.edge)?;
            if !op.conds.is_empty()
                && !self.conds_hold(&Value::Instance(edge.clone()), &op.conds, scope)?
            {
                continue;
            }
            let node = self.node_from_data(n.node)?;
            out.push((Some(edge), node));
        }
        Ok(out)
    }

    /// `[origin hop...]`: the nodes (or edges) reached.
    pub(crate) fn eval_edge_ref(&mut self, r: &EdgeRef, scope: &Rc<Scope>) -> JacResult<Value> {
        let origin = self.edge_ref_origin(r, scope)?;
        self.edge_ref_from(&origin, r, scope)
    }

    /// `len(e)` for an edge reference `e` the graph can count without listing it: one hop
    /// from one stored node, no edge predicates or destination, at most one filter of node
    /// types by name (`len([-->])`, `len([root -->][?:Todo])`, `len([me -->[?:Board]])`,
    /// `len([edge ->:E:->])`). The
    /// count is what `len` of the list would be: each node once, subtypes included; what
    /// cannot be counted so (a node type that is not a node archetype, several origins) is
    /// listed and measured as usual. `None` (nothing evaluated) for any other `e`.
    pub(crate) fn count_edge_ref(&mut self, e: &Expr, scope: &Rc<Scope>) -> JacResult<Option<i64>> {
        let (r, outer) = match &e.kind {
            ExprKind::EdgeRef(r) => (&**r, None),
            ExprKind::Filter { value, filter } => match &value.kind {
                ExprKind::EdgeRef(r) if r.kind == EdgeRefKind::Nodes => (&**r, Some(filter)),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let [hop] = r.hops.as_slice() else {
            return Ok(None);
        };
        let inner = match &hop.target {
            None => None,
            Some(HopTarget::Filter(f)) => Some(f),
            Some(HopTarget::Dest(_)) => return Ok(None),
        };
        let filter = match (inner, outer) {
            (Some(_), Some(_)) => return Ok(None),
            (one, None) | (None, one) => one,
        };
        let types = filter.map_or(&[][..], |f| f.types.as_slice());
        let by_name = types.iter().all(|t| matches!(t.kind, ExprKind::Name(_)));
        if !hop.op.conds.is_empty() || filter.is_some_and(|f| !f.conds.is_empty()) || !by_name {
            return Ok(None);
        }
        let origin = self.edge_ref_origin(r, scope)?;
        let counted = match self.node_type_names(types, scope) {
            Some(node_types) => self.count_hop(&origin, &hop.op, r.kind, &node_types, scope)?,
            None => None,
        };
        if let Some(count) = counted {
            return Ok(Some(count));
        }
        let mut listed = self.edge_ref_from(&origin, r, scope)?;
        if let Some(filter) = outer {
            listed = self.apply_filter(&listed, filter, scope)?;
        }
        Ok(Some(match &listed {
            Value::List(items) => items.borrow().len() as i64,
            _ => 0,
        }))
    }

    /// The archetype names a node-type filter accepts (each type and its subtypes), or
    /// `None` when a type is not a node archetype (then only `isinstance` can tell).
    fn node_type_names(&mut self, types: &[Expr], scope: &Rc<Scope>) -> Option<Vec<String>> {
        let mut names = Vec::new();
        for t in types {
            let Ok(Value::Class(c)) = self.eval(t, scope) else {
                return None;
            };
            if !c.is_kind(ArchKind::Node) {
                return None;
            }
            let subtypes = self.classes.values().filter(|k| k.is_subclass(&c));
            names.extend(subtypes.map(|k| k.name.to_string()));
            names.push(c.name.to_string());
        }
        names.sort();
        names.dedup();
        Some(names)
    }

    /// The graph's count of one hop from `origin`, if it is one stored node.
    fn count_hop(
        &mut self,
        origin: &Value,
        op: &EdgeOp,
        kind: EdgeRefKind,
        node_types: &[String],
        scope: &Rc<Scope>,
    ) -> JacResult<Option<i64>> {
        let Ok(operands) = self.node_operands(origin) else {
            return Ok(None);
        };
        let [node] = operands.as_slice() else {
            return Ok(None);
        };
        let Some(id) = node.id().filter(|_| node.is_persisted()) else {
            return Ok(None);
        };
        let dir = graph_direction(op.dir);
        let edge_types = match &op.edge_type {
            Some(t) => Some(self.edge_type_names(t, scope)?),
            None => None,
        };
        let edge_refs: Option<Vec<&str>> = edge_types
            .as_ref()
            .map(|t| t.iter().map(String::as_str).collect());
        let node_refs: Vec<&str> = node_types.iter().map(String::as_str).collect();
        let count = self
            .graph
            .count_neighbours(
                &id,
                dir,
                edge_refs.as_deref(),
                (!node_refs.is_empty()).then_some(node_refs.as_slice()),
            )
            .map_err(super::graph_error)?;
        let count = match kind {
            EdgeRefKind::Nodes => count.nodes,
            EdgeRefKind::Edges => count.edges,
        };
        Ok(Some(i64::try_from(count).unwrap_or(i64::MAX)))
    }

    /// The origin of an edge reference: its expression, else `here` in walker abilities,
    /// `self` elsewhere.
    fn edge_ref_origin(&mut self, r: &EdgeRef, scope: &Rc<Scope>) -> JacResult<Value> {
        match &r.origin {
            Some(e) => self.eval(e, scope),
            None => match scope.lookup("here") {
                Some(h) => Ok(h),
                None => self.lookup("self", scope),
            },
        }
    }

    /// The nodes (or edges) an edge reference reaches from `origin`.
    fn edge_ref_from(
        &mut self,
        origin: &Value,
        r: &EdgeRef,
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let mut current = self.node_operands(origin)?;
        let need_edges = r.kind == EdgeRefKind::Edges;
        let mut edges: Vec<Option<Rc<Instance>>> = Vec::new();
        for hop in &r.hops {
            let mut next: Vec<Rc<Instance>> = Vec::new();
            edges.clear();
            for node in &current {
                for (edge, n) in self.hop(node, &hop.op, need_edges, scope)? {
                    edges.push(edge);
                    next.push(n);
                }
            }
            let keep = match &hop.target {
                None => vec![true; next.len()],
                Some(HopTarget::Filter(f)) => {
                    let mut keep = Vec::with_capacity(next.len());
                    for n in &next {
                        keep.push(self.filter_accepts(&Value::Instance(n.clone()), f, scope)?);
                    }
                    keep
                }
                Some(HopTarget::Dest(e)) => {
                    let dest = self.eval(e, scope)?;
                    let dest_ids: Vec<Str> = self
                        .node_operands(&dest)?
                        .iter()
                        .filter_map(|n| n.id())
                        .collect();
                    next.iter()
                        .map(|n| n.id().is_some_and(|id| dest_ids.contains(&id)))
                        .collect()
                }
            };
            let mut kept_nodes = Vec::with_capacity(next.len());
            let mut kept_edges = Vec::with_capacity(next.len());
            let mut seen: rustc_hash::FxHashSet<*const Instance> =
                rustc_hash::FxHashSet::with_capacity_and_hasher(next.len(), Default::default());
            for ((n, e), k) in next.into_iter().zip(edges.drain(..)).zip(keep) {
                if k {
                    kept_edges.push(e);
                    if seen.insert(Rc::as_ptr(&n)) {
                        kept_nodes.push(n);
                    }
                }
            }
            edges = kept_edges;
            current = kept_nodes;
        }
        let out: Vec<Value> = match r.kind {
            EdgeRefKind::Nodes => current.into_iter().map(Value::Instance).collect(),
            EdgeRefKind::Edges => edges.into_iter().flatten().map(Value::Instance).collect(),
        };
        Ok(Value::list(out))
    }

    fn filter_accepts(&mut self, v: &Value, f: &Filter, scope: &Rc<Scope>) -> JacResult<bool> {
        if !f.types.is_empty() {
            let mut any = false;
            for t in &f.types {
                let ty = self.eval(t, scope)?;
                if self.isinstance(v, &ty)? {
                    any = true;
                    break;
                }
            }
            if !any {
                return Ok(false);
            }
        }
        self.conds_hold(v, &f.conds, scope)
    }

    fn conds_hold(
        &mut self,
        v: &Value,
        conds: &[FilterCond],
        scope: &Rc<Scope>,
    ) -> JacResult<bool> {
        for c in conds {
            let field = match v {
                Value::Instance(i) => i.get(&c.field),
                Value::Dict(d) => d.borrow().get_str(&c.field),
                _ => None,
            };
            let Some(field) = field else { return Ok(false) };
            let rhs = self.eval(&c.value, scope)?;
            if !self.compare(c.op, &field, &rhs)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `items[?:T, cond]`: the elements that pass the filter.
    pub(crate) fn apply_filter(
        &mut self,
        v: &Value,
        f: &Filter,
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let mut out = Vec::new();
        for item in self.iterate(v)? {
            if self.filter_accepts(&item, f, scope)? {
                out.push(item);
            }
        }
        Ok(Value::list(out))
    }

    /// `items(=a=1, b=2)`: sets the fields on every element; yields the operand.
    pub(crate) fn assign_comprehension(
        &mut self,
        v: &Value,
        assigns: &[(Name, Expr)],
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let mut values = Vec::with_capacity(assigns.len());
        for (name, e) in assigns {
            values.push((name.clone(), self.eval(e, scope)?));
        }
        let targets = match v {
            Value::List(_) | Value::Tuple(_) => self.iterate(v)?,
            other => vec![other.clone()],
        };
        for t in targets {
            for (name, value) in &values {
                self.set_attr(&t, name, value.clone())?;
            }
        }
        Ok(v.clone())
    }

    /// Attributes every instance of some builtin archetypes has (`root.shared`).
    pub(crate) fn special_instance_attr(
        &mut self,
        inst: &Rc<Instance>,
        name: &str,
    ) -> JacResult<Option<Value>> {
        if name == "shared" && Rc::ptr_eq(&inst.class, &self.root_class) {
            return match self.graph.shared_root_id() {
                Some(id) => self.load_node(&id),
                None => Ok(Some(Value::Instance(inst.clone()))),
            };
        }
        if name == "__jac__" && inst.class.exception_type().is_none() {
            return self.anchor_view(inst).map(Some);
        }
        Ok(None)
    }

    /// `x.__jac__`: the instance's anchor, whose `id` is a `uuid.UUID` with
    /// `id.hex == jid(x)` (a plain id string when no `uuid` module is available).
    fn anchor_view(&mut self, inst: &Rc<Instance>) -> JacResult<Value> {
        let hex = self.anchors.ensure_id(inst, self.graph.as_mut());
        let id = match self.load_module("uuid").ok().and_then(|m| m.get("UUID")) {
            Some(uuid) => self.call_value(&uuid, Args::new(vec![Value::Str(hex)]))?,
            None => Value::Str(hex),
        };
        let kind = if inst.class.is_kind(ArchKind::Node) {
            "NodeAnchor"
        } else if inst.class.is_kind(ArchKind::Edge) {
            "EdgeAnchor"
        } else if inst.class.is_kind(ArchKind::Walker) {
            "WalkerAnchor"
        } else {
            "Anchor"
        };
        let class = Rc::new(Class::new(
            kind,
            ArchKind::Class,
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ));
        Ok(Value::Object(Rc::new(AnchorView { class, id })))
    }

    /// The classes known to the program (node/edge/walker/obj), by name.
    pub fn archetype(&self, name: &str) -> Option<Rc<Class>> {
        self.classes.get(name).cloned()
    }
}

/// The graph's direction of an edge operator.
fn graph_direction(dir: EdgeDir) -> Direction {
    match dir {
        EdgeDir::Out => Direction::Out,
        EdgeDir::In => Direction::In,
        EdgeDir::Any => Direction::Any,
    }
}

/// What `x.__jac__` returns: the archetype's anchor (only `id` is exposed).
struct AnchorView {
    /// `NodeAnchor`, `EdgeAnchor`, `WalkerAnchor` or `Anchor`.
    class: Rc<Class>,
    id: Value,
}

impl crate::value::NativeObject for AnchorView {
    fn type_name(&self) -> &str {
        &self.class.name
    }

    fn repr(&self) -> String {
        format!(
            "{}(id={})",
            self.class.name,
            crate::value::repr::repr(&self.id)
        )
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(self.class.clone())
    }

    fn get_attr(&self, _this: &Value, name: &str) -> Option<Value> {
        (name == "id").then(|| self.id.clone())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
