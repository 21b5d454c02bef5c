//! Request arguments checked against an endpoint's field schemas.
//!
//! Every problem is collected (one 422 lists them all). Numbers sent as strings are
//! accepted for integer/number fields, as the original server did; query and path
//! values (always strings) are coerced to the field's type. Unknown keys are dropped.

use serde_json::{Map, Number, Value};

use super::Field;

/// One field problem of a 422 answer, as FastAPI reports them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    /// Where: `["body", "count"]`, `["query", "n"]`, `["path", "item_id"]`.
    pub loc: Vec<String>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// Where a value came from; names the first element of a problem's `loc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Body,
    Query,
    Path,
    /// A text part of a `multipart/form-data` body: text, coerced like a query value.
    Form,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Body | Source::Form => "body",
            Source::Query => "query",
            Source::Path => "path",
        }
    }
}

/// Check `args` against `fields`; return the validated object or every problem.
pub fn validate(
    fields: &[Field],
    mut args: Map<String, Value>,
    sources: impl Fn(&str) -> Source,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut out = Map::with_capacity(fields.len());
    let mut problems = Vec::new();
    for field in fields {
        let source = sources(&field.name);
        match args.remove(&field.name) {
            Some(value) => {
                let mut loc = vec![source.name().to_string(), field.name.clone()];
                match check(
                    &field.schema,
                    value,
                    source != Source::Body,
                    &mut loc,
                    &mut problems,
                ) {
                    Some(v) => {
                        out.insert(field.name.clone(), v);
                    }
                    None => continue,
                }
            }
            None if field.required => problems.push(Problem {
                loc: vec![source.name().to_string(), field.name.clone()],
                msg: "Field required".into(),
                kind: "missing",
            }),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn problem(
    problems: &mut Vec<Problem>,
    loc: &[String],
    msg: impl Into<String>,
    kind: &'static str,
) {
    problems.push(Problem {
        loc: loc.to_vec(),
        msg: msg.into(),
        kind,
    });
}

/// The schema's `type`, if it names exactly one.
fn schema_type(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

/// Validate one value; `from_text` = it came from a query string or path.
fn check(
    schema: &Value,
    value: Value,
    from_text: bool,
    loc: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        return any_of(options, value, from_text, loc, problems);
    }
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return Some(value);
    }
    let checked = match schema.get("type") {
        // `{"type": ["integer", "null"]}`: the first type the value fits.
        Some(Value::Array(types)) => {
            let types: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if value.is_null() && types.contains(&"null") {
                return Some(value);
            }
            let mut found = None;
            for ty in types.iter().filter(|t| **t != "null") {
                let mut scratch = Vec::new();
                if let Some(v) = check_type(
                    Some(ty),
                    schema,
                    value.clone(),
                    from_text,
                    loc,
                    &mut scratch,
                ) {
                    found = Some(v);
                    break;
                }
            }
            if found.is_none() {
                let names = types.join(" or ");
                problem(
                    problems,
                    loc,
                    format!("Input should be {names}"),
                    "type_error",
                );
            }
            found
        }
        _ => check_type(schema_type(schema), schema, value, from_text, loc, problems),
    }?;
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(&checked)
    {
        let names: Vec<String> = allowed.iter().map(Value::to_string).collect();
        problem(
            problems,
            loc,
            format!("Input should be one of {}", names.join(", ")),
            "enum",
        );
        return None;
    }
    Some(checked)
}

/// `converted`, or a problem saying why there is none.
fn accept(
    converted: Option<Value>,
    msg: &str,
    kind: &'static str,
    loc: &[String],
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    if converted.is_none() {
        problem(problems, loc, msg, kind);
    }
    converted
}

/// Validate `value` as the single JSON type `ty` of `schema`.
fn check_type(
    ty: Option<&str>,
    schema: &Value,
    value: Value,
    from_text: bool,
    loc: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    match ty {
        None => Some(value),
        Some("string") => accept(
            value.is_string().then_some(value),
            "Input should be a valid string",
            "string_type",
            loc,
            problems,
        ),
        Some("integer") => accept(
            integer(&value).map(Value::Number),
            "Input should be a valid integer",
            "int_parsing",
            loc,
            problems,
        ),
        Some("number") => accept(
            number(&value).map(Value::Number),
            "Input should be a valid number",
            "float_parsing",
            loc,
            problems,
        ),
        Some("boolean") => accept(
            boolean(&value, from_text).map(Value::Bool),
            "Input should be a valid boolean",
            "bool_parsing",
            loc,
            problems,
        ),
        Some("null") => accept(
            value.is_null().then_some(value),
            "Input should be None",
            "none_required",
            loc,
            problems,
        ),
        Some("array") => array(schema, value, from_text, loc, problems),
        Some("object") => object(schema, value, loc, problems),
        Some(_) => Some(value),
    }
}

fn any_of(
    options: &[Value],
    value: Value,
    from_text: bool,
    loc: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    for option in options {
        let mut scratch = Vec::new();
        if let Some(v) = check(option, value.clone(), from_text, loc, &mut scratch) {
            return Some(v);
        }
    }
    problem(
        problems,
        loc,
        "Input matches none of the allowed types",
        "union_tag_invalid",
    );
    None
}

/// An integer that fits the guest's 64-bit ints; floats with no fraction and numeric
/// strings are accepted, anything out of range is not.
fn integer(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(Number::from(i)),
            None => n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| Number::from(f as i64)),
        },
        Value::String(s) => s.trim().parse::<i64>().ok().map(Number::from),
        _ => None,
    }
}

fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => s.trim().parse::<f64>().ok().and_then(Number::from_f64),
        _ => None,
    }
}

