//! Write [jac-scale](https://github.com/jaseci-labs/jac-scale-rs) walker apps in Rust.
//!
//! An app is a WebAssembly component (`wasm32-wasip2`) that declares node types, walkers
//! and functions; `jac-scale start app.wasm` serves each walker at `POST /walker/{name}`
//! and each function at `POST /function/{name}`, with users, tokens and a persistent,
//! permission-checked graph. The SDK hides the WIT contract: the graph is typed, walkers
//! traverse it with Jac's semantics, and errors are plain Rust errors.
//!
//! ```
//! use jac_scale_guest::prelude::*;
//!
//! #[node]
//! struct Todo { title: String, #[jac(default = false)] done: bool }
//!
//! /// Create a Todo attached to root.
//! #[walker]
//! struct CreateTodo { title: String }
//!
//! #[walker]
//! impl CreateTodo {
//!     #[entry(Root)]
//!     fn create(&mut self, w: &mut Walk) -> Result {
//!         let todo = w.attach(w.here(), Todo::new(&self.title))?; // here ++> Todo(title=...)
//!         w.report(todo)
//!     }
//! }
//!
//! jac_scale_guest::app!(CreateTodo);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (crate type `cdylib`).
//!
//! # The pieces
//!
//! - [`#[node]`](node) and [`#[edge]`](edge) declare archetypes: a struct of typed fields,
//!   `#[jac(default = <json>)]` for defaults, and a generated `new` taking the fields
//!   without a default. They derive `Serialize`, `Deserialize`, `Clone` and `Debug`.
//! - [`#[walker]`](walker) on a struct declares a walker endpoint: its fields are the
//!   endpoint's inputs (no default = required), its doc comment the endpoint's doc.
//!   Options: `public` / `protected` (default) / `private`, `method = GET`,
//!   `path = "/items/{item_id}"`, `protocol = webhook`, `broadcast`.
//!   [`#[walker]`](walker) on the struct's `impl` block declares its abilities:
//!   `#[entry(Root)]`, `#[entry(Todo, Note)]`, `#[exit(Todo)]`, or untyped `#[entry]` /
//!   `#[exit]` (once per spawn). Each takes `(&mut self, w: &mut Walk) -> Result`.
//! - [`#[function]`](function) declares a function endpoint: parameters (with
//!   `#[jac(default = ...)]`) are its inputs, the `Ok` value its result. It may take
//!   `cx: &Ctx` first to reach the graph and report.
//! - [`app!`] lists the endpoints and exports the component.
//!
//! # Walkers
//!
//! An ability gets a [`Walk`]: [`Walk::here`], [`Walk::visit`], [`Walk::visit_first`]
//! (`visit :0:`), [`Walk::disengage`], and through `Deref` everything of [`Ctx`]:
//! [`Ctx::report`], [`Ctx::spawn`] and the graph. Return early (`return Ok(())`) where
//! Jac says `skip`. Traversal follows Jac exactly: one FIFO queue per spawn, entries as
//! locations are taken from it, exits in reverse order afterwards, `disengage` skips all
//! exits, no visited set (see the `walk` module docs).
//!
//! ```
//! use jac_scale_guest::prelude::*;
//!
//! #[node]
//! struct Task { title: String }
//!
//! /// Counts the tasks below root, depth first, and reports once at the end.
//! #[walker(public)]
//! struct CountTasks { #[jac(default = 0)] seen: i64 }
//!
//! #[walker]
//! impl CountTasks {
//!     #[entry(Root, Task)]
//!     fn step(&mut self, w: &mut Walk) -> Result {
//!         if w.here().is::<Task>() {
//!             self.seen += 1;
//!         }
//!         w.visit_first(w.neighbors(w.here()).of::<Task>()?)?; // visit :0: [-->][?:Task];
//!         Ok(())
//!     }
//!
//!     #[exit(Root)]
//!     fn finish(&mut self, w: &mut Walk) -> Result {
//!         w.report(json!({"seen": self.seen})) // runs after the whole traversal
//!     }
//! }
//! ```
//!
//! # The graph
//!
//! [`Ctx::root`], [`Ctx::create`], [`Ctx::attach`] (`a ++> Node(...)`),
//! [`Ctx::connect`] / [`Ctx::connect_with`] / [`Ctx::connect_undirected`],
//! [`Ctx::neighbors`] (`[-->]`, `[<--:Follow:<--][?:Todo]`: one host call per 1000
//! results), [`Ctx::save`] (writes are explicit: one call per saved node), [`Ctx::delete`],
//! [`Ctx::disconnect`] (`a del --> b`), [`Ctx::delete_edge`],
//! and the permission calls [`Ctx::grant`], [`Ctx::revoke`], [`Ctx::allow_root`],
//! [`Ctx::disallow_root`], [`Ctx::all_roots`], [`Ctx::access`]. Every call checks the
//! caller's access on the host; the call's writes are committed only if it succeeds.
//!
//! # Direct database access
//!
//! [`kvstore::KvStore`] is the spec's `kvstore(db_name=..., db_type=...)`: document stores
//! (queries with `$eq $gt ...`, updates with `$set $inc ...`) and key-value stores (TTLs,
//! counters, key scans), confined to the app and checked against its grants.
//!
//! # Files
//!
//! [`storage::Storage`] is the spec's `store()`: upload, download, list, metadata, copy,
//! move and delete files in the app's own storage. A walker field of type
//! [`storage::UploadFile`] makes the endpoint accept `multipart/form-data` uploads.
//!
//! # Errors
//!
//! Everything returns [`Result`]. A [`HostError`] (e.g. `NotFound`) can be matched or
//! passed up with `?`: unhandled, it fails the call with the matching HTTP status. Raise
//! exceptions with [`raise!`] or [`Exception`]: the client gets a 500 `EXECUTION_ERROR`
//! with the message. A panic traps; the server answers 500 and keeps serving.
//!
//! # Compile-time checks
//!
//! The macros reject what the host could not serve, at compile time:
//!
//! ```compile_fail
//! use jac_scale_guest::prelude::*;
//!
//! #[walker(method = GET, path = "/items/{id}")] // no field is called `id`
//! struct GetItem { item_id: String }
//!
//! #[walker]
//! impl GetItem {}
//! ```
//!
//! ```compile_fail
//! use jac_scale_guest::prelude::*;
//!
//! #[walker(method = FETCH)] // not an HTTP method
//! struct Fetch {}
//!
//! #[walker]
//! impl Fetch {}
//! ```
//!
//! # Testing
//!
//! With the `testing` feature, [`testing::MemoryGraph`] runs walkers natively:
//! `Ctx::new(Rc::new(MemoryGraph::new())).spawn(MyWalker::new(..), cx.root())`.

