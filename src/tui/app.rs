//! The wizard's state: what the user chose so far, what the device and the engine said,
//! and which screen is showing. Plain data: `update` changes it, `view` draws it.

use super::message::{AuditReport, AuditRequest, DeviceChoice, LoadedPolicy, OpenedDevice};
use super::theme::Theme;
use super::widgets::{SecretInput, TextInput};
use crate::device::{CredentialCounts, Pin};
use crate::enroll::recover::RecoverReport;
use crate::enroll::{ModeOutcome, ModeStatus, Preflight, PreflightOptions};
use std::path::PathBuf;

/// Longest PIN CTAP accepts, in bytes: the PIN input reserves exactly this.
pub const PIN_MAX_BYTES: usize = crate::device::Pin::MAX_BYTES;
/// Room reserved for a passphrase; longer ones are refused keystroke by keystroke.
pub const PASSPHRASE_MAX_BYTES: usize = 1024;
/// Same minimum as `skset enroll` (`MIN_PASSPHRASE_CHARS` in the CLI).
pub const MIN_PASSPHRASE_CHARS: usize = 10;
/// The PIN warning starts at this many tries left.
pub const PIN_TRIES_WARNING: u32 = 3;

/// What the command line gave the wizard: its defaults.
#[derive(Debug, Clone)]
pub struct WizardOptions {
    /// `--out DIR`; None: `~/.ssh` for a real key, a fresh directory for the simulated one.
    pub out_dir: Option<PathBuf>,
    /// `--device PATH`: skip the picker.
    pub device: Option<String>,
    /// `--simulate`: skip the picker, use the simulated key.
    pub simulate: bool,
    /// The comment label when the policy sets none (the host name).
    pub host_name: String,
    /// `$HOME`, for the default out dir and for showing paths as `~/...`.
    pub home: Option<PathBuf>,
    /// Where a simulated key's files go when `--out` is not given.
    pub simulated_out_dir: PathBuf,
}

impl WizardOptions {
    pub fn from_env(
        out_dir: Option<PathBuf>,
        device: Option<String>,
        simulate: bool,
        host_name: String,
    ) -> WizardOptions {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let simulated_out_dir =
            std::env::temp_dir().join(format!("skset-simulated-{}", std::process::id()));
        WizardOptions {
            out_dir,
            device,
            simulate,
            host_name,
            home,
            simulated_out_dir,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Enroll,
    Recover,
    Explain,
    Audit,
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Flow::Enroll => "enroll",
            Flow::Recover => "recover",
            Flow::Explain => "policy",
            Flow::Audit => "audit",
        }
    }

    /// The steps shown in the title bar.
    pub fn steps(self) -> &'static [&'static str] {
        match self {
            Flow::Enroll => &[
                "key",
                "checks",
                "PIN",
                "policy",
                "review",
                "make",
                "passphrase",
                "done",
            ],
            Flow::Recover => &["key", "PIN", "policy", "recover", "done"],
            Flow::Explain => &["policy", "explain"],
            Flow::Audit => &["what to audit", "findings"],
        }
    }
}

/// The home menu, in order.
pub const HOME_ITEMS: [(&str, &str); 5] = [
    (
        "Enroll a new key",
        "make the policy's SSH keys on a security key and write their files",
    ),
    (
        "Recover keys on this laptop",
        "write the resident keys' files from the key (ssh-keygen -K, done right)",
    ),
    ("Audit", "check deployed keys against a policy"),
    (
        "View a policy",
        "what each mode protects against, in plain words",
    ),
    ("Quit", ""),
];

