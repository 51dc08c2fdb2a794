//! `skset devices` and `skset pin` as a user runs them: the real binary against the
//! virtual key, checking stdout, stderr and exit codes.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::virtual_key;

fn skset(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skset"))
        .args(args)
        .output()
        .expect("run skset")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_secret(dir: &Path, name: &str, secret: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn devices_json_reports_capabilities() {
    let Some(vk) = virtual_key() else { return };
    let out = skset(&["devices", "--json", "--device", &vk.path()]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is JSON and only JSON");
    let device = &report[0];
    assert_eq!(device["path"], vk.path());
    assert!(
        device["cose_algorithms"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(-8)),
        "EdDSA: {device}"
    );
    assert!(device["ssh_algorithms"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("ed25519")));
    assert_eq!(device["cred_protect"], true);
    assert_eq!(device["options"]["credential_management"], true);
    assert!(
        device["remaining_discoverable_credentials"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(device["pin"]["is_set"], false);
    assert_eq!(text(&out.stderr), "", "nothing but our own words on stderr");
}

#[test]
fn devices_text_is_readable() {
    let Some(vk) = virtual_key() else { return };
    let out = skset(&["devices", "--device", &vk.path()]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Ed25519, ECDSA P-256"), "{stdout}");
    assert!(stdout.contains("not set (skset pin set)"), "{stdout}");
}

#[test]
fn pin_set_then_wrong_pin_says_tries_left_and_exits_3() {
    let Some(vk) = virtual_key() else { return };
    let secrets = tempfile::tempdir().unwrap();
    let first = write_secret(secrets.path(), "first", "424242");
    let wrong = write_secret(secrets.path(), "wrong", "000000");
    let next = write_secret(secrets.path(), "next", "13572468");

    let out = skset(&[
        "pin",
        "set",
        "--device",
        &vk.path(),
        "--new-pin-file",
        &first,
    ]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "no library noise on stdout");
    assert_eq!(
        text(&out.stderr),
        "PIN set.\n",
        "no library noise on stderr"
    );

    // Setting a PIN twice is refused, with the way forward.
    let out = skset(&[
        "pin",
        "set",
        "--device",
        &vk.path(),
        "--new-pin-file",
        &next,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("skset pin change"));

    let out = skset(&[
        "pin",
        "change",
        "--device",
        &vk.path(),
        "--pin-file",
        &wrong,
        "--new-pin-file",
        &next,
    ]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("wrong PIN: 7 tries left"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");

    let out = skset(&["pin", "status", "--json", "--device", &vk.path()]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["pin"]["retries_left"], 7);

    let out = skset(&[
        "pin",
        "change",
        "--json",
        "--device",
        &vk.path(),
        "--pin-file",
        &wrong,
        "--new-pin-file",
        &next,
    ]);
    assert_eq!(out.status.code(), Some(3));
    let error: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("a JSON error on stdout");
    assert_eq!(error["error"]["kind"], "pin-invalid");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("6 tries left"));

    let out = skset(&[
        "pin",
        "change",
        "--device",
        &vk.path(),
        "--pin-file",
        &first,
        "--new-pin-file",
        &next,
    ]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
}

#[test]
fn a_short_pin_is_refused_before_the_device_sees_it() {
    let Some(vk) = virtual_key() else { return };
    let secrets = tempfile::tempdir().unwrap();
    let short = write_secret(secrets.path(), "short", "12");
    let out = skset(&[
        "pin",
        "set",
        "--device",
        &vk.path(),
        "--new-pin-file",
        &short,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("at least 4"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_pin_is_never_an_argument_value() {
    let out = skset(&["pin", "set", "--pin", "1234"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses unknown flags");
}

#[test]
fn missing_device_is_exit_3_with_a_fix() {
    let out = skset(&["devices", "--device", "/nonexistent/hidraw7"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("/nonexistent/hidraw7"));
}
