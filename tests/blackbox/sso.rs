//! Single sign-on against a real OpenID provider: the npm package `oidc-provider` (a
//! certified OpenID Connect implementation, `tests/oidc/provider.mjs`) on a loopback
//! port, configured as the `google` platform through `SSO_GOOGLE_ISSUER`. A reqwest
//! client with a cookie store plays the browser: it follows the redirects, fills the
//! provider's login and consent forms and comes back to the server's callback.

use reqwest::Url;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use test_services::{Kind, Service};

use crate::support::tools::{program, schemathesis};
use crate::support::{App, Server, is_hex_id};

const CLIENT_ID: &str = "jac-scale-test";
const CLIENT_SECRET: &str = "a client secret: with spaces & symbols";

/// A provider and a server whose `google` platform is that provider. With `audience`,
/// the provider re-signs its ID tokens for that audience (a misbehaving provider).
fn provider_and_server(audience: Option<&str>) -> (Service, Server) {
    // The provider must know the callback before the server starts: pick its port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let redirect = format!("http://127.0.0.1:{port}/sso/google/login/callback");
    let mut env = vec![
        ("CLIENT_ID", CLIENT_ID),
        ("CLIENT_SECRET", CLIENT_SECRET),
        ("REDIRECT_URI", redirect.as_str()),
    ];
    if let Some(audience) = audience {
        env.push(("ID_TOKEN_AUDIENCE", audience));
    }
    let provider = Service::start_with_env(Kind::Oidc, &env);
    let server = Server::builder(App::Todo)
        .arg("--port")
        .arg(&port.to_string())
        .env("SSO_HOST", format!("http://127.0.0.1:{port}/sso"))
        .env("SSO_GOOGLE_CLIENT_ID", CLIENT_ID)
        .env("SSO_GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
        .env("SSO_GOOGLE_ISSUER", provider.url())
        .start();
    (provider, server)
}

/// A browser: cookies kept, redirects followed except the one back to the callback,
/// which the tests make themselves.
struct Browser(Client);

impl Browser {
    fn new() -> Self {
        let policy = Policy::custom(|attempt| {
            if attempt.url().path().ends_with("/login/callback") {
                attempt.stop()
            } else if attempt.previous().len() > 10 {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        });
        Browser(
            Client::builder()
                .cookie_store(true)
                .redirect(policy)
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("client builds"),
        )
    }

    /// Opens `start` (`/sso/google/login` or `/register`), signs in at the provider as
    /// `login` and consents, as the provider asks; answers the callback URL the provider
    /// redirects to and the forms it showed (`login`, `consent`).
    fn through_provider(&self, start: &str, login: &str) -> (String, Vec<String>) {
        let mut response = self.0.get(start).send().expect("start the sign-in");
        let mut shown = Vec::new();
        loop {
            if response.status().is_redirection() {
                let location = response.headers()["location"].to_str().expect("text");
                let callback = response.url().join(location).expect("a URL");
                return (callback.to_string(), shown);
            }
            let url = response.url().clone();
            let status = response.status();
            let page = response.text().expect("a page");
            assert_eq!(status, 200, "{url}: {page}");
            let action = attribute(&page, "action").expect("a form");
            let prompt = between(&page, "name=\"prompt\" value=\"", "\"").expect("a prompt");
            let target = url.join(&action.replace("&amp;", "&")).expect("a URL");
            let fields: Vec<(&str, &str)> = match prompt {
                "login" => vec![("prompt", "login"), ("login", login), ("password", "any")],
                "consent" => vec![("prompt", "consent")],
                other => panic!("unexpected prompt {other}: {page}"),
            };
            shown.push(prompt.to_owned());
            response = self
                .0
                .post(target)
                .form(&fields)
                .send()
                .expect("submit the form");
        }
    }

    /// `GET url`: status and JSON body.
    fn get(&self, url: &str) -> (u16, Value) {
        let response = self.0.get(url).send().expect("a response");
        let status = response.status().as_u16();
        let text = response.text().expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Signs in through the provider as `login` and answers the callback's reply.
    fn sign_in(&self, server: &Server, login: &str) -> (u16, Value) {
        let start = format!("{}/sso/google/login", server.base_url());
        let (callback, _) = self.through_provider(&start, login);
        self.get(&callback)
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn attribute<'a>(page: &'a str, name: &str) -> Option<&'a str> {
    between(page, &format!("{name}=\""), "\"")
}

/// `url` with its query parameter `name` set to `value`.
fn with_query(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).expect("a URL");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k != name)
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    url.to_string()
}

fn query_value(url: &str, name: &str) -> String {
    Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// Asserts the login body of `/user/login` and answers its token.
fn assert_login_body(status: u16, body: &Value) -> String {
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["token_type"], "bearer", "{body:#}");
    assert!(is_hex_id(&body["root_id"]), "{body:#}");
    assert_eq!(body["role"], "user");
    assert!(body["expires_in"].as_i64().is_some_and(|s| s > 0));
    assert_eq!(body["token"], body["access_token"]);
    body["access_token"].as_str().expect("a token").to_owned()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[test]
fn sign_in_through_the_provider_gives_a_token_for_protected_walkers() {
    let (provider, server) = provider_and_server(None);

    // The server found the provider's endpoint through discovery and sent the browser there.
    let browser = Browser::new();
    let start = browser
        .0
        .get(format!("{}/sso/google/login", server.base_url()))
        .send()
        .expect("start");
    assert!(
        start.url().as_str().starts_with(provider.url()),
        "not at the provider: {}",
        start.url()
    );
    let (status, body) = browser.sign_in(&server, "alice@example.com");
    let token = assert_login_body(status, &body);
    let greeted = server.post_auth("/walker/Greet", json!({"name": "Alice"}), &token);
    assert_eq!(greeted.ok()["reports"][0]["greeting"], "Hello, Alice!");

    // The same email from a fresh browser is the same account.
    let (status, again) = Browser::new().sign_in(&server, "Alice@Example.com");
    assert_login_body(status, &again);
    assert_eq!(again["user_id"], body["user_id"]);
    assert_eq!(again["root_id"], body["root_id"]);
}

#[test]
fn the_redirect_carries_state_nonce_and_pkce_and_a_browser_bound_cookie() {
    let (provider, server) = provider_and_server(None);
    let client = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let response = client
        .get(format!("{}/sso/google/register", server.base_url()))
        .send()
        .expect("register");
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().expect("text");
    assert!(
        location.starts_with(&format!("{}/auth?", provider.url())),
        "{location}"
    );
    for (name, value) in [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("scope", "openid email"),
        ("code_challenge_method", "S256"),
        ("prompt", "consent"),
        (
            "redirect_uri",
            &format!("{}/sso/google/login/callback", server.base_url()),
        ),
    ] {
        assert_eq!(query_value(location, name), value, "{location}");
    }
    for random in ["state", "nonce", "code_challenge"] {
        assert_eq!(
            query_value(location, random).len(),
            43,
            "{random}: {location}"
        );
    }
    let cookie = response.headers()["set-cookie"].to_str().expect("text");
    for part in [
        "jac_sso=",
        "Path=/sso",
        "Max-Age=600",
        "HttpOnly",
        "SameSite=Lax",
    ] {
        assert!(cookie.contains(part), "{part} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP host: {cookie}");
    let login = client
        .get(format!("{}/sso/google/login", server.base_url()))
        .send()
        .expect("login");
    let login_location = login.headers()["location"].to_str().expect("text");
    assert!(!login_location.contains("prompt="), "{login_location}");
    assert_ne!(
        query_value(login_location, "state"),
        query_value(location, "state")
    );
}

#[test]
fn a_verified_email_links_to_the_account_registered_with_a_password() {
    let (_provider, server) = provider_and_server(None);
    let bob = server.register_and_login("bob@example.com");
    let created = server.post_auth(
        "/walker/CreateTodo",
        json!({"title": "from a password"}),
        &bob.token,
    );
    assert_eq!(created.status, 200, "{created:?}");

    let (status, body) = Browser::new().sign_in(&server, "bob@example.com");
    let token = assert_login_body(status, &body);
    assert_eq!(body["user_id"], bob.user_id.as_str());
    assert_eq!(body["root_id"], bob.root_id.as_str());
    let todos = server.post_auth("/walker/ListTodos", json!({}), &token);
    assert_eq!(
        todos.ok()["reports"][0][0]["title"],
        "from a password",
        "{todos:?}"
    );
    // The password still works too.
    server.login("bob@example.com");
}

#[test]
fn register_asks_for_consent_again_where_login_does_not() {
    let (_provider, server) = provider_and_server(None);
    let browser = Browser::new();
    let login = format!("{}/sso/google/login", server.base_url());
    let register = format!("{}/sso/google/register", server.base_url());
    let (callback, shown) = browser.through_provider(&login, "dana@example.com");
    assert_eq!(shown, ["login", "consent"]);
    let (status, first) = browser.get(&callback);
    assert_login_body(status, &first);

    // Signed in at the provider, and consent given: login comes straight back.
    let (callback, shown) = browser.through_provider(&login, "dana@example.com");
    assert!(shown.is_empty(), "{shown:?}");
    let (status, second) = browser.get(&callback);
    assert_login_body(status, &second);
    // Register asks for consent again (not for the password), for the same account.
    let (callback, shown) = browser.through_provider(&register, "dana@example.com");
    assert_eq!(shown, ["consent"]);
    let (status, third) = browser.get(&callback);
    assert_login_body(status, &third);
    assert_eq!(second["user_id"], first["user_id"]);
    assert_eq!(third["user_id"], first["user_id"]);
}

#[test]
fn refusals_bad_state_replayed_code_other_browser() {
    let (_provider, server) = provider_and_server(None);
    let callback_path = format!("{}/sso/google/login/callback", server.base_url());
    let browser = Browser::new();

    // A state this server never issued.
    let (status, body) = browser.get(&format!("{callback_path}?state=forged&code=abc"));
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHORIZED"),
        "{body:#}"
    );
    // No state, no code: validation errors.
    let (status, body) = browser.get(&callback_path);
    assert_eq!(
        (status, error_code(&body)),
        (422, "VALIDATION_ERROR"),
        "{body:#}"
    );
    let (status, body) = browser.get(&format!("{callback_path}?state=x"));
    assert_eq!(
        (status, error_code(&body)),
        (422, "VALIDATION_ERROR"),
        "{body:#}"
    );

    // A callback used once is refused the second time (the state is used up).
    let login = format!("{}/sso/google/login", server.base_url());
    let (first, _) = browser.through_provider(&login, "erin@example.com");
    let (status, body) = browser.get(&first);
    assert_login_body(status, &body);
    let (status, body) = browser.get(&first);
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHORIZED"),
        "{body:#}"
    );

    // The redeemed code under a fresh state of the same browser: the provider refuses it.
    let (second, _) = browser.through_provider(&login, "erin@example.com");
    let replayed = with_query(&second, "code", &query_value(&first, "code"));
    let (status, body) = browser.get(&replayed);
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHORIZED"),
        "{body:#}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("authorization code")),
        "{body:#}"
    );

    // A callback opened by another browser (no cookie of the one that started it).
    let (third, _) = browser.through_provider(&login, "erin@example.com");
    let (status, body) = Browser::new().get(&third);
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHORIZED"),
        "{body:#}"
    );

    // The user declined at the provider.
    let (fourth, _) = browser.through_provider(&login, "erin@example.com");
    let declined = format!(
        "{callback_path}?state={}&error=access_denied",
        query_value(&fourth, "state")
    );
    let (status, body) = browser.get(&declined);
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHORIZED"),
        "{body:#}"
    );

    // The server still signs people in.
    let (status, body) = Browser::new().sign_in(&server, "erin@example.com");
    assert_login_body(status, &body);
}

