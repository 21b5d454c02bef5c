//! Graph persistence for one call: lazy loading of nodes and edges (one
//! instance per id, so aliases share mutations), creation on first
//! connection, and write-back of changed fields at the end of the call.

use std::rc::Rc;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value as Json};

use crate::graph::{AccessLevel, Direction, EdgeData, Fields, Graph, GraphError, NodeData};
use crate::value::class::EdgeEnds;
use crate::value::json::{ARCHETYPE_KEY, ID_KEY, TYPE_KEY, from_json, to_json};
use crate::value::{Anchor, ArchKind, Class, ExcType, Exception, Instance, JacResult, Str, Value};

use super::{Interpreter, graph_error};

struct Loaded {
    instance: Rc<Instance>,
    /// Fields as last read from / written to the graph.
    snapshot: Snapshot,
}

/// Stored field values of an instance, aligned with its class's declared
/// fields (one small allocation instead of a copy of the stored map).
pub(crate) struct Snapshot {
    /// The stored value of each declared field (`None` = not stored).
    values: Box<[Option<Json>]>,
    /// The stored record also had keys that are not declared fields.
    extra_keys: bool,
}

impl Snapshot {
    /// The declared fields of `class` picked out of a stored record.
    pub(crate) fn of(class: &Class, fields: &Fields) -> Self {
        let values: Box<[Option<Json>]> = class
            .fields
            .iter()
            .map(|f| fields.get(&*f.name).cloned())
            .collect();
        let stored = values.iter().filter(|v| v.is_some()).count();
        Self {
            extra_keys: stored != fields.len(),
            values,
        }
    }

    /// The stored value of the `index`-th declared field.
    fn value(&self, index: usize) -> Option<&Json> {
        self.values.get(index).and_then(Option::as_ref)
    }
}

/// The nodes and edges loaded or created during the current call, by id.
#[derive(Default)]
pub(crate) struct AnchorCache {
    entries: FxHashMap<Str, Loaded>,
    order: Vec<Str>,
}

impl AnchorCache {
    fn get(&self, id: &str) -> Option<Rc<Instance>> {
        self.entries.get(id).map(|l| l.instance.clone())
    }

    fn insert(&mut self, id: Str, instance: Rc<Instance>, snapshot: Snapshot) {
        if self
            .entries
            .insert(id.clone(), Loaded { instance, snapshot })
            .is_none()
        {
            self.order.push(id);
        }
    }

    /// Makes room for `additional` more entries.
    fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
        self.order.reserve(additional);
    }

    fn remove(&mut self, id: &str) {
        self.entries.remove(id);
    }

    /// Forgets everything (end of call).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// The id of an instance, assigning a fresh one if it has none yet.
    pub(crate) fn ensure_id(&mut self, inst: &Rc<Instance>, graph: &mut dyn Graph) -> Str {
        if let Some(id) = inst.id() {
            return id;
        }
        let stored = inst.class.is_kind(ArchKind::Node) || inst.class.is_kind(ArchKind::Edge);
        let id: Str = if stored {
            graph.new_id()
        } else {
            graph.new_object_id()
        }
        .into();
        *inst.anchor.borrow_mut() = Some(Anchor {
            id: id.clone(),
            persisted: false,
            edge: None,
        });
        id
    }
}

/// The declared fields of an instance as stored JSON.
fn stored_fields(inst: &Rc<Instance>, cache: &mut AnchorCache, graph: &mut dyn Graph) -> Fields {
    let mut out = Map::new();
    for (name, value) in inst.declared_fields() {
        let mut id_of = |i: &Rc<Instance>| cache.ensure_id(i, graph);
        out.insert(name.to_string(), to_json(&value, &mut id_of));
    }
    out
}

