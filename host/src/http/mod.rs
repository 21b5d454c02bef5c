//! The axum router built from the app manifest.
