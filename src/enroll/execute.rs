//! The executor: one mode at a time, credential first, then its files, at once.

use super::{ModeAction, ModePreflight};
use crate::device::{
    Authenticator, CredProtect, DeviceError, KeyAlgorithm, MakeCredentialRequest, NewCredential,
    Pin, ResidentCredential,
};
use crate::fsio::{self, FsError, WriteSet, MODE_PRIVATE, MODE_PUBLIC};
use crate::openssh::attestation::SkAttestation;
use crate::openssh::private_key::{render_private_key, Passphrase, PrivateKeyError, Protection};
use crate::openssh::public_key::{fingerprint, render_public_key_line};
use crate::openssh::sk_key::{SkAlgorithm, SkCredential};
use crate::policy::model::PassphraseRule;
use crate::policy::plan::PlannedKey;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Progress, for a face to show. Sent from the thread that runs the executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollEvent {
    ModeStarted {
        mode: String,
    },
    /// The device is about to wait for a touch.
    TouchNeeded {
        mode: String,
    },
    CredentialCreated {
        mode: String,
        fingerprint: String,
    },
    /// An existing credential was deleted (confirmed replacement).
    CredentialDeleted {
        mode: String,
    },
    FilesWritten {
        mode: String,
        files: Vec<PathBuf>,
    },
    ModeFinished {
        mode: String,
        status: ModeStatus,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeStatus {
    Created,
    Adopted,
    Replaced,
    AlreadyEnrolled,
}

/// What happened to one mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeOutcome {
    pub mode: String,
    pub status: ModeStatus,
    pub algorithm: KeyAlgorithm,
    pub fingerprint: String,
    /// `type base64 comment`, as in the .pub file.
    pub public_key_line: String,
    pub files: Vec<PathBuf>,
    /// Backups kept of files that were replaced.
    pub backups: Vec<PathBuf>,
    pub attestation_written: bool,
}

/// File passphrases, by mode. Zeroized when dropped.
#[derive(Default)]
pub struct Secrets {
    pub passphrases: BTreeMap<String, Passphrase>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("{mode}: {source}")]
    Device {
        mode: String,
        #[source]
        source: DeviceError,
    },
    /// The credential exists on the device but its files could not be written.
    #[error("{mode}: the credential was created on the security key, but its files could not be written: {source}. {}", if *resident { "Run the same command again: skset finds the credential on the key and writes its files" } else { "This non-resident credential is lost with its file (it uses no slot on the key); run the command again to make a new one" })]
    FilesAfterCredential {
        mode: String,
        resident: bool,
        #[source]
        source: FsError,
    },
    #[error("{mode}: {source}")]
    Files {
        mode: String,
        #[source]
        source: FsError,
    },
    #[error("{mode}: cannot build the key file: {detail}")]
    Render { mode: String, detail: String },
    #[error("{mode}: {reason}. {fix}")]
    Blocked {
        mode: String,
        reason: String,
        fix: String,
    },
    #[error("{mode}: the policy requires a passphrase for this key file, and none was given. Give it at the prompt or with --passphrase-file FILE")]
    PassphraseMissing { mode: String },
    #[error("{mode}: the policy forbids a passphrase on this key file (it holds no secret: the key lives on the device)")]
    PassphraseForbidden { mode: String },
    #[error("{mode}: the key cannot make this credential with any algorithm the policy allows")]
    NoAlgorithm { mode: String },
}

