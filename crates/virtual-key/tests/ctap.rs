//! The virtual key through unmodified ctap-hid-fido2 3.6.1, as skset uses it.

mod common;

use std::time::{Duration, Instant};

use common::{client, ctap_status, start, within, CALL_DEADLINE};
use ctap_hid_fido2::fidokey::credential_management::credential_management_params::CredentialProtectionPolicy;
use ctap_hid_fido2::fidokey::{
    CredentialExtension as Mext, CredentialSupportedKeyType, GetAssertionArgsBuilder,
    MakeCredentialArgsBuilder,
};
use ctap_hid_fido2::public_key_credential_user_entity::PublicKeyCredentialUserEntity;
use ctap_hid_fido2::FidoKeyHid;
use sha2::{Digest, Sha256};
use virtual_key::{Options, Touch, VirtualKey};

const PIN: &str = "123456";
const RP: &str = "ssh:";

/// A resident Ed25519 credential, with or without PIN, as skset enrolls one.
fn make_resident(
    device: FidoKeyHid,
    pin: Option<&'static str>,
    user: &'static str,
) -> (
    Result<ctap_hid_fido2::fidokey::make_credential::Attestation, String>,
    Duration,
) {
    within(CALL_DEADLINE, "makeCredential", move || {
        let user_entity =
            PublicKeyCredentialUserEntity::new(Some(user.as_bytes()), Some(user), None);
        let builder = MakeCredentialArgsBuilder::new(RP, b"enrollment challenge")
            .key_type(CredentialSupportedKeyType::Ed25519)
            .resident_key()
            .user_entity(&user_entity)
            .extensions(&[Mext::CredProtect(Some(
                CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList,
            ))]);
        // new() defaults to uv=true, which a key without built-in UV refuses.
        let builder = match pin {
            Some(pin) => builder.pin(pin),
            None => builder.without_pin_and_uv(),
        };
        device
            .make_credential_with_args(&builder.build())
            .map_err(|e| e.to_string())
    })
}

fn status_of(result: &Result<impl std::fmt::Debug, String>) -> Option<u8> {
    match result {
        Ok(value) => panic!("expected a CTAP error, got {value:?}"),
        Err(message) => ctap_status(message),
    }
}

#[test]
fn get_info_reports_ed25519_resident_keys_and_cred_protect() {
    let Some((_dir, key)) = start("get_info", Options::default()) else {
        return;
    };
    let device = client(&key);
    let ((info, per_call), _) = within(CALL_DEADLINE, "getInfo", move || {
        let info = device.get_info().map_err(|e| e.to_string());
        // How fast the round trip through FUSE and OpenSK is.
        let started = Instant::now();
        for _ in 0..20 {
            let _ = device.get_info();
        }
        (info, started.elapsed() / 20)
    });
    let info = info.expect("getInfo succeeds");
    println!("getInfo through the virtual key: {per_call:?} per call");

    assert!(
        info.versions.iter().any(|v| v == "FIDO_2_1"),
        "{:?}",
        info.versions
    );
    assert!(
        info.algorithms
            .contains(&("alg".to_owned(), "-8".to_owned())),
        "EdDSA (-8) missing from {:?}",
        info.algorithms
    );
    assert!(
        info.options.contains(&("rk".to_owned(), true)),
        "{:?}",
        info.options
    );
    assert!(
        info.options.contains(&("clientPin".to_owned(), false)),
        "{:?}",
        info.options
    );
    assert!(
        info.extensions.iter().any(|e| e == "credProtect"),
        "{:?}",
        info.extensions
    );
    assert_eq!(info.remaining_discoverable_credentials, 150);
    assert_eq!(info.aaguid, vec![0; 16]);
    assert!(
        per_call < Duration::from_millis(200),
        "getInfo took {per_call:?}"
    );
}