fn boolean(value: &Value, from_text: bool) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if from_text => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn array(
    schema: &Value,
    value: Value,
    from_text: bool,
    loc: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    let items = match value {
        Value::Array(items) => items,
        // A single query value for a list field is a one-element list.
        Value::String(_) if from_text => vec![value],
        _ => {
            problem(problems, loc, "Input should be a valid list", "list_type");
            return None;
        }
    };
    let Some(item_schema) = schema.get("items") else {
        return Some(Value::Array(items));
    };
    let before = problems.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        loc.push(i.to_string());
        if let Some(v) = check(item_schema, item, from_text, loc, problems) {
            out.push(v);
        }
        loc.pop();
    }
    (problems.len() == before).then_some(Value::Array(out))
}

fn object(
    schema: &Value,
    value: Value,
    loc: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    let Value::Object(mut map) = value else {
        problem(
            problems,
            loc,
            "Input should be a valid dictionary",
            "dict_type",
        );
        return None;
    };
    let before = problems.len();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, prop) in props {
            loc.push(name.clone());
            match map.remove(name) {
                Some(v) => {
                    if let Some(v) = check(prop, v, false, loc, problems) {
                        map.insert(name.clone(), v);
                    }
                }
                None if required.contains(&name.as_str()) => {
                    problem(problems, loc, "Field required", "missing")
                }
                None => {}
            }
            loc.pop();
        }
    } else if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        let keys: Vec<String> = map.keys().cloned().collect();
        for key in keys {
            loc.push(key.clone());
            if let Some(v) = map
                .remove(&key)
                .and_then(|v| check(values, v, false, loc, problems))
            {
                map.insert(key.clone(), v);
            }
            loc.pop();
        }
    }
    (problems.len() == before).then_some(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str, schema: Value, default: Option<Value>) -> Field {
        Field {
            name: name.into(),
            schema,
            required: default.is_none(),
            default,
            doc: None,
        }
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn every_problem_is_listed() {
        let fields = [
            field("name", json!({"type": "string"}), None),
            field("count", json!({"type": "integer"}), Some(json!(1))),
            field(
                "tags",
                json!({"type": "array", "items": {"type": "string"}}),
                Some(json!([])),
            ),
        ];
        let problems = validate(
            &fields,
            body(json!({"count": "x", "tags": [1, "a", 2]})),
            |_| Source::Body,
        )
        .unwrap_err();
        let locs: Vec<_> = problems.iter().map(|p| p.loc.join(".")).collect();
        assert_eq!(
            locs,
            ["body.name", "body.count", "body.tags.0", "body.tags.2"]
        );
        assert_eq!(problems[0].kind, "missing");
    }

    #[test]
    fn numeric_strings_are_coerced_and_unknown_keys_dropped() {
        let fields = [
            field("n", json!({"type": "integer"}), None),
            field("x", json!({"type": "number"}), None),
        ];
        let ok = validate(
            &fields,
            body(json!({"n": "5", "x": "2.5", "extra": 1})),
            |_| Source::Body,
        )
        .unwrap();
        assert_eq!(Value::Object(ok), json!({"n": 5, "x": 2.5}));
    }

    #[test]
    fn query_booleans_are_parsed_but_body_strings_are_not() {
        let fields = [field("b", json!({"type": "boolean"}), None)];
        assert!(validate(&fields, body(json!({"b": "true"})), |_| Source::Query).is_ok());
        assert!(validate(&fields, body(json!({"b": "true"})), |_| Source::Body).is_err());
    }

    #[test]
    fn nested_objects_report_inner_locations() {
        let schema = json!({"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]});
        let problems = validate(
            &[field("user", schema, None)],
            body(json!({"user": {}})),
            |_| Source::Body,
        )
        .unwrap_err();
        assert_eq!(problems[0].loc, ["body", "user", "age"]);
    }

    #[test]
    fn integers_out_of_i64_range_are_refused() {
        let fields = [field("n", json!({"type": "integer"}), None)];
        for bad in [
            json!(9223372036854775808u64),
            json!("-9223372036854775809"),
            json!(1.5),
        ] {
            let problems =
                validate(&fields, body(json!({ "n": bad })), |_| Source::Body).unwrap_err();
            assert_eq!(problems[0].loc, ["body", "n"]);
        }
    }

    #[test]
    fn type_lists_and_enums_are_checked() {
        let opt = field("n", json!({"type": ["integer", "null"]}), Some(Value::Null));
        assert!(
            validate(std::slice::from_ref(&opt), body(json!({"n": null})), |_| {
                Source::Body
            })
            .is_ok()
        );
        let ok = validate(std::slice::from_ref(&opt), body(json!({"n": "7"})), |_| {
            Source::Body
        })
        .unwrap();
        assert_eq!(ok["n"], json!(7));
        assert!(validate(&[opt], body(json!({"n": "x"})), |_| Source::Body).is_err());
        let level = field(
            "level",
            json!({"type": "string", "enum": ["READ", "WRITE"]}),
            None,
        );
        assert!(
            validate(
                std::slice::from_ref(&level),
                body(json!({"level": "READ"})),
                |_| Source::Body
            )
            .is_ok()
        );
        let problems =
            validate(&[level], body(json!({"level": "ADMIN"})), |_| Source::Body).unwrap_err();
        assert_eq!(problems[0].kind, "enum");
    }

    #[test]
    fn optional_fields_accept_null() {
        let schema = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        assert!(
            validate(
                &[field("s", schema, Some(Value::Null))],
                body(json!({"s": null})),
                |_| Source::Body
            )
            .is_ok()
        );
    }
}
