//! Pushing an image with the OCI distribution API: each blob uploaded unless the
//! registry has it, then the manifest under a tag; Basic or Bearer-token auth as the
//! registry asks (`WWW-Authenticate`).

use config::Env;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Client, RequestBuilder, Response, StatusCode};

use super::{BuiltImage, ImageError, MANIFEST_MEDIA_TYPE};
use crate::settings::Settings;

/// Docker Hub's API host and the name references use for it.
const DOCKER_HUB_API: &str = "https://registry-1.docker.io";
const DOCKER_HUB: &str = "docker.io";

/// Where `--build` pushes, with the credentials to do it.
#[derive(Clone)]
pub struct Registry {
    /// `scheme://host[:port]` of the API.
    api: String,
    /// The host as image references name it.
    host: String,
    /// The repository namespace (`team` in `registry.example.com/team`), if any.
    namespace: Option<String>,
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("api", &self.api)
            .field("namespace", &self.namespace)
            .field("credentials", &self.credentials.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Registry {
    /// The registry of `JAC_SCALE_REGISTRY` (or `[plugins.scale.kubernetes] registry`):
    /// `[http://|https://]host[:port][/namespace]`, plain HTTP only when said or for a
    /// loopback host, credentials from `JAC_SCALE_REGISTRY_USERNAME`/`_PASSWORD` else
    /// `DOCKER_USERNAME`/`DOCKER_PASSWORD`. Without one: Docker Hub, under
    /// `DOCKER_USERNAME`, as the spec has it.
    pub fn resolve(settings: &Settings, env: &dyn Env) -> Result<Self, ImageError> {
        let username = env
            .var("JAC_SCALE_REGISTRY_USERNAME")
            .or_else(|| env.var("DOCKER_USERNAME"));
        let password = env
            .var("JAC_SCALE_REGISTRY_PASSWORD")
            .or_else(|| env.var("DOCKER_PASSWORD"));
        let credentials = username.clone().zip(password);
        let Some(registry) = &settings.registry else {
            let Some(user) = username else {
                return Err(ImageError::Registry(
                    "--build needs a registry: set DOCKER_USERNAME and DOCKER_PASSWORD (Docker \
                     Hub), or JAC_SCALE_REGISTRY (any registry)"
                        .into(),
                ));
            };
            if credentials.is_none() {
                return Err(ImageError::Registry(
                    "DOCKER_USERNAME is set but DOCKER_PASSWORD is not".into(),
                ));
            }
            return Ok(Registry {
                api: DOCKER_HUB_API.into(),
                host: DOCKER_HUB.into(),
                namespace: Some(user),
                credentials,
            });
        };
        let (scheme, rest) = match registry.split_once("://") {
            Some((scheme @ ("http" | "https"), rest)) => (Some(scheme), rest),
            Some(_) => {
                return Err(ImageError::Registry(format!(
                    "registry {registry:?}: only http:// and https:// are understood"
                )));
            }
            None => (None, registry.as_str()),
        };
        let rest = rest.trim_end_matches('/');
        let (host, namespace) = match rest.split_once('/') {
            Some((host, namespace)) => (host, Some(namespace.to_string())),
            None => (rest, None),
        };
        if host.is_empty() {
            return Err(ImageError::Registry(format!(
                "registry {registry:?} names no host"
            )));
        }
        let loopback = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|l| host == *l || host.starts_with(&format!("{l}:")));
        let scheme = scheme.unwrap_or(if loopback { "http" } else { "https" });
        Ok(Registry {
            api: format!("{scheme}://{host}"),
            host: host.to_string(),
            namespace,
            credentials,
        })
    }

    /// The registry for people: its API address and namespace.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}", self.api),
            None => self.api.clone(),
        }
    }

    fn repository(&self, app: &str) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{app}"),
            None => app.to_string(),
        }
    }

    /// The pull reference of `app`'s image with manifest `digest`.
    pub fn reference(&self, app: &str, digest: &str) -> String {
        format!("{}/{}@{digest}", self.host, self.repository(app))
    }
}

/// An HTTP session with the registry that authenticates when first asked to.
struct Session<'a> {
    client: Client,
    registry: &'a Registry,
    repository: String,
    authorization: Option<String>,
}

impl Session<'_> {
    /// Send the request `make` builds; on a 401, authenticate as the registry asks and
    /// send it once more.
    async fn send(
        &mut self,
        make: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, ImageError> {
        let response = self.attempt(&make).await?;
        if response.status() != StatusCode::UNAUTHORIZED || self.authorization.is_some() {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        self.authorization = Some(self.authenticate(&challenge).await?);
        self.attempt(&make).await
    }

    async fn attempt(
        &self,
        make: &impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Response, ImageError> {
        let mut request = make(&self.client);
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth);
        }
        request
            .send()
            .await
            .map_err(|e| ImageError::Registry(format!("{}: {e}", self.registry.api)))
    }

    /// The `Authorization` value for `challenge` (a `WWW-Authenticate` header).
    async fn authenticate(&self, challenge: &str) -> Result<String, ImageError> {
        let no_credentials = || {
            ImageError::Registry(format!(
                "{} asks for credentials: set JAC_SCALE_REGISTRY_USERNAME and \
                 JAC_SCALE_REGISTRY_PASSWORD (or DOCKER_USERNAME and DOCKER_PASSWORD)",
                self.registry.api
            ))
        };
        let basic = |(user, password): &(String, String)| {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )
        };
        let Some(params) = challenge.strip_prefix("Bearer ") else {
            return self
                .registry
                .credentials
                .as_ref()
                .map(basic)
                .ok_or_else(no_credentials);
        };
        let param = |name: &str| {
            params.split(',').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_string())
            })
        };
        let realm = param("realm").ok_or_else(|| {
            ImageError::Registry(format!(
                "{}: a Bearer challenge without a realm",
                self.registry.api
            ))
        })?;
        let mut query = vec![(
            "scope".to_string(),
            format!("repository:{}:pull,push", self.repository),
        )];
        if let Some(service) = param("service") {
            query.push(("service".into(), service));
        }
        let mut request = self.client.get(&realm).query(&query);
        if let Some(credentials) = &self.registry.credentials {
            request = request.header(AUTHORIZATION, basic(credentials));
        }
        let response = request
            .send()
            .await
            .map_err(|e| ImageError::Registry(format!("{realm}: {e}")))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(ImageError::Registry(format!(
                "{realm} refused the registry credentials"
            )));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| ImageError::Registry(format!("{realm}: {e}")))?;
        let token = body
            .get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| ImageError::Registry(format!("{realm} answered no token")))?;
        Ok(format!("Bearer {token}"))
    }
}