#[test]
fn pin_resident_ed25519_credential_and_assertion() {
    let Some((_dir, key)) = start("pin_credential_assertion", Options::default()) else {
        return;
    };
    let device = client(&key);
    let (set, _) = within(CALL_DEADLINE, "setPIN", move || {
        device.set_new_pin(PIN).map_err(|e| e.to_string())?;
        device.get_pin_retries().map_err(|e| e.to_string())
    });
    assert_eq!(set, Ok(8), "PIN set, 8 retries");

    let (attestation, _) = make_resident(client(&key), Some(PIN), "alice");
    let attestation = attestation.expect("makeCredential with PIN succeeds");
    assert!(attestation.flags.user_present_result);
    assert!(attestation.flags.user_verified_result);
    assert_eq!(attestation.fmt, "packed");
    assert!(
        attestation.attstmt_x5c.is_empty(),
        "self attestation has no x5c"
    );
    assert_eq!(attestation.aaguid, vec![0; 16]);
    let public_key: [u8; 32] = attestation
        .credential_publickey
        .der
        .clone()
        .try_into()
        .expect("a raw 32-byte Ed25519 public key");
    let credential_id = attestation.credential_descriptor.id.clone();

    let device = client(&key);
    let (assertion, _) = within(CALL_DEADLINE, "getAssertion", move || {
        let args = GetAssertionArgsBuilder::new(RP, b"sign this")
            .pin(PIN)
            .credential_id(&credential_id)
            .build();
        device
            .get_assertion_with_args(&args)
            .map_err(|e| e.to_string())
    });
    let assertion = assertion.expect("getAssertion succeeds");
    let assertion = assertion.first().expect("one assertion");
    assert!(assertion.flags.user_present_result);

    // The signature is over authenticatorData || SHA-256(challenge).
    let mut message = assertion.auth_data.clone();
    message.extend_from_slice(&Sha256::digest(b"sign this"));
    let signature: [u8; 64] = assertion
        .signature
        .clone()
        .try_into()
        .expect("64-byte signature");
    let verifying_key =
        ed25519_dalek::VerifyingKey::from_bytes(&public_key).expect("valid Ed25519 key");
    verifying_key
        .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&signature))
        .expect("the assertion signature verifies with the enrolled key");

    // The credential is on the key, in the slot count and for a later client.
    let device = client(&key);
    let (metadata, _) = within(CALL_DEADLINE, "credential metadata", move || {
        device
            .credential_management_get_creds_metadata(Some(PIN))
            .map_err(|e| e.to_string())
    });
    let metadata = metadata.expect("credential management works");
    assert_eq!(metadata.existing_resident_credentials_count, 1);
    assert_eq!(
        metadata.max_possible_remaining_resident_credentials_count,
        149
    );

    // A wrong PIN is refused and costs a retry.
    let device = client(&key);
    let (wrong, _) = make_resident(device, Some("000000"), "mallory");
    assert_eq!(status_of(&wrong), Some(0x31), "CTAP2_ERR_PIN_INVALID");
    let device = client(&key);
    let (retries, _) = within(CALL_DEADLINE, "getPinRetries", move || {
        device.get_pin_retries().map_err(|e| e.to_string())
    });
    assert_eq!(retries, Ok(7));
}

#[test]
fn refused_and_missing_touches_fail_with_their_ctap_codes() {
    let Some((_dir, key)) = start(
        "touch_deny_timeout",
        Options {
            touch: Touch::Deny,
            ..Options::default()
        },
    ) else {
        return;
    };
    let (denied, _) = make_resident(client(&key), None, "denied");
    assert_eq!(
        status_of(&denied),
        Some(0x27),
        "CTAP2_ERR_OPERATION_DENIED: {denied:?}"
    );

    key.set_touch(Touch::Timeout);
    let (timed_out, elapsed) = make_resident(client(&key), None, "timed-out");
    assert_eq!(
        status_of(&timed_out),
        Some(0x2F),
        "CTAP2_ERR_USER_ACTION_TIMEOUT: {timed_out:?}"
    );
    // No touch delay: the "30 s" of OpenSK's clock pass at once.
    assert!(elapsed < Duration::from_secs(5), "timeout took {elapsed:?}");

    key.set_touch(Touch::Accept);
    let (accepted, _) = make_resident(client(&key), None, "accepted");
    assert!(accepted.is_ok(), "touch accepted again: {accepted:?}");
}

#[test]
fn touch_delay_sends_keepalives_then_succeeds() {
    let delay = Duration::from_millis(700);
    let Some((_dir, key)) = start(
        "touch_delay",
        Options {
            touch_delay: delay,
            ..Options::default()
        },
    ) else {
        return;
    };
    let (made, elapsed) = make_resident(client(&key), None, "patient");
    assert!(made.is_ok(), "{made:?}");
    assert!(
        elapsed >= delay,
        "answered after {elapsed:?}, before the touch"
    );
    // One every 100 ms while waiting (fewer if this machine is very busy).
    let keepalives = key.keepalives_sent();
    assert!(
        (3..=12).contains(&keepalives),
        "{keepalives} keep-alives in {delay:?}"
    );

    // A refusal mid-wait (the user changes their mind) is honoured.
    key.set_touch_delay(Duration::from_millis(1500));
    let device = client(&key);
    let refused = std::thread::spawn(move || make_resident(device, None, "refused").0);
    std::thread::sleep(Duration::from_millis(300));
    key.set_touch(Touch::Deny);
    let (refused, _) = within(CALL_DEADLINE, "refused makeCredential", move || {
        refused
            .join()
            .map_err(|_| "client thread panicked".to_owned())
    });
    let refused = refused.expect("client thread");
    assert_eq!(status_of(&refused), Some(0x27), "{refused:?}");
}

