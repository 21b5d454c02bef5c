//! Kubernetes deployment of a jac-scale app: `jac-scale start app --scale` and
//! `jac-scale destroy app`.
//!
//! [`settings`] resolves the spec's `APP_NAME` / `K8s_*` variables and the app's
//! `[plugins.scale.kubernetes]`; [`manifests`] makes the typed objects (and the
//! `--dry-run` YAML); [`cluster`] applies them server-side, waits for the rollout and
//! deletes them again.

pub mod cluster;
pub mod image;
pub mod manifests;
pub mod settings;
#[cfg(test)]
mod testing;

use std::io::{BufRead, Write};

pub use cluster::{Cluster, ClusterError};
pub use manifests::{AppSource, Generated, Manifest, ManifestError};
pub use settings::{Settings, SettingsError};

/// Why a deploy or destroy failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("cannot write: {0}")]
    Output(#[from] std::io::Error),
}

/// Deploy the app: with `dry_run`, print the manifests as YAML and touch nothing;
/// else apply them, wait for the rollout and print the URL.
pub async fn deploy(
    settings: &Settings,
    source: &AppSource,
    dry_run: bool,
    out: &mut dyn Write,
) -> Result<(), DeployError> {
    if dry_run {
        let generated = Generated::complete(settings, Default::default());
        let manifests = manifests::manifests(settings, source, &generated)?;
        out.write_all(manifests::to_yaml(&manifests)?.as_bytes())?;
        return Ok(());
    }
    let cluster = Cluster::connect().await?;
    let generated = cluster.generated(settings).await?;
    let manifests = manifests::manifests(settings, source, &generated)?;
    cluster.apply(&manifests, out).await?;
    cluster.wait_for_rollout(settings, out).await?;
    writeln!(
        out,
        "{} is served at {}",
        settings.app,
        cluster.url(settings).await
    )?;
    Ok(())
}

/// Delete every object a deploy of the app made (by label), secrets included, and
/// nothing else. Unless `yes`, lists them and asks on `input` first.
pub async fn destroy(
    settings: &Settings,
    yes: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), DeployError> {
    let cluster = Cluster::connect().await?;
    let found = cluster.find(settings).await?;
    if found.is_empty() {
        writeln!(
            out,
            "nothing to delete: no objects of {} in namespace {}",
            settings.app, settings.namespace
        )?;
        return Ok(());
    }
    if !yes {
        writeln!(out, "in namespace {}:", settings.namespace)?;
        for object in &found {
            writeln!(out, "  {}", object.describe())?;
        }
        write!(out, "delete these {} objects? [y/N] ", found.len())?;
        out.flush()?;
        let mut answer = String::new();
        input.read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            writeln!(out, "nothing deleted")?;
            return Ok(());
        }
    }
    cluster.delete(settings, &found, out).await?;
    Ok(())
}
