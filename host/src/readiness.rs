//! The backends `/healthz/ready` probes: those the configuration names (Redis, MongoDB,
//! an S3 bucket), each asked through its own crate.

use std::sync::Arc;

use config::{Config, StorageBackendSettings};
use http::{Backend, ProbeFuture, Readiness};

/// Readiness of a server configured by `config`.
pub fn of(config: &Config) -> Readiness {
    let mut backends = Vec::new();
    let mut redis_urls: Vec<&String> = [&config.database.redis_url, &config.websocket.redis_url]
        .into_iter()
        .flatten()
        .collect();
    redis_urls.dedup();
    for url in redis_urls {
        let url = Arc::new(url.clone());
        backends.push(Backend::new("redis", move || -> ProbeFuture {
            let url = url.clone();
            Box::pin(async move { graphdb::probe::redis(&url).await })
        }));
    }
    // Without the `mongo` feature a MongoDB URI stops the start, so there is none here.
    #[cfg(feature = "mongo")]
    if let Some(uri) = &config.database.mongodb_uri {
        backends.push(mongodb(uri));
    }
    if let StorageBackendSettings::S3(_) = &config.storage.backend {
        match files::open_backend(&config.storage) {
            Ok(storage) => backends.push(Backend::new("s3", move || -> ProbeFuture {
                let storage = storage.clone();
                Box::pin(async move { storage.reachable().await.map_err(|e| e.to_string()) })
            })),
            Err(e) => tracing::warn!("readiness cannot probe the S3 storage: {e}"),
        }
    }
    Readiness::new(backends)
}

#[cfg(feature = "mongo")]
fn mongodb(uri: &str) -> Backend {
    let uri = Arc::new(uri.to_owned());
    Backend::new("mongodb", move || -> ProbeFuture {
        let uri = uri.clone();
        Box::pin(async move { graphdb::probe::mongodb(&uri, http::PROBE_TIMEOUT).await })
    })
}
