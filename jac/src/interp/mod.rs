//! The tree-walking evaluator over the Jac AST.
//!
//! An [`Interpreter`] owns one loaded [`Program`] and one [`Graph`] view. It
//! loads the entry module once (imports, declarations, `glob`s, `with entry`
//! blocks; globals then live as long as the interpreter) and serves calls:
//! [`Interpreter::run_walker`] and [`Interpreter::call_function`]. Within a
//! call, nodes are loaded lazily and kept one instance per id, so aliases
//! see each other's mutations; the nodes and edges whose fields changed are
//! written back once at the end of the call (or on `commit()`).
//!
//! Pieces: scopes ([`env`]), functions and argument binding ([`function`]),
//! expressions ([`eval`]), statements ([`exec`]), classes and instantiation
//! ([`classes`]), module loading and imports ([`modules`]), `match`
//! ([`patterns`]), the object-spatial layer ([`osp`]: spawn, visit, connect,
//! edge references, the walker algorithm) and graph persistence ([`persist`]).

pub mod classes;
pub mod env;
pub mod eval;
pub mod exec;
pub mod function;
pub mod modules;
pub mod osp;
pub mod patterns;
pub mod persist;
mod stream;

use std::rc::Rc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use serde_json::Value as Json;

pub use function::{Ability, FieldDefault, Function};

use crate::graph::{Graph, GraphError};
use crate::syntax::ast::Program;
use crate::value::native::NativeRegistry;
use crate::value::{Class, ExcType, Exception, JacResult, Module, Str, TraceEntry, Value};

use osp::WalkerRun;
use persist::AnchorCache;
pub(crate) use persist::access_level;

/// Deepest Jac call nesting before `RecursionError` (Python's default limit).
const MAX_CALL_DEPTH: usize = 1000;

/// Default native stack the evaluator may use before raising `RecursionError`.
pub const DEFAULT_STACK_BUDGET: usize = 768 * 1024;

/// The current stack position (approximately), for the recursion guard.
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// What the embedder grants the program. The default grants no environment
/// variables and the whole stdlib subset ([`crate::stdlib::registry`]).
#[derive(Clone)]
pub struct HostEnv {
    /// Environment variables visible to `os.getenv`.
    pub vars: FxHashMap<String, String>,
    /// Native (stdlib) modules importable by the program.
    pub natives: NativeRegistry,
    /// Behave like `jac run`: run `with entry:__main__` blocks and print
    /// reported values as they are reported.
    pub cli_mode: bool,
    /// Native stack (bytes) Jac calls may use before `RecursionError` (default
    /// [`DEFAULT_STACK_BUDGET`]). Keep it well below the thread's (or wasm) stack size.
    pub stack_budget: usize,
    /// How `time.sleep` and `await asyncio.sleep` wait (default: a real thread sleep).
    /// An embedding that can suspend the call instead sets its own (the component
    /// calls the host's `jac:scale/timer`).
    pub sleep: fn(Duration),
    /// The kvstores and storage the embedding grants (default: none, [`crate::data::NoDataHost`]).
    pub data: Rc<dyn crate::data::DataHost>,
    /// Where a streamed generator's values go, one JSON value per yield (the component
    /// sends them to the host's `jac:scale/streaming`). `None` (the default): generators
    /// run eagerly and a reported one is a list of its values.
    pub stream: Option<fn(&Json)>,
}

impl Default for HostEnv {
    fn default() -> Self {
        Self {
            vars: FxHashMap::default(),
            natives: crate::stdlib::registry(),
            cli_mode: false,
            stack_budget: DEFAULT_STACK_BUDGET,
            sleep: std::thread::sleep,
            data: Rc::new(crate::data::NoDataHost),
            stream: None,
        }
    }
}

/// A successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The function's return value, or the walker after its run.
    pub result: Json,
    /// Reported values as JSON text, in order (written without a JSON tree of each).
    pub reports: Vec<String>,
    /// Graph writes that were refused for lack of access (their effects are not shown).
    pub warnings: Vec<String>,
}

impl Outcome {
    /// The reports as JSON values.
    pub fn report_values(&self) -> Vec<Json> {
        self.reports
            .iter()
            .map(|text| serde_json::from_str(text).expect("a report is JSON text"))
            .collect()
    }
}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The program could not be loaded (or its module code raised).
    Load,
    /// No walker or function with that name.
    NotFound,
    /// The arguments do not fit the walker fields / function parameters.
    InvalidArgs,
    /// The Jac code raised an exception.
    Raised,
    /// The graph backend failed.
    Graph,
}

