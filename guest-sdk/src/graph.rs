//! Graph values as an app holds them: ids, untyped nodes and edges as the host returns
//! them ([`NodeRef`], [`EdgeRef`]), typed ones ([`Node<T>`], [`Edge<T>`]) and the
//! archetype traits that `#[node]` and `#[edge]` implement.
//!
//! Nodes and edges serialize the way Jac reports them:
//! `{"_jac_type": "Todo", "_jac_id": "<32 hex>", "_jac_archetype": "node", ...fields}`.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Exception, Result};

/// The fields of a node or edge: a JSON object.
pub type Fields = serde_json::Map<String, Value>;

/// A node or edge id: 32 lowercase hex digits (checked by the host, not here).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Id {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for Id {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<&String> for Id {
    fn from(id: &String) -> Self {
        Self(id.clone())
    }
}

/// Anything that names a node or edge: an [`Id`], a node, an edge.
pub trait HasId {
    /// The id of the node or edge.
    fn id(&self) -> &Id;
}

impl HasId for Id {
    fn id(&self) -> &Id {
        self
    }
}

impl<T: HasId + ?Sized> HasId for &T {
    fn id(&self) -> &Id {
        (**self).id()
    }
}

/// Access a root (user) has to a node or edge, ordered `NoAccess < Read < Connect < Write`.
///
/// As JSON (walker fields, reports) it is `"NO_ACCESS"`, `"READ"`, `"CONNECT"` or `"WRITE"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessLevel {
    /// No access at all.
    NoAccess,
    /// May read fields and traverse to it.
    Read,
    /// May also connect edges to and from it.
    Connect,
    /// May also change fields and delete it.
    Write,
}

/// A node type: `#[node]` implements it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a node type",
    note = "declare it with `#[node] struct {Self} {{ ... }}`; abilities fire on node types and `Root`"
)]
pub trait NodeType: Serialize + DeserializeOwned {
    /// The archetype name the host stores (the struct's name).
    const ARCHETYPE: &'static str;
}

/// An edge type: `#[edge]` implements it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an edge type",
    note = "declare it with `#[edge] struct {Self} {{ ... }}`, or use `GenericEdge`"
)]
pub trait EdgeType: Serialize + DeserializeOwned {
    /// The archetype name the host stores (the struct's name).
    const ARCHETYPE: &'static str;
}

/// A user's root node; `#[entry(Root)]` fires on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {}

impl NodeType for Root {
    const ARCHETYPE: &'static str = "Root";
}

/// The edge of an untyped connection (`a ++> b`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericEdge {}

impl EdgeType for GenericEdge {
    const ARCHETYPE: &'static str = "GenericEdge";
}

/// A node of any archetype, as the host returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRef {
    /// Its id.
    pub id: Id,
    /// Its archetype name (e.g. `Todo`, `Root`).
    pub archetype: String,
    /// Its fields.
    pub fields: Fields,
}

impl NodeRef {
    /// Whether it is a `T` (Jac's `isinstance`, without inheritance).
    pub fn is<T: NodeType>(&self) -> bool {
        self.archetype == T::ARCHETYPE
    }

    /// The node as a `T`; a `TypeError` when it is another archetype or its fields don't fit.
    #[track_caller]
    pub fn cast<T: NodeType>(&self) -> Result<Node<T>> {
        Ok(Node {
            id: self.id.clone(),
            data: cast_fields::<T>(&self.archetype, T::ARCHETYPE, &self.fields)?,
        })
    }
}

impl HasId for NodeRef {
    fn id(&self) -> &Id {
        &self.id
    }
}

impl Serialize for NodeRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> core::result::Result<S::Ok, S::Error> {
        Wire::new(&self.archetype, &self.id, NODE, &self.fields).serialize(serializer)
    }
}

/// An edge of any archetype, as the host returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRef {
    /// Its id.
    pub id: Id,
    /// Its archetype name (e.g. `GenericEdge`, `Follow`).
    pub archetype: String,
    /// Its fields.
    pub fields: Fields,
    /// The node it starts from.
    pub source: Id,
    /// The node it leads to.
    pub target: Id,
    /// Whether it can be traversed both ways.
    pub undirected: bool,
}

impl EdgeRef {
    /// Whether it is an `E`.
    pub fn is<E: EdgeType>(&self) -> bool {
        self.archetype == E::ARCHETYPE
    }

    /// The edge as an `E`; a `TypeError` when it is another archetype or its fields don't fit.
    #[track_caller]
    pub fn cast<E: EdgeType>(&self) -> Result<Edge<E>> {
        let data = cast_fields::<E>(&self.archetype, E::ARCHETYPE, &self.fields)?;
        Ok(Edge::new(self.clone(), data))
    }
}

impl HasId for EdgeRef {
    fn id(&self) -> &Id {
        &self.id
    }
}

impl Serialize for EdgeRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> core::result::Result<S::Ok, S::Error> {
        Wire::new(&self.archetype, &self.id, EDGE, &self.fields).serialize(serializer)
    }
}

/// A node of type `T` with its id. It derefs to `T`, so `todo.title` reads a field and
/// `todo.done = true` changes it locally; `Ctx::save` writes it to the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<T> {
    id: Id,
    data: T,
}

impl<T: NodeType> Node<T> {
    pub(crate) fn new(id: Id, data: T) -> Self {
        Self { id, data }
    }

    /// The node's fields, without its id.
    pub fn into_inner(self) -> T {
        self.data
    }

