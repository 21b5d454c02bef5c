//! The servers the tests talk to — Redis, an S3 emulator (moto), a MongoDB
//! wire-protocol server (SecantusDB), an OpenID provider (npm `oidc-provider`) and an
//! OCI image registry (Debian `docker-registry`) —
//! started by the tests themselves, each on a free loopback port, and stopped again, so
//! `cargo test` needs no server running beforehand.
//!
//! - [`Service::start`] starts a private server, stopped when the handle drops (also
//!   while a panicking test unwinds). Use it for a test that stops or restarts a server
//!   ([`Service::stop`], [`Service::restart`]), or one configured by its environment
//!   ([`Service::start_with_env`]: the OpenID provider's client).
//! - [`shared`] (and [`redis_url`], [`mongodb_uri`], [`s3_endpoint`]) starts one server
//!   per kind and test process on first use, stopped when the process exits. Tests keep
//!   apart on it by their own names (databases, key prefixes, buckets).
//!
//! **Orphan guard.** Every server is started from one long-lived thread with
//! `PR_SET_PDEATHSIG = SIGKILL` and in a process group of its own: the kernel kills it
//! when the test process dies in any way (even `SIGKILL`), a drop or exit kills its whole
//! group, and no server outlives the tests.
//!
//! A program that is not installed fails the test with one message naming the package
//! and the command that installs it (`.ci/install-test-services` installs them all).

use std::fs::File;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a server may take to accept connections (the Python ones start in 1-2 s on
/// an idle machine; a loaded CI machine is much slower).
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// Attempts on fresh ports when a server exits at start (another process took its port).
const START_ATTEMPTS: usize = 3;

/// A kind of server the tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `redis-server` (Debian package `redis-server`).
    Redis,
    /// moto's S3 emulator, `moto_server` (PyPI `moto[server]`).
    S3,
    /// SecantusDB, a MongoDB wire-protocol server on WiredTiger with multi-document
    /// transactions, advertised as the single-node replica set `secantus` (PyPI
    /// `secantusdb`, command `secantusd-py`).
    MongoDb,
    /// A certified OpenID provider, the npm package `oidc-provider` run by
    /// `tests/oidc/provider.mjs` (Node.js; `npm ci --prefix tests/oidc`), with one client
    /// from the environment: `CLIENT_ID`, `CLIENT_SECRET`, `REDIRECT_URI` (see the script).
    Oidc,
    /// An OCI distribution registry (Debian package `docker-registry`) with its own
    /// config: plain HTTP, no auth, blobs in the service's temp dir.
    Registry,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Redis,
        Kind::S3,
        Kind::MongoDb,
        Kind::Oidc,
        Kind::Registry,
    ];

    /// The program, what the tests use it for, and how to install it.
    fn program(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Redis => (
                "redis-server",
                "the Redis tests (cache tier, kvstore, WebSocket relay)",
                "apt-get install redis-server",
            ),
            Kind::S3 => (
                "moto_server",
                "the S3 storage tests",
                "pip install 'moto[server]'",
            ),
            Kind::MongoDb => (
                "secantusd-py",
                "the MongoDB tests (graph, users, API keys, kvstore documents)",
                "pip install secantusdb",
            ),
            Kind::Oidc => (
                "node",
                "the single sign-on tests (an OpenID provider)",
                "apt-get install nodejs npm && npm ci --prefix tests/oidc",
            ),
            Kind::Registry => (
                "docker-registry",
                "the image tests (push, pull)",
                "apt-get install docker-registry",
            ),
        }
    }

    /// `tests/oidc`, the OpenID provider's script and its npm packages.
    fn oidc_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc")
    }

    fn args(self, port: u16, dir: &Path) -> Vec<String> {
        let port = port.to_string();
        let dir = dir.display().to_string();
        let args: Vec<&str> = match self {
            Kind::Redis => vec![
                "--bind",
                "127.0.0.1",
                "--port",
                &port,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                &dir,
            ],
            Kind::S3 => vec!["-H", "127.0.0.1", "-p", &port],
            Kind::MongoDb => vec![
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--storage-path",
                &dir,
                "--log-level",
                "WARNING",
            ],
            Kind::Oidc => {
                let script = Kind::oidc_dir().join("provider.mjs");
                return vec![script.display().to_string(), port];
            }
            Kind::Registry => {
                let config = Path::new(&dir).join("registry.yml");
                std::fs::write(
                    &config,
                    format!(
                        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    \
                         rootdirectory: {dir}/blobs\nhttp:\n  addr: 127.0.0.1:{port}\n"
                    ),
                )
                .expect("write the registry's config");
                return vec!["serve".into(), config.display().to_string()];
            }
        };
        args.into_iter().map(str::to_owned).collect()
    }

    fn url(self, port: u16) -> String {
        match self {
            Kind::Redis => format!("redis://127.0.0.1:{port}"),
            Kind::S3 | Kind::Oidc => format!("http://127.0.0.1:{port}"),
            Kind::Registry => format!("127.0.0.1:{port}"),
            // The server advertises a replica set, so drivers run transactions on it as
            // on a real one.
            Kind::MongoDb => format!("mongodb://127.0.0.1:{port}/?replicaSet=secantus"),
        }
    }

    fn index(self) -> usize {
        Kind::ALL
            .iter()
            .position(|&kind| kind == self)
            .expect("listed")
    }
}

