//! The wizard's audit against real files: the form's request executed by the real effect
//! runner (the worker thread, as in the wizard), on a `~/.ssh` and a server file written
//! the way `skset enroll` writes them, then broken on purpose. The findings must be the
//! ones `skset audit` finds in the same files, and on screen.

mod audit_support;
mod tui_fixtures;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use skset::audit::{audit_collect, AuditInput, AuthorizedKeysInput};
use skset::tui::app::{App, Screen, WizardOptions};
use skset::tui::effects::{DeviceExecutor, Effect, Runner};
use skset::tui::message::{Done, Msg};
use skset::tui::update::update;
use std::os::unix::fs::PermissionsExt;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;
use tui_fixtures::{draw, press, type_text};

/// Hands the effects to the runner and feeds its one answer back to `update`.
fn run(app: &mut App, runner: &Runner, answers: &Receiver<Msg>, effects: Vec<Effect>) {
    assert_eq!(
        effects.iter().map(Effect::name).collect::<Vec<_>>(),
        ["Audit"]
    );
    for effect in effects {
        runner.send(effect);
    }
    let answer = answers
        .recv_timeout(Duration::from_secs(60))
        .expect("the worker answers");
    assert!(matches!(answer, Msg::Done(Done::Audited(_))), "{answer:?}");
    update(app, answer);
}

#[test]
fn the_worker_audits_real_files_and_the_screen_shows_what_skset_audit_finds() {
    let tree = audit_support::four_mode_tree();
    // root's key readable by everyone (AU006, error); agent forwarding for every host (AU050/AU051).
    let root_key = tree.key_path("root");
    std::fs::set_permissions(&root_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut config = std::fs::read_to_string(tree.config_path()).unwrap();
    config.push_str("\nHost *\n    ForwardAgent yes\n");
    tree.rewrite(&tree.config_path(), config.as_bytes());
    let server = tree.server_file("admin");

    let home = tree.ssh_dir.parent().unwrap().to_path_buf();
    let options = WizardOptions {
        home: Some(home),
        ..tui_fixtures::options()
    };
    let mut app = tui_fixtures::app_with(options);
    let (tx, answers) = mpsc::channel();
    let runner = Runner::spawn(tx.clone(), DeviceExecutor::new(tx)).unwrap();

    // Home → Audit: ~/.ssh is already there; add the admin account's server file.
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    type_text(&mut app, &format!("{}:admin", server.display()));
    let effects = press(&mut app, KeyCode::Enter);
    run(&mut app, &runner, &answers, effects);
    assert!(
        matches!(app.screen, Screen::AuditFindings { selected: 0, .. }),
        "{:?}",
        app.screen
    );

    // The same engine as the CLI: the same findings, most severe first.
    let input = AuditInput {
        ssh_dirs: vec![tree.ssh_dir.clone()],
        authorized_keys: vec![AuthorizedKeysInput::parse(&format!(
            "{}:admin",
            server.display()
        ))],
        ..AuditInput::default()
    };
    let (expected, summary) = audit_collect(&tree.policy, &input).unwrap();
    let report = app.session.audit_report.as_ref().unwrap();
    assert_eq!(report.summary.counts, summary.counts);
    assert_eq!(report.left_out, 0);
    let mut ids: Vec<_> = expected
        .iter()
        .map(|f| (std::cmp::Reverse(f.severity), f.rule))
        .collect();
    ids.sort();
    let shown: Vec<_> = report
        .findings
        .iter()
        .map(|f| (std::cmp::Reverse(f.severity), f.rule))
        .collect();
    let mut shown_sorted = shown.clone();
    shown_sorted.sort();
    assert_eq!(shown_sorted, ids);
    assert!(
        shown.windows(2).all(|w| w[0].0 <= w[1].0),
        "most severe first: {shown:?}"
    );
    for rule in ["AU006", "AU051", "AU023"] {
        assert!(
            report.findings.iter().any(|f| f.rule == rule),
            "{rule} expected in {shown:?}"
        );
    }

    let screen = draw(&app, 120, 40);
    assert!(screen.contains("✗ FAIL at error"), "{screen}");
    assert!(
        screen.contains("AU006 private-key-permissions") && screen.contains("~/.ssh/id_root"),
        "{screen}"
    );
    assert!(
        screen.contains("fix: chmod 600"),
        "the selected finding's fix: {screen}"
    );
    assert!(
        screen.contains("why: ssh refuses a private key file"),
        "the rule's rationale: {screen}"
    );
    let screen = draw(&app, 80, 24);
    assert!(screen.contains("✗ error   AU006"), "{screen}");

    // Unreadable input: the error state, and the way back to the form.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Up);
    update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    let missing = tree.tmp.path().join("no such dir");
    type_text(&mut app, &missing.display().to_string());
    let effects = press(&mut app, KeyCode::Enter);
    run(&mut app, &runner, &answers, effects);
    assert!(matches!(app.screen, Screen::AuditFailed));
    let screen = draw(&app, 80, 24)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        screen.contains("cannot read") && screen.contains("no such dir"),
        "{screen}"
    );
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.screen, Screen::AuditForm));

    // Fixed: clean but for the self-attestation notes.
    std::fs::set_permissions(&root_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    type_text(&mut app, "~/.ssh");
    press(&mut app, KeyCode::Down);
    update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    tree.rewrite(
        &tree.config_path(),
        config
            .replace("\nHost *\n    ForwardAgent yes\n", "")
            .as_bytes(),
    );
    let effects = press(&mut app, KeyCode::Enter);
    run(&mut app, &runner, &answers, effects);
    let report = app.session.audit_report.as_ref().unwrap();
    assert!(report.passes());
    assert!(
        report.findings.iter().all(|f| f.rule == "AU023"),
        "{:?}",
        report.findings
    );
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("✓ pass at error: 0 errors · 0 warnings · 4 info"),
        "{screen}"
    );

    runner.shutdown(Duration::from_secs(3));
}
