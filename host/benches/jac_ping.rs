//! Instantiate + run of a Ping walker per request, through the host's library API: the
//! same `App::call` the HTTP layer makes (fresh instance from the pool, run, commit of the
//! empty changeset), without HTTP. Measures the Rust todo app and the Jac todo app in the
//! same run.
//!
//! ```text
//! cargo build --release --target wasm32-wasip2 -p todo
//! CARGO_TARGET_DIR=/work/target-release cargo bench -p jac-scale --bench jac_ping -- \
//!     target/wasm32-wasip2/release/todo.wasm examples/todo-jac/app.jac [calls]
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use capabilities::AppContext;
use config::{Config, Env, Flags};
use graph::{Caller, Graph};
use graphdb::sqlite::SqliteStore;
use runtime::function_cache::FunctionCache;
use runtime::tiering::Tier;
use runtime::{App, Call, Runtime};

/// Calls made before timing, so the pool's slots and the page cache are warm.
const WARMUP_CALLS: usize = 2_000;

/// The environment of the bench: its own data dir, nothing else.
struct BenchEnv(HashMap<&'static str, String>);

impl Env for BenchEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` appends `--bench`; everything else is ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [rust_wasm, jac_app, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: jac_ping <todo.wasm> <app.jac> [calls]");
    };
    let calls: usize = rest
        .first()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for app in [rust_wasm, jac_app] {
            let (label, per_call) = measure(Path::new(app), calls).await?;
            println!(
                "{label:>10}: {calls} calls, mean {:.1} us, p50 {:.1} us, p99 {:.1} us",
                micros(per_call.mean),
                micros(per_call.p50),
                micros(per_call.p99)
            );
        }
        Ok(())
    })
}

/// Time per call.
struct PerCall {
    mean: Duration,
    p50: Duration,
    p99: Duration,
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Loads `app` (building it first if it is a `.jac`) in a fresh data dir and times Ping.
async fn measure(app: &Path, calls: usize) -> anyhow::Result<(String, PerCall)> {
    let data = tempfile::tempdir()?;
    let env = BenchEnv(HashMap::from([(
        "JAC_DATA_PATH",
        data.path().display().to_string(),
    )]));
    let config = Config::resolve(app, Flags::default(), &env)?;
    let store = Arc::new(SqliteStore::open(&data.path().join("jac.db"))?);
    let graph = Graph::new(store)?;
    let function_cache = FunctionCache::new(&config.compile_cache_dir);
    let runtime = Runtime::new(config.limits.clone(), Some(&function_cache))?;
    let cache_dir = data.path().join("cache");
    let component: PathBuf =
        jac_scale::build::component_for(app, &cache_dir, Some(&function_cache)).await?;
    let loaded: App = runtime
        .load(
            &component,
            &cache_dir,
            graph.clone(),
            AppContext::open(&config)?,
        )
        .await?;
    // A cold Jac app starts on baseline code; measure the code it keeps.
    let tier = loaded.settled().await;
    anyhow::ensure!(
        tier == Tier::Optimized,
        "{} runs {tier:?} code",
        app.display()
    );
    let ping = || async {
        let call = Call {
            name: "Ping".into(),
            args: serde_json::Map::new(),
            target: None,
            uploads: Default::default(),
        };
        let caller = Caller {
            root: graph.guest_root(),
            user: None,
        };
        loaded.invoke(caller, call).await
    };
    let first = ping().await?;
    anyhow::ensure!(
        first.reports.len() == 1 && first.reports[0].get() == r#"{"pong":true}"#,
        "Ping answered {:?}",
        first.reports
    );
    for _ in 0..WARMUP_CALLS {
        ping().await?;
    }
    let mut samples = Vec::with_capacity(calls);
    let started = Instant::now();
    for _ in 0..calls {
        let t = Instant::now();
        ping().await?;
        samples.push(t.elapsed());
    }
    let mean = started.elapsed() / u32::try_from(calls)?;
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    let label = if jac_scale::build::is_jac_app(app) {
        "Jac Ping"
    } else {
        "Rust Ping"
    };
    Ok((
        label.to_string(),
        PerCall {
            mean,
            p50: at(0.5),
            p99: at(0.99),
        },
    ))
}
