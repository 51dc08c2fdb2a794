//! The device layer through the real path: CtapAuthenticator -> ctap-hid-fido2 -> hidapi ->
//! FUSE file -> OpenSK. Every trait operation, and every error the wizard must explain.

mod support;

use skset::device::{
    AssertionRequest, Authenticator, CredProtect, CtapOptions, DeviceError, DeviceEvent,
    KeyAlgorithm, MakeCredentialRequest, NewCredential, Pin,
};
use ssh_key::sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{pin, virtual_key, virtual_key_with, TEST_PIN};
use virtual_key::{Options, Touch};

/// `pin` goes to the device (CTAP requires it for creation once a PIN is set); `uv` asks for
/// credProtect 3 (every use needs the PIN), as OpenSSH does for verify-required keys.
fn request<'a>(
    algorithm: KeyAlgorithm,
    application: &str,
    user: &str,
    resident: bool,
    uv: bool,
    pin: Option<&'a Pin>,
) -> MakeCredentialRequest<'a> {
    let mut user_id = user.as_bytes().to_vec();
    user_id.resize(32, 0);
    MakeCredentialRequest {
        algorithm,
        application: application.to_string(),
        user_id,
        user_name: format!("skset-{user}"),
        resident,
        cred_protect: Some(if uv {
            CredProtect::UvRequired
        } else {
            CredProtect::UvOptionalWithCredentialId
        }),
        pin,
        challenge: b"a challenge of some length".to_vec(),
        exclude: vec![],
    }
}

/// Checks the signature the way sshd does: over SHA256(application) || flags || counter ||
/// SHA256(message), which is authData || SHA256(message) when there are no extensions.
fn verify(credential: &NewCredential, auth_data: &[u8], message: &[u8], signature: &[u8]) {
    let mut signed = auth_data.to_vec();
    signed.extend_from_slice(&Sha256::digest(message));
    match credential.algorithm {
        KeyAlgorithm::Ed25519 => {
            let key: [u8; 32] = credential
                .public_key
                .as_slice()
                .try_into()
                .expect("32-byte key");
            let key = ed25519_dalek::VerifyingKey::from_bytes(&key).expect("valid Ed25519 point");
            let sig = ed25519_dalek::Signature::from_slice(signature).expect("64-byte signature");
            key.verify_strict(&signed, &sig)
                .expect("Ed25519 signature verifies");
        }
        KeyAlgorithm::EcdsaP256 => {
            use p256::ecdsa::signature::Verifier;
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&credential.public_key)
                .expect("valid P-256 point");
            let sig = p256::ecdsa::Signature::from_der(signature).expect("DER signature");
            key.verify(&signed, &sig).expect("ECDSA signature verifies");
        }
    }
}

#[test]
fn info_reports_what_ssh_keys_need() {
    let Some(vk) = virtual_key() else { return };
    let info = vk.open().info().unwrap();
    assert!(
        info.supports(KeyAlgorithm::Ed25519),
        "OpenSK offers EdDSA: {info:?}"
    );
    assert!(info.supports(KeyAlgorithm::EcdsaP256));
    assert!(info.cose_algorithms.contains(&-8));
    assert!(info.cred_protect);
    assert!(info.options.resident_keys);
    assert!(info.options.credential_management);
    assert_eq!(
        info.options.client_pin,
        Some(false),
        "a fresh key has no PIN"
    );
    assert!(info.remaining_discoverable_credentials.unwrap_or(0) > 0);
    assert_eq!(info.aaguid.len(), 32);
    assert_eq!(info.path, vk.path());
}

#[test]
fn pin_set_change_and_wrong_pin_counts_down() {
    let Some(vk) = virtual_key() else { return };
    let device = vk.open();
    let status = device.pin_status().unwrap();
    assert!(!status.is_set);
    assert_eq!(status.retries_left, None);

    device.set_pin(&pin(TEST_PIN)).unwrap();
    let status = device.pin_status().unwrap();
    assert!(status.is_set);
    assert_eq!(status.retries_left, Some(8));

    let wrong = device
        .change_pin(&pin("000000"), &pin("123456"))
        .unwrap_err();
    match &wrong {
        DeviceError::PinInvalid { retries_left } => assert_eq!(*retries_left, Some(7)),
        other => panic!("expected a wrong-PIN error, got {other:?}"),
    }
    assert!(wrong.to_string().contains("7 tries left"), "{wrong}");
    assert_eq!(wrong.ctap_code(), Some(0x31));

    device.change_pin(&pin(TEST_PIN), &pin("98765432")).unwrap();
    // A right PIN resets the counter.
    assert_eq!(device.pin_status().unwrap().retries_left, Some(8));
    // The new PIN works for credential management, the old one does not.
    device.list_ssh_credentials(&pin("98765432")).unwrap();
    assert!(matches!(
        device.list_ssh_credentials(&pin(TEST_PIN)),
        Err(DeviceError::PinInvalid { .. })
    ));
}

