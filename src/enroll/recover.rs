//! Recovery on a new machine: what `ssh-keygen -K` does, done right. Resident credentials
//! are found by their application and user id, written under the policy's file names with
//! the policy's flags (a recovered robo key is no-touch again, which `-K` loses), 0600,
//! never over an existing file without `--force`. Non-resident modes cannot be recovered
//! from the device, and the report says so instead of pretending.

use super::execute::{enroll_mode, EnrollError, EnrollEvent, ModeOutcome, Secrets};
use super::{mode_action, ModeAction, ModePreflight, PreflightOptions};
use crate::device::{Authenticator, DeviceError, Pin, ResidentCredential};
use crate::policy::plan::EnrollmentPlan;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Default, Serialize)]
pub struct RecoverReport {
    pub recovered: Vec<ModeOutcome>,
    /// Modes not written, and why (not on this key, a different file in the way, ...).
    pub skipped: Vec<Skipped>,
    /// `ssh:` credentials on the key that no mode of the policy names.
    pub unmatched: Vec<ResidentCredential>,
    /// Non-resident modes: what to do instead.
    pub non_resident: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub mode: String,
    pub reason: String,
    pub fix: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Enroll(#[from] EnrollError),
}

pub fn recover(
    device: &dyn Authenticator,
    plan: &EnrollmentPlan,
    pin: &Pin,
    out_dir: &Path,
    force: bool,
    secrets: &Secrets,
    events: &dyn Fn(EnrollEvent),
) -> Result<RecoverReport, RecoverError> {
    let on_device = device.list_ssh_credentials(pin)?;
    let options = PreflightOptions {
        replace_existing: vec![],
        force,
    };
    let mut report = RecoverReport::default();
    for key in &plan.keys {
        if !key.resident {
            report.non_resident.push(Skipped {
                mode: key.mode.clone(),
                reason: format!("{} is non-resident: its credential handle lives only in {} on the machine where it was enrolled, never on the security key, so neither ssh-keygen -K nor skset can recover it", key.mode, key.private_key_file),
                fix: Some(format!("copy the passphrase-protected file from the old machine: scp OLD-HOST:.ssh/{{{},{}}} {}/ ; if it is lost, enroll {} again", key.private_key_file, key.public_key_file, out_dir.display(), key.mode)),
            });
            continue;
        }
        let Some(existing) = on_device
            .iter()
            .find(|c| c.application == key.application && c.user_id[..] == key.user_id[..])
        else {
            report.skipped.push(Skipped {
                mode: key.mode.clone(),
                reason: format!(
                    "no credential for {} (user {}) on this key",
                    key.application, key.user_id_display
                ),
                fix: Some(format!("enroll it: skset enroll --only {}", key.mode)),
            });
            continue;
        };
        let action = mode_action(key, Some(existing), out_dir, &options);
        if let ModeAction::Blocked { reason, fix } = &action {
            report.skipped.push(Skipped {
                mode: key.mode.clone(),
                reason: reason.clone(),
                fix: Some(fix.clone()),
            });
            continue;
        }
        let decided = ModePreflight {
            mode: key.mode.clone(),
            algorithm: existing.algorithm,
            action,
            existing: Some(existing.clone()),
            replace_files: force,
        };
        report.recovered.push(enroll_mode(
            device,
            key,
            &decided,
            Some(pin),
            secrets,
            out_dir,
            events,
        )?);
    }
    report.unmatched = on_device
        .into_iter()
        .filter(|c| {
            !plan.keys.iter().any(|k| {
                k.resident && k.application == c.application && k.user_id[..] == c.user_id[..]
            })
        })
        .collect();
    Ok(report)
}
