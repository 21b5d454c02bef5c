//! What the unit tests of this crate share: an environment from a list, a jac.toml from text.

use std::collections::HashMap;

use config::{Env, JacToml};

/// A test's environment.
pub struct Vars(HashMap<&'static str, &'static str>);

impl Vars {
    pub fn of(pairs: &[(&'static str, &'static str)]) -> Self {
        Vars(pairs.iter().copied().collect())
    }
}

impl Env for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.to_string())
    }
}

/// `text` as an app's jac.toml, loaded from a file as the binary loads it.
pub fn jac_toml(text: &str) -> JacToml {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jac.toml");
    std::fs::write(&path, text).expect("write jac.toml");
    JacToml::load(&path).expect("valid jac.toml")
}