#[test]
fn credentials_of_both_algorithms_resident_or_not_sign_verifiably() {
    let Some(vk) = virtual_key() else { return };
    let device = vk.open();
    device.set_pin(&pin(TEST_PIN)).unwrap();
    let the_pin = pin(TEST_PIN);
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        for (resident, with_pin) in [(true, true), (true, false), (false, false)] {
            let app = format!(
                "ssh:{}-{}-{}",
                algorithm.cose_id().abs(),
                resident,
                with_pin
            );
            let req = request(algorithm, &app, "role", resident, with_pin, Some(&the_pin));
            let credential = device.make_credential(&req).unwrap();
            assert_eq!(credential.algorithm, algorithm);
            assert_eq!(
                credential.public_key.len(),
                if algorithm == KeyAlgorithm::Ed25519 {
                    32
                } else {
                    65
                }
            );
            assert!(!credential.key_handle.is_empty());
            assert_eq!(
                credential.auth_data_flags & 0x41,
                0x41,
                "UP and AT set at creation"
            );
            assert_ne!(
                credential.auth_data_flags & 0x04,
                0,
                "UV set: the PIN was given at creation"
            );
            assert!(!credential.attestation.signature.is_empty());
            assert!(credential.attestation.auth_data.len() > 37);
            // The rpIdHash in authData is SHA-256 of the application.
            assert_eq!(
                &credential.attestation.auth_data[..32],
                Sha256::digest(app.as_bytes()).as_slice()
            );

            let message = b"sign me";
            let assertion = device
                .get_assertion(&AssertionRequest {
                    application: app.clone(),
                    key_handle: credential.key_handle.clone(),
                    message: message.to_vec(),
                    user_presence: true,
                    pin: with_pin.then_some(&the_pin),
                })
                .unwrap();
            assert!(assertion.user_present());
            assert_eq!(assertion.user_verified(), with_pin);
            verify(
                &credential,
                &assertion.auth_data,
                message,
                &assertion.signature,
            );
        }
    }
}

#[test]
fn an_assertion_without_touch_has_the_up_flag_clear() {
    let Some(vk) = virtual_key() else { return };
    let device = vk.open();
    let credential = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:robo",
            "robo",
            false,
            false,
            None,
        ))
        .unwrap();
    // Even a key that would refuse every touch signs: no touch was asked for.
    vk.key.set_touch(Touch::Deny);
    let assertion = device
        .get_assertion(&AssertionRequest {
            application: "ssh:robo".into(),
            key_handle: credential.key_handle.clone(),
            message: b"no touch".to_vec(),
            user_presence: false,
            pin: None,
        })
        .unwrap();
    assert!(!assertion.user_present(), "flags {:#04x}", assertion.flags);
    verify(
        &credential,
        &assertion.auth_data,
        b"no touch",
        &assertion.signature,
    );
}

#[test]
fn resident_credentials_are_listed_by_application_and_deleted() {
    let Some(vk) = virtual_key() else { return };
    let device = vk.open();
    device.set_pin(&pin(TEST_PIN)).unwrap();
    let the_pin = pin(TEST_PIN);
    assert_eq!(
        device.list_ssh_credentials(&the_pin).unwrap(),
        vec![],
        "an empty key lists nothing, without error"
    );

    let root = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:root",
            "root",
            true,
            true,
            Some(&the_pin),
        ))
        .unwrap();
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:sudo",
            "sudo",
            true,
            false,
            Some(&the_pin),
        ))
        .unwrap();
    device
        .make_credential(&request(
            KeyAlgorithm::EcdsaP256,
            "ssh:robo",
            "robo",
            true,
            false,
            Some(&the_pin),
        ))
        .unwrap();
    // Not ssh: and not resident: neither is listed.
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "example.com",
            "web",
            true,
            false,
            Some(&the_pin),
        ))
        .unwrap();
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:wheel",
            "wheel",
            false,
            false,
            Some(&the_pin),
        ))
        .unwrap();

    let listed = device.list_ssh_credentials(&the_pin).unwrap();
    let apps: Vec<&str> = listed.iter().map(|c| c.application.as_str()).collect();
    assert_eq!(apps, ["ssh:robo", "ssh:root", "ssh:sudo"]);
    let listed_root = &listed[1];
    assert_eq!(listed_root.user_id_display(), "root");
    assert_eq!(listed_root.credential_id, root.key_handle);
    assert_eq!(listed_root.public_key, root.public_key);
    assert_eq!(listed_root.cred_protect, Some(3));
    assert_eq!(listed[0].algorithm, Some(KeyAlgorithm::EcdsaP256));
    assert_eq!(listed[2].cred_protect, Some(2));

    let counts = device.credential_counts(&the_pin).unwrap();
    assert_eq!(counts.existing, 4);

    device
        .delete_credential(&the_pin, &root.key_handle)
        .unwrap();
    let apps: Vec<String> = device
        .list_ssh_credentials(&the_pin)
        .unwrap()
        .into_iter()
        .map(|c| c.application)
        .collect();
    assert_eq!(apps, ["ssh:robo", "ssh:sudo"]);
}

