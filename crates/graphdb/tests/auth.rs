//! Behaviour of registration, login and token checks over the real SQLite store.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tempfile::TempDir;

use auth::Claims;
use auth::*;
use config::JwtSettings;
use graph::Graph;
use jac_scale_graphdb::sqlite::SqliteStore;

struct Fixture {
    dir: TempDir,
    store: Arc<SqliteStore>,
    graph: Graph,
    auth: AuthService,
}

const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

fn fixture_with(jwt: JwtSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("jac.db")).unwrap());
    let graph = Graph::new(store.clone()).unwrap();
    let auth = AuthService::new(store.clone(), graph.clone(), jwt, dir.path()).unwrap();
    Fixture {
        dir,
        store,
        graph,
        auth,
    }
}

fn fixture() -> Fixture {
    fixture_with(JwtSettings {
        secret: Some(SECRET.into()),
        ..JwtSettings::default()
    })
}

fn now() -> i64 {
    unix_now()
}

/// A token signed with `secret` and `algorithm` carrying these claims.
fn forge(claims: &impl serde::Serialize, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims_for(grant: &LoginGrant, exp: i64) -> Claims {
    Claims {
        sub: Some(grant.user_id.clone()),
        user_id: grant.user_id.clone(),
        root_id: Some(grant.root),
        iat: Some(now().into()),
        exp,
    }
}

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[test]
fn register_creates_a_user_with_a_root_and_a_working_token() {
    let fx = fixture();
    let grant = fx
        .auth
        .register(Identity::Email(" Alice@Example.com "), "secret")
        .unwrap();
    assert_eq!(grant.role, "user");
    assert_eq!(grant.expires_in, 7 * 86_400);
    assert_eq!(grant.user_id.len(), 32);
    let authed = fx.auth.verify(&grant.access_token).unwrap();
    assert_eq!(
        authed,
        AuthedUser {
            user_id: grant.user_id.clone(),
            root: grant.root
        }
    );
    let mut session = fx.graph.session(graph::Caller {
        root: grant.root,
        user: Some(grant.user_id),
    });
    assert_eq!(
        session.get_node(grant.root).unwrap().archetype,
        graph::ROOT_ARCHETYPE
    );
}

#[test]
fn a_verified_email_links_to_its_account_or_creates_one() {
    let fx = fixture();
    let registered = fx
        .auth
        .register(Identity::Email("bob@example.com"), "secret")
        .unwrap();
    // Linked: the same user and root as the password account, any spelling.
    let linked = fx.auth.login_verified_email(" Bob@Example.COM").unwrap();
    assert_eq!(
        (&linked.user_id, linked.root),
        (&registered.user_id, registered.root)
    );
    fx.auth.verify(&linked.access_token).unwrap();

    // Created on first use, with a root of its own; the same account the next time.
    let created = fx.auth.login_verified_email("carol@example.com").unwrap();
    assert_ne!(created.root, registered.root);
    let again = fx.auth.login_verified_email("carol@example.com").unwrap();
    assert_eq!(
        (&again.user_id, again.root),
        (&created.user_id, created.root)
    );
    let mut session = fx.graph.session(graph::Caller {
        root: created.root,
        user: Some(created.user_id),
    });
    assert_eq!(
        session.get_node(created.root).unwrap().archetype,
        graph::ROOT_ARCHETYPE
    );
    // No password reaches it, not even an empty one.
    for password in ["", "secret"] {
        assert!(matches!(
            fx.auth.login("carol@example.com", password),
            Err(AuthError::InvalidCredentials)
        ));
    }
    assert!(matches!(
        fx.auth.login_verified_email("not an email"),
        Err(AuthError::InvalidIdentity(_))
    ));
}

#[test]
fn duplicate_identity_is_taken_after_folding() {
    let fx = fixture();
    fx.auth
        .register(Identity::Email("alice@example.com"), "secret")
        .unwrap();
    let again = fx
        .auth
        .register(Identity::Email("  ALICE@example.COM"), "other");
    assert!(matches!(again, Err(AuthError::IdentityTaken)));
    let as_username = fx
        .auth
        .register(Identity::Username("Alice@Example.com"), "other");
    assert!(
        matches!(as_username, Err(AuthError::IdentityTaken)),
        "one namespace"
    );
}

#[test]
fn registration_rejects_bad_input() {
    let fx = fixture();
    assert!(matches!(
        fx.auth.register(Identity::Email("nope"), "pw"),
        Err(AuthError::InvalidIdentity(_))
    ));
    assert!(matches!(
        fx.auth.register(Identity::Username("a b"), "pw"),
        Err(AuthError::InvalidIdentity(_))
    ));
    assert!(matches!(
        fx.auth.register(Identity::Username("bob"), ""),
        Err(AuthError::EmptyPassword)
    ));
    let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    assert!(matches!(
        fx.auth.register(Identity::Username("bob"), &long),
        Err(AuthError::PasswordTooLong)
    ));
}

#[test]
fn login_accepts_the_password_and_any_spelling_of_the_identity() {
    let fx = fixture();
    let registered = fx
        .auth
        .register(Identity::Username("bob"), "hunter2")
        .unwrap();
    let grant = fx.auth.login("  BOB ", "hunter2").unwrap();
    assert_eq!(
        (grant.user_id.as_str(), grant.root),
        (registered.user_id.as_str(), registered.root)
    );
    assert!(fx.auth.verify(&grant.access_token).is_ok());
}

#[test]
fn wrong_password_and_unknown_user_fail_alike() {
    let fx = fixture();
    fx.auth
        .register(Identity::Username("bob"), "hunter2")
        .unwrap();
    let wrong = fx.auth.login("bob", "hunter3").unwrap_err();
    let unknown = fx.auth.login("carol", "hunter2").unwrap_err();
    assert!(matches!(wrong, AuthError::InvalidCredentials));
    assert!(matches!(unknown, AuthError::InvalidCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert!(matches!(
        fx.auth.login("", ""),
        Err(AuthError::InvalidCredentials)
    ));
    let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    assert!(matches!(
        fx.auth.login("bob", &long),
        Err(AuthError::InvalidCredentials)
    ));
}

#[test]
fn unknown_user_costs_the_same_hashing_time() {
    let fx = fixture();
    fx.auth
        .register(Identity::Username("bob"), "hunter2")
        .unwrap();
    let fastest = |identity: &str| {
        (0..5)
            .map(|_| {
                let started = Instant::now();
                let _ = fx.auth.login(identity, "wrong");
                started.elapsed()
            })
            .min()
            .unwrap()
    };
    let wrong_password = fastest("bob");
    let unknown_user = fastest("nobody");
    // Skipping the hash would make this a factor of thousands; the margin absorbs a busy
    // machine.
    assert!(
        unknown_user * 10 > wrong_password && wrong_password * 10 > unknown_user,
        "unknown user {unknown_user:?} vs wrong password {wrong_password:?}"
    );
}

#[test]
fn expired_token_is_rejected() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    let expired = forge(&claims_for(&grant, now() - 1), Algorithm::HS256, SECRET);
    assert!(
        matches!(fx.auth.verify(&expired), Err(AuthError::InvalidToken(m)) if m.contains("expired"))
    );
    let fresh = forge(&claims_for(&grant, now() + 60), Algorithm::HS256, SECRET);
    assert!(
        fx.auth.verify(&fresh).is_ok(),
        "the forging helper itself is sound"
    );
}

#[test]
fn token_without_exp_is_rejected() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    let claims = serde_json::json!({"sub": grant.user_id, "user_id": grant.user_id, "root_id": grant.root, "iat": now()});
    assert!(matches!(
        fx.auth.verify(&forge(&claims, Algorithm::HS256, SECRET)),
        Err(AuthError::InvalidToken(_))
    ));
}

#[test]
fn token_issued_by_the_python_original_is_accepted() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    // What jac-scale 0.2.31 signs: no `sub`, no `root_id`, a float `iat`, a `role`.
    let original = serde_json::json!({
        "user_id": grant.user_id, "role": "user",
        "iat": now() as f64 + 0.25, "exp": now() + 60,
    });
    let authed = fx
        .auth
        .verify(&forge(&original, Algorithm::HS256, SECRET))
        .unwrap();
    assert_eq!((authed.user_id, authed.root), (grant.user_id, grant.root));
}

