//! The attestation certificate and the roots it must chain to.
//!
//! OpenSSH keeps only the leaf (x5c[0]) in its attestation file, so a chain here is the leaf
//! plus trust anchors: every certificate in the roots directory (or the policy's list) is an
//! anchor, which lets an organisation trust a vendor intermediate directly. The leaf is
//! trusted when its issuer name equals an anchor's subject and the anchor's key verifies
//! the leaf's signature, or when the leaf is itself an anchor.
//!
//! Validity dates are not checked: an attestation is evidence of how a key was made at
//! enrollment; an attestation certificate expiring later does not undo that. Supported
//! signatures: ECDSA P-256 and P-384 with SHA-256/384, RSA PKCS#1 v1.5 with SHA-256/384/512
//! (older vendor roots, Yubico's among them), and Ed25519. P-256/SHA-256 and Ed25519 use
//! RustCrypto; the others ring, which ctap-hid-fido2 already brings in.

use std::fs;
use std::path::{Path, PathBuf};

use p256::ecdsa::signature::Verifier;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use crate::policy::model::Aaguid;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
/// `id-fido-gen-ce-aaguid` (FIDO metadata / WebAuthn §8.2.1).
const ID_FIDO_GEN_CE_AAGUID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");

/// Roots files larger than this are not certificates.
const MAX_ROOT_FILE_LEN: u64 = 1024 * 1024;

/// A public key from a certificate, as far as attestation needs one.
#[derive(Debug, Clone)]
pub enum CertKey {
    P256 {
        key: p256::ecdsa::VerifyingKey,
        sec1: Vec<u8>,
    },
    /// SEC1 uncompressed point; verified with ring.
    P384(Vec<u8>),
    /// PKCS#1 RSAPublicKey DER; verified with ring (vendor roots such as Yubico's older
    /// ones are RSA).
    Rsa(Vec<u8>),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// Another algorithm; the string names it for messages.
    Unsupported(String),
}

impl CertKey {
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> CertKey {
        let bits = spki.subject_public_key.raw_bytes();
        let oid = spki.algorithm.oid;
        if oid == ID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            return match curve {
                Some(c) if c == PRIME256V1 => {
                    match p256::ecdsa::VerifyingKey::from_sec1_bytes(bits) {
                        Ok(key) => CertKey::P256 {
                            key,
                            sec1: bits.to_vec(),
                        },
                        Err(_) => CertKey::Unsupported("an invalid P-256 point".into()),
                    }
                }
                Some(c) if c == SECP384R1 => CertKey::P384(bits.to_vec()),
                other => CertKey::Unsupported(format!(
                    "EC key on curve {}",
                    other.map(|c| c.to_string()).unwrap_or_else(|| "?".into())
                )),
            };
        }
        if oid == RSA_ENCRYPTION {
            return CertKey::Rsa(bits.to_vec());
        }
        if oid == ID_ED25519 {
            if let Ok(bytes) = <[u8; 32]>::try_from(bits) {
                if let Ok(k) = ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
                    return CertKey::Ed25519(k);
                }
            }
            return CertKey::Unsupported("an invalid Ed25519 key".into());
        }
        CertKey::Unsupported(format!("key algorithm {oid}"))
    }

    /// Verify an attestation signature over `message` with this key's natural algorithm
    /// (ES256, ES384, RS256, EdDSA). ECDSA signatures are DER, Ed25519 raw 64 bytes.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), String> {
        match self {
            CertKey::P256 { key, .. } => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| "the signature is not a DER ECDSA signature".to_string())?;
                key.verify(message, &sig)
                    .map_err(|_| "the P-256 signature does not verify".to_string())
            }
            CertKey::P384(point) => ring_verify(
                &ring::signature::ECDSA_P384_SHA384_ASN1,
                point,
                message,
                signature,
                "P-384",
            ),
            CertKey::Rsa(key) => ring_verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                key,
                message,
                signature,
                "RSA",
            ),
            CertKey::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| "the signature is not 64 bytes".to_string())?;
                key.verify_strict(message, &sig)
                    .map_err(|_| "the Ed25519 signature does not verify".to_string())
            }
            CertKey::Unsupported(what) => Err(format!(
                "{what} is not supported (P-256, P-384, RSA and Ed25519 are)"
            )),
        }
    }

    /// Verify a certificate signature made with `algorithm` by this (issuer's) key.
    pub fn verify_certificate(
        &self,
        algorithm: ObjectIdentifier,
        tbs: &[u8],
        signature: &[u8],
    ) -> Result<(), String> {
        use ring::signature as rs;
        let (ring_alg, key): (&'static dyn rs::VerificationAlgorithm, &[u8]) =
            match (self, algorithm) {
                (CertKey::P256 { .. }, a) if a == ECDSA_WITH_SHA256 => {
                    return self.verify(tbs, signature)
                }
                (CertKey::Ed25519(_), a) if a == ID_ED25519 => return self.verify(tbs, signature),
                (CertKey::P256 { sec1, .. }, a) if a == ECDSA_WITH_SHA384 => {
                    (&rs::ECDSA_P256_SHA384_ASN1, sec1)
                }
                (CertKey::P384(point), a) if a == ECDSA_WITH_SHA384 => {
                    (&rs::ECDSA_P384_SHA384_ASN1, point)
                }
                (CertKey::P384(point), a) if a == ECDSA_WITH_SHA256 => {
                    (&rs::ECDSA_P384_SHA256_ASN1, point)
                }
                (CertKey::Rsa(k), a) if a == SHA256_WITH_RSA => {
                    (&rs::RSA_PKCS1_2048_8192_SHA256, k)
                }
                (CertKey::Rsa(k), a) if a == SHA384_WITH_RSA => {
                    (&rs::RSA_PKCS1_2048_8192_SHA384, k)
                }
                (CertKey::Rsa(k), a) if a == SHA512_WITH_RSA => {
                    (&rs::RSA_PKCS1_2048_8192_SHA512, k)
                }
                (CertKey::Unsupported(what), _) => {
                    return Err(format!(
                        "the root's {what} is not supported (P-256, P-384, RSA and Ed25519 are)"
                    ))
                }
                (_, a) => {
                    return Err(format!(
                        "signature algorithm {a} does not fit the root's key"
                    ))
                }
            };
        ring_verify(ring_alg, key, tbs, signature, "certificate")
    }
}