/// A server started for the tests; stopped (its process group killed, its data
/// removed) on drop.
pub struct Service {
    kind: Kind,
    port: u16,
    url: String,
    env: Vec<(String, String)>,
    child: Mutex<Option<Child>>,
    dir: TempDir,
}

impl Service {
    /// Starts a server of `kind` on a free loopback port and waits until it accepts
    /// connections. Panics, naming the package to install, when the program is missing.
    pub fn start(kind: Kind) -> Service {
        Service::start_with_env(kind, &[])
    }

    /// [`Service::start`] with these environment variables set for the server.
    pub fn start_with_env(kind: Kind, env: &[(&str, &str)]) -> Service {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix(&format!("test-{kind:?}-").to_lowercase())
                .tempdir()
                .expect("a temporary directory");
            let port = free_port();
            let child = spawn(kind, port, dir.path(), &env);
            let service = Service {
                kind,
                port,
                url: kind.url(port),
                env: env.clone(),
                child: Mutex::new(Some(child)),
                dir,
            };
            match service.wait_until_ready() {
                Ok(()) => return service,
                Err(log) => last_log = log,
            }
        }
        panic!(
            "{} did not start ({START_ATTEMPTS} attempts); its output:\n{last_log}",
            kind.program().0
        );
    }

    /// The kind of server.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Its loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How clients reach it: `redis://...`, `http://...` (S3 endpoint) or
    /// `mongodb://.../?replicaSet=...`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Kills the server (its whole process group) and waits for it. Idempotent.
    pub fn stop(&self) {
        let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        if let Ok(group) = i32::try_from(child.id()) {
            // SAFETY: a plain system call on a process group this crate created.
            unsafe { libc::killpg(group, libc::SIGKILL) };
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the server again on the same port and data folder after [`Service::stop`]
    /// (a no-op while it runs) and waits until it accepts connections.
    pub fn restart(&self) {
        {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            if child.is_some() {
                return;
            }
            *child = Some(spawn(self.kind, self.port, self.dir.path(), &self.env));
        }
        if let Err(log) = self.wait_until_ready() {
            panic!(
                "{} did not start again on port {}; its output:\n{log}",
                self.kind.program().0,
                self.port
            );
        }
    }

    /// Polls the port until it accepts a connection; `Err(output)` when the server exited
    /// or did not come up in time.
    fn wait_until_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            let exited = match self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
            {
                Some(child) => child.try_wait().ok().flatten().is_some(),
                None => true,
            };
            if exited || Instant::now() >= deadline {
                self.stop();
                return Err(std::fs::read_to_string(self.log_path()).unwrap_or_default());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_path(&self) -> PathBuf {
        log_path(self.dir.path())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One shared server per kind, started on first use.
static SHARED: [OnceLock<Service>; Kind::ALL.len()] = [const { OnceLock::new() }; Kind::ALL.len()];

/// The server of `kind` shared by the whole test process, started on first use and
/// stopped at exit.
pub fn shared(kind: Kind) -> &'static Service {
    SHARED[kind.index()].get_or_init(|| {
        static AT_EXIT: OnceLock<()> = OnceLock::new();
        AT_EXIT.get_or_init(|| {
            // SAFETY: registers a plain `extern "C"` function.
            unsafe { libc::atexit(stop_shared_at_exit) };
        });
        Service::start(kind)
    })
}

/// Stops the shared servers that were started, when the test process exits normally.
extern "C" fn stop_shared_at_exit() {
    for service in SHARED.iter().filter_map(OnceLock::get) {
        service.stop();
        let _ = std::fs::remove_dir_all(service.dir.path());
    }
}

/// `redis://127.0.0.1:<port>` of the shared Redis.
pub fn redis_url() -> String {
    shared(Kind::Redis).url().to_owned()
}

/// The shared S3 emulator's endpoint, `http://127.0.0.1:<port>` (any access key works).
pub fn s3_endpoint() -> String {
    shared(Kind::S3).url().to_owned()
}

/// A URI of the shared MongoDB server naming `database` (the default database of a
/// client made from it): `mongodb://127.0.0.1:<port>/<database>?replicaSet=secantus`.
pub fn mongodb_uri(database: &str) -> String {
    with_database(shared(Kind::MongoDb).url(), database)
}

/// `uri` (as [`Service::url`] gives it for MongoDB) with `database` as its path.
pub fn with_database(uri: &str, database: &str) -> String {
    uri.replacen("/?", &format!("/{database}?"), 1)
}

/// A port no one listens on now (the OS picks it; the server binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("server.log")
}

/// Spawns the server from the spawner thread (see the crate doc), output to its log.
fn spawn(kind: Kind, port: u16, dir: &Path, env: &[(String, String)]) -> Child {
    let (program, used_for, install) = kind.program();
    if kind == Kind::Oidc && !Kind::oidc_dir().join("node_modules/oidc-provider").is_dir() {
        panic!(
            "the npm package oidc-provider is not installed; {used_for} start it. Install \
             it with `{install}` (or run `.ci/install-test-services`)."
        );
    }
    let log = File::create(log_path(dir)).expect("the server's log file");
    let mut command = Command::new(program);
    command
        .args(kind.args(port, dir))
        .envs(env.iter().map(|(name, value)| (name, value)))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file handle"))
        .stderr(log);
    match spawner_thread_runs(command) {
        Ok(child) => child,
        Err(error) if error.kind() == io::ErrorKind::NotFound => panic!(
            "`{program}` is not installed; {used_for} start it. Install it with \
             `{install}` (or run `.ci/install-test-services`, which installs every \
             server the tests use)."
        ),
        Err(error) => panic!("cannot start `{program}`: {error}"),
    }
}

type SpawnRequest = (Command, Sender<io::Result<Child>>);

/// Spawns `command` on the one thread that lives as long as the process: the kernel's
/// parent-death signal fires when the spawning *thread* ends, so it must not be a test's.
fn spawner_thread_runs(mut command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<Sender<SpawnRequest>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<SpawnRequest>();
        thread::Builder::new()
            .name("test-services-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("the spawner thread starts");
        Mutex::new(requests)
    });
    // SAFETY: `getpid` has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // system calls.
    unsafe {
        command.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the signal was armed.
            if libc::getppid() != parent {
                return Err(io::Error::other("the test process exited"));
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, reply))
        .map_err(|_| io::Error::other("the spawner thread stopped"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("the spawner thread stopped"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(port: u16) -> bool {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    }

    #[test]
    fn a_private_server_listens_until_it_is_dropped() {
        let redis = Service::start(Kind::Redis);
        let port = redis.port();
        assert!(accepts(port));
        assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
        drop(redis);
        assert!(!accepts(port), "the server still listens after drop");
    }

    #[test]
    fn a_server_dies_with_a_panicking_test() {
        let port = std::panic::catch_unwind(|| {
            let redis = Service::start(Kind::Redis);
            std::panic::panic_any(redis.port());
        })
        .unwrap_err()
        .downcast::<u16>()
        .expect("the port");
        assert!(!accepts(*port), "the server outlived the panic");
    }

    #[test]
    fn a_stopped_server_restarts_on_its_port() {
        let redis = Service::start(Kind::Redis);
        redis.stop();
        assert!(!accepts(redis.port()));
        redis.restart();
        assert!(accepts(redis.port()), "not listening again");
    }

    #[test]
    fn the_shared_server_is_started_once() {
        assert_eq!(shared(Kind::Redis).port(), shared(Kind::Redis).port());
        assert!(accepts(shared(Kind::Redis).port()));
    }

    #[test]
    fn a_database_goes_into_the_uri_path() {
        assert_eq!(
            with_database("mongodb://127.0.0.1:1/?replicaSet=secantus", "t1"),
            "mongodb://127.0.0.1:1/t1?replicaSet=secantus"
        );
    }
}
