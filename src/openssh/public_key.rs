//! OpenSSH public key lines (`<type> <base64 blob> <comment>`), as in `.pub` files.
//!
//! The blob of an sk key is `string type, <key>, string application` (`PROTOCOL.u2f`), so the
//! public view carries the application but not the flags or the key handle.

use ssh_key::{
    encoding::base64::{Base64, Encoding},
    encoding::Encode,
    public::KeyData,
    HashAlg, PublicKey,
};

use super::sk_key::{
    sk_public_key_data, validate_comment, CredentialError, SkAlgorithm, SkCredential,
};

/// The public view of an sk key: what a `.pub` line or an `authorized_keys` entry shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkPublicKey {
    pub algorithm: SkAlgorithm,
    /// 32-byte Ed25519 key, or 65-byte SEC1 uncompressed P-256 point.
    pub public_key: Vec<u8>,
    pub application: String,
    pub comment: String,
}

/// Why a public key line could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublicKeyError {
    /// The line does not have a type and a base64 blob.
    #[error("not an OpenSSH public key line (expected \"<type> <base64> [comment]\")")]
    Syntax,
    /// The blob is not valid base64.
    #[error("the key data is not valid base64; the line may be truncated or wrapped, keep it on one line")]
    Base64,
    /// The blob does not decode as an SSH public key.
    #[error("the key data does not decode as an SSH public key: {0}")]
    Blob(ssh_key::Error),
    /// The type in front of the blob differs from the type inside it.
    #[error("the line says {text} but the key data is {blob}; the line was edited or spliced")]
    TypeMismatch { text: String, blob: String },
    /// A valid key, but not one that lives on a security key.
    #[error("{key_type} is not a security-key (sk) type; skset only handles sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com")]
    NotSecurityKey { key_type: String },
}

/// Render the `.pub` file content exactly as ssh-keygen writes it: `type base64 comment\n`.
///
/// ssh-keygen always writes the space before the comment, even an empty one
/// (`sshkey_save_public`), so an empty comment gives `type base64 \n`.
pub fn render_public_key_line(
    credential: &SkCredential,
    comment: &str,
) -> Result<String, CredentialError> {
    render_line(&credential.public_key_data()?, comment)
}

/// The `SHA256:<base64>` fingerprint `ssh-keygen -l` prints for this credential.
pub fn fingerprint(credential: &SkCredential) -> Result<String, CredentialError> {
    Ok(fingerprint_of(&credential.public_key_data()?))
}

pub(crate) fn render_line(key: &KeyData, comment: &str) -> Result<String, CredentialError> {
    validate_comment(comment)?;
    let blob = key.encode_vec().map_err(CredentialError::Encode)?;
    Ok(format!(
        "{} {} {}\n",
        key.algorithm().as_str(),
        Base64::encode_string(&blob),
        comment
    ))
}

pub(crate) fn fingerprint_of(key: &KeyData) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl SkPublicKey {
    /// Parse one public key line (`.pub` content, or an `authorized_keys` entry without options).
    ///
    /// Like OpenSSH, fields may be separated by runs of spaces or tabs and the comment is the
    /// rest of the line.
    pub fn parse_line(line: &str) -> Result<Self, PublicKeyError> {
        let (key, comment) = parse_any_line(line)?;
        let algorithm = SkAlgorithm::from_ssh_key(&key.algorithm()).ok_or_else(|| {
            PublicKeyError::NotSecurityKey {
                key_type: key.algorithm().as_str().to_owned(),
            }
        })?;
        let (public_key, application) = match &key {
            KeyData::SkEd25519(sk) => (sk.public_key().0.to_vec(), sk.application().to_owned()),
            KeyData::SkEcdsaSha2NistP256(sk) => (
                sk.ec_point().as_bytes().to_vec(),
                sk.application().to_owned(),
            ),
            _ => {
                return Err(PublicKeyError::NotSecurityKey {
                    key_type: key.algorithm().as_str().to_owned(),
                })
            }
        };
        Ok(SkPublicKey {
            algorithm,
            public_key,
            application,
            comment,
        })
    }

    /// The public key as ssh-key's type.
    pub fn key_data(&self) -> Result<KeyData, CredentialError> {
        sk_public_key_data(self.algorithm, &self.public_key, &self.application)
    }

    /// `SHA256:<base64>`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> Result<String, CredentialError> {
        Ok(fingerprint_of(&self.key_data()?))
    }

    /// The line as ssh-keygen would write it to a `.pub` file.
    pub fn to_line(&self) -> Result<String, CredentialError> {
        render_line(&self.key_data()?, &self.comment)
    }

    /// The line `ssh-keygen -l -f` prints: `256 SHA256:... comment (ED25519-SK)`.
    /// For an empty comment ssh-keygen prints "no comment" or the file name, depending on
    /// where it found the key; this prints "no comment".
    pub fn ssh_keygen_l_line(&self) -> Result<String, CredentialError> {
        let comment = if self.comment.is_empty() {
            "no comment"
        } else {
            &self.comment
        };
        Ok(format!(
            "{} {} {} ({})",
            self.algorithm.bits(),
            self.fingerprint()?,
            comment,
            self.algorithm.ssh_keygen_label()
        ))
    }
}

/// Parse any public key line into ssh-key's type and the comment (used by the audit for
/// non-sk keys too).
pub fn parse_any_line(line: &str) -> Result<(KeyData, String), PublicKeyError> {
    let line = line.trim_matches(|c: char| c.is_ascii_whitespace());
    let (key_type, rest) = split_field(line).ok_or(PublicKeyError::Syntax)?;
    let (base64, comment) = split_field(rest).unwrap_or((rest, ""));
    if base64.is_empty() {
        return Err(PublicKeyError::Syntax);
    }
    let blob = Base64::decode_vec(base64).map_err(|_| PublicKeyError::Base64)?;
    let key = PublicKey::from_bytes(&blob).map_err(PublicKeyError::Blob)?;
    if key.algorithm().as_str() != key_type {
        return Err(PublicKeyError::TypeMismatch {
            text: key_type.to_owned(),
            blob: key.algorithm().as_str().to_owned(),
        });
    }
    Ok((key.key_data().clone(), comment.to_owned()))
}

/// Split off the first whitespace-delimited field; the rest has leading blanks removed.
fn split_field(s: &str) -> Option<(&str, &str)> {
    let end = s.find([' ', '\t'])?;
    let (field, rest) = s.split_at(end);
    Some((field, rest.trim_start_matches([' ', '\t'])))
}
