//! OpenSSH private key files (`openssh-key-v1`, `PROTOCOL.key`) holding an sk credential.
//!
//! ```text
//! "openssh-key-v1\0"  string cipher  string kdf  string kdfoptions  uint32 1
//! string public key blob             (type, key, application: readable without a passphrase)
//! string private section             (encrypted when cipher != none)
//!     uint32 checkint, uint32 checkint, type, key, application, uint8 flags,
//!     string key_handle, string reserved, string comment, padding 1 2 3 ...
//! ```
//!
//! ssh-key does the container, PEM armour, bcrypt-pbkdf and aes256-ctr; this module chooses
//! what ssh-keygen chooses (random check int, 16-byte salt, caller-given rounds) and reads
//! hostile files without panicking.

use std::fmt;

use ssh_key::{encoding::Encode, Cipher, Kdf, LineEnding, PrivateKey};
use zeroize::Zeroizing;

use super::public_key::fingerprint_of;
use super::sk_key::{validate_comment, CredentialError, SkAlgorithm, SkCredential};

/// bcrypt-pbkdf rounds OpenSSH ≥ 9.4 uses by default (ssh-key's own default is 16).
pub const DEFAULT_KDF_ROUNDS: u32 = 24;

/// Salt length ssh-keygen uses for bcrypt-pbkdf.
pub const KDF_SALT_LEN: usize = 16;

/// The most bcrypt-pbkdf rounds we will spend on a file (ssh-keygen takes several minutes at
/// this many). A hostile or damaged file could ask for 2^32 rounds and hang us forever.
pub const MAX_KDF_ROUNDS: u32 = 10_000;

/// OpenSSH refuses key files above 1 MiB (`MAX_KEY_FILE_SIZE`); so do we.
pub const MAX_PRIVATE_KEY_FILE_LEN: usize = 1024 * 1024;

const BEGIN_OPENSSH: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END_OPENSSH: &str = "-----END OPENSSH PRIVATE KEY-----";

/// A passphrase for a private key file. Wiped on drop; never printed.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(passphrase: Zeroizing<String>) -> Self {
        Passphrase(passphrase)
    }

    /// ssh-keygen treats an empty passphrase as "do not encrypt".
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<Zeroizing<String>> for Passphrase {
    fn from(passphrase: Zeroizing<String>) -> Self {
        Passphrase(passphrase)
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// How to protect the private key file.
#[derive(Clone, Copy, Debug)]
pub enum Protection<'a> {
    /// cipher and kdf `none` (what `ssh-keygen -N ""` writes).
    Unencrypted,
    /// aes256-ctr with a bcrypt-pbkdf key (what `ssh-keygen -N pass -a rounds` writes).
    /// An empty passphrase writes an unencrypted file, as ssh-keygen does.
    Passphrase {
        passphrase: &'a Passphrase,
        kdf_rounds: u32,
    },
}

/// The values ssh-keygen draws at random for each file. Public only so tests can pin them
/// and compare our bytes with ssh-keygen's; production code uses [`render_private_key`].
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct FileRandomness {
    pub checkint: u32,
    pub salt: [u8; KDF_SALT_LEN],
}

impl FileRandomness {
    fn from_os() -> Result<Self, PrivateKeyError> {
        let mut salt = [0u8; KDF_SALT_LEN];
        ssh_key::getrandom::fill(&mut salt).map_err(|_| PrivateKeyError::Random)?;
        let checkint = ssh_key::getrandom::u32().map_err(|_| PrivateKeyError::Random)?;
        Ok(FileRandomness { checkint, salt })
    }
}

/// Errors rendering, reading or decrypting a private key file. None carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivateKeyError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// bcrypt-pbkdf rounds outside 1..=[`MAX_KDF_ROUNDS`].
    #[error(
        "{rounds} bcrypt rounds is outside 1..={MAX_KDF_ROUNDS} (OpenSSH uses {DEFAULT_KDF_ROUNDS}); \
         to read a file you encrypted with more, lower it first with `ssh-keygen -p -a 100 -f FILE`"
    )]
    KdfRounds { rounds: u32 },
    /// The OS random number generator failed.
    #[error("the system random number generator failed; nothing was written, try again")]
    Random,
    /// ssh-key refused to encode or encrypt (should not happen for a validated credential).
    #[error("could not encode the private key: {0}")]
    Encode(ssh_key::Error),
    /// Over OpenSSH's own limit.
    #[error("the file is {len} bytes; OpenSSH private keys are at most {max} bytes, this is not a key file")]
    TooLarge { len: usize, max: usize },
    /// A PEM key in an older format (PKCS#1, SEC1, PKCS#8): not an sk key.
    #[error(
        "this is a \"{label}\" PEM key, not an OpenSSH-format key; security-key (sk) keys only \
         exist in the OpenSSH format (-----BEGIN OPENSSH PRIVATE KEY-----)"
    )]
    LegacyPem { label: String },
    /// A public key where a private key was expected.
    #[error("this is a public key line, not a private key file; pass the file without .pub")]
    PublicKeyGiven,
    /// Nothing that looks like a private key.
    #[error("not an OpenSSH private key file (no \"{BEGIN_OPENSSH}\" line)")]
    NotOpenSsh,
    /// The armour or the binary structure is broken.
    #[error(
        "the OpenSSH private key is damaged or truncated ({0}); restore it from a backup, or for \
         a resident key recover it with `ssh-keygen -K`"
    )]
    Malformed(ssh_key::Error),
    /// The file is encrypted and no passphrase was given.
    #[error(
        "the private key is encrypted; a passphrase is needed to read the flags and key handle"
    )]
    PassphraseRequired,
    /// The passphrase did not decrypt the file.
    #[error("wrong passphrase for the private key (or the encrypted part is damaged); try again")]
    WrongPassphrase,
    /// A valid key, but not one that lives on a security key.
    #[error("{key_type} is not a security-key (sk) type; skset only handles sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com")]
    NotSecurityKey { key_type: String },
}