#[test]
fn claims_that_are_present_must_agree_with_the_user() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    let other = fx.auth.register(Identity::Username("eve"), "pw").unwrap();
    let exp = now() + 60;
    for claims in [
        serde_json::json!({"sub": other.user_id, "user_id": grant.user_id, "exp": exp}),
        serde_json::json!({"user_id": grant.user_id, "root_id": other.root, "exp": exp}),
        serde_json::json!({"sub": grant.user_id, "root_id": grant.root, "exp": exp}),
    ] {
        assert!(
            matches!(
                fx.auth.verify(&forge(&claims, Algorithm::HS256, SECRET)),
                Err(AuthError::InvalidToken(_))
            ),
            "{claims}"
        );
    }
}

#[test]
fn wrong_signature_is_rejected() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    let forged = forge(
        &claims_for(&grant, now() + 60),
        Algorithm::HS256,
        "another secret",
    );
    assert!(
        matches!(fx.auth.verify(&forged), Err(AuthError::InvalidToken(m)) if m == "bad signature")
    );
    let mut tampered = grant.access_token.clone();
    tampered.pop();
    tampered.push(if grant.access_token.ends_with('A') {
        'B'
    } else {
        'A'
    });
    assert!(fx.auth.verify(&tampered).is_err());
}

#[test]
fn alg_none_token_is_rejected() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    let claims = serde_json::to_vec(&claims_for(&grant, now() + 60)).unwrap();
    for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"None"}"#] {
        let unsigned = format!("{}.{}.", b64(header.as_bytes()), b64(&claims));
        assert!(
            matches!(fx.auth.verify(&unsigned), Err(AuthError::InvalidToken(_))),
            "{header}"
        );
    }
}

