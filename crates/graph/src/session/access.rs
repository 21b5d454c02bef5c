//! Access: the caller's effective level on an anchor, and the access edits
//! (`grant`, `revoke`, `allow_root`, `disallow_root`) buffered with the changeset.

use super::overlay::NodeDraft;
use super::{MAX_WARNINGS, NodeAccess, Session, not_found};
use crate::store::{AccessSpec, AnchorKind};
use crate::{AccessFacts, AccessLevel, AccessPatch, Id};
use host_error::HostError;

impl Session {
    /// Gives every root `level` access to an anchor (`perm_grant`). Needs write access.
    pub fn grant(&mut self, id: Id, level: AccessLevel) -> Result<(), HostError> {
        self.change_access(id, |patch| patch.all = Some(level))
    }

    /// Removes the access given to every root (`perm_revoke`). Needs write access.
    pub fn revoke(&mut self, id: Id) -> Result<(), HostError> {
        self.change_access(id, |patch| patch.all = Some(AccessLevel::NoAccess))
    }

    /// Gives one root `level` access to an anchor (`allow_root`); on a root node this opens
    /// that user's whole graph. Needs write access.
    pub fn allow_root(&mut self, id: Id, root: Id, level: AccessLevel) -> Result<(), HostError> {
        self.change_access(id, |patch| {
            patch.roots.insert(root, Some(level));
        })
    }

    /// Removes one root's entry on an anchor (`disallow_root`). Needs write access.
    pub fn disallow_root(&mut self, id: Id, root: Id) -> Result<(), HostError> {
        self.change_access(id, |patch| {
            patch.roots.insert(root, None);
        })
    }

    /// The caller's effective level on a node or edge (`NoAccess` when it does not exist).
    pub fn access(&mut self, id: Id) -> AccessLevel {
        match self.anchor_level(id) {
            Ok((_, level)) => level,
            Err(HostError::NotFound(_)) => AccessLevel::NoAccess,
            Err(error) => {
                tracing::warn!(%id, %error, "access level lookup failed; reporting no access");
                AccessLevel::NoAccess
            }
        }
    }

    /// The caller's access to a node it may read; `NotFound` when it may not (or the node
    /// does not exist). Reads no fields.
    pub(super) fn node_access(&self, id: Id) -> Result<NodeAccess, HostError> {
        let access = match self.nodes.get(&id) {
            Some(NodeDraft::Deleted) => None,
            Some(NodeDraft::New { .. }) => Some(NodeAccess {
                level: AccessLevel::Write,
                is_root: false,
            }),
            _ if id == self.caller.root => Some(NodeAccess {
                level: AccessLevel::Write,
                is_root: true,
            }),
            _ => self
                .store
                .node_access(id, self.caller.root)?
                .map(|facts| NodeAccess {
                    level: self.effective_level(id, facts),
                    is_root: facts.owner == id,
                }),
        };
        access
            .filter(|access| access.level >= AccessLevel::Read)
            .ok_or_else(|| not_found("node", id))
    }

    /// Whether the caller may list the neighbours of `origin`: a node it may read, or any
    /// root (another user's root shows only the neighbours the caller may read, as in
    /// jaclang, where `[r -->]` over `allroots()` lists what others shared);
    /// `NotFound` otherwise.
    pub(super) fn origin_access(&self, origin: Id) -> Result<(), HostError> {
        match self.node_access(origin) {
            Err(HostError::NotFound(message)) => {
                let root = !self.nodes.contains_key(&origin)
                    && self
                        .store
                        .node_access(origin, self.caller.root)?
                        .is_some_and(|facts| facts.owner == origin);
                if root {
                    Ok(())
                } else {
                    Err(HostError::NotFound(message))
                }
            }
            other => other.map(drop),
        }
    }

    /// The kind of anchor `id` names and the caller's level on it, if readable.
    fn anchor_level(&self, id: Id) -> Result<(AnchorKind, AccessLevel), HostError> {
        match self.node_access(id) {
            Ok(access) => Ok((AnchorKind::Node, access.level)),
            Err(HostError::NotFound(_)) => {
                let (_, level) = self
                    .readable_edge(id)
                    .map_err(|_| not_found("anchor", id))?;
                Ok((AnchorKind::Edge, level))
            }
            Err(error) => Err(error),
        }
    }

    /// The caller's level on a committed anchor, with this session's access changes.
    pub(super) fn effective_level(&self, anchor: Id, mut facts: AccessFacts) -> AccessLevel {
        let viewer = self.caller.root;
        if facts.owner == viewer || anchor == viewer {
            return AccessLevel::Write;
        }
        if !self.access.is_empty() {
            let patch_of = |id: Id| self.access.get(&id).map(|(_, patch)| patch);
            let owner = facts.owner;
            AccessPatch::apply(&mut facts, viewer, patch_of(anchor), patch_of(owner));
        }
        facts.level(anchor, viewer)
    }

    /// Records an access change on a node or edge the caller may write.
    fn change_access(
        &mut self,
        id: Id,
        change: impl FnOnce(&mut AccessPatch),
    ) -> Result<(), HostError> {
        let (kind, level) = self.anchor_level(id)?;
        let kind_name = match kind {
            AnchorKind::Node => "node",
            AnchorKind::Edge => "edge",
        };
        self.require("write to", kind_name, id, level, AccessLevel::Write)?;
        self.make_room(id)?;
        change(
            &mut self
                .access
                .entry(id)
                .or_insert_with(|| (kind, AccessPatch::default()))
                .1,
        );
        Ok(())
    }

    /// The access settings a new anchor is inserted with.
    pub(super) fn new_anchor_access(&mut self, id: Id) -> AccessSpec {
        let Some((_, patch)) = self.access.remove(&id) else {
            return AccessSpec::default();
        };
        AccessSpec {
            all: patch.all.unwrap_or_default(),
            roots: patch
                .roots
                .into_iter()
                .filter_map(|(root, level)| Some((root, level?)))
                .collect(),
        }
    }

    /// Fails when the caller's `level` is below `needed`, recording the refusal.
    pub(super) fn require(
        &mut self,
        action: &str,
        kind: &str,
        id: Id,
        level: AccessLevel,
        needed: AccessLevel,
    ) -> Result<(), HostError> {
        if level >= needed {
            return Ok(());
        }
        let message = format!("{action} {kind} {id} refused: {level} only");
        match self.warnings.len() {
            count if count < MAX_WARNINGS => self.warnings.push(message.clone()),
            MAX_WARNINGS => self
                .warnings
                .push("further refused writes are not listed".into()),
            _ => {}
        }
        Err(HostError::AccessDenied(message))
    }
}
