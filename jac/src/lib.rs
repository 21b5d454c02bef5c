//! `jac-lang`: the Jac dialect of jac-scale 0.2.x (jaclang 0.12-0.16) in Rust, with no WIT
//! types in it. It runs natively for its tests and inside the sandbox as `jac/component`.
//!
//! The pipeline and who depends on whom:
//!
//! - [`syntax`]: lexer, parser and loader. `load_program(&dyn SourceProvider, "app.jac")`
//!   returns a [`syntax::ast::Program`] (entry module first, then the app's own imported
//!   `.jac` modules). The parser normalises legacy spellings so the evaluator sees one
//!   form (`(?:T, c)`, `` (`?T: c) `` and `[?:T, c]` are one filter; `&&` is `and`;
//!   `switch` is `match`; `` `root `` is `Root`); the loader guarantees that no `impl`
//!   block remains (annexes `x.impl.jac` are merged into `x`) and that every import of
//!   an app module is resolved. Nesting is bounded, so no AST is deep enough to exhaust
//!   the stack. `cl { }` client code is skipped by the lexer.
//! - [`describe`]: the endpoint manifest read from the syntax tree alone (walkers bound in
//!   the entry module's namespace, as jac-scale's introspection sees them; public
//!   functions declared there; `@schedule`d ones are jobs, not endpoints).
//! - [`value`]: values with Python semantics; stdlib types are native objects
//!   ([`value::NativeObject`]) whose class object gives `type(x)` and `isinstance`, and
//!   whose native `__new__` is the constructor.
//! - [`interp`]: the evaluator. `Interpreter::new(program, Box<dyn Graph>, HostEnv)` loads
//!   the program once; `run_walker` / `call_function` serve calls and return an `Outcome`
//!   (`result`: a walker's `has` fields after the run, or a function's return value;
//!   `reports`; `warnings`: refused graph writes, rolled back in memory before the output
//!   is serialised). `globals_json` / `restore_globals` carry `glob` values between calls
//!   of a host that runs each call in a fresh instance. Recursion is bounded by native
//!   stack (`HostEnv::stack_budget`), not by a call count.
//! - [`graph`]: the one trait the interpreter reads and writes the graph through, and an
//!   in-memory implementation for tests and `jac run`-style embedding. Creates, connects
//!   and deletes reach the graph during the call, field updates at its end; the embedding
//!   commits or drops them as one changeset.
//! - [`builtins`] and [`stdlib`]: the builtin functions and types, and the Python stdlib
//!   subset real apps import; [`data`]: kvstore, `store()` and `UploadFile`, reached
//!   through the embedding's `DataHost`.
//!
//! Known gaps (clear errors, not misparses): `has x: T { getter; setter }` accessors,
//! `with entry` inside an archetype body, `by llm()`, `flow`/`wait`, `::py::`. Accepted
//! beyond jaclang 0.16.7, with Python's meaning: f-string `{x=}` and `{x:<8}`, `by` as a
//! parameter name, `<-:E:->` (typed, either direction).

pub mod builtins;
pub mod data;
pub mod describe;
pub mod graph;
pub mod interp;
pub mod stdlib;
pub mod syntax;
pub mod value;
