//! What a security key returns at enrollment, in the shape OpenSSH stores it.
//!
//! An OpenSSH sk key is not a private key: it is the authenticator's public key, the FIDO
//! application (relying party id, `ssh:` or `ssh:<name>`), a flags byte that tells OpenSSH
//! how to ask for the signature, and the credential id ("key handle") that the authenticator
//! needs to find or unwrap its private key (`PROTOCOL.u2f`).

use std::fmt;

use ssh_key::{private, public};
use zeroize::Zeroize;

/// Bits of the flags byte (`sk-api.h`).
pub mod flags {
    /// `SSH_SK_USER_PRESENCE_REQD`: a touch is required for every signature.
    pub const USER_PRESENCE_REQUIRED: u8 = 0x01;
    /// `SSH_SK_USER_VERIFICATION_REQD`: the PIN (or built-in UV) is required for every signature.
    pub const USER_VERIFICATION_REQUIRED: u8 = 0x04;
    /// `SSH_SK_FORCE_OPERATION`: the credential replaced an existing one on the token
    /// (ssh-keygen sets it after "Overwrite key in token? y").
    pub const FORCE_OPERATION: u8 = 0x10;
    /// `SSH_SK_RESIDENT_KEY`: discoverable credential, recoverable with `ssh-keygen -K`.
    pub const RESIDENT_KEY: u8 = 0x20;
    /// Every bit OpenSSH defines; other bits are carried through untouched.
    pub const KNOWN: u8 =
        USER_PRESENCE_REQUIRED | USER_VERIFICATION_REQUIRED | FORCE_OPERATION | RESIDENT_KEY;
}

/// The application OpenSSH uses when none is given; custom ones must start with it.
pub const APPLICATION_PREFIX: &str = "ssh:";

/// The two key types OpenSSH can put on a security key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkAlgorithm {
    /// `sk-ssh-ed25519@openssh.com` (COSE EdDSA).
    Ed25519,
    /// `sk-ecdsa-sha2-nistp256@openssh.com` (COSE ES256).
    EcdsaP256,
}

impl SkAlgorithm {
    /// The key type name as it appears in files and `authorized_keys`.
    pub fn key_type(self) -> &'static str {
        match self {
            SkAlgorithm::Ed25519 => "sk-ssh-ed25519@openssh.com",
            SkAlgorithm::EcdsaP256 => "sk-ecdsa-sha2-nistp256@openssh.com",
        }
    }

    /// The name `ssh-keygen -l` prints in parentheses.
    pub fn ssh_keygen_label(self) -> &'static str {
        match self {
            SkAlgorithm::Ed25519 => "ED25519-SK",
            SkAlgorithm::EcdsaP256 => "ECDSA-SK",
        }
    }

    /// The ssh-keygen file name stem (`id_ed25519_sk`, `id_ecdsa_sk`).
    pub fn default_file_stem(self) -> &'static str {
        match self {
            SkAlgorithm::Ed25519 => "id_ed25519_sk",
            SkAlgorithm::EcdsaP256 => "id_ecdsa_sk",
        }
    }

    /// Length of the public key as the authenticator returns it.
    pub fn public_key_len(self) -> usize {
        match self {
            SkAlgorithm::Ed25519 => 32,
            SkAlgorithm::EcdsaP256 => 65,
        }
    }

    /// Key strength in bits as `ssh-keygen -l` prints it (256 for both).
    pub fn bits(self) -> u32 {
        256
    }

    pub(crate) fn from_ssh_key(algorithm: &ssh_key::Algorithm) -> Option<Self> {
        match algorithm {
            ssh_key::Algorithm::SkEd25519 => Some(SkAlgorithm::Ed25519),
            ssh_key::Algorithm::SkEcdsaSha2NistP256 => Some(SkAlgorithm::EcdsaP256),
            _ => None,
        }
    }
}

impl fmt::Display for SkAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key_type())
    }
}

/// A credential made by a security key, as OpenSSH stores it in an sk private key file.
///
/// Built by the enrollment engine from the authenticator's answer; rendered by
/// [`crate::openssh::private_key`] and [`crate::openssh::public_key`].
#[derive(Clone, PartialEq, Eq)]
pub struct SkCredential {
    pub algorithm: SkAlgorithm,
    /// 32-byte Ed25519 key, or 65-byte SEC1 uncompressed P-256 point (`04 || x || y`).
    pub public_key: Vec<u8>,
    /// FIDO relying party id: `ssh:` or `ssh:<name>`.
    pub application: String,
    /// See [`flags`].
    pub flags: u8,
    /// FIDO credential id. For non-resident keys this is the token-wrapped private key:
    /// useless without the token, but not something to print.
    pub key_handle: Vec<u8>,
}

impl Drop for SkCredential {
    fn drop(&mut self) {
        self.key_handle.zeroize();
    }
}

// The key handle is left out on purpose: Debug output ends up in logs.
impl fmt::Debug for SkCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SkCredential")
            .field("algorithm", &self.algorithm)
            .field("public_key", &HexBytes(&self.public_key))
            .field("application", &self.application)
            .field("flags", &format_args!("{:#04x}", self.flags))
            .field(
                "key_handle",
                &format_args!("<{} bytes>", self.key_handle.len()),
            )
            .finish()
    }
}

