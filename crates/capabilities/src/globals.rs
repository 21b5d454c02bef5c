//! `jac:scale/globals`: the module-level state (`glob`) of a Jac app, kept between calls.
//!
//! One [`Globals`] per loaded app; every call's store holds it. The guest loads the
//! JSON the last call left and stores it back when it changed. Never persisted, never
//! shared between apps (a reloaded app starts from its snapshot's values).

use std::sync::{Arc, Mutex, PoisonError};

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use super::{Capability, HostState};

/// Largest globals object an app may store, in bytes of JSON.
pub const MAX_GLOBALS_BYTES: usize = 1 << 20;

/// The globals of one app, as the last call stored them.
#[derive(Debug, Default)]
pub struct Globals(Mutex<Option<Arc<str>>>);

impl Globals {
    fn load(&self) -> Option<String> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_deref().map(str::to_owned)
    }

    fn store(&self, json: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(json.into());
    }
}

pub(super) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut globals = linker.instance("jac:scale/globals@0.1.0")?;
    globals.func_wrap(
        "load",
        |mut store: StoreContextMut<'_, HostState>, (): ()| {
            let state = store.data_mut().counted(Capability::Globals);
            Ok((state.globals.as_ref().and_then(|g| g.load()),))
        },
    )?;
    globals.func_wrap(
        "store",
        |mut store: StoreContextMut<'_, HostState>, (json,): (String,)| {
            store.data_mut().counted(Capability::Globals);
            if json.len() > MAX_GLOBALS_BYTES {
                wasmtime::bail!(
                    "the app's globals exceed {} KiB of JSON",
                    MAX_GLOBALS_BYTES >> 10
                );
            }
            if let Some(globals) = &store.data().globals {
                globals.store(json);
            }
            Ok(())
        },
    )?;
    Ok(())
}