/// A failed call: kind, Python-style exception text and the Jac traceback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// The exception class name for raised errors (`ValueError`).
    pub exception: Option<String>,
    /// `ValueError: boom!` style message.
    pub message: String,
    /// Frames, outermost first.
    pub trace: Vec<TraceEntry>,
}

impl Failure {
    fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            exception: None,
            message: message.into(),
            trace: Vec::new(),
        }
    }

    fn raised(kind: FailureKind, exc: &Exception) -> Self {
        Self {
            kind,
            exception: Some(exc.type_name().to_string()),
            message: exc.to_string(),
            trace: exc.trace().to_vec(),
        }
    }

    /// Python-style traceback text.
    pub fn traceback(&self) -> String {
        let mut out = String::new();
        if !self.trace.is_empty() {
            out.push_str("Traceback (most recent call last):\n");
            for f in &self.trace {
                out.push_str(&format!(
                    "  File \"{}\", line {}, in {}\n",
                    f.file, f.line, f.function
                ));
            }
        }
        out.push_str(&self.message);
        out
    }
}

/// Converts a graph error into the Jac exception raised to the program.
pub(crate) fn graph_error(e: GraphError) -> Exception {
    match e {
        GraphError::AccessDenied(m) => Exception::new(ExcType::PermissionError, m),
        GraphError::NotFound(m) => Exception::new(ExcType::KeyError, m),
        GraphError::Unavailable(m) => Exception::new(ExcType::RuntimeError, m),
    }
}

/// Names the evaluator binds on every call, allocated once.
#[derive(Clone)]
pub(crate) struct Names {
    /// `self`.
    pub(crate) self_ref: Str,
    /// `here`.
    pub(crate) here: Str,
    /// `visitor`.
    pub(crate) visitor: Str,
    /// The hidden local holding a method's class (for `super`).
    pub(crate) class_cell: Str,
}

impl Default for Names {
    fn default() -> Self {
        Self {
            self_ref: "self".into(),
            here: "here".into(),
            visitor: "visitor".into(),
            class_cell: "__class__".into(),
        }
    }
}

/// The Jac interpreter for one program and one graph view.
pub struct Interpreter {
    program: Rc<Program>,
    graph: Box<dyn Graph>,
    env: HostEnv,
    builtins: Rc<Module>,
    /// Loaded modules by dotted name (Jac modules and native ones).
    modules: FxHashMap<Str, Rc<Module>>,
    /// Archetype classes by name, for rebuilding stored nodes/edges/objects.
    classes: FxHashMap<Str, Rc<Class>>,
    root_class: Rc<Class>,
    generic_edge_class: Rc<Class>,
    anchors: AnchorCache,
    walkers: Vec<WalkerRun>,
    call_reports: Vec<Value>,
    output: String,
    depth: usize,
    /// Exceptions being handled (innermost last), for bare `raise`.
    handling: Vec<Value>,
    names: Rc<Names>,
    /// Stack position of the outermost Jac call (recursion guard).
    stack_base: usize,
    /// Refused graph writes of the current call.
    pub(crate) warnings: Vec<String>,
    /// Per active function call: what it does with the values it yields.
    generator_frames: Vec<stream::GeneratorFrame>,
    /// The next function call runs in emit mode (its yields go to the host's stream).
    emit_next_call: bool,
    /// This call has streamed (one stream per call).
    streamed: bool,
}

impl Interpreter {
    /// Loads `program` (entry module first) against `graph`: runs imports,
    /// declarations, `glob` initialisers and `with entry` blocks.
    pub fn new(program: Program, graph: Box<dyn Graph>, env: HostEnv) -> Result<Self, Failure> {
        let mut interp = Self::create(program, graph, env);
        interp.load()?;
        Ok(interp)
    }

