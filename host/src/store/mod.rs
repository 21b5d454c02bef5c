//! Persistence behind traits: the embedded SQLite default.
