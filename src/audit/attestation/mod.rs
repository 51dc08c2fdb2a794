//! Verifying an OpenSSH attestation (`ssh-sk-attest-v01`) against its key and challenge.
//!
//! What is checked, as WebAuthn's "packed" format and PROTOCOL.u2f describe it:
//! 1. the signature over `authData || SHA-256(challenge)`: with the certificate's key, or,
//!    without a certificate (self-attestation), with the credential's own key;
//! 2. the certificate chains to a trusted root (when roots are given);
//! 3. the AAGUID in authData is on the allow list (when the list is not empty), and equals
//!    the certificate's AAGUID extension when the certificate has one;
//! 4. the credential public key in authData is the SSH key of the `.pub` file (and the
//!    credential id is the key file's key handle, when the key file is readable);
//! 5. rpIdHash = SHA-256(application).
//!
//! Every problem is collected rather than stopping at the first, so a report says all that
//! is wrong with a file at once.

pub mod auth_data;
pub mod x509;

use serde::Serialize;
use sha2::{Digest, Sha256};

use self::auth_data::{
    parse_auth_data, AuthDataError, CoseKey, FLAG_USER_PRESENT, FLAG_USER_VERIFIED,
};
use self::x509::{CertKey, Leaf};
pub use self::x509::{RootsError, TrustAnchors};
use crate::openssh::attestation::SkAttestation;
use crate::openssh::public_key::SkPublicKey;
use crate::openssh::sk_key::SkAlgorithm;
use crate::policy::model::Aaguid;

/// What to verify an attestation against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyRequest<'a> {
    pub attestation: &'a SkAttestation,
    /// The raw challenge (the `.challenge` file); the authenticator signed its SHA-256.
    pub challenge: &'a [u8],
    pub public_key: &'a SkPublicKey,
    /// The key handle from the private key file, when it could be read.
    pub key_handle: Option<&'a [u8]>,
    /// `None`: no roots configured, the chain is not checked.
    pub anchors: Option<&'a TrustAnchors>,
    /// Empty: any authenticator model.
    pub aaguid_allow_list: &'a [Aaguid],
}

/// How the attestation was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum AttestationKind {
    /// Signed by an attestation certificate (packed with x5c).
    Certificate { subject: String, issuer: String },
    /// Signed by the credential itself: not evidence of hardware.
    SelfAttestation,
    /// No signature at all (format `none`).
    None,
}

/// The certificate chain's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum ChainStatus {
    Trusted {
        root: String,
        file: String,
    },
    Untrusted,
    /// No roots were configured.
    NotChecked,
    /// Self-attestation or none: no certificate to chain.
    NoCertificate,
}

/// One thing wrong with an attestation. The messages say what it means and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "kebab-case", tag = "problem", content = "detail")]
#[non_exhaustive]
pub enum Problem {
    #[error("{0}")]
    AuthData(String),
    #[error("the attestation signature over authData and SHA-256(challenge) does not verify ({0}): the challenge file is not this enrollment's, or the attestation was altered")]
    Signature(String),
    #[error("the attestation has no signature (format none): the authenticator gave no evidence; enroll again with a device that attests")]
    NoSignature,
    #[error("the attestation is for application hash {found}, not SHA-256({application}): it belongs to another key")]
    RpIdHash { application: String, found: String },
    #[error("the attested credential key is not the key in the .pub file: the attestation belongs to another credential")]
    KeyMismatch,
    #[error("the attested credential id is not the key file's key handle: the attestation belongs to another credential")]
    CredentialIdMismatch,
    #[error("{0}; the file is damaged or not an attestation certificate")]
    Certificate(String),
    #[error("the attestation certificate is a CA certificate, which FIDO forbids for attestation; the device's attestation is not trustworthy")]
    LeafIsCa,
    #[error("the certificate's AAGUID extension ({certificate}) differs from authData's ({auth_data}): the two were spliced together")]
    AaguidExtensionMismatch {
        certificate: String,
        auth_data: String,
    },
    #[error("the attestation certificate does not chain to a trusted root: {0}. Add the vendor's attestation root (from its metadata) to the roots, or the key was not made on that vendor's hardware")]
    Untrusted(String),
    #[error("self-attestation cannot chain to a trusted root: the key may have been made in software. Enroll on a device that attests with a vendor certificate, or remove the roots requirement")]
    SelfAttestationUntrusted,
    #[error("the authenticator model {0} is not on the policy's aaguid_allow_list: enroll on an allowed model, or add it to the list")]
    AaguidNotAllowed(String),
}

