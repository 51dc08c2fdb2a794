//! Every rule has fixtures in tests/fixtures/policy/rules/: `SKnnn-break*.yaml` violate it
//! (first line `# expect: SKnnn [mode NAME]`), `SKnnn-pass.yaml` satisfy it and are clean
//! overall. Checked through the real binary, so exit codes and output are what users see.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use skset::policy::{load_policy_file, rules, Severity, RULES};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy/rules")
}

fn skset(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skset"))
        .args(args)
        .output()
        .expect("run skset")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (rule id, mode) from the fixture's `# expect:` line.
fn expectation(path: &Path) -> (String, Option<String>) {
    let content = std::fs::read_to_string(path).unwrap();
    let first = content.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{} lacks `# expect:`", path.display()));
    let mut words = rest.split_whitespace();
    let id = words.next().unwrap().to_string();
    let mode = match (words.next(), words.next()) {
        (Some("mode"), Some(m)) => Some(m.to_string()),
        _ => None,
    };
    (id, mode)
}

#[test]
fn every_rule_has_break_and_pass_fixtures() {
    for rule in RULES {
        let pass = fixtures().join(format!("{}-pass.yaml", rule.id));
        assert!(pass.exists(), "missing {}", pass.display());
        let breaks = break_fixtures(rule.id);
        assert!(!breaks.is_empty(), "no {}-break*.yaml", rule.id);
    }
}

fn break_fixtures(id: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{id}-break"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn break_fixtures_fail_with_rule_id_and_mode() {
    for rule in RULES {
        for path in break_fixtures(rule.id) {
            let (id, mode) = expectation(&path);
            assert_eq!(id, rule.id, "{}", path.display());
            let p = path.to_str().unwrap();
            // Warnings fail only with --fail-on warning; errors fail by default.
            let out = if rule.severity == Severity::Error {
                skset(&["policy", "check", p])
            } else {
                let plain = skset(&["policy", "check", p]);
                assert_eq!(
                    plain.status.code(),
                    Some(0),
                    "{p}: warnings alone must not fail\n{}",
                    text(&plain.stdout)
                );
                skset(&["policy", "check", "--fail-on", "warning", p])
            };
            let stdout = text(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{p}\nstdout: {stdout}\nstderr: {}",
                text(&out.stderr)
            );
            let line = stdout
                .lines()
                .find(|l| l.contains(&format!("[{} {}]", rule.id, rule.name)))
                .unwrap_or_else(|| panic!("{p}: no finding for {}:\n{stdout}", rule.id));
            match &mode {
                Some(m) => assert!(
                    line.contains(&format!("mode {m}:")),
                    "{p}: mode {m} not named in {line}"
                ),
                None => assert!(
                    !line.contains(" mode "),
                    "{p}: policy-wide rule names a mode: {line}"
                ),
            }
            assert!(stdout.contains("  fix: "), "{p}: no fix line");
            // Findings carry file:line:column when they concern a mode.
            if mode.is_some() {
                assert!(
                    line.starts_with(&format!("{p}:"))
                        && line[p.len() + 1..]
                            .split(':')
                            .take(2)
                            .all(|n| n.parse::<u32>().is_ok()),
                    "{p}: not located: {line}"
                );
            }
        }
    }
}

#[test]
fn pass_fixtures_are_clean() {
    for rule in RULES {
        let path = fixtures().join(format!("{}-pass.yaml", rule.id));
        let p = path.to_str().unwrap();
        let policy = load_policy_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let findings = rules::check(&policy);
        assert!(
            findings.iter().all(|f| f.rule != rule.id),
            "{p}: {findings:#?}"
        );
        let out = skset(&["policy", "check", "--fail-on", "info", p]);
        assert_eq!(out.status.code(), Some(0), "{p}: {}", text(&out.stdout));
        assert!(out.stdout.is_empty(), "{p}: {}", text(&out.stdout));
    }
}

#[test]
fn shipped_policies_are_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = ["policies/four-mode.yaml", "policies/two-keys.yaml"]
        .map(|f| root.join(f).to_string_lossy().into_owned());
    let mut args = vec!["policy", "check", "--fail-on", "info"];
    args.extend(files.iter().map(String::as_str));
    let out = skset(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn rules_listing_names_every_rule() {
    let out = skset(&["policy", "rules", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, RULES.iter().map(|r| r.id).collect::<Vec<_>>());
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["rationale"].as_str().unwrap().len() > 40));
}

#[test]
fn json_check_reports_findings_and_errors() {
    let bad = fixtures().join("SK001-break.yaml");
    let out = skset(&[
        "policy",
        "check",
        "--json",
        bad.to_str().unwrap(),
        "/nonexistent/policy.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2), "an unreadable file dominates");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["findings"][0]["rule"], "SK001");
    assert_eq!(v[0]["findings"][0]["mode"], "robo");
    assert_eq!(v[0]["ok"], false);
    assert!(v[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot read"));
}

#[test]
fn docs_list_every_rule_with_its_severity() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy.md"))
        .unwrap();
    for r in RULES {
        let heading = format!("### {} `{}` ({})", r.id, r.name, r.severity);
        assert!(doc.contains(&heading), "docs/policy.md lacks {heading:?}");
        assert!(
            doc.contains(r.rationale),
            "docs/policy.md has a stale rationale for {}",
            r.id
        );
    }
}

#[test]
fn docs_list_every_schema_field() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy.md"))
        .unwrap();
    // Ask the loader itself which fields exist: an unknown field lists the expected ones.
    let probes = [
        ("", "version: 1\nbogus: 1\nmodes: {}\n"),
        ("", "version: 1\nsettings: { bogus: 1 }\nmodes: {}\n"),
        (
            "",
            "version: 1\nmodes: { m: { bogus: 1, server: { account: a } } }\n",
        ),
        (
            "agent.",
            "version: 1\nmodes: { m: { agent: { bogus: 1 }, server: { account: a } } }\n",
        ),
        (
            "server.",
            "version: 1\nmodes: { m: { server: { account: a, bogus: 1 } } }\n",
        ),
    ];
    for (prefix, yaml) in probes {
        let e = skset::policy::load_policy_str("probe.yaml", None, yaml)
            .unwrap_err()
            .to_string();
        let list = e
            .split("expected one of ")
            .nth(1)
            .unwrap_or_else(|| panic!("{e}"))
            .lines()
            .next()
            .unwrap();
        for field in list.split(", ") {
            let field = field.trim_matches(['`', ' ']);
            let documented = format!("`{prefix}{field}`");
            // A nested mapping is documented through its fields (`agent.load`, ...).
            let nested = format!("`{prefix}{field}.");
            assert!(
                doc.contains(&documented) || doc.contains(&nested),
                "docs/policy.md does not document {documented}"
            );
        }
    }
}