/// Whether the declared fields still equal their stored JSON, checked without
/// allocating for the common scalar fields (containers and objects are re-serialised).
fn unchanged(inst: &Instance, snapshot: &Snapshot) -> bool {
    if snapshot.extra_keys {
        return false;
    }
    let mut present = 0;
    let same = inst.all_declared(|index, _, value| {
        present += 1;
        let Some(stored) = snapshot.value(index) else {
            return false;
        };
        match (value, stored) {
            (Value::None, Json::Null) => true,
            (Value::Bool(a), Json::Bool(b)) => a == b,
            (Value::Int(a), Json::Number(b)) => b.as_i64() == Some(*a),
            (Value::Float(a), Json::Number(b)) => {
                !b.is_i64() && !b.is_u64() && b.as_f64() == Some(*a)
            }
            (Value::Str(a), Json::String(b)) => **a == **b,
            (Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_), _) => {
                false
            }
            (other, stored) => {
                let mut known_ids = |i: &Rc<Instance>| i.id().unwrap_or_default();
                to_json(other, &mut known_ids) == *stored
            }
        }
    });
    same && present == snapshot.values.iter().flatten().count()
}

/// The class of a stored archetype name: `Root`, `GenericEdge` or a declared one.
fn lookup_class(
    (root, generic_edge, classes): (&Rc<Class>, &Rc<Class>, &FxHashMap<Str, Rc<Class>>),
    name: &str,
) -> Option<Rc<Class>> {
    match name {
        "Root" => Some(root.clone()),
        "GenericEdge" => Some(generic_edge.clone()),
        _ => classes.get(name).cloned(),
    }
}

fn unknown_archetype(name: &str) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!("unknown archetype '{name}' in stored graph"),
    )
}

/// Parses an access level argument: an `AccessLevel` member, its name, or its number.
pub(crate) fn access_level(v: &Value) -> JacResult<AccessLevel> {
    let by_name = |s: &str| match s.to_ascii_uppercase().as_str() {
        "NO_ACCESS" | "NOPERM" | "NO" => Some(AccessLevel::NoPerm),
        "READ" | "READPERM" => Some(AccessLevel::Read),
        "CONNECT" | "CONNECTPERM" => Some(AccessLevel::Connect),
        "WRITE" | "WRITEPERM" => Some(AccessLevel::Write),
        _ => None,
    };
    let by_number = |i: i64| match i {
        i if i < 0 => Some(AccessLevel::NoPerm),
        0 => Some(AccessLevel::Read),
        1 => Some(AccessLevel::Connect),
        _ => Some(AccessLevel::Write),
    };
    let found = match v {
        Value::Str(s) => by_name(s),
        Value::Int(i) => by_number(*i),
        Value::Instance(i) => match i.enum_member() {
            Some((Value::Str(name), _)) => by_name(&name),
            _ => None,
        },
        _ => None,
    };
    found.ok_or_else(|| Exception::new(ExcType::ValueError, format!("invalid access level: {v:?}")))
}

impl Interpreter {
    /// The current user's root node.
    pub fn root_value(&mut self) -> JacResult<Value> {
        let id = self.graph.root_id();
        self.root_node(&id)
    }

    /// The root node with this id, without reading it: a root always exists and `Root`
    /// declares no fields (so `allroots()` works for roots the caller may not read; what
    /// is reachable through them is still checked).
    pub(crate) fn root_node(&mut self, id: &str) -> JacResult<Value> {
        let class = self.root_class.clone();
        let snapshot = Snapshot::of(&class, &Fields::new());
        self.node_from_parts(id.into(), &class, snapshot)
            .map(Value::Instance)
    }

    /// The node with this id (any user's; `None` if it does not exist).
    pub fn load_node(&mut self, id: &str) -> JacResult<Option<Value>> {
        if let Some(inst) = self.anchors.get(id) {
            return Ok(Some(Value::Instance(inst)));
        }
        match self.graph.get(id).map_err(graph_error)? {
            Some(data) => Ok(Some(Value::Instance(self.node_from_data(data)?))),
            None => Ok(None),
        }
    }

    fn class_named(&self, name: &str) -> JacResult<Rc<Class>> {
        let classes = (&self.root_class, &self.generic_edge_class, &self.classes);
        lookup_class(classes, name).ok_or_else(|| unknown_archetype(name))
    }

