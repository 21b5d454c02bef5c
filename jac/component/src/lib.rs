//! The Jac runtime as a `jac:scale` WebAssembly component (world `jac-app`, `wit/jac.wit`).
//!
//! Life cycle: `jac-scale build` instantiates this component once, calls `load-program`
//! with the app's `.jac` files (parse, link, run the module code: imports, `glob`
//! initialisers, `with entry` blocks) and snapshots the instance (wizer). Every HTTP call
//! then runs in a fresh copy-on-write instance of that snapshot: `run` finds the loaded
//! interpreter in its static, restores the app's globals from the host, runs the walker
//! or function against [`HostGraph`] (every graph access is a host call) and hands the
//! result back as JSON. Nothing survives the call inside the instance.

mod host_data;
mod host_graph;
mod manifest;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use jac_lang::describe::{self as jd};
use jac_lang::interp::{Failure, FailureKind, HostEnv, Interpreter, Outcome};
use jac_lang::syntax::{MemorySources, load_program};
use serde_json::Value as Json;

use bindings::exports::jac::scale::endpoints::{self as wit, Guest as Endpoints};
use bindings::jac::scale::types::Error as WitError;
use bindings::jac::scale::{globals, log, streaming, timer};
use host_data::HostData;
use host_graph::HostGraph;

/// Bindings of world `jac-app`.
#[allow(missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "jac-app",
    });
}

/// The program, loaded once by `load-program` (before the snapshot).
struct Loaded {
    interp: Interpreter,
    manifest: jd::Manifest,
    /// The kvstore and storage handles the current call opened.
    data: Rc<HostData>,
    /// The program's `glob` values as JSON text, as the snapshot holds them; `None`
    /// when the program declares no globals (then calls skip the host round trips).
    initial_globals: Option<String>,
}

thread_local! {
    static APP: RefCell<Option<Loaded>> = const { RefCell::new(None) };
}

/// What `jac-scale build` hands to `load-program`.
#[derive(serde::Deserialize)]
struct Bundle {
    /// Path of the entry module inside `files` (`app.jac`).
    entry: String,
    /// Every `.jac` file of the app, by `/`-separated path relative to the app folder.
    files: BTreeMap<String, String>,
}

struct Component;

impl bindings::Guest for Component {
    fn load_program(bundle: String) -> Result<(), String> {
        let bundle: Bundle =
            serde_json::from_str(&bundle).map_err(|e| format!("malformed program bundle: {e}"))?;
        let mut sources = MemorySources::new();
        for (path, text) in bundle.files {
            sources.insert(path, text);
        }
        let program = load_program(&sources, &bundle.entry).map_err(|d| d.to_string())?;
        let manifest = jd::describe(&program).map_err(|e| e.to_string())?;
        let graph = Box::new(HostGraph);
        let data = Rc::new(HostData::default());
        let env = HostEnv {
            natives: jac_lang::stdlib::registry(),
            sleep: host_sleep,
            data: data.clone(),
            stream: Some(host_stream),
            ..HostEnv::default()
        };
        let mut interp = Interpreter::new(program, graph, env).map_err(|f| f.traceback())?;
        // No host handle may survive into the snapshot.
        data.end_call();
        forward_output(&mut interp);
        let initial_globals = declares_globals(interp.program())
            .then(|| Json::Object(interp.globals_json()).to_string());
        APP.with(|app| {
            *app.borrow_mut() = Some(Loaded {
                interp,
                manifest,
                data,
                initial_globals,
            })
        });
        Ok(())
    }
}

impl Endpoints for Component {
    fn describe() -> wit::Manifest {
        APP.with(|app| match app.borrow().as_ref() {
            Some(loaded) => manifest::to_wit(&loaded.manifest),
            None => wit::Manifest {
                endpoints: Vec::new(),
                jobs: Vec::new(),
            },
        })
    }

