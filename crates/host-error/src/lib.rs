//! The one error kind of the WIT boundary (`jac:scale/types.error`).
//!
//! Every capability (graph, kv, files) fails with [`HostError`]; the `capabilities` crate
//! converts it to and from the generated WIT type in one place (`From` impls), so no
//! capability mirrors the variant by hand.

/// Why a host operation failed, as the guest sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The caller lacks the access level the operation needs.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// No such thing (or the caller may not know it exists).
    #[error("not found: {0}")]
    NotFound(String),
    /// The arguments are malformed.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The operation conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A size, count or rate bound was hit.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// A backend is down or failed; retrying later may work.
    #[error("unavailable: {0}")]
    Unavailable(String),
}