    /// The instances of the nodes next to `id`: nodes already loaded in this
    /// call are taken from the cache; only the others' fields are copied out of
    /// the graph.
    pub(crate) fn neighbour_instances(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
    ) -> JacResult<Vec<Rc<Instance>>> {
        enum Found {
            Loaded(Rc<Instance>),
            Stored(Str, Rc<Class>, Snapshot),
        }
        let mut found = Vec::new();
        let mut unknown_type = None;
        let anchors = &self.anchors;
        let classes = (&self.root_class, &self.generic_edge_class, &self.classes);
        self.graph
            .visit_neighbour_nodes(id, dir, edge_types, &mut |node| {
                if let Some(inst) = anchors.get(&node.id) {
                    found.push(Found::Loaded(inst));
                } else if let Some(class) = lookup_class(classes, &node.archetype) {
                    let snapshot = Snapshot::of(&class, &node.fields);
                    found.push(Found::Stored(node.id.as_str().into(), class, snapshot));
                } else {
                    unknown_type.get_or_insert_with(|| node.archetype.clone());
                }
            })
            .map_err(graph_error)?;
        if let Some(name) = unknown_type {
            return Err(unknown_archetype(&name));
        }
        let new_nodes = found
            .iter()
            .filter(|f| matches!(f, Found::Stored(..)))
            .count();
        self.anchors.reserve(new_nodes);
        found
            .into_iter()
            .map(|f| match f {
                Found::Loaded(inst) => Ok(inst),
                Found::Stored(id, class, fields) => self.node_from_parts(id, &class, fields),
            })
            .collect()
    }

    /// The instance of a stored node (cached per id).
    pub(crate) fn node_from_data(&mut self, data: NodeData) -> JacResult<Rc<Instance>> {
        if let Some(inst) = self.anchors.get(&data.id) {
            return Ok(inst);
        }
        let class = self.class_named(&data.archetype)?;
        let snapshot = Snapshot::of(&class, &data.fields);
        self.node_from_parts(data.id.as_str().into(), &class, snapshot)
    }

    /// Builds (and caches) the instance of a stored node not loaded yet.
    fn node_from_parts(
        &mut self,
        id: Str,
        class: &Rc<Class>,
        snapshot: Snapshot,
    ) -> JacResult<Rc<Instance>> {
        if let Some(inst) = self.anchors.get(&id) {
            return Ok(inst);
        }
        let inst = self.instance_from_fields(
            class,
            &snapshot,
            Anchor {
                id: id.clone(),
                persisted: true,
                edge: None,
            },
        )?;
        self.anchors.insert(id, inst.clone(), snapshot);
        Ok(inst)
    }

    /// The instance of a stored edge (cached per id).
    pub(crate) fn edge_from_data(&mut self, data: EdgeData) -> JacResult<Rc<Instance>> {
        if let Some(inst) = self.anchors.get(&data.id) {
            return Ok(inst);
        }
        let class = self.class_named(&data.archetype)?;
        let id: Str = data.id.as_str().into();
        let ends = EdgeEnds {
            source: data.source.into(),
            target: data.target.into(),
            undirected: data.undirected,
        };
        let anchor = Anchor {
            id: id.clone(),
            persisted: true,
            edge: Some(ends),
        };
        let snapshot = Snapshot::of(&class, &data.fields);
        let inst = self.instance_from_fields(&class, &snapshot, anchor)?;
        self.anchors.insert(id, inst.clone(), snapshot);
        Ok(inst)
    }

    fn instance_from_fields(
        &mut self,
        class: &Rc<Class>,
        stored: &Snapshot,
        anchor: Anchor,
    ) -> JacResult<Rc<Instance>> {
        let mut values = Vec::with_capacity(class.fields.len());
        for (index, field) in class.fields.iter().enumerate() {
            let value = match stored.value(index) {
                Some(j) => self.value_from_stored(j)?,
                None => match &field.default {
                    super::FieldDefault::Expr(e, globals) => {
                        let scope = super::env::Scope::module(globals.clone());
                        self.eval(e, &scope)?
                    }
                    super::FieldDefault::Value(v) => v.clone(),
                    _ => Value::None,
                },
            };
            values.push((field.name.clone(), value));
        }
        let mut inst = Instance::new(class.clone(), values);
        *inst.anchor.get_mut() = Some(anchor);
        Ok(Rc::new(inst))
    }

    /// A stored JSON value; objects carrying `_jac_type` become instances again.
    pub(crate) fn value_from_stored(&mut self, json: &Json) -> JacResult<Value> {
        let mut hydrate = |map: &Map<String, Json>| -> Option<JacResult<Value>> {
            let ty = map.get(TYPE_KEY)?.as_str()?;
            let id = map.get(ID_KEY).and_then(Json::as_str).unwrap_or_default();
            let kind = map
                .get(ARCHETYPE_KEY)
                .and_then(Json::as_str)
                .unwrap_or("obj");
            Some(self.stored_object(ty, id, kind, map))
        };
        from_json(json, &mut hydrate)
    }

