//! Real OpenSSH is the judge: keys made by `skset enroll` on the virtual key, lines from
//! `skset authorized-keys`, and Debian's sshd on 127.0.0.1 accepting exactly what the policy
//! says. ssh, ssh-add and ssh-keygen reach the virtual key through skset's
//! SecurityKeyProvider (crates/sk-provider). A positive case passes only when the server ran
//! the command (a marker computed by the server's shell); a negative case asserts the
//! refusal (and, where sshd says why, the reason in its log).

mod support;

use openssh_harness::{
    provider_library, remote_marker, skip_reason, Client, Output, Provider, SshOptions, Sshd,
};
use skset::device::Authenticator;
use skset::openssh::private_key::inspect_private_key;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{pin, TestKey, TEST_PIN};

const WHEEL_PASSPHRASE: &str = "correct horse battery staple";
const FOUR_MODE: &str = include_str!("../policies/four-mode.yaml");

/// A virtual key with the four-mode set enrolled by `skset enroll`, and the server lines
/// from `skset authorized-keys`, per mode.
struct World {
    client: Client,
    vk: TestKey,
    work: tempfile::TempDir,
    keys: PathBuf,
    lines: BTreeMap<String, String>,
    policy: PathBuf,
}

/// The default policy, with robo's `from=` and forced command replaced (the command is a
/// script printing a marker, so the test can see it was forced).
fn policy_text(robo_from: &str, forced: &Path) -> String {
    FOUR_MODE
        .replace(
            "from: [\"10.0.0.0/8\"]",
            &format!("from: [\"{robo_from}\"]"),
        )
        .replace(
            "command: /usr/local/bin/backup-shell",
            &format!("command: {}", forced.display()),
        )
}