/// Why a credential cannot be written as an OpenSSH key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The public key has the wrong size for its algorithm.
    #[error(
        "the {algorithm} public key is {actual} bytes, expected {expected}; \
         the authenticator's answer was not decoded correctly"
    )]
    PublicKeyLength {
        algorithm: SkAlgorithm,
        expected: usize,
        actual: usize,
    },
    /// The P-256 public key is not an uncompressed point on the curve.
    #[error(
        "the P-256 public key is not an uncompressed point on the curve \
         (ssh-keygen would refuse the file); the authenticator's answer was not decoded correctly"
    )]
    InvalidEcPoint,
    /// OpenSSH refuses applications that do not start with `ssh:`.
    #[error("the application {application:?} does not start with \"ssh:\"; OpenSSH only uses applications like \"ssh:\" or \"ssh:name\"")]
    Application { application: String },
    /// The authenticator returned no credential id.
    #[error("the credential id (key handle) is empty; the authenticator's answer was not decoded correctly")]
    EmptyKeyHandle,
    /// ssh-key could not encode the key (not expected for a validated credential).
    #[error("could not encode the public key: {0}")]
    Encode(ssh_key::encoding::Error),
    /// A comment would break the one-line `.pub` format.
    #[error("the comment contains a line break; use a single-line comment")]
    CommentLineBreak,
}

impl SkCredential {
    /// Check everything ssh-keygen would check when it loads the file.
    pub fn validate(&self) -> Result<(), CredentialError> {
        self.public_key_data()?;
        self.check_key_handle()
    }

    /// The public half as ssh-key's type (what goes in `.pub` and `authorized_keys`).
    pub fn public_key_data(&self) -> Result<public::KeyData, CredentialError> {
        sk_public_key_data(self.algorithm, &self.public_key, &self.application)
    }

    fn check_key_handle(&self) -> Result<(), CredentialError> {
        if self.key_handle.is_empty() {
            return Err(CredentialError::EmptyKeyHandle);
        }
        Ok(())
    }

    /// Read a credential back from ssh-key's decrypted private-section type.
    pub(crate) fn from_keypair_data(data: &private::KeypairData) -> Option<Self> {
        match data {
            private::KeypairData::SkEd25519(sk) => Some(SkCredential {
                algorithm: SkAlgorithm::Ed25519,
                public_key: sk.public().public_key().0.to_vec(),
                application: sk.public().application().to_owned(),
                flags: sk.flags(),
                key_handle: sk.key_handle().to_vec(),
            }),
            private::KeypairData::SkEcdsaSha2NistP256(sk) => Some(SkCredential {
                algorithm: SkAlgorithm::EcdsaP256,
                public_key: sk.public().ec_point().as_bytes().to_vec(),
                application: sk.public().application().to_owned(),
                flags: sk.flags(),
                key_handle: sk.key_handle().to_vec(),
            }),
            _ => None,
        }
    }
}

/// Build the public key blob contents, checking what OpenSSH checks when it loads a key.
pub(crate) fn sk_public_key_data(
    algorithm: SkAlgorithm,
    public_key: &[u8],
    application: &str,
) -> Result<public::KeyData, CredentialError> {
    let expected = algorithm.public_key_len();
    if public_key.len() != expected {
        return Err(CredentialError::PublicKeyLength {
            algorithm,
            expected,
            actual: public_key.len(),
        });
    }
    if !application.starts_with(APPLICATION_PREFIX) {
        return Err(CredentialError::Application {
            application: application.to_owned(),
        });
    }
    Ok(match algorithm {
        SkAlgorithm::Ed25519 => {
            let mut array = [0u8; 32];
            array.copy_from_slice(public_key);
            public::KeyData::SkEd25519(public::SkEd25519::new(
                public::Ed25519PublicKey(array),
                application,
            ))
        }
        SkAlgorithm::EcdsaP256 => {
            // OpenSSH validates the point (`sshkey_ec_validate_public`) on load: a file with a
            // bad point would be unusable, so refuse it before writing. Compressed points are
            // valid SEC1 but OpenSSH stores the uncompressed form only.
            if public_key.first() != Some(&0x04)
                || p256::PublicKey::from_sec1_bytes(public_key).is_err()
            {
                return Err(CredentialError::InvalidEcPoint);
            }
            let point = ssh_key::sec1::EncodedPoint::from_bytes(public_key)
                .map_err(|_| CredentialError::InvalidEcPoint)?;
            public::KeyData::SkEcdsaSha2NistP256(public::SkEcdsaSha2NistP256::new(
                point,
                application,
            ))
        }
    })
}

/// A comment is free text, but a line break would split the `.pub` line in two.
pub(crate) fn validate_comment(comment: &str) -> Result<(), CredentialError> {
    if comment.contains(['\n', '\r']) {
        return Err(CredentialError::CommentLineBreak);
    }
    Ok(())
}

pub(crate) struct HexBytes<'a>(pub &'a [u8]);

impl fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}
