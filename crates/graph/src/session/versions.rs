//! Read versions: the version of each committed anchor as this session first read it, so
//! its commit is refused when an anchor it updates or deletes changed meanwhile
//! (optimistic concurrency; the runtime runs the call again).

use std::cell::RefCell;
use std::collections::HashMap;

use crate::Id;
use crate::store::{AnchorKind, VersionCheck};

/// Most anchors whose read version a session remembers. Reads past it are not
/// remembered, so a write to an anchor first read after them is not checked (last writer
/// wins, as a write without a read). About 40 bytes each: at most ~2.5 MiB per call.
const MAX_READ_VERSIONS: usize = 1 << 16;

/// The first version read of each committed anchor (reads take `&self`, hence the cell;
/// a session lives on one thread at a time).
#[derive(Debug, Default)]
pub(super) struct ReadVersions(RefCell<HashMap<Id, u64>>);

impl ReadVersions {
    /// Remembers `version` of `anchor` unless a version of it was read before (the guest's
    /// values come from its first read; a later, newer read only makes the check fail).
    pub(super) fn note(&self, anchor: Id, version: u64) {
        let mut seen = self.0.borrow_mut();
        if seen.len() < MAX_READ_VERSIONS || seen.contains_key(&anchor) {
            seen.entry(anchor).or_insert(version);
        }
    }

    /// The check for a written anchor, if this session read it.
    pub(super) fn check(&self, anchor: Id, kind: AnchorKind) -> Option<VersionCheck> {
        let version = *self.0.borrow().get(&anchor)?;
        Some(VersionCheck {
            anchor,
            kind,
            version,
        })
    }
}
