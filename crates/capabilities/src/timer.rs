//! `jac:scale/timer`: `sleep` suspends the call on tokio's timer, so a sleeping walker
//! holds no worker thread (its instance and its concurrency permit stay reserved).
//! The call's wall-clock limit still applies: a sleep past it ends the call with 504.

use std::time::Duration;

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use super::{Capability, HostState};

pub(super) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut timer = linker.instance("jac:scale/timer@0.1.0")?;
    timer.func_wrap_async(
        "sleep",
        |mut store: StoreContextMut<'_, HostState>, (ms,): (u32,)| {
            store.data_mut().counted(Capability::Timer);
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
                Ok(())
            })
        },
    )?;
    Ok(())
}
