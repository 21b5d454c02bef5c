//! Endpoint manifests: the reference app's expected manifest, nested `obj`
//! schemas, inheritance, unions, defaults, and `@restspec` errors.

use std::path::Path;

use jac_lang::describe::{
    EndpointAccess, EndpointKind, HttpMethod, Job, Manifest, Protocol, Trigger, describe,
};
use jac_lang::syntax::{DirSources, MemorySources, load_program};
use serde_json::{Value, json};

fn manifest_of(src: &str) -> Manifest {
    let mut files = MemorySources::new();
    files.insert("app.jac", src);
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}"));
    describe(&program).unwrap_or_else(|e| panic!("{e}"))
}

fn endpoint_json(manifest: &Manifest, name: &str) -> Value {
    let e = manifest
        .endpoints
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no endpoint {name}"));
    serde_json::to_value(e).expect("serializable")
}

#[test]
fn reference_app_manifest() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let program = load_program(&DirSources::new(dir), "app.jac").unwrap_or_else(|d| panic!("{d}"));
    let manifest = describe(&program).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = manifest.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Ping",
            "Echo",
            "TwoReports",
            "NoReport",
            "Boom",
            "Greet",
            "CreateTodo",
            "SeedTodos",
            "ListTodos",
            "CountTodos",
            "CompleteTodo",
            "WhereAmI",
            "GetInfo",
            "CustomUsers",
            "GetItem",
            "health_check",
            "add_numbers",
            "pub_add",
            "custom_func",
            "PaymentHook",
            "EchoWS",
            "PrivateWS",
            "ChatWS",
        ]
    );
    assert_eq!(
        endpoint_json(&manifest, "Echo"),
        json!({
            "name": "Echo", "kind": "walker", "protocol": "http", "method": "POST", "path": null,
            "access": "public", "broadcast": false, "is_async": false,
            "doc": "Public walker with typed has fields (required + defaulted).",
            "fields": [
                {"name": "name", "schema": {"type": "string"}, "required": true, "default": null, "doc": null},
                {"name": "count", "schema": {"type": "integer"}, "required": false, "default": 1, "doc": null},
                {"name": "tags", "schema": {"type": "array", "items": {"type": "string"}}, "required": false,
                 "default": [], "doc": null},
            ]
        })
    );
    let greet = &manifest.endpoints[5];
    assert_eq!(greet.access, EndpointAccess::Protected);
    let get_item = endpoint_json(&manifest, "GetItem");
    assert_eq!(get_item["method"], "GET");
    assert_eq!(get_item["path"], "/items/{item_id}");
    assert_eq!(
        endpoint_json(&manifest, "pub_add"),
        json!({
            "name": "pub_add", "kind": "function", "protocol": "http", "method": "POST", "path": null,
            "access": "public", "broadcast": false, "is_async": false, "doc": null,
            "fields": [
                {"name": "a", "schema": {"type": "integer"}, "required": true, "default": null, "doc": null},
                {"name": "b", "schema": {"type": "integer"}, "required": false, "default": 10, "doc": null},
            ]
        })
    );
    assert_eq!(manifest.endpoints[16].access, EndpointAccess::Protected); // add_numbers
    let custom = &manifest.endpoints[18];
    assert_eq!(
        (custom.method, custom.path.as_deref()),
        (HttpMethod::Get, Some("/custom/func"))
    );
    let hook = &manifest.endpoints[19];
    assert_eq!(
        (hook.protocol, hook.access),
        (Protocol::Webhook, EndpointAccess::Protected)
    );
    assert_eq!(hook.fields[1].schema, json!({"type": "number"}));
    assert_eq!(hook.fields[2].default, Some(json!("USD")));
    let chat = &manifest.endpoints[22];
    assert!(chat.broadcast && chat.is_async);
    assert_eq!(chat.protocol, Protocol::Websocket);
}

#[test]
fn nested_objects_unions_and_recursion() {
    let m = manifest_of(
        r#"
obj Address { has city: str, zip: str = "00000"; }
obj TreeNode { has value: int, children: list[TreeNode] = []; }
enum Color { RED = "red", GREEN = "green" }
walker:pub W {
    has addr: Address,
        addrs: dict[str, Address] = {},
        tree: TreeNode,
        maybe: int | None = None,
        opt: Optional[str] = None,
        either: Union[int, str] = 1,
        color: Color = Color.RED,
        anything: any = None,
        pair: tuple[int, str] = (1, "a"),
        stamp: datetime = datetime.now();
}
"#,
    );
    let w = endpoint_json(&m, "W");
    let fields = w["fields"].as_array().expect("fields");
    let schema = |i: usize| fields[i]["schema"].clone();
    let address = json!({"type": "object", "title": "Address",
        "properties": {"city": {"type": "string"}, "zip": {"type": "string", "default": "00000"}},
        "required": ["city"]});
    assert_eq!(schema(0), address);
    assert_eq!(
        schema(1),
        json!({"type": "object", "additionalProperties": address})
    );
    assert_eq!(
        schema(2),
        json!({"type": "object", "title": "TreeNode",
            "properties": {"value": {"type": "integer"},
                           "children": {"type": "array", "items": {"type": "object", "title": "TreeNode"}, "default": []}},
            "required": ["value"]})
    );
    assert_eq!(
        schema(3),
        json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})
    );
    assert_eq!(
        schema(4),
        json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
    );
    assert_eq!(
        schema(5),
        json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
    );
    assert_eq!(
        schema(6),
        json!({"enum": ["red", "green"], "title": "Color"})
    );
    assert_eq!(schema(7), json!({}));
    assert_eq!(
        schema(8),
        json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 2, "maxItems": 2})
    );
    // Non-literal defaults: optional, but no JSON value (the runtime computes them).
    assert_eq!(
        (fields[6]["required"].clone(), fields[6]["default"].clone()),
        (json!(false), json!(null))
    );
    assert_eq!(
        (fields[9]["required"].clone(), fields[9]["default"].clone()),
        (json!(false), json!(null))
    );
    assert_eq!(fields[8]["default"], json!([1, "a"]));
}

