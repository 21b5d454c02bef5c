//! JWT settings: the environment's `JWT_*` values, read by `config` and used by `auth`.

/// Token settings, from `JWT_SECRET`, `JWT_ALGORITHM` and `JWT_EXP_DELTA_DAYS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    /// `None` or empty: use the secret generated once in the data dir.
    pub secret: Option<String>,
    /// HS256, HS384 or HS512.
    pub algorithm: String,
    /// Token lifetime in days (1 to 3650).
    pub exp_days: i64,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            secret: None,
            algorithm: "HS256".into(),
            exp_days: 7,
        }
    }
}
