//! WebAuthn authenticator data as the authenticator signs it at enrollment:
//!
//! ```text
//! rpIdHash (32) | flags (1) | signCount (4, big endian)
//! [attested credential data, when flag AT: AAGUID (16) | credIdLen (2) | credId | COSE_Key]
//! [extensions, when flag ED: CBOR map]
//! ```
//!
//! Every length comes from the input, so every step is bounds-checked; CBOR is read with
//! ciborium, whose nesting limit keeps a hostile blob from recursing without end.

use ciborium::value::Value;

use crate::policy::model::Aaguid;

pub const FLAG_USER_PRESENT: u8 = 0x01;
pub const FLAG_USER_VERIFIED: u8 = 0x04;
pub const FLAG_ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
pub const FLAG_EXTENSIONS: u8 = 0x80;

/// The credential public key from the attested credential data, in the two forms OpenSSH
/// can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoseKey {
    /// COSE OKP, crv Ed25519 (alg -8): 32 bytes.
    Ed25519([u8; 32]),
    /// COSE EC2, crv P-256 (alg -7): SEC1 uncompressed `04 || x || y`.
    P256(Vec<u8>),
}

/// What authData says.
#[derive(Debug, Clone)]
pub struct AuthData<'a> {
    pub rp_id_hash: &'a [u8],
    pub flags: u8,
    pub sign_count: u32,
    pub aaguid: Aaguid,
    pub credential_id: &'a [u8],
    pub public_key: CoseKey,
    /// The credProtect extension output (1..3), when the authenticator reported one.
    pub cred_protect: Option<u8>,
}

/// Why authData could not be read. Each says what to do, since the file is the only input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthDataError {
    #[error("the authenticator data is truncated ({0}); the attestation file is damaged, enroll the key again to get a new one")]
    Truncated(&'static str),
    #[error("the authenticator data has no attested credential data (flag AT unset), so it does not say which key was made; this is not an enrollment attestation")]
    NoAttestedCredential,
    #[error("the credential public key in the authenticator data is not valid CBOR: {0}")]
    Cbor(String),
    #[error("the credential public key is a COSE key OpenSSH cannot use ({0}); only Ed25519 (OKP, -8) and P-256 (EC2, -7) exist as sk keys")]
    UnsupportedKey(String),
    #[error("the authenticator data has {0} bytes after its last field; the file was altered")]
    TrailingData(usize),
}

fn take<'a>(data: &mut &'a [u8], n: usize, what: &'static str) -> Result<&'a [u8], AuthDataError> {
    let (head, rest) = data
        .split_at_checked(n)
        .ok_or(AuthDataError::Truncated(what))?;
    *data = rest;
    Ok(head)
}

/// Parse raw authData (not the CBOR-wrapped form OpenSSH stores; see
/// [`crate::openssh::attestation::SkAttestation::raw_auth_data`]).
pub fn parse_auth_data(raw: &[u8]) -> Result<AuthData<'_>, AuthDataError> {
    let mut data = raw;
    let rp_id_hash = take(&mut data, 32, "rpIdHash")?;
    let flags = take(&mut data, 1, "flags")?[0];
    let count = take(&mut data, 4, "signCount")?;
    let sign_count = u32::from_be_bytes([count[0], count[1], count[2], count[3]]);
    if flags & FLAG_ATTESTED_CREDENTIAL_DATA == 0 {
        return Err(AuthDataError::NoAttestedCredential);
    }
    let mut aaguid = [0u8; 16];
    aaguid.copy_from_slice(take(&mut data, 16, "AAGUID")?);
    let len = take(&mut data, 2, "credential id length")?;
    let credential_id = take(
        &mut data,
        usize::from(u16::from_be_bytes([len[0], len[1]])),
        "credential id",
    )?;
    let key_value = read_cbor(&mut data)?;
    let public_key = cose_key(&key_value)?;
    let mut cred_protect = None;
    if flags & FLAG_EXTENSIONS != 0 {
        let extensions = read_cbor(&mut data)?;
        cred_protect = map_get_text(&extensions, "credProtect")
            .and_then(as_i128)
            .and_then(|v| u8::try_from(v).ok());
    }
    if !data.is_empty() {
        return Err(AuthDataError::TrailingData(data.len()));
    }
    Ok(AuthData {
        rp_id_hash,
        flags,
        sign_count,
        aaguid: Aaguid(aaguid),
        credential_id,
        public_key,
        cred_protect,
    })
}

