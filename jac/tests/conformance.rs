//! Conformance suite: every `tests/conformance/NAME.jac` is loaded like
//! `jac run` does (module code and `with entry` blocks run, reports are
//! printed), then the calls listed in `NAME.calls.json` (if any) are made
//! through the embedder API. The transcript must equal `NAME.out` exactly.
//!
//! Transcript format: program output; a load failure as `Error: <exc>` plus
//! `  at <function>() <file>:<line>` frames, innermost first; for each call
//! a `== walker Name` / `== function name` header followed by
//! `reports: <json>`, `result: <json>` and any `warnings: [..]`, or the error as above.
//!
//! `JAC_CASE=name` runs one case; `JAC_BLESS=1` rewrites the `.out` files from
//! the current output (review the diff: expectations come from jaclang and the notes).
//!
//! `NAME.calls.json` is a JSON list of
//! `{"walker": "W", "args": {..}, "target": "<id>" | null, "user": 0}` or
//! `{"function": "f", "args": {..}, "user": 0}`; `user` picks a graph user
//! (0 = the first, 1.. = more users sharing the same store).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jac_lang::graph::MemoryGraph;
use jac_lang::interp::{Failure, HostEnv, Interpreter};
use jac_lang::syntax::{DirSources, load_program};
use serde_json::Value as Json;

/// Native stack of the thread running the cases, and the part Jac calls may use:
/// enough for Python's 1000-call recursion limit even in debug builds.
const CASE_STACK: usize = 64 << 20;
const CASE_STACK_BUDGET: usize = 32 << 20;

fn failure_text(f: &Failure) -> String {
    let mut out = format!("Error: {}\n", f.message);
    for frame in f.trace.iter().rev() {
        let _ = writeln!(
            out,
            "  at {}() {}:{}",
            frame.function, frame.file, frame.line
        );
    }
    out
}

fn run_case(dir: &Path, name: &str) -> String {
    let program = match load_program(&DirSources::new(dir), &format!("{name}.jac")) {
        Ok(p) => p,
        Err(d) => return format!("SyntaxError: {d}\n"),
    };
    let base = MemoryGraph::new();
    let users: Vec<MemoryGraph> = std::iter::once(base.clone())
        .chain((0..3).map(|_| base.new_user()))
        .collect();
    let env = HostEnv {
        cli_mode: true,
        stack_budget: CASE_STACK_BUDGET,
        ..HostEnv::default()
    };
    let mut transcript = String::new();
    let mut interp = Interpreter::create(program.clone(), Box::new(users[0].clone()), env.clone());
    let loaded = interp.load();
    transcript.push_str(&interp.take_output());
    if let Err(f) = loaded {
        transcript.push_str(&failure_text(&f));
        return transcript;
    }
    let calls_path = dir.join(format!("{name}.calls.json"));
    let Ok(calls_text) = std::fs::read_to_string(&calls_path) else {
        return transcript;
    };
    let calls: Vec<Json> = serde_json::from_str(&calls_text).expect("calls file is a JSON list");
    let call_env = HostEnv {
        cli_mode: false,
        ..env
    };
    let mut per_user: Vec<Option<Interpreter>> = (0..users.len()).map(|_| None).collect();
    per_user[0] = Some(
        Interpreter::new(
            program.clone(),
            Box::new(users[0].clone()),
            call_env.clone(),
        )
        .expect("loads"),
    );
    for call in calls {
        let user = call.get("user").and_then(Json::as_u64).unwrap_or(0) as usize;
        let vm = per_user[user].get_or_insert_with(|| {
            Interpreter::new(
                program.clone(),
                Box::new(users[user].clone()),
                call_env.clone(),
            )
            .expect("loads")
        });
        let args = call.get("args").cloned().unwrap_or(Json::Null);
        let result = if let Some(w) = call.get("walker").and_then(Json::as_str) {
            let _ = writeln!(transcript, "== walker {w}");
            let target = call.get("target").and_then(Json::as_str);
            vm.run_walker(w, &args, target)
        } else {
            let f = call
                .get("function")
                .and_then(Json::as_str)
                .expect("call names a walker or a function");
            let _ = writeln!(transcript, "== function {f}");
            vm.call_function(f, &args)
        };
        transcript.push_str(&vm.take_output());
        match result {
            Ok(outcome) => {
                let _ = writeln!(
                    transcript,
                    "reports: {}",
                    Json::Array(outcome.report_values())
                );
                let _ = writeln!(transcript, "result: {}", outcome.result);
                if !outcome.warnings.is_empty() {
                    let _ = writeln!(transcript, "warnings: {:?}", outcome.warnings);
                }
            }
            Err(f) => transcript.push_str(&failure_text(&f)),
        }
    }
    transcript
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

#[test]
fn conformance_cases_match_their_transcripts() {
    std::thread::Builder::new()
        .stack_size(CASE_STACK)
        .spawn(run_all_cases)
        .expect("spawns the case thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

fn run_all_cases() {
    let dir = cases_dir();
    let only = std::env::var("JAC_CASE").ok();
    let bless = std::env::var_os("JAC_BLESS").is_some();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("conformance dir exists")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".jac").map(str::to_string)
        })
        .filter(|n| only.as_deref().is_none_or(|o| o == n))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no conformance cases found");
    let mut failures = Vec::new();
    for name in &names {
        let actual = run_case(&dir, name);
        let out_path = dir.join(format!("{name}.out"));
        if bless {
            std::fs::write(&out_path, &actual).expect("writes the transcript");
            continue;
        }
        let expected = std::fs::read_to_string(&out_path).unwrap_or_default();
        if actual != expected {
            let mut diff = format!("--- case {name}: transcript differs\n");
            let (a, e): (Vec<&str>, Vec<&str>) =
                (actual.lines().collect(), expected.lines().collect());
            for i in 0..a.len().max(e.len()) {
                let (x, y) = (a.get(i).copied(), e.get(i).copied());
                if x != y {
                    let _ = writeln!(
                        diff,
                        "line {}:\n  expected: {:?}\n  actual:   {:?}",
                        i + 1,
                        y,
                        x
                    );
                }
            }
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
