//! The loader against malformed input: a committed corpus (tests/fixtures/policy/malformed),
//! generated monsters (10 MB, binary junk), and a deterministic mutation fuzzer over the
//! shipped policies and fixtures. Everything must end in exit 2 / `Err` with a location,
//! never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use skset::policy::{self, load_policy_bytes, rules};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn skset(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skset"))
        .args(args)
        .output()
        .expect("run skset")
}

/// Exit 2, a `file:line:column:` message, a hint, no panic.
fn assert_bad_input_located(path: &Path) -> String {
    let p = path.to_str().unwrap();
    let out = skset(&["policy", "check", p]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{p}: {stderr}");
    assert!(!stderr.contains("panicked"), "{p}: {stderr}");
    let first = stderr.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix(&format!("error: {p}:"))
        .unwrap_or_else(|| panic!("{p}: not located: {first}"));
    let mut parts = rest.splitn(3, ':');
    let line: u32 = parts
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{p}: no line in {first}"));
    let column: u32 = parts
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{p}: no column in {first}"));
    assert!(line >= 1 && column >= 1, "{first}");
    assert!(
        parts.next().is_some_and(|m| m.trim().len() > 5),
        "{p}: no message in {first}"
    );
    assert!(stderr.contains("\n  hint: "), "{p}: no hint: {stderr}");
    stderr
}

#[test]
fn malformed_corpus_exits_2_with_location() {
    let dir = root().join("tests/fixtures/policy/malformed");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            assert_bad_input_located(&path);
            seen += 1;
        }
    }
    assert!(seen >= 20, "corpus shrank: {seen}");
}

#[test]
fn specific_messages_say_what_was_expected() {
    let dir = root().join("tests/fixtures/policy/malformed");
    let cases = [
        ("duplicate-key.yaml", ":5:5: duplicate mapping key: touch"),
        ("duplicate-mode.yaml", ":6:3: duplicate mapping key: sudo"),
        (
            "unknown-field.yaml",
            ":4:5: unknown field `touhc`, expected one of",
        ),
        ("wrong-type-bool.yaml", ":4:10: invalid boolean"),
        ("wrong-type-number.yaml", ":3:19: expected a whole number"),
        (
            "unsupported-version.yaml",
            "version 2 is not supported; this skset reads version(s) 1",
        ),
        ("missing-version.yaml", "no `version` field"),
        ("alias-bomb.yaml", "exceeds the policy loader's limits"),
        ("deep-nesting.yaml", "nested deeper"),
        ("empty.yaml", ":1:1: the file is empty"),
        ("bad-option.yaml", "option values must be in double quotes"),
    ];
    for (file, needle) in cases {
        let stderr = assert_bad_input_located(&dir.join(file));
        assert!(
            stderr.contains(needle),
            "{file}: {needle:?} not in {stderr}"
        );
    }
}

#[test]
fn ten_megabytes_is_refused_quickly_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let mut content = String::from("version: 1\nmodes:\n");
    let line = "  # padding padding padding padding padding padding padding padding padding\n";
    while content.len() < 10 * 1024 * 1024 {
        content.push_str(line);
    }
    std::fs::write(&path, &content).unwrap();
    let started = std::time::Instant::now();
    let stderr = assert_bad_input_located(&path);
    assert!(stderr.contains("larger than"), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn binary_junk_is_refused_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed);
    // Not UTF-8.
    let junk: Vec<u8> = (0..4096)
        .map(|_| rng.next() as u8)
        .chain([0xff, 0xfe])
        .collect();
    let path = dir.path().join("junk.bin");
    std::fs::write(&path, &junk).unwrap();
    assert_bad_input_located(&path);
    // UTF-8, but control characters and NULs.
    let path = dir.path().join("controls.yaml");
    std::fs::write(&path, b"version: 1\nmodes:\n  \x01\x02\x00\x1b[31m: x\n").unwrap();
    assert_bad_input_located(&path);
    // A gzip header.
    let path = dir.path().join("policy.yaml.gz");
    std::fs::write(
        &path,
        [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03],
    )
    .unwrap();
    assert_bad_input_located(&path);
}

#[test]
fn missing_file_is_bad_input() {
    let out = skset(&["policy", "check", "/nonexistent/policy.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint: check the path"));
}