    fn run(call: wit::Call) -> Result<wit::Outcome, wit::CallError> {
        APP.with(|app| {
            let mut app = app.borrow_mut();
            let loaded = app.as_mut().ok_or_else(|| {
                wit::CallError::Host(WitError::Unavailable(
                    "no Jac program is loaded (build the app with `jac-scale build`)".into(),
                ))
            })?;
            let kind = loaded
                .manifest
                .kind_of(&call.name)
                .ok_or_else(|| wit::CallError::UnknownEndpoint(call.name.clone()))?;
            let args: Json = serde_json::from_str(&call.args)
                .map_err(|e| wit::CallError::InvalidArgs(format!("arguments are not JSON: {e}")))?;
            // The host grants the app's declared environment through WASI at each call;
            // the snapshot was taken without one.
            loaded.interp.set_env_vars(std::env::vars().collect());
            let globals_before = loaded.restore_globals().map_err(failure_to_wit)?;
            let outcome = match kind {
                jd::EndpointKind::Walker => {
                    loaded
                        .interp
                        .run_walker(&call.name, &args, call.target.as_deref())
                }
                jd::EndpointKind::Function => loaded.interp.call_function(&call.name, &args),
            };
            forward_output(&mut loaded.interp);
            if let Some(before) = globals_before {
                loaded.save_globals(&before);
            }
            loaded.data.end_call();
            outcome
                .map(|mut o| {
                    if kind == jd::EndpointKind::Walker {
                        walker_fields(&mut o.result);
                    }
                    outcome_to_wit(o)
                })
                .map_err(failure_to_wit)
        })
    }
}

impl Loaded {
    /// Brings the app's globals up to date with what earlier calls left (the host keeps
    /// them); returns their JSON text, or `None` when the program has no globals.
    fn restore_globals(&mut self) -> Result<Option<String>, Failure> {
        let Some(initial) = &self.initial_globals else {
            return Ok(None);
        };
        let Some(text) = globals::load() else {
            return Ok(Some(initial.clone()));
        };
        if let Ok(Json::Object(saved)) = serde_json::from_str::<Json>(&text) {
            self.interp.restore_globals(&saved)?;
        }
        Ok(Some(text))
    }

    /// Hands the globals to the host when the call changed them (also after a failed
    /// call: a global assigned before an exception stays assigned, as in Python).
    fn save_globals(&mut self, before: &str) {
        let now = Json::Object(self.interp.globals_json()).to_string();
        if now != before {
            globals::store(&now);
        }
    }
}

/// Whether any module of the program declares a `glob`.
fn declares_globals(program: &jac_lang::syntax::ast::Program) -> bool {
    program.modules.iter().any(|module| {
        module
            .items
            .iter()
            .any(|item| matches!(item.kind, jac_lang::syntax::ast::ItemKind::Glob(_)))
    })
}

/// A walker's `result` is its `has` fields after the run (API.md), not the walker as
/// an archetype: drop the `_jac_*` keys the runtime adds to every archetype.
fn walker_fields(result: &mut Json) {
    if let Json::Object(fields) = result {
        fields.retain(|key, _| !key.starts_with("_jac_"));
    }
}

/// `time.sleep` / `await asyncio.sleep`: the host suspends the call on its timer, so
/// a sleeping walker holds no host thread. Rounded up to whole milliseconds.
fn host_sleep(length: std::time::Duration) {
    let ms = length.as_nanos().div_ceil(1_000_000);
    timer::sleep(u32::try_from(ms).unwrap_or(u32::MAX));
}

/// One value of a streamed generator: the host forwards it to the client at once
/// (waiting while the client reads behind).
fn host_stream(value: &Json) {
    streaming::send(&value.to_string());
}

/// Sends what the program printed to the host log.
fn forward_output(interp: &mut Interpreter) {
    let text = interp.take_output();
    for line in text.lines() {
        log::write(log::Level::Info, line);
    }
}

fn outcome_to_wit(outcome: Outcome) -> wit::Outcome {
    wit::Outcome {
        result: outcome.result.to_string(),
        reports: outcome.reports,
    }
}

fn failure_to_wit(failure: Failure) -> wit::CallError {
    let exception = failure.exception.clone().unwrap_or_default();
    // `Failure::message` reads `ValueError: boom`; the WIT record carries the parts.
    let message = failure
        .message
        .strip_prefix(&format!("{exception}: "))
        .unwrap_or(&failure.message)
        .to_owned();
    match failure.kind {
        FailureKind::InvalidArgs => wit::CallError::InvalidArgs(message),
        FailureKind::NotFound => wit::CallError::Host(WitError::NotFound(message)),
        FailureKind::Graph => wit::CallError::Host(match exception.as_str() {
            "PermissionError" => WitError::AccessDenied(message),
            "KeyError" => WitError::NotFound(message),
            _ => WitError::Unavailable(message),
        }),
        FailureKind::Raised | FailureKind::Load => wit::CallError::Raised(wit::Failure {
            kind: if exception.is_empty() {
                "Exception".to_owned()
            } else {
                exception
            },
            message,
            trace: failure
                .trace
                .iter()
                .map(|f| format!("File \"{}\", line {}, in {}", f.file, f.line, f.function))
                .collect(),
        }),
    }
}

bindings::export!(Component with_types_in bindings);