    /// An interpreter whose program is not loaded yet (see [`Interpreter::load`]).
    pub fn create(program: Program, graph: Box<dyn Graph>, env: HostEnv) -> Self {
        let root_class = Rc::new(classes::builtin_archetype(
            "Root",
            crate::value::ArchKind::Node,
        ));
        let generic_edge_class = Rc::new(classes::builtin_archetype(
            "GenericEdge",
            crate::value::ArchKind::Edge,
        ));
        let interp = Self {
            program: Rc::new(program),
            graph,
            env,
            builtins: Rc::new(Module::new("builtins")),
            modules: FxHashMap::default(),
            classes: FxHashMap::default(),
            root_class,
            generic_edge_class,
            anchors: AnchorCache::default(),
            walkers: Vec::new(),
            call_reports: Vec::new(),
            output: String::new(),
            depth: 0,
            handling: Vec::new(),
            names: Rc::new(Names::default()),
            stack_base: 0,
            warnings: Vec::new(),
            generator_frames: Vec::new(),
            emit_next_call: false,
            streamed: false,
        };
        crate::builtins::install(&interp.builtins, &interp.root_class);
        interp
    }

    /// Loads the entry module: imports, declarations, `glob` initialisers and
    /// `with entry` blocks (their output stays available to [`Interpreter::take_output`]).
    pub fn load(&mut self) -> Result<(), Failure> {
        let entry = self.program.entry().name.clone();
        let loaded = self.load_module(&entry).and_then(|_| self.flush());
        self.end_call();
        loaded.map_err(|e| Failure::raised(FailureKind::Load, &e))
    }

    /// Runs walker `name` (a walker of the entry module) with `args` (a JSON
    /// object of its `has` fields) on node `target` (default: the caller's root).
    pub fn run_walker(
        &mut self,
        name: &str,
        args: &Json,
        target: Option<&str>,
    ) -> Result<Outcome, Failure> {
        let class = self
            .entry_global(name)
            .and_then(|v| match v {
                Value::Class(c) if c.kind == crate::value::ArchKind::Walker => Some(c),
                _ => None,
            })
            .ok_or_else(|| {
                Failure::new(FailureKind::NotFound, format!("no walker named '{name}'"))
            })?;
        let result = self.run_walker_inner(&class, args, target);
        let outcome = self.finish_call(result);
        self.end_call();
        outcome
    }

    fn run_walker_inner(
        &mut self,
        class: &Rc<Class>,
        args: &Json,
        target: Option<&str>,
    ) -> Result<Value, Failure> {
        let walker = self
            .construct_from_json(class, args)
            .map_err(|e| Failure::raised(FailureKind::InvalidArgs, &e))?;
        let location = match target {
            None => self
                .root_value()
                .map_err(|e| Failure::raised(FailureKind::Graph, &e))?,
            Some(id) => match self.readable_node(id) {
                Ok(Some(node)) => node,
                Ok(None) => {
                    return Err(Failure::new(
                        FailureKind::NotFound,
                        format!("no node with id '{id}'"),
                    ));
                }
                Err(e) => return Err(Failure::raised(FailureKind::Graph, &e)),
            },
        };
        let walker = self
            .spawn(walker, location)
            .map_err(|e| Failure::raised(FailureKind::Raised, &e))?;
        if let Value::Instance(w) = &walker
            && let Some(Value::List(reports)) = w.get("reports")
        {
            self.call_reports.extend(reports.borrow().iter().cloned());
        }
        Ok(walker)
    }

    /// The node `id` if it exists and the caller may read it.
    pub fn readable_node(&mut self, id: &str) -> JacResult<Option<Value>> {
        if self.graph.access(id).map_err(graph_error)? < crate::graph::AccessLevel::Read {
            return Ok(None);
        }
        self.load_node(id)
    }

    /// Calls function `name` of the entry module with `args` (a JSON object of its parameters).
    pub fn call_function(&mut self, name: &str, args: &Json) -> Result<Outcome, Failure> {
        let func = match self.entry_global(name) {
            Some(Value::Function(f)) => f,
            _ => {
                return Err(Failure::new(
                    FailureKind::NotFound,
                    format!("no function named '{name}'"),
                ));
            }
        };
        let result = self
            .args_from_json(&func, args)
            .map_err(|e| Failure::raised(FailureKind::InvalidArgs, &e))
            .and_then(|call_args| {
                // A function that is itself a generator streams what it yields.
                let result = if self.env.stream.is_some() {
                    self.call_emitting(&func, None, call_args)
                } else {
                    self.call_function_value(&func, None, call_args)
                };
                result.map_err(|e| Failure::raised(FailureKind::Raised, &e))
            })
            .map(|value| {
                // A returned generator streams too; the result is then `None`.
                if self.stream_iterator(&value) {
                    Value::None
                } else {
                    value
                }
            });
        let outcome = self.finish_call(result);
        self.end_call();
        outcome
    }

