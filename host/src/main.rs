//! The `jac-scale` command line: parse flags, build a `Config`, call into the library.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use config::GrantDefault;
use config::{Config, Flags, LogFormat, ProcessEnv};
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
        /// Address to bind [default: 0.0.0.0, or [plugins.scale.server] host].
        #[arg(long)]
        host: Option<IpAddr>,
        /// Port to bind; 0 picks a free one [default: 8000, or [plugins.scale.server] port].
        #[arg(long)]
        port: Option<u16>,
        /// Worker threads serving requests [default: one per core].
        #[arg(long)]
        workers: Option<usize>,
        /// Swap in the new version whenever the component (or a `.jac` source) changes.
        #[arg(long)]
        reload: bool,
        /// Kvstores and storage of an app whose jac.toml declares no
        /// `[plugins.scale.capabilities]`: `allow` all or `deny` all
        /// [default: JAC_SCALE_CAPABILITIES, else allow].
        #[arg(long, value_name = "allow|deny")]
        capabilities: Option<GrantDefault>,
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
            host,
            port,
            workers,
            reload,
            capabilities,
        } => {
            let flags = Flags {
                host,
                port,
                workers,
                reload,
                capabilities,
            };
            let config = Config::resolve(&app, flags, &ProcessEnv)?;
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.enable_all();
            if let Some(n) = config.workers {
                anyhow::ensure!(n > 0, "--workers must be at least 1");
                builder.worker_threads(n);
            }
            builder
                .build()?
                .block_on(jac_scale::server::serve(config))?;
            Ok(())
        }
        #[cfg(feature = "jac-build")]
        Command::Build { app, output } => {
            if !build::is_jac_app(&app) {
                anyhow::bail!("{} is not a .jac file", app.display());
            }
            let output = output.unwrap_or_else(|| app.with_extension("wasm"));
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