impl Problem {
    /// The audit rule that reports this problem.
    pub fn rule(&self) -> &'static crate::audit::rules::AuditRule {
        use crate::audit::rules;
        match self {
            Problem::Untrusted(_) | Problem::SelfAttestationUntrusted => {
                &rules::ATTESTATION_UNTRUSTED
            }
            Problem::AaguidNotAllowed(_) => &rules::ATTESTATION_AAGUID_NOT_ALLOWED,
            Problem::NoSignature => &rules::ATTESTATION_NONE,
            _ => &rules::ATTESTATION_INVALID,
        }
    }
}

/// The outcome: evidence for the report, and every problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Serialized as `"kind": "certificate" | "self-attestation" | "none"` (with `subject`
    /// and `issuer` for a certificate).
    #[serde(flatten)]
    pub kind: AttestationKind,
    pub aaguid: Option<String>,
    pub user_present: Option<bool>,
    pub user_verified: Option<bool>,
    pub sign_count: Option<u32>,
    /// credProtect level the authenticator reported (1..3).
    pub cred_protect: Option<u8>,
    pub chain: ChainStatus,
    pub problems: Vec<Problem>,
}

impl Verification {
    pub fn verified(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn is_self_attestation(&self) -> bool {
        self.kind == AttestationKind::SelfAttestation
    }
}

/// Verify. Never fails: everything wrong is a [`Problem`] in the result.
pub fn verify(req: &VerifyRequest<'_>) -> Verification {
    let mut v = Verification {
        kind: AttestationKind::None,
        aaguid: None,
        user_present: None,
        user_verified: None,
        sign_count: None,
        cred_protect: None,
        chain: ChainStatus::NoCertificate,
        problems: Vec::new(),
    };
    let raw = match req.attestation.raw_auth_data() {
        Ok(raw) => raw,
        Err(e) => {
            v.problems.push(Problem::AuthData(e.to_string()));
            return v;
        }
    };
    let parsed = parse_auth_data(raw);
    if let Ok(a) = &parsed {
        v.aaguid = Some(a.aaguid.to_string());
        v.user_present = Some(a.flags & FLAG_USER_PRESENT != 0);
        v.user_verified = Some(a.flags & FLAG_USER_VERIFIED != 0);
        v.sign_count = Some(a.sign_count);
        v.cred_protect = a.cred_protect;
    }

    // 1. The signature, with the certificate's key or the credential's own.
    let client_data_hash = Sha256::digest(req.challenge);
    let mut signed = Vec::with_capacity(raw.len() + 32);
    signed.extend_from_slice(raw);
    signed.extend_from_slice(&client_data_hash);
    let mut leaf = None;
    if req.attestation.signature.is_empty() {
        v.problems.push(Problem::NoSignature);
    } else if req.attestation.certificate.is_empty() {
        v.kind = AttestationKind::SelfAttestation;
        if let Err(e) = credential_key(req.public_key).verify(&signed, &req.attestation.signature) {
            v.problems.push(Problem::Signature(e));
        }
    } else {
        match Leaf::parse(&req.attestation.certificate) {
            Ok(l) => {
                v.kind = AttestationKind::Certificate {
                    subject: l.subject.clone(),
                    issuer: l.issuer.clone(),
                };
                if let Err(e) = l.key.verify(&signed, &req.attestation.signature) {
                    v.problems.push(Problem::Signature(e));
                }
                if l.is_ca {
                    v.problems.push(Problem::LeafIsCa);
                }
                leaf = Some(l);
            }
            Err(e) => {
                v.kind = AttestationKind::Certificate {
                    subject: "(unreadable)".into(),
                    issuer: "(unreadable)".into(),
                };
                v.problems.push(Problem::Certificate(e));
            }
        }
    }

    // 2. The chain.
    match (req.anchors, &leaf, &v.kind) {
        (None, _, _) => {
            v.chain = if leaf.is_some() {
                ChainStatus::NotChecked
            } else {
                ChainStatus::NoCertificate
            }
        }
        (Some(anchors), Some(l), _) => match l.chain_to(anchors) {
            Ok(anchor) => {
                v.chain = ChainStatus::Trusted {
                    root: anchor.subject.clone(),
                    file: anchor.source.display().to_string(),
                }
            }
            Err(e) => {
                v.chain = ChainStatus::Untrusted;
                v.problems.push(Problem::Untrusted(e));
            }
        },
        (Some(_), None, AttestationKind::SelfAttestation) => {
            v.chain = ChainStatus::Untrusted;
            v.problems.push(Problem::SelfAttestationUntrusted);
        }
        (Some(_), None, _) => {}
    }

    let auth = match parsed {
        Ok(a) => a,
        Err(e) => {
            v.problems.push(auth_data_problem(e));
            return v;
        }
    };

    // 3. The model.
    if let Some(cert_aaguid) = leaf.as_ref().and_then(|l| l.aaguid) {
        if cert_aaguid != auth.aaguid {
            v.problems.push(Problem::AaguidExtensionMismatch {
                certificate: cert_aaguid.to_string(),
                auth_data: auth.aaguid.to_string(),
            });
        }
    }
    if !req.aaguid_allow_list.is_empty() && !req.aaguid_allow_list.contains(&auth.aaguid) {
        v.problems
            .push(Problem::AaguidNotAllowed(auth.aaguid.to_string()));
    }

    // 4. The key (and credential id) are the SSH key's.
    let same_key = match (&auth.public_key, req.public_key.algorithm) {
        (CoseKey::Ed25519(k), SkAlgorithm::Ed25519) => {
            k.as_slice() == req.public_key.public_key.as_slice()
        }
        (CoseKey::P256(p), SkAlgorithm::EcdsaP256) => {
            p.as_slice() == req.public_key.public_key.as_slice()
        }
        _ => false,
    };
    if !same_key {
        v.problems.push(Problem::KeyMismatch);
    }
    if let Some(handle) = req.key_handle {
        if handle != auth.credential_id {
            v.problems.push(Problem::CredentialIdMismatch);
        }
    }

    // 5. The application.
    let expected = Sha256::digest(req.public_key.application.as_bytes());
    if auth.rp_id_hash != expected.as_slice() {
        v.problems.push(Problem::RpIdHash {
            application: req.public_key.application.clone(),
            found: hex::encode(auth.rp_id_hash),
        });
    }
    v
}

fn auth_data_problem(e: AuthDataError) -> Problem {
    Problem::AuthData(e.to_string())
}

/// The SSH key as a verifier (for self-attestation).
fn credential_key(public: &SkPublicKey) -> CertKey {
    match public.algorithm {
        SkAlgorithm::Ed25519 => match <[u8; 32]>::try_from(public.public_key.as_slice())
            .ok()
            .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
        {
            Some(k) => CertKey::Ed25519(k),
            None => CertKey::Unsupported("an invalid Ed25519 credential key".into()),
        },
        SkAlgorithm::EcdsaP256 => {
            match p256::ecdsa::VerifyingKey::from_sec1_bytes(&public.public_key) {
                Ok(key) => CertKey::P256 {
                    key,
                    sec1: public.public_key.clone(),
                },
                Err(_) => CertKey::Unsupported("an invalid P-256 credential key".into()),
            }
        }
    }
}
