//! A time-bounded fuzzer for the parser and loader, on the stable toolchain: random
//! mutations of the fixtures (byte flips, spliced tokens, cuts, deep nesting, lines
//! swapped) must each give a program or a diagnostic, quickly: never a panic, a stack
//! overflow or a hang. A hostile `.jac` upload reaches exactly this code.
//!
//! `JAC_FUZZ_MILLIS` sets the time (default 3000); `JAC_FUZZ_SEED` replays a run (each
//! run prints its seed).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jac_lang::syntax::{FileId, MemorySources, load_program, parse_module};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Slowest parse accepted for one input (a debug build; inputs are a few KiB).
const MAX_PARSE: Duration = Duration::from_secs(2);

/// Fragments that steer mutations into the grammar's corners.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "'",
    "f\"{",
    "}\"",
    "#*",
    "*#",
    "`",
    "->",
    "<-",
    "-->",
    "<--",
    "+>:",
    ":+>",
    "<+:",
    ":<+",
    "->:",
    ":->",
    "[-->]",
    "walker ",
    "node ",
    "edge ",
    "obj ",
    "def ",
    "can ",
    "with entry ",
    "has ",
    "glob ",
    "import ",
    "from ",
    "spawn ",
    "visit ",
    "report ",
    "lambda ",
    "match ",
    "case ",
    "async ",
    "await ",
    "yield ",
    "@",
    "::",
    ";",
    ",",
    ":",
    "=",
    "==",
    "**",
    "//",
    "\\",
    "\n",
    "\t",
    "\u{0}",
    "\u{feff}",
    "é",
    "🦀",
    "0x",
    "1e999",
    "9999999999999999999999",
    ".",
    "...",
    "?",
];

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "jac"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (
                name,
                std::fs::read_to_string(e.path()).expect("fixture text"),
            )
        })
        .collect();
    found.sort();
    found
}

/// One random mutation of `src`.
fn mutate(rng: &mut StdRng, src: &str) -> String {
    let mut bytes = src.as_bytes().to_vec();
    let at = |rng: &mut StdRng, len: usize| rng.random_range(0..=len);
    for _ in 0..rng.random_range(1..=8) {
        match rng.random_range(0..6) {
            0 if !bytes.is_empty() => {
                let i = rng.random_range(0..bytes.len());
                bytes[i] = rng.random();
            }
            1 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                let i = at(rng, bytes.len());
                bytes.splice(i..i, token.bytes());
            }
            2 if !bytes.is_empty() => {
                let i = rng.random_range(0..bytes.len());
                let j = rng.random_range(i..=bytes.len().min(i + 64));
                bytes.drain(i..j);
            }
            3 => {
                let depth = rng.random_range(1..400);
                let (open, close) = [("(", ")"), ("[", "]"), ("{", "}"), ("-", ""), ("not ", "")]
                    [rng.random_range(0..5)];
                let i = at(rng, bytes.len());
                let nested = format!("{}x{}", open.repeat(depth), close.repeat(depth));
                bytes.splice(i..i, nested.bytes());
            }
            4 if !bytes.is_empty() => {
                let (i, j) = (
                    rng.random_range(0..bytes.len()),
                    rng.random_range(0..bytes.len()),
                );
                let (i, j) = (i.min(j), i.max(j));
                let piece: Vec<u8> = bytes[i..j.min(i + 256)].to_vec();
                let k = at(rng, bytes.len());
                bytes.splice(k..k, piece);
            }
            _ => bytes.truncate(at(rng, bytes.len())),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn parser_and_loader_survive_random_mutations_for_a_bounded_time() {
    let millis: u64 = std::env::var("JAC_FUZZ_MILLIS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let seed: u64 = std::env::var("JAC_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("jac fuzz: seed {seed} (JAC_FUZZ_SEED={seed} replays), {millis} ms");
    let mut rng = StdRng::seed_from_u64(seed);
    let corpus = fixtures();
    assert!(!corpus.is_empty());
    let deadline = Instant::now() + Duration::from_millis(millis);
    let mut inputs = 0u64;
    while Instant::now() < deadline {
        let (name, src) = &corpus[rng.random_range(0..corpus.len())];
        let input = mutate(&mut rng, src);
        let started = Instant::now();
        let parsed = std::panic::catch_unwind(|| {
            let _ = parse_module(&input, FileId(0), name);
            let mut files = MemorySources::new();
            files.insert(name.as_str(), input.clone());
            let _ = load_program(&files, name);
        });
        let took = started.elapsed();
        if parsed.is_err() || took > MAX_PARSE {
            let kept = std::env::temp_dir().join(format!("jac-fuzz-{seed}-{inputs}.jac"));
            let _ = std::fs::write(&kept, &input);
            panic!(
                "input {inputs} of seed {seed} (kept in {}): {}",
                kept.display(),
                if parsed.is_err() {
                    "the parser panicked".to_owned()
                } else {
                    format!("took {took:?}")
                }
            );
        }
        inputs += 1;
    }
    eprintln!("jac fuzz: {inputs} inputs");
    assert!(inputs > 0);
}
