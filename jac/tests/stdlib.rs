//! The stdlib subset, run through the interpreter: each test is a small Jac
//! program whose public function returns the values under test.

use jac_lang::graph::MemoryGraph;
use jac_lang::interp::{HostEnv, Interpreter};
use jac_lang::stdlib;
use jac_lang::syntax::{MemorySources, load_program};
use serde_json::{Value, json};

fn interpreter(src: &str, vars: &[(&str, &str)]) -> Result<Interpreter, String> {
    let mut files = MemorySources::new();
    files.insert("app.jac", src);
    let program = load_program(&files, "app.jac").map_err(|d| d.to_string())?;
    let env = HostEnv {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        natives: stdlib::registry(),
        ..HostEnv::default()
    };
    Interpreter::new(program, Box::new(MemoryGraph::new()), env).map_err(|f| f.traceback())
}

/// Runs `def:pub f() { <body> }` and returns its JSON result.
fn run(imports: &str, body: &str) -> Value {
    run_with_env(imports, body, &[])
}

fn run_with_env(imports: &str, body: &str, vars: &[(&str, &str)]) -> Value {
    let src = format!("{imports}\ndef:pub f() {{\n{body}\n}}\n");
    let mut vm = interpreter(&src, vars).unwrap_or_else(|e| panic!("load failed:\n{e}\n{src}"));
    match vm.call_function("f", &json!({})) {
        Ok(outcome) => outcome.result,
        Err(failure) => panic!("call failed:\n{}\n{src}", failure.traceback()),
    }
}

/// Runs the body and returns the failure's traceback text.
fn run_err(imports: &str, body: &str) -> String {
    let src = format!("{imports}\ndef:pub f() {{\n{body}\n}}\n");
    match interpreter(&src, &[]) {
        Err(e) => e,
        Ok(mut vm) => match vm.call_function("f", &json!({})) {
            Ok(outcome) => panic!("expected an error, got {:?}", outcome.result),
            Err(failure) => failure.traceback(),
        },
    }
}

#[test]
fn datetime_formatting_and_arithmetic() {
    let r = run(
        "import from datetime { datetime, timedelta, timezone, date }",
        r#"
        d = datetime.fromisoformat("2024-03-05T07:08:09.250000+00:00");
        e = d + timedelta(days=1, hours=2);
        naive = datetime.fromisoformat("2024-01-01 00:00");
        return [
            d.isoformat(), str(e), e.strftime("%Y/%m/%d %H:%M %a %b"), d.year, d.microsecond,
            (e - d).total_seconds(), str(e - d), repr(naive), d.timestamp(),
            str(timedelta(days=-1, seconds=5)), naive.weekday(), d.tzinfo == timezone.utc,
            str(d.date()), f"{d:%H.%M}", d < e, str(date.fromisoformat("2024-02-29") + timedelta(days=1)),
            datetime.strptime("2024-03-05 14:30", "%Y-%m-%d %H:%M").isoformat(),
            isinstance(d, datetime), isinstance(e - d, timedelta), isinstance(d, date), type(d).__name__,
            repr(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)), str(timezone(timedelta(hours=-5))),
        ];
        "#,
    );
    assert_eq!(
        r,
        json!([
            "2024-03-05T07:08:09.250000+00:00",
            "2024-03-06 09:08:09.250000+00:00",
            "2024/03/06 09:08 Wed Mar",
            2024,
            250000,
            93600.0,
            "1 day, 2:00:00",
            "datetime.datetime(2024, 1, 1, 0, 0)",
            1709622489.25,
            "-1 day, 0:00:05",
            0,
            true,
            "2024-03-05",
            "07.08",
            true,
            "2024-03-01",
            "2024-03-05T14:30:00",
            true,
            true,
            false,
            "datetime",
            "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)",
            "UTC-05:00",
        ])
    );
}

#[test]
fn datetime_now_is_current_and_utc_aware() {
    let r = run(
        "import from datetime { datetime, timezone, UTC }\nimport time;",
        r#"
        now = datetime.now(timezone.utc);
        naive = datetime.utcnow();
        return [abs(now.timestamp() - time.time()) < 5, now.isoformat().endswith("+00:00"),
                naive.tzinfo is None, datetime.now(UTC).utcoffset().total_seconds()];
        "#,
    );
    assert_eq!(r, json!([true, true, true, 0.0]));
}

#[test]
fn datetime_errors_are_python_errors() {
    let err = run_err(
        "import from datetime { datetime }",
        "return datetime.fromisoformat(\"not a date\");",
    );
    assert!(
        err.contains("ValueError: Invalid isoformat string: \"not a date\""),
        "{err}"
    );
}

