//! The guest's environment: the keys of `[plugins.scale.secrets]` and of
//! `[plugins.scale.env]`, nothing else of the host's.
//!
//! Each value may hold `${VAR}` references, read from the environment. When `VAR` is
//! unset but the key itself is set (in a Kubernetes pod the `{app}-secrets` Secret and
//! the Deployment set every key), the key's own value is taken; otherwise the start (or
//! the deploy) fails naming `VAR`: an app never gets an empty secret by accident.

use std::collections::BTreeMap;

use super::{ConfigError, Env, JacToml};

/// The sections whose keys become the guest's environment.
pub const SECTIONS: [&str; 2] = ["secrets", "env"];

/// `[plugins.scale.secrets]` and `[plugins.scale.env]`, resolved: what the guest sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestEnv {
    /// `[plugins.scale.secrets]`: kept in the `{app}-secrets` Secret on Kubernetes.
    pub secrets: BTreeMap<String, String>,
    /// `[plugins.scale.env]`: plain settings, set on the Deployment.
    pub plain: BTreeMap<String, String>,
}

impl GuestEnv {
    /// Resolve both sections of `toml` against `env`.
    pub fn resolve(toml: &JacToml, env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(GuestEnv {
            secrets: resolve_section(toml, SECTIONS[0], env)?,
            plain: resolve_section(toml, SECTIONS[1], env)?,
        })
    }

    /// Every variable, secrets last (a key in both takes the secret's value).
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut all = self.plain.clone();
        all.extend(self.secrets.iter().map(|(k, v)| (k.clone(), v.clone())));
        all.into_iter().collect()
    }
}

fn resolve_section(
    toml: &JacToml,
    section: &str,
    env: &dyn Env,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let Some(table) = toml.section(section) else {
        return Ok(BTreeMap::new());
    };
    let mut resolved = BTreeMap::new();
    for (key, value) in table {
        if !is_variable_name(key) {
            return Err(ConfigError::Invalid(format!(
                "{}: `plugins.scale.{section}.{key}` is not a valid environment variable name \
                 (letters, digits and `_`, not starting with a digit)",
                toml.path().display()
            )));
        }
        let template = value
            .as_str()
            .ok_or_else(|| toml.wrong_type(section, key, "a string"))?;
        let value = substitute(template, env).map_err(|missing| match env.var(key) {
            Some(_) => None,
            None => Some(ConfigError::Invalid(format!(
                "{}: `plugins.scale.{section}.{key}` needs the environment variable \
                 {missing}, which is not set",
                toml.path().display()
            ))),
        });
        let value = match value {
            Ok(v) => v,
            Err(Some(e)) => return Err(e),
            Err(None) => env.var(key).unwrap_or_default(),
        };
        resolved.insert(key.clone(), value);
    }
    Ok(resolved)
}

/// `template` with every `${VAR}` replaced by its value; `Err(VAR)` names the first unset one.
/// A `$` not followed by `{` is kept as it is.
fn substitute(template: &str, env: &dyn Env) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        out.push_str(&env.var(name).ok_or_else(|| name.to_string())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A POSIX environment variable name.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn resolve(text: &str, env: &[(&'static str, &'static str)]) -> Result<GuestEnv, ConfigError> {
        let env: HashMap<&'static str, &'static str> = env.iter().copied().collect();
        GuestEnv::resolve(&JacToml::from_text(text).expect("valid toml"), &env)
    }

    #[test]
    fn references_are_read_from_the_environment() {
        let guest = resolve(
            "[plugins.scale.secrets]\nOPENAI_API_KEY = \"${OPENAI}\"\nURL = \"https://${HOST}:${PORT}/x\"\n\
             STATIC = \"plain $value\"\n[plugins.scale.env]\nLOG_LEVEL = \"debug\"\n",
            &[("OPENAI", "sk-1"), ("HOST", "db"), ("PORT", "5432"), ("PATH", "/bin")],
        )
        .expect("resolves");
        assert_eq!(
            guest.vars(),
            vec![
                ("LOG_LEVEL".into(), "debug".into()),
                ("OPENAI_API_KEY".into(), "sk-1".into()),
                ("STATIC".into(), "plain $value".into()),
                ("URL".into(), "https://db:5432/x".into()),
            ]
        );
    }

    #[test]
    fn an_unset_variable_is_an_error_naming_it() {
        let e =
            resolve("[plugins.scale.secrets]\nKEY = \"${MISSING_ONE}\"\n", &[]).expect_err("unset");
        let message = e.to_string();
        assert!(message.contains("MISSING_ONE"), "{message}");
        assert!(message.contains("plugins.scale.secrets.KEY"), "{message}");
    }

    #[test]
    fn the_keys_own_value_stands_in_for_an_unset_reference() {
        // In a pod: the Secret sets DATABASE_PASSWORD, nobody sets DB_PASS.
        let guest = resolve(
            "[plugins.scale.secrets]\nDATABASE_PASSWORD = \"${DB_PASS}\"\n",
            &[("DATABASE_PASSWORD", "from-secret")],
        )
        .expect("resolves");
        assert_eq!(guest.secrets["DATABASE_PASSWORD"], "from-secret");
    }

    #[test]
    fn bad_names_and_values_are_refused() {
        assert!(resolve("[plugins.scale.env]\n\"A-B\" = \"x\"\n", &[]).is_err());
        assert!(resolve("[plugins.scale.env]\nA = 3\n", &[]).is_err());
    }
}
