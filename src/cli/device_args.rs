//! Choosing the security key: `--device PATH`, `--simulate`, or the only one plugged in.

use super::simulate::SimulatedKey;
use super::Failure;
use clap::Args;
use skset::device::{
    self, Authenticator, CtapAuthenticator, CtapOptions, DeviceError, DeviceEvent, EventSink,
};
use std::sync::Arc;

#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// The security key to use: a /dev/hidraw* node, or the virtual key's file.
    /// Needed when several keys are plugged in (see `skset devices`).
    #[arg(long, value_name = "PATH", conflicts_with = "simulate")]
    pub device: Option<String>,

    /// Use a simulated security key (OpenSK, in memory, gone when skset exits) instead of
    /// a real one. For trying skset out; nothing it makes can log in anywhere afterwards.
    #[arg(long)]
    pub simulate: bool,
}

/// An opened device, and the simulated key behind it when there is one (kept alive here).
pub struct OpenedDevice {
    pub authenticator: CtapAuthenticator,
    _simulated: Option<SimulatedKey>,
}

impl OpenedDevice {
    pub fn authenticator(&self) -> &dyn Authenticator {
        &self.authenticator
    }

    /// A simulated key starts with no PIN and vanishes at exit, so `skset pin set` in an
    /// earlier run cannot help: the PIN given to this run becomes its first PIN.
    pub fn adopt_pin_if_simulated(&self, pin: &skset::device::Pin) -> Result<(), DeviceError> {
        if self._simulated.is_some() && !self.authenticator.info()?.pin_is_set() {
            self.authenticator.set_pin(pin)?;
            eprintln!("The simulated key had no PIN; it now has the one you gave.");
        }
        Ok(())
    }
}

/// Prints "touch your key" prompts on stderr: the CLI's way of showing device events.
pub fn stderr_touch_prompts() -> EventSink {
    Arc::new(|event| {
        if let DeviceEvent::TouchNeeded { operation } = event {
            eprintln!("Touch your security key now ({operation})...");
        }
    })
}

impl DeviceArgs {
    pub fn open(&self, events: Option<EventSink>) -> Result<OpenedDevice, Failure> {
        let options = CtapOptions {
            events,
            ..CtapOptions::default()
        };
        if self.simulate {
            let simulated = SimulatedKey::start()?;
            let authenticator = CtapAuthenticator::open(&simulated.path(), options)?;
            return Ok(OpenedDevice {
                authenticator,
                _simulated: Some(simulated),
            });
        }
        let path = match &self.device {
            Some(path) => path.clone(),
            None => only_device()?,
        };
        Ok(OpenedDevice {
            authenticator: CtapAuthenticator::open(&path, options)?,
            _simulated: None,
        })
    }
}

fn only_device() -> Result<String, DeviceError> {
    let mut found = device::list_devices()?;
    match found.len() {
        0 => Err(DeviceError::NoDevice),
        1 => Ok(found.remove(0).path),
        _ => Err(DeviceError::SeveralDevices {
            paths: found.into_iter().map(|d| d.path).collect(),
        }),
    }
}
