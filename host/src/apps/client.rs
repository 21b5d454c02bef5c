//! `jac-scale apps deploy|list|remove`: the admin API's command-line client.

use std::path::Path;

use anyhow::{Context, bail};
use config::AdminClient;
use serde_json::Value;

/// What `jac-scale apps` was asked to do.
pub enum Request<'a> {
    /// Upload `file` (a component or a Jac source) as app `name`.
    Deploy { name: &'a str, file: &'a Path },
    /// List the apps with their usage.
    List,
    /// Remove app `name`; `purge` deletes its data too.
    Remove { name: &'a str, purge: bool },
}

/// Send `request` to the admin API of `settings` and print the answer.
pub async fn run(settings: &AdminClient, request: Request<'_>) -> anyhow::Result<()> {
    let token = match &settings.token {
        Some(token) => token.clone(),
        None => std::fs::read_to_string(&settings.token_file)
            .with_context(|| {
                format!(
                    "cannot read the operator token from {} (set JAC_SCALE_ADMIN_TOKEN or --token-file)",
                    settings.token_file.display()
                )
            })?
            .trim()
            .to_owned(),
    };
    let client = reqwest::Client::new();
    let base = reqwest::Url::parse(&settings.url)
        .with_context(|| format!("{} is not a URL", settings.url))?;
    // The name is one path segment, escaped: the server judges it, not the URL parser.
    let url = |name: Option<&str>| {
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("apps");
            if let Some(name) = name {
                path.push(name);
            }
        }
        url
    };
    let builder = match &request {
        Request::Deploy { name, file } => {
            let body =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            client.put(url(Some(name))).body(body)
        }
        Request::List => client.get(url(None)),
        Request::Remove { name, purge } => {
            client.delete(url(Some(name))).query(&[("purge", purge)])
        }
    };
    let response = builder
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach the admin API at {}", settings.url))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("the admin API answered {status} with no JSON"))?;
    if !status.is_success() {
        let error = &body["error"];
        let mut message = error["message"].as_str().unwrap_or("no message").to_owned();
        // A validation error says what was wrong in its problems.
        for problem in error["details"].as_array().into_iter().flatten() {
            if let Some(detail) = problem["msg"].as_str() {
                message = format!("{message}: {detail}");
            }
        }
        bail!("{status}: {message}");
    }
    let data = &body["data"];
    match request {
        Request::Deploy { name, .. } => {
            let what = if data["replaced"] == true {
                "replaced"
            } else {
                "deployed"
            };
            println!("{what} {name}");
        }
        Request::List => print_usage(data),
        Request::Remove { name, purge } => {
            let how = if purge { " and purged its data" } else { "" };
            println!("removed {name}{how}");
        }
    }
    Ok(())
}

fn print_usage(data: &Value) {
    println!(
        "{:<24} {:<5} {:>10} {:>9} {:>7} {:>14}",
        "NAME", "KIND", "REQUESTS", "IN USE", "QUEUED", "STORAGE BYTES"
    );
    for app in data["apps"].as_array().into_iter().flatten() {
        println!(
            "{:<24} {:<5} {:>10} {:>9} {:>7} {:>14}",
            app["name"].as_str().unwrap_or("?"),
            app["kind"].as_str().unwrap_or("?"),
            app["requests"],
            app["instances_in_use"],
            app["calls_queued"],
            app["storage_bytes"],
        );
    }
}