#[test]
fn other_algorithm_than_configured_is_rejected() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    let hs512 = forge(&claims_for(&grant, now() + 60), Algorithm::HS512, SECRET);
    assert!(
        matches!(fx.auth.verify(&hs512), Err(AuthError::InvalidToken(m)) if m == "algorithm not allowed")
    );
}

#[test]
fn deleted_user_token_is_rejected() {
    let fx = fixture();
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    assert!(fx.store.delete_user(&grant.user_id).unwrap());
    assert!(matches!(
        fx.auth.verify(&grant.access_token),
        Err(AuthError::InvalidToken(_))
    ));
    assert!(matches!(
        fx.auth.login("bob", "pw"),
        Err(AuthError::InvalidCredentials)
    ));
}

#[test]
fn malformed_tokens_are_rejected() {
    let fx = fixture();
    for token in ["", "abc", "a.b.c", &"x".repeat(10_000)] {
        assert!(
            matches!(fx.auth.verify(token), Err(AuthError::InvalidToken(_))),
            "{token:.20}"
        );
    }
}

#[test]
fn configured_algorithm_is_used_and_others_fail_at_startup() {
    let fx = fixture_with(JwtSettings {
        secret: Some(SECRET.into()),
        algorithm: "hs512".into(),
        exp_days: 1,
    });
    let grant = fx.auth.register(Identity::Username("bob"), "pw").unwrap();
    let header = jsonwebtoken::decode_header(&grant.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::HS512);
    assert_eq!(grant.expires_in, 86_400);
    assert!(fx.auth.verify(&grant.access_token).is_ok());

    for (algorithm, days) in [("RS256", 7), ("none", 7), ("HS256", 0), ("HS256", 100_000)] {
        let jwt = JwtSettings {
            secret: Some(SECRET.into()),
            algorithm: algorithm.into(),
            exp_days: days,
        };
        let built = AuthService::new(fx.store.clone(), fx.graph.clone(), jwt, fx.dir.path());
        assert!(
            matches!(built, Err(AuthError::Config(_))),
            "{algorithm} {days}"
        );
    }
}

#[test]
fn tokens_survive_restart_with_the_generated_secret() {
    let dir = tempfile::tempdir().unwrap();
    let open = |path: &Path| {
        let store = Arc::new(SqliteStore::open(&path.join("jac.db")).unwrap());
        let graph = Graph::new(store.clone()).unwrap();
        AuthService::new(store, graph, JwtSettings::default(), path).unwrap()
    };
    let grant = open(dir.path())
        .register(Identity::Username("bob"), "pw")
        .unwrap();
    let restarted = open(dir.path());
    assert_eq!(
        restarted.verify(&grant.access_token).unwrap().root,
        grant.root
    );
    assert!(restarted.login("bob", "pw").is_ok(), "users persist too");
}

#[test]
fn the_service_is_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<AuthService>();
}
