//! `jac:scale/globals`: the module-level state (`glob`) of a Jac app, kept between calls.
//!
//! One [`Globals`] per loaded app version (the runtime's `App` makes it, so a reloaded
//! app starts from its snapshot's values); every call's store holds it. The guest loads
//! the JSON the last call left and stores it back when it changed. Never persisted,
//! never shared between apps.

use std::sync::{Arc, Mutex, PoisonError};

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

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

/// The globals of one call's app (`None` while a Jac app is built), and whether the call
/// stored them.
pub(crate) struct CallGlobals {
    globals: Option<Arc<Globals>>,
    stored: bool,
}

impl CallGlobals {
    pub(crate) fn new(globals: Option<Arc<Globals>>) -> Self {
        CallGlobals {
            globals,
            stored: false,
        }
    }

    /// Whether the call stored the app's globals (the runtime does not run such a call
    /// again).
    pub(crate) fn stored(&self) -> bool {
        self.stored
    }
}

/// Add `jac:scale/globals` to `linker`; `get` projects a store's data to the call's globals.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut CallGlobals,
) -> wasmtime::Result<()> {
    let mut globals = linker.instance("jac:scale/globals@0.1.0")?;
    globals.func_wrap("load", move |mut store: StoreContextMut<'_, T>, (): ()| {
        let call = get(store.data_mut());
        Ok((call.globals.as_ref().and_then(|g| g.load()),))
    })?;
    globals.func_wrap(
        "store",
        move |mut store: StoreContextMut<'_, T>, (json,): (String,)| {
            let call = get(store.data_mut());
            if json.len() > MAX_GLOBALS_BYTES {
                wasmtime::bail!(
                    "the app's globals exceed {} KiB of JSON",
                    MAX_GLOBALS_BYTES >> 10
                );
            }
            if let Some(globals) = &call.globals {
                globals.store(json);
                call.stored = true;
            }
            Ok(())
        },
    )?;
    Ok(())
}
