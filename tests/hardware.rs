//! The hardware tier: runs against a real security key named by SKSET_HW_DEVICE, and says
//! clearly that it was skipped otherwise. Non-destructive: it never sets or guesses the PIN
//! and never deletes a credential; it makes one non-resident credential (no slot used).

mod support;

use skset::device::{
    AssertionRequest, Authenticator, CtapAuthenticator, CtapOptions, KeyAlgorithm,
    MakeCredentialRequest,
};
use std::sync::Arc;

#[test]
fn hardware_tier_capabilities_and_a_non_resident_credential() {
    let Some((path, pin)) = support::hardware_key() else {
        return;
    };
    let device = CtapAuthenticator::open(
        &path,
        CtapOptions {
            events: Some(Arc::new(|e| {
                eprintln!("hardware tier: {e:?} (touch the key now)")
            })),
            ..CtapOptions::default()
        },
    )
    .expect("open SKSET_HW_DEVICE");
    let info = device.info().expect("getInfo");
    eprintln!("hardware tier: {info:#?}");
    assert!(
        !info.ssh_algorithms.is_empty(),
        "the key offers no algorithm OpenSSH can use"
    );
    let status = device.pin_status().expect("PIN status");
    eprintln!("hardware tier: PIN {status:?}");
    let algorithm = if info.supports(KeyAlgorithm::Ed25519) {
        KeyAlgorithm::Ed25519
    } else {
        KeyAlgorithm::EcdsaP256
    };
    let pin = if status.is_set { pin.as_ref() } else { None };
    let credential = device
        .make_credential(&MakeCredentialRequest {
            algorithm,
            application: "ssh:skset-hardware-test".into(),
            user_id: vec![0; 32],
            user_name: "skset hardware test".into(),
            resident: false,
            cred_protect: None,
            pin,
            challenge: b"skset hardware tier".to_vec(),
            exclude: vec![],
        })
        .expect("make a non-resident credential (touch the key)");
    let assertion = device
        .get_assertion(&AssertionRequest {
            application: "ssh:skset-hardware-test".into(),
            key_handle: credential.key_handle.clone(),
            message: b"message".to_vec(),
            user_presence: true,
            pin: None,
        })
        .expect("sign (touch the key)");
    assert!(assertion.user_present());
}
