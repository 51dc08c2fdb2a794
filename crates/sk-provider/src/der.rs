//! ECDSA signatures: authenticators return DER (`SEQUENCE { INTEGER r, INTEGER s }`);
//! OpenSSH's middleware API wants r and s as unsigned big-endian integers without leading
//! zeros (what OpenSSL's `BN_bn2bin` produces in sk-usbhid.c).

/// r and s of an ECDSA signature, each minimal big-endian (zero is the empty string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcdsaSignature {
    pub r: Vec<u8>,
    pub s: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER ECDSA signature: {0}")]
pub struct DerError(&'static str);

/// Splits a DER-encoded ECDSA signature into r and s. Strict about structure (one
/// SEQUENCE of two INTEGERs, nothing trailing), lenient about non-minimal integer padding.
pub fn split_ecdsa_signature(der: &[u8]) -> Result<EcdsaSignature, DerError> {
    let (tag, body, rest) = read_tlv(der)?;
    if tag != 0x30 {
        return Err(DerError("not a SEQUENCE"));
    }
    if !rest.is_empty() {
        return Err(DerError("bytes after the SEQUENCE"));
    }
    let (tag, r, body) = read_tlv(body)?;
    if tag != 0x02 {
        return Err(DerError("r is not an INTEGER"));
    }
    let (tag, s, body) = read_tlv(body)?;
    if tag != 0x02 {
        return Err(DerError("s is not an INTEGER"));
    }
    if !body.is_empty() {
        return Err(DerError("bytes after s"));
    }
    Ok(EcdsaSignature {
        r: unsigned(r)?,
        s: unsigned(s)?,
    })
}

/// One tag-length-value; returns (tag, value, remainder).
fn read_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), DerError> {
    let (&tag, input) = input.split_first().ok_or(DerError("truncated tag"))?;
    let (&first, mut input) = input.split_first().ok_or(DerError("truncated length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 2 || input.len() < count {
            return Err(DerError("unsupported length encoding"));
        }
        let mut len = 0usize;
        for &b in &input[..count] {
            len = (len << 8) | usize::from(b);
        }
        input = &input[count..];
        len
    };
    if input.len() < len {
        return Err(DerError("truncated value"));
    }
    Ok((tag, &input[..len], &input[len..]))
}

/// A DER INTEGER that must be non-negative, without its leading zero bytes.
fn unsigned(integer: &[u8]) -> Result<Vec<u8>, DerError> {
    match integer.first() {
        None => Err(DerError("empty INTEGER")),
        Some(b) if b & 0x80 != 0 => Err(DerError("negative INTEGER")),
        Some(_) => {
            let start = integer
                .iter()
                .position(|b| *b != 0)
                .unwrap_or(integer.len());
            Ok(integer[start..].to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_strips_the_sign_padding() {
        // r has its high bit set (so DER pads it with 0x00), s is short.
        let mut der = vec![0x30, 0x00, 0x02, 0x21, 0x00];
        der.extend([0x80u8; 32]);
        der.extend([0x02, 0x02, 0x01, 0x02]);
        der[1] = (der.len() - 2) as u8;
        let sig = split_ecdsa_signature(&der).unwrap();
        assert_eq!(sig.r, vec![0x80; 32]);
        assert_eq!(sig.s, vec![0x01, 0x02]);
    }

    #[test]
    fn leading_zeros_go_like_bn_bn2bin() {
        let der = [0x30, 0x08, 0x02, 0x02, 0x00, 0x05, 0x02, 0x02, 0x00, 0x00];
        let sig = split_ecdsa_signature(&der).unwrap();
        assert_eq!(sig.r, vec![0x05]);
        assert!(sig.s.is_empty());
    }

    #[test]
    fn long_form_length_is_read() {
        let mut der = vec![0x30, 0x81, 0x00];
        der.extend([0x02, 0x01, 0x07, 0x02, 0x01, 0x09]);
        der[2] = 6;
        assert_eq!(
            split_ecdsa_signature(&der).unwrap(),
            EcdsaSignature {
                r: vec![7],
                s: vec![9]
            }
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert!(split_ecdsa_signature(&[]).is_err());
        assert!(split_ecdsa_signature(&[0x30, 0x03, 0x02, 0x01, 0x01]).is_err()); // no s
        assert!(split_ecdsa_signature(&[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]).is_err()); // negative
        assert!(
            split_ecdsa_signature(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00]).is_err()
        ); // trailing
        assert!(split_ecdsa_signature(&[0x30, 0x09, 0x02, 0x01]).is_err()); // truncated
        assert!(split_ecdsa_signature(&[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]).is_err());
        // SET
    }
}
