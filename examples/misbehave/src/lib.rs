//! Walkers that misbehave on purpose, for the sandbox tests: each one loops, exhausts
//! memory, traps, floods the response or the host with calls, tries to escape the
//! sandbox (host files, environment, sockets) or to read ids it does not own, and
//! `Count` / `Fine` check afterwards that nothing leaked into the graph and that the
//! server still serves. [`host_abuse`] calls the host through the raw WIT bindings with
//! forged handles, exhausted tables and oversized arguments; [`fuzz`] turns random bytes
//! into host calls. All are public.
//!
//! Build and run:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p misbehave
//! jac-scale start target/wasm32-wasip2/release/misbehave.wasm
//! curl -s -X POST localhost:8000/walker/Spin     # 504 after the CPU budget
//! curl -s -X POST localhost:8000/walker/Fine     # still serving
//! ```

mod fuzz;
mod host_abuse;

use std::hint::black_box;

use jac_scale_guest::prelude::*;

use fuzz::{HostFuzz, Plant};
use host_abuse::HostAbuse;

/// A node that should never outlive a failed call.
#[node]
pub struct Leftover {
    /// Which walker made it.
    pub by: String,
}

/// Loops forever; the host's CPU budget must stop it.
#[walker(public)]
pub struct Spin {}

#[walker]
impl Spin {
    #[entry(Root)]
    fn spin(&mut self, _: &mut Walk) -> Result {
        spin_forever()
    }
}

/// Allocates 16 MiB chunks (and touches them) until memory runs out, up to 4 GiB; the
/// host's memory limit must trap it.
#[walker(public)]
pub struct Hog {}

#[walker]
impl Hog {
    #[entry(Root)]
    fn hog(&mut self, w: &mut Walk) -> Result {
        const CHUNK: usize = 16 << 20;
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        while chunks.len() < 256 {
            chunks.push(vec![1; CHUNK]);
            black_box(&chunks);
        }
        w.report(json!({"allocated_mib": chunks.len() * 16}))
    }
}

/// Traps at once (a panic aborts the instance).
#[walker(public)]
pub struct Crash {}

#[walker]
impl Crash {
    #[entry(Root)]
    fn crash(&mut self, _: &mut Walk) -> Result {
        panic!("Crash traps on purpose")
    }
}

/// Reports one 64 MiB string; the host's response bounds must refuse it.
#[walker(public)]
pub struct HugeReport {}

#[walker]
impl HugeReport {
    #[entry(Root)]
    fn flood(&mut self, w: &mut Walk) -> Result {
        w.report("x".repeat(64 << 20))
    }
}

/// Creates a node connected to root, then traps: the write must be dropped.
#[walker(public)]
pub struct WriteThenCrash {}

#[walker]
impl WriteThenCrash {
    #[entry(Root)]
    fn write_then_crash(&mut self, w: &mut Walk) -> Result {
        w.attach(&w.root(), Leftover::new("WriteThenCrash"))?;
        panic!("WriteThenCrash traps after writing")
    }
}

/// Creates a node connected to root, then loops forever: the write must be dropped.
#[walker(public)]
pub struct WriteThenSpin {}

#[walker]
impl WriteThenSpin {
    #[entry(Root)]
    fn write_then_spin(&mut self, w: &mut Walk) -> Result {
        w.attach(&w.root(), Leftover::new("WriteThenSpin"))?;
        spin_forever()
    }
}

/// Reports how many nodes are connected to root: `{"count": n}`.
#[walker(public)]
pub struct Count {}

#[walker]
impl Count {
    #[entry(Root)]
    fn count(&mut self, w: &mut Walk) -> Result {
        let count = w.neighbors(&w.root()).nodes()?.len();
        w.report(json!({"count": count}))
    }
}

/// Reports `{"ok": true}`: the server still serves.
#[walker(public)]
pub struct Fine {}

#[walker]
impl Fine {
    #[entry(Root)]
    fn fine(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"ok": true}))
    }
}

/// Calls into the host (a read of root's neighbours) `n` times, as fast as it can; the
/// default (a billion) lasts until the host's CPU budget stops it.
#[walker(public)]
pub struct Flood {
    #[jac(default = 1000000000)]
    n: u64,
}

#[walker]
impl Flood {
    #[entry(Root)]
    fn flood(&mut self, w: &mut Walk) -> Result {
        let root = w.root();
        for _ in 0..self.n {
            black_box(w.neighbors(&root).nodes()?);
        }
        w.report(json!({"calls": self.n}))
    }
}

/// Tries what a guest must not do: read or write host files, list the host's folders,
/// read the environment, open sockets. Reports what each gave:
/// `{"<attempt>": "refused: ..."}` or what it got.
#[walker(public)]
pub struct Escape {}

#[walker]
impl Escape {
    #[entry(Root)]
    fn escape(&mut self, w: &mut Walk) -> Result {
        let outcome = |result: std::io::Result<String>| match result {
            Ok(got) => json!(format!("got: {got}")),
            Err(e) => json!(format!("refused: {e}")),
        };
        let environment: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
        w.report(json!({
            "read_file": outcome(std::fs::read_to_string("/etc/passwd")),
            "read_relative_file": outcome(std::fs::read_to_string("jac.toml")),
            "list_root": outcome(std::fs::read_dir("/").map(|d| format!("{} entries", d.count()))),
            "write_file": outcome(std::fs::write("/tmp/escaped", b"x").map(|()| "written".into())),
            "environment": environment,
            "tcp_connect": outcome(
                std::net::TcpStream::connect("127.0.0.1:22").map(|_| "connected".into())
            ),
            "tcp_listen": outcome(
                std::net::TcpListener::bind("127.0.0.1:0").map(|_| "listening".into())
            ),
            "udp_bind": outcome(std::net::UdpSocket::bind("127.0.0.1:0").map(|_| "bound".into())),
        }))
    }
}

/// Looks up the node `id` (another app's, a forged or a malformed one): reports
/// `{"found": true}` or the host's refusal.
#[walker(public)]
pub struct Probe {
    id: String,
}

#[walker]
impl Probe {
    #[entry(Root)]
    fn probe(&mut self, w: &mut Walk) -> Result {
        match w.get(&Id::from(self.id.as_str())) {
            Ok(_) => w.report(json!({"found": true})),
            Err(e) => w.report(json!({"found": false, "error": e.to_string()})),
        }
    }
}

/// Burns CPU until the host interrupts the instance.
fn spin_forever() -> ! {
    let mut turns: u64 = 0;
    loop {
        turns = black_box(turns.wrapping_add(1));
    }
}

jac_scale_guest::app!(
    Spin,
    Hog,
    Crash,
    HugeReport,
    WriteThenCrash,
    WriteThenSpin,
    Count,
    Fine,
    Flood,
    Escape,
    Probe,
    HostAbuse,
    HostFuzz,
    Plant
);
