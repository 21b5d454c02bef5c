//! Host bindings of the `jac:scale` WIT world, generated once for the whole crate.
//!
//! Imports are synchronous and trappable: the outer `wasmtime::Result` is a host
//! fault (it traps the guest), the inner `Result` is a typed error the guest handles.
//! Exports are async so that calls yield to tokio on every epoch tick.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "app",
    // Kvstore talks to Redis / SQLite: its host functions are async.
    imports: { "jac:scale/kvstore": async | trappable, default: trappable },
    with: { "jac:scale/kvstore.store": crate::kvstore::Store },
    exports: { default: async },
});

pub use exports::jac::scale::endpoints;
pub use jac::scale::{graph, kvstore, log, types};
