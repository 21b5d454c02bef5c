//! The `jac-scale` command line: parse flags, build a `Config`, call into the library.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jac_scale::config::{Config, Flags, ProcessEnv};

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
        /// The app's WebAssembly component.
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
        /// Swap in the new component whenever the file changes.
        #[arg(long)]
        reload: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
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
        } => {
            let flags = Flags {
                host,
                port,
                workers,
                reload,
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
    }
}
