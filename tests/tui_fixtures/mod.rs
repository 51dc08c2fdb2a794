//! Fixed data for the wizard's tests: a YubiKey-like device, the built-in plan, pre-flight
//! answers, outcomes with real (deterministic) public keys. Nothing here opens a device:
//! the tests feed these to `update` as the worker's answers.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use skset::device::{
    DeviceInfo, DeviceOptions, DeviceSummary, KeyAlgorithm, PinStatus, ResidentCredential,
};
use skset::enroll::recover::{RecoverReport, Skipped};
use skset::enroll::{
    Check, CheckStatus, ModeAction, ModeOutcome, ModePreflight, ModeStatus, Preflight,
};
use skset::openssh::public_key::{fingerprint, render_public_key_line};
use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use skset::tui::app::{App, WizardOptions};
use skset::tui::effects::{load_policy, Effect};
use skset::tui::message::{
    DeviceChoice, Done, LoadedPolicy, Msg, OpenedDevice, PolicySource, PreparedSummary,
};
use skset::tui::theme::Theme;
use skset::tui::update::update;
use std::path::PathBuf;

pub const OUT: &str = "/home/user/.ssh";

pub fn options() -> WizardOptions {
    WizardOptions {
        out_dir: None,
        device: None,
        simulate: false,
        host_name: "laptop".into(),
        home: Some(PathBuf::from("/home/user")),
        simulated_out_dir: PathBuf::from("/tmp/skset-simulated-1234"),
    }
}

pub fn app() -> App {
    App::new(options(), Theme { color: false })
}

pub fn app_with(options: WizardOptions) -> App {
    App::new(options, Theme { color: false })
}

pub fn info(path: &str, pin_set: bool) -> DeviceInfo {
    DeviceInfo {
        path: path.into(),
        product: Some("YubiKey 5 NFC".into()),
        aaguid: "ee882879721c491397753dfcce97072a".into(),
        firmware_version: Some(0x050403),
        ctap_versions: vec!["FIDO_2_0".into(), "FIDO_2_1".into()],
        cose_algorithms: vec![-8, -7],
        ssh_algorithms: vec![KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256],
        extensions: vec!["credProtect".into(), "hmac-secret".into()],
        options: DeviceOptions {
            resident_keys: true,
            client_pin: Some(pin_set),
            user_presence: true,
            user_verification: None,
            credential_management: true,
        },
        cred_protect: true,
        remaining_discoverable_credentials: Some(25),
        min_pin_length: 4,
        pin_protocols: vec![2, 1],
    }
}

pub fn choices() -> Vec<DeviceChoice> {
    let mut old = info("/dev/hidraw7", true);
    old.product = Some("Security Key by Yubico".into());
    old.aaguid = "149a20218ef6413396b881f8d5b7f1f5".into();
    old.firmware_version = Some(0x050202);
    old.ssh_algorithms = vec![KeyAlgorithm::EcdsaP256];
    vec![
        DeviceChoice {
            summary: DeviceSummary {
                path: "/dev/hidraw3".into(),
                product: "YubiKey 5 NFC".into(),
                vendor_id: 0x1050,
                product_id: 0x0407,
            },
            info: Some(info("/dev/hidraw3", false)),
            error: None,
        },
        DeviceChoice {
            summary: DeviceSummary {
                path: "/dev/hidraw7".into(),
                product: "Security Key by Yubico".into(),
                vendor_id: 0x1050,
                product_id: 0x0120,
            },
            info: Some(old),
            error: None,
        },
    ]
}

pub fn opened(pin_set: bool, retries: Option<u32>) -> OpenedDevice {
    OpenedDevice {
        path: "/dev/hidraw3".into(),
        info: info("/dev/hidraw3", pin_set),
        pin: Some(PinStatus {
            is_set: pin_set,
            retries_left: if pin_set { retries } else { None },
        }),
        simulated: false,
    }
}

pub fn builtin() -> LoadedPolicy {
    load_policy(PolicySource::BuiltIn, "laptop").expect("the built-in policy plans")
}

fn check(id: &str, status: CheckStatus, message: &str, fix: Option<&str>) -> Check {
    Check {
        id: id.into(),
        status,
        message: message.into(),
        fix: fix.map(String::from),
    }
}

/// Pre-flight as the engine answers for a fresh key without PIN (device checks).
pub fn device_checks() -> Preflight {
    let mut p = review_preflight();
    p.device = info("/dev/hidraw3", false);
    p.checks.retain(|c| c.id != "pin-length");
    for c in &mut p.checks {
        if c.id == "pin-set" {
            *c = check(
                "pin-set",
                CheckStatus::Fail,
                "this key has no PIN yet",
                Some("set one of at least 6 characters: skset pin set"),
            );
        }
    }
    p
}

