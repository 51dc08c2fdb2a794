//! `skset enroll`: a policy's keys onto a security key, files into a directory.

use super::device_args::{stderr_touch_prompts, DeviceArgs};
use super::output::Stdout;
use super::plan_input::PlanArgs;
use super::secrets;
use super::{Failure, Outcome};
use anyhow::anyhow;
use clap::Args;
use serde::Serialize;
use skset::device::Pin;
use skset::enroll::{
    self, CheckStatus, EnrollError, EnrollEvent, ModeAction, ModeOutcome, Preflight,
    PreflightOptions, Secrets,
};
use skset::export;
use skset::openssh::private_key::Passphrase;
use skset::policy::model::PassphraseRule;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_help = "What it does, in order:
  1. pre-flight: the key supports each mode's algorithm, credProtect and credential management;
     a PIN is set and long enough; enough resident slots; nothing on the key or on disk would
     be overwritten;
  2. per mode: make the credential (touch the key when it blinks), then write its files at
     once: private key (0600), .pub, attestation and its challenge;
  3. print the authorized_keys lines per account and the next steps.

A credential already on the key for a mode's application and user is kept and its files are
written (nothing is overwritten). To delete it and make a new one, name the mode:
--replace-existing root. Existing files are never replaced without --force (a backup is kept).
If enrollment stops half way (touch refused, key pulled, disk full), run the same command
again: finished modes are recognised and skipped, resident credentials are picked up.

Examples:
  skset enroll --policy policies/four-mode.yaml --out ~/.ssh
  skset enroll --policy policies/four-mode.yaml --out ~/.ssh --only wheel
  skset enroll --simulate --policy policies/four-mode.yaml --out /tmp/try --pin-file pin.txt \\
               --passphrase-file wheel-pass.txt --yes --json")]
pub struct EnrollArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Directory for the key files (created 0700 if missing), usually ~/.ssh.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub device: DeviceArgs,

    #[command(flatten)]
    pub secrets: secrets::SecretArgs,

    /// Enroll only these modes (repeatable). Default: every mode of this key.
    #[arg(long, value_name = "MODE")]
    pub only: Vec<String>,

    /// Delete this mode's existing credential on the key and make a new one (repeatable).
    /// The old public key stops working everywhere.
    #[arg(long, value_name = "MODE")]
    pub replace_existing: Vec<String>,

    /// Replace existing key files (each old file is kept as a backup beside it).
    #[arg(long)]
    pub force: bool,

    /// Do not ask "proceed?" on a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct EnrollReport<'a> {
    policy: &'a str,
    device: &'a str,
    preflight: &'a [skset::enroll::Check],
    modes: &'a [ModeOutcome],
    failed: Option<FailedMode>,
    authorized_keys: Vec<export::AccountLines>,
    next_steps: Vec<String>,
}

#[derive(Debug, Serialize)]
struct FailedMode {
    mode: String,
    kind: String,
    message: String,
    not_attempted: Vec<String>,
}

/// Minimum length for a file passphrase typed by a person.
pub const MIN_PASSPHRASE_CHARS: usize = 10;

