pub mod syntax;
pub mod builtins;
pub mod graph;
pub mod interp;
pub mod value;
pub mod describe;
pub mod stdlib;
