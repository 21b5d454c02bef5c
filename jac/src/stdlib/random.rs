//! `random`: `random`, `randint`, `randrange`, `uniform`, `choice`, `choices`,
//! `sample`, `shuffle`, `seed`, `gauss`. One generator per interpreter,
//! seeded from the OS (WASI `random` in the sandbox); `seed(n)` makes it
//! deterministic (the sequence differs from CPython's Mersenne Twister).

use std::cell::RefCell;
use std::rc::Rc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::{arg_f64, arg_i64, def, opt_i64, value_error};
use crate::interp::Interpreter;
use crate::value::native::type_error;
use crate::value::{Args, ExcType, Exception, JacResult, Module, Value};

type Shared = Rc<RefCell<StdRng>>;

/// Adds a function that uses the module's generator.
fn def_rng(
    module: &Module,
    rng: &Shared,
    name: &str,
    f: fn(&mut StdRng, &mut Interpreter, Args) -> JacResult<Value>,
) {
    let rng = rng.clone();
    def(module, name, move |vm, args| {
        f(&mut rng.borrow_mut(), vm, args)
    });
}

fn empty_sequence() -> Exception {
    Exception::new(ExcType::IndexError, "Cannot choose from an empty sequence")
}

/// `randrange(start, stop, step)` over `i64`.
fn randrange(rng: &mut StdRng, start: i64, stop: i64, step: i64) -> JacResult<Value> {
    if step == 0 {
        return Err(value_error("zero step for randrange()"));
    }
    let span = if step > 0 { stop - start } else { start - stop };
    let n = (span + step.abs() - 1) / step.abs();
    if n <= 0 {
        return Err(value_error(format!(
            "empty range in randrange({start}, {stop})"
        )));
    }
    Ok(Value::Int(start + step * rng.random_range(0..n)))
}

/// Builds the `random` module.
pub(super) fn module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("random"));
    let rng: Shared = Rc::new(RefCell::new(StdRng::from_os_rng()));
    def_rng(&module, &rng, "random", |rng, _, _| {
        Ok(Value::Float(rng.random::<f64>()))
    });
    def_rng(&module, &rng, "uniform", |rng, _, args| {
        let a = arg_f64(&args, 0, "a", "uniform")?;
        let b = arg_f64(&args, 1, "b", "uniform")?;
        Ok(Value::Float(a + (b - a) * rng.random::<f64>()))
    });
    def_rng(&module, &rng, "randint", |rng, _, args| {
        let a = arg_i64(&args, 0, "a", "randint")?;
        let b = arg_i64(&args, 1, "b", "randint")?;
        randrange(
            rng,
            a,
            b.checked_add(1)
                .ok_or_else(|| value_error("randint() range too large"))?,
            1,
        )
    });
    def_rng(&module, &rng, "randrange", |rng, _, args| {
        let first = arg_i64(&args, 0, "start", "randrange")?;
        match opt_i64(&args, 1, "stop", "randrange")? {
            None => randrange(rng, 0, first, 1),
            Some(stop) => randrange(
                rng,
                first,
                stop,
                opt_i64(&args, 2, "step", "randrange")?.unwrap_or(1),
            ),
        }
    });
    def_rng(&module, &rng, "gauss", |rng, _, args| {
        let mu = args
            .get(0, "mu")
            .map_or(Ok(0.0), |_| arg_f64(&args, 0, "mu", "gauss"))?;
        let sigma = args
            .get(1, "sigma")
            .map_or(Ok(1.0), |_| arg_f64(&args, 1, "sigma", "gauss"))?;
        // Box-Muller transform.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        Ok(Value::Float(
            mu + sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos(),
        ))
    });
    def_rng(&module, &rng, "choice", |rng, vm, args| {
        let items = vm.iterate(&args.required(0, "seq", "choice")?)?;
        if items.is_empty() {
            return Err(empty_sequence());
        }
        Ok(items[rng.random_range(0..items.len())].clone())
    });
    def_rng(&module, &rng, "choices", |rng, vm, args| {
        let items = vm.iterate(&args.required(0, "population", "choices")?)?;
        let k = usize::try_from(opt_i64(&args, 3, "k", "choices")?.unwrap_or(1)).unwrap_or(0);
        if items.is_empty() {
            return Err(empty_sequence());
        }
        let weights = match args.get(1, "weights") {
            None | Some(Value::None) => None,
            Some(w) => {
                let ws = vm.iterate(&w)?;
                if ws.len() != items.len() {
                    return Err(value_error(
                        "The number of weights does not match the population",
                    ));
                }
                let mut cumulative = Vec::with_capacity(ws.len());
                let mut total = 0.0;
                for w in &ws {
                    total +=
                        super::as_f64(w).ok_or_else(|| type_error("choices", "weights", w))??;
                    cumulative.push(total);
                }
                Some((cumulative, total))
            }
        };
        let mut out = Vec::with_capacity(k);
        for _ in 0..k {
            let i = match &weights {
                Some((cumulative, total)) => {
                    let x = rng.random::<f64>() * total;
                    cumulative.partition_point(|&c| c <= x).min(items.len() - 1)
                }
                None => rng.random_range(0..items.len()),
            };
            out.push(items[i].clone());
        }
        Ok(Value::list(out))
    });
    def_rng(&module, &rng, "sample", |rng, vm, args| {
        let mut items = vm.iterate(&args.required(0, "population", "sample")?)?;
        let k = arg_i64(&args, 1, "k", "sample")?;
        let k = usize::try_from(k).ok().filter(|&k| k <= items.len());
        let Some(k) = k else {
            return Err(value_error("Sample larger than population or is negative"));
        };
        items.shuffle(rng);
        items.truncate(k);
        Ok(Value::list(items))
    });
    def_rng(&module, &rng, "shuffle", |rng, _, args| {
        match args.required(0, "x", "shuffle")? {
            Value::List(list) => {
                list.borrow_mut().shuffle(rng);
                Ok(Value::None)
            }
            other => Err(type_error("shuffle", "x", &other)),
        }
    });
    def_rng(&module, &rng, "seed", |rng, _, args| {
        let seed = match args.get(0, "a") {
            None | Some(Value::None) => {
                *rng = StdRng::from_os_rng();
                return Ok(Value::None);
            }
            Some(Value::Int(i)) => i as u64,
            Some(Value::Str(s)) => s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            }),
            Some(other) => return Err(type_error("seed", "a", &other)),
        };
        *rng = StdRng::seed_from_u64(seed);
        Ok(Value::None)
    });
    Ok(module)
}
