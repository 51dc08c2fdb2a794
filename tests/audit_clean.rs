//! Files written the way `skset enroll`, `skset authorized-keys` and `skset export` write
//! them, for the four-mode policy, audit clean: through the library and the binary.

mod audit_support;

use audit_support::*;
use skset::openssh::sk_key::SkAlgorithm;

#[test]
fn an_enrolled_four_mode_tree_is_clean_but_for_the_self_attestation_notes() {
    let tree = four_mode_tree();
    let (findings, summary) = tree.audit();
    assert!(
        significant(&findings).is_empty(),
        "unexpected findings:\n{}",
        findings
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // One note per attested key: OpenSK-style self-attestation is no evidence of hardware.
    assert_eq!(of_rule(&findings, "AU023").len(), 4);
    assert_eq!(summary.private_keys, 4);
    assert_eq!(summary.authorized_keys_entries, 4);
    assert_eq!(summary.sk_keys, 8);
    assert_eq!(summary.attestations.len(), 4);
    assert!(summary
        .attestations
        .iter()
        .all(|a| a.verified && a.verification.is_self_attestation()));
    assert_eq!(summary.ssh_configs.len(), 1, "the ssh dir's config is read");
    // authorized_keys inside ~/.ssh is not there; the four server files are.
    assert_eq!(summary.authorized_keys.len(), 4);
    let accounts: Vec<_> = summary
        .authorized_keys
        .iter()
        .filter_map(|a| a.account.as_deref())
        .collect();
    assert_eq!(accounts, ["admin", "robo", "root", "wheel"]);
}

#[test]
fn ecdsa_keys_are_clean_too() {
    let tree = tree_for(
        skset::policy::default_policy().unwrap(),
        SkAlgorithm::EcdsaP256,
    );
    let (findings, _) = tree.audit();
    assert!(significant(&findings).is_empty(), "{findings:#?}");
    assert_eq!(of_rule(&findings, "AU023").len(), 4);
}

#[test]
fn the_binary_exits_0_even_failing_on_warnings_and_reports_json() {
    let tree = four_mode_tree();
    let mut cmd = skset();
    cmd.args(["audit", "--ssh-dir"])
        .arg(&tree.ssh_dir)
        .args(["--fail-on", "warning", "--json"]);
    for path in tree.authorized_keys.values() {
        cmd.arg("--authorized-keys").arg(path);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["schema"], "skset-audit/1");
    assert_eq!(doc["policy"], "four-mode");
    assert_eq!(doc["fail_on"], "warning");
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["summary"]["counts"]["error"], 0);
    assert_eq!(doc["summary"]["counts"]["info"], 4);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 4);
    assert_eq!(doc["findings"][0]["rule"], "AU023");
    assert_eq!(doc["summary"]["attestations"].as_array().unwrap().len(), 4);
    assert_eq!(
        doc["summary"]["attestations"][0]["kind"],
        "self-attestation"
    );

    // --fail-on info counts the notes.
    let mut cmd = skset();
    cmd.args(["audit", "--ssh-dir"])
        .arg(&tree.ssh_dir)
        .args(["--fail-on", "info"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("SEVERITY"), "{text}");
    assert!(text.contains("AU023 attestation-self"), "{text}");
    assert!(text.contains("FAIL"), "{text}");
}

#[test]
fn with_vendor_attestations_and_their_root_there_is_no_finding_at_all() {
    let tree = four_mode_tree();
    let roots = attest_with_vendor_ca(&tree);
    let mut input = tree.input();
    input.roots = Some(roots);
    let (findings, summary) = tree.audit_with(&input);
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(summary
        .attestations
        .iter()
        .all(|a| a.verified && !a.verification.is_self_attestation()));
    assert_eq!(summary.attestations.len(), 4);
}