/// Render the private key file exactly as ssh-keygen writes it, with fresh random check int
/// and salt.
pub fn render_private_key(
    credential: &SkCredential,
    comment: &str,
    protection: Protection<'_>,
) -> Result<Zeroizing<String>, PrivateKeyError> {
    render_private_key_with(credential, comment, protection, FileRandomness::from_os()?)
}

/// [`render_private_key`] with the random values given, so a test can reproduce a file
/// byte for byte. Never use fixed values in production: the salt must be fresh.
#[doc(hidden)]
pub fn render_private_key_with(
    credential: &SkCredential,
    comment: &str,
    protection: Protection<'_>,
    randomness: FileRandomness,
) -> Result<Zeroizing<String>, PrivateKeyError> {
    validate_comment(comment)?;
    credential.validate()?;
    let plain = unencrypted_with_checkint(credential, comment, randomness.checkint)?;
    let key = match protection {
        Protection::Passphrase {
            passphrase,
            kdf_rounds,
        } if !passphrase.is_empty() => {
            check_rounds(kdf_rounds)?;
            let kdf = Kdf::Bcrypt {
                salt: randomness.salt.to_vec(),
                rounds: kdf_rounds,
            };
            plain
                .encrypt_with(
                    Cipher::Aes256Ctr,
                    kdf,
                    randomness.checkint,
                    passphrase.as_bytes(),
                )
                .map_err(PrivateKeyError::Encode)?
        }
        _ => plain,
    };
    key.to_openssh(LineEnding::LF)
        .map_err(PrivateKeyError::Encode)
}