fn world(robo_from: &str) -> Option<World> {
    if let Some(reason) = skip_reason() {
        eprintln!("SKIPPED: {reason}");
        return None;
    }
    let vk = support::virtual_key()?;
    vk.open().set_pin(&pin(TEST_PIN)).unwrap();
    let work = tempfile::Builder::new()
        .prefix("skset-login-")
        .tempdir()
        .unwrap();
    let forced = work.path().join("forced-command.sh");
    std::fs::write(
        &forced,
        "#!/bin/sh\necho \"skset-forced:robo:$((6*7)):${SSH_ORIGINAL_COMMAND:-none}\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&forced, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let policy = work.path().join("policy.yaml");
    std::fs::write(&policy, policy_text(robo_from, &forced)).unwrap();
    std::fs::write(work.path().join("pin"), TEST_PIN).unwrap();
    std::fs::write(work.path().join("pass"), WHEEL_PASSPHRASE).unwrap();
    let keys = work.path().join("keys");

    let enroll = skset(&[
        "enroll",
        "--policy",
        policy.to_str().unwrap(),
        "--label",
        "test",
        "--out",
        keys.to_str().unwrap(),
        "--device",
        &vk.path(),
        "--pin-file",
        work.path().join("pin").to_str().unwrap(),
        "--passphrase-file",
        work.path().join("pass").to_str().unwrap(),
        "--yes",
    ]);
    assert!(
        enroll.status.success(),
        "skset enroll failed:\n{}",
        String::from_utf8_lossy(&enroll.stderr)
    );
    let listed = skset(&[
        "authorized-keys",
        "--policy",
        policy.to_str().unwrap(),
        "--label",
        "test",
        "--pub-dir",
        keys.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let accounts: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let mut lines = BTreeMap::new();
    for account in accounts.as_array().unwrap() {
        for line in account["lines"].as_array().unwrap() {
            lines.insert(
                line["mode"].as_str().unwrap().to_string(),
                line["line"].as_str().unwrap().to_string(),
            );
        }
    }
    let library = provider_library().unwrap_or_else(|e| panic!("{e}"));
    let client = Client::new(work.path(), Provider::new(library, vk.key.path())).unwrap();
    client.askpass().set_pin(Some(TEST_PIN)).unwrap();
    client
        .askpass()
        .set_passphrase(Some(WHEEL_PASSPHRASE))
        .unwrap();
    Some(World {
        client,
        vk,
        work,
        keys,
        lines,
        policy,
    })
}

fn skset(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_skset"))
        .args(args)
        .output()
        .expect("run skset")
}

impl World {
    fn key(&self, mode: &str) -> PathBuf {
        self.keys.join(format!("id_{mode}"))
    }

    /// An sshd that lets root in with exactly these lines. (Every mode logs in as root
    /// here: the options are what is under test, and root is the account that exists.)
    fn sshd(&self, lines: &[&str]) -> Sshd {
        Sshd::start_with(&[("root", lines)]).expect("start sshd")
    }

    fn login(&self, sshd: &Sshd, mode: &str, command: &str) -> Output {
        let mut options = SshOptions::key("root", &self.key(mode), command);
        if mode == "wheel" {
            // wheel's file is encrypted, and ssh in batch mode never asks for a passphrase.
            options.extra.push("BatchMode=no".into());
        }
        self.client.ssh(sshd, &options).expect("run ssh")
    }
}

fn assert_ran(out: &Output, marker: &str, sshd: &Sshd) {
    assert!(
        out.success() && out.stdout.contains(marker),
        "expected the command to run on the server: {out}\n--- sshd log ---\n{}",
        sshd.log()
    );
}

fn assert_refused(out: &Output, marker: &str, sshd: &Sshd) {
    assert!(
        !out.success()
            && !out.stdout.contains(marker)
            && !out.timed_out
            && out.stderr.contains("Permission denied"),
        "expected an authentication refusal: {out}\n--- sshd log ---\n{}",
        sshd.log()
    );
}

fn assert_sshd_said(sshd: &Sshd, needle: &str) {
    assert!(
        sshd.wait_for_log(needle, Duration::from_secs(3)),
        "sshd never logged {needle:?}:\n{}",
        sshd.log()
    );
}

#[test]
fn each_mode_logs_in_with_its_own_file_and_robo_is_forced() {
    let Some(w) = world("127.0.0.1") else { return };
    let all: Vec<&str> = w.lines.values().map(String::as_str).collect();
    let sshd = w.sshd(&all);
    for mode in ["root", "sudo", "wheel"] {
        let (command, marker) = remote_marker(mode);
        w.client.askpass().clear_prompts().unwrap();
        let out = w.login(&sshd, mode, &command);
        assert_ran(&out, &marker, &sshd);
        let prompts = w.client.askpass().prompts();
        match mode {
            "root" => assert!(
                prompts.iter().any(|p| p.contains("PIN")),
                "root signs with the PIN: {prompts:?}"
            ),
            "wheel" => assert!(
                prompts.iter().any(|p| p.contains("passphrase")),
                "wheel's file needs its passphrase: {prompts:?}"
            ),
            // "none:" lines are ssh's "Confirm user presence" notices, not questions.
            _ => assert!(
                prompts.iter().all(|p| p.starts_with("none:")),
                "{mode} needs neither PIN nor passphrase: {prompts:?}"
            ),
        }
    }
    // robo: whatever is asked, the forced command runs.
    let (command, marker) = remote_marker("robo");
    let out = w.login(&sshd, "robo", &command);
    assert!(out.success(), "{out}\n{}", sshd.log());
    assert!(
        out.stdout
            .contains("skset-forced:robo:42:echo skset-marker:robo"),
        "forced command ran with the original as its argument: {out}"
    );
    assert!(
        !out.stdout.contains(&marker),
        "the requested command itself must not run: {out}"
    );
}

#[test]
fn root_with_verify_required_needs_the_pin() {
    let Some(w) = world("127.0.0.1") else { return };
    let sshd = w.sshd(&[&w.lines["root"]]);
    let (command, marker) = remote_marker("root");
    assert_ran(&w.login(&sshd, "root", &command), &marker, &sshd);
    w.client.askpass().set_pin(None).unwrap();
    assert_refused(&w.login(&sshd, "root", &command), &marker, &sshd);
}

#[test]
fn robo_from_another_network_is_refused() {
    let Some(w) = world("10.0.0.0/8") else { return };
    let sshd = w.sshd(&[&w.lines["robo"]]);
    let (command, marker) = remote_marker("robo");
    let out = w.login(&sshd, "robo", &command);
    assert_refused(&out, "skset-forced", &sshd);
    assert!(!out.stdout.contains(&marker));
    assert_sshd_said(&sshd, "not from a permitted host");
}

#[test]
fn server_options_that_contradict_the_key_refuse_the_login() {
    let Some(w) = world("127.0.0.1") else { return };
    // Stripped of no-touch-required, a no-touch key's signature is refused (no touch made).
    for mode in ["wheel", "robo"] {
        let stripped = w.lines[mode]
            .replace("no-touch-required,", "")
            .replace("no-touch-required ", "");
        assert!(!stripped.contains("no-touch-required"));
        let sshd = w.sshd(&[&stripped]);
        let (command, marker) = remote_marker(mode);
        let out = w.login(&sshd, mode, &command);
        assert_refused(&out, &marker, &sshd);
        assert_sshd_said(&sshd, "user presence");
    }
    // verify-required on sudo's line: sudo signs without the PIN, so it is refused.
    let sshd = w.sshd(&[&format!("verify-required {}", w.lines["sudo"])]);
    let (command, marker) = remote_marker("sudo");
    assert_refused(&w.login(&sshd, "sudo", &command), &marker, &sshd);
    assert_sshd_said(&sshd, "user verification");
}

#[test]
fn wheel_through_ssh_agent_for_its_lifetime_only() {
    let Some(w) = world("127.0.0.1") else { return };
    let sshd = w.sshd(&[&w.lines["wheel"]]);
    let agent = w.client.start_agent().unwrap();
    let wheel = w.key("wheel");
    // The passphrase comes from SSH_ASKPASS; a short lifetime stands in for -t 10m.
    let added = w
        .client
        .ssh_add(&agent, &["-t", "3", wheel.to_str().unwrap()])
        .unwrap();
    assert!(added.success(), "{added}");
    let listed = w.client.ssh_add(&agent, &["-l"]).unwrap();
    assert!(listed.stdout.contains("ED25519-SK"), "{listed}");

    let (command, marker) = remote_marker("wheel-agent");
    let out = w
        .client
        .ssh(
            &sshd,
            &SshOptions::agent("root", &agent, &wheel.with_extension("pub"), &command),
        )
        .unwrap();
    assert_ran(&out, &marker, &sshd);

    std::thread::sleep(Duration::from_secs(4));
    let listed = w.client.ssh_add(&agent, &["-l"]).unwrap();
    assert!(
        !listed.stdout.contains("ED25519-SK"),
        "the key left the agent when its lifetime ended: {listed}"
    );
    let out = w
        .client
        .ssh(
            &sshd,
            &SshOptions::agent("root", &agent, &wheel.with_extension("pub"), &command),
        )
        .unwrap();
    assert_refused(&out, &marker, &sshd);
}

#[test]
fn ssh_keygen_k_agrees_with_skset_recover_but_loses_no_touch() {
    let Some(w) = world("127.0.0.1") else { return };
    let download = w.work.path().join("download");
    std::fs::create_dir(&download).unwrap();
    let mut keygen = w.client.command("ssh-keygen");
    keygen
        .current_dir(&download)
        .arg("-K")
        .arg("-w")
        .arg(w.client.provider().library.as_os_str());
    let out = openssh_harness::run(&mut keygen, b"", Duration::from_secs(30)).unwrap();
    assert!(out.success(), "ssh-keygen -K: {out}");

    let recovered = w.work.path().join("recovered");
    let out = skset(&[
        "recover",
        "--policy",
        w.policy.to_str().unwrap(),
        "--label",
        "test",
        "--out",
        recovered.to_str().unwrap(),
        "--device",
        &w.vk.path(),
        "--pin-file",
        w.work.path().join("pin").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for mode in ["root", "sudo", "robo"] {
        let theirs = download.join(format!("id_ed25519_sk_rk_{mode}_{mode}"));
        let ours = recovered.join(format!("id_{mode}"));
        let their_info = inspect_private_key(
            &std::fs::read(&theirs).unwrap_or_else(|e| panic!("{}: {e}", theirs.display())),
        )
        .unwrap();
        let our_info = inspect_private_key(&std::fs::read(&ours).unwrap()).unwrap();
        assert_eq!(
            their_info.public_key_line, our_info.public_key_line,
            "{mode}: the same public key"
        );
        assert_eq!(
            their_info.application.as_deref(),
            Some(format!("ssh:{mode}").as_str())
        );
    }
    // ssh-keygen -K asked for one passphrase for all downloaded keys (askpass gave it).
    let passphrase = skset::openssh::private_key::Passphrase::new(zeroize::Zeroizing::new(
        WHEEL_PASSPHRASE.to_string(),
    ));
    let flags = |p: PathBuf| {
        skset::openssh::private_key::read_sk_private_key(
            &std::fs::read(p).unwrap(),
            Some(&passphrase),
        )
        .unwrap()
        .credential
        .flags
    };
    assert_eq!(
        flags(download.join("id_ed25519_sk_rk_robo_robo")),
        0x21,
        "ssh-keygen -K makes robo touch-required"
    );
    assert_eq!(
        flags(recovered.join("id_robo")),
        0x20,
        "skset keeps robo no-touch"
    );

    // And it matters: with the server's no-touch-required line, skset's recovered robo logs
    // in without a touch even when the key refuses every touch.
    w.vk.key.set_touch(virtual_key::Touch::Deny);
    let sshd = w.sshd(&[&w.lines["robo"]]);
    let out = w
        .client
        .login(&sshd, "root", &recovered.join("id_robo"), "true")
        .unwrap();
    assert!(
        out.success() && out.stdout.contains("skset-forced:robo:42"),
        "{out}\n{}",
        sshd.log()
    );
}

#[test]
fn a_root_key_made_by_ssh_keygen_is_recognised_as_root() {
    if skip_reason().is_some() {
        eprintln!("SKIPPED: {}", skip_reason().unwrap_or_default());
        return;
    }
    let Some(vk) = support::virtual_key() else {
        return;
    };
    vk.open().set_pin(&pin(TEST_PIN)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let client = Client::new(
        work.path(),
        Provider::new(provider_library().unwrap(), vk.key.path()),
    )
    .unwrap();
    client.askpass().set_pin(Some(TEST_PIN)).unwrap();
    let made = work.path().join("id_root_by_ssh_keygen");
    let out = client
        .enroll(
            "ed25519-sk",
            &made,
            &[
                "resident",
                "verify-required",
                "application=ssh:root",
                "user=root",
            ],
        )
        .unwrap();
    assert!(out.success(), "{out}");
    let info = inspect_private_key(&std::fs::read(&made).unwrap()).unwrap();
    assert_eq!(info.application.as_deref(), Some("ssh:root"));
    assert_eq!(info.flags, Some(0x25), "the same flags skset gives root");

    std::fs::write(work.path().join("pin"), TEST_PIN).unwrap();
    let recovered = work.path().join("recovered");
    let out = skset(&[
        "recover",
        "--label",
        "test",
        "--out",
        recovered.to_str().unwrap(),
        "--device",
        &vk.path(),
        "--pin-file",
        work.path().join("pin").to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["recovered"][0]["mode"], "root", "{report}");
    let ours = inspect_private_key(&std::fs::read(recovered.join("id_root")).unwrap()).unwrap();
    assert_eq!(ours.public_key_line, info.public_key_line);
}
