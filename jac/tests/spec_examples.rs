//! The Jac examples of `shared/spec/jac-scale-reference.md` (copied to
//! `tests/fixtures/spec_NN.jac` by the parser tests) load and run. Several are
//! documentation fragments that use placeholders (`node`) or modules the runtime
//! does not have; for those the exact Python error is the expectation. The data-tier
//! examples (`store()`, `jac_scale.lib`) load here without a data host; `tests/data.rs`
//! runs them against one.

use std::path::Path;

use jac_lang::graph::MemoryGraph;
use jac_lang::interp::{HostEnv, Interpreter};
use jac_lang::syntax::{DirSources, load_program};
use serde_json::{Value as Json, json};

fn load(n: u32) -> Result<Interpreter, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let program = load_program(&DirSources::new(&dir), &format!("spec_{n:02}.jac"))
        .map_err(|d| d.to_string())?;
    let env = HostEnv::default();
    let mut vm = Interpreter::create(program, Box::new(MemoryGraph::new()), env);
    vm.load().map_err(|f| f.message)?;
    Ok(vm)
}

fn reports(vm: &mut Interpreter, walker: &str, args: Json) -> Result<Vec<Json>, String> {
    vm.run_walker(walker, &args, None)
        .map(|o| o.report_values())
        .map_err(|f| f.message)
}

#[test]
fn runnable_examples_report_what_the_spec_shows() {
    let mut vm = load(1).expect("example 1 loads");
    assert_eq!(
        reports(&mut vm, "get_users", json!({})),
        Ok(vec![json!([])])
    );
    let mut vm = load(2).expect("example 2 loads");
    assert_eq!(
        reports(&mut vm, "search", json!({"query": "q"})),
        Ok(vec![])
    );
    assert_eq!(
        reports(&mut vm, "search", json!({})),
        Err("TypeError: search.__init__() missing 1 required positional argument: 'query'".into())
    );
    let mut vm = load(3).expect("example 3 loads");
    assert_eq!(
        reports(&mut vm, "get_users", json!({})),
        Ok(vec![json!([])])
    );
    let mut vm = load(10).expect("example 10 loads");
    assert_eq!(
        reports(
            &mut vm,
            "PaymentReceived",
            json!({"payment_id": "p1", "amount": 12.5})
        ),
        Ok(vec![
            json!({"status": "success", "message": "Payment p1 received", "amount": 12.5, "currency": "USD"})
        ])
    );
    let mut vm = load(11).expect("example 11 loads");
    assert_eq!(
        reports(&mut vm, "EchoMessage", json!({"message": "hi"})),
        Ok(vec![json!({"echo": "hi", "client_id": "anonymous"})])
    );
    let mut vm = load(12).expect("example 12 loads");
    assert_eq!(
        reports(
            &mut vm,
            "ChatRoom",
            json!({"message": "yo", "sender": "me"})
        ),
        Ok(vec![
            json!({"type": "message", "sender": "me", "content": "yo"})
        ])
    );
    let mut vm = load(16).expect("example 16 loads");
    assert_eq!(
        reports(&mut vm, "async_processor", json!({"items": []})),
        Ok(vec![json!([])])
    );
    assert_eq!(
        reports(&mut vm, "async_processor", json!({"items": [1]})),
        Err("NameError: name 'process_item' is not defined".into())
    );
    let mut vm = load(20).expect("example 20 loads");
    assert_eq!(
        reports(&mut vm, "health", json!({})),
        Ok(vec![json!({"status": "healthy"})])
    );
    let mut vm = load(21).expect("example 21 loads");
    assert_eq!(
        reports(&mut vm, "ready", json!({})),
        Err("NameError: name 'check_database' is not defined".into())
    );
    load(13).expect("example 13 (store()) loads");
    load(14).expect("example 14 (upload_file) loads");
    load(17).expect("example 17 (kvstore handles) runs");
    load(22).expect("example 22 (allroots) runs");
    load(23).expect("example 23 (commit) runs");
}

#[test]
fn fragment_examples_fail_with_the_python_error() {
    let expected: &[(u32, &str)] = &[
        (4, "NameError: name 'HTTPMethod' is not defined"),
        (5, "NameError: name 'HTTPMethod' is not defined"),
        (6, "NameError: name 'node' is not defined"),
        (7, "NameError: name 'node' is not defined"),
        (8, "NameError: name 'node' is not defined"),
        (9, "NameError: name 'node' is not defined"),
        (
            15,
            "ModuleNotFoundError: No module named 'jac_scale.factories.storage_factory'",
        ),
        (
            18,
            "ConnectionError: kvstore 'my_app': unavailable: this runtime has no data tier (kvstore and storage need the jac-scale host)",
        ),
        (
            19,
            "ConnectionError: kvstore 'cache': unavailable: this runtime has no data tier (kvstore and storage need the jac-scale host)",
        ),
    ];
    for (n, message) in expected {
        assert_eq!(load(*n).err().as_deref(), Some(*message), "example {n}");
    }
}
