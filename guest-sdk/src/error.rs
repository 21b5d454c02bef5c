//! Errors an app sees: failed host calls ([`HostError`]) and exceptions the app raises
//! ([`Exception`]), joined in [`Error`] so that one `?` handles both.

use std::fmt;
use std::panic::Location;

/// The result of every fallible SDK call, walker ability and endpoint function.
///
/// `Result` alone means `Result<(), Error>`, the return type of an ability.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

/// A failure the host reported for one host call: the WIT `error` variant itself
/// (`jac:scale/types.error`, generated from `wit/scale.wit`), so nothing mirrors it.
///
/// Handle it like any error (`match`, `if let`), or let `?` pass it up: a host error
/// that leaves an endpoint makes the call fail with `call-error::host`, which the
/// server maps to an HTTP status (`not-found` -> 404, `access-denied` -> 403, ...).
pub use crate::bindings::jac::scale::types::Error as HostError;

/// An exception raised by app code, like Jac's `raise ValueError("boom!")`.
///
/// It reaches the client as a failed call (`call-error::raised`): the server answers
/// 500 `EXECUTION_ERROR` with the message. The trace holds the app source location
/// where the exception was made (captured with `#[track_caller]`), never host paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The exception type, e.g. `ValueError`.
    pub kind: String,
    /// The human-readable message.
    pub message: String,
    /// Source locations of the app, innermost last.
    pub trace: Vec<String>,
}

impl Exception {
    /// An exception of type `kind`, traced at the caller's source location.
    #[track_caller]
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        let at = Location::caller();
        Self {
            kind: kind.into(),
            message: message.into(),
            trace: vec![format!("{}:{}:{}", at.file(), at.line(), at.column())],
        }
    }

    /// `ValueError`: a value of the right type but the wrong content.
    #[track_caller]
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new("ValueError", message)
    }

    /// `TypeError`: a value of the wrong type (e.g. a node of another archetype).
    #[track_caller]
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// `KeyError`: a missing key.
    #[track_caller]
    pub fn key_error(message: impl Into<String>) -> Self {
        Self::new("KeyError", message)
    }

    /// `PermissionError`: the app itself refuses the caller.
    #[track_caller]
    pub fn permission_error(message: impl Into<String>) -> Self {
        Self::new("PermissionError", message)
    }

    /// `RuntimeError`: anything else.
    #[track_caller]
    pub fn runtime_error(message: impl Into<String>) -> Self {
        Self::new("RuntimeError", message)
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Exception {}

/// Why an SDK call, ability or endpoint failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A graph call failed on the host.
    #[error(transparent)]
    Host(#[from] HostError),
    /// App code raised an exception.
    #[error(transparent)]
    Raised(#[from] Exception),
}

impl Error {
    /// The host error, when this is one (e.g. to treat `NotFound` as "absent").
    pub fn as_host(&self) -> Option<&HostError> {
        match self {
            Self::Host(error) => Some(error),
            Self::Raised(_) => None,
        }
    }
}

/// App data that does not fit JSON (or JSON that does not fit a type) is a `TypeError`.
impl From<serde_json::Error> for Error {
    #[track_caller]
    fn from(error: serde_json::Error) -> Self {
        Exception::type_error(error.to_string()).into()
    }
}

/// Makes an [`Error`] that raises an exception of the given type, like Jac's `raise`.
///
/// The message takes `format!` arguments; the trace records where the macro was used.
///
/// ```
/// use jac_scale_guest::{raise, Result};
///
/// fn check(n: i64) -> Result<i64> {
///     if n < 0 {
///         return Err(raise!("ValueError", "n must not be negative, got {n}"));
///     }
///     Ok(n)
/// }
/// assert_eq!(check(-1).unwrap_err().to_string(), "ValueError: n must not be negative, got -1");
/// ```
#[macro_export]
macro_rules! raise {
    ($kind:expr, $($message:tt)+) => {
        $crate::Error::from($crate::Exception::new($kind, ::std::format!($($message)+)))
    };
}
