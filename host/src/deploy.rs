//! `jac-scale start app --scale [--build] [--dry-run]`, `jac-scale destroy app [--yes]`
//! and `jac-scale image app -o DIR`: the app's component (a `.jac` app built first) and
//! jac.toml handed to the `deploy` crate (cargo feature `kubernetes`).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use config::{Config, Env, Flags, JacToml, ProcessEnv};
use deploy::image::{self, ImageContents, Registry};
use deploy::settings::dns_label;
use deploy::{AppSource, Settings};
use runtime::function_cache::FunctionCache;

/// What `start --scale` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct ScaleFlags {
    /// Build and push an image with the app inside (`--build`).
    pub build: bool,
    /// Print the manifests instead of applying them (`--dry-run`).
    pub dry_run: bool,
}

/// The app's component bytes and jac.toml text.
struct AppFiles {
    component: Vec<u8>,
    jac_toml: Option<String>,
    toml: JacToml,
    default_name: String,
}

async fn app_files(app: &Path, env: &dyn Env) -> anyhow::Result<AppFiles> {
    let config = Config::resolve(app, Flags::default(), env)?;
    let function_cache = FunctionCache::new(&config.compile_cache_dir);
    let component_path =
        crate::build::component_for(app, &config.data_dir.join("cache"), Some(&function_cache))
            .await?;
    let component = std::fs::read(&component_path)
        .with_context(|| format!("cannot read {}", component_path.display()))?;
    let toml_path = config::app_dir_of(app).join("jac.toml");
    let toml = JacToml::load(&toml_path)?;
    let jac_toml = match std::fs::read_to_string(&toml_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", toml_path.display())),
    };
    Ok(AppFiles {
        component,
        jac_toml,
        default_name: default_name(app, &toml)?,
        toml,
    })
}

/// The app's name on the cluster when `APP_NAME` does not give one: its tenant name
/// (`[project] name`, else the file or folder name) as a DNS label.
fn default_name(app: &Path, toml: &JacToml) -> anyhow::Result<String> {
    Ok(dns_label(&config::tenant_of(app, toml.project_name()?)))
}

/// `start app --scale`: deploy to the kubeconfig's cluster.
pub async fn start_scaled(app: &Path, flags: ScaleFlags) -> anyhow::Result<()> {
    let files = app_files(app, &ProcessEnv).await?;
    let settings = Settings::resolve(&files.toml, &files.default_name, &ProcessEnv)?;
    let mut out = std::io::stdout().lock();
    let source = if flags.build {
        let registry = Registry::resolve(&settings, &ProcessEnv)?;
        let built = image::build(&contents(files.component.clone(), files.jac_toml))?;
        let reference = if flags.dry_run {
            registry.reference(&settings.app, &built.manifest_digest)
        } else {
            writeln!(out, "pushing {} to {}", settings.app, registry.describe())?;
            let reference = image::push(&built, &registry, &settings.app).await?;
            writeln!(
                out,
                "pushed {reference} ({} compressed)",
                image::human_size(built.compressed_size())
            )?;
            reference
        };
        AppSource::Built {
            image: reference,
            component: files.component,
        }
    } else {
        AppSource::HostImage {
            component: files.component,
            jac_toml: files.jac_toml,
        }
    };
    deploy::deploy(&settings, &source, flags.dry_run, &mut out).await?;
    Ok(())
}

/// `destroy app`: delete what `start --scale` made.
pub async fn destroy(app: &Path, yes: bool) -> anyhow::Result<()> {
    let toml = JacToml::load(&config::app_dir_of(app).join("jac.toml"))?;
    let settings = Settings::names(&toml, &default_name(app, &toml)?, &ProcessEnv)?;
    let mut input = std::io::stdin().lock();
    deploy::destroy(&settings, yes, &mut input, &mut std::io::stdout().lock()).await?;
    Ok(())
}

/// `image app -o DIR`: write the app's image as an OCI layout, push nothing.
pub async fn write_image(app: &Path, dir: &Path) -> anyhow::Result<()> {
    let files = app_files(app, &ProcessEnv).await?;
    let built = image::build(&contents(files.component, files.jac_toml))?;
    image::write_layout(&built, dir)?;
    println!(
        "wrote {} ({}, {} compressed)",
        dir.display(),
        built.manifest_digest,
        image::human_size(built.compressed_size())
    );
    Ok(())
}

/// The image of this very binary serving the app.
fn contents(component: Vec<u8>, jac_toml: Option<String>) -> ImageContents {
    ImageContents {
        binary: std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into()),
        component,
        jac_toml,
    }
}
