//! The control file: scripting the user and the authenticator from any process.

mod common;

use std::io::ErrorKind;
use std::process::Command;

use common::{client, ctap_status, start, within, CALL_DEADLINE};
use ctap_hid_fido2::fidokey::{CredentialSupportedKeyType, MakeCredentialArgsBuilder};
use virtual_key::Options;

fn make_credential(key: &virtual_key::VirtualKey) -> Result<(), String> {
    let device = client(key);
    within(CALL_DEADLINE, "makeCredential", move || {
        let args = MakeCredentialArgsBuilder::new("ssh:", b"challenge")
            .key_type(CredentialSupportedKeyType::Ed25519)
            .without_pin_and_uv()
            .build();
        device
            .make_credential_with_args(&args)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .0
}

#[test]
fn control_file_changes_behaviour_and_shows_settings() {
    let Some((_dir, key)) = start("control", Options::default()) else {
        return;
    };
    let control = key.control_path();

    // From a shell, as a test script or another process would.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("echo 'touch deny' > '{}'", control.display()))
        .status()
        .expect("run sh");
    assert!(status.success());
    let denied = make_credential(&key);
    assert_eq!(
        denied.as_ref().map_err(|e| ctap_status(e)),
        Err(Some(0x27)),
        "{denied:?}"
    );

    std::fs::write(&control, "touch accept\ntouch-delay-ms 200\n").expect("write two commands");
    assert!(make_credential(&key).is_ok());
    assert!(
        key.keepalives_sent() >= 1,
        "the delay came from the control file"
    );

    let shown = std::fs::read_to_string(&control).expect("read the control file");
    assert!(
        shown.starts_with("touch accept\ntouch-delay-ms 200\nstall off\nwatchdog-ms 10000\n"),
        "{shown}"
    );
    assert!(shown.contains("# keepalives-sent "), "{shown}");

    // A bad line is EINVAL and changes nothing, not even the good lines before it.
    let error = std::fs::write(&control, "touch deny\ntouch sometimes\n").expect_err("invalid");
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    let shown = std::fs::read_to_string(&control).expect("read the control file");
    assert!(shown.starts_with("touch accept\n"), "{shown}");

    // What was read can be written back.
    std::fs::write(&control, &shown).expect("settings written back");

    std::fs::write(&control, "stall on").expect("stall on");
    assert!(std::fs::read_to_string(&control).is_ok_and(|s| s.contains("stall on\n")));
    std::fs::write(&control, "stall off").expect("stall off");
    assert!(make_credential(&key).is_ok());

    // replug: files opened before fail, new ones work.
    let stale = client(&key);
    std::fs::write(&control, "replug\n").expect("replug");
    let (stale_result, _) = within(CALL_DEADLINE, "stale getInfo", move || {
        stale.get_info().is_ok()
    });
    assert!(!stale_result);
    assert!(make_credential(&key).is_ok());
}