impl EnrollError {
    pub fn device_error(&self) -> Option<&DeviceError> {
        match self {
            EnrollError::Device { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A mode's credential, made (or found) on the device, whose files are not written yet.
/// Dropping it loses nothing on the device: a resident credential is picked up again by the
/// next run, a non-resident one uses no slot.
pub struct Prepared {
    credential: SkCredential,
    /// The device's answer and the challenge, for the attestation files (new credentials only).
    attestation: Option<(NewCredential, Vec<u8>)>,
    status: ModeStatus,
}

impl Prepared {
    pub fn status(&self) -> ModeStatus {
        self.status
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.credential).unwrap_or_default()
    }
}

/// Enrolls one mode as pre-flight decided: [`prepare_mode`] then [`write_mode`].
pub fn enroll_mode(
    device: &dyn Authenticator,
    key: &PlannedKey,
    decided: &ModePreflight,
    pin: Option<&Pin>,
    secrets: &Secrets,
    out_dir: &Path,
    events: &dyn Fn(EnrollEvent),
) -> Result<ModeOutcome, EnrollError> {
    // Check the passphrase before the touch, so a missing one costs no credential.
    passphrase_for(key, secrets)?;
    let prepared = prepare_mode(device, key, decided, pin, events)?;
    write_mode(key, decided, prepared, secrets, out_dir, events)
}

/// The device half: make the credential (the user touches the key), adopt the one already
/// there, or recognise that the mode is already enrolled. `pin` is given to the device
/// whenever the key has one: CTAP asks for it when creating credentials on a PIN-protected key.
pub fn prepare_mode(
    device: &dyn Authenticator,
    key: &PlannedKey,
    decided: &ModePreflight,
    pin: Option<&Pin>,
    events: &dyn Fn(EnrollEvent),
) -> Result<Prepared, EnrollError> {
    let mode = key.mode.clone();
    let device_err = |source| EnrollError::Device {
        mode: mode.clone(),
        source,
    };
    events(EnrollEvent::ModeStarted { mode: mode.clone() });
    let existing = || {
        decided
            .existing
            .as_ref()
            .ok_or_else(|| EnrollError::Render {
                mode: mode.clone(),
                detail: "pre-flight lost the existing credential".into(),
            })
    };
    match &decided.action {
        ModeAction::Blocked { reason, fix } => Err(EnrollError::Blocked {
            mode,
            reason: reason.clone(),
            fix: fix.clone(),
        }),
        ModeAction::AlreadyEnrolled => {
            let credential = credential_from_resident(existing()?, key.flags)
                .map_err(|e| render_err(&mode, e))?;
            Ok(Prepared {
                credential,
                attestation: None,
                status: ModeStatus::AlreadyEnrolled,
            })
        }
        ModeAction::Adopt => {
            let credential = credential_from_resident(existing()?, key.flags)
                .map_err(|e| render_err(&mode, e))?;
            Ok(Prepared {
                credential,
                attestation: None,
                status: ModeStatus::Adopted,
            })
        }
        action @ (ModeAction::Create | ModeAction::Replace) => {
            let algorithm = decided
                .algorithm
                .ok_or_else(|| EnrollError::NoAlgorithm { mode: mode.clone() })?;
            if let (ModeAction::Replace, Some(existing)) = (action, &decided.existing) {
                let pin = pin.ok_or_else(|| device_err(DeviceError::PinRequired))?;
                device
                    .delete_credential(pin, &existing.credential_id)
                    .map_err(device_err)?;
                events(EnrollEvent::CredentialDeleted { mode: mode.clone() });
            }
            let challenge = random_challenge().map_err(|detail| EnrollError::Render {
                mode: mode.clone(),
                detail,
            })?;
            events(EnrollEvent::TouchNeeded { mode: mode.clone() });
            let made = device
                .make_credential(&MakeCredentialRequest {
                    algorithm,
                    application: key.application.clone(),
                    user_id: key.user_id.to_vec(),
                    user_name: format!("skset {}", key.mode),
                    resident: key.resident,
                    cred_protect: CredProtect::from_level(key.cred_protect),
                    pin,
                    challenge: challenge.clone(),
                    exclude: vec![],
                })
                .map_err(device_err)?;
            let credential = credential_from_new(&made, &key.application, key.flags);
            events(EnrollEvent::CredentialCreated {
                mode: mode.clone(),
                fingerprint: fingerprint(&credential).unwrap_or_default(),
            });
            let status = if matches!(action, ModeAction::Replace) {
                ModeStatus::Replaced
            } else {
                ModeStatus::Created
            };
            Ok(Prepared {
                credential,
                attestation: Some((made, challenge)),
                status,
            })
        }
    }
}

/// The disk half: render every file first, then write them as one set (all or none).
pub fn write_mode(
    key: &PlannedKey,
    decided: &ModePreflight,
    prepared: Prepared,
    secrets: &Secrets,
    out_dir: &Path,
    events: &dyn Fn(EnrollEvent),
) -> Result<ModeOutcome, EnrollError> {
    let mode = key.mode.clone();
    let Prepared {
        credential,
        attestation,
        status,
    } = prepared;
    if status == ModeStatus::AlreadyEnrolled {
        let files = vec![
            out_dir.join(&key.private_key_file),
            out_dir.join(&key.public_key_file),
        ];
        let result = outcome(key, &credential, status, files, vec![], false)?;
        events(EnrollEvent::ModeFinished { mode, status });
        return Ok(result);
    }
    let passphrase = passphrase_for(key, secrets)?;
    let protection = match &passphrase {
        Some(p) => Protection::Passphrase {
            passphrase: p,
            kdf_rounds: key.kdf_rounds,
        },
        None => Protection::Unencrypted,
    };
    let private = render_private_key(&credential, &key.comment, protection)
        .map_err(|e: PrivateKeyError| render_err(&mode, e))?;
    let public =
        render_public_key_line(&credential, &key.comment).map_err(|e| render_err(&mode, e))?;
    // A credential just made on the device and no file for it: the error must say so.
    let files_error = |source| match status {
        ModeStatus::Created | ModeStatus::Replaced => EnrollError::FilesAfterCredential {
            mode: mode.clone(),
            resident: key.resident,
            source,
        },
        _ => EnrollError::Files {
            mode: mode.clone(),
            source,
        },
    };
    // The directory appears with the first file, not at pre-flight.
    prepare_out_dir(out_dir).map_err(files_error)?;
    let mut set = WriteSet::new();
    let add = |set: &mut WriteSet, path: &Path, bytes: &[u8], file_mode: u32| {
        // Pre-flight only lets an existing file through when replacing was confirmed.
        if decided.replace_files && path.exists() {
            set.add_replace(path, bytes, file_mode);
        } else {
            set.add_new(path, bytes, file_mode);
        }
    };
    add(
        &mut set,
        &out_dir.join(&key.private_key_file),
        private.as_bytes(),
        MODE_PRIVATE,
    );
    add(
        &mut set,
        &out_dir.join(&key.public_key_file),
        public.as_bytes(),
        MODE_PUBLIC,
    );
    let mut attestation_written = false;
    if let Some((made, challenge)) = &attestation {
        let certificate = made.attestation.x5c.first().cloned().unwrap_or_default();
        let blob = SkAttestation::from_raw_auth_data(
            certificate,
            made.attestation.signature.clone(),
            &made.attestation.auth_data,
        )
        .to_bytes()
        .map_err(|e| render_err(&mode, e))?;
        add(
            &mut set,
            &out_dir.join(&key.attestation_file),
            &blob,
            MODE_PRIVATE,
        );
        // The challenge is what the attestation signs (via clientDataHash); keep it so the
        // audit can verify the attestation later. It is not secret.
        add(
            &mut set,
            &out_dir.join(challenge_file(&key.attestation_file)),
            challenge,
            MODE_PUBLIC,
        );
        attestation_written = true;
    }
    let written = set.commit().map_err(files_error)?;
    let files: Vec<PathBuf> = written.iter().map(|w| w.path.clone()).collect();
    let backups: Vec<PathBuf> = written.iter().filter_map(|w| w.backup.clone()).collect();
    events(EnrollEvent::FilesWritten {
        mode: mode.clone(),
        files: files.clone(),
    });
    let result = outcome(
        key,
        &credential,
        status,
        files,
        backups,
        attestation_written,
    )?;
    events(EnrollEvent::ModeFinished { mode, status });
    Ok(result)
}

/// `id_root.attest` -> `id_root.challenge`.
pub fn challenge_file(attestation_file: &str) -> String {
    let stem = attestation_file
        .strip_suffix(".attest")
        .unwrap_or(attestation_file);
    format!("{stem}.challenge")
}

fn passphrase_for<'s>(
    key: &PlannedKey,
    secrets: &'s Secrets,
) -> Result<Option<&'s Passphrase>, EnrollError> {
    let given = secrets.passphrases.get(&key.mode).filter(|p| !p.is_empty());
    match (key.passphrase, given) {
        (PassphraseRule::Required, None) => Err(EnrollError::PassphraseMissing {
            mode: key.mode.clone(),
        }),
        (PassphraseRule::Forbidden, Some(_)) => Err(EnrollError::PassphraseForbidden {
            mode: key.mode.clone(),
        }),
        (_, given) => Ok(given),
    }
}

fn outcome(
    key: &PlannedKey,
    sk: &SkCredential,
    status: ModeStatus,
    files: Vec<PathBuf>,
    backups: Vec<PathBuf>,
    attestation_written: bool,
) -> Result<ModeOutcome, EnrollError> {
    let public_key_line =
        render_public_key_line(sk, &key.comment).map_err(|e| render_err(&key.mode, e))?;
    Ok(ModeOutcome {
        mode: key.mode.clone(),
        status,
        algorithm: match sk.algorithm {
            SkAlgorithm::Ed25519 => KeyAlgorithm::Ed25519,
            SkAlgorithm::EcdsaP256 => KeyAlgorithm::EcdsaP256,
        },
        fingerprint: fingerprint(sk).map_err(|e| render_err(&key.mode, e))?,
        public_key_line: public_key_line.trim_end().to_string(),
        files,
        backups,
        attestation_written,
    })
}

fn render_err(mode: &str, e: impl std::fmt::Display) -> EnrollError {
    EnrollError::Render {
        mode: mode.to_string(),
        detail: e.to_string(),
    }
}

fn sk_algorithm(algorithm: KeyAlgorithm) -> SkAlgorithm {
    match algorithm {
        KeyAlgorithm::Ed25519 => SkAlgorithm::Ed25519,
        KeyAlgorithm::EcdsaP256 => SkAlgorithm::EcdsaP256,
    }
}

pub(crate) fn credential_from_new(
    made: &NewCredential,
    application: &str,
    flags: u8,
) -> SkCredential {
    SkCredential {
        algorithm: sk_algorithm(made.algorithm),
        public_key: made.public_key.clone(),
        application: application.to_string(),
        flags,
        key_handle: made.key_handle.clone(),
    }
}

/// The key file view of a credential listed by the device, with the flags the policy gives.
pub(crate) fn credential_from_resident(
    listed: &ResidentCredential,
    flags: u8,
) -> Result<SkCredential, String> {
    let Some(algorithm) = listed.algorithm.map(sk_algorithm) else {
        return Err(format!(
            "the key holds {} with an algorithm OpenSSH cannot use",
            listed.application
        ));
    };
    let credential = SkCredential {
        algorithm,
        public_key: listed.public_key.clone(),
        application: listed.application.clone(),
        flags,
        key_handle: listed.credential_id.clone(),
    };
    credential.validate().map_err(|e| e.to_string())?;
    Ok(credential)
}

fn random_challenge() -> Result<Vec<u8>, String> {
    let mut challenge = vec![0u8; 32];
    ssh_key::getrandom::fill(&mut challenge)
        .map_err(|e| format!("no randomness for the challenge: {e}"))?;
    Ok(challenge)
}

/// Ensures `out_dir` exists and is private before the first write.
pub fn prepare_out_dir(out_dir: &Path) -> Result<(), FsError> {
    fsio::ensure_private_dir(out_dir).map(drop)
}