#[test]
fn a_user_who_never_touches_gets_keepalives_then_a_timeout() {
    // A real key gives up after about 30 s; here the touch delay stands for that.
    let Some((_dir, key)) = start(
        "timeout_after_delay",
        Options {
            touch: Touch::Timeout,
            touch_delay: Duration::from_millis(400),
            ..Options::default()
        },
    ) else {
        return;
    };
    let (result, elapsed) = make_resident(client(&key), None, "slow");
    assert_eq!(status_of(&result), Some(0x2F), "{result:?}");
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(key.keepalives_sent() >= 3);
}

#[test]
fn max_resident_keys_makes_a_full_key_cheap() {
    let Some((_dir, key)) = start(
        "max_resident_keys",
        Options {
            max_resident_keys: Some(2),
            ..Options::default()
        },
    ) else {
        return;
    };
    let device = client(&key);
    let (info, _) = within(CALL_DEADLINE, "getInfo", move || {
        device.get_info().map_err(|e| e.to_string())
    });
    assert_eq!(info.map(|i| i.remaining_discoverable_credentials), Ok(2));
    for user in ["one", "two"] {
        let (made, _) = make_resident(client(&key), None, user);
        assert!(made.is_ok(), "{user}: {made:?}");
    }
    let (full, _) = make_resident(client(&key), None, "three");
    assert_eq!(
        status_of(&full),
        Some(0x28),
        "CTAP2_ERR_KEY_STORE_FULL: {full:?}"
    );
}

#[test]
fn clients_one_after_another_share_the_device_state() {
    let Some((_dir, key)) = start("sequential_clients", Options::default()) else {
        return;
    };
    let device = client(&key);
    let (set, _) = within(CALL_DEADLINE, "setPIN", move || {
        device.set_new_pin(PIN).map_err(|e| e.to_string())
    });
    assert_eq!(set, Ok(()));
    for round in 0..5 {
        // A fresh open (and CTAPHID_INIT) each time, as OpenSSH does per operation.
        let device = client(&key);
        let (info, _) = within(CALL_DEADLINE, "getInfo", move || {
            device.get_info().map_err(|e| e.to_string())
        });
        let info = info.unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(info.options.contains(&("clientPin".to_owned(), true)));
    }
    // Like hidraw, every open file receives every report, so two ctap-hid-fido2
    // handles (which do not filter by channel) must not interleave their calls:
    // not with a real key either. tests/hidraw.rs checks the broadcast itself.
}

#[test]
fn a_stalled_key_fails_the_call_within_the_watchdog() {
    let watchdog = Duration::from_secs(1);
    let Some((_dir, key)) = start(
        "stall",
        Options {
            watchdog,
            ..Options::default()
        },
    ) else {
        return;
    };
    let device = client(&key);
    key.set_stalled(true);
    let (result, elapsed) = within(
        watchdog + Duration::from_secs(5),
        "stalled getInfo",
        move || device.get_info().map_err(|e| e.to_string()),
    );
    assert!(result.is_err(), "a stalled key cannot answer: {result:?}");
    assert!(
        elapsed >= watchdog,
        "failed after {elapsed:?}, before the watchdog"
    );
    assert!(
        elapsed < watchdog + Duration::from_secs(2),
        "failed only after {elapsed:?}"
    );
    assert!(key.watchdog_failures() >= 1);

    key.set_stalled(false);
    let device = client(&key);
    let (result, _) = within(CALL_DEADLINE, "getInfo after the stall", move || {
        device.get_info().map_err(|e| e.to_string())
    });
    assert!(result.is_ok(), "the key answers again: {result:?}");
}

#[test]
fn two_keys_do_not_accept_each_others_credentials() {
    // Each key has its own master keys (OpenSK's TestEnv would seed them all alike).
    let Some((_dir_a, key_a)) = start("two_keys_a", Options::default()) else {
        return;
    };
    let Some((_dir_b, key_b)) = start("two_keys_b", Options::default()) else {
        return;
    };
    let (made, _) = make_resident(client(&key_a), None, "alice");
    let credential_id = made.expect("makeCredential").credential_descriptor.id;
    let device = client(&key_b);
    let (assertion, _) = within(CALL_DEADLINE, "getAssertion on the other key", move || {
        let args = GetAssertionArgsBuilder::new(RP, b"challenge")
            .without_pin_and_uv()
            .credential_id(&credential_id)
            .build();
        device
            .get_assertion_with_args(&args)
            .map_err(|e| e.to_string())
    });
    assert_eq!(
        status_of(&assertion),
        Some(0x2E),
        "CTAP2_ERR_NO_CREDENTIALS: {assertion:?}"
    );
    drop((key_a, key_b));
}

