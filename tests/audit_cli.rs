//! `skset audit` through the binary: exit codes, the table, JSON errors, help.

mod audit_support;

use audit_support::*;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = skset().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn findings_exit_1_with_a_table_row_per_finding() {
    let tree = four_mode_tree();
    let wheel = tree.server_file("wheel");
    let line = std::fs::read_to_string(&wheel)
        .unwrap()
        .replace("no-touch-required ", "");
    tree.rewrite(&wheel, line.as_bytes());
    let (code, out, err) = run(&["audit", "--authorized-keys", wheel.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("SEVERITY  RULE"), "{out}");
    assert!(
        lines[1].starts_with("error     AU033 no-touch-required-missing"),
        "{out}"
    );
    assert!(
        lines[1].ends_with(&format!("{}:1", wheel.display())),
        "{out}"
    );
    assert!(
        lines[3]
            .trim_start()
            .starts_with("fix: add no-touch-required"),
        "{out}"
    );
    assert!(
        out.contains("1 error(s), 0 warning(s), 0 info; failing on error and above: FAIL"),
        "{out}"
    );
}

#[test]
fn warnings_pass_by_default_and_fail_with_fail_on_warning() {
    let tree = four_mode_tree();
    let admin = tree.server_file("admin");
    let text = std::fs::read_to_string(&admin).unwrap();
    tree.rewrite(&admin, format!("{text}{text}").as_bytes());
    let path = admin.to_str().unwrap();
    assert_eq!(run(&["audit", "--authorized-keys", path]).0, 0);
    assert_eq!(
        run(&["audit", "--authorized-keys", path, "--fail-on", "warning"]).0,
        1
    );
}

#[test]
fn unreadable_input_exits_2_and_a_bad_line_does_not() {
    let tree = four_mode_tree();
    let missing = tree.tmp.path().join("nope");
    let (code, out, err) = run(&["audit", "--authorized-keys", missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("cannot read") && err.contains("nope"), "{err}");
    assert!(out.is_empty(), "no half report: {out}");

    let (code, out, _) = run(&["audit", "--ssh-dir", missing.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["error"]["kind"], "bad-input");
    assert_eq!(doc["error"]["exit_code"], 2);

    let file = tree.server_file("root");
    let (code, _, err) = run(&["audit", "--ssh-dir", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a directory"), "{err}");

    let (code, _, err) = run(&["audit"]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to audit"), "{err}");

    let junk = tree.tmp.path().join("junk");
    std::fs::write(&junk, b"\xff\xfe\x00garbage\nfrom=x\n").unwrap();
    let (code, out, _) = run(&[
        "audit",
        "--authorized-keys",
        &format!("{}:admin", junk.display()),
    ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("AU030").count(), 2, "{out}");
}

#[test]
fn a_policy_that_breaks_its_rules_is_refused() {
    let tree = four_mode_tree();
    let bad = skset::policy::DEFAULT_POLICY_YAML.replacen("    pin: true\n", "    pin: false\n", 1);
    let path = tree.tmp.path().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let (code, _, err) = run(&[
        "audit",
        "--policy",
        path.to_str().unwrap(),
        "--ssh-dir",
        tree.ssh_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("skset policy check"), "{err}");
}

#[test]
fn list_rules_and_help() {
    let (code, out, _) = run(&["audit", "--list-rules"]);
    assert_eq!(code, 0);
    for rule in skset::audit::AUDIT_RULES {
        assert!(
            out.contains(rule.id) && out.contains(rule.name),
            "{}",
            rule.id
        );
    }
    let (_, out, _) = run(&["audit", "--list-rules", "--json"]);
    let rules: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        rules.as_array().unwrap().len(),
        skset::audit::AUDIT_RULES.len()
    );
    let (code, out, _) = run(&["audit", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Examples:") && out.contains("--authorized-keys <FILE[:ACCOUNT]>"),
        "{out}"
    );
    let (_, out, _) = run(&["attest", "verify", "--help"]);
    assert!(
        out.contains("Examples:") && out.contains("--challenge"),
        "{out}"
    );
}

#[test]
fn the_docs_list_every_rule_with_its_severity() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/audit.md")).unwrap();
    for rule in skset::audit::AUDIT_RULES {
        let heading = format!("### {} {}", rule.id, rule.name);
        assert!(doc.contains(&heading), "docs/audit.md lacks `{heading}`");
        let section = &doc[doc.find(&heading).unwrap()..];
        let section = &section[..section[4..]
            .find("\n### ")
            .map(|i| i + 4)
            .unwrap_or(section.len())];
        assert!(
            section.contains(&format!("Severity: **{}**", rule.severity)),
            "{} severity",
            rule.id
        );
        assert!(section.contains("Fix:"), "{} fix", rule.id);
    }
}
