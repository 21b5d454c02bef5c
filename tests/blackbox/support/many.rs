//! A running `jac-scale serve` on free loopback ports (public and admin), with its own
//! data dir and apps dir, and the operator token it generated.

use std::path::{Path, PathBuf};

use reqwest::Method;
use reqwest::blocking::RequestBuilder;
use tempfile::TempDir;

use super::guests::App;
use super::process::{Process, jac_scale};
use super::server::{Site, copy_dir, template_dir};

/// The stdout line naming the admin API's address.
const ADMIN_PREFIX: &str = "jac-scale admin on ";

/// Configures and starts a [`Many`].
pub struct ManyBuilder {
    apps: Vec<(String, App)>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    apps_toml: Option<String>,
}

impl ManyBuilder {
    /// Serves `app`'s component as app `name` (`<apps>/<name>/app.wasm`).
    pub fn app(mut self, name: &str, app: App) -> Self {
        self.apps.push((name.to_owned(), app));
        self
    }

    /// Adds a command-line argument after `serve --apps --host --port --admin`.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Serves with `text` as its `apps.toml` (`--config`).
    pub fn apps_toml(mut self, text: &str) -> Self {
        self.apps_toml = Some(text.to_owned());
        self
    }

    /// Sets an environment variable for the server.
    pub fn env(mut self, name: &str, value: impl ToString) -> Self {
        self.env.push((name.to_owned(), value.to_string()));
        self
    }

    /// Starts the server and waits until it listens.
    pub fn start(self) -> Many {
        let data_dir = TempDir::with_prefix("jac-scale-serve-").expect("temp dir");
        let apps_dir = data_dir.path().join("apps-src");
        for (name, app) in &self.apps {
            let folder = apps_dir.join(name);
            std::fs::create_dir_all(&folder).expect("app folder");
            std::fs::copy(app.wasm(), folder.join("app.wasm")).expect("copy component");
            seed_compile_cache(data_dir.path(), name, *app);
        }
        let mut command = jac_scale(data_dir.path());
        command
            .arg("serve")
            .arg("--apps")
            .arg(&apps_dir)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--admin",
                "127.0.0.1:0",
            ])
            .args(&self.args)
            .envs(self.env.iter().map(|(name, value)| (name, value)));
        if let Some(text) = &self.apps_toml {
            let file = data_dir.path().join("apps.toml");
            std::fs::write(&file, text).expect("write apps.toml");
            command.arg("--config").arg(file);
        }
        let mut process = Process::spawn(command);
        let port = process.wait_listening();
        let admin_url = process
            .stdout
            .text()
            .lines()
            .find_map(|line| line.strip_prefix(ADMIN_PREFIX).map(str::to_owned))
            .unwrap_or_else(|| panic!("no admin line\n{}", process.output()));
        let token = std::fs::read_to_string(data_dir.path().join("admin-token"))
            .expect("the generated operator token")
            .trim()
            .to_owned();
        let base_url = format!("http://127.0.0.1:{port}");
        Many {
            root: Site::new(base_url.clone(), &process),
            admin: Site::new(admin_url, &process),
            base_url,
            token,
            apps_dir,
            process,
            data_dir,
        }
    }
}

/// A `jac-scale serve` child process; killed on drop (its log is printed if the test failed).
pub struct Many {
    /// The public listener, with no app prefix.
    pub root: Site,
    /// The admin listener.
    pub admin: Site,
    /// The operator token.
    pub token: String,
    /// `--apps DIR`.
    pub apps_dir: PathBuf,
    base_url: String,
    process: Process,
    data_dir: TempDir,
}

impl Many {
    /// A builder for a server with no apps yet.
    pub fn builder() -> ManyBuilder {
        ManyBuilder {
            apps: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            apps_toml: None,
        }
    }

    /// Requests to app `name`: `/apps/<name>` on the public listener.
    pub fn app(&self, name: &str) -> Site {
        Site::new(format!("{}/apps/{name}", self.base_url), &self.process)
    }

    /// The data dir (`JAC_DATA_PATH`).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// A request to the admin API carrying the operator token.
    pub fn admin_request(&self, method: Method, path: &str) -> RequestBuilder {
        self.admin.request(method, path).bearer_auth(&self.token)
    }

    /// The process (to read its log).
    pub fn process(&self) -> &Process {
        &self.process
    }
}

impl Drop for Many {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.process.output());
        }
        self.process.kill();
    }
}

/// Copies the compiled code of `app` from its template data dir into app `name`'s data
/// dir, so the server does not compile the component again.
fn seed_compile_cache(data_dir: &Path, name: &str, app: App) {
    if let Some(template) = template_dir(app).filter(|t| t.join("cache").is_dir()) {
        let cache = data_dir.join("apps").join(name).join("cache");
        std::fs::create_dir_all(&cache).expect("cache dir");
        copy_dir(&template.join("cache"), &cache);
    }
}
