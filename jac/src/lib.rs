
pub mod syntax;