#[test]
fn an_unverified_email_is_refused() {
    let (_provider, server) = provider_and_server(None);
    let (status, body) = Browser::new().sign_in(&server, "unverified@example.com");
    assert_unauthorized_mentioning(status, &body, "verified");
}

/// A 401 `UNAUTHORIZED` whose message names `why`.
fn assert_unauthorized_mentioning(status: u16, body: &Value, why: &str) {
    assert_eq!(
        (status, error_code(body)),
        (401, "UNAUTHORIZED"),
        "{body:#}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(why)),
        "{body:#}"
    );
}

#[test]
fn an_id_token_for_another_audience_is_refused() {
    let (_provider, server) = provider_and_server(Some("another-app"));
    let (status, body) = Browser::new().sign_in(&server, "frank@example.com");
    assert_unauthorized_mentioning(status, &body, "ID token");
}

#[test]
fn unconfigured_platforms_are_not_found() {
    let server = Server::start(App::Todo);
    for path in [
        "/sso/google/login",
        "/sso/google/register",
        "/sso/google/login/callback?state=a&code=b",
    ] {
        server.get(path).err(404, "NOT_FOUND");
    }
    let doc = server.get("/openapi.json");
    assert!(doc.body()["paths"].get("/sso/{platform}/login").is_none());

    let (_provider, server) = provider_and_server(None);
    server.get("/sso/github/login").err(404, "NOT_FOUND");
    let doc = server.get("/openapi.json");
    let login = &doc.body()["paths"]["/sso/{platform}/login"]["get"];
    assert_eq!(login["parameters"][0]["schema"]["enum"], json!(["google"]));
    assert!(
        doc.body()["paths"]["/sso/{platform}/login/callback"]["get"]["responses"]["200"]
            .is_object()
    );
}

#[test]
fn schemathesis_finds_no_server_error_in_the_sso_routes() {
    let test = "sso::schemathesis_finds_no_server_error_in_the_sso_routes";
    let Some(st) = program("st", test, "pip install schemathesis") else {
        return;
    };
    let (_provider, server) = provider_and_server(None);
    let args = [
        "--include-tag",
        "SSO",
        "--max-examples",
        "30",
        "--seed",
        "1",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
    ]
    .map(str::to_owned);
    schemathesis(&st, &server, &args, "schemathesis-sso.xml");
    // Still signing people in after the fuzzing.
    let (status, body) = Browser::new().sign_in(&server, "gina@example.com");
    assert_login_body(status, &body);
}
