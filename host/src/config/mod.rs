//! jac.toml + environment + flags -> one typed `Config`.