pub fn run(args: &EnrollArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    let mut plan = args.plan.load()?;
    plan.keys
        .retain(|k| args.only.is_empty() || args.only.contains(&k.mode));
    if plan.keys.is_empty() {
        return Err(Failure::bad_input(anyhow!(
            "no mode left to enroll: --only names none of {}",
            args.plan.mode_names()?.join(", ")
        )));
    }
    for mode in &args.replace_existing {
        if !plan.keys.iter().any(|k| &k.mode == mode) {
            return Err(Failure::bad_input(anyhow!(
                "--replace-existing {mode}: the policy has no such mode (modes: {})",
                args.plan.mode_names()?.join(", ")
            )));
        }
    }

    let opened = args.device.open(Some(stderr_touch_prompts()))?;
    let device = opened.authenticator();
    // A simulated key has no PIN yet: the one given becomes its first.
    let pin: Option<Pin> = if args.device.simulate || device.info()?.pin_is_set() {
        let pin = secrets::pin_from(
            args.secrets.pin_file.as_deref(),
            "PIN for the security key: ",
        )?;
        opened.adopt_pin_if_simulated(&pin)?;
        Some(pin)
    } else {
        None
    };
    let options = PreflightOptions {
        replace_existing: args.replace_existing.clone(),
        force: args.force,
    };
    let preflight = enroll::preflight(device, &plan, pin.as_ref(), &args.out, &options)?;
    print_preflight(&preflight);
    if !preflight.ready() {
        let needs_confirmation = preflight.failures().all(|c| c.id.starts_with("files:"));
        let first = preflight
            .failures()
            .next()
            .map(|c| format!("{} {}", c.message, c.fix.clone().unwrap_or_default()))
            .unwrap_or_default();
        let outcome = if needs_confirmation {
            Outcome::NeedsConfirmation
        } else if preflight.failures().any(|c| c.id == "out-dir") {
            Outcome::BadInput
        } else {
            Outcome::Device
        };
        return Err(Failure {
            outcome,
            kind: "preflight",
            error: anyhow!("pre-flight failed, nothing was written: {first}"),
        });
    }

    // Every secret is gathered before the first touch, so enrollment runs without pauses.
    let mut secrets_by_mode = Secrets::default();
    let needs_passphrase: Vec<&str> = plan
        .keys
        .iter()
        .zip(&preflight.modes)
        .filter(|(k, m)| {
            k.passphrase == PassphraseRule::Required
                && !matches!(m.action, ModeAction::AlreadyEnrolled)
        })
        .map(|(k, _)| k.mode.as_str())
        .collect();
    if !needs_passphrase.is_empty() {
        let passphrase = read_new_passphrase(args, &needs_passphrase)?;
        for mode in needs_passphrase {
            secrets_by_mode
                .passphrases
                .insert(mode.to_string(), Passphrase::new(passphrase.clone()));
        }
    }

    if !args.yes && std::io::stdin().is_terminal() && !args.json {
        eprintln!();
        for (key, decided) in plan.keys.iter().zip(&preflight.modes) {
            eprintln!(
                "  {:<6} {:<18} {:<14} -> {}",
                key.mode,
                action_text(&decided.action),
                key.application,
                args.out.join(&key.private_key_file).display()
            );
        }
        if !confirm("Proceed? [y/N] ")? {
            return Err(Failure {
                outcome: Outcome::NeedsConfirmation,
                kind: "not-confirmed",
                error: anyhow!("nothing was done"),
            });
        }
    }

    let events = |event: EnrollEvent| match event {
        EnrollEvent::ModeStarted { mode } => eprintln!("[{mode}] starting"),
        EnrollEvent::CredentialDeleted { mode } => {
            eprintln!("[{mode}] deleted the old credential from the key")
        }
        EnrollEvent::CredentialCreated { mode, fingerprint } => {
            eprintln!("[{mode}] credential created: {fingerprint}")
        }
        EnrollEvent::FilesWritten { mode, files } => {
            for f in files {
                eprintln!("[{mode}] wrote {}", f.display());
            }
        }
        EnrollEvent::ModeFinished { .. } | EnrollEvent::TouchNeeded { .. } => {}
    };
    let mut outcomes = Vec::new();
    let mut failed: Option<(String, EnrollError)> = None;
    for (key, decided) in plan.keys.iter().zip(&preflight.modes) {
        match enroll::enroll_mode(
            device,
            key,
            decided,
            pin.as_ref(),
            &secrets_by_mode,
            &args.out,
            &events,
        ) {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                failed = Some((key.mode.clone(), e));
                break;
            }
        }
    }

    let public_keys = outcomes
        .iter()
        .map(|o| skset::openssh::public_key::SkPublicKey::parse_line(&o.public_key_line))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::from)?;
    let pairs: Vec<_> = outcomes
        .iter()
        .zip(&public_keys)
        .filter_map(|(o, p)| plan.keys.iter().find(|k| k.mode == o.mode).map(|k| (k, p)))
        .collect();
    let accounts = export::authorized_keys(&pairs).map_err(anyhow::Error::from)?;
    let next_steps = next_steps(args, &plan);
    let failed_report = failed.as_ref().map(|(mode, e)| FailedMode {
        mode: mode.clone(),
        kind: e
            .device_error()
            .map(|d| d.kind().to_string())
            .unwrap_or_else(|| "enroll".into()),
        message: e.to_string(),
        not_attempted: plan
            .keys
            .iter()
            .map(|k| k.mode.clone())
            .skip_while(|m| m != mode)
            .skip(1)
            .collect(),
    });

    let io = |e: std::io::Error| Failure::from(anyhow::Error::from(e));
    if args.json {
        let report = EnrollReport {
            policy: &plan.policy,
            device: device.path(),
            preflight: &preflight.checks,
            modes: &outcomes,
            failed: failed_report,
            authorized_keys: accounts,
            next_steps,
        };
        serde_json::to_writer_pretty(&mut *out, &report).map_err(anyhow::Error::from)?;
        writeln!(out).map_err(io)?;
    } else {
        eprintln!();
        for o in &outcomes {
            eprintln!(
                "{:<6} {:<16} {}",
                o.mode,
                format!("{:?}", o.status).to_lowercase(),
                o.fingerprint
            );
        }
        if !accounts.is_empty() {
            eprintln!("\nauthorized_keys lines (stdout):");
            write!(out, "{}", export::authorized_keys_text(&accounts)).map_err(io)?;
            out.flush().map_err(io)?;
        }
        if failed.is_none() {
            eprintln!("\nNext steps:");
            for step in &next_steps {
                eprintln!("  {step}");
            }
        }
    }

    match failed {
        None => Ok(Outcome::Success),
        Some((mode, error)) => {
            let remaining: Vec<String> = plan
                .keys
                .iter()
                .map(|k| k.mode.clone())
                .skip_while(|m| *m != mode)
                .skip(1)
                .collect();
            let done: Vec<String> = outcomes.iter().map(|o| o.mode.clone()).collect();
            let summary = format!(
                "{error}\nFinished and written: {}. Not attempted: {}. Every file written is complete; run the same command again to continue.",
                if done.is_empty() { "none".into() } else { done.join(", ") },
                if remaining.is_empty() { "none".into() } else { remaining.join(", ") }
            );
            let (outcome, kind) = match &error {
                EnrollError::Device { source, .. } => (Outcome::Device, source.kind()),
                EnrollError::Blocked { .. } => (Outcome::NeedsConfirmation, "blocked"),
                _ => (Outcome::BadInput, "enroll"),
            };
            Err(Failure {
                outcome,
                kind,
                error: anyhow!(summary),
            })
        }
    }
}