/// Assemble the unencrypted `openssh-key-v1` container and let ssh-key parse it (which
/// re-validates all of it). Assembled here rather than by `PrivateKey::new` because ssh-key
/// derives the check int from the key handle where ssh-keygen draws it at random, and
/// refuses key handles over 255 bytes where OpenSSH has no such limit.
fn unencrypted_with_checkint(
    credential: &SkCredential,
    comment: &str,
    checkint: u32,
) -> Result<PrivateKey, PrivateKeyError> {
    let public = credential.public_key_data()?;
    let encode = |e: ssh_key::encoding::Error| PrivateKeyError::Encode(e.into());

    let mut section = Zeroizing::new(Vec::new());
    checkint.encode(&mut *section).map_err(encode)?;
    checkint.encode(&mut *section).map_err(encode)?;
    public.encode(&mut *section).map_err(encode)?; // string type, key, string application
    credential.flags.encode(&mut *section).map_err(encode)?;
    credential
        .key_handle
        .encode(&mut *section)
        .map_err(encode)?;
    b"".as_slice().encode(&mut *section).map_err(encode)?; // reserved
    comment.encode(&mut *section).map_err(encode)?;
    // Padding 1, 2, 3, ... to the cipher block size (8 for "none"), as PROTOCOL.key says.
    let mut pad = 1u8;
    while section.len() % Cipher::None.block_size() != 0 {
        section.push(pad);
        pad += 1;
    }

    let mut container = Zeroizing::new(b"openssh-key-v1\0".to_vec());
    "none".encode(&mut *container).map_err(encode)?; // cipher
    "none".encode(&mut *container).map_err(encode)?; // kdf
    b"".as_slice().encode(&mut *container).map_err(encode)?; // kdf options
    1u32.encode(&mut *container).map_err(encode)?; // number of keys
    public.encode_prefixed(&mut *container).map_err(encode)?;
    section.as_slice().encode(&mut *container).map_err(encode)?;
    PrivateKey::from_bytes(&container).map_err(PrivateKeyError::Encode)
}

/// How a private key file is protected, as read from its unencrypted header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    None,
    Encrypted {
        /// e.g. `aes256-ctr`
        cipher: String,
        /// e.g. `bcrypt`
        kdf: String,
        /// bcrypt-pbkdf rounds (OpenSSH < 9.4 used 16, later 24).
        rounds: Option<u32>,
    },
}

/// What a private key file shows without a passphrase.
#[derive(Clone, Debug)]
pub struct PrivateKeyInfo {
    /// The key type name, e.g. `sk-ssh-ed25519@openssh.com` or `ssh-rsa`.
    pub key_type: String,
    /// Set for the two sk types.
    pub sk_algorithm: Option<SkAlgorithm>,
    pub encryption: Encryption,
    /// The public key line without a comment (`type base64`), for comparing with `.pub`
    /// files and `authorized_keys`.
    pub public_key_line: String,
    /// `SHA256:...` as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// The sk application (public section; visible even when encrypted).
    pub application: Option<String>,
    /// The sk flags byte; `None` when encrypted (it lives in the encrypted section).
    pub flags: Option<u8>,
    /// The comment; `None` when encrypted (it lives in the encrypted section).
    pub comment: Option<String>,
}

/// A decrypted (or unencrypted) sk private key file.
#[derive(Clone, Debug)]
pub struct SkPrivateKey {
    pub credential: SkCredential,
    pub comment: String,
}

/// Read any OpenSSH private key file without decrypting it.
pub fn inspect_private_key(file: &[u8]) -> Result<PrivateKeyInfo, PrivateKeyError> {
    let key = parse(file)?;
    let key_data = key.public_key().key_data();
    let sk_algorithm = SkAlgorithm::from_ssh_key(&key.algorithm());
    let encryption = if key.is_encrypted() {
        Encryption::Encrypted {
            cipher: key.cipher().as_str().to_owned(),
            kdf: key.kdf().algorithm().as_str().to_owned(),
            rounds: match key.kdf() {
                Kdf::Bcrypt { rounds, .. } => Some(*rounds),
                _ => None,
            },
        }
    } else {
        Encryption::None
    };
    let application = match key_data {
        ssh_key::public::KeyData::SkEd25519(sk) => Some(sk.application().to_owned()),
        ssh_key::public::KeyData::SkEcdsaSha2NistP256(sk) => Some(sk.application().to_owned()),
        _ => None,
    };
    let flags = SkCredential::from_keypair_data(key.key_data()).map(|c| c.flags);
    let comment = (!key.is_encrypted()).then(|| comment_string(&key));
    let public_key_line = ssh_key::PublicKey::from(key_data.clone())
        .to_openssh()
        .map_err(PrivateKeyError::Malformed)?;
    Ok(PrivateKeyInfo {
        key_type: key.algorithm().as_str().to_owned(),
        sk_algorithm,
        encryption,
        public_key_line,
        fingerprint: fingerprint_of(key_data),
        application,
        flags,
        comment,
    })
}

