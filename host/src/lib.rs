//! jac-scale: serve WebAssembly walker apps as a production API.
//!
//! One folder per concern; see `ARCHITECTURE.md` for the map and its invariants.

pub mod auth;
pub mod build;
pub mod capability;
pub mod config;
pub mod graph;
pub mod http;
pub mod kvstore;
pub mod realtime;
pub mod runtime;
pub mod server;
pub mod storage;
pub mod store;
pub mod webhook;
