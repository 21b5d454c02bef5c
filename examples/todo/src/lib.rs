//! The reference app (`shared/reference/app.jac`) in Rust: the same walkers and functions,
//! names, fields, defaults, access levels and reports (its webhook and WebSocket walkers
//! are left out).
//!
//! Build and run:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p todo
//! jac-scale start target/wasm32-wasip2/release/todo.wasm
//! curl -s -X POST localhost:8000/walker/Ping
//! ```
//!
//! Its walkers are unit-tested natively (`cargo test -p todo`) on the SDK's in-memory graph.

use jac_scale_guest::prelude::*;

/// A thing to do.
#[node]
pub struct Todo {
    /// What to do.
    pub title: String,
    /// Whether it is done.
    #[jac(default = false)]
    pub done: bool,
}

// ---------------------------------------------------------------- public walkers

/// Trivial public walker reporting a constant (perf case a).
#[walker(public)]
pub struct Ping {}

#[walker]
impl Ping {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"pong": true}))
    }
}

/// Public walker with typed has fields (required + defaulted).
#[walker(public)]
pub struct Echo {
    name: String,
    #[jac(default = 1)]
    count: i64,
    #[jac(default = [])]
    tags: Vec<String>,
}

#[walker]
impl Echo {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"name": self.name, "count": self.count, "tags": self.tags}))
    }
}

/// Public walker with two reports.
#[walker(public)]
pub struct TwoReports {}

#[walker]
impl TwoReports {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        w.report(1)?;
        w.report("two")
    }
}

/// Public walker that reports nothing.
#[walker(public)]
pub struct NoReport {}

#[walker]
impl NoReport {
    #[entry(Root)]
    fn run(&mut self, _: &mut Walk) -> Result {
        Ok(())
    }
}

/// Public walker that raises.
#[walker(public)]
pub struct Boom {}

#[walker]
impl Boom {
    #[entry(Root)]
    fn run(&mut self, _: &mut Walk) -> Result {
        Err(raise!("ValueError", "boom!"))
    }
}

// ---------------------------------------------------------------- protected walkers

/// Protected (default) walker.
#[walker]
pub struct Greet {
    name: String,
}

#[walker]
impl Greet {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"greeting": format!("Hello, {}!", self.name)}))
    }
}

/// Create a Todo attached to root (perf case b).
#[walker]
pub struct CreateTodo {
    title: String,
}

#[walker]
impl CreateTodo {
    #[entry(Root)]
    fn create(&mut self, w: &mut Walk) -> Result {
        let todo = w.attach(&w.root(), Todo::new(&self.title))?;
        // `root ++> Todo(...)` is a list in Jac, so the report is `[todo]`.
        w.report([todo])
    }
}

/// Create n todos at once.
#[walker]
pub struct SeedTodos {
    #[jac(default = 100)]
    n: i64,
    #[jac(default = "todo")]
    prefix: String,
}

#[walker]
impl SeedTodos {
    #[entry(Root)]
    fn seed(&mut self, w: &mut Walk) -> Result {
        let root = w.root();
        for i in 0..self.n {
            w.attach(&root, Todo::new(format!("{}-{i}", self.prefix)))?;
        }
        w.report(json!({"created": self.n}))
    }
}

/// List Todos attached to root (perf case c).
#[walker]
pub struct ListTodos {}

#[walker]
impl ListTodos {
    #[entry(Root)]
    fn list(&mut self, w: &mut Walk) -> Result {
        // Page by page into the report's text: a root with 100,000 todos fits the call's memory.
        w.report_each(w.neighbors(&w.root()).iter_of::<Todo>())
    }
}

/// Count Todos.
#[walker]
pub struct CountTodos {}

#[walker]
impl CountTodos {
    #[entry(Root)]
    fn count(&mut self, w: &mut Walk) -> Result {
        let count = w.neighbors(&w.root()).count_of::<Todo>()?;
        w.report(json!({"count": count}))
    }
}

/// Mark a todo done by visiting it.
#[walker]
pub struct CompleteTodo {
    title: String,
}

#[walker]
impl CompleteTodo {
    #[entry(Root)]
    fn go(&mut self, w: &mut Walk) -> Result {
        // Page by page, keeping only the matches.
        let matching: Vec<Node<Todo>> = w
            .neighbors(w.here())
            .iter_of::<Todo>()
            .filter(|todo| todo.as_ref().map_or(true, |todo| todo.title == self.title))
            .collect::<Result<_>>()?;
        for todo in matching {
            w.visit(todo)?;
        }
        Ok(())
    }

    #[entry(Todo)]
    fn mark(&mut self, w: &mut Walk) -> Result {
        let mut todo = w.here_as::<Todo>()?;
        todo.done = true;
        w.save(&todo)?;
        w.report(todo)
    }
}

/// A count that many calls add to at once (every addition must be kept).
#[node]
pub struct Counter {
    #[jac(default = 0)]
    pub count: i64,
}

/// Create a Counter attached to root; reports it.
#[walker]
pub struct CreateCounter {}

#[walker]
impl CreateCounter {
    #[entry(Root)]
    fn create(&mut self, w: &mut Walk) -> Result {
        let counter = w.attach(&w.root(), Counter::new())?;
        w.report(counter)
    }
}

/// Spawned on a Counter: adds `by` to its count (read, add, write back).
#[walker]
pub struct IncrementCounter {
    #[jac(default = 1)]
    by: i64,
}

