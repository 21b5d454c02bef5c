//! A server-sent events client: reads a `text/event-stream` body as it arrives and
//! splits it into events as a browser's `EventSource` does (`event:` and `data:` fields,
//! a blank line ends an event, `:` lines are comments).

use std::io::{BufRead, BufReader};

use reqwest::blocking::{RequestBuilder, Response};

/// One event: its type (`message` when the server named none) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event: String,
    pub data: String,
}

/// An open event stream; dropping it closes the connection.
pub struct EventStream {
    /// The response status and headers.
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    body: BufReader<Response>,
}

impl EventStream {
    /// Sends `request` and opens its body as a stream (the body is not read yet).
    pub fn open(request: RequestBuilder) -> EventStream {
        let response = request.send().expect("the stream request gets an answer");
        EventStream {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: BufReader::new(response),
        }
    }

    /// The `content-type` header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The next event, waiting for it; `None` when the server closed the stream.
    pub fn next_event(&mut self) -> Option<Event> {
        let mut event = String::new();
        let mut data: Vec<String> = Vec::new();
        loop {
            let mut line = String::new();
            let read = self.body.read_line(&mut line).expect("the stream reads");
            if read == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if data.is_empty() && event.is_empty() {
                    continue;
                }
                return Some(Event {
                    event: if event.is_empty() {
                        "message".into()
                    } else {
                        event
                    },
                    data: data.join("\n"),
                });
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => event = value.to_string(),
                "data" => data.push(value.to_string()),
                _ => {}
            }
        }
    }

    /// Every remaining event until the server closes the stream.
    pub fn all_events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.next_event()).collect()
    }
}
