//! How an audit is shown: a text table for people, JSON (schema `skset-audit/1`, see
//! `docs/audit.md`) for scripts. Both are written one finding at a time, so the report of a
//! fleet-size file is never held in memory whole.

use std::fmt::Write as _;

use serde::Serialize;

use super::rules::{AuditFinding, AUDIT_RULES};
use super::{AuditSummary, Severity};

/// The JSON document's `schema` value. Bumped only for incompatible changes.
pub const JSON_SCHEMA: &str = "skset-audit/1";

const RULE_WIDTH: usize = 38;

/// The table's header line.
pub fn text_header() -> String {
    format!("{:<8}  {:<RULE_WIDTH$}  LOCATION\n", "SEVERITY", "RULE")
}

/// One finding: a table row, then what is wrong and the fix, indented under it.
pub fn text_finding(f: &AuditFinding) -> String {
    let rule = format!("{} {}", f.rule, f.name);
    let mut out = format!(
        "{:<8}  {rule:<RULE_WIDTH$}  {}\n",
        f.severity.to_string(),
        f.location
    );
    let indent = " ".repeat(10);
    let _ = writeln!(out, "{indent}{}", one_line(&f.message));
    let _ = writeln!(out, "{indent}fix: {}", one_line(&f.fix));
    out
}

/// The closing lines: totals, what was read, attestation evidence.
pub fn text_summary(summary: &AuditSummary, fail_on: Severity) -> String {
    let c = summary.counts;
    let mut out = String::new();
    if c.error + c.warning + c.info == 0 {
        let _ = writeln!(out, "no findings.");
    }
    for a in &summary.attestations {
        let kind = match &a.verification.kind {
            super::attestation::AttestationKind::Certificate { subject, .. } => {
                format!("certificate {subject}")
            }
            super::attestation::AttestationKind::SelfAttestation => {
                "self-attestation (not evidence of hardware)".into()
            }
            super::attestation::AttestationKind::None => "no attestation statement".into(),
        };
        let _ = writeln!(
            out,
            "attestation {} ({}): {}, {kind}, AAGUID {}",
            a.file.display(),
            a.mode,
            if a.verified {
                "verified"
            } else {
                "NOT verified"
            },
            a.verification.aaguid.as_deref().unwrap_or("?"),
        );
    }
    let _ = writeln!(
        out,
        "audited against policy {}: {} file(s), {} line(s), {} private key(s), {} authorized key(s), {} sk key(s)",
        summary.policy, summary.files, summary.lines, summary.private_keys, summary.authorized_keys_entries, summary.sk_keys
    );
    let _ = writeln!(
        out,
        "{} error(s), {} warning(s), {} info; failing on {fail_on} and above: {}",
        c.error,
        c.warning,
        c.info,
        if c.at_or_above(fail_on) > 0 {
            "FAIL"
        } else {
            "pass"
        }
    );
    out
}

/// Text from files can hold anything; a report line must stay one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The opening of the JSON document, up to the findings array.
pub fn json_open(policy: &str, fail_on: Severity) -> String {
    format!(
        "{{\"schema\":{},\"policy\":{},\"fail_on\":{},\"findings\":[",
        json(&JSON_SCHEMA),
        json(&policy),
        json(&fail_on)
    )
}

/// One finding as an element of the findings array (`first` decides the comma).
pub fn json_finding(f: &AuditFinding, first: bool) -> String {
    format!("{}\n{}", if first { "" } else { "," }, json(f))
}

/// The rest of the document after the findings.
pub fn json_close(summary: &AuditSummary, exit_code: u8, error: Option<&str>) -> String {
    #[derive(Serialize)]
    struct Tail<'a> {
        summary: &'a AuditSummary,
        exit_code: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
    }
    let tail = json(&Tail {
        summary,
        exit_code,
        error,
    });
    // Splice the tail's fields after the findings array: `],"summary":...}`.
    format!("\n],{}", tail.strip_prefix('{').unwrap_or(&tail))
}

/// The rules as a table (for `skset audit --list-rules`).
pub fn rules_table() -> String {
    let mut out = String::new();
    for r in AUDIT_RULES {
        let _ = writeln!(
            out,
            "{}  {:<8} {}\n        {}",
            r.id,
            r.severity.to_string(),
            r.name,
            r.summary
        );
    }
    out
}

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("\"<unserialisable: {e}>\""))
}
