//! One HTTP response, with assertions for the envelope of API.md.

use serde_json::Value;
use std::fmt;

/// A response as the tests see it: status, trace id, and the body as text and JSON.
pub struct Reply {
    /// `METHOD /path` of the request, for failure messages.
    pub request: String,
    /// HTTP status code.
    pub status: u16,
    /// The `X-Trace-Id` header, if any.
    pub trace_id: Option<String>,
    /// The raw body.
    pub text: String,
    /// The body parsed as JSON (`None` if it is not JSON).
    pub json: Option<Value>,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 2000;
        let body = match self.text.char_indices().nth(SHOWN) {
            Some((cut, _)) => format!("{}… ({} bytes)", &self.text[..cut], self.text.len()),
            None => self.text.clone(),
        };
        write!(f, "{} -> {}: {body}", self.request, self.status)
    }
}

impl Reply {
    /// The JSON body; panics if the body is not JSON.
    pub fn body(&self) -> &Value {
        self.json
            .as_ref()
            .unwrap_or_else(|| panic!("response body is not JSON: {self:?}"))
    }

    /// Asserts a 200 success envelope and returns its `data`.
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected 200: {self:?}");
        self.assert_envelope(true);
        &self.body()["data"]
    }

    /// Asserts an error envelope with this status and code, and returns its `error`.
    pub fn err(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "expected {status} {code}: {self:?}");
        self.assert_envelope(false);
        let error = &self.body()["error"];
        assert_eq!(error["code"], code, "error code: {self:?}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error without a message: {self:?}"
        );
        error
    }

    /// Asserts a 200 envelope and returns `data.reports`.
    pub fn reports(&self) -> &Vec<Value> {
        self.ok()["reports"]
            .as_array()
            .unwrap_or_else(|| panic!("data.reports is not a list: {self:?}"))
    }

    /// Asserts a 200 envelope and returns `data.result`.
    pub fn result(&self) -> &Value {
        let data = self.ok();
        assert!(data.get("result").is_some(), "data has no result: {self:?}");
        &data["result"]
    }

    /// Asserts a 200 envelope with exactly one report and returns it.
    pub fn only_report(&self) -> &Value {
        let reports = self.reports();
        assert_eq!(reports.len(), 1, "expected one report: {self:?}");
        &reports[0]
    }

    /// Asserts the envelope shape of API.md, successful or not.
    pub fn assert_envelope(&self, ok: bool) {
        let body = self.body();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap_or_else(|| panic!("envelope is not an object: {self:?}"))
            .keys()
            .map(String::as_str)
            .collect();
        for key in ["ok", "type", "data", "error", "meta"] {
            assert!(keys.contains(&key), "envelope lacks {key:?}: {self:?}");
        }
        assert_eq!(body["ok"], ok, "envelope ok: {self:?}");
        let kind = if ok { "response" } else { "error" };
        assert_eq!(body["type"], kind, "envelope type: {self:?}");
        if ok {
            assert!(
                body["error"].is_null(),
                "ok envelope with an error: {self:?}"
            );
            assert!(body["data"].is_object(), "ok envelope data: {self:?}");
        } else {
            assert!(body["data"].is_null(), "error envelope with data: {self:?}");
            assert!(body["error"].is_object(), "error envelope error: {self:?}");
        }
        assert_eq!(
            body["meta"]["extra"]["http_status"], self.status,
            "meta.extra.http_status: {self:?}"
        );
    }
}

/// Whether `value` is a 32-digit lowercase hex id.
pub fn is_hex_id(value: &Value) -> bool {
    value.as_str().is_some_and(|id| {
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Asserts that `value` is a serialized node of archetype `archetype` and returns its id.
pub fn assert_node<'a>(value: &'a Value, archetype: &str) -> &'a str {
    assert_eq!(value["_jac_type"], archetype, "node type: {value}");
    assert_eq!(
        value["_jac_archetype"], "node",
        "node archetype kind: {value}"
    );
    assert!(
        is_hex_id(&value["_jac_id"]),
        "node id is not 32 hex: {value}"
    );
    value["_jac_id"].as_str().unwrap_or_default()
}
