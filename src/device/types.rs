//! The device layer's own vocabulary: what the wizard and the enrollment engine think in.
//! Nothing here names a ctap-hid-fido2 type, so a second transport (or a test double that
//! speaks real CTAP) can stand behind the same trait.

use serde::Serialize;
use std::fmt;
use zeroize::Zeroizing;

/// A FIDO2 PIN. Held in a zeroizing buffer; `Debug` never shows it.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// CTAP2: at least 4 Unicode code points, at most 63 bytes of UTF-8.
    pub const MIN_CODE_POINTS: usize = 4;
    pub const MAX_BYTES: usize = 63;

    /// Takes ownership of the secret; trailing newlines (from a PIN file) are stripped
    /// in place so no unzeroized copy is made.
    pub fn new(mut secret: Zeroizing<String>) -> Result<Pin, PinFormatError> {
        while secret.ends_with('\n') || secret.ends_with('\r') {
            secret.pop();
        }
        let code_points = secret.chars().count();
        if code_points < Self::MIN_CODE_POINTS {
            return Err(PinFormatError::TooShort {
                min: Self::MIN_CODE_POINTS,
                got: code_points,
            });
        }
        if secret.len() > Self::MAX_BYTES {
            return Err(PinFormatError::TooLong {
                max: Self::MAX_BYTES,
            });
        }
        Ok(Pin(secret))
    }

    /// The PIN as the CTAP library wants it. Callers must not copy it into a plain String.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn code_points(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinFormatError {
    #[error("the PIN is too short: {got} characters, a security key needs at least {min}")]
    TooShort { min: usize, got: usize },
    #[error("the PIN is too long: a security key accepts at most {max} bytes")]
    TooLong { max: usize },
}

/// A FIDO device as enumeration sees it, before it is opened.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeviceSummary {
    pub path: String,
    pub product: String,
    pub vendor_id: u16,
    pub product_id: u16,
}

/// COSE algorithms skset can make SSH keys with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// COSE -8, OpenSSH `sk-ssh-ed25519@openssh.com`.
    Ed25519,
    /// COSE -7, OpenSSH `sk-ecdsa-sha2-nistp256@openssh.com`.
    EcdsaP256,
}

impl KeyAlgorithm {
    pub fn cose_id(self) -> i64 {
        match self {
            KeyAlgorithm::Ed25519 => -8,
            KeyAlgorithm::EcdsaP256 => -7,
        }
    }

    pub fn from_cose_id(id: i64) -> Option<KeyAlgorithm> {
        match id {
            -8 => Some(KeyAlgorithm::Ed25519),
            -7 => Some(KeyAlgorithm::EcdsaP256),
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
        })
    }
}

/// What an authenticator says about itself (CTAP2 authenticatorGetInfo), in the terms
/// the pre-flight checks need.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeviceInfo {
    pub path: String,
    /// Product string from HID, when the transport knows it.
    pub product: Option<String>,
    /// 16 bytes, lower-case hex. All zeros means the vendor does not disclose the model.
    pub aaguid: String,
    pub firmware_version: Option<u32>,
    /// e.g. "FIDO_2_0", "FIDO_2_1", "U2F_V2".
    pub ctap_versions: Vec<String>,
    /// COSE algorithm identifiers the device reports (e.g. -7, -8).
    pub cose_algorithms: Vec<i64>,
    /// The subset skset can use, Ed25519 first.
    pub ssh_algorithms: Vec<KeyAlgorithm>,
    pub extensions: Vec<String>,
    pub options: DeviceOptions,
    pub cred_protect: bool,
    /// None when the device does not report it (CTAP 2.0 devices).
    pub remaining_discoverable_credentials: Option<u32>,
    /// The device's own minimum PIN length (4 unless configured otherwise).
    pub min_pin_length: u32,
    pub pin_protocols: Vec<u32>,
}

impl DeviceInfo {
    pub fn supports(&self, algorithm: KeyAlgorithm) -> bool {
        self.ssh_algorithms.contains(&algorithm)
    }

    pub fn pin_is_set(&self) -> bool {
        self.options.client_pin == Some(true)
    }

    pub fn has_credential_management(&self) -> bool {
        self.options.credential_management
    }
}

/// getInfo options. `None` means the device does not support the feature at all,
/// `Some(false)` that it supports it but it is not configured (e.g. no PIN set yet).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DeviceOptions {
    pub resident_keys: bool,
    pub client_pin: Option<bool>,
    pub user_presence: bool,
    pub user_verification: Option<bool>,
    pub credential_management: bool,
}

/// clientPIN state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PinStatus {
    /// false: the device supports a PIN but none is set yet.
    pub is_set: bool,
    /// Tries left before the PIN blocks (8 on a fresh YubiKey). None when no PIN is set.
    pub retries_left: Option<u32>,
}

/// CTAP2 credProtect levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredProtect {
    /// 1: no protection beyond the default.
    UvOptional,
    /// 2: a discoverable credential is listed without UV only when its id is given.
    UvOptionalWithCredentialId,
    /// 3: every use needs user verification (the PIN).
    UvRequired,
}

impl CredProtect {
    pub fn level(self) -> u8 {
        match self {
            CredProtect::UvOptional => 1,
            CredProtect::UvOptionalWithCredentialId => 2,
            CredProtect::UvRequired => 3,
        }
    }

