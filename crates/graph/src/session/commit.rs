//! Commit: the overlay becomes one changeset, applied by the store in one transaction.

use super::Session;
use super::overlay::{EdgeDraft, NodeDraft};
use crate::store::{AccessUpdate, AnchorKind, Changeset, EdgeInsert, FieldsUpdate, NodeInsert};
use host_error::HostError;

impl Session {
    /// Applies every write of this session in one transaction. `Conflict` when another
    /// commit changed (or deleted) an anchor this session wrote since it read it, or
    /// deleted a node it connected: nothing is applied, and running the call again sees
    /// the other commit.
    pub fn commit(mut self) -> Result<(), HostError> {
        let owner = self.caller.root;
        let mut changes = Changeset::default();
        for (order, id) in std::mem::take(&mut self.new_edges) {
            let Some(EdgeDraft::New {
                order: kept,
                archetype,
                fields,
                source,
                target,
                undirected,
            }) = self.edges.remove(&id)
            else {
                continue;
            };
            debug_assert_eq!(order, kept);
            let access = self.new_anchor_access(id);
            changes.new_edges.push(EdgeInsert {
                id,
                archetype,
                fields: fields.json,
                owner,
                source,
                target,
                undirected,
                access,
            });
        }
        for (id, draft) in std::mem::take(&mut self.nodes) {
            match draft {
                NodeDraft::New { archetype, fields } => {
                    let access = self.new_anchor_access(id);
                    changes.new_nodes.push(NodeInsert {
                        id,
                        archetype,
                        fields: fields.json,
                        owner,
                        access,
                    });
                }
                NodeDraft::Updated(fields) => {
                    changes.node_updates.push(FieldsUpdate {
                        id,
                        fields: fields.json,
                    });
                    changes
                        .checks
                        .extend(self.read_versions.check(id, AnchorKind::Node));
                }
                NodeDraft::Deleted => {
                    changes.deleted_nodes.push(id);
                    changes
                        .checks
                        .extend(self.read_versions.check(id, AnchorKind::Node));
                }
            }
        }
        changes.new_nodes.sort_unstable_by_key(|node| node.id);
        for (id, draft) in std::mem::take(&mut self.edges) {
            match draft {
                EdgeDraft::Updated(fields) => {
                    changes.edge_updates.push(FieldsUpdate {
                        id,
                        fields: fields.json,
                    });
                    changes
                        .checks
                        .extend(self.read_versions.check(id, AnchorKind::Edge));
                }
                EdgeDraft::Deleted => {
                    changes.deleted_edges.push(id);
                    changes
                        .checks
                        .extend(self.read_versions.check(id, AnchorKind::Edge));
                }
                EdgeDraft::New { .. } => unreachable!("new edges were all taken in order above"),
            }
        }
        for (anchor, (kind, patch)) in std::mem::take(&mut self.access) {
            changes.access_updates.push(AccessUpdate {
                anchor,
                kind,
                all: patch.all,
                roots: patch.roots.into_iter().collect(),
            });
        }
        if changes.is_empty() {
            return Ok(());
        }
        Ok(self.store.apply(changes)?)
    }
}
