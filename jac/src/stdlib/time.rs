//! `time` (`time`, `time_ns`, `monotonic`, `perf_counter`, `sleep`) and
//! `asyncio` (`sleep`, `gather`, `run`): the interpreter runs async code
//! synchronously, so awaiting is evaluating. Both sleeps wait through the
//! embedding's [`HostEnv::sleep`](crate::interp::HostEnv::sleep), so inside the
//! host a sleeping walker suspends its call instead of blocking a thread.

use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{arg_f64, def, value_error};
use crate::interp::Interpreter;
use crate::value::{Args, JacResult, Module, Value};

/// Longest single sleep (a guest cannot park a request longer than this).
const MAX_SLEEP_SECS: f64 = 60.0;

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn sleep(vm: &Interpreter, args: &Args, fname: &str) -> JacResult<Value> {
    let secs = arg_f64(args, 0, "secs", fname)?;
    if secs.is_nan() || secs < 0.0 {
        return Err(value_error("sleep length must be non-negative"));
    }
    (vm.env().sleep)(Duration::from_secs_f64(secs.min(MAX_SLEEP_SECS)));
    Ok(Value::None)
}

/// Builds the `time` module.
pub(super) fn time_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("time"));
    def(&module, "time", |_, _| {
        Ok(Value::Float(since_epoch().as_secs_f64()))
    });
    def(&module, "time_ns", |_, _| {
        Ok(Value::Int(
            i64::try_from(since_epoch().as_nanos()).unwrap_or(i64::MAX),
        ))
    });
    let start = Instant::now();
    def(&module, "monotonic", move |_, _| {
        Ok(Value::Float(start.elapsed().as_secs_f64()))
    });
    def(&module, "perf_counter", move |_, _| {
        Ok(Value::Float(start.elapsed().as_secs_f64()))
    });
    def(&module, "sleep", |vm, args| sleep(vm, &args, "sleep"));
    Ok(module)
}

/// Builds the `asyncio` module.
pub(super) fn asyncio_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("asyncio"));
    def(&module, "sleep", |vm, args| {
        sleep(vm, &args, "sleep")?;
        Ok(args.get(1, "result").unwrap_or(Value::None))
    });
    // Awaitables are already values: `gather(a, b)` is `[a, b]`, `run(x)` is `x`.
    def(&module, "gather", |_, args| {
        Ok(Value::list(args.positional))
    });
    def(&module, "run", |_, args| args.required(0, "main", "run"));
    Ok(module)
}
