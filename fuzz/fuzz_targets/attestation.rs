//! An attestation file of any bytes, verified against a fixed key and challenge; and raw
//! authData straight into the authData/COSE parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skset::audit::attestation::auth_data::parse_auth_data;
use skset::audit::attestation::{verify, VerifyRequest};
use skset::openssh::attestation::SkAttestation;
use skset::openssh::public_key::SkPublicKey;
use skset::openssh::sk_key::SkAlgorithm;

fuzz_target!(|data: &[u8]| {
    let _ = parse_auth_data(data);
    let public = SkPublicKey {
        algorithm: SkAlgorithm::Ed25519,
        public_key: vec![7; 32],
        application: "ssh:root".into(),
        comment: String::new(),
    };
    let challenge = [0u8; 32];
    let attestations = [
        SkAttestation::from_bytes(data).ok(),
        Some(SkAttestation::from_raw_auth_data(
            Vec::new(),
            vec![1; 64],
            data,
        )),
    ];
    for attestation in attestations.iter().flatten() {
        let v = verify(&VerifyRequest {
            attestation,
            challenge: &challenge,
            public_key: &public,
            key_handle: Some(&[1, 2, 3]),
            anchors: None,
            aaguid_allow_list: &[],
        });
        let _ = v.verified();
    }
});
