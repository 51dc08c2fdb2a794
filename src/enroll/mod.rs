//! The enrollment engine: one plan, executed against one security key, producing
//! credentials on the device and OpenSSH files on disk. The CLI and the TUI are two faces
//! of this module; it never prints or prompts. Progress is reported as [`EnrollEvent`]s.
//!
//! - [`preflight`]: everything checked before anything is written;
//! - [`execute`]: per mode, make the credential (or adopt the one already there) and
//!   write its files at once, so a failure later leaves earlier modes complete;
//! - [`recover`]: re-derive resident key files on a new machine.

mod execute;
pub mod preflight;
pub mod recover;

pub use execute::{
    challenge_file, enroll_mode, prepare_mode, write_mode, EnrollError, EnrollEvent, ModeOutcome,
    ModeStatus, Prepared, Secrets,
};
pub use preflight::{preflight, Check, CheckStatus, ModePreflight, Preflight, PreflightOptions};

use crate::device::ResidentCredential;
use crate::openssh::private_key::inspect_private_key;
use crate::policy::plan::PlannedKey;
use serde::Serialize;
use std::path::Path;

/// What the executor will do for one mode, decided by pre-flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum ModeAction {
    /// Make a new credential and write its files.
    Create,
    /// A resident credential for this mode is already on the device and no file holds it
    /// here: keep it and write its files (like `ssh-keygen -K`, with the policy's flags).
    Adopt,
    /// The device credential and the files already match: nothing to do.
    AlreadyEnrolled,
    /// Delete the device credential (confirmed with `--replace-existing MODE`) and create anew.
    Replace,
    /// Something stands in the way that needs the user's decision.
    Blocked { reason: String, fix: String },
}

/// Decides a mode's action from what is on the device and on disk.
pub(crate) fn mode_action(
    key: &PlannedKey,
    existing: Option<&ResidentCredential>,
    out_dir: &Path,
    options: &PreflightOptions,
) -> ModeAction {
    let private = out_dir.join(&key.private_key_file);
    let file_key = std::fs::read(&private)
        .ok()
        .and_then(|bytes| inspect_private_key(&bytes).ok());
    let file_exists = private.exists() || out_dir.join(&key.public_key_file).exists();
    let replace_confirmed = options.replace_existing.iter().any(|m| m == &key.mode);

    if let Some(existing) = existing {
        if replace_confirmed {
            if file_exists && !options.force {
                return ModeAction::Blocked {
                    reason: format!(
                        "{} exists and would be replaced by the new {} key",
                        private.display(),
                        key.mode
                    ),
                    fix: "add --force to replace it (a backup is kept)".into(),
                };
            }
            return ModeAction::Replace;
        }
        let device_line = device_public_line(existing);
        return match (&file_key, device_line) {
            (Some(info), Some(line)) if info.public_key_line == line => ModeAction::AlreadyEnrolled,
            (None, _) if !file_exists => ModeAction::Adopt,
            _ if options.force => ModeAction::Adopt,
            _ => ModeAction::Blocked {
                reason: format!("{} holds a different key than the {} credential on the device", private.display(), key.application),
                fix: format!("move the old file away; or write the device's key over it with --force (a backup is kept); or make a new credential with --replace-existing {} --force", key.mode),
            },
        };
    }
    if file_exists && !options.force {
        return ModeAction::Blocked {
            reason: format!("{} already exists", private.display()),
            fix: "move it away, or add --force to replace it (a backup is kept)".into(),
        };
    }
    ModeAction::Create
}

/// `type base64` of a credential listed by the device, for comparing with key files.
fn device_public_line(credential: &ResidentCredential) -> Option<String> {
    let sk = execute::credential_from_resident(credential, 0).ok()?;
    let line = crate::openssh::public_key::render_public_key_line(&sk, "").ok()?;
    Some(line.trim_end().to_string())
}
