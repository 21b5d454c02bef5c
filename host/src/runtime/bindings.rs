//! Host bindings of the `jac:scale` WIT world, generated once for the whole crate.
//!
//! Imports are synchronous and trappable: the outer `wasmtime::Result` is a host
//! fault (it traps the guest), the inner `Result` is a typed error the guest handles.
//! Exports are async so that calls yield to tokio on every epoch tick.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "app",
    imports: { default: trappable },
    exports: { default: async },
});

pub use exports::jac::scale::endpoints;
pub use jac::scale::{graph, log, types};