fn ring_verify(
    alg: &'static dyn ring::signature::VerificationAlgorithm,
    key: &[u8],
    message: &[u8],
    signature: &[u8],
    what: &str,
) -> Result<(), String> {
    ring::signature::UnparsedPublicKey::new(alg, key)
        .verify(message, signature)
        .map_err(|_| format!("the {what} signature does not verify"))
}

/// A trusted certificate and where it came from.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub source: PathBuf,
    pub subject: String,
    subject_der: Vec<u8>,
    der: Vec<u8>,
    key: CertKey,
}

/// The certificates an attestation may chain to.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    pub anchors: Vec<Anchor>,
}

/// Why the roots could not be loaded (the input is unusable: exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootsError {
    #[error("cannot read {}: {source}; give a readable file or directory of PEM/DER certificates", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} holds no certificate (PEM \"-----BEGIN CERTIFICATE-----\" or DER): {detail}", path.display())]
    NotACertificate { path: PathBuf, detail: String },
    #[error("{} holds no certificate files (*.pem, *.crt, *.cer, *.der); put the vendor's attestation root there", path.display())]
    EmptyDirectory { path: PathBuf },
}

impl TrustAnchors {
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Every `*.pem`, `*.crt`, `*.cer`, `*.der` in `dir` (a single file is accepted too).
    pub fn from_dir(dir: &Path) -> Result<TrustAnchors, RootsError> {
        let io = |source| RootsError::Io {
            path: dir.to_owned(),
            source,
        };
        if fs::metadata(dir).map_err(io)?.is_file() {
            return TrustAnchors::from_files(&[dir.to_owned()]);
        }
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(
                        e.to_ascii_lowercase().as_str(),
                        "pem" | "crt" | "cer" | "der"
                    )
                })
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(RootsError::EmptyDirectory {
                path: dir.to_owned(),
            });
        }
        TrustAnchors::from_files(&files)
    }

    /// Each file: one or more PEM certificates, or one DER certificate.
    pub fn from_files(files: &[PathBuf]) -> Result<TrustAnchors, RootsError> {
        let mut anchors = Vec::new();
        for path in files {
            let io = |source| RootsError::Io {
                path: path.clone(),
                source,
            };
            let meta = fs::metadata(path).map_err(io)?;
            if meta.len() > MAX_ROOT_FILE_LEN {
                return Err(RootsError::NotACertificate {
                    path: path.clone(),
                    detail: "the file is over 1 MiB".into(),
                });
            }
            let bytes = fs::read(path).map_err(io)?;
            let not_cert = |e: x509_cert::der::Error| RootsError::NotACertificate {
                path: path.clone(),
                detail: e.to_string(),
            };
            let certs = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
                Certificate::load_pem_chain(&bytes).map_err(not_cert)?
            } else {
                vec![Certificate::from_der(&bytes).map_err(not_cert)?]
            };
            for cert in certs {
                anchors.push(Anchor::new(path.clone(), cert).map_err(not_cert)?);
            }
        }
        Ok(TrustAnchors { anchors })
    }
}

