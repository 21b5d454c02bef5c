//! Streamed generators in the interpreter: with a stream sink, a reported or returned
//! generator sends each yielded value, other reports stay, one stream per call; without
//! a sink, generators run eagerly and a reported one is a list.

use std::cell::RefCell;

use jac_lang::graph::MemoryGraph;
use jac_lang::interp::{HostEnv, Interpreter};
use jac_lang::syntax::{MemorySources, load_program};
use serde_json::{Value as Json, json};

thread_local! {
    /// What the sink received.
    static SENT: RefCell<Vec<Json>> = const { RefCell::new(Vec::new()) };
}

fn sink(value: &Json) {
    SENT.with(|sent| sent.borrow_mut().push(value.clone()));
}

fn sent() -> Vec<Json> {
    SENT.with(|sent| std::mem::take(&mut *sent.borrow_mut()))
}

fn interpreter(src: &str, streaming: bool) -> Interpreter {
    let mut files = MemorySources::new();
    files.insert("app.jac", src);
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}\n{src}"));
    let env = HostEnv {
        stream: streaming.then_some(sink as fn(&Json)),
        ..HostEnv::default()
    };
    Interpreter::new(program, Box::new(MemoryGraph::new()), env)
        .unwrap_or_else(|f| panic!("{}", f.traceback()))
}

const APP: &str = r#"
walker:pub W {
    has count: int = 2;
    can go with Root entry {
        report "before";
        def stream -> str {
            for i in range(self.count) {
                yield f"R{i}";
            }
        }
        report stream();
        report "after";
        report stream();
    }
}

def:pub gen_fn(n: int = 2) -> any {
    for i in range(n) { yield {"i": i}; }
}

def:pub returns_gen -> any {
    def inner -> any { yield 1; yield 2; }
    return inner();
}

def:pub plain -> int {
    report 5;
    return 7;
}

def:pub fails -> any {
    yield "one";
    raise ValueError("midway");
}
"#;

#[test]
fn a_reported_generator_streams_once_per_call_and_leaves_other_reports() {
    let mut interp = interpreter(APP, true);
    sent();
    let outcome = interp
        .run_walker("W", &json!({"count": 2}), None)
        .unwrap_or_else(|f| panic!("{}", f.traceback()));
    assert_eq!(sent(), [json!("R0"), json!("R1")]);
    // The second generator does not stream (one stream per call): it is a report.
    assert_eq!(
        outcome.report_values(),
        [json!("before"), json!("after"), json!(["R0", "R1"])]
    );
}

#[test]
fn generator_functions_and_returned_generators_stream() {
    let mut interp = interpreter(APP, true);
    sent();
    let outcome = interp
        .call_function("gen_fn", &json!({"n": 3}))
        .expect("runs");
    assert_eq!(sent(), [json!({"i": 0}), json!({"i": 1}), json!({"i": 2})]);
    assert_eq!(outcome.result, Json::Null);

    let outcome = interp
        .call_function("returns_gen", &json!({}))
        .expect("runs");
    assert_eq!(sent(), [json!(1), json!(2)]);
    assert_eq!(outcome.result, Json::Null);

    let outcome = interp.call_function("plain", &json!({})).expect("runs");
    assert!(sent().is_empty());
    assert_eq!(
        (outcome.result.clone(), outcome.report_values()),
        (json!(7), vec![json!(5)])
    );
}

#[test]
fn values_before_an_exception_are_sent_and_the_call_fails() {
    let mut interp = interpreter(APP, true);
    sent();
    let failure = interp
        .call_function("fails", &json!({}))
        .expect_err("raises");
    assert_eq!(sent(), [json!("one")]);
    assert_eq!(failure.exception.as_deref(), Some("ValueError"));
}

#[test]
fn without_a_sink_generators_are_eager_lists() {
    let mut interp = interpreter(APP, false);
    let outcome = interp
        .run_walker("W", &json!({"count": 1}), None)
        .expect("runs");
    assert_eq!(
        outcome.report_values(),
        [
            json!("before"),
            json!(["R0"]),
            json!("after"),
            json!(["R0"])
        ]
    );
    let outcome = interp
        .call_function("gen_fn", &json!({"n": 1}))
        .expect("runs");
    assert_eq!(outcome.result, json!([{"i": 0}]));
    assert!(sent().is_empty());
}
