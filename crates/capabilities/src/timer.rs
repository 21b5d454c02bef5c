//! `jac:scale/timer`: `sleep` suspends the call on tokio's timer, so a sleeping walker
//! holds no worker thread (its instance and its concurrency permit stay reserved).
//! The call's wall-clock limit still applies: a sleep past it ends the call with 504.

use std::time::Duration;

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

/// Add `jac:scale/timer` to `linker`. The timer keeps no state; `on_call` runs on each
/// `sleep` (the host counts it there).
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    on_call: fn(&mut T),
) -> wasmtime::Result<()> {
    let mut timer = linker.instance("jac:scale/timer@0.1.0")?;
    timer.func_wrap_async(
        "sleep",
        move |mut store: StoreContextMut<'_, T>, (ms,): (u32,)| {
            on_call(store.data_mut());
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
                Ok(())
            })
        },
    )?;
    Ok(())
}
