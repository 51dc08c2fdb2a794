//! The texts of the summary and recovery report: shown on screen, and printed on the real
//! stdout when the wizard ends (so the authorized_keys lines and the equivalent command
//! stay in the scrollback). Computed in `update`, from state only.

use super::app::{App, ModeState};
use super::message::PolicySource;
use crate::enroll::ModeStatus;
use crate::export;
use crate::openssh::public_key::SkPublicKey;
use crate::policy::plan::shell_word;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Heading,
    Text,
    /// Copy-paste material: never wrapped by a prefix, shown plain.
    Code,
    Ok,
    Warn,
    Dim,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    pub text: String,
}

fn item(kind: Kind, text: impl Into<String>) -> Item {
    Item {
        kind,
        text: text.into(),
    }
}

pub fn status_word(status: ModeStatus) -> &'static str {
    match status {
        ModeStatus::Created => "created",
        ModeStatus::Adopted => "kept (on the key)",
        ModeStatus::Replaced => "replaced",
        ModeStatus::AlreadyEnrolled => "already enrolled",
    }
}

/// The authorized_keys lines of the written modes, grouped by account.
pub fn authorized_keys(app: &App) -> Result<Vec<export::AccountLines>, String> {
    let Some(policy) = &app.session.policy else {
        return Ok(vec![]);
    };
    let mut parsed = Vec::new();
    for outcome in app.session.outcomes() {
        let key = SkPublicKey::parse_line(&outcome.public_key_line)
            .map_err(|e| format!("{}: {e}", outcome.mode))?;
        if let Some(planned) = policy.plan.keys.iter().find(|k| k.mode == outcome.mode) {
            parsed.push((planned, key));
        }
    }
    let pairs: Vec<_> = parsed.iter().map(|(k, p)| (*k, p)).collect();
    export::authorized_keys(&pairs).map_err(|e| e.to_string())
}

/// A path for a shell command: `~/` stays outside the quotes so the shell expands it.
fn shell_path(app: &App, path: &std::path::Path) -> String {
    if let Some(home) = &app.options.home {
        if let Ok(rest) = path.strip_prefix(home) {
            return format!("~/{}", shell_word(&rest.display().to_string()));
        }
    }
    shell_word(&path.display().to_string())
}

fn policy_arg(app: &App) -> String {
    match app.session.policy.as_ref().map(|p| &p.source) {
        Some(PolicySource::File(path)) => format!(" --policy {}", shell_path(app, path)),
        _ => String::new(),
    }
}

/// The `skset enroll ...` that does the same without the wizard (age-plugin-yubikey style).
pub fn equivalent_command(app: &App) -> String {
    let mut cmd = String::from("skset enroll");
    match &app.session.device {
        Some(d) if d.simulated => cmd.push_str(" --simulate"),
        Some(d) => cmd.push_str(&format!(" --device {}", shell_word(&d.path))),
        None => {}
    }
    cmd.push_str(&policy_arg(app));
    if let Some(policy) = &app.session.policy {
        cmd.push_str(&format!(" --label {}", shell_word(&policy.plan.label)));
    }
    cmd.push_str(&format!(" --out {}", shell_path(app, &app.session.out_dir)));
    for mode in &app.session.options.replace_existing {
        cmd.push_str(&format!(" --replace-existing {}", shell_word(mode)));
    }
    if app.session.options.force {
        cmd.push_str(" --force");
    }
    cmd.push_str(" --pin-file PIN_FILE");
    let needs_passphrase = app.session.policy.as_ref().is_some_and(|p| {
        p.plan
            .keys
            .iter()
            .any(|k| k.passphrase == crate::policy::PassphraseRule::Required)
    });
    if needs_passphrase {
        cmd.push_str(" --passphrase-file PASSPHRASE_FILE");
    }
    cmd.push_str(" --yes");
    cmd
}

pub fn next_steps(app: &App) -> Vec<String> {
    let Some(policy) = &app.session.policy else {
        return vec![];
    };
    let dir = app.show_path(&app.session.out_dir);
    let policy_arg = policy_arg(app);
    let mut steps = vec![
        format!("Install the authorized_keys lines on your servers: skset authorized-keys{policy_arg} --pub-dir {dir}"),
        format!("Add the ssh_config snippet: skset export ssh-config{policy_arg} >> ~/.ssh/config"),
    ];
    for line in export::agent_commands(&policy.plan, &dir) {
        steps.push(format!("Load the agent key when you need it: {line}"));
    }
    if export::pam_snippet(&policy.plan).is_some() {
        steps.push(format!(
            "Ask for a TOTP code at sudo on the servers: skset export pam{policy_arg}"
        ));
    }
    steps
}