    fn stored_object(
        &mut self,
        ty: &str,
        id: &str,
        kind: &str,
        map: &Map<String, Json>,
    ) -> JacResult<Value> {
        if kind == "node" || kind == "edge" {
            if let Some(v) = self.load_node(id)? {
                return Ok(v);
            }
            return Ok(Value::None);
        }
        let class = self.class_named(ty)?;
        let fields = Snapshot::of(&class, map);
        let anchor = Anchor {
            id: id.into(),
            persisted: false,
            edge: None,
        };
        Ok(Value::Instance(
            self.instance_from_fields(&class, &fields, anchor)?,
        ))
    }

    /// Stores a node in the graph if it is not there yet.
    pub(crate) fn persist_node(&mut self, inst: &Rc<Instance>) -> JacResult<Str> {
        let id = self.anchors.ensure_id(inst, self.graph.as_mut());
        if inst.is_persisted() {
            return Ok(id);
        }
        let fields = stored_fields(inst, &mut self.anchors, self.graph.as_mut());
        let snapshot = Snapshot::of(&inst.class, &fields);
        let data = NodeData {
            id: id.to_string(),
            archetype: inst.class.name.to_string(),
            fields,
        };
        self.graph.create(&data).map_err(graph_error)?;
        if let Some(a) = inst.anchor.borrow_mut().as_mut() {
            a.persisted = true;
        }
        self.anchors.insert(id.clone(), inst.clone(), snapshot);
        Ok(id)
    }

    /// Connects two nodes with an edge instance; returns whether the connection was made
    /// (`false` when the caller lacks CONNECT access on an end).
    pub(crate) fn connect_nodes(
        &mut self,
        source: &Rc<Instance>,
        target: &Rc<Instance>,
        edge: &Rc<Instance>,
        undirected: bool,
    ) -> JacResult<bool> {
        let source_id = self.persist_node(source)?;
        let target_id = self.persist_node(target)?;
        let id = self.anchors.ensure_id(edge, self.graph.as_mut());
        let fields = stored_fields(edge, &mut self.anchors, self.graph.as_mut());
        let snapshot = Snapshot::of(&edge.class, &fields);
        let data = EdgeData {
            id: id.to_string(),
            archetype: edge.class.name.to_string(),
            source: source_id.to_string(),
            target: target_id.to_string(),
            undirected,
            fields,
        };
        match self.graph.connect(&data) {
            Ok(()) => {}
            Err(GraphError::AccessDenied(_)) => {
                self.warnings.push(format!(
                    "connect {} {source_id} -> {} {target_id} refused: no CONNECT access",
                    source.class.name, target.class.name
                ));
                return Ok(false);
            }
            Err(e) => return Err(graph_error(e)),
        }
        *edge.anchor.borrow_mut() = Some(Anchor {
            id: id.clone(),
            persisted: true,
            edge: Some(EdgeEnds {
                source: source_id,
                target: target_id,
                undirected,
            }),
        });
        self.anchors.insert(id, edge.clone(), snapshot);
        Ok(true)
    }

    /// Whether a value is a node or edge instance.
    pub(crate) fn is_graph_object(&self, v: &Value) -> bool {
        matches!(v, Value::Instance(i) if i.class.is_kind(ArchKind::Node) || i.class.is_kind(ArchKind::Edge))
    }

