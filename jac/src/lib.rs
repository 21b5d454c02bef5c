pub mod builtins;
pub mod data;
pub mod describe;
pub mod graph;
pub mod interp;
pub mod stdlib;
pub mod syntax;
pub mod value;
