//! `skset policy ...`: check, explain and print policies.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use skset::policy::{self, explain::Exposure, rules, Finding, LoadError, Policy, Severity};

use super::output::{outln, Stdout};
use super::Outcome;
use std::io::Write;

#[derive(Debug, Args)]
#[command(
    about = "Check, explain and print skset policies (which SSH keys to make and how)",
    after_help = "\
Examples:
  skset policy show-default > my-policy.yaml     start from the four-mode model
  skset policy check my-policy.yaml              exit 0 clean, 1 violations, 2 unreadable
  skset policy explain my-policy.yaml --mode wheel
  skset policy rules                             every rule ID with its rationale"
)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Load policies and run every rule; print each finding with its rule ID, mode and fix.
    #[command(after_help = "\
Findings go to stdout as `file:line:column: severity[ID name] mode M: message` plus a
`fix:` line; the summary goes to stderr.

Exit codes:
  0  no finding at or above --fail-on (warnings alone pass by default)
  1  rule violations
  2  a file is unreadable or not a valid policy (the message has file:line:column)

Examples:
  skset policy check policies/*.yaml
  skset policy check --fail-on warning my-policy.yaml   treat warnings as failures too
  skset policy check --json my-policy.yaml | jq '.[].findings[].rule'")]
    Check(CheckArgs),
    /// Say, per mode, what a thief, a compromised forwarded host and a disk copy can do.
    #[command(after_help = "\
For each mode: what a thief holding the security key can do, what a compromised host you
reached with `ssh -A` can do, what a copy of the laptop's disk gives, and which rules
(IDs, see `skset policy rules`) make it so.

Examples:
  skset policy explain policies/four-mode.yaml
  skset policy explain policies/four-mode.yaml --mode robo
  skset policy explain policies/four-mode.yaml --json")]
    Explain(ExplainArgs),
    /// Print the built-in default policy (the four-mode model) to stdout.
    #[command(after_help = "Example:\n  skset policy show-default > ~/.config/skset/policy.yaml")]
    ShowDefault,
    /// List every rule: ID, name, severity, what it demands and why.
    #[command(after_help = "Examples:\n  skset policy rules\n  skset policy rules --json")]
    Rules(RulesArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    fn threshold(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files (YAML, `version: 1`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Lowest severity that makes the check fail (exit 1).
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Print one JSON array (per file: findings or the load error) to stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Policy file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only this mode.
    #[arg(long, value_name = "M")]
    pub mode: Option<String>,
    /// JSON to stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// JSON to stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PolicyArgs, out: &mut Stdout) -> Outcome {
    match args.command {
        PolicyCommand::Check(a) => check(out, a),
        PolicyCommand::Explain(a) => explain(out, a),
        PolicyCommand::ShowDefault => {
            let _ = write!(out, "{}", policy::DEFAULT_POLICY_YAML);
            Outcome::Success
        }
        PolicyCommand::Rules(a) => list_rules(out, a),
    }
}

/// Print a load error to stderr and say it is bad input.
pub fn report_load_error(e: &LoadError) -> Outcome {
    eprintln!("error: {e}");
    Outcome::BadInput
}

fn print_json(out: &mut Stdout, value: &impl serde::Serialize) -> bool {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            outln!(out, "{s}");
            true
        }
        Err(e) => {
            eprintln!("error: cannot encode JSON: {e}");
            false
        }
    }
}

/// `file:line:col: severity[ID name] mode M: message` + `  fix: ...`.
pub fn format_finding(file: &Path, f: &Finding) -> String {
    let at = match f.location {
        Some(l) => format!("{}:{}:{}", file.display(), l.line, l.column),
        None => file.display().to_string(),
    };
    format!("{at}: {f}")
}

fn check(out: &mut Stdout, args: CheckArgs) -> Outcome {
    let threshold = args.fail_on.threshold();
    let mut outcome = Outcome::Success;
    let mut json_out = Vec::new();
    for file in &args.files {
        match policy::load_policy_file(file) {
            Err(e) => {
                if args.json {
                    json_out.push(serde_json::json!({
                        "file": file.display().to_string(),
                        "error": {
                            "message": e.kind.to_string(),
                            "line": e.location.map(|l| l.line),
                            "column": e.location.map(|l| l.column),
                            "hint": e.hint(),
                        },
                    }));
                }
                eprintln!("error: {e}");
                outcome = Outcome::BadInput;
            }
            Ok(p) => {
                let findings = rules::check(&p);
                let failing = findings.iter().filter(|f| f.severity >= threshold).count();
                if args.json {
                    json_out.push(serde_json::json!({
                        "file": file.display().to_string(),
                        "policy": p.name,
                        "ok": failing == 0,
                        "findings": findings,
                    }));
                } else {
                    for f in &findings {
                        outln!(out, "{}", format_finding(file, f));
                    }
                }
                let count = |s| findings.iter().filter(|f| f.severity == s).count();
                let (e, w, i) = (
                    count(Severity::Error),
                    count(Severity::Warning),
                    count(Severity::Info),
                );
                if findings.is_empty() {
                    eprintln!("{}: ok ({} modes)", file.display(), p.modes.len());
                } else {
                    eprintln!("{}: {e} error(s), {w} warning(s), {i} info", file.display());
                }
                if failing > 0 && outcome == Outcome::Success {
                    outcome = Outcome::Findings;
                }
            }
        }
    }
    if args.json && !print_json(out, &json_out) {
        return Outcome::BadInput;
    }
    outcome
}

fn explain(out: &mut Stdout, args: ExplainArgs) -> Outcome {
    let p = match policy::load_policy_file(&args.file) {
        Ok(p) => p,
        Err(e) => return report_load_error(&e),
    };
    let mut explanations = policy::explain(&p);
    if let Some(name) = &args.mode {
        explanations.retain(|e| &e.mode == name);
        if explanations.is_empty() {
            eprintln!(
                "error: {} has no mode {name:?}; its modes are: {}",
                args.file.display(),
                mode_names(&p)
            );
            return Outcome::BadInput;
        }
    }
    let violations = rules::errors(&rules::check(&p)).count();
    if violations > 0 {
        eprintln!(
            "note: {} has {violations} rule violation(s); this explains the policy as written. Run `skset policy check {}`.",
            args.file.display(),
            args.file.display()
        );
    }
    if args.json {
        let doc = serde_json::json!({ "policy": p.name, "modes": explanations });
        return if print_json(out, &doc) {
            Outcome::Success
        } else {
            Outcome::BadInput
        };
    }
    for (i, e) in explanations.iter().enumerate() {
        if i > 0 {
            outln!(out);
        }
        match &e.description {
            Some(d) => outln!(out, "mode {}: {d}", e.mode),
            None => outln!(out, "mode {}", e.mode),
        }
        outln!(out, "  {}", e.summary);
        print_exposure(out, "A thief holding the security key", &e.device_thief);
        print_exposure(
            out,
            "A compromised host reached with a forwarded agent (ssh -A)",
            &e.forwarded_agent_host,
        );
        print_exposure(out, "A copy of the laptop's disk", &e.disk_copy);
    }
    Outcome::Success
}

fn print_exposure(out: &mut Stdout, who: &str, x: &Exposure) {
    outln!(out, "  {who}:");
    outln!(out, "    {}", x.text);
    let named: Vec<String> = x
        .rules
        .iter()
        .filter_map(|id| rules::rule(id))
        .map(|r| format!("{} {}", r.id, r.name))
        .collect();
    if !named.is_empty() {
        outln!(out, "    because of: {}", named.join(", "));
    }
}

fn mode_names(p: &Policy) -> String {
    p.modes
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_rules(out: &mut Stdout, args: RulesArgs) -> Outcome {
    if args.json {
        return if print_json(out, &rules::RULES) {
            Outcome::Success
        } else {
            Outcome::BadInput
        };
    }
    for r in rules::RULES {
        outln!(
            out,
            "{} {} ({})\n  {}\n  why: {}\n",
            r.id,
            r.name,
            r.severity,
            r.summary,
            r.rationale
        );
    }
    Outcome::Success
}
