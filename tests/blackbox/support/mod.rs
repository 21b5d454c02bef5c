//! Shared helpers: the example components, the server process, and reply assertions.

pub mod guests;
pub mod process;
pub mod reply;
pub mod server;

pub use guests::App;
pub use reply::{Reply, assert_node, is_hex_id};
pub use server::{PASSWORD, Server, User};
