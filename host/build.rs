//! Builds the Jac runtime component (`jac/component`, for `wasm32-wasip2`) with a nested
//! Cargo into its own target directory under `OUT_DIR`, so `jac-scale` can embed it
//! (`include_bytes!`) and users of `jac-scale build` need no Rust toolchain.
//!
//! `JAC_SCALE_JAC_RUNTIME=<path.wasm>` embeds a prebuilt component instead (CI caches).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const COMPONENT_FILE: &str = "jac_component.wasm";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("host/ lives in the workspace root");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let embedded = out_dir.join(COMPONENT_FILE);

    // Without the `jac-build` feature nothing embeds the runtime.
    if env::var_os("CARGO_FEATURE_JAC_BUILD").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=JAC_SCALE_JAC_RUNTIME");
    if let Some(prebuilt) = env::var_os("JAC_SCALE_JAC_RUNTIME") {
        copy(Path::new(&prebuilt), &embedded);
        return;
    }
    for watched in [
        "jac/src",
        "jac/Cargo.toml",
        "jac/component",
        "wit",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let target_dir = out_dir.join("jac-component-target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "--release", "-p", "jac-component"])
        .args(["--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // Settings meant for the host build must not leak into the wasm build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .status()
        .expect("cannot run cargo to build the Jac runtime component");
    assert!(
        status.success(),
        "building the Jac runtime component (jac/component for {TARGET}) failed"
    );
    copy(
        &target_dir.join(TARGET).join("release").join(COMPONENT_FILE),
        &embedded,
    );
}

fn copy(from: &Path, to: &Path) {
    if let Err(e) = std::fs::copy(from, to) {
        panic!("cannot copy {} to {}: {e}", from.display(), to.display());
    }
}
