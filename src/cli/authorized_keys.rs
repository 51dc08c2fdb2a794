//! `skset authorized-keys`: the server-side lines for enrolled public keys.

use super::output::Stdout;
use super::plan_input::PlanArgs;
use super::{Failure, Outcome};
use anyhow::{anyhow, Context};
use clap::Args;
use skset::export;
use skset::openssh::public_key::SkPublicKey;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Each mode's line carries the policy's options: verify-required for PIN
modes (sshd enforces the PIN only then), no-touch-required for no-touch modes (sshd refuses
their signatures otherwise), restrict, from=\"...\" and command=\"...\" where the policy says.
Lines are grouped by the account whose authorized_keys they belong in.

Examples:
  skset authorized-keys --pub-dir ~/.ssh
  skset authorized-keys --pub-dir ~/.ssh --mode robo | ssh backup-host 'cat >> ~robo/.ssh/authorized_keys'
  cat id_root.pub | skset authorized-keys --mode root --pub-dir -"
)]
pub struct AuthorizedKeysArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Where the .pub files are (the --out of enroll). "-" reads one public key line from
    /// stdin (then --mode is required).
    #[arg(long, value_name = "DIR")]
    pub pub_dir: PathBuf,

    /// Only this mode's line (repeatable).
    #[arg(long, value_name = "MODE")]
    pub mode: Vec<String>,

    /// Print JSON on stdout: accounts with their lines.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &AuthorizedKeysArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    let plan = args.plan.load()?;
    let keys: Vec<_> = plan
        .keys
        .iter()
        .filter(|k| args.mode.is_empty() || args.mode.contains(&k.mode))
        .collect();
    for mode in &args.mode {
        if !plan.keys.iter().any(|k| &k.mode == mode) {
            return Err(Failure::bad_input(anyhow!(
                "--mode {mode}: the policy has no such mode"
            )));
        }
    }
    let from_stdin = args.pub_dir.as_os_str() == "-";
    if from_stdin && keys.len() != 1 {
        return Err(Failure::bad_input(anyhow!(
            "reading a key from stdin needs exactly one --mode"
        )));
    }
    let mut public_keys = Vec::new();
    for key in &keys {
        let (source, text) = if from_stdin {
            let mut text = String::new();
            std::io::stdin()
                .read_line(&mut text)
                .context("cannot read a public key line from stdin")?;
            ("stdin".to_string(), text)
        } else {
            let path = args.pub_dir.join(&key.public_key_file);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read {} (enroll {} first, or point --pub-dir at the right directory)",
                    path.display(),
                    key.mode
                )
            })?;
            (path.display().to_string(), text)
        };
        let public = SkPublicKey::parse_line(text.trim())
            .with_context(|| format!("{source}: not a security-key public key line"))?;
        public_keys.push(public);
    }
    let pairs: Vec<_> = keys.iter().copied().zip(public_keys.iter()).collect();
    let accounts = export::authorized_keys(&pairs).map_err(anyhow::Error::from)?;
    let io = |e: std::io::Error| Failure::from(anyhow::Error::from(e));
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &accounts).map_err(anyhow::Error::from)?;
        writeln!(out).map_err(io)?;
    } else {
        write!(out, "{}", export::authorized_keys_text(&accounts)).map_err(io)?;
    }
    Ok(Outcome::Success)
}