#![warn(missing_docs)]

// Lets the macros, which name `::jac_scale_guest`, work inside this crate's own tests.
extern crate self as jac_scale_guest;

#[doc(hidden)]
pub mod bindings;
mod ctx;
pub mod endpoint;
mod error;
mod graph;
pub mod host;
pub mod kvstore;
pub mod storage;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod walk;
mod wit;

pub use ctx::{Ctx, NEIGHBOR_PAGE, Neighbors};
pub use error::{Error, Exception, HostError, Result};
pub use graph::{
    AccessLevel, Edge, EdgeRef, EdgeType, Fields, GenericEdge, HasId, Id, Node, NodeRef, NodeType,
    Root,
};
pub use host::LogLevel;
pub use walk::{Ability, AbilityFn, Event, Locations, Walk, Walker};

/// Declares an edge type: `#[edge] struct Follow { #[jac(default = 2020)] since: i64 }`.
pub use jac_scale_guest_macros::edge;
/// Declares a function endpoint: `#[function(public)] fn add(a: i64, b: i64) -> Result<i64>`.
pub use jac_scale_guest_macros::function;
/// Declares a node type: `#[node] struct Todo { title: String, #[jac(default = false)] done: bool }`.
pub use jac_scale_guest_macros::node;
/// Declares a walker endpoint (on a struct) or its abilities (on its `impl` block).
pub use jac_scale_guest_macros::walker;

/// What most apps need: `use jac_scale_guest::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AccessLevel, Ctx, Edge, EdgeRef, Error, Exception, GenericEdge, HasId, HostError, Id,
        LogLevel, Node, NodeRef, Result, Root, Walk, edge, function, node, raise, walker,
    };
    pub use serde_json::{Value, json};
}

/// Exports the app: lists its walkers and functions (by type and fn name) and generates
/// the component's `describe` and `run`. Use it once per app; endpoints may be paths
/// (`notes::CreateNote`).
///
/// ```ignore
/// jac_scale_guest::app!(Ping, Echo, CreateTodo, health_check);
/// ```
#[macro_export]
macro_rules! app {
    ($($endpoint:path),+ $(,)?) => {
        #[doc(hidden)]
        struct __JacScaleApp;

        impl __JacScaleApp {
            const ENDPOINTS: &'static [$crate::endpoint::EndpointEntry] =
                &[$($crate::endpoint::EndpointEntry::of::<$endpoint>()),+];
        }

        impl $crate::__private::bindings::exports::jac::scale::endpoints::Guest for __JacScaleApp {
            fn describe() -> $crate::__private::bindings::exports::jac::scale::endpoints::Manifest {
                $crate::__private::describe(Self::ENDPOINTS)
            }

            fn run(
                call: $crate::__private::bindings::exports::jac::scale::endpoints::Call,
            ) -> ::core::result::Result<
                $crate::__private::bindings::exports::jac::scale::endpoints::Outcome,
                $crate::__private::bindings::exports::jac::scale::endpoints::CallError,
            > {
                $crate::__private::run(Self::ENDPOINTS, call)
            }
        }

        $crate::__private::bindings::__export_jac_scale_app!(__JacScaleApp with_types_in $crate::__private::bindings);
    };
}

/// What the macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use crate::endpoint::{call_walker, decode_args, default_value, field, function_result};
    pub use crate::wit::{describe, run};
    pub use serde;
    pub use serde_json;
}