#[walker]
impl IncrementCounter {
    #[entry(Counter)]
    fn add(&mut self, w: &mut Walk) -> Result {
        let mut counter = w.here_as::<Counter>()?;
        counter.count = counter
            .count
            .checked_add(self.by)
            .ok_or_else(|| raise!("OverflowError", "the count does not fit in 64 bits"))?;
        w.save(&counter)?;
        w.report(counter)
    }
}

/// Report the node the walker was spawned on.
#[walker(public)]
pub struct WhereAmI {}

#[walker]
impl WhereAmI {
    #[entry(Root)]
    fn on_root(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"at": "root"}))
    }

    #[entry(Todo)]
    fn on_todo(&mut self, w: &mut Walk) -> Result {
        let todo = w.here_as::<Todo>()?;
        w.report(json!({"at": "todo", "title": todo.title}))
    }
}

// ---------------------------------------------------------------- restspec

/// `@restspec(method=HTTPMethod.GET)`: fields come from the query string.
#[walker(public, method = GET)]
pub struct GetInfo {
    #[jac(default = "default")]
    q: String,
    #[jac(default = 0)]
    n: i64,
}

#[walker]
impl GetInfo {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"q": self.q, "n": self.n, "method": "GET"}))
    }
}

/// Served at `GET /custom/users` only.
#[walker(public, method = GET, path = "/custom/users")]
pub struct CustomUsers {}

#[walker]
impl CustomUsers {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"users": ["alice", "bob"], "path": "/custom/users"}))
    }
}

/// Served at `GET /items/{item_id}`: the path binds the field.
#[walker(public, method = GET, path = "/items/{item_id}")]
pub struct GetItem {
    item_id: String,
}

#[walker]
impl GetItem {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"item_id": self.item_id}))
    }
}

// ---------------------------------------------------------------- functions

/// Public health check.
#[function(public)]
pub fn health_check() -> Result<Value> {
    Ok(json!({"status": "healthy"}))
}

/// Protected addition.
#[function]
pub fn add_numbers(a: i64, b: i64) -> Result<i64> {
    checked_sum(a, b)
}

/// Public addition; `b` defaults to 10.
#[function(public)]
pub fn pub_add(a: i64, #[jac(default = 10)] b: i64) -> Result<i64> {
    checked_sum(a, b)
}

/// `a + b`, raising `OverflowError` past 64 bits (Jac ints are unbounded; ours are not).
fn checked_sum(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b)
        .ok_or_else(|| raise!("OverflowError", "{a} + {b} does not fit in 64 bits"))
}

/// Served at `GET /custom/func` only.
#[function(public, method = GET, path = "/custom/func")]
pub fn custom_func() -> Result<Value> {
    Ok(json!({"message": "custom func"}))
}

jac_scale_guest::app!(
    Ping,
    Echo,
    TwoReports,
    NoReport,
    Boom,
    Greet,
    CreateTodo,
    SeedTodos,
    ListTodos,
    CountTodos,
    CompleteTodo,
    CreateCounter,
    IncrementCounter,
    WhereAmI,
    GetInfo,
    CustomUsers,
    GetItem,
    health_check,
    add_numbers,
    pub_add,
    custom_func,
);

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use jac_scale_guest::testing::MemoryGraph;

    use super::*;

    fn cx() -> Ctx {
        Ctx::new(Rc::new(MemoryGraph::new()))
    }

    #[test]
    fn create_todo_reports_a_list_of_one_todo() {
        let cx = cx();
        cx.spawn(CreateTodo::new("milk"), cx.root()).expect("runs");
        let reports = cx.reports();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0][0]["_jac_type"], "Todo");
        assert_eq!(reports[0][0]["title"], "milk");
        assert_eq!(reports[0][0]["done"], false);
    }

    #[test]
    fn complete_todo_marks_only_the_matching_todo() {
        let cx = cx();
        cx.spawn(SeedTodos::new(), cx.root()).expect("seeds");
        cx.take_reports();
        cx.spawn(CompleteTodo::new("todo-7"), cx.root())
            .expect("completes");
        assert_eq!(cx.take_reports()[0]["title"], "todo-7");
        let todos = cx.neighbors(&cx.root()).of::<Todo>().expect("lists");
        assert_eq!(todos.len(), 100);
        let done: Vec<&str> = todos
            .iter()
            .filter(|todo| todo.done)
            .map(|todo| todo.title.as_str())
            .collect();
        assert_eq!(done, ["todo-7"]);
    }

    #[test]
    fn where_am_i_tells_root_from_todo() {
        let cx = cx();
        let todo = cx.attach(&cx.root(), Todo::new("x")).expect("attaches");
        cx.spawn(WhereAmI::new(), cx.root()).expect("on root");
        cx.spawn(WhereAmI::new(), todo.id()).expect("on todo");
        assert_eq!(
            cx.reports(),
            [json!({"at": "root"}), json!({"at": "todo", "title": "x"})]
        );
    }

    #[test]
    fn boom_raises_value_error() {
        let cx = cx();
        let error = cx.spawn(Boom::new(), cx.root()).expect_err("raises");
        assert_eq!(error.to_string(), "ValueError: boom!");
    }

    #[test]
    fn sums_overflow_into_an_exception() {
        assert_eq!(checked_sum(2, 3), Ok(5));
        assert!(checked_sum(i64::MAX, 1).is_err());
    }
}