impl Anchor {
    fn new(source: PathBuf, cert: Certificate) -> Result<Anchor, x509_cert::der::Error> {
        let tbs = cert.tbs_certificate();
        Ok(Anchor {
            source,
            subject: tbs.subject().to_string(),
            subject_der: tbs.subject().to_der()?,
            der: cert.to_der()?,
            key: CertKey::from_spki(tbs.subject_public_key_info()),
        })
    }
}

/// The attestation certificate, parsed.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub subject: String,
    pub issuer: String,
    pub key: CertKey,
    pub is_ca: bool,
    /// The AAGUID extension, when present.
    pub aaguid: Option<Aaguid>,
    cert: Certificate,
    der: Vec<u8>,
}

impl Leaf {
    pub fn parse(der: &[u8]) -> Result<Leaf, String> {
        let cert = Certificate::from_der(der)
            .map_err(|e| format!("the attestation certificate is not DER X.509: {e}"))?;
        let tbs = cert.tbs_certificate();
        let is_ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
        let aaguid = match tbs.extensions() {
            Some(exts) => match exts.iter().find(|e| e.extn_id == ID_FIDO_GEN_CE_AAGUID) {
                // The extension value is an OCTET STRING holding the 16 bytes.
                Some(ext) => Some(
                    x509_cert::der::asn1::OctetString::from_der(ext.extn_value.as_bytes())
                        .ok()
                        .and_then(|o| <[u8; 16]>::try_from(o.as_bytes()).ok())
                        .map(Aaguid)
                        .ok_or("the certificate's AAGUID extension is malformed")?,
                ),
                None => None,
            },
            None => None,
        };
        Ok(Leaf {
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            key: CertKey::from_spki(tbs.subject_public_key_info()),
            is_ca,
            aaguid,
            der: der.to_vec(),
            cert,
        })
    }

    /// The anchor this certificate chains to, or why none.
    pub fn chain_to<'a>(&self, anchors: &'a TrustAnchors) -> Result<&'a Anchor, String> {
        if let Some(a) = anchors.anchors.iter().find(|a| a.der == self.der) {
            return Ok(a);
        }
        let issuer_der = self
            .cert
            .tbs_certificate()
            .issuer()
            .to_der()
            .map_err(|e| e.to_string())?;
        let tbs = self
            .cert
            .tbs_certificate()
            .to_der()
            .map_err(|e| e.to_string())?;
        let alg = self.cert.signature_algorithm().oid;
        let signature = self.cert.signature().raw_bytes();
        let mut reasons = Vec::new();
        for anchor in anchors
            .anchors
            .iter()
            .filter(|a| a.subject_der == issuer_der)
        {
            match anchor.key.verify_certificate(alg, &tbs, signature) {
                Ok(()) => return Ok(anchor),
                Err(e) => reasons.push(format!(
                    "{} ({}): {e}",
                    anchor.subject,
                    anchor.source.display()
                )),
            }
        }
        if reasons.is_empty() {
            Err(format!(
                "its issuer \"{}\" is none of the {} trusted root(s)",
                self.issuer,
                anchors.anchors.len()
            ))
        } else {
            Err(format!(
                "the root with its issuer's name does not verify it: {}",
                reasons.join("; ")
            ))
        }
    }
}
