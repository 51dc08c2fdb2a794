//! The one CBOR encoding the provider needs.
//!
//! OpenSSH's USB middleware hands back authenticator data as libfido2 exposes it through
//! `fido_cred_authdata_ptr`: CBOR-encoded, i.e. the raw bytes wrapped in a CBOR byte-string
//! header. `ssh-keygen -O write-attestation` stores exactly that, so verifiers of the
//! attestation file expect it; the provider wraps the raw authData the same way.

/// Wraps `raw` in a CBOR byte-string (major type 2) header.
pub fn byte_string(raw: &[u8]) -> Vec<u8> {
    let len = raw.len();
    let mut out = Vec::with_capacity(len + 9);
    // Lengths are bounded by the HID message size, but encode every width correctly anyway.
    match len {
        0..=23 => out.push(0x40 | len as u8),
        24..=0xff => out.extend([0x58, len as u8]),
        0x100..=0xffff => {
            out.push(0x59);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5a);
            out.extend((len as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(raw);
    out
}

#[cfg(test)]
mod tests {
    use super::byte_string;

    #[test]
    fn headers_follow_rfc_8949() {
        assert_eq!(byte_string(&[]), vec![0x40]);
        assert_eq!(byte_string(&[1, 2]), vec![0x42, 1, 2]);
        assert_eq!(&byte_string(&[0; 24])[..2], &[0x58, 24]);
        assert_eq!(&byte_string(&[0; 164])[..2], &[0x58, 164]);
        assert_eq!(&byte_string(&[0; 300])[..3], &[0x59, 0x01, 0x2c]);
        assert_eq!(byte_string(&[0; 300]).len(), 303);
    }
}