/// One CBOR item from the front of `data`, advancing past it.
fn read_cbor(data: &mut &[u8]) -> Result<Value, AuthDataError> {
    if data.is_empty() {
        return Err(AuthDataError::Truncated("CBOR item"));
    }
    ciborium::de::from_reader::<Value, _>(&mut *data)
        .map_err(|e| AuthDataError::Cbor(e.to_string()))
}

fn as_i128(v: &Value) -> Option<i128> {
    match v {
        Value::Integer(i) => Some(i128::from(*i)),
        _ => None,
    }
}

fn map_get_int(map: &Value, key: i128) -> Option<&Value> {
    match map {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| as_i128(k) == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn map_get_text<'v>(map: &'v Value, key: &str) -> Option<&'v Value> {
    match map {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn bytes_of<const N: usize>(v: Option<&Value>, what: &str) -> Result<[u8; N], AuthDataError> {
    match v {
        Some(Value::Bytes(b)) => b.as_slice().try_into().map_err(|_| {
            AuthDataError::UnsupportedKey(format!("{what} is {} bytes, expected {N}", b.len()))
        }),
        _ => Err(AuthDataError::UnsupportedKey(format!("{what} is missing"))),
    }
}

/// COSE_Key (RFC 9053) -> the key OpenSSH would hold.
fn cose_key(v: &Value) -> Result<CoseKey, AuthDataError> {
    if !matches!(v, Value::Map(_)) {
        return Err(AuthDataError::Cbor("the COSE key is not a map".into()));
    }
    let kty = map_get_int(v, 1).and_then(as_i128);
    let alg = map_get_int(v, 3).and_then(as_i128);
    let crv = map_get_int(v, -1).and_then(as_i128);
    match (kty, crv) {
        (Some(1), Some(6)) if alg.is_none() || alg == Some(-8) => {
            Ok(CoseKey::Ed25519(bytes_of::<32>(
                map_get_int(v, -2),
                "Ed25519 x",
            )?))
        }
        (Some(2), Some(1)) if alg.is_none() || alg == Some(-7) => {
            let x = bytes_of::<32>(map_get_int(v, -2), "P-256 x")?;
            let y = bytes_of::<32>(map_get_int(v, -3), "P-256 y")?;
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Ok(CoseKey::P256(point))
        }
        _ => Err(AuthDataError::UnsupportedKey(format!(
            "kty {kty:?}, alg {alg:?}, crv {crv:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_at_every_length_is_an_error_not_a_panic() {
        let mut raw = vec![0u8; 32];
        raw.push(FLAG_ATTESTED_CREDENTIAL_DATA | FLAG_USER_PRESENT);
        raw.extend_from_slice(&[0, 0, 0, 1]);
        raw.extend_from_slice(&[7u8; 16]);
        raw.extend_from_slice(&[0, 4, 1, 2, 3, 4]);
        // {1: 1, 3: -8, -1: 6, -2: h'00..'}
        raw.extend_from_slice(&[0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20]);
        raw.extend_from_slice(&[9u8; 32]);
        let parsed = parse_auth_data(&raw).unwrap();
        assert_eq!(parsed.public_key, CoseKey::Ed25519([9u8; 32]));
        assert_eq!(parsed.credential_id, &[1, 2, 3, 4]);
        assert_eq!(parsed.sign_count, 1);
        for n in 0..raw.len() {
            assert!(parse_auth_data(&raw[..n]).is_err(), "length {n}");
        }
        let mut longer = raw.clone();
        longer.push(0);
        assert_eq!(
            parse_auth_data(&longer).unwrap_err(),
            AuthDataError::TrailingData(1)
        );
    }
}
