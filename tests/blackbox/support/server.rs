//! A running `jac-scale start` on a free loopback port, with its own data dir.

use super::guests::App;
use super::process::{Captured, Process, START_TIMEOUT, jac_scale};
use super::reply::{Reply, is_hex_id};
use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tempfile::TempDir;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// How long a graceful stop may take before the server is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct User {
    /// The identity it registered with.
    pub email: String,
    /// Bearer token from the login.
    pub token: String,
    /// The user's root node id (32 hex).
    pub root_id: String,
    /// The user id from the login body.
    pub user_id: String,
}

/// Configures and starts a [`Server`].
pub struct ServerBuilder {
    app: App,
    wasm: Option<PathBuf>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl ServerBuilder {
    /// Sets an environment variable for the server.
    pub fn env(mut self, name: &str, value: impl ToString) -> Self {
        self.env.push((name.to_owned(), value.to_string()));
        self
    }

    /// Serves this file instead of the app's built component (the data dir is still
    /// warmed for the app).
    pub fn wasm_path(mut self, wasm: PathBuf) -> Self {
        self.wasm = Some(wasm);
        self
    }

    /// Adds a command-line argument after `start <app.wasm> --host` (and `--port 0`,
    /// unless the arguments name a `--port`).
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Starts the server and waits until it listens.
    pub fn start(mut self) -> Server {
        let has_store = self.env.iter().any(|(name, _)| name == "MONGODB_URI");
        if ON_MONGODB.get() && !has_store {
            self = self.env("MONGODB_URI", fresh_mongodb_database());
        }
        let data_dir = warm_data_dir(self.app);
        let wasm = self.wasm.unwrap_or_else(|| self.app.wasm());
        let mut process = spawn_server(&wasm, data_dir.path(), &self.args, &self.env);
        let base_url = listening_url(&mut process);
        Server {
            wasm,
            args: self.args,
            env: self.env,
            data_dir,
            site: Site::new(base_url, &process),
            process,
        }
    }
}

thread_local! {
    /// Whether servers started on this thread use MONGODB_URI ([`on_mongodb`]).
    static ON_MONGODB: Cell<bool> = const { Cell::new(false) };
}

/// Runs `scenario` with MongoDB as the store of record of every server it starts: each
/// gets a fresh database on the MongoDB server of the tests (`test-services`), kept
/// across its restarts.
pub fn on_mongodb(scenario: impl FnOnce()) {
    ON_MONGODB.set(true);
    scenario();
    ON_MONGODB.set(false);
}

/// `MONGODB_URI` naming a database no other server of this run used.
fn fresh_mongodb_database() -> String {
    static SERVERS: AtomicUsize = AtomicUsize::new(0);
    let n = SERVERS.fetch_add(1, Ordering::Relaxed);
    test_services::mongodb_uri(&format!("blackbox_{n}"))
}

/// A `jac-scale start` child process; killed on drop (its log is printed if the test failed).
pub struct Server {
    wasm: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    data_dir: TempDir,
    process: Process,
    site: Site,
}

/// Where a test's requests go: a base URL (a server's, or one app's `/apps/<name>` of a
/// `serve`), with the server's output for failure messages. A [`Server`] is one.
pub struct Site {
    base_url: String,
    client: Client,
    stdout: Captured,
    stderr: Captured,
}

impl std::ops::Deref for Server {
    type Target = Site;

    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Server {
    /// A builder for a server of `app`.
    pub fn builder(app: App) -> ServerBuilder {
        ServerBuilder {
            app,
            wasm: None,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Starts a server of `app` with the default configuration.
    pub fn start(app: App) -> Server {
        Self::builder(app).start()
    }

    /// The data dir (`JAC_DATA_PATH`).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The process id of the server.
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// The value of environment variable `name` the server was started with, if set
    /// by the test.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(set, _)| set == name)
            .map(|(_, value)| value.as_str())
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        self.process.output()
    }

    /// The running process (to signal it or read its log).
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// Stops the server gracefully (SIGTERM, then a kill after a grace period).
    pub fn stop(&mut self) {
        self.process.terminate();
        if self.process.wait_exit(STOP_TIMEOUT).is_none() {
            self.process.kill();
        }
    }

    /// Stops the server and starts it again on the same data dir and environment.
    pub fn restart(&mut self) {
        self.stop();
        self.process = spawn_server(&self.wasm, self.data_dir.path(), &self.args, &self.env);
        self.site = Site::new(listening_url(&mut self.process), &self.process);
    }
}

impl Site {
    /// Requests to `base_url`, failures reported with `process`'s output.
    pub fn new(base_url: String, process: &Process) -> Site {
        Site {
            base_url,
            client: http_client(),
            stdout: process.stdout.clone(),
            stderr: process.stderr.clone(),
        }
    }

    /// `http://127.0.0.1:<port>` (and the app's prefix, for an app of `serve`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A request builder for `path` on this server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
    }

    /// Sends a request and collects the reply; panics (with the server log) on a
    /// transport error.
    pub fn send(&self, request: RequestBuilder) -> Reply {
        let built = request.build().expect("request builds");
        let label = format!("{} {}", built.method(), built.url().path());
        let response = self.client.execute(built).unwrap_or_else(|error| {
            panic!(
                "{label}: no response: {error:?}\n--- jac-scale stdout\n{}--- jac-scale stderr\n{}",
                self.stdout.text(),
                self.stderr.text()
            )
        });
        let status = response.status().as_u16();
        let trace_id = response
            .headers()
            .get("x-trace-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response
            .text()
            .unwrap_or_else(|error| panic!("{label}: unreadable body: {error}"));
        let json = serde_json::from_str(&text).ok();
        Reply {
            request: label,
            status,
            trace_id,
            text,
            json,
        }
    }

    /// `POST path` with a JSON body, anonymous.
    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.request(Method::POST, path).json(&body))
    }

