//! Users, password hashing and JWT bearer tokens.
//!
//! [`AuthService`] registers users (each gets a root in the graph), logs them in with an
//! argon2id-checked password, and turns a bearer token back into the caller's user id and
//! root. Hashing takes tens of milliseconds: call `register` and `login` where blocking
//! is fine (`spawn_blocking`). `verify` is one indexed lookup.
//!
//! Invariant: no HTTP types here; the HTTP layer picks the identity kind and maps
//! [`AuthError`] to statuses.

pub mod api_keys;
mod identity;
mod password;
mod secret;
mod token;
mod users;

use host_error::HostError;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use identity::{Identity, MAX_IDENTITY_BYTES};
pub use password::MAX_PASSWORD_BYTES;
pub use secret::{SECRET_FILE, admin_token, same_secret};
pub use token::Claims;
pub use users::{UserRecord, UserStore};

/// The username scheduled jobs run as (the original's system user).
pub const SYSTEM_IDENTITY: &str = "__system__";

use config::JwtSettings;
use graph::store::StoreError;
use graph::{Graph, Id};
use password::Passwords;
use token::Tokens;

/// A successful register or login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginGrant {
    pub access_token: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub user_id: String,
    pub root: Id,
    /// Always `"user"`.
    pub role: String,
}

/// The caller a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthedUser {
    pub user_id: String,
    pub root: Id,
}

/// Why an auth operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Registration: the (normalised) identity belongs to another user.
    #[error("this identity is already registered")]
    IdentityTaken,
    /// Login: unknown identity or wrong password (deliberately indistinguishable).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Registration: the email or username is malformed.
    #[error("invalid identity: {0}")]
    InvalidIdentity(String),
    /// Registration: empty password.
    #[error("password must not be empty")]
    EmptyPassword,
    /// Registration: password longer than [`MAX_PASSWORD_BYTES`].
    #[error("password must be at most {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
    /// The bearer token is malformed, forged, expired, or names a deleted user.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// Startup: bad JWT settings or an unusable secret file.
    #[error("auth configuration: {0}")]
    Config(String),
    /// The user store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Creating the new user's root failed.
    #[error(transparent)]
    Graph(#[from] HostError),
    /// Hashing or signing failed (a bug, not the client's fault).
    #[error("internal auth failure: {0}")]
    Internal(String),
}

/// Registers users, logs them in and checks their tokens.
pub struct AuthService {
    users: Arc<dyn UserStore>,
    graph: Graph,
    passwords: Passwords,
    tokens: Tokens,
}

impl AuthService {
    /// Checks the JWT settings and loads (or creates) the signing secret; fails on a
    /// disallowed algorithm, a bad lifetime or an unreadable secret file.
    pub fn new(
        users: Arc<dyn UserStore>,
        graph: Graph,
        jwt: JwtSettings,
        data_dir: &Path,
    ) -> Result<Self, AuthError> {
        let secret = secret::resolve(jwt.secret.as_deref(), data_dir)?;
        let tokens = Tokens::new(&jwt.algorithm, &secret, jwt.exp_days)?;
        Ok(Self {
            users,
            graph,
            passwords: Passwords::new()?,
            tokens,
        })
    }

