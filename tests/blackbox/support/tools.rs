//! External programs some tests drive (OpenAPI validators, schemathesis, chromium,
//! promtool). `.ci/run` installs them; where one is missing the test says so and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Server;
use super::guests::workspace_root;

/// `name` found on `PATH`, or `None` after telling the person running the tests (past the
/// harness capture) that `test` was skipped and how to install the program.
pub fn program(name: &str, test: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        skipped(test, &format!("`{name}` is not installed ({install})"));
    }
    found
}

/// `name` found on `PATH`; a test that cannot do without it fails naming `package`,
/// which `.ci/install-test-services` installs.
pub fn require(name: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: install {package} (.ci/install-test-services)")
        })
}

/// Tell the person running the tests, past the harness capture, that `test` did not run.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {why}");
}

/// The folder where tests keep what a person may want to look at afterwards
/// (screenshots, reports): `target/test-artifacts` of the workspace.
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("target").join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create the artifacts folder");
    dir
}

/// `tests/browser`, where the Node scripts that drive chromium live.
pub fn browser_scripts() -> PathBuf {
    workspace_root().join("tests").join("browser")
}

/// Runs schemathesis (`st`) over `server`'s OpenAPI document with `args`, keeping its
/// JUnit report as `report` in [`artifacts_dir`]; asserts it found no problem and
/// returns what it printed.
pub fn schemathesis(st: &Path, server: &Server, args: &[String], report: &str) -> String {
    let out = Command::new(st)
        .args(["run", &format!("{}/openapi.json", server.base_url())])
        .args(args)
        .args(["--report", "junit", "--report-junit-path"])
        .arg(artifacts_dir().join(report))
        .env("NO_COLOR", "1")
        // Its example database goes to the server's temp dir, not the source tree.
        .current_dir(server.data_dir())
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    text
}