    /// `del node` / `del edge` (lists: each element). Deleting without WRITE access is a no-op.
    pub(crate) fn destroy(&mut self, v: &Value) -> JacResult<()> {
        match v {
            Value::List(items) => {
                let items = items.borrow().clone();
                items.iter().try_for_each(|i| self.destroy(i))
            }
            Value::Instance(inst)
                if inst.class.is_kind(ArchKind::Node) || inst.class.is_kind(ArchKind::Edge) =>
            {
                let Some(id) = inst.id().filter(|_| inst.is_persisted()) else {
                    return Ok(());
                };
                let is_edge = inst
                    .anchor
                    .borrow()
                    .as_ref()
                    .is_some_and(|a| a.edge.is_some());
                let r = if is_edge {
                    self.graph.disconnect(&id)
                } else {
                    self.graph.delete(&id)
                };
                match r {
                    Ok(()) => {
                        self.anchors.remove(&id);
                        if let Some(a) = inst.anchor.borrow_mut().as_mut() {
                            a.persisted = false;
                        }
                        Ok(())
                    }
                    Err(GraphError::AccessDenied(_)) => {
                        self.warnings.push(format!(
                            "delete of {} {id} refused: no WRITE access",
                            inst.class.name
                        ));
                        Ok(())
                    }
                    Err(e) => Err(graph_error(e)),
                }
            }
            other => Err(Exception::new(
                ExcType::TypeError,
                format!("cannot delete a '{}' from the graph", other.type_name()),
            )),
        }
    }

    /// Writes back every loaded node/edge whose fields changed (`commit()` and end of call).
    /// Changes to nodes the caller may not WRITE are dropped, as upstream does.
    pub fn flush(&mut self) -> JacResult<()> {
        let ids = self.anchors.order.clone();
        for id in ids {
            let Some(loaded) = self.anchors.entries.get(&id) else {
                continue;
            };
            let inst = loaded.instance.clone();
            if !inst.is_persisted() {
                continue;
            }
            if unchanged(&inst, &loaded.snapshot) {
                continue;
            }
            let fields = stored_fields(&inst, &mut self.anchors, self.graph.as_mut());
            let snapshot = Snapshot::of(&inst.class, &fields);
            let edge = inst.anchor.borrow().as_ref().and_then(|a| a.edge.clone());
            let result = match edge {
                Some(ends) => self.graph.update_edge(&EdgeData {
                    id: id.to_string(),
                    archetype: inst.class.name.to_string(),
                    source: ends.source.to_string(),
                    target: ends.target.to_string(),
                    undirected: ends.undirected,
                    fields,
                }),
                None => self.graph.update(&NodeData {
                    id: id.to_string(),
                    archetype: inst.class.name.to_string(),
                    fields,
                }),
            };
            match result {
                Ok(()) | Err(GraphError::NotFound(_)) => {
                    if let Some(l) = self.anchors.entries.get_mut(&id) {
                        l.snapshot = snapshot;
                    }
                }
                Err(GraphError::AccessDenied(_)) => {
                    self.warnings.push(format!(
                        "write to {} {id} refused: no WRITE access",
                        inst.class.name
                    ));
                    self.restore_stored_fields(&id, &inst)?;
                }
                Err(e) => return Err(graph_error(e)),
            }
        }
        Ok(())
    }

    /// Puts back the stored field values of an instance whose write was refused,
    /// so the response shows what the graph holds.
    fn restore_stored_fields(&mut self, id: &str, inst: &Rc<Instance>) -> JacResult<()> {
        let Some(stored) = self
            .anchors
            .entries
            .get(id)
            .map(|l| l.snapshot.values.clone())
        else {
            return Ok(());
        };
        for (field, json) in inst.class.fields.iter().zip(stored.iter()) {
            if let Some(json) = json {
                let value = self.value_from_stored(json)?;
                inst.set(&field.name, value);
            }
        }
        Ok(())
    }

    /// `jid(x)`: the 32-hex id of an archetype instance.
    pub fn jid(&mut self, v: &Value) -> JacResult<Value> {
        match v {
            Value::Instance(inst) if inst.class.exception_type().is_none() => Ok(Value::Str(
                self.anchors.ensure_id(inst, self.graph.as_mut()),
            )),
            other => Err(Exception::new(
                ExcType::TypeError,
                format!(
                    "jid() needs an archetype instance, not {}",
                    other.type_name()
                ),
            )),
        }
    }

    /// The id of a node argument, persisting the node first (grants need a stored node).
    pub(crate) fn node_id_of(&mut self, v: &Value) -> JacResult<Str> {
        match v {
            Value::Instance(inst) if inst.class.is_kind(ArchKind::Node) => self.persist_node(inst),
            Value::Str(s) => Ok(s.clone()),
            other => Err(Exception::new(
                ExcType::TypeError,
                format!("expected a node, not {}", other.type_name()),
            )),
        }
    }
}