/// Read an sk private key file, decrypting it with `passphrase` when it is encrypted.
pub fn read_sk_private_key(
    file: &[u8],
    passphrase: Option<&Passphrase>,
) -> Result<SkPrivateKey, PrivateKeyError> {
    let key = parse(file)?;
    if SkAlgorithm::from_ssh_key(&key.algorithm()).is_none() {
        return Err(PrivateKeyError::NotSecurityKey {
            key_type: key.algorithm().as_str().to_owned(),
        });
    }
    let key = if key.is_encrypted() {
        let passphrase = passphrase.ok_or(PrivateKeyError::PassphraseRequired)?;
        if let Kdf::Bcrypt { rounds, .. } = key.kdf() {
            check_rounds(*rounds)?;
        }
        key.decrypt(passphrase.as_bytes())
            .map_err(|error| match error {
                // ssh-key reports a check int mismatch (the wrong-key symptom) as Crypto; a bad
                // padding or structure after decryption also means the key was wrong.
                ssh_key::Error::Crypto
                | ssh_key::Error::Encoding(_)
                | ssh_key::Error::FormatEncoding => PrivateKeyError::WrongPassphrase,
                other => PrivateKeyError::Malformed(other),
            })?
    } else {
        key
    };
    let credential = SkCredential::from_keypair_data(key.key_data()).ok_or_else(|| {
        PrivateKeyError::NotSecurityKey {
            key_type: key.algorithm().as_str().to_owned(),
        }
    })?;
    Ok(SkPrivateKey {
        credential,
        comment: comment_string(&key),
    })
}

fn check_rounds(rounds: u32) -> Result<(), PrivateKeyError> {
    if rounds == 0 || rounds > MAX_KDF_ROUNDS {
        return Err(PrivateKeyError::KdfRounds { rounds });
    }
    Ok(())
}

// ssh-key's `as_str_lossy` is quadratic on non-UTF-8 input; a hostile comment must not hang us.
fn comment_string(key: &PrivateKey) -> String {
    String::from_utf8_lossy(key.comment().as_bytes()).into_owned()
}

fn parse(file: &[u8]) -> Result<PrivateKey, PrivateKeyError> {
    if file.len() > MAX_PRIVATE_KEY_FILE_LEN {
        return Err(PrivateKeyError::TooLarge {
            len: file.len(),
            max: MAX_PRIVATE_KEY_FILE_LEN,
        });
    }
    let text = std::str::from_utf8(file).map_err(|_| PrivateKeyError::NotOpenSsh)?;
    let trimmed = text.trim_start();
    if !trimmed.starts_with(BEGIN_OPENSSH) {
        return Err(classify_other(trimmed));
    }
    // Like OpenSSH, ignore whatever follows the end line (ssh-key would refuse it).
    let armoured = match trimmed.find(END_OPENSSH) {
        Some(end) => &trimmed[..end + END_OPENSSH.len()],
        None => trimmed,
    };
    PrivateKey::from_openssh(armoured).map_err(PrivateKeyError::Malformed)
}

fn classify_other(text: &str) -> PrivateKeyError {
    if let Some(rest) = text.strip_prefix("-----BEGIN ") {
        if let Some(label) = rest
            .split("-----")
            .next()
            .filter(|l| l.ends_with("PRIVATE KEY"))
        {
            return PrivateKeyError::LegacyPem {
                label: label.chars().take(40).collect(),
            };
        }
    }
    if super::public_key::parse_any_line(text.lines().next().unwrap_or("")).is_ok() {
        return PrivateKeyError::PublicKeyGiven;
    }
    PrivateKeyError::NotOpenSsh
}
