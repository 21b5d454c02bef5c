//! The example apps, each built once per test process.
//!
//! Rust apps are built for `wasm32-wasip2` into `target/guests` (not the target dir of the
//! running `cargo test`, so the nested cargo never waits on the outer one's build lock).
//! Jac apps are built with `jac-scale build` into `target/jac-guests/<folder>/app.wasm`,
//! next to a copy of their `jac.toml`, which `start app.wasm` reads as it would next to
//! `app.jac`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::process::{jac_scale, run_to_exit};

/// How long `jac-scale build` of one Jac app may take (it compiles the runtime).
pub const JAC_BUILD_TIMEOUT: Duration = Duration::from_secs(240);

/// One of the example apps under `examples/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum App {
    /// `examples/todo`: the endpoints of the reference `app.jac`, in Rust.
    Todo,
    /// `examples/todo-jac/app.jac`: the reference `app.jac` itself.
    TodoJac,
    /// `examples/misbehave`: endless loop, memory hog, trap, huge report.
    Misbehave,
    /// `examples/shared-notes`: nodes shared between users.
    SharedNotes,
    /// `examples/realtime`: webhook, WebSocket and async (sleeping) walkers.
    Realtime,
    /// `examples/kv`: every kvstore method by name, and get+set pairs for the benchmark.
    Kv,
    /// `examples/realtime-jac/app.jac`: the same walkers in Jac.
    RealtimeJac,
    /// `examples/files`: file storage through the host's `storage` interface.
    Files,
    /// `examples/api-endpoints-jac`: the spec's walker, health check, async walker and
    /// builtins examples.
    ApiEndpointsJac,
    /// `examples/restspec-jac`: the spec's `@restspec` examples.
    RestspecJac,
    /// `examples/permissions-jac`: the spec's permission functions.
    PermissionsJac,
    /// `examples/osp-jac`: the walker semantics of the language notes, section 5.
    OspJac,
    /// `examples/data-jac`: the spec's kvstore and storage examples in Jac.
    DataJac,
    /// `examples/social-jac`: a social network across users' graphs.
    SocialJac,
    /// `examples/streaming-jac`: walkers and functions that stream generators.
    StreamingJac,
    /// `examples/schedules-jac`: `@schedule`d walkers and functions.
    SchedulesJac,
}

/// Where an app comes from and how it is built.
enum Source {
    /// A Rust guest: its cargo package and the file name of its component.
    Cargo {
        package: &'static str,
        file: &'static str,
    },
    /// A Jac program: its folder under `examples/`, holding `app.jac`.
    Jac { folder: &'static str },
}

impl App {
    /// Every app, in declaration order.
    pub const ALL: [App; 16] = [
        App::Todo,
        App::TodoJac,
        App::Misbehave,
        App::SharedNotes,
        App::Realtime,
        App::Kv,
        App::RealtimeJac,
        App::Files,
        App::ApiEndpointsJac,
        App::RestspecJac,
        App::PermissionsJac,
        App::OspJac,
        App::DataJac,
        App::SocialJac,
        App::StreamingJac,
        App::SchedulesJac,
    ];

    fn source(self) -> Source {
        let cargo = |package, file| Source::Cargo { package, file };
        let jac = |folder| Source::Jac { folder };
        match self {
            App::Todo => cargo("todo", "todo.wasm"),
            App::TodoJac => jac("todo-jac"),
            App::Misbehave => cargo("misbehave", "misbehave.wasm"),
            App::SharedNotes => cargo("shared-notes", "shared_notes.wasm"),
            App::Realtime => cargo("realtime", "realtime.wasm"),
            App::Kv => cargo("kv", "kv.wasm"),
            App::RealtimeJac => jac("realtime-jac"),
            App::Files => cargo("files", "files.wasm"),
            App::ApiEndpointsJac => jac("api-endpoints-jac"),
            App::RestspecJac => jac("restspec-jac"),
            App::PermissionsJac => jac("permissions-jac"),
            App::OspJac => jac("osp-jac"),
            App::DataJac => jac("data-jac"),
            App::SocialJac => jac("social-jac"),
            App::StreamingJac => jac("streaming-jac"),
            App::SchedulesJac => jac("schedules-jac"),
        }
    }

    /// Position in [`App::ALL`], for per-app caches.
    pub fn index(self) -> usize {
        App::ALL
            .iter()
            .position(|app| *app == self)
            .expect("every app is in App::ALL")
    }

    /// The folder of a Jac app's sources (`None` for a Rust app).
    pub fn jac_dir(self) -> Option<PathBuf> {
        match self.source() {
            Source::Jac { folder } => Some(workspace_root().join("examples").join(folder)),
            Source::Cargo { .. } => None,
        }
    }

    /// Path of the built component (builds it, or all Rust apps, on first use).
    pub fn wasm(self) -> PathBuf {
        match self.source() {
            Source::Cargo { file, .. } => built_guest_dir().join(file),
            Source::Jac { folder } => built_jac_app(self, folder).to_path_buf(),
        }
    }
}

/// The workspace root (the parent of the host package).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host package lives inside the workspace")
}

/// Builds the Rust example apps once and returns the folder holding their `.wasm` files.
fn built_guest_dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_guests) {
        Ok(dir) => dir,
        Err(report) => panic!("building the example components failed:\n{report}"),
    }
}

fn build_guests() -> Result<PathBuf, String> {
    let root = workspace_root();
    let target_dir = root.join("target").join("guests");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(root)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", &target_dir);
    for app in App::ALL {
        if let Source::Cargo { package, .. } = app.source() {
            command.args(["-p", package]);
        }
    }
    let output = command
        .output()
        .map_err(|error| format!("could not run {cargo:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} exited with {}\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ));
    }
    Ok(target_dir.join("wasm32-wasip2").join("release"))
}

/// `jac-scale build examples/<folder>/app.jac`, once per test process and app.
fn built_jac_app(app: App, folder: &str) -> &'static Path {
    static BUILT: [OnceLock<Result<PathBuf, String>>; App::ALL.len()] =
        [const { OnceLock::new() }; App::ALL.len()];
    match BUILT[app.index()].get_or_init(|| build_jac_app(folder)) {
        Ok(wasm) => wasm,
        Err(report) => panic!("building examples/{folder} failed:\n{report}"),
    }
}

fn build_jac_app(folder: &str) -> Result<PathBuf, String> {
    let sources = workspace_root().join("examples").join(folder);
    let out_dir = workspace_root()
        .join("target")
        .join("jac-guests")
        .join(folder);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let toml = sources.join("jac.toml");
    if toml.is_file() {
        std::fs::copy(&toml, out_dir.join("jac.toml")).map_err(|e| format!("jac.toml: {e}"))?;
    }
    let wasm = out_dir.join("app.wasm");
    let mut command = jac_scale(&out_dir);
    command
        .arg("build")
        .arg(sources.join("app.jac"))
        .arg("-o")
        .arg(&wasm);
    let (status, process) = run_to_exit(command, JAC_BUILD_TIMEOUT);
    if !status.success() {
        return Err(format!(
            "jac-scale build exited with {status}\n{}",
            process.output()
        ));
    }
    Ok(wasm)
}