#[test]
fn json_dumps_and_loads() {
    let r = run(
        "import json;",
        r#"
        data = {"b": [1, 2.5, None, True], "a": "é\n", "n": {}};
        return [
            json.dumps(data), json.dumps(data, sort_keys=True, indent=2), json.dumps(data, ensure_ascii=False),
            json.dumps([1, [2, []]], separators=(",", ":")), json.loads('{"x": [1, 2.0, "s", null, false]}'),
            json.dumps({1: "one", None: 0}),
        ];
        "#,
    );
    assert_eq!(
        r[0],
        json!(r#"{"b": [1, 2.5, null, true], "a": "\u00e9\n", "n": {}}"#)
    );
    assert_eq!(
        r[1],
        json!(
            "{\n  \"a\": \"\\u00e9\\n\",\n  \"b\": [\n    1,\n    2.5,\n    null,\n    true\n  ],\n  \"n\": {}\n}"
        )
    );
    assert_eq!(
        r[2],
        json!("{\"b\": [1, 2.5, null, true], \"a\": \"é\\n\", \"n\": {}}")
    );
    assert_eq!(r[3], json!("[1,[2,[]]]"));
    assert_eq!(r[4], json!({"x": [1, 2.0, "s", null, false]}));
    assert_eq!(r[5], json!(r#"{"1": "one", "null": 0}"#));
    let err = run_err("import json;", "return json.loads(\"{bad\");");
    assert!(err.contains("ValueError"), "{err}");
    let err = run_err("import json;", "return json.dumps({(1, 2): 3});");
    assert!(
        err.contains("TypeError: keys must be str, int, float, bool or None, not tuple"),
        "{err}"
    );
}

#[test]
fn uuid4_values() {
    let r = run(
        "import from uuid { uuid4 }\nimport uuid;",
        r#"
        u = uuid4();
        return [len(u.hex), len(str(u)), str(u)[14], u.version, u == u, uuid4() != u,
                str(uuid.UUID("12345678123456781234567812345678")), isinstance(u, uuid.UUID),
                type(u).__name__];
        "#,
    );
    assert_eq!(
        r,
        json!([
            32,
            36,
            "4",
            4,
            true,
            true,
            "12345678-1234-5678-1234-567812345678",
            true,
            "UUID"
        ])
    );
}

#[test]
fn random_functions_stay_in_range_and_seed_repeats() {
    let r = run(
        "import random;",
        r#"
        ok = True;
        for i in range(200) {
            x = random.randint(1, 6);
            y = random.random();
            z = random.uniform(2.0, 3.0);
            ok = ok and 1 <= x and x <= 6 and 0 <= y and y < 1 and 2 <= z and z <= 3;
        }
        xs = [1, 2, 3, 4, 5];
        random.shuffle(xs);
        random.seed(42);
        a = [random.randint(0, 1000) for _ in range(5)];
        random.seed(42);
        b = [random.randint(0, 1000) for _ in range(5)];
        return [ok, sorted(xs), random.choice(["only"]), a == b, len(random.sample(xs, 3)),
                len(random.choices(xs, k=4)), random.randrange(10, 11)];
        "#,
    );
    assert_eq!(r, json!([true, [1, 2, 3, 4, 5], "only", true, 3, 4, 10]));
    let err = run_err("import random;", "return random.choice([]);");
    assert!(
        err.contains("IndexError: Cannot choose from an empty sequence"),
        "{err}"
    );
}

#[test]
fn math_functions() {
    let r = run(
        "import math;",
        r#"
        return [math.floor(2.7), math.ceil(2.1), math.sqrt(16), math.pi > 3.14, math.log(math.e),
                math.log(8, 2), math.factorial(20), math.gcd(12, 18), math.isclose(0.1 + 0.2, 0.3),
                math.trunc(-2.5), math.fsum([0.1] * 10), math.inf > 1e308, math.comb(5, 2), math.prod([2, 3, 4])];
        "#,
    );
    assert_eq!(
        r,
        json!([
            2,
            3,
            4.0,
            true,
            1.0,
            3.0,
            2432902008176640000_i64,
            6,
            true,
            -2,
            1.0,
            true,
            10,
            24
        ])
    );
    let err = run_err("import math;", "return math.sqrt(-1);");
    assert!(err.contains("ValueError: math domain error"), "{err}");
}

#[test]
fn regular_expressions() {
    let r = run(
        "import re;",
        r#"
        m = re.match(r"(\w+)@(?P<host>\w+)\.com", "bob@example.com rest");
        p = re.compile(r"\d+");
        return [
            m.group(0), m.group(1), m.group("host"), m.groups(), m.span(), m.groupdict(),
            re.search(r"\d+", "abc 123 def").group(), re.match(r"\d+", "abc 123") is None,
            re.fullmatch(r"a|ab", "ab").group(), p.findall("1 22 333"), re.findall(r"(\w)=(\d)", "a=1 b=2"),
            re.sub(r"(\w+)@", r"\1 at ", "bob@x joe@y"), re.sub(r"\d", lambda m: str(int(m.group()) * 2), "a1b2"),
            re.split(r"[,;]\s*", "a, b;c"), re.split(r"(-)", "a-b"), re.subn("a", "b", "aaa"),
            bool(re.search("HELLO", "say hello", re.IGNORECASE)), re.escape("a.b"), p.pattern,
            [x.group() for x in re.finditer(r"[a-z]+", "ab 12 cd")],
        ];
        "#,
    );
    assert_eq!(
        r,
        json!([
            "bob@example.com", "bob", "example", ["bob", "example"], [0, 15], {"host": "example"},
            "123", true, "ab", ["1", "22", "333"], [["a", "1"], ["b", "2"]],
            "bob at x joe at y", "a2b4", ["a", "b", "c"], ["a", "-", "b"], ["bbb", 3],
            true, "a\\.b", "\\d+", ["ab", "cd"],
        ])
    );
    let err = run_err("import re;", "return re.match(r\"(?<=a)b\", \"ab\");");
    assert!(err.contains("ValueError: re.error"), "{err}");
}

#[test]
fn os_getenv_sees_only_granted_variables() {
    let r = run_with_env(
        "import os;",
        r#"return [os.getenv("API_URL"), os.getenv("PATH"), os.getenv("MISSING", "dflt"), os.environ.get("API_URL")];"#,
        &[("API_URL", "https://api")],
    );
    assert_eq!(r, json!(["https://api", null, "dflt", "https://api"]));
}

#[test]
fn time_asyncio_typing_http_enum() {
    let r = run(
        "import time;\nimport asyncio;\nimport from typing { Any, Optional, List, Dict }\nimport from http { HTTPMethod, UploadFile }\nimport from fastapi { UploadFile as UF }\nimport from enum { Enum, auto }",
        r#"
        t0 = time.time();
        time.sleep(0.01);
        await asyncio.sleep(0.01);
        x: Optional[List[int]] = [1];
        y: Dict[str, Any] = {};
        return [time.time() - t0 >= 0.02, x, y, HTTPMethod.GET.value, HTTPMethod("POST").name];
        "#,
    );
    assert_eq!(r, json!([true, [1], {}, "GET", "POST"]));
}

/// `time.sleep` and `asyncio.sleep` wait through the embedding's hook (the component
/// hands it the host's timer), with the length asked for, capped at a minute.
#[test]
fn sleeps_wait_through_the_embeddings_hook() {
    use std::sync::Mutex;
    use std::time::Duration;
    static SLEPT: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    let src = "import time;\nimport asyncio;\n\
               async def:pub f() {\n\
                   time.sleep(0.25);\n\
                   r = await asyncio.sleep(1.5, \"done\");\n\
                   await asyncio.sleep(3600);\n\
                   return r;\n\
               }\n";
    let mut files = MemorySources::new();
    files.insert("app.jac", src);
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}"));
    let env = HostEnv {
        sleep: |length| SLEPT.lock().unwrap().push(length),
        ..HostEnv::default()
    };
    let started = std::time::Instant::now();
    let mut vm = Interpreter::new(program, Box::new(MemoryGraph::new()), env)
        .unwrap_or_else(|f| panic!("{}", f.traceback()));
    let outcome = vm
        .call_function("f", &json!({}))
        .unwrap_or_else(|f| panic!("{}", f.traceback()));
    assert_eq!(outcome.result, json!("done"));
    assert_eq!(
        *SLEPT.lock().unwrap(),
        [
            Duration::from_millis(250),
            Duration::from_millis(1500),
            Duration::from_secs(60)
        ]
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the hook, not a real sleep"
    );
}

#[test]
fn unknown_modules_are_named_in_the_error() {
    let err = run_err("import numpy;", "return 1;");
    assert!(
        err.contains("ModuleNotFoundError: No module named 'numpy'"),
        "{err}"
    );
    let err = run_err("import from sqlite3 { connect }", "return 1;");
    assert!(err.contains("No module named 'sqlite3'"), "{err}");
}

#[test]
fn realistic_fixtures_load_with_the_stdlib() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in ["app.jac", "social.jac", "legacy_09.jac"] {
        let program = load_program(&jac_lang::syntax::DirSources::new(&dir), name)
            .unwrap_or_else(|d| panic!("{d}"));
        let env = HostEnv {
            natives: stdlib::registry(),
            ..HostEnv::default()
        };
        if let Err(f) = Interpreter::new(program, Box::new(MemoryGraph::new()), env) {
            panic!("{name}:\n{}", f.traceback());
        }
    }
}
