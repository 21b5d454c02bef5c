//! WebSocket load client for the realtime targets of issue 5 (see `bench/realtime/run.sh`).
//!
//! ```text
//! ws-bench echo-seq  ws://127.0.0.1:PORT/ws/EchoMessage CLIENTS MESSAGES
//! ws-bench echo-burst ws://127.0.0.1:PORT/ws/EchoMessage CLIENTS ROUNDS
//! ws-bench broadcast ws://127.0.0.1:PORT/ws/ChatRoom    CLIENTS ROUNDS
//! ```
//!
//! - `echo-seq`: CLIENTS connections stay open; MESSAGES messages are sent one at a time,
//!   round-robin over the connections, each waiting for its reply (one in flight).
//! - `echo-burst`: each round, every connection sends one message at the same instant and
//!   waits for its reply; rounds are 20 ms apart.
//! - `broadcast`: CLIENTS connections to a broadcast walker; each round the first one
//!   sends a message and the time until the last connection received it is recorded.
//!
//! Prints one JSON line with the latency percentiles (milliseconds) and the error count.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitStream, StreamExt};
use futures_util::{SinkExt, stream};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{Barrier, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connections opened at once while connecting the clients.
const CONNECT_PARALLELISM: usize = 32;
/// Pause between rounds, so each round starts from an idle server.
const ROUND_GAP: Duration = Duration::from_millis(20);
/// Longest wait for any reply or broadcast before the run gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read buffer per connection. tungstenite zero-fills it before every read, so its
/// 128 KiB default would make the client, on the same cores, cost more than the server.
const READ_BUFFER_BYTES: usize = 4 * 1024;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, url, clients, count] = args.as_slice() else {
        eprintln!("usage: ws-bench echo-seq|echo-burst|broadcast WS_URL CLIENTS COUNT");
        return ExitCode::FAILURE;
    };
    let (Ok(clients), Ok(count)) = (clients.parse::<usize>(), count.parse::<usize>()) else {
        eprintln!("CLIENTS and COUNT are numbers");
        return ExitCode::FAILURE;
    };
    let outcome = match mode.as_str() {
        "echo-seq" => echo_sequential(url, clients, count).await,
        "echo-burst" => echo_burst(url, clients, count).await,
        "broadcast" => broadcast(url, clients, count).await,
        other => Err(format!("unknown mode {other:?}")),
    };
    match outcome {
        Ok(run) => {
            println!("{}", run.report(mode, clients));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ws-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a run measured.
struct Run {
    samples: Vec<Duration>,
    /// Replies that were error frames.
    errors: usize,
}

impl Run {
    fn report(mut self, mode: &str, clients: usize) -> serde_json::Value {
        self.samples.sort_unstable();
        let ms = |q: f64| {
            let n = self.samples.len();
            if n == 0 {
                return f64::NAN;
            }
            let index = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            self.samples[index].as_secs_f64() * 1e3
        };
        json!({
            "mode": mode,
            "clients": clients,
            "samples": self.samples.len(),
            "errors": self.errors,
            "p50_ms": ms(0.50),
            "p90_ms": ms(0.90),
            "p99_ms": ms(0.99),
            "max_ms": ms(1.0),
        })
    }
}

async fn connect(url: &str) -> Result<Socket, String> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    Ok(socket)
}

async fn connect_all(url: &str, clients: usize) -> Result<Vec<Socket>, String> {
    stream::iter((0..clients).map(|_| connect(url)))
        .buffer_unordered(CONNECT_PARALLELISM)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// The next text frame (control frames are skipped; tungstenite answers pings).
async fn next_text(
    stream: &mut (impl StreamExt<Item = WsResult> + Unpin),
) -> Result<String, String> {
    loop {
        let frame = tokio::time::timeout(REPLY_TIMEOUT, stream.next())
            .await
            .map_err(|_| "no frame within the timeout".to_owned())?
            .ok_or("the server closed the connection")?
            .map_err(|e| e.to_string())?;
        match frame {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(_) => return Err("the server closed the connection".into()),
            _ => {}
        }
    }
}

type WsResult = Result<Message, tokio_tungstenite::tungstenite::Error>;

fn echo_message(client: usize, n: usize) -> Message {
    Message::text(json!({"message": format!("m{n}"), "client_id": client.to_string()}).to_string())
}

fn is_ok_frame(text: &str) -> bool {
    text.starts_with(r#"{"ok":true"#)
}

async fn echo_sequential(url: &str, clients: usize, messages: usize) -> Result<Run, String> {
    let mut sockets = connect_all(url, clients).await?;
    let mut run = Run {
        samples: Vec::with_capacity(messages),
        errors: 0,
    };
    for n in 0..messages {
        let client = n % clients;
        let socket = &mut sockets[client];
        let start = Instant::now();
        socket
            .send(echo_message(client, n))
            .await
            .map_err(|e| e.to_string())?;
        let reply = next_text(socket).await?;
        run.samples.push(start.elapsed());
        run.errors += usize::from(!is_ok_frame(&reply));
    }
    Ok(run)
}

async fn echo_burst(url: &str, clients: usize, rounds: usize) -> Result<Run, String> {
    let sockets = connect_all(url, clients).await?;
    // Every client and this task meet at the start and at the end of each round.
    let barrier = Arc::new(Barrier::new(clients + 1));
    let (results, mut collected) = mpsc::unbounded_channel::<Result<(Duration, bool), String>>();
    for (client, mut socket) in sockets.into_iter().enumerate() {
        let barrier = barrier.clone();
        let results = results.clone();
        tokio::spawn(async move {
            for round in 0..rounds {
                barrier.wait().await;
                let start = Instant::now();
                let sent = socket
                    .send(echo_message(client, round))
                    .await
                    .map_err(|e| e.to_string());
                let reply = match sent {
                    Ok(()) => next_text(&mut socket).await,
                    Err(e) => Err(e),
                };
                let _ = results.send(reply.map(|text| (start.elapsed(), is_ok_frame(&text))));
                barrier.wait().await;
            }
        });
    }
    drop(results);
    for _ in 0..rounds {
        tokio::time::sleep(ROUND_GAP).await;
        barrier.wait().await;
        barrier.wait().await;
    }
    let mut run = Run {
        samples: Vec::with_capacity(clients * rounds),
        errors: 0,
    };
    while let Some(result) = collected.recv().await {
        let (elapsed, ok) = result?;
        run.samples.push(elapsed);
        run.errors += usize::from(!ok);
    }
    Ok(run)
}

/// The round number carried by a broadcast frame (`"content":"b<round>"`).
fn broadcast_round(text: &str) -> Option<usize> {
    const MARK: &str = r#""content":"b"#;
    let start = text.find(MARK)? + MARK.len();
    let digits = &text[start..];
    let end = digits.find('"')?;
    digits[..end].parse().ok()
}

async fn receive_broadcasts(
    mut stream: SplitStream<Socket>,
    arrivals: mpsc::UnboundedSender<Result<(usize, Instant), String>>,
    rounds: usize,
) {
    let mut seen = 0;
    while seen < rounds {
        let arrival = next_text(&mut stream).await.and_then(|text| {
            broadcast_round(&text)
                .map(|round| (round, Instant::now()))
                .ok_or_else(|| format!("unexpected frame {text}"))
        });
        let failed = arrival.is_err();
        if arrivals.send(arrival).is_err() || failed {
            return;
        }
        seen += 1;
    }
}

async fn broadcast(url: &str, clients: usize, rounds: usize) -> Result<Run, String> {
    let sockets = connect_all(url, clients).await?;
    let (arrivals, mut arrived) = mpsc::unbounded_channel();
    let mut sender = None;
    for socket in sockets {
        let (sink, stream) = socket.split();
        sender.get_or_insert(sink);
        tokio::spawn(receive_broadcasts(stream, arrivals.clone(), rounds));
    }
    drop(arrivals);
    let mut sender = sender.ok_or("no clients")?;
    let mut run = Run {
        samples: Vec::with_capacity(rounds),
        errors: 0,
    };
    for round in 0..rounds {
        tokio::time::sleep(ROUND_GAP).await;
        let message = json!({"message": format!("b{round}"), "sender": "bench"}).to_string();
        let start = Instant::now();
        sender
            .send(Message::text(message))
            .await
            .map_err(|e| e.to_string())?;
        let mut last = start;
        for _ in 0..clients {
            let (got, at) = arrived.recv().await.ok_or("a client stopped receiving")??;
            if got != round {
                run.errors += 1;
            }
            last = last.max(at);
        }
        run.samples.push(last - start);
    }
    Ok(run)
}
