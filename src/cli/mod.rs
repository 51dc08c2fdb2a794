//! Command line: one subcommand per file. Machine output (keys, lines, JSON) goes to
//! stdout through [`output::Stdout`]; prompts, progress and errors go to stderr.

mod attest;
mod audit;
mod authorized_keys;
mod device_args;
mod devices;
mod enroll;
mod exit;
mod export;
mod output;
mod pin;
mod plan;
mod plan_input;
mod policy;
mod recover;
mod secrets;
mod simulate;

use clap::{Parser, Subcommand};
pub use exit::Outcome;
use output::Stdout;
use skset::device::DeviceError;
use std::io::{IsTerminal, Write};

#[derive(Debug, Parser)]
#[command(
    name = "skset",
    version,
    about = "Provision hardware-backed SSH keys on a FIDO2 security key, and keep them honest",
    long_about = "skset puts four SSH keys on one FIDO2 security key (a YubiKey first), each a \
deliberate mix of four knobs: resident or not, touch, PIN, and how it meets ssh-agent. \
It writes OpenSSH-compatible files, authorized_keys lines and config snippets, recovers \
resident keys on a new laptop, and audits what is deployed against a policy.",
    after_help = exit::EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Wizard (no subcommand): use a simulated security key instead of a real one.
    #[arg(long, conflicts_with = "device")]
    pub simulate: bool,

    /// Wizard (no subcommand): the security key to use, a /dev/hidraw* node or the
    /// virtual key's file; skips the device picker.
    #[arg(long, value_name = "PATH")]
    pub device: Option<String>,

    /// Wizard (no subcommand): directory for the key files (default ~/.ssh; for the
    /// simulated key a fresh directory under the temp dir).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List security keys and what they can do (algorithms, PIN, free resident slots).
    Devices(devices::DevicesArgs),
    /// Show, set or change the security key's FIDO2 PIN.
    Pin(pin::PinArgs),
    /// Check, explain and print policies.
    Policy(policy::PolicyArgs),
    /// Show the concrete enrollment plan a policy gives.
    Plan(plan::PlanArgs),
    /// Make a policy's keys on the security key and write their files.
    Enroll(enroll::EnrollArgs),
    /// Write the resident keys' files on a new machine (ssh-keygen -K, done right).
    Recover(recover::RecoverArgs),
    /// Print authorized_keys lines with the policy's options for enrolled public keys.
    AuthorizedKeys(authorized_keys::AuthorizedKeysArgs),
    /// Print ssh_config, ssh-agent and PAM snippets for a policy.
    Export(export::ExportArgs),
    /// Check deployed key files, authorized_keys and ssh_config against a policy.
    Audit(audit::AuditArgs),
    /// Verify a key's attestation (signature, chain to trusted roots, AAGUID, key).
    Attest(attest::AttestArgs),
}

impl Command {
    /// Whether errors should also be reported as JSON on stdout.
    fn json(&self) -> bool {
        match self {
            Command::Devices(a) => a.json,
            Command::Pin(a) => a.json(),
            Command::Enroll(a) => a.json,
            Command::Recover(a) => a.json,
            Command::AuthorizedKeys(a) => a.json,
            Command::Audit(a) => a.json,
            Command::Attest(a) => a.json(),
            Command::Policy(_) | Command::Plan(_) | Command::Export(_) => false,
        }
    }
}

/// A command that did not succeed: what went wrong and what it means to a script.
#[derive(Debug)]
pub struct Failure {
    pub outcome: Outcome,
    /// A stable identifier for `--json` output.
    pub kind: &'static str,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn bad_input(error: anyhow::Error) -> Failure {
        Failure {
            outcome: Outcome::BadInput,
            kind: "bad-input",
            error,
        }
    }
}

impl From<DeviceError> for Failure {
    fn from(e: DeviceError) -> Failure {
        Failure {
            outcome: Outcome::Device,
            kind: e.kind(),
            error: e.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        match error.downcast::<DeviceError>() {
            Ok(device) => device.into(),
            Err(error) => Failure::bad_input(error),
        }
    }
}

impl From<skset::device::PinFormatError> for Failure {
    fn from(e: skset::device::PinFormatError) -> Failure {
        Failure::bad_input(e.into())
    }
}

pub fn main() -> std::process::ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    // Asked before fd 1 is claimed: afterwards it is /dev/null.
    let on_terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut stdout = Stdout::claim();
    let Some(command) = cli.command else {
        if on_terminal {
            return wizard(cli, &mut stdout).into();
        }
        use clap::CommandFactory;
        let help = Cli::command().render_help().to_string();
        let _ = write!(stdout, "{help}");
        return Outcome::Success.into();
    };
    if cli.simulate || cli.device.is_some() || cli.out.is_some() {
        eprintln!("skset: --simulate, --device and --out before a subcommand are for the wizard (skset with no subcommand); put them after the subcommand, e.g. skset enroll --simulate");
        return Outcome::BadInput.into();
    }
    let json = command.json();
    let result = match command {
        Command::Policy(args) => Ok(policy::run(args, &mut stdout)),
        Command::Plan(args) => Ok(plan::run(args, &mut stdout)),
        Command::Devices(args) => devices::run(&args, &mut stdout),
        Command::Pin(args) => pin::run(&args, &mut stdout),
        Command::Enroll(args) => enroll::run(&args, &mut stdout),
        Command::Recover(args) => recover::run(&args, &mut stdout),
        Command::AuthorizedKeys(args) => authorized_keys::run(&args, &mut stdout),
        Command::Export(args) => export::run(&args, &mut stdout),
        Command::Audit(args) => audit::run(&args, &mut stdout),
        Command::Attest(args) => attest::run(&args, &mut stdout),
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(failure) => {
            eprintln!("skset: {:#}", failure.error);
            if json {
                let report = serde_json::json!({ "error": { "kind": failure.kind, "message": format!("{:#}", failure.error), "exit_code": failure.outcome as u8 } });
                let _ = writeln!(stdout, "{report}");
            }
            failure.outcome
        }
    };
    let _ = stdout.flush();
    outcome.into()
}

/// The terminal wizard. It draws through the saved real stdout (fd 1 is /dev/null), and
/// what it leaves behind (authorized_keys lines, the equivalent command) is printed there
/// once the terminal is restored.
fn wizard(cli: Cli, stdout: &mut Stdout) -> Outcome {
    let options = skset::tui::app::WizardOptions::from_env(
        cli.out,
        cli.device,
        cli.simulate,
        plan::host_name(),
    );
    match skset::tui::run(&mut *stdout, options) {
        Ok(exit) => {
            if let Some(text) = exit.text {
                let _ = write!(stdout, "{text}");
                let _ = stdout.flush();
            }
            Outcome::Success
        }
        Err(e) => {
            eprintln!("skset: the wizard could not use the terminal: {e}. The subcommands work without it: skset --help");
            Outcome::BadInput
        }
    }
}

/// Panics in device worker threads are caught and reported as errors, so the default
/// hook's message would only be noise there; everywhere else keep it.
fn install_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(skset::device::WORKER_THREAD_NAME) {
            return;
        }
        default_hook(info);
    }));
}