    pub fn from_level(level: u8) -> Option<CredProtect> {
        match level {
            1 => Some(CredProtect::UvOptional),
            2 => Some(CredProtect::UvOptionalWithCredentialId),
            3 => Some(CredProtect::UvRequired),
            _ => None,
        }
    }
}

/// What to create on the device. `application` is the FIDO rpId (`ssh:root`);
/// `user_id` is the 32-byte handle OpenSSH uses (zero padded).
#[derive(Debug, Clone)]
pub struct MakeCredentialRequest<'a> {
    pub algorithm: KeyAlgorithm,
    pub application: String,
    pub user_id: Vec<u8>,
    pub user_name: String,
    pub resident: bool,
    pub cred_protect: Option<CredProtect>,
    pub pin: Option<&'a Pin>,
    /// Raw challenge; the device signs SHA-256 of it (clientDataHash), as OpenSSH's middleware does.
    pub challenge: Vec<u8>,
    /// Credential ids that must not be duplicated (CTAP excludeList).
    pub exclude: Vec<Vec<u8>>,
}

/// The authenticator's answer to makeCredential.
#[derive(Debug, Clone, Serialize)]
pub struct NewCredential {
    pub algorithm: KeyAlgorithm,
    /// Ed25519: 32 raw bytes. P-256: 65 bytes SEC1 uncompressed (04 || x || y).
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    /// The credential id; for non-resident keys this is the only handle to the key.
    #[serde(with = "hex_bytes")]
    pub key_handle: Vec<u8>,
    /// authenticatorData flags byte (UP 0x01, UV 0x04, AT 0x40, ED 0x80).
    pub auth_data_flags: u8,
    pub sign_count: u32,
    pub attestation: AttestationStatement,
}

/// The attestation as the device returned it, kept for the `.att` file and the audit.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationStatement {
    /// "packed", "none", "fido-u2f", ...
    pub format: String,
    pub algorithm: i32,
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
    /// DER certificates, leaf first. Empty for self attestation.
    #[serde(skip)]
    pub x5c: Vec<Vec<u8>>,
    /// Raw authenticatorData (rpIdHash || flags || counter || attestedCredentialData || ext).
    #[serde(with = "hex_bytes")]
    pub auth_data: Vec<u8>,
}

/// Sign with an existing credential.
#[derive(Debug, Clone)]
pub struct AssertionRequest<'a> {
    pub application: String,
    pub key_handle: Vec<u8>,
    /// Signed as clientDataHash = SHA-256(message), like OpenSSH's middleware.
    pub message: Vec<u8>,
    /// false for no-touch-required keys: the device then signs without a touch.
    pub user_presence: bool,
    pub pin: Option<&'a Pin>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assertion {
    /// authenticatorData flags byte.
    pub flags: u8,
    pub sign_count: u32,
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub auth_data: Vec<u8>,
}

impl Assertion {
    pub fn user_present(&self) -> bool {
        self.flags & 0x01 != 0
    }
    pub fn user_verified(&self) -> bool {
        self.flags & 0x04 != 0
    }
}

/// A discoverable credential found on the device under an `ssh:` application.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResidentCredential {
    pub application: String,
    #[serde(with = "hex_bytes")]
    pub user_id: Vec<u8>,
    pub user_name: String,
    #[serde(with = "hex_bytes")]
    pub credential_id: Vec<u8>,
    pub algorithm: Option<KeyAlgorithm>,
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    pub cred_protect: Option<u8>,
}

impl ResidentCredential {
    /// The user id as OpenSSH shows it: bytes up to the first NUL, when printable.
    pub fn user_id_display(&self) -> String {
        let end = self
            .user_id
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.user_id.len());
        let head = &self.user_id[..end];
        if self.user_id[end..].iter().all(|b| *b == 0)
            && head.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        {
            if head.is_empty() {
                "null".to_string()
            } else {
                String::from_utf8_lossy(head).into_owned()
            }
        } else {
            hex::encode(&self.user_id)
        }
    }
}

/// How many discoverable credentials exist and how many more fit.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct CredentialCounts {
    pub existing: u32,
    pub remaining: u32,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_rules_follow_ctap() {
        assert!(Pin::new(Zeroizing::new("123".into())).is_err());
        assert!(Pin::new(Zeroizing::new("1234\n".into())).is_ok());
        assert!(Pin::new(Zeroizing::new("x".repeat(64))).is_err());
        // Four code points, more than four bytes: allowed.
        assert!(Pin::new(Zeroizing::new("äöüß".into())).is_ok());
        let pin = Pin::new(Zeroizing::new("secret-pin".into())).unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }

    #[test]
    fn user_id_display_matches_openssh() {
        let mut cred = ResidentCredential {
            application: "ssh:root".into(),
            user_id: vec![0; 32],
            user_name: "openssh".into(),
            credential_id: vec![],
            algorithm: None,
            public_key: vec![],
            cred_protect: None,
        };
        assert_eq!(cred.user_id_display(), "null");
        cred.user_id[..4].copy_from_slice(b"root");
        assert_eq!(cred.user_id_display(), "root");
        cred.user_id[10] = 7;
        assert_eq!(cred.user_id_display().len(), 64);
    }
}
