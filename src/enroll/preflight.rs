//! Pre-flight: everything that can be checked before anything is written, to the device
//! or to disk. Each check says what it found and, when it fails, the fix.

use super::{mode_action, ModeAction};
use crate::device::{
    Authenticator, DeviceError, DeviceInfo, KeyAlgorithm, Pin, ResidentCredential,
};
use crate::policy::model::KeyType;
use crate::policy::plan::{EnrollmentPlan, PlannedKey};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

/// One pre-flight finding.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable id, e.g. `pin-set`, `slots`, `algorithm:root`.
    pub id: String,
    pub status: CheckStatus,
    pub message: String,
    /// What to do when it is not a pass.
    pub fix: Option<String>,
}

impl Check {
    fn pass(id: impl Into<String>, message: impl Into<String>) -> Check {
        Check {
            id: id.into(),
            status: CheckStatus::Pass,
            message: message.into(),
            fix: None,
        }
    }
    fn warn(id: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            id: id.into(),
            status: CheckStatus::Warn,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
    fn fail(id: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            id: id.into(),
            status: CheckStatus::Fail,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
}

/// What pre-flight found, and what the executor will do per mode.
#[derive(Debug, Clone, Serialize)]
pub struct Preflight {
    pub device: DeviceInfo,
    pub checks: Vec<Check>,
    /// Per planned key (same order as the plan): the algorithm to ask for and what to do.
    pub modes: Vec<ModePreflight>,
    /// `ssh:` credentials on the device that no mode of the plan claims.
    pub foreign_credentials: Vec<ResidentCredential>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModePreflight {
    pub mode: String,
    /// None when the device can make neither the policy's type nor an allowed fallback.
    pub algorithm: Option<KeyAlgorithm>,
    pub action: ModeAction,
    /// A discoverable credential already on the device under this mode's application/user.
    pub existing: Option<ResidentCredential>,
    /// Existing files may be replaced (confirmed with `--force`; a backup is kept).
    pub replace_files: bool,
}

impl Preflight {
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Fail)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Fail)
    }

    pub fn mode(&self, name: &str) -> Option<&ModePreflight> {
        self.modes.iter().find(|m| m.mode == name)
    }
}

/// Choices that change what pre-flight accepts.
#[derive(Debug, Clone, Default)]
pub struct PreflightOptions {
    /// Modes whose existing device credential may be deleted and made anew.
    pub replace_existing: Vec<String>,
    /// Existing key files may be replaced (a backup is kept).
    pub force: bool,
}

