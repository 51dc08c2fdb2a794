//! `skset devices`: what is plugged in and what it can do.

use super::device_args::DeviceArgs;
use super::output::Stdout;
use super::{Failure, Outcome};
use clap::Args;
use serde::Serialize;
use skset::device::{self, Authenticator, CtapAuthenticator, CtapOptions, DeviceInfo, PinStatus};
use std::io::Write;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  skset devices                      list every FIDO key plugged in
  skset devices --json | jq .        the same, for scripts
  skset devices --device /dev/hidraw3
  skset devices --simulate           what the simulated key offers")]
pub struct DevicesArgs {
    #[command(flatten)]
    pub device: DeviceArgs,

    /// Print JSON on stdout: a list of devices with their capabilities and PIN state.
    #[arg(long)]
    pub json: bool,
}

/// One device, as `skset devices` reports it.
#[derive(Debug, Serialize)]
pub struct DeviceReport {
    #[serde(flatten)]
    pub info: DeviceInfo,
    pub pin: Option<PinStatus>,
}

pub fn run(args: &DevicesArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    let mut reports = Vec::new();
    if args.device.device.is_some() || args.device.simulate {
        let opened = args.device.open(None)?;
        reports.push(report(opened.authenticator())?);
    } else {
        for summary in device::list_devices()? {
            let authenticator = CtapAuthenticator::open(&summary.path, CtapOptions::default())?;
            reports.push(report(&authenticator)?);
        }
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &reports).map_err(anyhow::Error::from)?;
        writeln!(out).map_err(anyhow::Error::from)?;
    } else if reports.is_empty() {
        eprintln!("No FIDO security key found. Plug one in, name a virtual key with --device PATH, or try --simulate.");
    } else {
        for r in &reports {
            write_text(out, r).map_err(anyhow::Error::from)?;
        }
    }
    Ok(Outcome::Success)
}

fn report(authenticator: &dyn Authenticator) -> Result<DeviceReport, Failure> {
    let info = authenticator.info()?;
    let pin = if info.options.client_pin.is_some() {
        Some(authenticator.pin_status()?)
    } else {
        None
    };
    Ok(DeviceReport { info, pin })
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn write_text(out: &mut Stdout, r: &DeviceReport) -> std::io::Result<()> {
    let i = &r.info;
    writeln!(
        out,
        "{}  {}",
        i.path,
        i.product.as_deref().unwrap_or("(product unknown)")
    )?;
    let aaguid_note = if i.aaguid.chars().all(|c| c == '0') {
        " (model not disclosed)"
    } else {
        ""
    };
    writeln!(out, "  AAGUID                 {}{}", i.aaguid, aaguid_note)?;
    writeln!(
        out,
        "  firmware               {}",
        i.firmware_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "not reported".into())
    )?;
    writeln!(
        out,
        "  CTAP versions          {}",
        i.ctap_versions.join(", ")
    )?;
    let algs: Vec<String> = i.ssh_algorithms.iter().map(|a| a.to_string()).collect();
    writeln!(
        out,
        "  SSH key types          {}",
        if algs.is_empty() {
            "none".into()
        } else {
            algs.join(", ")
        }
    )?;
    let pin = match (&r.pin, i.options.client_pin) {
        (_, None) => "not supported".to_string(),
        (
            Some(PinStatus {
                is_set: true,
                retries_left: Some(n),
            }),
            _,
        ) => format!("set, {n} tries left"),
        (Some(PinStatus { is_set: true, .. }), _) => "set".to_string(),
        _ => "not set (skset pin set)".to_string(),
    };
    writeln!(out, "  PIN                    {pin}")?;
    let slots = i
        .remaining_discoverable_credentials
        .map(|n| format!(", {n} free slots"))
        .unwrap_or_default();
    writeln!(
        out,
        "  resident keys          {}{}",
        yes_no(i.options.resident_keys),
        slots
    )?;
    writeln!(out, "  credProtect            {}", yes_no(i.cred_protect))?;
    writeln!(
        out,
        "  credential management  {}",
        yes_no(i.options.credential_management)
    )?;
    writeln!(out, "  minimum PIN length     {}", i.min_pin_length)?;
    Ok(())
}