#[test]
fn same_application_and_user_replaces_the_resident_credential() {
    // The hazard behind distinct application ids per role: CTAP overwrites silently.
    let Some(vk) = virtual_key() else { return };
    let device = vk.open();
    device.set_pin(&pin(TEST_PIN)).unwrap();
    let the_pin = pin(TEST_PIN);
    let first = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:",
            "",
            true,
            false,
            Some(&the_pin),
        ))
        .unwrap();
    let second = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:",
            "",
            true,
            false,
            Some(&the_pin),
        ))
        .unwrap();
    let listed = device.list_ssh_credentials(&pin(TEST_PIN)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].public_key, second.public_key);
    assert_ne!(first.public_key, second.public_key);
}

#[test]
fn excluded_credential_and_missing_pin_are_named() {
    let Some(vk) = virtual_key() else { return };
    let device = vk.open();
    let existing = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:x",
            "x",
            false,
            false,
            None,
        ))
        .unwrap();
    let mut again = request(KeyAlgorithm::Ed25519, "ssh:x", "x", false, false, None);
    again.exclude = vec![existing.key_handle.clone()];
    assert!(matches!(
        device.make_credential(&again),
        Err(DeviceError::CredentialExcluded)
    ));

    // Credential management without a PIN set on the key.
    let err = device.list_ssh_credentials(&pin(TEST_PIN)).unwrap_err();
    assert!(matches!(err, DeviceError::PinNotSet), "{err:?}");
    assert!(err.to_string().contains("skset pin set"));
}

#[test]
fn refused_touch_and_touch_timeout_are_reported_within_the_deadline() {
    let Some(vk) = virtual_key() else { return };
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let device = vk.open_with(CtapOptions {
        events: Some(Arc::new(move |e| seen.lock().unwrap().push(e))),
        ..support::fast_options()
    });
    vk.key.set_touch(Touch::Deny);
    let started = Instant::now();
    let err = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:sudo",
            "sudo",
            true,
            false,
            None,
        ))
        .unwrap_err();
    assert!(matches!(err, DeviceError::TouchDenied), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        *events.lock().unwrap(),
        vec![
            DeviceEvent::TouchNeeded {
                operation: "make credential"
            },
            DeviceEvent::TouchDone
        ]
    );

    vk.key.set_touch(Touch::Timeout);
    let err = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:sudo",
            "sudo",
            true,
            false,
            None,
        ))
        .unwrap_err();
    assert!(matches!(err, DeviceError::TouchTimeout), "{err:?}");

    // And the key works again once the user touches it.
    vk.key.set_touch(Touch::Accept);
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:sudo",
            "sudo",
            true,
            false,
            None,
        ))
        .unwrap();
}

#[test]
fn a_slow_touch_with_keepalives_still_succeeds() {
    let Some(vk) = virtual_key_with(Options {
        touch_delay: Duration::from_millis(700),
        ..Options::default()
    }) else {
        return;
    };
    let device = vk.open();
    let started = Instant::now();
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:sudo",
            "sudo",
            true,
            false,
            None,
        ))
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "the delay was simulated"
    );
}

#[test]
fn a_stalled_key_fails_the_call_within_the_deadline() {
    let Some(vk) = virtual_key() else { return };
    let device = vk.open_with(CtapOptions {
        deadline: Duration::from_millis(1500),
        ..support::fast_options()
    });
    vk.key.set_stalled(true);
    let started = Instant::now();
    let err = device.info().unwrap_err();
    assert!(matches!(err, DeviceError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    // The stuck call still holds the device: the next one fails fast instead of queueing.
    let started = Instant::now();
    assert!(matches!(
        device.info(),
        Err(DeviceError::Stalled) | Err(DeviceError::Timeout { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(4));
    vk.key.set_stalled(false);
}

#[test]
fn a_missing_device_path_is_a_clear_error() {
    let err =
        skset::device::CtapAuthenticator::open("/nonexistent/hidraw9", support::fast_options())
            .err()
            .expect("must fail");
    assert!(matches!(err, DeviceError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/hidraw9"));
}

#[test]
fn a_full_key_says_so() {
    let Some(vk) = virtual_key_with(Options {
        max_resident_keys: Some(2),
        ..Options::default()
    }) else {
        return;
    };
    let device = vk.open();
    assert_eq!(
        device.info().unwrap().remaining_discoverable_credentials,
        Some(2)
    );
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:root",
            "root",
            true,
            false,
            None,
        ))
        .unwrap();
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:sudo",
            "sudo",
            true,
            false,
            None,
        ))
        .unwrap();
    let err = device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:robo",
            "robo",
            true,
            false,
            None,
        ))
        .unwrap_err();
    assert!(matches!(err, DeviceError::KeyStoreFull), "{err:?}");
    assert_eq!(err.ctap_code(), Some(0x28));
    assert!(err.to_string().contains("full"), "{err}");
    // Non-resident credentials use no slot and still work.
    device
        .make_credential(&request(
            KeyAlgorithm::Ed25519,
            "ssh:wheel",
            "wheel",
            false,
            false,
            None,
        ))
        .unwrap();
}
