//! Black-box tests: start the real `jac-scale` binary on a free loopback port and talk
//! HTTP to it, with real wasm components built from `examples/` and a real SQLite file.
