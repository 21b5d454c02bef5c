//! Anchors (nodes, edges, roots), access levels, per-call changesets and permission checks.
