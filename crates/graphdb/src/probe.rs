//! Whether the servers behind the stores answer, for `/healthz/ready`: a fresh
//! connection each time (the stores' own connections reconnect on their own schedule),
//! bounded by the caller's timeout.

/// Connect to the Redis at `url` and `PING` it.
pub async fn redis(url: &str) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut connection)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Connect to the MongoDB at `uri` and run `ping`, waiting at most `timeout` for a
/// server to answer.
#[cfg(feature = "mongo")]
pub async fn mongodb(uri: &str, timeout: std::time::Duration) -> Result<(), String> {
    let mut options = mongodb::options::ClientOptions::parse(uri)
        .await
        .map_err(|e| e.to_string())?;
    options.server_selection_timeout = Some(timeout);
    options.connect_timeout = Some(timeout);
    let client = mongodb::Client::with_options(options).map_err(|e| e.to_string())?;
    let answer = client
        .database("admin")
        .run_command(mongodb::bson::doc! {"ping": 1})
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    client.shutdown().await;
    answer
}
