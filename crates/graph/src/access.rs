//! Access levels and the rule that turns an anchor's access settings into a caller's level.

use std::collections::BTreeMap;
use std::fmt;

use super::Id;

/// Access a root (user) has to an anchor. Ordered: `NoAccess < Read < Connect < Write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum AccessLevel {
    /// Invisible: reads answer "not found".
    #[default]
    NoAccess,
    /// May read the anchor and see it in neighbour lists.
    Read,
    /// May also connect edges to or from the node.
    Connect,
    /// May also replace fields, delete, and change access.
    Write,
}

impl AccessLevel {
    /// The level's number in Jac (`NO_ACCESS = -1` … `WRITE = 2`), as stores keep it.
    pub const fn value(self) -> i8 {
        match self {
            Self::NoAccess => -1,
            Self::Read => 0,
            Self::Connect => 1,
            Self::Write => 2,
        }
    }

    /// The level with this Jac number, if any.
    pub const fn from_value(value: i64) -> Option<Self> {
        match value {
            -1 => Some(Self::NoAccess),
            0 => Some(Self::Read),
            1 => Some(Self::Connect),
            2 => Some(Self::Write),
            _ => None,
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoAccess => "no access",
            Self::Read => "read access",
            Self::Connect => "connect access",
            Self::Write => "write access",
        })
    }
}

/// What decides one viewer's access to one anchor, as a store reports it.
///
/// The store looks up only the entries that concern the viewer, so the whole check is
/// one row read plus two primary-key probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessFacts {
    /// The root that owns the anchor (a root owns itself).
    pub owner: Id,
    /// The anchor's level for every root (`perm_grant`).
    pub all: AccessLevel,
    /// The anchor's own entry for the viewer (`allow_root`), if any.
    pub viewer_entry: Option<AccessLevel>,
    /// The owner root's level for every root.
    pub owner_all: AccessLevel,
    /// The owner root's entry for the viewer, if any.
    pub owner_viewer_entry: Option<AccessLevel>,
}

impl AccessFacts {
    /// Facts of an anchor the viewer owns.
    pub const fn owned_by(owner: Id) -> Self {
        Self {
            owner,
            all: AccessLevel::NoAccess,
            viewer_entry: None,
            owner_all: AccessLevel::NoAccess,
            owner_viewer_entry: None,
        }
    }

    /// The viewer's effective level on `anchor`, following jaclang's `check_access_level`:
    /// the owner root and the root node itself get `Write`; otherwise the anchor's `all`,
    /// raised to its owner root's `all` and to the owner root's entry for the viewer (so
    /// `allow_root` on a root opens that user's whole graph); an entry on the anchor itself
    /// for the viewer wins over everything else.
    pub fn level(&self, anchor: Id, viewer: Id) -> AccessLevel {
        if self.owner == viewer || anchor == viewer {
            return AccessLevel::Write;
        }
        self.shared().level()
    }

    /// The settings that decide the level of a viewer who neither owns the anchor nor is it.
    pub const fn shared(&self) -> SharedFacts {
        SharedFacts {
            all: self.all,
            viewer_entry: self.viewer_entry,
            owner_all: self.owner_all,
            owner_viewer_entry: self.owner_viewer_entry,
        }
    }
}

/// [`AccessFacts`] without the owner: all that decides the level of a viewer who neither
/// owns the anchor nor is it. Many anchors share them, so a store can count by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharedFacts {
    pub all: AccessLevel,
    pub viewer_entry: Option<AccessLevel>,
    pub owner_all: AccessLevel,
    pub owner_viewer_entry: Option<AccessLevel>,
}

impl SharedFacts {
    /// The level these settings give (see [`AccessFacts::level`]).
    pub fn level(&self) -> AccessLevel {
        let mut level = self.all.max(self.owner_all);
        if let Some(owner_entry) = self.owner_viewer_entry {
            level = level.max(owner_entry);
        }
        self.viewer_entry.unwrap_or(level)
    }
}

/// Access changes one session made to one anchor, not yet committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AccessPatch {
    /// New level for every root, if changed.
    pub all: Option<AccessLevel>,
    /// Per-root entries set (`Some`) or removed (`None`).
    pub roots: BTreeMap<Id, Option<AccessLevel>>,
}

impl AccessPatch {
    /// Applies this patch (made to `anchor`) and `owner_patch` (made to its owner root)
    /// to committed facts, as `viewer` sees them.
    pub fn apply(
        facts: &mut AccessFacts,
        viewer: Id,
        patch: Option<&Self>,
        owner_patch: Option<&Self>,
    ) {
        if let Some(patch) = patch {
            if let Some(all) = patch.all {
                facts.all = all;
            }
            if let Some(entry) = patch.roots.get(&viewer) {
                facts.viewer_entry = *entry;
            }
        }
        if let Some(patch) = owner_patch {
            if let Some(all) = patch.all {
                facts.owner_all = all;
            }
            if let Some(entry) = patch.roots.get(&viewer) {
                facts.owner_viewer_entry = *entry;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AccessLevel::*;
    use super::*;

    const OWNER: Id = Id::from_u128(1);
    const VIEWER: Id = Id::from_u128(2);
    const ANCHOR: Id = Id::from_u128(3);

    fn facts() -> AccessFacts {
        AccessFacts::owned_by(OWNER)
    }

    #[test]
    fn levels_are_ordered_and_keep_their_jac_numbers() {
        assert!(NoAccess < Read && Read < Connect && Connect < Write);
        for level in [NoAccess, Read, Connect, Write] {
            assert_eq!(AccessLevel::from_value(level.value().into()), Some(level));
        }
        assert_eq!(AccessLevel::from_value(3), None);
    }

    #[test]
    fn owner_and_the_root_itself_write() {
        assert_eq!(facts().level(ANCHOR, OWNER), Write);
        assert_eq!(facts().level(VIEWER, VIEWER), Write);
        assert_eq!(facts().level(ANCHOR, VIEWER), NoAccess);
    }

    #[test]
    fn owner_root_settings_raise_the_anchor_level() {
        let raised = AccessFacts {
            all: Read,
            owner_all: Connect,
            ..facts()
        };
        assert_eq!(raised.level(ANCHOR, VIEWER), Connect);
        let by_entry = AccessFacts {
            all: Read,
            owner_viewer_entry: Some(Write),
            ..facts()
        };
        assert_eq!(by_entry.level(ANCHOR, VIEWER), Write);
    }

    #[test]
    fn the_anchors_own_entry_wins() {
        let narrowed = AccessFacts {
            all: Write,
            owner_all: Write,
            viewer_entry: Some(Read),
            ..facts()
        };
        assert_eq!(narrowed.level(ANCHOR, VIEWER), Read);
    }

    #[test]
    fn patches_override_committed_facts_for_the_viewer_only() {
        let mut facts = AccessFacts {
            all: Read,
            viewer_entry: Some(Write),
            ..facts()
        };
        let patch = AccessPatch {
            all: Some(Connect),
            roots: BTreeMap::from([(VIEWER, None), (OWNER, Some(Read))]),
        };
        let owner_patch = AccessPatch {
            all: Some(Read),
            roots: BTreeMap::new(),
        };
        AccessPatch::apply(&mut facts, VIEWER, Some(&patch), Some(&owner_patch));
        assert_eq!(facts.all, Connect);
        assert_eq!(facts.viewer_entry, None);
        assert_eq!(facts.owner_all, Read);
        assert_eq!(facts.level(ANCHOR, VIEWER), Connect);
    }
}
