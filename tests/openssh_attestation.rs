//! `ssh-sk-attest-v01` files: layout byte for byte as PROTOCOL.u2f / `fill_attestation_blob`
//! write them, built here independently of the code under test.

mod openssh_support;

use openssh_support::random_bytes;
use skset::openssh::attestation::{
    cbor_byte_string, unwrap_cbor_byte_string, AttestationError, SkAttestation,
};

fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A plausible authData: rpIdHash, flags (UP|UV|AT), counter, AAGUID, credential id, key.
fn raw_auth_data() -> Vec<u8> {
    let mut data = random_bytes(32);
    data.push(0x45);
    data.extend_from_slice(&[0, 0, 0, 7]);
    data.extend_from_slice(&random_bytes(16));
    data.extend_from_slice(&[0, 64]);
    data.extend_from_slice(&random_bytes(64));
    data.extend_from_slice(&random_bytes(77));
    data
}

#[test]
fn the_file_layout_matches_protocol_u2f_byte_for_byte() {
    let certificate = random_bytes(700);
    let signature = random_bytes(71);
    let auth = raw_auth_data();
    assert_eq!(auth.len(), 196);

    let mut expected = Vec::new();
    string(&mut expected, b"ssh-sk-attest-v01");
    string(&mut expected, &certificate);
    string(&mut expected, &signature);
    // authData as libfido2's fido_cred_authdata_ptr() gives it: a CBOR byte string,
    // 196 bytes -> major type 2 with a one-byte length (0x58 0xc4).
    let mut cbor = vec![0x58, 196];
    cbor.extend_from_slice(&auth);
    string(&mut expected, &cbor);
    expected.extend_from_slice(&[0, 0, 0, 0]);
    string(&mut expected, b"");

    let attestation =
        SkAttestation::from_raw_auth_data(certificate.clone(), signature.clone(), &auth);
    let bytes = attestation.to_bytes().unwrap();
    assert_eq!(bytes, expected);

    let parsed = SkAttestation::from_bytes(&bytes).unwrap();
    assert_eq!(parsed, attestation);
    assert_eq!(parsed.certificate, certificate);
    assert_eq!(parsed.signature, signature);
    assert_eq!(parsed.raw_auth_data().unwrap(), auth.as_slice());
}

#[test]
fn self_attestation_has_an_empty_certificate() {
    let auth = raw_auth_data();
    let attestation = SkAttestation::from_raw_auth_data(Vec::new(), random_bytes(64), &auth);
    let bytes = attestation.to_bytes().unwrap();
    assert_eq!(&bytes[..21], b"\0\0\0\x11ssh-sk-attest-v01");
    assert_eq!(&bytes[21..25], &[0, 0, 0, 0], "empty certificate string");
    assert_eq!(SkAttestation::from_bytes(&bytes).unwrap(), attestation);
}

#[test]
fn cbor_byte_string_headers_use_the_shortest_form() {
    let cases: [(usize, &[u8]); 7] = [
        (0, &[0x40]),
        (23, &[0x57]),
        (24, &[0x58, 24]),
        (255, &[0x58, 0xff]),
        (256, &[0x59, 0x01, 0x00]),
        (65_535, &[0x59, 0xff, 0xff]),
        (65_536, &[0x5a, 0x00, 0x01, 0x00, 0x00]),
    ];
    for (len, header) in cases {
        let data = vec![0xab; len];
        let cbor = cbor_byte_string(&data);
        assert_eq!(&cbor[..header.len()], header, "length {len}");
        assert_eq!(cbor.len(), header.len() + len);
        assert_eq!(unwrap_cbor_byte_string(&cbor).unwrap(), data.as_slice());
    }
    // Not a byte string, a length that overruns, and trailing bytes are all refused.
    assert!(unwrap_cbor_byte_string(&[0x60]).is_err());
    assert!(unwrap_cbor_byte_string(&[0x58, 5, 1, 2]).is_err());
    assert!(unwrap_cbor_byte_string(&[0x41, 1, 2]).is_err());
    assert!(unwrap_cbor_byte_string(&[]).is_err());
}

#[test]
fn other_formats_and_extensions_are_refused_with_a_reason() {
    let mut v00 = Vec::new();
    string(&mut v00, b"ssh-sk-attest-v00");
    string(&mut v00, b"cert");
    string(&mut v00, b"sig");
    v00.extend_from_slice(&[0, 0, 0, 0]);
    string(&mut v00, b"");
    assert_eq!(
        SkAttestation::from_bytes(&v00),
        Err(AttestationError::Version00)
    );

    let good = SkAttestation::from_raw_auth_data(vec![1], vec![2], &[3])
        .to_bytes()
        .unwrap();
    let mut flags = good.clone();
    let at = flags.len() - 8;
    flags[at + 3] = 1;
    assert_eq!(
        SkAttestation::from_bytes(&flags),
        Err(AttestationError::Reserved)
    );

    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        SkAttestation::from_bytes(&trailing),
        Err(AttestationError::TrailingData(1))
    );

    assert_eq!(
        SkAttestation::from_bytes(b"\0\0\0\x03abc"),
        Err(AttestationError::Magic)
    );
}
