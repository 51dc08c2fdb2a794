//! The attestation file `ssh-keygen -O write-attestation=FILE` writes (`PROTOCOL.u2f`):
//!
//! ```text
//! string  "ssh-sk-attest-v01"
//! string  attestation certificate (x5c[0], DER; empty for self attestation)
//! string  enrollment signature
//! string  authenticator data, CBOR encoded
//! uint32  reserved flags (0)
//! string  reserved (empty)
//! ```
//!
//! "CBOR encoded" is literal: OpenSSH copies `fido_cred_authdata_ptr()`, which libfido2
//! documents as the CBOR byte string *wrapping* authData (header `0x58 len` / `0x59 len16`
//! ...), not the raw authData. Verifiers (`ssh-verify-attestation`) hand it back to
//! `fido_cred_set_authdata()`, which expects that wrapping. We store the same bytes.

use ssh_key::encoding::{Decode, Encode, Reader};

/// The only attestation format OpenSSH has written since 8.4.
pub const ATTESTATION_MAGIC: &str = "ssh-sk-attest-v01";
/// The pre-8.4 format without authenticator data.
const ATTESTATION_MAGIC_V00: &str = "ssh-sk-attest-v00";

/// An `ssh-sk-attest-v01` blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkAttestation {
    /// DER X.509 attestation certificate; empty for self attestation.
    pub certificate: Vec<u8>,
    /// The attestation signature over authData || clientDataHash.
    pub signature: Vec<u8>,
    /// authData as a CBOR byte string (see the module docs).
    pub auth_data_cbor: Vec<u8>,
}

/// Why an attestation blob could not be read or built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationError {
    #[error("not an OpenSSH attestation file (it does not start with \"{ATTESTATION_MAGIC}\")")]
    Magic,
    #[error(
        "this attestation file is in the pre-OpenSSH-8.4 format (ssh-sk-attest-v00) without \
         authenticator data; it cannot be verified, enroll again to get a v01 file"
    )]
    Version00,
    #[error("the attestation file is truncated or damaged: {0}")]
    Encoding(ssh_key::encoding::Error),
    #[error("the attestation file has {0} unexpected bytes at its end")]
    TrailingData(usize),
    #[error("the attestation file uses reserved fields this version does not know; upgrade skset")]
    Reserved,
    #[error("the authenticator data is not a CBOR byte string as OpenSSH stores it")]
    AuthDataNotCbor,
}

impl From<ssh_key::encoding::Error> for AttestationError {
    fn from(error: ssh_key::encoding::Error) -> Self {
        AttestationError::Encoding(error)
    }
}

impl SkAttestation {
    /// Build from what CTAP returned: the raw authData bytes get OpenSSH's CBOR wrapping.
    pub fn from_raw_auth_data(
        certificate: Vec<u8>,
        signature: Vec<u8>,
        raw_auth_data: &[u8],
    ) -> Self {
        SkAttestation {
            certificate,
            signature,
            auth_data_cbor: cbor_byte_string(raw_auth_data),
        }
    }

    /// The raw authData (rpIdHash, flags, counter, attested credential data, extensions).
    pub fn raw_auth_data(&self) -> Result<&[u8], AttestationError> {
        unwrap_cbor_byte_string(&self.auth_data_cbor)
    }

    /// The file contents, byte for byte what ssh-keygen writes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, AttestationError> {
        let mut out = Vec::new();
        ATTESTATION_MAGIC.encode(&mut out)?;
        self.certificate.encode(&mut out)?;
        self.signature.encode(&mut out)?;
        self.auth_data_cbor.encode(&mut out)?;
        0u32.encode(&mut out)?;
        "".encode(&mut out)?;
        Ok(out)
    }

    /// Parse an attestation file.
    pub fn from_bytes(mut bytes: &[u8]) -> Result<Self, AttestationError> {
        let reader = &mut bytes;
        let magic = Vec::<u8>::decode(reader).map_err(|_| AttestationError::Magic)?;
        if magic == ATTESTATION_MAGIC_V00.as_bytes() {
            return Err(AttestationError::Version00);
        }
        if magic != ATTESTATION_MAGIC.as_bytes() {
            return Err(AttestationError::Magic);
        }
        let certificate = Vec::<u8>::decode(reader)?;
        let signature = Vec::<u8>::decode(reader)?;
        let auth_data_cbor = Vec::<u8>::decode(reader)?;
        let reserved_flags = u32::decode(reader)?;
        let reserved = Vec::<u8>::decode(reader)?;
        if reserved_flags != 0 || !reserved.is_empty() {
            return Err(AttestationError::Reserved);
        }
        if !reader.is_finished() {
            return Err(AttestationError::TrailingData(reader.remaining_len()));
        }
        Ok(SkAttestation {
            certificate,
            signature,
            auth_data_cbor,
        })
    }
}

/// CBOR major type 2 (byte string) with the shortest length header (RFC 8949 §3).
pub fn cbor_byte_string(data: &[u8]) -> Vec<u8> {
    let len = data.len();
    let mut out = Vec::with_capacity(len + 9);
    if len < 24 {
        out.push(0x40 | len as u8);
    } else if let Ok(len) = u8::try_from(len) {
        out.extend([0x58, len]);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x59);
        out.extend(len.to_be_bytes());
    } else if let Ok(len) = u32::try_from(len) {
        out.push(0x5a);
        out.extend(len.to_be_bytes());
    } else {
        out.push(0x5b);
        out.extend((len as u64).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// The contents of a definite-length CBOR byte string that spans the whole input.
pub fn unwrap_cbor_byte_string(cbor: &[u8]) -> Result<&[u8], AttestationError> {
    let (&initial, rest) = cbor
        .split_first()
        .ok_or(AttestationError::AuthDataNotCbor)?;
    if initial >> 5 != 2 {
        return Err(AttestationError::AuthDataNotCbor);
    }
    let (len, body) = match initial & 0x1f {
        n @ 0..=23 => (u64::from(n), rest),
        n @ 24..=27 => {
            let width = 1usize << (n - 24);
            let (head, body) = rest
                .split_at_checked(width)
                .ok_or(AttestationError::AuthDataNotCbor)?;
            (
                head.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
                body,
            )
        }
        _ => return Err(AttestationError::AuthDataNotCbor),
    };
    if u64::try_from(body.len()).ok() != Some(len) {
        return Err(AttestationError::AuthDataNotCbor);
    }
    Ok(body)
}