/// Fail unless `response` has one of the `expected` statuses.
async fn expect(
    response: Response,
    expected: &[StatusCode],
    what: &str,
) -> Result<Response, ImageError> {
    if expected.contains(&response.status()) {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Err(ImageError::Registry(format!(
        "{what}: the registry answered {status}: {}",
        body.chars().take(300).collect::<String>()
    )))
}

/// Push `image` as `app` (tagged with its digest's first hex digits); returns the pull
/// reference by digest.
pub async fn push(
    image: &BuiltImage,
    registry: &Registry,
    app: &str,
) -> Result<String, ImageError> {
    let repository = registry.repository(app);
    let mut session = Session {
        client: Client::new(),
        registry,
        repository: repository.clone(),
        authorization: None,
    };
    let base = format!("{}/v2/{repository}", registry.api);
    let blobs = image
        .layers
        .iter()
        .map(|l| (&l.digest, &l.blob))
        .chain([(&image.config_digest, &image.config)]);
    for (digest, bytes) in blobs {
        let exists = session
            .send(|c| c.head(format!("{base}/blobs/{digest}")))
            .await?;
        if exists.status() == StatusCode::OK {
            continue;
        }
        let started = session
            .send(|c| c.post(format!("{base}/blobs/uploads/")))
            .await?;
        let started = expect(started, &[StatusCode::ACCEPTED], "starting an upload").await?;
        let location = started
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ImageError::Registry("an upload without a Location".into()))?;
        let mut url = if location.starts_with('/') {
            format!("{}{location}", registry.api)
        } else {
            location.to_string()
        };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={digest}"));
        let done = session
            .send(|c| {
                c.put(&url)
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.clone())
            })
            .await?;
        expect(done, &[StatusCode::CREATED], &format!("uploading {digest}")).await?;
    }
    let hex = image.manifest_digest.trim_start_matches("sha256:");
    let tag = format!("jac-{}", &hex[..12.min(hex.len())]);
    let put = session
        .send(|c| {
            c.put(format!("{base}/manifests/{tag}"))
                .header(CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
                .body(image.manifest.clone())
        })
        .await?;
    expect(put, &[StatusCode::CREATED], "pushing the manifest").await?;
    Ok(registry.reference(app, &image.manifest_digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Vars, jac_toml};

    fn registry(
        configured: Option<&str>,
        env: &[(&'static str, &'static str)],
    ) -> Result<Registry, ImageError> {
        let vars = Vars::of(env);
        let mut settings = Settings::names(&jac_toml(""), "todo", &vars).expect("settings");
        settings.registry = configured.map(str::to_string);
        Registry::resolve(&settings, &vars)
    }

    #[test]
    fn registries_are_read_with_their_scheme_namespace_and_credentials() {
        let local = registry(Some("127.0.0.1:5000/jac"), &[]).expect("local");
        assert_eq!(local.describe(), "http://127.0.0.1:5000/jac");
        assert_eq!(
            local.reference("todo", "sha256:ab"),
            "127.0.0.1:5000/jac/todo@sha256:ab"
        );
        let remote = registry(
            Some("registry.example.com"),
            &[
                ("JAC_SCALE_REGISTRY_USERNAME", "u"),
                ("JAC_SCALE_REGISTRY_PASSWORD", "p"),
            ],
        )
        .expect("remote");
        assert_eq!(remote.describe(), "https://registry.example.com");
        assert!(remote.credentials.is_some());
        let hub = registry(
            None,
            &[("DOCKER_USERNAME", "alice"), ("DOCKER_PASSWORD", "secret")],
        )
        .expect("hub");
        assert_eq!(
            hub.reference("todo", "sha256:ab"),
            "docker.io/alice/todo@sha256:ab"
        );
        assert!(
            !format!("{hub:?}").contains("secret"),
            "credentials never printed"
        );
    }

    #[test]
    fn a_missing_registry_is_explained() {
        let e = registry(None, &[]).expect_err("no registry");
        assert!(e.to_string().contains("DOCKER_USERNAME"), "{e}");
        let e = registry(None, &[("DOCKER_USERNAME", "alice")]).expect_err("no password");
        assert!(e.to_string().contains("DOCKER_PASSWORD"), "{e}");
        assert!(registry(Some("ftp://x"), &[]).is_err());
    }
}
