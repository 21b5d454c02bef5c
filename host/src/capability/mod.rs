//! Host side of each WIT import: thin glue that delegates to `graph` and friends.