    /// The node in untyped form.
    pub fn to_ref(&self) -> Result<NodeRef> {
        Ok(NodeRef {
            id: self.id.clone(),
            archetype: T::ARCHETYPE.to_owned(),
            fields: to_fields(&self.data)?,
        })
    }
}

impl<T> HasId for Node<T> {
    fn id(&self) -> &Id {
        &self.id
    }
}

impl<T> Deref for Node<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for Node<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T: NodeType> Serialize for Node<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> core::result::Result<S::Ok, S::Error> {
        Wire::new(T::ARCHETYPE, &self.id, NODE, &self.data).serialize(serializer)
    }
}

/// An edge of type `E` with its id and ends. It derefs to `E`; `Ctx::save_edge` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge<E> {
    id: Id,
    source: Id,
    target: Id,
    undirected: bool,
    data: E,
}

impl<E> Edge<E> {
    pub(crate) fn new(stored: EdgeRef, data: E) -> Self {
        Self {
            id: stored.id,
            source: stored.source,
            target: stored.target,
            undirected: stored.undirected,
            data,
        }
    }

    /// The node it starts from.
    pub fn source(&self) -> &Id {
        &self.source
    }

    /// The node it leads to.
    pub fn target(&self) -> &Id {
        &self.target
    }

    /// Whether it can be traversed both ways.
    pub fn is_undirected(&self) -> bool {
        self.undirected
    }

    /// The edge's fields, without its id.
    pub fn into_inner(self) -> E {
        self.data
    }
}

impl<E> HasId for Edge<E> {
    fn id(&self) -> &Id {
        &self.id
    }
}

impl<E> Deref for Edge<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.data
    }
}

impl<E> DerefMut for Edge<E> {
    fn deref_mut(&mut self) -> &mut E {
        &mut self.data
    }
}

impl<E: EdgeType> Serialize for Edge<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> core::result::Result<S::Ok, S::Error> {
        Wire::new(E::ARCHETYPE, &self.id, EDGE, &self.data).serialize(serializer)
    }
}

const NODE: &str = "node";
const EDGE: &str = "edge";

/// The JSON shape of a reported node or edge: the `_jac_*` keys, then the fields.
#[derive(Serialize)]
struct Wire<'a, F: ?Sized> {
    _jac_type: &'a str,
    _jac_id: &'a Id,
    _jac_archetype: &'static str,
    #[serde(flatten)]
    fields: &'a F,
}

impl<'a, F: ?Sized> Wire<'a, F> {
    fn new(archetype: &'a str, id: &'a Id, kind: &'static str, fields: &'a F) -> Self {
        Self {
            _jac_type: archetype,
            _jac_id: id,
            _jac_archetype: kind,
            fields,
        }
    }
}

/// A value's fields as a JSON object (a `TypeError` when it is not an object).
#[track_caller]
pub(crate) fn to_fields<T: Serialize>(value: &T) -> Result<Fields> {
    match serde_json::to_value(value)? {
        Value::Object(fields) => Ok(fields),
        other => {
            Err(Exception::type_error(format!("fields must be a JSON object, got {other}")).into())
        }
    }
}

#[track_caller]
fn cast_fields<T: DeserializeOwned>(actual: &str, wanted: &str, fields: &Fields) -> Result<T> {
    if actual != wanted {
        return Err(Exception::type_error(format!("expected a {wanted}, got a {actual}")).into());
    }
    T::deserialize(Value::Object(fields.clone())).map_err(|error| {
        Exception::type_error(format!("fields of {wanted} do not fit: {error}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Todo {
        title: String,
        done: bool,
    }

    impl NodeType for Todo {
        const ARCHETYPE: &'static str = "Todo";
    }

    #[test]
    fn typed_node_serializes_with_jac_keys_first() {
        let todo = Node::new(
            Id::from("0".repeat(32)),
            Todo {
                title: "milk".into(),
                done: false,
            },
        );
        let text = serde_json::to_string(&todo).expect("serializes");
        assert_eq!(
            text,
            format!(
                r#"{{"_jac_type":"Todo","_jac_id":"{}","_jac_archetype":"node","title":"milk","done":false}}"#,
                "0".repeat(32)
            )
        );
    }

    #[test]
    fn edge_ref_serializes_as_edge() {
        let edge = EdgeRef {
            id: Id::from("e"),
            archetype: "GenericEdge".into(),
            fields: Fields::new(),
            source: Id::from("a"),
            target: Id::from("b"),
            undirected: false,
        };
        assert_eq!(
            serde_json::to_value(&edge).expect("serializes"),
            json!({"_jac_type": "GenericEdge", "_jac_id": "e", "_jac_archetype": "edge"})
        );
    }

    #[test]
    fn cast_to_another_archetype_is_a_type_error() {
        let node = NodeRef {
            id: Id::from("a"),
            archetype: "Note".into(),
            fields: Fields::new(),
        };
        let error = node.cast::<Todo>().expect_err("Note is no Todo");
        assert_eq!(error.to_string(), "TypeError: expected a Todo, got a Note");
    }

    #[test]
    fn access_levels_are_ordered_and_named_like_jac() {
        assert!(AccessLevel::NoAccess < AccessLevel::Read);
        assert!(AccessLevel::Connect < AccessLevel::Write);
        assert_eq!(
            serde_json::to_value(AccessLevel::NoAccess).expect("serializes"),
            json!("NO_ACCESS")
        );
    }
}
