//! `skset plan`: the concrete enrollment plan a policy implies, without touching a device.

use std::path::PathBuf;

use clap::Args;
use skset::policy::{self, EnrollmentPlan, PlanError};

use super::output::{outln, Stdout};
use super::policy::{format_finding, report_load_error};
use super::Outcome;
use std::io::Write;

#[derive(Debug, Args)]
#[command(
    about = "Show the enrollment plan for a policy: per key its flags, credProtect, identity, files, server line and the equivalent ssh-keygen command",
    after_help = "\
Nothing is written and no device is touched. The plan is what `skset enroll` would do;
the ssh-keygen commands make the same keys by hand (note -O application= and -O user=,
which keep the resident keys from overwriting each other on the device).

Flags byte (OpenSSH sk-api.h): 0x01 touch, 0x04 PIN, 0x20 resident.
Default policy: root 0x25, sudo 0x21, wheel 0x00, robo 0x20.

Exit codes: 0 plan printed, 1 the policy violates rules (see `skset policy check`),
2 unreadable policy or bad --label.

Examples:
  skset plan                                       the built-in four-mode policy
  skset plan --policy policies/two-keys.yaml --label work-laptop
  skset plan --policy my-policy.yaml --json | jq '.keys[] | {mode, flags_hex}'"
)]
pub struct PlanArgs {
    /// Policy file (default: the built-in four-mode policy, see `skset policy show-default`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Label for key comments ({label}); default: the policy's default_label, else the host name.
    #[arg(long, value_name = "L")]
    pub label: Option<String>,
    /// Print the plan as JSON to stdout (the structure the enrollment engine consumes).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PlanArgs, out: &mut Stdout) -> Outcome {
    let (file, loaded) = match &args.policy {
        Some(path) => (path.clone(), policy::load_policy_file(path)),
        None => (
            PathBuf::from(policy::load::DEFAULT_POLICY_NAME),
            policy::default_policy(),
        ),
    };
    let p = match loaded {
        Ok(p) => p,
        Err(e) => return report_load_error(&e),
    };
    let label = args
        .label
        .or_else(|| p.settings.default_label.clone())
        .unwrap_or_else(host_name);
    let plan = match policy::plan(&p, &label) {
        Ok(plan) => plan,
        Err(PlanError::Violations(findings)) => {
            for f in &findings {
                eprintln!("{}", format_finding(&file, f));
            }
            eprintln!(
                "error: {} violates {} rule(s); no plan. Fix them (see `skset policy check {}`).",
                file.display(),
                findings.len(),
                file.display()
            );
            return Outcome::Findings;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::BadInput;
        }
    };
    for f in &plan.findings {
        eprintln!("{}", format_finding(&file, f));
    }
    if args.json {
        return match serde_json::to_string_pretty(&plan) {
            Ok(s) => {
                outln!(out, "{s}");
                Outcome::Success
            }
            Err(e) => {
                eprintln!("error: cannot encode the plan as JSON: {e}");
                Outcome::BadInput
            }
        };
    }
    print_plan(out, &plan);
    Outcome::Success
}

fn print_plan(out: &mut Stdout, plan: &EnrollmentPlan) {
    outln!(
        out,
        "plan for policy {} (label {:?}), devices: {}",
        plan.policy,
        plan.label,
        plan.devices.join(", ")
    );
    outln!(
        out,
        "  minimum PIN length {}, bcrypt rounds {}, attestation {}",
        plan.min_pin_length,
        plan.kdf_rounds,
        if plan.require_attestation {
            "required"
        } else {
            "kept when given"
        }
    );
    for k in &plan.keys {
        outln!(out);
        outln!(out, "{} (device {})", k.mode, k.device);
        outln!(
            out,
            "  key type       {}{}",
            k.key_type,
            if k.ecdsa_fallback {
                " (ecdsa-p256 if the device lacks Ed25519)"
            } else {
                ""
            }
        );
        outln!(
            out,
            "  identity       application {}  user id {}",
            k.application,
            k.user_id_display
        );
        outln!(
            out,
            "  flags          {} ({}{}{})  credProtect {} {}",
            k.flags_hex,
            if k.touch { "touch" } else { "no touch" },
            if k.pin { ", PIN" } else { "" },
            if k.resident {
                ", resident"
            } else {
                ", non-resident"
            },
            k.cred_protect,
            k.cred_protect_name
        );
        outln!(
            out,
            "  files          ~/.ssh/{} .pub .attest   passphrase {}",
            k.private_key_file,
            k.passphrase
        );
        match (&k.ssh_add_command, k.agent_forwarding) {
            (Some(cmd), fwd) => outln!(
                out,
                "  agent          {cmd}{}",
                if fwd {
                    " (forwarding allowed)"
                } else {
                    " (do not forward)"
                }
            ),
            (None, _) => outln!(out, "  agent          not loaded"),
        }
        outln!(
            out,
            "  server         ~{}/.ssh/authorized_keys{}",
            k.account,
            if k.sudo_totp {
                " + TOTP for sudo (pam_google_authenticator)"
            } else {
                ""
            }
        );
        outln!(out, "                 {}", k.authorized_keys_template);
        outln!(out, "  ssh-keygen     {}", k.ssh_keygen_command);
    }
}

/// The host name for the default label: no libc call (the crate forbids unsafe), so the
/// kernel's answer on Linux, then the usual environment variables.
pub fn host_name() -> String {
    let from_file = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|s| !s.is_empty()))
        .map(|h| h.split('.').next().unwrap_or(&h).to_owned())
        .unwrap_or_else(|| "skset".into())
}