/// Pre-flight with the PIN, nothing on the key or on disk: every mode is created.
pub fn review_preflight() -> Preflight {
    let plan = builtin().plan;
    let mut checks: Vec<Check> = plan
        .keys
        .iter()
        .map(|k| {
            check(
                &format!("algorithm:{}", k.mode),
                CheckStatus::Pass,
                &format!("{}: Ed25519", k.mode),
                None,
            )
        })
        .collect();
    checks.push(check(
        "cred-protect",
        CheckStatus::Pass,
        "credProtect is supported",
        None,
    ));
    checks.push(check(
        "credential-management",
        CheckStatus::Pass,
        "credential management is supported",
        None,
    ));
    checks.push(check("pin-set", CheckStatus::Pass, "a PIN is set", None));
    checks.push(check(
        "pin-length",
        CheckStatus::Pass,
        "the PIN meets the policy's minimum of 6",
        None,
    ));
    checks.push(check(
        "slots",
        CheckStatus::Pass,
        "25 free resident slots, 3 needed",
        None,
    ));
    checks.push(check(
        "out-dir",
        CheckStatus::Pass,
        "/home/user/.ssh is private (0700)",
        None,
    ));
    let modes = plan
        .keys
        .iter()
        .map(|k| ModePreflight {
            mode: k.mode.clone(),
            algorithm: Some(KeyAlgorithm::Ed25519),
            action: ModeAction::Create,
            existing: None,
            replace_files: false,
        })
        .collect();
    Preflight {
        device: info("/dev/hidraw3", true),
        checks,
        modes,
        foreign_credentials: vec![],
    }
}

pub fn resident(application: &str, user: &str) -> ResidentCredential {
    let mut user_id = vec![0u8; 32];
    user_id[..user.len()].copy_from_slice(user.as_bytes());
    ResidentCredential {
        application: application.into(),
        user_id,
        user_name: "openssh".into(),
        credential_id: vec![7; 16],
        algorithm: Some(KeyAlgorithm::Ed25519),
        public_key: vec![9; 32],
        cred_protect: Some(2),
    }
}

/// Root is already on the key (kept), and a different id_sudo file stands in the way.
pub fn collision_preflight() -> Preflight {
    let mut p = review_preflight();
    p.modes[0].action = ModeAction::Adopt;
    p.modes[0].existing = Some(resident("ssh:root", "root"));
    p.modes[1].action = ModeAction::Blocked {
        reason: "/home/user/.ssh/id_sudo already exists".into(),
        fix: "move it away, or add --force to replace it (a backup is kept)".into(),
    };
    p.checks.push(check(
        "existing:root",
        CheckStatus::Warn,
        "YubiKey 5 NFC already holds a credential for ssh:root (user root); skset keeps it and writes its files",
        Some("to make a new one instead, which stops the old one from working anywhere: --replace-existing root"),
    ));
    p.checks.push(check(
        "files:sudo",
        CheckStatus::Fail,
        "/home/user/.ssh/id_sudo already exists",
        Some("move it away, or add --force to replace it (a backup is kept)"),
    ));
    p.foreign_credentials = vec![resident("ssh:", "")];
    p
}

/// A deterministic credential for a mode, as the engine would render it.
pub fn credential(index: usize, application: &str, flags: u8) -> SkCredential {
    SkCredential {
        algorithm: SkAlgorithm::Ed25519,
        public_key: vec![index as u8 + 1; 32],
        application: application.into(),
        flags,
        key_handle: vec![index as u8; 16],
    }
}

pub fn outcome(index: usize, status: ModeStatus) -> ModeOutcome {
    let plan = builtin().plan;
    let key = &plan.keys[index];
    let cred = credential(index, &key.application, key.flags);
    let dir = PathBuf::from(OUT);
    ModeOutcome {
        mode: key.mode.clone(),
        status,
        algorithm: KeyAlgorithm::Ed25519,
        fingerprint: fingerprint(&cred).unwrap(),
        public_key_line: render_public_key_line(&cred, &key.comment)
            .unwrap()
            .trim_end()
            .to_string(),
        files: vec![
            dir.join(&key.private_key_file),
            dir.join(&key.public_key_file),
            dir.join(&key.attestation_file),
            dir.join(skset::enroll::challenge_file(&key.attestation_file)),
        ],
        backups: vec![],
        attestation_written: true,
    }
}

pub fn prepared(index: usize) -> PreparedSummary {
    PreparedSummary {
        status: ModeStatus::Created,
        fingerprint: outcome(index, ModeStatus::Created).fingerprint,
    }
}

pub fn recover_report() -> RecoverReport {
    let plan = builtin().plan;
    let wheel = plan.keys.iter().find(|k| !k.resident).unwrap();
    RecoverReport {
        recovered: vec![outcome(0, ModeStatus::Adopted), outcome(1, ModeStatus::Adopted)],
        skipped: vec![Skipped { mode: "robo".into(), reason: "no credential for ssh:robo (user robo) on this key".into(), fix: Some("enroll it: skset enroll --only robo".into()) }],
        unmatched: vec![resident("ssh:", "")],
        non_resident: vec![Skipped {
            mode: wheel.mode.clone(),
            reason: format!("{} is non-resident: its credential handle lives only in {} on the machine where it was enrolled, never on the security key, so neither ssh-keygen -K nor skset can recover it", wheel.mode, wheel.private_key_file),
            fix: Some(format!("copy the passphrase-protected file from the old machine: scp OLD-HOST:.ssh/{{{},{}}} {OUT}/ ; if it is lost, enroll {} again", wheel.private_key_file, wheel.public_key_file, wheel.mode)),
        }],
    }
}