#[test]
fn dropping_the_key_unmounts() {
    let Some((dir, key)) = start("drop", Options::default()) else {
        return;
    };
    let path = key.path();
    assert!(path.exists());
    let (_, elapsed) = within(CALL_DEADLINE, "drop", move || drop(key));
    assert!(!path.exists(), "{} still there after drop", path.display());
    assert!(!common::is_mounted(dir.path()));
    assert!(elapsed < Duration::from_secs(2), "unmount took {elapsed:?}");
}

#[test]
fn dropping_the_key_while_a_client_waits_in_read_does_not_hang() {
    use std::io::Read;
    let Some((dir, key)) = start("drop_busy", Options::default()) else {
        return;
    };
    let mut file = std::fs::File::open(key.path()).expect("open hidraw0");
    // Nothing was asked, so this read blocks until the key goes away.
    let reader = std::thread::spawn(move || {
        let mut report = [0u8; 64];
        let result = file.read(&mut report).map_err(|e| e.kind());
        (result, file)
    });
    std::thread::sleep(Duration::from_millis(200));
    let (_, elapsed) = within(CALL_DEADLINE, "drop with an open client", move || drop(key));
    let (joined, _) = within(CALL_DEADLINE, "the blocked read", move || {
        reader.join().ok()
    });
    let (result, file) = joined.expect("reader thread");
    assert!(result.is_err(), "the blocked read fails: {result:?}");
    drop(file);
    assert!(elapsed < Duration::from_secs(8), "drop took {elapsed:?}");
    assert!(!dir.path().join("hidraw0").exists());
    // The connection ends once the last client closed the file.
    let deadline = Instant::now() + Duration::from_secs(5);
    while common::is_mounted(dir.path()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!common::is_mounted(dir.path()), "mount left behind");
}

#[test]
fn start_errors_say_how_to_fix_them() {
    let missing = std::path::Path::new("/nonexistent/virtual-key-test");
    let error = VirtualKey::start(missing, Options::default()).expect_err("no such directory");
    assert!(error.to_string().contains("mkdir -p"), "{error}");

    let dir = tempfile::tempdir().expect("tempdir");
    let error = VirtualKey::start(
        dir.path(),
        Options {
            max_resident_keys: Some(0),
            ..Options::default()
        },
    )
    .expect_err("zero slots");
    assert!(error.to_string().contains("between 1 and 150"), "{error}");
}

#[test]
fn replug_lifts_the_per_boot_pin_block_and_cuts_off_open_clients() {
    let Some((_dir, key)) = start("replug", Options::default()) else {
        return;
    };
    let device = client(&key);
    let (set, _) = within(CALL_DEADLINE, "setPIN", move || {
        device.set_new_pin(PIN).map_err(|e| e.to_string())
    });
    assert_eq!(set, Ok(()));

    // Three wrong PINs in one power cycle block PIN entry until a replug,
    // even with the right PIN (8 retries in all still allow more later).
    let mut codes = Vec::new();
    for pin in ["000000", "000000", "000000", PIN] {
        let (result, _) = make_resident(client(&key), Some(pin), "alice");
        codes.push(status_of(&result));
    }
    assert_eq!(
        codes,
        [Some(0x31), Some(0x31), Some(0x34), Some(0x34)],
        "PIN_INVALID, then PIN_AUTH_BLOCKED"
    );

    let stale = client(&key);
    key.replug();
    let (stale_result, _) = within(
        CALL_DEADLINE,
        "getInfo on a handle from before",
        move || stale.get_info().map_err(|e| e.to_string()),
    );
    assert!(
        stale_result.is_err(),
        "a file opened before the unplug fails"
    );

    let (made, _) = make_resident(client(&key), Some(PIN), "alice");
    assert!(
        made.is_ok(),
        "the right PIN works after the replug: {made:?}"
    );
    let device = client(&key);
    let (retries, _) = within(CALL_DEADLINE, "getPinRetries", move || {
        device.get_pin_retries().map_err(|e| e.to_string())
    });
    assert_eq!(retries, Ok(8), "a correct PIN restores the retries");
}
