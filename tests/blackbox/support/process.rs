//! Running the `jac-scale` binary: a scrubbed environment, output collectors, signals.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The line prefix the server prints on stdout once it accepts connections.
const LISTENING_PREFIX: &str = "jac-scale listening on http://127.0.0.1:";
/// The log line a server writes right after its listening line.
const STARTED_LOG: &str = "accepting connections";

/// The log line of an app that switched from baseline to optimised code.
pub const OPTIMISED: &str = "running optimised code";

/// How long a server may take to print its listening line (first start compiles the wasm).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variables that change the server's behaviour and must not leak in from
/// the developer's shell.
fn is_server_setting(name: &str) -> bool {
    const PREFIXES: [&str; 6] = ["JAC_", "JWT_", "SSO_", "K8S_", "K8s_", "DOCKER_"];
    const NAMES: [&str; 4] = ["MONGODB_URI", "REDIS_URL", "APP_NAME", "KUBECONFIG"];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix)) || NAMES.contains(&name)
}

/// A `jac-scale` command with a scrubbed environment and `JAC_DATA_PATH` set.
pub fn jac_scale(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jac-scale"));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_server_setting) {
            command.env_remove(&name);
        }
    }
    command
        .env("JAC_DATA_PATH", data_dir)
        .current_dir(data_dir)
        .stdin(Stdio::null());
    command
}

/// A shared, growing copy of one output stream of a child process.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<String>>);

impl Captured {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        self.0.lock().map(|text| text.clone()).unwrap_or_default()
    }

    fn push_line(&self, line: &str) {
        if let Ok(mut text) = self.0.lock() {
            text.push_str(line);
            text.push('\n');
        }
    }
}

/// A spawned `jac-scale start` whose output is being collected.
pub struct Process {
    /// The child process.
    pub child: Child,
    /// Its stdout, line by line.
    pub stdout: Captured,
    /// Its stderr (the log).
    pub stderr: Captured,
    /// Receives the port from the stdout collector (a `Mutex` so a `Server` is `Sync`).
    listening: Mutex<Receiver<u16>>,
    collectors: Vec<JoinHandle<()>>,
}

impl Process {
    /// Spawns `command` with piped output and starts collecting both streams.
    pub fn spawn(mut command: Command) -> Process {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("could not spawn {command:?}: {error}"));
        let stdout = Captured::default();
        let stderr = Captured::default();
        let (port_tx, listening) = mpsc::channel();
        let child_stdout = child.stdout.take().expect("stdout is piped");
        let stdout_copy = stdout.clone();
        let stdout_collector = thread::spawn(move || {
            for line in BufReader::new(child_stdout).lines() {
                let Ok(line) = line else { break };
                stdout_copy.push_line(&line);
                if let Some(port) = line
                    .strip_prefix(LISTENING_PREFIX)
                    .and_then(|port| port.trim().parse::<u16>().ok())
                {
                    // The receiver may be gone already; the line is still captured.
                    let _ = port_tx.send(port);
                }
            }
        });
        let child_stderr = child.stderr.take().expect("stderr is piped");
        let stderr_copy = stderr.clone();
        let stderr_collector = thread::spawn(move || {
            let mut reader = BufReader::new(child_stderr);
            let mut line = Vec::new();
            while reader
                .by_ref()
                .read_until(b'\n', &mut line)
                .is_ok_and(|n| n > 0)
            {
                stderr_copy.push_line(String::from_utf8_lossy(&line).trim_end());
                line.clear();
            }
        });
        Process {
            child,
            stdout,
            stderr,
            listening: Mutex::new(listening),
            collectors: vec![stdout_collector, stderr_collector],
        }
    }

    /// Waits for the listening line and returns the port; panics with all output if the
    /// process exits first or takes longer than [`START_TIMEOUT`].
    pub fn wait_listening(&mut self) -> u16 {
        self.try_wait_listening()
            .unwrap_or_else(|failure| panic!("{failure}\n{}", self.output()))
    }

    /// Waits for the listening line and returns the port, or why there is none (the
    /// process is killed if it hangs).
    pub fn try_wait_listening(&mut self) -> Result<u16, String> {
        let received = match self.listening.get_mut() {
            Ok(listening) => listening.recv_timeout(START_TIMEOUT),
            Err(_) => Err(mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            // Stdout and stderr are read by different threads: wait for the log line that
            // follows the listening line, so every start-up log line is captured too.
            Ok(port) if self.wait_for_log(STARTED_LOG, START_TIMEOUT) => Ok(port),
            Ok(_) => Err(format!("jac-scale logged no {STARTED_LOG:?} line")),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.wait_exit(Duration::from_secs(5));
                Err(format!("jac-scale exited before listening ({status:?})"))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.kill();
                Err(format!(
                    "jac-scale printed no listening line within {START_TIMEOUT:?}"
                ))
            }
        }
    }

    /// Sends SIGTERM (unless the process has exited already).
    pub fn terminate(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            sigterm(self.child.id());
        }
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Kills the process (if still running) and reaps it.
    pub fn kill(&mut self) {
        // Already exited is fine: there is nothing left to kill.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits up to `timeout` for a log line (stderr) containing `needle`; whether one came.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.stderr.text().contains(needle) {
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// If the app started on baseline code, waits (up to `timeout`) until it runs its
    /// optimised code, which is then in the data dir's compile cache (`runtime::tiering`);
    /// returns whether the app runs optimised code now.
    pub fn wait_optimised(&self, timeout: Duration) -> bool {
        !self.stderr.text().contains("tier=Baseline") || self.wait_for_log(OPTIMISED, timeout)
    }

    /// Waits until both output streams are closed and fully captured (call after exit).
    pub fn finish_output(&mut self) {
        for collector in self.collectors.drain(..) {
            // A collector only ends when its pipe closes; a panic there lost nothing we need.
            let _ = collector.join();
        }
    }

    /// Stdout and stderr, for failure messages.
    pub fn output(&self) -> String {
        format!(
            "--- jac-scale stdout\n{}--- jac-scale stderr\n{}",
            self.stdout.text(),
            self.stderr.text()
        )
    }
}

/// Sends SIGTERM to `pid`.
pub fn sigterm(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("the `kill` command runs");
    assert!(status.success(), "kill -TERM {pid} failed");
}

/// Runs a command that is expected to exit by itself, within `timeout`; panics with its
/// output if it does not.
pub fn run_to_exit(command: Command, timeout: Duration) -> (ExitStatus, Process) {
    let mut process = Process::spawn(command);
    match process.wait_exit(timeout) {
        Some(status) => {
            process.finish_output();
            (status, process)
        }
        None => {
            process.kill();
            panic!(
                "jac-scale did not exit within {timeout:?}\n{}",
                process.output()
            );
        }
    }
}