    fn finish_call(&mut self, result: Result<Value, Failure>) -> Result<Outcome, Failure> {
        let mut value = result?;
        if let Value::Instance(walker) = &value
            && walker.class.kind == crate::value::ArchKind::Walker
        {
            // A walker's result is its `has` fields after the run (API.md).
            let mut fields = crate::value::Dict::new();
            for (name, v) in walker.declared_fields() {
                fields.insert_str(&name, v);
            }
            value = Value::dict(fields);
        }
        self.flush()
            .map_err(|e| Failure::raised(FailureKind::Graph, &e))?;
        let reports = std::mem::take(&mut self.call_reports);
        Ok(Outcome {
            result: self.to_json(&value),
            reports: reports.iter().map(|r| self.to_json_text(r)).collect(),
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    /// Drops every per-call state (loaded nodes, pending reports, walker stack).
    fn end_call(&mut self) {
        self.anchors.clear();
        self.walkers.clear();
        self.call_reports.clear();
        self.handling.clear();
        self.warnings.clear();
        self.generator_frames.clear();
        self.emit_next_call = false;
        self.streamed = false;
        self.depth = 0;
    }

    /// Everything `print` wrote (and reports, with `echo_reports`) since the last call to this.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.output)
    }

    /// Appends text to the program's output.
    pub fn write_output(&mut self, text: &str) {
        self.output.push_str(text);
    }

    /// The environment granted by the host.
    pub fn env(&self) -> &HostEnv {
        &self.env
    }

    /// Replace the variables `os.getenv` and `os.environ` see: an embedding whose
    /// environment is only known at call time (a pre-initialised component) sets it
    /// before each call. A no-op when nothing changed.
    pub fn set_env_vars(&mut self, vars: FxHashMap<String, String>) {
        if self.env.vars == vars {
            return;
        }
        self.env.vars = vars;
        if let Some(Value::Dict(environ)) = self.modules.get("os").and_then(|m| m.get("environ")) {
            crate::stdlib::os::fill_environ(&mut environ.borrow_mut(), &self.env.vars);
        }
    }

    /// The loaded program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The graph view.
    pub fn graph(&mut self) -> &mut dyn Graph {
        self.graph.as_mut()
    }

    /// A global of the entry module.
    pub fn entry_global(&self, name: &str) -> Option<Value> {
        let entry = self.program.entry().name.clone();
        self.modules.get(&entry).and_then(|m| m.get(name))
    }

    /// Serializes a value for the host (archetypes get `_jac_*` keys; ids are assigned as needed).
    pub fn to_json(&mut self, value: &Value) -> Json {
        let mut id_of =
            |inst: &Rc<crate::value::Instance>| self.anchors.ensure_id(inst, self.graph.as_mut());
        crate::value::json::to_json(value, &mut id_of)
    }

    /// [`Interpreter::to_json`] as JSON text, written as it goes.
    pub fn to_json_text(&mut self, value: &Value) -> String {
        let mut id_of =
            |inst: &Rc<crate::value::Instance>| self.anchors.ensure_id(inst, self.graph.as_mut());
        crate::value::json::to_json_text(value, &mut id_of)
    }

    /// Appends a reported value to the active walker's (or the call's) reports; a
    /// reported iterator streams instead when the call can stream.
    pub fn report(&mut self, value: Value) {
        if self.stream_iterator(&value) {
            return;
        }
        if self.env.cli_mode {
            let text = crate::value::repr::str(&value);
            self.output.push_str(&text);
            self.output.push('\n');
        }
        match self.walkers.first() {
            Some(run) => run.reports.borrow_mut().push(value),
            None => self.call_reports.push(value),
        }
    }

    /// Runs `f` one call level deeper, raising `RecursionError` past the limit.
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> JacResult<T>) -> JacResult<T> {
        let position = stack_position();
        if self.depth == 0 {
            self.stack_base = position;
        }
        if self.depth >= MAX_CALL_DEPTH
            || self.stack_base.abs_diff(position) > self.env.stack_budget
        {
            return Err(Exception::new(
                ExcType::RecursionError,
                "maximum recursion depth exceeded",
            ));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// The file name of a span's file.
    pub(crate) fn file_name(&self, file: crate::syntax::FileId) -> Str {
        self.program.sources.name(file).into()
    }
}