pub fn enroll_items(app: &App) -> Vec<Item> {
    let mut items = Vec::new();
    let device = app
        .session
        .device
        .as_ref()
        .map(|d| d.name())
        .unwrap_or_default();
    let policy = app
        .session
        .policy
        .as_ref()
        .map(|p| p.plan.policy.clone())
        .unwrap_or_default();
    let outcomes = app.session.outcomes();
    items.push(item(
        Kind::Heading,
        format!(
            "{} key(s) enrolled on the {device} with policy {policy}.",
            outcomes.len()
        ),
    ));
    for outcome in &outcomes {
        items.push(item(
            Kind::Ok,
            format!(
                "✓ {:<6} {} · {}",
                outcome.mode,
                status_word(outcome.status),
                outcome.fingerprint
            ),
        ));
        let names: Vec<String> = outcome
            .files
            .iter()
            .map(|f| {
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        if !names.is_empty() {
            items.push(item(
                Kind::Dim,
                format!(
                    "         {}/{}",
                    app.show_path(&app.session.out_dir),
                    names.join("  ")
                ),
            ));
        }
    }
    if app.session.device.as_ref().is_some_and(|d| d.simulated) {
        items.push(item(Kind::Warn, "! These keys live on the SIMULATED key, which vanishes when skset exits: they are for trying skset out and log in nowhere."));
    }
    items.push(item(Kind::Text, String::new()));
    items.push(item(
        Kind::Heading,
        "authorized_keys lines (printed again when you leave):",
    ));
    for account in &app.session.accounts {
        items.push(item(
            Kind::Dim,
            format!(
                "# account {}: ~{}/.ssh/authorized_keys",
                account.account, account.account
            ),
        ));
        for line in &account.lines {
            items.push(item(Kind::Code, line.line.clone()));
        }
    }
    items.push(item(Kind::Text, String::new()));
    items.push(item(Kind::Heading, "Next steps:"));
    for (i, step) in next_steps(app).iter().enumerate() {
        items.push(item(Kind::Text, format!("{}. {step}", i + 1)));
    }
    items.push(item(Kind::Text, String::new()));
    items.push(item(Kind::Heading, "The same without the wizard:"));
    items.push(item(Kind::Code, equivalent_command(app)));
    items
}

pub fn recover_items(app: &App) -> Vec<Item> {
    let mut items = Vec::new();
    let Some(report) = &app.session.report else {
        return items;
    };
    let dir = app.show_path(&app.session.out_dir);
    items.push(item(
        Kind::Heading,
        format!("{} key(s) recovered into {dir}.", report.recovered.len()),
    ));
    for r in &report.recovered {
        items.push(item(
            Kind::Ok,
            format!(
                "✓ {:<6} {} · {}",
                r.mode,
                status_word(r.status),
                r.fingerprint
            ),
        ));
        let names: Vec<String> = r
            .files
            .iter()
            .map(|f| {
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        if !names.is_empty() {
            items.push(item(
                Kind::Dim,
                format!("         {dir}/{}", names.join("  ")),
            ));
        }
    }
    for s in &report.skipped {
        items.push(item(Kind::Warn, format!("! {:<6} {}", s.mode, s.reason)));
        if let Some(fix) = &s.fix {
            items.push(item(Kind::Dim, format!("         fix: {fix}")));
        }
    }
    for s in &report.non_resident {
        items.push(item(
            Kind::Warn,
            format!("· {:<6} not on the security key", s.mode),
        ));
        items.push(item(Kind::Text, format!("         {}", s.reason)));
        if let Some(fix) = &s.fix {
            items.push(item(Kind::Dim, format!("         fix: {fix}")));
        }
    }
    for c in &report.unmatched {
        items.push(item(
            Kind::Dim,
            format!(
                "· {} (user {}): on the key, but no mode of this policy names it",
                c.application,
                c.user_id_display()
            ),
        ));
    }
    items
}

fn plain(items: &[Item]) -> String {
    let mut out = String::new();
    for i in items {
        out.push_str(&i.text);
        out.push('\n');
    }
    out
}

pub fn enroll_text(app: &App) -> String {
    plain(&enroll_items(app))
}

pub fn recover_text(app: &App) -> String {
    plain(&recover_items(app))
}

/// One line per mode for the Generate screen.
pub fn progress_word(state: &ModeState) -> &'static str {
    match state {
        ModeState::Waiting => "waiting",
        ModeState::Working => "working…",
        ModeState::Touch => "TOUCH YOUR KEY NOW",
        ModeState::Prepared { .. } => "made",
        ModeState::Writing => "writing files…",
        ModeState::Written(_) => "done",
        ModeState::Failed { .. } => "failed",
    }
}