// ------------------------------------------------------------------ driving

pub fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn ctrl_c(app: &mut App) -> Vec<Effect> {
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    )
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let effects = press(app, KeyCode::Char(c));
        assert!(effects.is_empty(), "typing {c:?} asked for {effects:?}");
    }
}

pub fn done(app: &mut App, done: Done) -> Vec<Effect> {
    update(app, Msg::Done(done))
}

pub fn names(effects: &[Effect]) -> Vec<&'static str> {
    effects.iter().map(|e| e.name()).collect()
}

/// Home -> enroll -> the YubiKey -> checks -> PIN verified -> built-in policy -> review.
pub fn app_at_review(preflight: Preflight) -> App {
    let mut app = app();
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["ListDevices"]);
    done(&mut app, Done::Devices(Ok(choices())));
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["Open"]);
    assert_eq!(
        names(&done(&mut app, Done::Opened(Ok(opened(true, Some(8)))))),
        ["Preflight"]
    );
    let mut checks = review_preflight();
    checks.checks.retain(|c| c.id != "pin-length");
    done(&mut app, Done::Preflight(Ok(checks)));
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "424242");
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["VerifyPin"]);
    done(
        &mut app,
        Done::PinVerified(Ok(skset::device::CredentialCounts {
            existing: 0,
            remaining: 25,
        })),
    );
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["Preflight"]);
    done(&mut app, Done::Preflight(Ok(preflight)));
    app
}

pub fn draw(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| skset::tui::view::view(app, frame))
        .unwrap();
    terminal.backend().to_string()
}

/// An audit answer as the worker sends it: several severities, unsorted on purpose (the
/// collector sorts), in `/home/user` and on a server dump, with a line and a column.
pub fn audit_report() -> skset::tui::message::AuditReport {
    use skset::audit::rules::*;
    use skset::audit::{AuditFinding, AuditSummary, Location, SeverityCounts};
    use std::path::Path;
    let ssh = Path::new("/home/user/.ssh");
    let dump = Path::new("/srv/dumps/web1-admin.keys");
    let findings = vec![
        AuditFinding::new(&FILE_BASED_KEY, Location::file(&ssh.join("id_ed25519")), "a file-based ed25519 private key beside the policy's hardware-backed keys", "retire it: remove its line from every authorized_keys, then delete ~/.ssh/id_ed25519"),
        AuditFinding::new(&ATTESTATION_SELF, Location::file(&ssh.join("id_root.attest")), "the attestation is self-signed by the credential (OpenSK-style): it proves the key was made with this file's challenge, not that it lives in hardware", "use a key whose vendor signs attestations, and list the vendor's root in trusted_attestation_roots").mode(Some("root")),
        AuditFinding::new(&FILE_BASED_KEY_UNENCRYPTED, Location::file(&ssh.join("id_ed25519")), "a file-based private key without a passphrase: whoever reads the file holds the key", "ssh-keygen -p -f ~/.ssh/id_ed25519, or better retire it"),
        AuditFinding::new(&NO_TOUCH_REQUIRED_ON_TOUCH_MODE, Location::at(dump, 12, 1), "the sudo key's line has no-touch-required, but mode sudo requires a touch: the server accepts signatures made without one", "remove no-touch-required from line 12 (skset authorized-keys prints the right line)").mode(Some("sudo")).account(Some("admin")),
        AuditFinding::new(&PRIVATE_KEY_PERMISSIONS, Location::file(&ssh.join("id_ed25519")), "the private key is readable by group or others (mode 0644)", "chmod 600 ~/.ssh/id_ed25519"),
        AuditFinding::new(&SK_FLAGS_MISMATCH, Location::file(&ssh.join("id_root")), "id_root has flags 0x01 (touch), mode root wants 0x25 (touch, PIN, resident): ssh never asks for the PIN", "recover it with skset recover (it writes the policy's flags)").mode(Some("root")),
    ];
    let mut collector = skset::tui::message::AuditReport::collector(100);
    let mut counts = SeverityCounts::default();
    for f in findings {
        counts.add(f.severity);
        collector.push(f);
    }
    let summary = AuditSummary {
        policy: "four-mode".into(),
        ssh_dirs: vec![ssh.to_path_buf()],
        files: 9,
        lines: 31,
        private_keys: 5,
        authorized_keys_entries: 4,
        sk_keys: 8,
        counts,
        ..AuditSummary::default()
    };
    collector.finish(summary)
}

/// The clean answer: nothing found in `~/.ssh`.
pub fn clean_audit_report() -> skset::tui::message::AuditReport {
    let summary = skset::audit::AuditSummary {
        policy: "four-mode".into(),
        ssh_dirs: vec![PathBuf::from("/home/user/.ssh")],
        files: 14,
        lines: 12,
        private_keys: 4,
        sk_keys: 4,
        ..Default::default()
    };
    skset::tui::message::AuditReport::collector(100).finish(summary)
}
