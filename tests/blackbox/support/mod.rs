//! Shared helpers: the example components, the server process, and reply assertions.

pub mod fake_kube;
pub mod guests;
pub mod many;
pub mod process;
pub mod reply;
pub mod server;
pub mod sse;
pub mod store;
pub mod tools;
pub mod webhook;
pub mod websocket;

pub use guests::App;
pub use reply::{Reply, assert_node, is_hex_id};
pub use server::{PASSWORD, Server, Site, User, on_mongodb};

/// Runs each listed scenario, a `fn(App)` of the calling module, against both builds of
/// the todo app: as `rust_build::<scenario>` with [`App::Todo`] and as
/// `jac_build::<scenario>` with [`App::TodoJac`], so a failure names the build; and, with
/// MongoDB as the store of record instead of SQLite, as `mongodb_store::<scenario>` (Rust
/// build: the store does not depend on the app's language).
macro_rules! for_both_todo_builds {
    ($($scenario:ident),* $(,)?) => {
        mod rust_build {
            $( #[test] fn $scenario() { super::$scenario($crate::support::App::Todo) } )*
        }
        mod jac_build {
            $( #[test] fn $scenario() { super::$scenario($crate::support::App::TodoJac) } )*
        }
        mod mongodb_store {
            $(
                #[test]
                fn $scenario() {
                    $crate::support::on_mongodb(|| super::$scenario($crate::support::App::Todo))
                }
            )*
        }
    };
}
pub(crate) use for_both_todo_builds;

/// One `#[test]` per listed scenario, a `fn(App)` of module `$module`, run with `$app`,
/// so one scenario runs against the Rust and the Jac build of an app from two test
/// modules: `app_scenarios!(App::RealtimeJac; crate::webhooks: signed_calls, ...)`.
macro_rules! app_scenarios {
    ($app:expr; $($module:ident)::+ : $($scenario:ident),* $(,)?) => {
        use $($module)::+ as scenarios;
        $( #[test] fn $scenario() { scenarios::$scenario($app) } )*
    };
}
pub(crate) use app_scenarios;

/// Every file under `dir` (none if it does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
