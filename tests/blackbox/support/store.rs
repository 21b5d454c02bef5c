//! Direct access to a server's store of record, for tests that check or damage what it
//! holds behind the server's back.

use std::future::Future;

/// Runs `work` on the MongoDB database that `uri` names (a server's `MONGODB_URI`).
pub fn on_mongodb_database<T, F: Future<Output = T>>(
    uri: &str,
    work: impl FnOnce(mongodb::Database) -> F,
) -> T {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let client = mongodb::Client::with_uri_str(uri).await.expect("connects");
        let database = client.default_database().expect("the URI names a database");
        work(database).await
    })
}