    /// `POST path` with a JSON body and a bearer token.
    pub fn post_auth(&self, path: &str, body: Value, token: &str) -> Reply {
        self.send(
            self.request(Method::POST, path)
                .bearer_auth(token)
                .json(&body),
        )
    }

    /// `POST path` with raw bytes as an `application/json` body, optionally with a token.
    pub fn post_raw(&self, path: &str, body: impl Into<Vec<u8>>, token: Option<&str>) -> Reply {
        let mut request = self
            .request(Method::POST, path)
            .header("content-type", "application/json")
            .body(body.into());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request)
    }

    /// `GET path`, anonymous.
    pub fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path))
    }

    /// Registers `email` with [`PASSWORD`] and logs in.
    pub fn register_and_login(&self, email: &str) -> User {
        let credentials = json!({"email": email, "password": PASSWORD});
        let registered = self.post("/user/register", credentials.clone());
        assert_eq!(registered.status, 201, "register: {registered:?}");
        self.login(email)
    }

    /// Logs `email` in with [`PASSWORD`].
    pub fn login(&self, email: &str) -> User {
        let reply = self.post("/user/login", json!({"email": email, "password": PASSWORD}));
        assert_eq!(reply.status, 200, "login: {reply:?}");
        let body = reply.body();
        assert!(is_hex_id(&body["root_id"]), "login root_id: {reply:?}");
        let text = |key: &str| {
            body[key]
                .as_str()
                .unwrap_or_else(|| panic!("login body lacks {key}: {reply:?}"))
                .to_owned()
        };
        User {
            email: email.to_owned(),
            token: text("access_token"),
            root_id: text("root_id"),
            user_id: text("user_id"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.process.output());
        }
        self.process.kill();
    }
}

fn http_client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client builds")
}

/// Waits for the server's listening line and returns its base URL.
fn listening_url(process: &mut Process) -> String {
    format!("http://127.0.0.1:{}", process.wait_listening())
}

fn spawn_server(
    wasm: &Path,
    data_dir: &Path,
    args: &[String],
    env: &[(String, String)],
) -> Process {
    let mut command = jac_scale(data_dir);
    command.arg("start").arg(wasm).args(["--host", "127.0.0.1"]);
    if !args.iter().any(|arg| arg == "--port") {
        command.args(["--port", "0"]);
    }
    command
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)));
    Process::spawn(command)
}

/// A fresh data dir for `app`, seeded with the files a server leaves after its first
/// clean start and stop (compile cache, generated secret, empty database), so that
/// the many servers of this suite do not each compile the component again.
fn warm_data_dir(app: App) -> TempDir {
    let fresh = TempDir::with_prefix("jac-scale-test-").expect("temp dir");
    if let Some(template) = template_dir(app) {
        copy_dir(template, fresh.path());
    }
    fresh
}

/// The data dir of one started-and-stopped server per app (`None` if that failed: then
/// every test starts cold and reports the real failure itself).
pub fn template_dir(app: App) -> Option<&'static Path> {
    static TEMPLATES: [OnceLock<Option<TempDir>>; App::ALL.len()] =
        [const { OnceLock::new() }; App::ALL.len()];
    let slot = &TEMPLATES[app.index()];
    slot.get_or_init(|| {
        let dir = TempDir::with_prefix("jac-scale-template-").ok()?;
        let wasm = app.wasm();
        let mut process = spawn_server(&wasm, dir.path(), &[], &[]);
        let ready = process.try_wait_listening();
        // Keep the optimised code in the template, not only the baseline code it may
        // have started on.
        let optimised = ready.is_ok() && process.wait_optimised(START_TIMEOUT);
        process.terminate();
        let stopped = process.wait_exit(STOP_TIMEOUT).is_some_and(|s| s.success());
        process.kill();
        (optimised && stopped).then_some(dir)
    })
    .as_ref()
    .map(TempDir::path)
}

/// Copy a directory tree (a template data dir) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("template dir is readable") {
        let entry = entry.expect("template entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("create dir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy template file");
        }
    }
}
