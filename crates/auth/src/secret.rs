//! Signing secrets (JWT, webhook API keys): the configured one, or one generated once
//! and kept in the data dir.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::AuthError;

/// File in the data dir that keeps the generated JWT secret.
pub const SECRET_FILE: &str = "jwt-secret";

/// Which secret: where the generated one is kept and which setting overrides it.
#[derive(Debug, Clone, Copy)]
pub(super) struct SecretKind {
    /// File name in the data dir.
    pub file: &'static str,
    /// The setting named in log lines and errors.
    pub setting: &'static str,
}

/// The JWT signing secret.
pub(super) const JWT: SecretKind = SecretKind {
    file: SECRET_FILE,
    setting: "JWT_SECRET",
};
use config::ADMIN_TOKEN_FILE;

/// The operator token of the admin API.
const ADMIN: SecretKind = SecretKind {
    file: ADMIN_TOKEN_FILE,
    setting: "JAC_SCALE_ADMIN_TOKEN",
};

/// The admin API's operator token: the configured one, else the one generated into
/// `<data_dir>/admin-token` (mode 0600) on first use.
pub fn admin_token(configured: Option<&str>, data_dir: &Path) -> Result<String, AuthError> {
    let token = resolve_kind(ADMIN, configured, data_dir)?;
    String::from_utf8(token)
        .map_err(|_| AuthError::Config("JAC_SCALE_ADMIN_TOKEN is not UTF-8".into()))
}

/// Whether `given` is `expected`, in time independent of where they differ.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Random bytes in a generated secret (256 bits, the HS256 key size).
const GENERATED_SECRET_BYTES: usize = 32;
/// Shorter configured secrets are accepted with a warning: HMAC keys under the hash size
/// are guessable.
const RECOMMENDED_SECRET_BYTES: usize = 32;

/// The JWT signing secret (see [`resolve_kind`]).
pub(super) fn resolve(configured: Option<&str>, data_dir: &Path) -> Result<Vec<u8>, AuthError> {
    resolve_kind(JWT, configured, data_dir)
}

/// The signing secret: the configured one if set and non-empty, otherwise the generated
/// one from `<data_dir>/<kind.file>` (created on first use, mode 0600). The secret is the
/// file's text (64 hex digits), so configuring that text keeps tokens valid.
pub(super) fn resolve_kind(
    kind: SecretKind,
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<Vec<u8>, AuthError> {
    let setting = kind.setting;
    if let Some(secret) = configured.filter(|secret| !secret.is_empty()) {
        if secret.len() < RECOMMENDED_SECRET_BYTES {
            tracing::warn!(
                "{setting} is shorter than {RECOMMENDED_SECRET_BYTES} bytes; tokens are easier to forge"
            );
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(kind.file);
    let secret = match fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path, setting)?,
        Err(error) if error.kind() == ErrorKind::NotFound => create(&path, kind)?,
        Err(error) => return Err(file_error(&path, &error)),
    };
    warn_if_readable_by_others(&path);
    tracing::warn!(
        path = %path.display(),
        "{setting} is not set; signing with the generated secret kept in the data dir"
    );
    Ok(secret.into_bytes())
}

/// Checks a stored secret: 64 hex digits, surrounding whitespace ignored.
fn parse(text: &str, path: &Path, setting: &str) -> Result<String, AuthError> {
    let secret = text.trim();
    if secret.len() != GENERATED_SECRET_BYTES * 2 || !secret.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(AuthError::Config(format!(
            "{} does not hold {} hex digits; delete it to generate a new secret \
             (existing tokens stop working) or set {setting}",
            path.display(),
            GENERATED_SECRET_BYTES * 2
        )));
    }
    Ok(secret.to_owned())
}

/// Generates a secret and stores it at `path`, unless another process got there first
/// (then theirs is used): written to a private temporary file, then hard-linked into place,
/// which fails instead of overwriting.
fn create(path: &Path, kind: SecretKind) -> Result<String, AuthError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|error| file_error(dir, &error))?;
    let secret = hex::encode(rand::random::<[u8; GENERATED_SECRET_BYTES]>());
    let temporary: PathBuf = dir.join(format!(".{}.{}.tmp", kind.file, std::process::id()));
    let written = write_private(&temporary, &secret).and_then(|()| fs::hard_link(&temporary, path));
    // The temporary name is ours alone; failing to remove it only leaves litter.
    let _ = fs::remove_file(&temporary);
    match written {
        Ok(()) => Ok(secret),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path).map_err(|error| file_error(path, &error))?;
            parse(&text, path, kind.setting)
        }
        Err(error) => Err(file_error(path, &error)),
    }
}

fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    // A stale file of a crashed process with our pid may exist; start from nothing.
    let _ = fs::remove_file(path);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = fs::metadata(path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "a secret file is readable by other users; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

fn file_error(path: &Path, error: &std::io::Error) -> AuthError {
    AuthError::Config(format!("secret file {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_survives_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = resolve(None, dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(resolve(None, dir.path()).unwrap(), first);
        assert_ne!(
            resolve(None, tempfile::tempdir().unwrap().path()).unwrap(),
            first
        );
    }

    #[cfg(unix)]
    #[test]
    fn generated_secret_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        resolve(None, dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let litter: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(litter.len(), 1, "only the secret file remains");
    }

    #[test]
    fn configured_secret_wins_and_empty_means_unset() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve(Some("configured"), dir.path()).unwrap(),
            b"configured"
        );
        assert!(!dir.path().join(SECRET_FILE).exists());
        assert_eq!(resolve(Some(""), dir.path()).unwrap().len(), 64);
    }

    #[test]
    fn admin_token_is_generated_privately_and_compared_whole() {
        let dir = tempfile::tempdir().unwrap();
        let token = admin_token(None, dir.path()).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(admin_token(None, dir.path()).unwrap(), token);
        assert!(dir.path().join(ADMIN_TOKEN_FILE).is_file());
        assert!(same_secret(token.as_bytes(), token.as_bytes()));
        assert!(!same_secret(&token.as_bytes()[1..], token.as_bytes()));
        assert!(!same_secret(b"x", b"y"));
    }

    #[test]
    fn a_damaged_secret_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SECRET_FILE), "short").unwrap();
        assert!(matches!(
            resolve(None, dir.path()),
            Err(AuthError::Config(_))
        ));
    }
}
