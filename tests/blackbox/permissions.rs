//! Written once the shared-notes app lands.