/// Runs every check. Needs the PIN to look at the device's resident credentials; without a
/// PIN (none set yet) that part is reported as a failure with the fix.
pub fn preflight(
    device: &dyn Authenticator,
    plan: &EnrollmentPlan,
    pin: Option<&Pin>,
    out_dir: &Path,
    options: &PreflightOptions,
) -> Result<Preflight, DeviceError> {
    let info = device.info()?;
    let mut checks = Vec::new();

    // Algorithms, per mode.
    let mut algorithms = Vec::new();
    for key in &plan.keys {
        let (algorithm, check) = choose_algorithm(&info, key);
        checks.push(check);
        algorithms.push(algorithm);
    }

    let resident_modes = plan.keys.iter().filter(|k| k.resident).count();
    if resident_modes > 0 && !info.options.resident_keys {
        checks.push(Check::fail("resident-keys", "this key cannot store resident (discoverable) credentials", "use a FIDO2 key with resident key support (YubiKey 5 series), or a policy without resident modes"));
    }
    if info.cred_protect {
        checks.push(Check::pass("cred-protect", "credProtect is supported"));
    } else {
        checks.push(Check::fail("cred-protect", "this key does not support credProtect; OpenSSH refuses resident and verify-required keys on it", "update the key's firmware or use a newer key"));
    }
    if info.options.credential_management {
        checks.push(Check::pass(
            "credential-management",
            "credential management is supported",
        ));
    } else {
        checks.push(Check::fail("credential-management", "this key does not support credential management, so skset cannot see what it already holds (or recover keys later)", "use a CTAP 2.1 key (YubiKey firmware 5.2 or later)"));
    }

    // PIN.
    let pin_set = info.pin_is_set();
    if info.options.client_pin.is_none() {
        checks.push(Check::fail(
            "pin-set",
            "this key does not support a PIN",
            "use a FIDO2 key with PIN support",
        ));
    } else if !pin_set {
        checks.push(Check::fail(
            "pin-set",
            "this key has no PIN yet",
            format!(
                "set one of at least {} characters: skset pin set",
                plan.min_pin_length
            ),
        ));
    } else {
        checks.push(Check::pass("pin-set", "a PIN is set"));
        if let Some(pin) = pin {
            let required = u32::from(plan.min_pin_length).max(info.min_pin_length) as usize;
            if pin.code_points() < required {
                checks.push(Check::fail(
                    "pin-length",
                    format!(
                        "the PIN has {} characters; the policy asks for at least {required}",
                        pin.code_points()
                    ),
                    "choose a longer PIN: skset pin change",
                ));
            } else {
                checks.push(Check::pass(
                    "pin-length",
                    format!("the PIN meets the policy's minimum of {required}"),
                ));
            }
        }
    }

    // What the device already holds.
    let on_device: Vec<ResidentCredential> = match pin {
        Some(pin) if pin_set && info.options.credential_management => {
            device.list_ssh_credentials(pin)?
        }
        _ => Vec::new(),
    };
    let mut modes = Vec::new();
    for (key, algorithm) in plan.keys.iter().zip(algorithms) {
        let existing = if key.resident {
            on_device
                .iter()
                .find(|c| c.application == key.application && c.user_id == key.user_id)
                .cloned()
        } else {
            None
        };
        let action = mode_action(key, existing.as_ref(), out_dir, options);
        match &action {
            ModeAction::Blocked { reason, fix } => checks.push(Check::fail(format!("files:{}", key.mode), reason.clone(), fix.clone())),
            ModeAction::Adopt => checks.push(Check::warn(
                format!("existing:{}", key.mode),
                format!("{} already holds a credential for {} (user {}); skset keeps it and writes its files", info_name(&info), key.application, key.user_id_display),
                format!("to make a new one instead, which stops the old one from working anywhere: --replace-existing {}", key.mode),
            )),
            ModeAction::Replace => checks.push(Check::warn(
                format!("existing:{}", key.mode),
                format!("the existing credential for {} will be DELETED from the key and made anew", key.application),
                "every server that trusts the old public key must get the new line",
            )),
            ModeAction::AlreadyEnrolled => checks.push(Check::pass(format!("existing:{}", key.mode), format!("{} is already enrolled and its files match", key.mode))),
            ModeAction::Create => {}
        }
        if let (Some(existing), ModeAction::Adopt) = (&existing, &action) {
            if existing
                .cred_protect
                .is_some_and(|level| level < key.cred_protect)
            {
                checks.push(Check::warn(
                    format!("cred-protect:{}", key.mode),
                    format!(
                        "the existing {} credential has credProtect {}, the policy asks for {}",
                        key.mode,
                        existing.cred_protect.unwrap_or(0),
                        key.cred_protect
                    ),
                    format!(
                        "replace it to get the stronger protection: --replace-existing {}",
                        key.mode
                    ),
                ));
            }
        }
        modes.push(ModePreflight {
            mode: key.mode.clone(),
            algorithm,
            action,
            existing,
            replace_files: options.force,
        });
    }

    // Slots for the credentials that will be created.
    let to_create = modes
        .iter()
        .zip(&plan.keys)
        .filter(|(m, k)| k.resident && matches!(m.action, ModeAction::Create))
        .count() as u32;
    match info.remaining_discoverable_credentials {
        Some(free) if free < to_create => checks.push(Check::fail(
            "slots",
            format!("the key has {free} free resident slots, the plan needs {to_create}"),
            "delete credentials you no longer use (skset recover lists them), or use a key with more slots (YubiKey 5.7+: 100)",
        )),
        Some(free) => checks.push(Check::pass("slots", format!("{free} free resident slots, {to_create} needed"))),
        None => checks.push(Check::warn("slots", "the key does not say how many resident slots are free", "if enrollment fails with 'storage full', delete unused credentials")),
    }

    let claimed = |c: &ResidentCredential| {
        plan.keys
            .iter()
            .any(|k| k.resident && k.application == c.application && k.user_id[..] == c.user_id[..])
    };
    let foreign_credentials: Vec<ResidentCredential> =
        on_device.iter().filter(|c| !claimed(c)).cloned().collect();
    if !foreign_credentials.is_empty() {
        let names: Vec<String> = foreign_credentials
            .iter()
            .map(|c| format!("{} (user {})", c.application, c.user_id_display()))
            .collect();
        checks.push(Check::warn(
            "foreign-credentials",
            format!(
                "the key also holds ssh credentials this policy does not name: {}",
                names.join(", ")
            ),
            "they are left alone; skset recover can write their files",
        ));
    }

    // Look, don't create: nothing is written before the user has seen the plan.
    if out_dir.exists() {
        match crate::fsio::ensure_private_dir(out_dir).map(drop) {
            Ok(()) => checks.push(Check::pass(
                "out-dir",
                format!("{} is private", out_dir.display()),
            )),
            Err(e) => checks.push(Check::fail(
                "out-dir",
                e.to_string(),
                "fix the directory's permissions or choose another with --out",
            )),
        }
    } else {
        checks.push(Check::pass(
            "out-dir",
            format!("{} will be created (0700)", out_dir.display()),
        ));
    }

    Ok(Preflight {
        device: info,
        checks,
        modes,
        foreign_credentials,
    })
}

fn info_name(info: &DeviceInfo) -> String {
    info.product.clone().unwrap_or_else(|| "the key".into())
}

fn choose_algorithm(info: &DeviceInfo, key: &PlannedKey) -> (Option<KeyAlgorithm>, Check) {
    let wanted = match key.key_type {
        KeyType::Ed25519 => KeyAlgorithm::Ed25519,
        KeyType::EcdsaP256 => KeyAlgorithm::EcdsaP256,
    };
    let id = format!("algorithm:{}", key.mode);
    if info.supports(wanted) {
        return (
            Some(wanted),
            Check::pass(id, format!("{}: {wanted}", key.mode)),
        );
    }
    if wanted == KeyAlgorithm::Ed25519
        && key.ecdsa_fallback
        && info.supports(KeyAlgorithm::EcdsaP256)
    {
        return (
            Some(KeyAlgorithm::EcdsaP256),
            Check::warn(
                id,
                format!(
                    "{}: the key has no Ed25519; using ECDSA P-256 as the policy allows",
                    key.mode
                ),
                "Ed25519 needs YubiKey firmware 5.2.3 or later",
            ),
        );
    }
    (
        None,
        Check::fail(
            id,
            format!("{}: the key cannot make {wanted} credentials", key.mode),
            if wanted == KeyAlgorithm::Ed25519 {
                "allow the fallback in the policy (ecdsa_fallback: true), or use a key with Ed25519 (YubiKey 5.2.3+)"
            } else {
                "use a key that supports ECDSA P-256"
            },
        ),
    )
}