/// SplitMix64: deterministic, so a failure reproduces from the printed iteration.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that matter to YAML, serde and our own grammars.
const TOKENS: &[&[u8]] = &[
    b": ",
    b"- ",
    b"&a ",
    b"*a",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"'",
    b"\n",
    b"  ",
    b"---\n",
    b"...\n",
    b"!!binary ",
    b"!!str ",
    b"!custom ",
    b"<<: *a\n",
    b"? ",
    b"|\n",
    b">-\n",
    b"# c\n",
    b"\t",
    b"%YAML 1.2\n",
    b"\xef\xbb\xbf",
    b"\0",
    b"\xff",
    b"\xc3",
    b"version: 2\n",
    b"1e999",
    b".nan",
    b"0x1F",
    b"~",
    b"null",
    b"true",
    b"yes",
    b"-1",
    b"99999999999999999999",
    b"touch: false\n",
    b"resident: false\n",
    b"from: [\"10.0.0.1/33\"]",
    b"command: x\\",
    b"options: ['a=\"b']",
    b"lifetime: 0",
    b"user_id: \"\\0\"",
    b"application: \"\\u00e9\"",
    b"\\",
    b",",
    b"=",
    b"\r\n",
    b"\xe2\x80\xa8",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    match rng.below(6) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] = rng.next() as u8;
        }
        1 if !input.is_empty() => {
            let a = rng.below(input.len());
            let b = (a + rng.below(64)).min(input.len());
            input.drain(a..b);
        }
        2 | 3 => {
            let i = rng.below(input.len() + 1);
            let tok = TOKENS[rng.below(TOKENS.len())];
            input.splice(i..i, tok.iter().copied());
        }
        4 if !input.is_empty() => {
            let a = rng.below(input.len());
            let b = (a + rng.below(200)).min(input.len());
            let chunk = input[a..b].to_vec();
            let i = rng.below(input.len() + 1);
            input.splice(i..i, chunk);
        }
        _ => {
            let n = rng.below(input.len() + 1);
            input.truncate(n);
        }
    }
}

/// Whatever loads must survive every later stage too.
fn exercise(bytes: &[u8]) {
    match load_policy_bytes("fuzz.yaml", None, bytes) {
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with("fuzz.yaml"), "{shown}");
            if let Some(l) = e.location {
                assert!(l.line >= 1 && l.column >= 1, "{shown}");
            }
        }
        Ok(p) => {
            let findings = rules::check(&p);
            let _ = serde_json::to_string(&findings).unwrap();
            let _ = serde_json::to_string(&policy::explain(&p)).unwrap();
            if let Ok(plan) = policy::plan(&p, "fuzz") {
                let _ = serde_json::to_string(&plan);
                for k in &plan.keys {
                    let _ = k.authorized_keys_line("sk-ssh-ed25519@openssh.com", "AAAA");
                }
            }
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out = vec![
        policy::DEFAULT_POLICY_YAML.as_bytes().to_vec(),
        std::fs::read(root().join("policies/two-keys.yaml")).unwrap(),
    ];
    for dir in [
        "tests/fixtures/policy/rules",
        "tests/fixtures/policy/malformed",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|p| std::fs::read(p).unwrap()));
    }
    out
}

#[test]
fn fuzz_mutated_policies_never_panic() {
    let seeds = seeds();
    let mut rng = Rng(0xdecaf);
    let iterations: usize = std::env::var("SKSET_FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    for i in 0..iterations {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut rng, &mut input);
        }
        let result = std::panic::catch_unwind(|| exercise(&input));
        if result.is_err() {
            panic!(
                "iteration {i} panicked on input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn fuzz_random_bytes_never_panic() {
    let mut rng = Rng(0xb1a5);
    for i in 0..1500 {
        let len = rng.below(300);
        let input: Vec<u8> = (0..len)
            .map(|_| {
                const SIGNIFICANT: &[u8] = b":-[]{}&*!|>'\"#\n ";
                if rng.below(3) == 0 {
                    SIGNIFICANT[rng.below(SIGNIFICANT.len())]
                } else {
                    rng.next() as u8
                }
            })
            .collect();
        if std::panic::catch_unwind(|| exercise(&input)).is_err() {
            panic!("iteration {i} panicked on {input:?}");
        }
    }
}

#[test]
fn versions_are_probed_before_the_schema() {
    // A future version with fields v1 does not know fails on the version, not the field.
    let e =
        policy::load_policy_str("f.yaml", None, "version: 3\nmodes: {}\nquorum: 2\n").unwrap_err();
    assert!(e.to_string().contains("version 3 is not supported"), "{e}");
    assert!(e.to_string().contains("1"), "{e}");
}
