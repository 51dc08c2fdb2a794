//! `skset pin status|set|change`.

use super::device_args::DeviceArgs;
use super::output::Stdout;
use super::secrets;
use super::{Failure, Outcome};
use clap::{Args, Subcommand};
use skset::device::DeviceError;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "PINs are never taken as argument values (other users can read argv).
Give them at the hidden prompt, or in a file: --pin-file FILE, --new-pin-file FILE
(a path; /dev/fd/N works, e.g. --pin-file <(pass show fido-pin)).

Examples:
  skset pin status
  skset pin set                          asks twice for the new PIN
  skset pin change --pin-file old.txt --new-pin-file new.txt"
)]
pub struct PinArgs {
    #[command(subcommand)]
    pub action: PinAction,
}

#[derive(Debug, Subcommand)]
pub enum PinAction {
    /// Whether a PIN is set and how many tries are left.
    Status {
        #[command(flatten)]
        device: DeviceArgs,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Set the first PIN on a key that has none.
    Set {
        #[command(flatten)]
        device: DeviceArgs,
        /// Read the new PIN from this file (first line).
        #[arg(long, value_name = "FILE")]
        new_pin_file: Option<PathBuf>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Change the PIN (needs the current one).
    Change {
        #[command(flatten)]
        device: DeviceArgs,
        /// Read the current PIN from this file (first line).
        #[arg(long, value_name = "FILE")]
        pin_file: Option<PathBuf>,
        /// Read the new PIN from this file (first line).
        #[arg(long, value_name = "FILE")]
        new_pin_file: Option<PathBuf>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

impl PinArgs {
    pub fn json(&self) -> bool {
        match &self.action {
            PinAction::Status { json, .. }
            | PinAction::Set { json, .. }
            | PinAction::Change { json, .. } => *json,
        }
    }
}

pub fn run(args: &PinArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    let io = |e: std::io::Error| Failure::from(anyhow::Error::from(e));
    match &args.action {
        PinAction::Status { device, json } => {
            let opened = device.open(None)?;
            let status = opened.authenticator().pin_status()?;
            if *json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "path": opened.authenticator().path(), "pin": status })
                )
                .map_err(io)?;
            } else if status.is_set {
                let tries = status
                    .retries_left
                    .map(|n| format!(", {n} tries left"))
                    .unwrap_or_default();
                writeln!(out, "PIN is set{tries}.").map_err(io)?;
            } else {
                writeln!(out, "No PIN is set. Set one with: skset pin set").map_err(io)?;
            }
        }
        PinAction::Set {
            device,
            new_pin_file,
            json,
        } => {
            let opened = device.open(None)?;
            let info = opened.authenticator().info()?;
            if info.pin_is_set() {
                return Err(Failure::bad_input(anyhow::anyhow!(
                    "this key already has a PIN. To change it: skset pin change"
                )));
            }
            let pin = secrets::new_pin_from(new_pin_file.as_deref())?;
            if (pin.code_points() as u32) < info.min_pin_length {
                return Err(DeviceError::PinPolicy {
                    min_length: info.min_pin_length,
                }
                .into());
            }
            opened.authenticator().set_pin(&pin)?;
            report_done(out, *json, "PIN set.").map_err(io)?;
        }
        PinAction::Change {
            device,
            pin_file,
            new_pin_file,
            json,
        } => {
            let opened = device.open(None)?;
            let current = secrets::pin_from(pin_file.as_deref(), "Current PIN: ")?;
            let new_pin = secrets::new_pin_from(new_pin_file.as_deref())?;
            opened.authenticator().change_pin(&current, &new_pin)?;
            report_done(out, *json, "PIN changed.").map_err(io)?;
        }
    }
    Ok(Outcome::Success)
}

fn report_done(out: &mut Stdout, json: bool, message: &str) -> std::io::Result<()> {
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({ "ok": true, "message": message })
        )
    } else {
        eprintln!("{message}");
        Ok(())
    }
}
