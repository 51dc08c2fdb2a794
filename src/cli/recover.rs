//! `skset recover`: write the resident keys' files on a new machine.

use super::device_args::{stderr_touch_prompts, DeviceArgs};
use super::output::Stdout;
use super::plan_input::PlanArgs;
use super::secrets;
use super::{Failure, Outcome};
use clap::Args;
use skset::enroll::recover::recover;
use skset::enroll::{EnrollEvent, Secrets};
use skset::openssh::private_key::Passphrase;
use skset::policy::model::PassphraseRule;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_help = "What ssh-keygen -K does, done right:
  - each resident credential is matched to its mode by application and user id, and written
    under the policy's file name (id_root, ...) with 0600 and the policy's comment;
  - the policy's flags are applied: a recovered robo key is no-touch again (ssh-keygen -K
    always writes touch-required, so such a key would start asking for touches);
  - nothing is overwritten without --force (a backup is kept);
  - non-resident modes (wheel) are not on the security key at all: the report says how to
    carry their passphrase-protected file over from the old machine.

Examples:
  skset recover --policy policies/four-mode.yaml --out ~/.ssh
  skset recover --out /tmp/keys --pin-file pin.txt --json")]
pub struct RecoverArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Directory for the key files (created 0700 if missing), usually ~/.ssh.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub device: DeviceArgs,

    #[command(flatten)]
    pub secrets: secrets::SecretArgs,

    /// Replace existing files that hold a different key (a backup is kept).
    #[arg(long)]
    pub force: bool,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RecoverArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    let plan = args.plan.load()?;
    let opened = args.device.open(Some(stderr_touch_prompts()))?;
    let pin = secrets::pin_from(
        args.secrets.pin_file.as_deref(),
        "PIN for the security key: ",
    )?;
    opened.adopt_pin_if_simulated(&pin)?;
    let mut secrets_by_mode = Secrets::default();
    if plan
        .keys
        .iter()
        .any(|k| k.resident && k.passphrase == PassphraseRule::Required)
    {
        if let Some(path) = &args.secrets.passphrase_file {
            let passphrase = secrets::read_secret_file(path)?;
            for key in plan
                .keys
                .iter()
                .filter(|k| k.passphrase == PassphraseRule::Required)
            {
                secrets_by_mode
                    .passphrases
                    .insert(key.mode.clone(), Passphrase::new(passphrase.clone()));
            }
        }
    }
    let events = |event: EnrollEvent| {
        if let EnrollEvent::FilesWritten { mode, files } = event {
            for f in files {
                eprintln!("[{mode}] wrote {}", f.display());
            }
        }
    };
    let report = recover(
        opened.authenticator(),
        &plan,
        &pin,
        &args.out,
        args.force,
        &secrets_by_mode,
        &events,
    )
    .map_err(anyhow::Error::from)?;
    let io = |e: std::io::Error| Failure::from(anyhow::Error::from(e));
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report).map_err(anyhow::Error::from)?;
        writeln!(out).map_err(io)?;
    } else {
        for r in &report.recovered {
            writeln!(
                out,
                "recovered  {:<6} {}  {}",
                r.mode,
                r.fingerprint,
                args.out
                    .join(
                        r.files
                            .first()
                            .map(|f| f.file_name().unwrap_or_default())
                            .unwrap_or_default()
                    )
                    .display()
            )
            .map_err(io)?;
        }
        for s in report.skipped.iter().chain(&report.non_resident) {
            writeln!(out, "skipped    {:<6} {}", s.mode, s.reason).map_err(io)?;
            if let Some(fix) = &s.fix {
                writeln!(out, "           -> {fix}").map_err(io)?;
            }
        }
        for c in &report.unmatched {
            writeln!(
                out,
                "unmatched  {} (user {}): on the key, but no mode of this policy names it",
                c.application,
                c.user_id_display()
            )
            .map_err(io)?;
        }
    }
    // Something the user asked for could not be written because a different file is in the way.
    let blocked = report
        .skipped
        .iter()
        .any(|s| s.reason.contains("different key"));
    Ok(if blocked {
        Outcome::NeedsConfirmation
    } else {
        Outcome::Success
    })
}
