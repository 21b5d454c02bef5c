//! wasmtime engine, compile cache, instance pre-instantiation, pooling and limits.
