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
    // Relative to this package, so a target dir reused by another checkout (a CI cache,
    // a worktree) watches that checkout's sources, not the ones it was first built from.
    for watched in [
        "../jac/src",
        "../jac/Cargo.toml",
        "../jac/component",
        "../wit",
        "../Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }

    ensure_wasm_target();
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

/// Makes sure the toolchain has the standard library for [`TARGET`]. rustup installs the
/// targets `rust-toolchain.toml` lists only with the toolchain itself, not into a
/// toolchain that was already there; without the target the nested build fails deep
/// inside with "can't find crate for `core`". So: add it with rustup, or stop with the fix.
fn ensure_wasm_target() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let installed = |sysroot: &Path| {
        sysroot
            .join("lib/rustlib")
            .join(TARGET)
            .join("lib")
            .is_dir()
    };
    match &sysroot {
        Some(sysroot) if installed(sysroot) => return,
        None => return, // an unusual toolchain: let the nested build speak for itself
        Some(_) => {}
    }
    println!(
        "cargo:warning=the {TARGET} target is missing; adding it with `rustup target add {TARGET}`"
    );
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", TARGET]);
    // The toolchain this build runs on (set by rustup's proxies), not rustup's default.
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    let added = rustup.status().is_ok_and(|status| status.success());
    if !added || !sysroot.as_deref().is_some_and(installed) {
        panic!(
            "the Rust target {TARGET} is not installed and could not be added; the Jac \
             runtime inside jac-scale is built for it. Run `rustup target add {TARGET}` \
             and build again."
        );
    }
}

fn copy(from: &Path, to: &Path) {
    if let Err(e) = std::fs::copy(from, to) {
        panic!("cannot copy {} to {}: {e}", from.display(), to.display());
    }
}
