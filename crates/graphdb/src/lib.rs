//! Persistence behind traits: the embedded SQLite default, MongoDB, and the cache tier.
//!
//! `graph/` decides what may be read and written; a store only keeps anchors, edges,
//! access entries and users, and applies one session's changes atomically. The traits
//! speak in ids, records and changesets, never in SQL. The memory hierarchy: `cache`
//! (L1 in process, L2 in Redis) wraps the store of record, `sqlite` (the default) or
//! `mongo` (L3, when configured); `records` and `view` are what they share.
//!
//! Invariant: no permission decision is made here; access facts are reported, not judged.

#[cfg(test)]
mod accounts_contract;
pub mod cache;
#[cfg(test)]
mod contract;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod probe;
pub mod records;
pub mod sqlite;
mod tiers;
mod view;

pub use tiers::{Stores, open};
