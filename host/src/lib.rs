//! jac-scale: serve WebAssembly walker apps as a production API.
//!
//! This crate composes the layers in `crates/` (see `ARCHITECTURE.md` for the map and its
//! invariants): `server` starts and stops them, `apps` serves many apps in one process,
//! `build` turns a Jac app into a component, `readiness` names the backends
//! `/healthz/ready` probes, `deploy` hands an app to the `deploy` crate (Kubernetes).

pub mod apps;
pub mod build;
#[cfg(feature = "kubernetes")]
pub mod deploy;
mod readiness;
pub mod server;
