//! Webhooks, WebSockets and async walkers: the spec's `PaymentReceived`, `EchoMessage`
//! and `ChatRoom`, a protected WebSocket walker and a walker that sleeps.
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p realtime
//! jac-scale start target/wasm32-wasip2/release/realtime.wasm
//! ```
//!
//! - `POST /webhook/PaymentReceived` (API key + HMAC signature), not at `/walker/`.
//! - `ws://localhost:8000/ws/EchoMessage` (public), `/ws/ChatRoom` (public, broadcast),
//!   `/ws/WhoAmI` (a token is required).
//! - `POST /walker/SlowEcho` sleeps `ms` milliseconds (default 200) without holding a
//!   host thread.

use std::time::Duration;

use jac_scale_guest::prelude::*;

/// A payment notification from a payment processor (spec, "Webhooks").
#[walker(protocol = webhook)]
pub struct PaymentReceived {
    payment_id: String,
    amount: f64,
    #[jac(default = "USD")]
    currency: String,
}

#[walker]
impl PaymentReceived {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        w.report(payment_report(
            &self.payment_id,
            self.amount,
            &self.currency,
        ))
    }
}

/// The same payment walker over plain HTTP, public (`POST /walker/PaymentPreview`): the
/// baseline a signed webhook call is benchmarked against.
#[walker(public)]
pub struct PaymentPreview {
    payment_id: String,
    amount: f64,
    #[jac(default = "USD")]
    currency: String,
}

#[walker]
impl PaymentPreview {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        w.report(payment_report(
            &self.payment_id,
            self.amount,
            &self.currency,
        ))
    }
}

fn payment_report(payment_id: &str, amount: f64, currency: &str) -> Value {
    json!({
        "status": "success",
        "message": format!("Payment {payment_id} received"),
        "amount": amount,
        "currency": currency,
    })
}

/// Echoes each message back to its sender (spec, "Basic WebSocket Walker").
#[walker(public, protocol = websocket)]
pub struct EchoMessage {
    message: String,
    #[jac(default = "anonymous")]
    client_id: String,
}

#[walker]
impl EchoMessage {
    #[entry(Root)]
    fn echo(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"echo": self.message, "client_id": self.client_id}))
    }
}

/// Every message goes to every connected client (spec, "Broadcasting WebSocket Walker").
#[walker(public, protocol = websocket, broadcast)]
pub struct ChatRoom {
    message: String,
    #[jac(default = "anonymous")]
    sender: String,
}

#[walker]
impl ChatRoom {
    #[entry(Root)]
    fn handle(&mut self, w: &mut Walk) -> Result {
        w.report(json!({"type": "message", "sender": self.sender, "content": self.message}))
    }
}

/// A protected WebSocket walker: answers with the caller's root.
#[walker(protocol = websocket)]
pub struct WhoAmI {
    #[jac(default = "")]
    note: String,
}

#[walker]
impl WhoAmI {
    #[entry(Root)]
    fn answer(&mut self, w: &mut Walk) -> Result {
        let root = w.root();
        w.report(json!({"root": root.id().as_str(), "note": self.note}))
    }
}

/// An async walker: waits `ms` milliseconds (`await asyncio.sleep(ms / 1000)`), then
/// reports. The wait holds no host thread, so many of these run at once.
#[walker(public)]
pub struct SlowEcho {
    #[jac(default = 200)]
    ms: u32,
    #[jac(default = "")]
    message: String,
}

#[walker]
impl SlowEcho {
    #[entry(Root)]
    fn wait(&mut self, w: &mut Walk) -> Result {
        w.sleep(Duration::from_millis(u64::from(self.ms)));
        w.report(json!({"slept_ms": self.ms, "message": self.message}))
    }
}

jac_scale_guest::app!(
    PaymentReceived,
    PaymentPreview,
    EchoMessage,
    ChatRoom,
    WhoAmI,
    SlowEcho
);

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use jac_scale_guest::testing::MemoryGraph;

    use super::*;

    #[test]
    fn payment_reports_success() {
        let cx = Ctx::new(Rc::new(MemoryGraph::new()));
        let walker = PaymentReceived {
            payment_id: "PAY-1".into(),
            amount: 9.5,
            currency: "EUR".into(),
        };
        cx.spawn(walker, cx.root()).expect("runs");
        assert_eq!(
            cx.reports(),
            [
                json!({"status": "success", "message": "Payment PAY-1 received", "amount": 9.5, "currency": "EUR"})
            ]
        );
    }

    #[test]
    fn slow_echo_asks_the_host_to_sleep() {
        let graph = Rc::new(MemoryGraph::new());
        let cx = Ctx::new(graph.clone());
        let walker = SlowEcho {
            ms: 200,
            message: "hi".into(),
        };
        cx.spawn(walker, cx.root()).expect("runs");
        assert_eq!(graph.slept(), Duration::from_millis(200));
        assert_eq!(cx.reports(), [json!({"slept_ms": 200, "message": "hi"})]);
    }
}
