//! `skset audit`: what is deployed, checked against a policy, for a security team.

use super::output::{outln, Stdout};
use super::{Failure, Outcome};
use anyhow::anyhow;
use clap::{Args, ValueEnum};
use skset::audit::{self, report, AuditInput, AuthorizedKeysInput, Severity};
use skset::policy;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Checks key files in each --ssh-dir (and the authorized_keys and config inside it),
authorized_keys files of servers, and ssh_config files, against the policy's modes: flags,
passphrases, permissions, server options (no-touch-required, verify-required, from=,
command=), accounts, agent forwarding and lifetimes, and the attestation beside each key.
Every finding has a stable rule ID (skset audit --list-rules; docs/audit.md).

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 an input could
not be read at all (a malformed line is a finding, never an error).

Examples:
  skset audit --policy four-mode.yaml --ssh-dir ~/.ssh
  skset audit --policy four-mode.yaml --authorized-keys /root/.ssh/authorized_keys \\
      --authorized-keys /srv/dump/web1.keys:admin --fail-on warning
  skset audit --policy four-mode.yaml --ssh-dir ~/.ssh --ssh-config ~/.ssh/config.d/work --json | jq '.findings[]'
  skset audit --list-rules"
)]
pub struct AuditArgs {
    /// The policy file (YAML). Default: the built-in four-mode policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// A ~/.ssh directory: its key files, attestations, authorized_keys and config (repeatable).
    #[arg(long = "ssh-dir", value_name = "DIR")]
    pub ssh_dirs: Vec<PathBuf>,

    /// A server's authorized_keys file, optionally with the account it belongs to
    /// (repeatable). Without ACCOUNT it comes from the path: /root/... or /home/NAME/...
    #[arg(long = "authorized-keys", value_name = "FILE[:ACCOUNT]")]
    pub authorized_keys: Vec<String>,

    /// An ssh_config file (repeatable). Each --ssh-dir's config is read anyway.
    #[arg(long = "ssh-config", value_name = "FILE")]
    pub ssh_configs: Vec<PathBuf>,

    /// Trusted attestation roots: a directory of PEM/DER certificates, or one file.
    /// Default: the policy's settings.trusted_attestation_roots.
    #[arg(long, value_name = "DIR")]
    pub roots: Option<PathBuf>,

    /// Exit 1 when there are findings of this severity or worse.
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// Print a JSON document (schema skset-audit/1, see docs/audit.md) instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Print every rule (ID, severity, name, what it demands) and exit.
    #[arg(long)]
    pub list_rules: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Severity {
        match f {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

pub fn run(args: &AuditArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    if args.list_rules {
        if args.json {
            outln!(
                out,
                "{}",
                serde_json::to_string_pretty(audit::AUDIT_RULES).map_err(anyhow::Error::from)?
            );
        } else {
            let _ = write!(out, "{}", report::rules_table());
        }
        return Ok(Outcome::Success);
    }
    if args.ssh_dirs.is_empty() && args.authorized_keys.is_empty() && args.ssh_configs.is_empty() {
        return Err(Failure::bad_input(anyhow!("nothing to audit: give --ssh-dir DIR, --authorized-keys FILE[:ACCOUNT] or --ssh-config FILE (see skset audit --help)")));
    }
    let policy = match &args.policy {
        Some(path) => policy::load_policy_file(path),
        None => policy::default_policy(),
    }
    .map_err(|e| Failure::bad_input(anyhow!("{e}")))?;
    let violations: Vec<String> = policy::rules::errors(&policy::check(&policy))
        .map(|f| f.to_string())
        .collect();
    if !violations.is_empty() {
        return Err(Failure::bad_input(anyhow!("the policy breaks its own rules, so auditing against it would mislead; fix it first (skset policy check):\n{}", violations.join("\n"))));
    }
    let input = AuditInput {
        ssh_dirs: args.ssh_dirs.clone(),
        authorized_keys: args
            .authorized_keys
            .iter()
            .map(|a| AuthorizedKeysInput::parse(a))
            .collect(),
        ssh_configs: args.ssh_configs.clone(),
        roots: args.roots.clone(),
        policy_dir: args
            .policy
            .as_ref()
            .and_then(|p| p.parent())
            .map(|p| p.to_path_buf()),
    };
    // Inputs that cannot be read fail before the report starts (exit 2, JSON error by the dispatcher).
    audit::preflight(&input).map_err(|e| Failure::bad_input(e.into()))?;
    audit::load_anchors(&policy, input.roots.as_deref(), input.policy_dir.as_deref())
        .map_err(|e| Failure::bad_input(anyhow!("attestation roots: {e}")))?;

    let fail_on = Severity::from(args.fail_on);
    // Stdout flushes at every newline; a fleet-size report is written in 64 KiB blocks.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let out = &mut out;
    let mut first = true;
    if args.json {
        let _ = write!(out, "{}", report::json_open(&policy.name, fail_on));
    } else {
        let _ = write!(out, "{}", report::text_header());
    }
    let json = args.json;
    let result = audit::audit(&policy, &input, &mut |finding| {
        let text = if json {
            report::json_finding(&finding, first)
        } else {
            report::text_finding(&finding)
        };
        first = false;
        let _ = write!(out, "{text}");
    });
    let (summary, error) = match result {
        Ok(summary) => (summary, None),
        // Something became unreadable half-way: close the report properly, then fail.
        Err(e) => (audit::AuditSummary::default(), Some(e)),
    };
    let outcome = match (&error, summary.counts.at_or_above(fail_on)) {
        (Some(_), _) => Outcome::BadInput,
        (None, 0) => Outcome::Success,
        (None, _) => Outcome::Findings,
    };
    let message = error.as_ref().map(|e| e.to_string());
    if json {
        outln!(
            out,
            "{}",
            report::json_close(&summary, outcome as u8, message.as_deref())
        );
    } else if let Some(m) = &message {
        outln!(out, "audit stopped: {m}");
    } else {
        let _ = write!(out, "{}", report::text_summary(&summary, fail_on));
    }
    let _ = out.flush();
    if let Some(m) = message {
        eprintln!("skset: {m}");
    }
    Ok(outcome)
}