fn action_text(action: &ModeAction) -> &'static str {
    match action {
        ModeAction::Create => "create",
        ModeAction::Adopt => "keep existing",
        ModeAction::AlreadyEnrolled => "already enrolled",
        ModeAction::Replace => "REPLACE existing",
        ModeAction::Blocked { .. } => "blocked",
    }
}

fn print_preflight(preflight: &Preflight) {
    for check in &preflight.checks {
        let mark = match check.status {
            CheckStatus::Pass => "ok  ",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "FAIL",
        };
        eprintln!("[{mark}] {}", check.message);
        if check.status != CheckStatus::Pass {
            if let Some(fix) = &check.fix {
                eprintln!("       -> {fix}");
            }
        }
    }
}

fn read_new_passphrase(
    args: &EnrollArgs,
    modes: &[&str],
) -> Result<zeroize::Zeroizing<String>, Failure> {
    let passphrase = match &args.secrets.passphrase_file {
        Some(path) => secrets::read_secret_file(path)?,
        None => {
            let first = secrets::prompt_secret(&format!(
                "New passphrase for the {} key file ({} characters or more): ",
                modes.join("/"),
                MIN_PASSPHRASE_CHARS
            ))?;
            let second = secrets::prompt_secret("Repeat the passphrase: ")?;
            if first.as_str() != second.as_str() {
                return Err(Failure::bad_input(anyhow!(
                    "the two passphrases differ; nothing was done"
                )));
            }
            first
        }
    };
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Failure::bad_input(anyhow!(
            "the passphrase for {} is shorter than {MIN_PASSPHRASE_CHARS} characters; it is what stands between a copy of the file and ssh-agent",
            modes.join("/")
        )));
    }
    Ok(passphrase)
}

fn confirm(prompt: &str) -> Result<bool, Failure> {
    eprint!("{prompt}");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(anyhow::Error::from)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn next_steps(args: &EnrollArgs, plan: &skset::policy::EnrollmentPlan) -> Vec<String> {
    let policy = args.plan.policy_arg();
    let mut steps = vec![
        format!("install the authorized_keys lines on your servers: skset authorized-keys{policy} --pub-dir {} | less", args.out.display()),
        format!("add the ssh_config snippet: skset export ssh-config{policy} >> ~/.ssh/config"),
    ];
    for line in export::agent_commands(plan, &args.out.display().to_string()) {
        steps.push(format!("load the agent key when you need it: {line}"));
    }
    if export::pam_snippet(plan).is_some() {
        steps.push(format!(
            "ask for TOTP at sudo on the servers: skset export pam{policy}"
        ));
    }
    steps
}