    /// Creates a user with a fresh root and logs them in. Blocks for one password hash.
    pub fn register(
        &self,
        identity: Identity<'_>,
        password: &str,
    ) -> Result<LoginGrant, AuthError> {
        let identity = identity.normalize()?;
        if password.is_empty() {
            return Err(AuthError::EmptyPassword);
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AuthError::PasswordTooLong);
        }
        if self.users.user_by_identity(&identity)?.is_some() {
            return Err(AuthError::IdentityTaken);
        }
        let user = self.create_user(identity, self.passwords.hash(password)?)?;
        self.grant(&user)
    }

    /// Logs in the account of an email an identity provider verified (single sign-on),
    /// creating it (with a fresh root) on first use. An account made this way gets a
    /// random password no one knows, so only single sign-on reaches it. Blocks for one
    /// password hash when it creates the account.
    pub fn login_verified_email(&self, email: &str) -> Result<LoginGrant, AuthError> {
        let identity = Identity::Email(email).normalize()?;
        if let Some(user) = self.users.user_by_identity(&identity)? {
            return self.grant(&user);
        }
        let unknown_password = hex::encode(rand::random::<[u8; 32]>());
        match self.create_user(identity.clone(), self.passwords.hash(&unknown_password)?) {
            Ok(user) => self.grant(&user),
            // Another sign-in of the same email created it a moment ago.
            Err(AuthError::IdentityTaken) => match self.users.user_by_identity(&identity)? {
                Some(user) => self.grant(&user),
                None => Err(AuthError::IdentityTaken),
            },
            Err(other) => Err(other),
        }
    }

    /// Stores a new user of the (normalised) `identity` with a fresh root; the root is
    /// discarded again when the store refuses the user.
    fn create_user(
        &self,
        identity: String,
        password_hash: String,
    ) -> Result<UserRecord, AuthError> {
        let root = self.graph.create_root()?;
        let user = UserRecord {
            id: Id::generate().to_string(),
            identity,
            password_hash,
            root,
            created_at: unix_now(),
        };
        if let Err(error) = self.users.insert_user(&user) {
            if let Err(cleanup) = self.graph.discard_root(root) {
                tracing::warn!(%root, error = %cleanup, "could not discard the root of a failed registration");
            }
            return Err(match error {
                StoreError::Conflict(_) => AuthError::IdentityTaken,
                other => other.into(),
            });
        }
        Ok(user)
    }

    /// The user scheduled jobs run as (jac-scale 0.2.x's `__system__`, [`SYSTEM_IDENTITY`]):
    /// found, or created with its own root on the first start. Its password is random
    /// and kept nowhere, so nobody logs in as it; its root is private like any user's.
    pub fn system_user(&self) -> Result<AuthedUser, AuthError> {
        let found = |user: UserRecord| AuthedUser {
            user_id: user.id,
            root: user.root,
        };
        if let Some(user) = self.users.user_by_identity(SYSTEM_IDENTITY)? {
            return Ok(found(user));
        }
        let password = hex::encode(rand::random::<[u8; 32]>());
        match self.register(Identity::Username(SYSTEM_IDENTITY), &password) {
            Ok(_) | Err(AuthError::IdentityTaken) => {}
            Err(e) => return Err(e),
        }
        // Registered now, or by a process that started at the same time.
        self.users
            .user_by_identity(SYSTEM_IDENTITY)?
            .map(found)
            .ok_or_else(|| {
                StoreError::Conflict("the system user was deleted while starting".into()).into()
            })
    }

    /// Logs a user in by email or username (normalised the same way as at registration).
    /// Unknown users and wrong passwords fail alike, after the same hashing time.
    pub fn login(&self, identity: &str, password: &str) -> Result<LoginGrant, AuthError> {
        let identity = identity::normalize(identity);
        let user = if identity.is_empty() || identity.len() > MAX_IDENTITY_BYTES {
            None
        } else {
            self.users.user_by_identity(&identity)?
        };
        // An oversized password cannot be registered; check "" instead (which cannot match
        // either) so the hashing time stays the same.
        let password = if password.len() > MAX_PASSWORD_BYTES {
            ""
        } else {
            password
        };
        // Verify before looking at `user`: an unknown user must cost the same hash.
        let verified = self
            .passwords
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()));
        match user {
            Some(user) if verified => self.grant(&user),
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    /// The user a bearer token (without the `Bearer ` prefix) names: signed with our
    /// secret and configured algorithm, unexpired, and for a user that still exists.
    pub fn verify(&self, bearer_token: &str) -> Result<AuthedUser, AuthError> {
        let claims = self.tokens.check(bearer_token)?;
        let user = self
            .users
            .user_by_id(&claims.user_id)?
            .ok_or_else(|| AuthError::InvalidToken("the user no longer exists".into()))?;
        if claims.root_id.is_some_and(|root| root != user.root) {
            return Err(AuthError::InvalidToken(
                "the token's root is not the user's".into(),
            ));
        }
        Ok(AuthedUser {
            user_id: user.id,
            root: user.root,
        })
    }

    fn grant(&self, user: &UserRecord) -> Result<LoginGrant, AuthError> {
        Ok(LoginGrant {
            access_token: self.tokens.issue(&user.id, user.root, unix_now())?,
            expires_in: self.tokens.lifetime_seconds(),
            user_id: user.id.clone(),
            root: user.root,
            role: "user".into(),
        })
    }
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}
