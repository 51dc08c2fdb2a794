//! `skset enroll`, `skset recover` and `skset authorized-keys` end to end: the real binary,
//! the virtual key, and real ssh-keygen as the judge of every file.

mod support;

use skset::device::{Authenticator, KeyAlgorithm};
use skset::openssh::private_key::{inspect_private_key, Encryption};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{pin, virtual_key, TestKey, TEST_PIN};
use virtual_key::Touch;

const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/four-mode.yaml");
const WHEEL_PASSPHRASE: &str = "correct horse battery staple";

struct Fixture {
    vk: TestKey,
    secrets: tempfile::TempDir,
    out: PathBuf,
}

impl Fixture {
    /// A virtual key with the PIN set, and an empty output directory.
    fn new() -> Option<Fixture> {
        let vk = virtual_key()?;
        vk.open().set_pin(&pin(TEST_PIN)).unwrap();
        let secrets = tempfile::tempdir().unwrap();
        std::fs::write(secrets.path().join("pin"), format!("{TEST_PIN}\n")).unwrap();
        std::fs::write(secrets.path().join("wrong-pin"), "999999\n").unwrap();
        std::fs::write(
            secrets.path().join("passphrase"),
            format!("{WHEEL_PASSPHRASE}\n"),
        )
        .unwrap();
        let out = secrets.path().join("ssh");
        Some(Fixture { vk, secrets, out })
    }

    fn secret(&self, name: &str) -> String {
        self.secrets
            .path()
            .join(name)
            .to_string_lossy()
            .into_owned()
    }

