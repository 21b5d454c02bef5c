//! Host bindings of the `jac:scale` WIT world, generated once for the whole crate.
//!
//! Imports are synchronous (except kvstore's and storage's, which do network and file
//! I/O) and trappable: the outer `wasmtime::Result` is a host fault (it traps the
//! guest), the inner `Result` is a typed error the guest handles.
//! Exports are async so that calls yield to tokio on every epoch tick.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "app",
    // Kvstore talks to Redis / SQLite, storage to the disk / S3: their host functions are async.
    imports: {
        "jac:scale/kvstore": async | trappable,
        "jac:scale/storage": async | trappable,
        default: trappable,
    },
    with: {
        "jac:scale/kvstore.store": kv::Store,
        "jac:scale/storage.bucket": files::Bucket,
    },
    exports: { default: async },
});

pub use exports::jac::scale::endpoints;
pub use jac::scale::{graph, kvstore, log, storage, types};

use host_error::HostError;
use types::Error as WitError;

/// The one place the shared error kind crosses to the guest.
impl From<HostError> for WitError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::AccessDenied(m) => WitError::AccessDenied(m),
            HostError::NotFound(m) => WitError::NotFound(m),
            HostError::Invalid(m) => WitError::Invalid(m),
            HostError::Conflict(m) => WitError::Conflict(m),
            HostError::QuotaExceeded(m) => WitError::QuotaExceeded(m),
            HostError::Unavailable(m) => WitError::Unavailable(m),
        }
    }
}

/// A host error the guest gave back unhandled (`call-error.host`), as the host's again.
impl From<WitError> for HostError {
    fn from(e: WitError) -> Self {
        match e {
            WitError::AccessDenied(m) => HostError::AccessDenied(m),
            WitError::NotFound(m) => HostError::NotFound(m),
            WitError::Invalid(m) => HostError::Invalid(m),
            WitError::Conflict(m) => HostError::Conflict(m),
            WitError::QuotaExceeded(m) => HostError::QuotaExceeded(m),
            WitError::Unavailable(m) => HostError::Unavailable(m),
        }
    }
}
