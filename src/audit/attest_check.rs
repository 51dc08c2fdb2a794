//! The audit's use of attestation: for each sk key file, the `.attest` and `.challenge`
//! that `skset enroll` writes beside it are verified and kept as evidence for the report.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::attestation::{verify, TrustAnchors, Verification, VerifyRequest};
use super::rules::{self, AuditFinding, Location};
use crate::openssh::attestation::SkAttestation;
use crate::openssh::public_key::SkPublicKey;
use crate::policy::model::{Aaguid, Mode};

/// Attestation files are a few kilobytes (a certificate, a signature, authData).
pub const MAX_ATTESTATION_FILE_LEN: u64 = 64 * 1024;

/// The policy's attestation settings, with roots loaded.
#[derive(Debug, Clone, Default)]
pub struct AttestationSettings {
    /// `None`: no roots configured.
    pub anchors: Option<TrustAnchors>,
    pub aaguid_allow_list: Vec<Aaguid>,
    pub require_attestation: bool,
}

/// One attestation file's result, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationEvidence {
    #[serde(serialize_with = "path_text")]
    pub file: PathBuf,
    pub mode: String,
    pub verified: bool,
    #[serde(flatten)]
    pub verification: Verification,
}

fn path_text<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// `id_root` -> `id_root.attest`, `id_root.challenge`.
pub fn attestation_paths(key: &Path) -> (PathBuf, PathBuf) {
    let with = |ext: &str| {
        let mut p = key.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    (with(".attest"), with(".challenge"))
}

/// Read a small file whole, refusing anything larger than `cap`.
pub fn read_small(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(cap + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the file is larger than {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// Verify the attestation beside a key file and report what it shows.
pub fn check_beside(
    settings: &AttestationSettings,
    key_path: &Path,
    mode: &Mode,
    public: &SkPublicKey,
    key_handle: Option<&[u8]>,
    sink: &mut dyn FnMut(AuditFinding),
) -> Option<AttestationEvidence> {
    let (attest_path, challenge_path) = attestation_paths(key_path);
    let finding = |rule: &rules::AuditRule, location: Location, message: String, fix: String| {
        AuditFinding::new(rule, location, message, fix).mode(Some(&mode.name))
    };
    if !attest_path.is_file() {
        if settings.require_attestation {
            sink(finding(
                &rules::ATTESTATION_MISSING,
                Location::file(key_path),
                format!("the policy requires attestation but {} is missing", attest_path.display()),
                format!("enroll the {} mode again with skset (it keeps the attestation and its challenge), or restore the file", mode.name),
            ));
        }
        return None;
    }
    let bytes = match read_small(&attest_path, MAX_ATTESTATION_FILE_LEN) {
        Ok(b) => b,
        Err(e) => {
            sink(finding(
                &rules::ATTESTATION_INVALID,
                Location::file(&attest_path),
                format!("cannot read the attestation: {e}"),
                "check the file's owner and mode".into(),
            ));
            return None;
        }
    };
    let attestation = match SkAttestation::from_bytes(&bytes) {
        Ok(a) => a,
        Err(e) => {
            sink(finding(
                &rules::ATTESTATION_INVALID,
                Location::file(&attest_path),
                e.to_string(),
                format!(
                    "restore {} from a backup, or enroll the {} mode again",
                    attest_path.display(),
                    mode.name
                ),
            ));
            return None;
        }
    };
    let challenge = match read_small(&challenge_path, MAX_ATTESTATION_FILE_LEN) {
        Ok(c) => c,
        Err(_) => {
            sink(finding(
                &rules::ATTESTATION_NO_CHALLENGE,
                Location::file(&attest_path),
                format!("{} cannot be verified: the challenge it signs ({}) is missing or unreadable", attest_path.display(), challenge_path.display()),
                format!("restore {} (skset enroll writes it beside the attestation); without it, enroll again", challenge_path.display()),
            ));
            return None;
        }
    };
    let verification = verify(&VerifyRequest {
        attestation: &attestation,
        challenge: &challenge,
        public_key: public,
        key_handle,
        anchors: settings.anchors.as_ref(),
        aaguid_allow_list: &settings.aaguid_allow_list,
    });
    for problem in &verification.problems {
        sink(finding(problem.rule(), Location::file(&attest_path), problem.to_string(), format!("`skset attest verify --pub {}.pub --attestation {} --challenge {}` shows the details", key_path.display(), attest_path.display(), challenge_path.display())));
    }
    if verification.is_self_attestation()
        && verification
            .problems
            .iter()
            .all(|p| p.rule().id != rules::ATTESTATION_INVALID.id)
    {
        sink(finding(
            &rules::ATTESTATION_SELF,
            Location::file(&attest_path),
            "self-attestation: signed with the credential's own key, which is not evidence of hardware".into(),
            "if the policy needs evidence of hardware, issue security keys that attest with a vendor certificate and set trusted_attestation_roots".into(),
        ));
    }
    if settings.anchors.is_none()
        && matches!(
            verification.kind,
            super::attestation::AttestationKind::Certificate { .. }
        )
    {
        sink(finding(
            &rules::ATTESTATION_CHAIN_UNCHECKED,
            Location::file(&attest_path),
            "the attestation certificate was not checked against trusted roots (none configured)".into(),
            "set settings.trusted_attestation_roots in the policy (or --roots DIR) to the vendor's attestation root".into(),
        ));
    }
    Some(AttestationEvidence {
        file: attest_path,
        mode: mode.name.clone(),
        verified: verification.verified(),
        verification,
    })
}