#[derive(Debug)]
pub enum Screen {
    Home {
        selected: usize,
    },
    Devices {
        selected: usize,
        loading: bool,
    },
    /// Device pre-flight (before the PIN): capabilities, with the fix for each failure.
    Checks {
        scroll: u16,
    },
    Pin(PinScreen),
    Policy(PolicyScreen),
    Review(ReviewScreen),
    /// Making the credentials, then writing the files.
    Generate,
    Passphrase(PassphraseScreen),
    Summary {
        scroll: u16,
    },
    RecoverReady,
    RecoverReport {
        scroll: u16,
    },
    Explain {
        mode: usize,
        scroll: u16,
    },
    /// What to audit (the form lives in [`Session::audit_form`], so it survives a run).
    AuditForm,
    /// The findings table; `scroll` is the details pane's.
    AuditFindings {
        selected: usize,
        scroll: u16,
    },
    /// The audit could not run (unreadable input, a broken policy): the message and the way back.
    AuditFailed,
}

impl Screen {
    /// Index into [`Flow::steps`].
    pub fn step(&self, flow: Flow) -> usize {
        match (flow, self) {
            (_, Screen::Home { .. }) => 0,
            (Flow::Enroll, Screen::Devices { .. }) => 0,
            (Flow::Enroll, Screen::Checks { .. }) => 1,
            (Flow::Enroll, Screen::Pin(_)) => 2,
            (Flow::Enroll, Screen::Policy(_)) => 3,
            (Flow::Enroll, Screen::Review(_)) => 4,
            (Flow::Enroll, Screen::Generate) => 5,
            (Flow::Enroll, Screen::Passphrase(_)) => 6,
            (Flow::Enroll, Screen::Summary { .. }) => 7,
            (Flow::Recover, Screen::Devices { .. }) => 0,
            (Flow::Recover, Screen::Pin(_)) => 1,
            (Flow::Recover, Screen::Policy(_)) => 2,
            (Flow::Recover, Screen::RecoverReady) => 3,
            (Flow::Recover, Screen::RecoverReport { .. }) => 4,
            (Flow::Explain, Screen::Explain { .. }) => 1,
            (Flow::Audit, Screen::AuditFindings { .. } | Screen::AuditFailed) => 1,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKind {
    /// The key has a PIN: check it.
    Verify,
    /// The key has none: set one (typed twice).
    Set,
}

#[derive(Debug)]
pub struct PinScreen {
    pub kind: PinKind,
    pub first: SecretInput,
    /// The repeat, when setting.
    pub second: SecretInput,
    /// 0: first field, 1: repeat.
    pub focus: usize,
    pub retries_left: Option<u32>,
    /// The last try is about to be spent: Enter was pressed once, the warning shown.
    pub last_try_armed: bool,
    /// The PIN is blocked: nothing more to type here.
    pub blocked: bool,
    pub error: Option<String>,
    /// Policy and device minimum, for setting.
    pub min_length: usize,
}

impl PinScreen {
    pub fn new(kind: PinKind, retries_left: Option<u32>, min_length: usize) -> PinScreen {
        PinScreen {
            kind,
            first: SecretInput::new(PIN_MAX_BYTES),
            second: SecretInput::new(PIN_MAX_BYTES),
            focus: 0,
            retries_left,
            last_try_armed: false,
            blocked: false,
            error: None,
            min_length,
        }
    }
}

#[derive(Debug)]
pub struct PolicyScreen {
    /// 0: built-in, 1: a file.
    pub selected: usize,
    pub path: TextInput,
    pub editing: bool,
    pub error: Option<String>,
}

#[derive(Debug)]
pub struct ReviewScreen {
    pub selected: usize,
    pub scroll: u16,
    /// Editing the output directory.
    pub out_dir: Option<TextInput>,
}

#[derive(Debug)]
pub struct PassphraseScreen {
    pub first: SecretInput,
    pub second: SecretInput,
    pub focus: usize,
    pub error: Option<String>,
    /// The modes whose file gets this passphrase (wheel).
    pub modes: Vec<String>,
}

impl PassphraseScreen {
    pub fn new(modes: Vec<String>) -> PassphraseScreen {
        PassphraseScreen {
            first: SecretInput::new(PASSPHRASE_MAX_BYTES),
            second: SecretInput::new(PASSPHRASE_MAX_BYTES),
            focus: 0,
            error: None,
            modes,
        }
    }
}

/// The audit form's fields, in order: label, and what goes in it.
pub const AUDIT_FIELDS: [(&str, &str); 4] = [
    (
        "policy",
        "a policy file (YAML); empty: the built-in four-mode policy",
    ),
    (
        "ssh dir",
        "its key files, attestations, authorized_keys and config",
    ),
    (
        "authorized_keys",
        "optional: a server's authorized_keys, FILE[:ACCOUNT]",
    ),
    (
        "ssh_config",
        "optional: another ssh_config (the dir's own is read too)",
    ),
];
pub const AUDIT_POLICY: usize = 0;
pub const AUDIT_SSH_DIR: usize = 1;
pub const AUDIT_AUTHORIZED_KEYS: usize = 2;
pub const AUDIT_SSH_CONFIG: usize = 3;

/// What to audit, as typed (paths may start with `~/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditForm {
    pub fields: [TextInput; 4],
    pub focus: usize,
    pub error: Option<String>,
}

impl AuditForm {
    pub fn new(ssh_dir: impl Into<String>) -> AuditForm {
        let mut form = AuditForm::default();
        form.fields[AUDIT_SSH_DIR] = TextInput::new(ssh_dir);
        form
    }

    /// A field's text, trimmed; None when empty.
    pub fn value(&self, field: usize) -> Option<&str> {
        self.fields
            .get(field)
            .map(|f| f.value.trim())
            .filter(|v| !v.is_empty())
    }

    /// The `skset audit` command that runs the same audit (for scripts and CI).
    pub fn command_line(&self) -> String {
        let mut words = vec!["skset audit".to_string()];
        let options = [
            (AUDIT_POLICY, "--policy"),
            (AUDIT_SSH_DIR, "--ssh-dir"),
            (AUDIT_AUTHORIZED_KEYS, "--authorized-keys"),
            (AUDIT_SSH_CONFIG, "--ssh-config"),
        ];
        for (field, option) in options {
            if let Some(value) = self.value(field) {
                words.push(format!("{option} {}", shell_arg(value)));
            }
        }
        words.join(" ")
    }
}

/// A path as typed, quoted for a shell, `~/` left outside the quotes so the shell expands it.
fn shell_arg(value: &str) -> String {
    match value.strip_prefix("~/") {
        Some(rest) if !rest.is_empty() => format!("~/{}", crate::policy::plan::shell_word(rest)),
        _ if value == "~" => value.to_string(),
        _ => crate::policy::plan::shell_word(value),
    }
}

/// Where one mode is, on the Generate screen.
#[derive(Debug, Clone)]
pub enum ModeState {
    Waiting,
    /// The engine is working on it (before the touch, or no touch needed).
    Working,
    /// The device waits for the touch.
    Touch,
    Prepared {
        status: ModeStatus,
        fingerprint: String,
    },
    Writing,
    Written(Box<ModeOutcome>),
    Failed {
        message: String,
        kind: String,
        retry: bool,
    },
}

/// Everything the current flow has gathered.
#[derive(Debug)]
pub struct Session {
    pub flow: Flow,
    pub devices: Vec<DeviceChoice>,
    /// Why enumeration found nothing usable, when it failed.
    pub devices_error: Option<String>,
    pub device: Option<OpenedDevice>,
    /// Pre-flight without the PIN, against the built-in (or chosen) policy.
    pub device_checks: Option<Preflight>,
    pub pin: Option<Pin>,
    /// The PIN on its way to the device, kept until it is accepted.
    pub pin_in_flight: Option<Pin>,
    pub counts: Option<CredentialCounts>,
    pub policy: Option<LoadedPolicy>,
    pub out_dir: PathBuf,
    pub options: PreflightOptions,
    pub preflight: Option<Preflight>,
    pub progress: Vec<ModeState>,
    pub report: Option<RecoverReport>,
    /// authorized_keys lines per account, once every mode is written.
    pub accounts: Vec<crate::export::AccountLines>,
    /// Something on the key or on disk changed in this flow: leaving asks first.
    pub changed: bool,
    /// The flow reached its end (summary or report): leaving needs no question.
    pub finished: bool,
    /// Recover: replace files that hold a different key (backups kept).
    pub recover_force: bool,
    /// Audit: the form, the request last sent, and its answer.
    pub audit_form: AuditForm,
    pub audit_request: Option<AuditRequest>,
    pub audit_report: Option<AuditReport>,
    pub audit_error: Option<String>,
}

impl Session {
    pub fn new(flow: Flow, out_dir: PathBuf) -> Session {
        Session {
            flow,
            devices: Vec::new(),
            devices_error: None,
            device: None,
            device_checks: None,
            pin: None,
            pin_in_flight: None,
            counts: None,
            policy: None,
            out_dir,
            options: PreflightOptions::default(),
            preflight: None,
            progress: Vec::new(),
            report: None,
            accounts: Vec::new(),
            changed: false,
            finished: false,
            recover_force: false,
            audit_form: AuditForm::default(),
            audit_request: None,
            audit_report: None,
            audit_error: None,
        }
    }

    pub fn outcomes(&self) -> Vec<&ModeOutcome> {
        self.progress
            .iter()
            .filter_map(|s| match s {
                ModeState::Written(o) => Some(o.as_ref()),
                _ => None,
            })
            .collect()
    }
}

/// What the worker is busy with; keys wait (except Ctrl-C) and a spinner shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub what: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
}

/// A question that must be answered before anything happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub text: String,
    pub action: ConfirmAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmAction {
    /// Leave the flow for the home screen.
    LeaveFlow,
    Quit,
    /// Delete this mode's credential on the key and make a new one.
    ReplaceExisting(String),
    /// Replace existing key files (backups kept).
    ForceFiles,
}

#[derive(Debug)]
pub struct App {
    pub options: WizardOptions,
    pub theme: Theme,
    pub screen: Screen,
    pub session: Session,
    pub pending: Option<Pending>,
    /// The device is waiting for a touch (the operation, e.g. "make credential").
    pub touch: Option<String>,
    pub notice: Option<Notice>,
    pub confirm: Option<Confirm>,
    /// Ticks seen, for animation.
    pub tick: u64,
    pub quit: bool,
    /// Printed on the real stdout after the terminal is restored (authorized_keys lines,
    /// next steps, the equivalent command), so it stays in the scrollback.
    pub exit_text: Option<String>,
}

impl App {
    pub fn new(options: WizardOptions, theme: Theme) -> App {
        let out_dir = options.out_dir.clone().unwrap_or_default();
        App {
            options,
            theme,
            screen: Screen::Home { selected: 0 },
            session: Session::new(Flow::Enroll, out_dir),
            pending: None,
            touch: None,
            notice: None,
            confirm: None,
            tick: 0,
            quit: false,
            exit_text: None,
        }
    }

    /// The directory key files go to: `--out`, else the simulated key's own directory,
    /// else `~/.ssh`.
    pub fn default_out_dir(&self, simulated: bool) -> PathBuf {
        if let Some(dir) = &self.options.out_dir {
            return dir.clone();
        }
        if simulated {
            return self.options.simulated_out_dir.clone();
        }
        match &self.options.home {
            Some(home) => home.join(".ssh"),
            None => PathBuf::from(".ssh"),
        }
    }

    /// A path as the user thinks of it: `~/.ssh/id_root`.
    pub fn show_path(&self, path: &std::path::Path) -> String {
        if let Some(home) = &self.options.home {
            if let Ok(rest) = path.strip_prefix(home) {
                return format!("~/{}", rest.display());
            }
        }
        path.display().to_string()
    }
}