    /// skset with `input` on its stdin (a pipeline: keys from stdin).
    fn skset_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_skset"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run skset");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
        child.wait_with_output().expect("wait for skset")
    }

    fn skset(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_skset"))
            .args(args)
            .output()
            .expect("run skset")
    }

    fn enroll(&self, extra: &[&str]) -> Output {
        let out = self.out.to_string_lossy().into_owned();
        let pin = self.secret("pin");
        let pass = self.secret("passphrase");
        let path = self.vk.path();
        let mut args = vec![
            "enroll",
            "--policy",
            POLICY,
            "--label",
            "laptop",
            "--out",
            &out,
            "--device",
            &path,
            "--pin-file",
            &pin,
            "--passphrase-file",
            &pass,
            "--yes",
        ];
        args.extend_from_slice(extra);
        self.skset(&args)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ssh_keygen(args: &[&str]) -> Output {
    Command::new("ssh-keygen")
        .args(args)
        .output()
        .expect("run ssh-keygen")
}

fn flags_of(path: &Path) -> Option<u8> {
    inspect_private_key(&std::fs::read(path).unwrap())
        .unwrap()
        .flags
}

fn mode_bits(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn four_mode_enrollment_writes_files_ssh_keygen_accepts() {
    let Some(fx) = Fixture::new() else { return };
    let out = fx.enroll(&["--json"]);
    assert!(out.status.success(), "stderr:\n{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("JSON report on stdout");
    let statuses: Vec<&str> = report["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["created"; 4]);

    for mode in ["root", "sudo", "robo"] {
        let private = fx.file(&format!("id_{mode}"));
        let derived = ssh_keygen(&["-y", "-f", private.to_str().unwrap()]);
        assert!(
            derived.status.success(),
            "{mode}: {}",
            text(&derived.stderr)
        );
        let pub_line = std::fs::read_to_string(fx.file(&format!("id_{mode}.pub"))).unwrap();
        let derived_line = text(&derived.stdout);
        let key_part: Vec<&str> = pub_line.split_whitespace().take(2).collect();
        let derived_part: Vec<&str> = derived_line.split_whitespace().take(2).collect();
        assert_eq!(
            key_part, derived_part,
            "{mode}: ssh-keygen -y reproduces the .pub"
        );
        assert!(
            pub_line.trim_end().ends_with(&format!("laptop-{mode}")),
            "{pub_line}"
        );
        assert_eq!(mode_bits(&private), 0o600);
        assert_eq!(mode_bits(&fx.file(&format!("id_{mode}.pub"))), 0o644);
    }
    assert_eq!(mode_bits(&fx.out), 0o700);

    // The flags byte per mode, as ssh-keygen would write it.
    assert_eq!(flags_of(&fx.file("id_root")), Some(0x25));
    assert_eq!(flags_of(&fx.file("id_sudo")), Some(0x21));
    assert_eq!(flags_of(&fx.file("id_robo")), Some(0x20));

    // wheel is encrypted: without the passphrase ssh-keygen fails, with it it works.
    let wheel = fx.file("id_wheel");
    let info = inspect_private_key(&std::fs::read(&wheel).unwrap()).unwrap();
    assert!(
        matches!(info.encryption, Encryption::Encrypted { ref cipher, rounds: Some(24), .. } if cipher == "aes256-ctr"),
        "{:?}",
        info.encryption
    );
    let refused = ssh_keygen(&[
        "-y",
        "-P",
        "wrong passphrase",
        "-f",
        wheel.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    let opened = ssh_keygen(&["-y", "-P", WHEEL_PASSPHRASE, "-f", wheel.to_str().unwrap()]);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    let decrypted = skset::openssh::private_key::read_sk_private_key(
        &std::fs::read(&wheel).unwrap(),
        Some(&skset::openssh::private_key::Passphrase::new(
            zeroize::Zeroizing::new(WHEEL_PASSPHRASE.into()),
        )),
    )
    .unwrap();
    assert_eq!(decrypted.credential.flags, 0x00);

    // Three distinct resident credentials on the device; wheel's lives only in its file.
    let device = fx.vk.open();
    let listed = device.list_ssh_credentials(&pin(TEST_PIN)).unwrap();
    let apps: Vec<&str> = listed.iter().map(|c| c.application.as_str()).collect();
    assert_eq!(apps, ["ssh:robo", "ssh:root", "ssh:sudo"]);
    let users: Vec<String> = listed.iter().map(|c| c.user_id_display()).collect();
    assert_eq!(users, ["robo", "root", "sudo"]);
    // wheel's key handle is a working credential of the same key (no touch, no PIN).
    let assertion = device
        .get_assertion(&skset::device::AssertionRequest {
            application: "ssh:wheel".into(),
            key_handle: decrypted.credential.key_handle.clone(),
            message: b"ansible".to_vec(),
            user_presence: false,
            pin: None,
        })
        .unwrap();
    assert!(!assertion.user_present());

    // Attestations and challenges beside the keys.
    for mode in ["root", "sudo", "wheel", "robo"] {
        let att = std::fs::read(fx.file(&format!("id_{mode}.attest"))).expect("attestation file");
        assert!(att.starts_with(b"\0\0\0\x11ssh-sk-attest-v01"));
        assert_eq!(
            std::fs::read(fx.file(&format!("id_{mode}.challenge")))
                .unwrap()
                .len(),
            32
        );
    }

    // authorized_keys lines carry the policy's options.
    let lines = report["authorized_keys"].as_array().unwrap();
    let line_of = |mode: &str| -> String {
        lines
            .iter()
            .flat_map(|a| a["lines"].as_array().unwrap())
            .find(|l| l["mode"] == mode)
            .unwrap()["line"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(line_of("root").starts_with("verify-required sk-ssh-ed25519@openssh.com "));
    assert!(line_of("sudo").starts_with("sk-ssh-ed25519@openssh.com "));
    assert!(line_of("wheel").starts_with("no-touch-required sk-ssh-ed25519@openssh.com "));
    let robo = line_of("robo");
    assert!(
        robo.contains("no-touch-required")
            && robo.contains("restrict")
            && robo.contains("from=\"10.0.0.0/8\"")
            && robo.contains("command=\"/usr/local/bin/backup-shell\""),
        "{robo}"
    );
}

#[test]
fn authorized_keys_command_matches_enroll_and_reads_stdin() {
    let Some(fx) = Fixture::new() else { return };
    assert!(fx.enroll(&[]).status.success());
    let dir = fx.out.to_string_lossy().into_owned();
    let out = fx.skset(&[
        "authorized-keys",
        "--policy",
        POLICY,
        "--label",
        "laptop",
        "--pub-dir",
        &dir,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = text(&out.stdout);
    assert!(all.contains("# account root:"), "{all}");
    assert_eq!(all.lines().filter(|l| !l.starts_with('#')).count(), 4);

    // A pipeline: one key from stdin.
    let robo_pub = std::fs::read(fx.file("id_robo.pub")).unwrap();
    let piped = fx.skset_with_stdin(
        &[
            "authorized-keys",
            "--policy",
            POLICY,
            "--label",
            "laptop",
            "--mode",
            "robo",
            "--pub-dir",
            "-",
        ],
        &robo_pub,
    );
    assert!(piped.status.success());
    let robo_line = text(&piped.stdout)
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .to_string();
    assert!(all.contains(&robo_line));

    // The wrong key for a mode is refused, not silently accepted.
    let refused = fx.skset_with_stdin(
        &[
            "authorized-keys",
            "--policy",
            POLICY,
            "--mode",
            "root",
            "--pub-dir",
            "-",
        ],
        &robo_pub,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("ssh:robo"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn recover_writes_identical_public_keys_and_keeps_robo_no_touch() {
    let Some(fx) = Fixture::new() else { return };
    assert!(fx.enroll(&[]).status.success());
    let fresh = fx.secrets.path().join("new-laptop");
    let out = fx.skset(&[
        "recover",
        "--policy",
        POLICY,
        "--label",
        "laptop",
        "--out",
        fresh.to_str().unwrap(),
        "--device",
        &fx.vk.path(),
        "--pin-file",
        &fx.secret("pin"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["recovered"].as_array().unwrap().len(), 3);
    assert_eq!(report["non_resident"][0]["mode"], "wheel");
    assert!(report["non_resident"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("non-resident"));
    for mode in ["root", "sudo", "robo"] {
        let original = std::fs::read_to_string(fx.file(&format!("id_{mode}.pub"))).unwrap();
        let recovered = std::fs::read_to_string(fresh.join(format!("id_{mode}.pub"))).unwrap();
        assert_eq!(original, recovered, "{mode}: same public key and comment");
        assert_eq!(mode_bits(&fresh.join(format!("id_{mode}"))), 0o600);
        let derived = ssh_keygen(&[
            "-y",
            "-f",
            fresh.join(format!("id_{mode}")).to_str().unwrap(),
        ]);
        assert!(derived.status.success());
    }
    assert_eq!(
        flags_of(&fresh.join("id_robo")),
        Some(0x20),
        "no-touch kept, unlike ssh-keygen -K"
    );
    assert_eq!(flags_of(&fresh.join("id_root")), Some(0x25));
    assert!(!fresh.join("id_wheel").exists(), "wheel is never pretended");

    // Running it again changes nothing and overwrites nothing.
    let again = fx.skset(&[
        "recover",
        "--policy",
        POLICY,
        "--label",
        "laptop",
        "--out",
        fresh.to_str().unwrap(),
        "--device",
        &fx.vk.path(),
        "--pin-file",
        &fx.secret("pin"),
        "--json",
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let statuses: Vec<&str> = report["recovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["already-enrolled"; 3]);
}

#[test]
fn an_existing_root_credential_survives_unless_replacement_is_named() {
    let Some(fx) = Fixture::new() else { return };
    // Someone made ssh:root earlier (say, on the old laptop). The handle is closed before
    // skset runs: like hidraw, every open handle sees every report.
    let device = fx.vk.open();
    let mut user_id = b"root".to_vec();
    user_id.resize(32, 0);
    let the_pin = pin(TEST_PIN);
    let earlier = device
        .make_credential(&skset::device::MakeCredentialRequest {
            algorithm: KeyAlgorithm::Ed25519,
            application: "ssh:root".into(),
            user_id,
            user_name: "openssh".into(),
            resident: true,
            cred_protect: Some(skset::device::CredProtect::UvRequired),
            pin: Some(&the_pin),
            challenge: b"earlier".to_vec(),
            exclude: vec![],
        })
        .unwrap();
    drop(device);

    let out = fx.enroll(&["--only", "root", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already holds a credential for ssh:root"),
        "{}",
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["modes"][0]["status"], "adopted");
    let listed = fx.vk.open().list_ssh_credentials(&the_pin).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].public_key, earlier.public_key,
        "the earlier credential survived"
    );

    // Naming the mode replaces it (files too, with --force and a backup).
    let out = fx.enroll(&[
        "--only",
        "root",
        "--replace-existing",
        "root",
        "--force",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["modes"][0]["status"], "replaced");
    assert!(!report["modes"][0]["backups"].as_array().unwrap().is_empty());
    let listed = fx.vk.open().list_ssh_credentials(&the_pin).unwrap();
    assert_eq!(listed.len(), 1);
    assert_ne!(listed[0].public_key, earlier.public_key);
}

#[test]
fn a_wrong_pin_writes_nothing_and_says_tries_left() {
    let Some(fx) = Fixture::new() else { return };
    let out = fx.skset(&[
        "enroll",
        "--policy",
        POLICY,
        "--out",
        fx.out.to_str().unwrap(),
        "--device",
        &fx.vk.path(),
        "--pin-file",
        &fx.secret("wrong-pin"),
        "--passphrase-file",
        &fx.secret("passphrase"),
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("wrong PIN: 7 tries left"),
        "{}",
        text(&out.stderr)
    );
    assert!(!fx.out.exists(), "nothing on disk, not even the directory");
    assert_eq!(
        fx.vk
            .open()
            .list_ssh_credentials(&pin(TEST_PIN))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn a_refused_touch_mid_way_leaves_whole_files_and_a_rerun_continues() {
    let Some(fx) = Fixture::new() else { return };
    assert!(fx.enroll(&["--only", "root"]).status.success());
    fx.vk.key.set_touch(Touch::Deny);
    let out = fx.enroll(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("sudo: the touch was refused"), "{stderr}");
    assert!(stderr.contains("Finished and written: root"), "{stderr}");
    assert!(stderr.contains("Not attempted: wheel, robo"), "{stderr}");
    assert!(
        fx.file("id_root").exists()
            && !fx.file("id_sudo").exists()
            && !fx.file("id_sudo.pub").exists()
    );
    let leftovers: Vec<_> = std::fs::read_dir(&fx.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("id_root"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no partial or temporary files: {leftovers:?}"
    );

    fx.vk.key.set_touch(Touch::Accept);
    let out = fx.enroll(&["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = report["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["already-enrolled", "created", "created", "created"]
    );
    assert_eq!(
        fx.vk
            .open()
            .list_ssh_credentials(&pin(TEST_PIN))
            .unwrap()
            .len(),
        3,
        "no duplicates"
    );
}

#[test]
fn existing_files_are_never_overwritten_without_force() {
    let Some(fx) = Fixture::new() else { return };
    std::fs::create_dir_all(&fx.out).unwrap();
    std::fs::set_permissions(&fx.out, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(fx.file("id_wheel"), "an older key\n").unwrap();
    let out = fx.enroll(&[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("id_wheel already exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(fx.file("id_wheel")).unwrap(),
        "an older key\n"
    );
    assert!(
        !fx.file("id_root").exists(),
        "pre-flight stops before any write"
    );
}

#[test]
fn a_key_without_enough_resident_slots_is_refused_before_any_write() {
    let Some(vk) = support::virtual_key_with(virtual_key::Options {
        max_resident_keys: Some(2),
        ..Default::default()
    }) else {
        return;
    };
    vk.open().set_pin(&pin(TEST_PIN)).unwrap();
    let secrets = tempfile::tempdir().unwrap();
    std::fs::write(secrets.path().join("pin"), TEST_PIN).unwrap();
    std::fs::write(secrets.path().join("pass"), WHEEL_PASSPHRASE).unwrap();
    let out_dir = secrets.path().join("ssh");
    let out = Command::new(env!("CARGO_BIN_EXE_skset"))
        .args([
            "enroll",
            "--policy",
            POLICY,
            "--out",
            out_dir.to_str().unwrap(),
            "--device",
            &vk.path(),
        ])
        .arg("--pin-file")
        .arg(secrets.path().join("pin"))
        .arg("--passphrase-file")
        .arg(secrets.path().join("pass"))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("2 free resident slots, the plan needs 3"),
        "{stderr}"
    );
    assert!(
        !out_dir.exists(),
        "pre-flight does not even create the directory"
    );
    assert_eq!(
        vk.open()
            .list_ssh_credentials(&pin(TEST_PIN))
            .unwrap()
            .len(),
        0,
        "nothing was created"
    );
}

/// A real full disk: a tmpfs too small for the four modes' files.
struct TinyDisk {
    dir: tempfile::TempDir,
}

impl TinyDisk {
    fn mount(bytes: usize) -> Option<TinyDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(TinyDisk { dir })
    }

    fn grow(&self, bytes: usize) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={bytes}")])
            .arg(self.dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount the tmpfs larger");
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_mid_way_leaves_whole_files_and_a_rerun_finishes_without_duplicates() {
    let Some(fx) = Fixture::new() else { return };
    // One page: room for the first mode's files at most.
    let Some(disk) = TinyDisk::mount(4096) else {
        return;
    };
    let out_dir = disk.dir.path().join("ssh");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "enroll",
            "--policy",
            POLICY,
            "--label",
            "laptop",
            "--out",
            out_dir.to_str().unwrap(),
            "--device",
        ];
        let path = fx.vk.path();
        let pin = fx.secret("pin");
        let pass = fx.secret("passphrase");
        args.extend_from_slice(&[
            &path,
            "--pin-file",
            &pin,
            "--passphrase-file",
            &pass,
            "--yes",
        ]);
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_skset"))
            .args(&args)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(
        !out.status.success(),
        "the disk is too small: {}",
        text(&out.stderr)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "the credential was created on the security key, but its files could not be written"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("Run the same command again"), "{stderr}");
    // Every file there is whole: each private key parses, each .pub has a full line.
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "no temporary file left: {name}");
        if name.starts_with("id_") && !name.contains('.') {
            inspect_private_key(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not whole: {e}"));
        }
        if name.ends_with(".pub") {
            assert!(
                std::fs::read_to_string(&path).unwrap().ends_with('\n'),
                "{name} is not whole"
            );
        }
    }

    disk.grow(1 << 20);
    let out = run(&["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&str> = report["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"adopted"),
        "the credential made before the disk filled is picked up: {statuses:?}"
    );
    assert_eq!(
        fx.vk
            .open()
            .list_ssh_credentials(&pin(TEST_PIN))
            .unwrap()
            .len(),
        3,
        "no duplicates on the key"
    );
    for mode in ["root", "sudo", "robo"] {
        assert!(ssh_keygen(&[
            "-y",
            "-f",
            out_dir.join(format!("id_{mode}")).to_str().unwrap()
        ])
        .status
        .success());
    }
}

#[test]
fn the_audit_is_clean_on_what_enroll_wrote() {
    let Some(fx) = Fixture::new() else { return };
    let out = fx.enroll(&["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Each account's lines in its own authorized_keys, as a server would have them.
    let servers = fx.secrets.path().join("servers");
    std::fs::create_dir(&servers).unwrap();
    let mut args: Vec<String> = vec![
        "audit".into(),
        "--policy".into(),
        POLICY.into(),
        "--ssh-dir".into(),
        fx.out.to_string_lossy().into_owned(),
    ];
    for account in report["authorized_keys"].as_array().unwrap() {
        let name = account["account"].as_str().unwrap();
        let file = servers.join(format!("{name}.authorized_keys"));
        let lines: String = account["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| format!("{}\n", l["line"].as_str().unwrap()))
            .collect();
        std::fs::write(&file, lines).unwrap();
        args.push("--authorized-keys".into());
        args.push(format!("{}:{name}", file.display()));
    }
    args.push("--json".into());
    let audit = fx.skset(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        audit.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&audit.stdout),
        text(&audit.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    let serious: Vec<&serde_json::Value> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(
        serious.is_empty(),
        "only notes (the virtual key self-attests): {serious:#?}"
    );

    // And it notices when a line loses its option.
    let wheel_file = servers.join("wheel.authorized_keys");
    let stripped = std::fs::read_to_string(&wheel_file)
        .unwrap()
        .replace("no-touch-required ", "");
    std::fs::write(&wheel_file, stripped).unwrap();
    let audit = fx.skset(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit.stdout));
    assert!(
        text(&audit.stdout).contains("wheel.authorized_keys"),
        "{}",
        text(&audit.stdout)
    );
}