#[test]
fn inherited_fields_come_first_and_overrides_stay_in_place() {
    let m = manifest_of(
        r#"
walker Base { has a: int, b: str = "x"; static has counter: int = 0; }
walker Child(Base) {
    """Child doc."""
    has b: str = "y", c: float = 1.5;
    has later: int by postinit;
}
"#,
    );
    let child = &m.endpoints[1];
    let fields: Vec<(&str, Option<Value>)> = child
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.default.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            ("a", None),
            ("b", Some(json!("y"))),
            ("c", Some(json!(1.5)))
        ]
    );
    assert_eq!(child.fields[1].doc.as_deref(), Some("Child doc."));
}

#[test]
fn functions_skip_private_names_varargs_and_imports() {
    let mut files = MemorySources::new();
    files
        .insert("app.jac", "import from lib { helper }\ndef:pub f(x: int, *args, y: str = \"k\", **kw) { }\ndef _hidden() { }\ndef:priv g() { }\n")
        .insert("lib.jac", "def helper() { }\n");
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}"));
    let m = describe(&program).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = m.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["f", "g"]);
    let params: Vec<&str> = m.endpoints[0]
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(params, ["x", "y"]);
    assert_eq!(m.endpoints[1].access, EndpointAccess::Private);
}

#[test]
fn bad_restspec_is_a_located_error() {
    let mut files = MemorySources::new();
    files.insert(
        "app.jac",
        "@restspec(method=HTTPMethod.FETCH)\nwalker W { }\n",
    );
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}"));
    let err = describe(&program).expect_err("bad method");
    assert_eq!(
        err.0.headline(),
        "app.jac:1:18: error: @restspec(method=...) must be HTTPMethod.GET, POST, PUT, PATCH or DELETE"
    );
    files.insert("app.jac", "@restspec(webhook=True)\nwalker W { }\n");
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        describe(&program).expect("legacy webhook flag").endpoints[0].protocol,
        Protocol::Webhook
    );
}

#[test]
fn imported_walkers_are_endpoints_and_scheduled_jobs_are_not() {
    let mut files = MemorySources::new();
    files
        .insert(
            "app.jac",
            "import from walkers { Create as MakeTodo, helper }\ninclude admin;\n\
             @schedule(trigger=ScheduleTrigger.STATIC, interval=60)\nwalker Cleanup { }\n\
             @schedule(trigger=ScheduleTrigger.STATIC, interval=60)\ndef nightly() { }\n\
             walker:pub Local { }\n",
        )
        .insert(
            "walkers.jac",
            "walker Create { has title: str; }\nwalker Unimported { }\ndef helper() { }\n",
        )
        .insert("admin.jac", "walker:pub Stats { }\n");
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}"));
    let m = describe(&program).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = m.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["MakeTodo", "Stats", "Local"]);
    assert_eq!(m.endpoints[0].fields[0].name, "title");
    assert_eq!(m.endpoints[1].access, EndpointAccess::Public);
}

#[test]
fn scheduled_walkers_and_functions_are_jobs_with_their_triggers() {
    let m = manifest_of(
        "@schedule(trigger=ScheduleTrigger.STATIC, interval=0.3)\nwalker Tick { }\n\
         @schedule(cron=\"*/5 * * * *\")\ndef sweep() { }\n\
         @schedule(trigger=ScheduleTrigger.DYNAMIC)\nwalker OnDemand { }\n\
         @schedule(trigger=\"static\", interval=2)\ndef _hidden() { }\n\
         walker:pub Normal { }\n",
    );
    let names: Vec<&str> = m.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Normal"]);
    let job = |name: &str, kind, trigger| Job {
        name: name.into(),
        kind,
        trigger,
    };
    assert_eq!(
        m.jobs,
        [
            job("Tick", EndpointKind::Walker, Trigger::Interval { ms: 300 }),
            job(
                "sweep",
                EndpointKind::Function,
                Trigger::Cron("*/5 * * * *".into())
            ),
            job("OnDemand", EndpointKind::Walker, Trigger::Dynamic),
            job(
                "_hidden",
                EndpointKind::Function,
                Trigger::Interval { ms: 2000 }
            ),
        ]
    );
    assert_eq!(m.kind_of("sweep"), Some(EndpointKind::Function));
    assert_eq!(m.kind_of("Normal"), Some(EndpointKind::Walker));
}

#[test]
fn bad_schedules_are_located_errors() {
    for (src, headline) in [
        (
            "@schedule(interval=0)\nwalker W { }\n",
            "app.jac:1:20: error: @schedule(interval=...) must be a positive number of seconds (at least 0.001)",
        ),
        (
            "@schedule(trigger=ScheduleTrigger.STATIC)\nwalker W { }\n",
            "app.jac:1:2: error: @schedule needs interval=<seconds> or cron=\"<5 fields>\"",
        ),
        (
            "@schedule(date=\"2030-01-01 00:00:00\")\ndef f() { }\n",
            "app.jac:1:16: error: @schedule(date=...) (a one-off run) is not supported; use interval= or cron=",
        ),
        (
            "@schedule(every=5)\ndef f() { }\n",
            "app.jac:1:17: error: unknown @schedule option 'every'",
        ),
    ] {
        let mut files = MemorySources::new();
        files.insert("app.jac", src);
        let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}"));
        let err = describe(&program).expect_err(src);
        assert_eq!(err.0.headline(), headline, "{src}");
    }
}
