//! The `jac-scale` command line: parse flags, build a `Config`, call into the library.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use config::GrantDefault;
use config::{AdminClient, Config, Flags, LogFormat, ProcessEnv, ServeConfig, ServeFlags};
use jac_scale::apps::client::Request;
use jac_scale::build;
#[cfg(feature = "jac-build")]
use runtime::function_cache::FunctionCache;

/// Many small, short-lived strings per request (JSON, field maps): mimalloc keeps them
/// off glibc's contended per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Serve Jac walker apps, compiled to WebAssembly components, as a production API.
#[derive(Parser)]
#[command(name = "jac-scale", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve an app (`app.wasm`) on this machine.
    Start {
        /// The app: a WebAssembly component (`app.wasm`) or a Jac program (`app.jac`,
        /// built on the fly and cached in the data dir).
        app: PathBuf,
        #[command(flatten)]
        server: ServerFlags,
        /// Swap in the new version whenever the component (or a `.jac` source) changes.
        #[arg(long)]
        reload: bool,
        #[cfg(feature = "kubernetes")]
        #[command(flatten)]
        scale: ScaleArgs,
    },
    /// Remove an app's Kubernetes deployment (every object `start --scale` made, its
    /// secrets included, and nothing else).
    #[cfg(feature = "kubernetes")]
    Destroy {
        /// The app (`app.wasm` or `app.jac`); names the deployment like `start --scale`.
        app: PathBuf,
        /// Delete without asking.
        #[arg(long, short)]
        yes: bool,
    },
    /// Write the app's container image (this binary serving it) as an OCI image layout.
    #[cfg(feature = "kubernetes")]
    Image {
        /// The app (`app.wasm` or `app.jac`).
        app: PathBuf,
        /// The directory to write the OCI layout to.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Serve many apps in one process: each under `/apps/<name>/` (and `<name>.<domain>`),
    /// with its own data, plus an admin API to deploy, replace and remove apps.
    Serve {
        /// A folder with one folder per app: `<name>/app.wasm` or `<name>/app.jac`
        /// (+ an optional `jac.toml`); deploys are written here
        /// [default: `[serve] apps_dir` of --config, else `<data>/deployed`].
        #[arg(long, value_name = "DIR")]
        apps: Option<PathBuf>,
        /// An `apps.toml`: `[serve]` settings and `[apps.<name>]` entries (`path`,
        /// `settings` shaped like a jac.toml).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[command(flatten)]
        server: ServerFlags,
        /// Also serve app `<name>` on the host `<name>.<DOMAIN>`.
        #[arg(long)]
        domain: Option<String>,
        /// Address of the admin API [default: 127.0.0.1:8001].
        #[arg(long, value_name = "ADDR")]
        admin: Option<SocketAddr>,
    },
    /// Deploy, list or remove the apps of a running `jac-scale serve` (its admin API).
    Apps {
        #[command(subcommand)]
        action: AppsAction,
        /// The admin API [default: JAC_SCALE_ADMIN_URL, else http://127.0.0.1:8001].
        #[arg(long, global = true, value_name = "URL")]
        admin: Option<String>,
        /// File holding the operator token [default: JAC_SCALE_ADMIN_TOKEN, else
        /// `<JAC_DATA_PATH or .jac/data>/admin-token`].
        #[arg(long, global = true, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// Build a Jac app (`app.jac` and the modules it imports) into one component.
    #[cfg(feature = "jac-build")]
    Build {
        /// The app's entry module.
        app: PathBuf,
        /// Where to write the component [default: the app's path with `.wasm`].
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// How `start` and `serve` listen and run guests.
#[derive(clap::Args)]
struct ServerFlags {
    /// Address to bind [default: 0.0.0.0, or [plugins.scale.server] host of `start`'s app].
    #[arg(long)]
    host: Option<IpAddr>,
    /// Port to bind; 0 picks a free one [default: 8000, or [plugins.scale.server] port].
    #[arg(long)]
    port: Option<u16>,
    /// Worker threads serving requests [default: one per core].
    #[arg(long)]
    workers: Option<usize>,
    /// Kvstores and storage of an app whose jac.toml declares no
    /// `[plugins.scale.capabilities]`: `allow` all or `deny` all
    /// [default: JAC_SCALE_CAPABILITIES, else allow].
    #[arg(long, value_name = "allow|deny")]
    capabilities: Option<GrantDefault>,
}

/// `start --scale`: deploy to Kubernetes instead of serving here.
#[cfg(feature = "kubernetes")]
#[derive(clap::Args)]
struct ScaleArgs {
    /// Deploy to the Kubernetes cluster of the kubeconfig (APP_NAME, K8s_* variables,
    /// `[plugins.scale.kubernetes]`; README "Deploy to Kubernetes").
    #[arg(long)]
    scale: bool,
    /// Build an image with the app inside and push it (DOCKER_USERNAME/DOCKER_PASSWORD,
    /// or JAC_SCALE_REGISTRY).
    #[arg(long, short, requires = "scale")]
    build: bool,
    /// Print the manifests as YAML instead of applying them.
    #[arg(long, requires = "scale")]
    dry_run: bool,
}

#[derive(Subcommand)]
enum AppsAction {
    /// Deploy `file` (`.wasm` component or `.jac` source) as app `name`; replaces a
    /// served app with no downtime.
    Deploy { name: String, file: PathBuf },
    /// List the apps with their usage.
    List,
    /// Stop serving app `name` and delete its files (its data stays unless --purge).
    Remove {
        name: String,
        /// Delete the app's data too.
        #[arg(long)]
        purge: bool,
    },
}

fn main() -> ExitCode {
    let format = match LogFormat::from_env(&ProcessEnv) {
        Ok(format) => format,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let log = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => log.json().with_span_list(false).init(),
        LogFormat::Text => log
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A syntax error is already a full report (location, excerpt, caret).
            match syntax_error(&e) {
                Some(report) => eprintln!("{report}"),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Start {
            app,
            server,
            reload,
            #[cfg(feature = "kubernetes")]
            scale,
        } => {
            #[cfg(feature = "kubernetes")]
            if scale.scale {
                let flags = jac_scale::deploy::ScaleFlags {
                    build: scale.build,
                    dry_run: scale.dry_run,
                };
                return tool_runtime()?.block_on(jac_scale::deploy::start_scaled(&app, flags));
            }
            let flags = Flags {
                host: server.host,
                port: server.port,
                workers: server.workers,
                reload,
                capabilities: server.capabilities,
            };
            let config = Config::resolve(&app, flags, &ProcessEnv)?;
            server_runtime(config.workers)?.block_on(jac_scale::server::serve(config))?;
            Ok(())
        }
        Command::Serve {
            apps,
            config,
            server,
            domain,
            admin,
        } => {
            let flags = ServeFlags {
                apps_dir: apps,
                apps_file: config,
                host: server.host,
                port: server.port,
                workers: server.workers,
                capabilities: server.capabilities,
                domain,
                admin,
            };
            let serve = ServeConfig::resolve(flags, &ProcessEnv)?;
            server_runtime(serve.base.workers)?.block_on(jac_scale::apps::serve(serve))?;
            Ok(())
        }
        Command::Apps {
            action,
            admin,
            token_file,
        } => {
            let settings = AdminClient::resolve(admin, token_file, &ProcessEnv);
            let request = match &action {
                AppsAction::Deploy { name, file } => Request::Deploy { name, file },
                AppsAction::List => Request::List,
                AppsAction::Remove { name, purge } => Request::Remove {
                    name,
                    purge: *purge,
                },
            };
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(jac_scale::apps::client::run(&settings, request))
        }
        #[cfg(feature = "kubernetes")]
        Command::Destroy { app, yes } => {
            tool_runtime()?.block_on(jac_scale::deploy::destroy(&app, yes))
        }
        #[cfg(feature = "kubernetes")]
        Command::Image { app, output } => {
            tool_runtime()?.block_on(jac_scale::deploy::write_image(&app, &output))
        }
        #[cfg(feature = "jac-build")]
        Command::Build { app, output } => {
            if !build::is_jac_app(&app) {
                anyhow::bail!("{} is not a .jac file", app.display());
            }
            let output = output.unwrap_or_else(|| app.with_extension("wasm"));
            build::sweep_output_dir(&output);
            let sources = build::AppSources::read(&app)?;
            let function_cache =
                config::machine_cache_dir(&ProcessEnv).map(|d| FunctionCache::new(&d));
            let wasm = tokio::runtime::Builder::new_current_thread()
                .build()?
                .block_on(build::build(&sources, function_cache.as_ref()))?;
            build::write_atomically(&output, &wasm)?;
            println!("built {} ({} KiB)", output.display(), wasm.len() >> 10);
            Ok(())
        }
    }
}

/// The runtime of a one-off command (deploy, destroy, image).
#[cfg(feature = "kubernetes")]
fn tool_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The runtime serving requests: `workers` threads, else one per core.
fn server_runtime(workers: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = workers {
        anyhow::ensure!(n > 0, "--workers must be at least 1");
        builder.worker_threads(n);
    }
    Ok(builder.build()?)
}

/// The report of a Jac syntax error behind `e`, if that is what stopped us.
fn syntax_error(e: &anyhow::Error) -> Option<&str> {
    let build =
        e.downcast_ref::<build::BuildError>().or_else(|| match e
            .downcast_ref::<jac_scale::server::StartError>()?
        {
            jac_scale::server::StartError::Build(b) => Some(b),
            _ => None,
        })?;
    match build {
        build::BuildError::Syntax(report) => Some(report),
        _ => None,
    }
}
