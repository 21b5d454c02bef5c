//! The example components, built once per test process for `wasm32-wasip2`.
//!
//! They are built into `target/guests` (not the target dir of the running `cargo test`)
//! so the nested cargo never waits on the outer one's build lock.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One of the example apps under `examples/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum App {
    /// `examples/todo`: the endpoints of the reference `app.jac`.
    Todo,
    /// `examples/misbehave`: endless loop, memory hog, trap, huge report.
    Misbehave,
    /// `examples/shared-notes`: nodes shared between users.
    SharedNotes,
    /// `examples/realtime`: webhook, WebSocket and async (sleeping) walkers.
    Realtime,
}

impl App {
    /// File name of the built component.
    fn file_name(self) -> &'static str {
        match self {
            App::Todo => "todo.wasm",
            App::Misbehave => "misbehave.wasm",
            App::SharedNotes => "shared_notes.wasm",
            App::Realtime => "realtime.wasm",
        }
    }

    /// Path of the built component (builds all example apps on first use).
    pub fn wasm(self) -> PathBuf {
        built_guest_dir().join(self.file_name())
    }
}

/// The workspace root (the parent of the host package).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host package lives inside the workspace")
}

/// Builds the example apps once and returns the folder holding their `.wasm` files.
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
        .args([
            "-p",
            "todo",
            "-p",
            "misbehave",
            "-p",
            "shared-notes",
            "-p",
            "realtime",
        ])
        .env("CARGO_TARGET_DIR", &target_dir);
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
