//! Every wizard screen drawn into ratatui's TestBackend at 80x24 (the smallest terminal the
//! wizard promises to work in) and 120x40, compared with insta snapshots. Volatile values
//! (fingerprints, key material, temporary paths) are filtered, though the fixtures keep
//! them deterministic anyway. Review changes with `cargo insta review` or by reading the
//! `.snap.new` files next to the snapshots.

mod tui_fixtures;

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use skset::device::{DeviceError, DeviceEvent};
use skset::enroll::{EnrollError, EnrollEvent, ModeStatus};
use skset::tui::app::App;
use skset::tui::message::{Done, Msg, Problem};
use skset::tui::theme::Theme;
use skset::tui::update::update;
use tui_fixtures::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:[fingerprint]"),
        (r"AAAA[A-Za-z0-9+/=]{8,}", "[base64]"),
        (r"/tmp/[^ \x22│]+", "/tmp/[tmp]"),
    ]
}

fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        let screen = draw(app, w, h);
        insta::with_settings!({
            filters => filters(),
            snapshot_suffix => format!("{w}x{h}"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

fn at_devices() -> App {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    app
}

fn at_checks(pin_set: bool) -> App {
    let mut app = at_devices();
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Opened(Ok(opened(pin_set, Some(8)))));
    let mut checks = if pin_set {
        review_preflight()
    } else {
        device_checks()
    };
    checks.checks.retain(|c| c.id != "pin-length");
    done(&mut app, Done::Preflight(Ok(checks)));
    app
}

fn at_pin(pin_set: bool) -> App {
    let mut app = at_checks(pin_set);
    press(&mut app, KeyCode::Enter);
    app
}

fn at_generate() -> App {
    let mut app = app_at_review(review_preflight());
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::Prepared {
            index: 0,
            result: Ok(prepared(0)),
        },
    );
    app
}

fn at_passphrase() -> App {
    let mut app = at_generate();
    for index in 1..4 {
        done(
            &mut app,
            Done::Prepared {
                index,
                result: Ok(prepared(index)),
            },
        );
    }
    app
}

fn at_summary() -> App {
    let mut app = at_passphrase();
    type_text(&mut app, "correct horse battery staple");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "correct horse battery staple");
    press(&mut app, KeyCode::Enter);
    for index in 0..4 {
        done(
            &mut app,
            Done::Written {
                index,
                result: Ok(outcome(index, ModeStatus::Created)),
            },
        );
    }
    app
}

fn at_recover_ready() -> App {
    let mut app = app();
    press(&mut app, KeyCode::Char('2'));
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Opened(Ok(opened(true, Some(8)))));
    type_text(&mut app, "424242");
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::PinVerified(Ok(skset::device::CredentialCounts {
            existing: 3,
            remaining: 22,
        })),
    );
    press(&mut app, KeyCode::Enter);
    app
}

#[test]
fn home() {
    snap("home", &app());
}

#[test]
fn devices() {
    snap("devices_looking", &at_devices());
    let mut app = at_devices();
    done(&mut app, Done::Devices(Ok(choices())));
    snap("devices_several", &app);
    let mut app = at_devices();
    done(
        &mut app,
        Done::Devices(Err(DeviceError::HidUnavailable {
            reason: "hidapi: no udev".into(),
        })),
    );
    snap("devices_none_offers_simulated", &app);
    done(&mut app, Done::Opened(Err(Problem::new("cannot start the simulated key: /dev/fuse not available: load the module (modprobe fuse)"))));
    snap("devices_simulated_failed", &app);
}

#[test]
fn checks() {
    snap("checks_fresh_key", &at_checks(false));
}

#[test]
fn pin() {
    let mut app = at_pin(false);
    type_text(&mut app, "424242");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "42");
    snap("pin_set_repeat", &app);
    press(&mut app, KeyCode::Enter);
    snap("pin_set_mismatch", &app);

    let mut app = at_pin(true);
    type_text(&mut app, "4242");
    snap("pin_verify", &app);
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::PinVerified(Err(DeviceError::PinInvalid {
            retries_left: Some(2),
        })),
    );
    snap("pin_wrong_two_tries_left", &app);
    done(
        &mut app,
        Done::PinVerified(Err(DeviceError::PinInvalid {
            retries_left: Some(1),
        })),
    );
    type_text(&mut app, "1111");
    press(&mut app, KeyCode::Enter);
    snap("pin_last_try_armed", &app);
    press(&mut app, KeyCode::Enter);
    snap("pin_checking", &app);
    done(&mut app, Done::PinVerified(Err(DeviceError::PinBlocked)));
    snap("pin_blocked", &app);
}

#[test]
fn policy() {
    let mut app = at_pin(true);
    type_text(&mut app, "424242");
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::PinVerified(Ok(skset::device::CredentialCounts {
            existing: 0,
            remaining: 25,
        })),
    );
    snap("policy_choose", &app);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "/etc/skset/team.yaml");
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::PolicyLoaded(Err(Problem::new(
            "/etc/skset/team.yaml:12:5: modes.root.touch: expected true or false, found \"maybe\"",
        ))),
    );
    snap("policy_file_error", &app);
}

#[test]
fn review() {
    snap("review_plan", &app_at_review(review_preflight()));
    let mut app = app_at_review(collision_preflight());
    press(&mut app, KeyCode::Enter);
    snap("review_collision", &app);
    press(&mut app, KeyCode::PageDown);
    snap("review_collision_scrolled", &app);
    press(&mut app, KeyCode::Char('x'));
    snap("review_confirm_replace", &app);
    let mut app = app_at_review(review_preflight());
    press(&mut app, KeyCode::Char('o'));
    snap("review_edit_out_dir", &app);
}

#[test]
fn generate() {
    let mut app = at_generate();
    update(
        &mut app,
        Msg::Enroll(EnrollEvent::ModeStarted {
            mode: "sudo".into(),
        }),
    );
    update(
        &mut app,
        Msg::Enroll(EnrollEvent::TouchNeeded {
            mode: "sudo".into(),
        }),
    );
    update(
        &mut app,
        Msg::Device(DeviceEvent::TouchNeeded {
            operation: "make credential",
        }),
    );
    snap("generate_touch_now", &app);
    update(&mut app, Msg::Device(DeviceEvent::TouchDone));
    done(
        &mut app,
        Done::Prepared {
            index: 1,
            result: Err(EnrollError::Device {
                mode: "sudo".into(),
                source: DeviceError::TouchDenied,
            }),
        },
    );
    snap("generate_touch_refused", &app);

    let mut app = app_at_review(review_preflight());
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::Prepared {
            index: 0,
            result: Err(EnrollError::Device {
                mode: "root".into(),
                source: DeviceError::Transport {
                    detail: "read error".into(),
                },
            }),
        },
    );
    snap("generate_device_gone", &app);
}

#[test]
fn passphrase() {
    let mut app = at_passphrase();
    type_text(&mut app, "correct horse");
    snap("passphrase_typing", &app);
    press(&mut app, KeyCode::Esc);
    snap("passphrase_leave_confirm", &app);
}

#[test]
fn summary() {
    let mut app = at_summary();
    snap("summary", &app);
    press(&mut app, KeyCode::PageDown);
    snap("summary_scrolled", &app);
}

#[test]
fn recover() {
    let mut app = at_recover_ready();
    snap("recover_ready", &app);
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Recovered(Ok(recover_report())));
    snap("recover_report", &app);
}

#[test]
fn explain() {
    let mut app = app();
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Enter);
    snap("explain_root", &app);
    press(&mut app, KeyCode::Right);
    press(&mut app, KeyCode::Right);
    snap("explain_wheel", &app);
}

fn at_audit_form() -> App {
    let mut app = app();
    press(&mut app, KeyCode::Char('3'));
    app
}

fn at_audit_findings() -> App {
    let mut app = at_audit_form();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Audited(Ok(audit_report())));
    app
}

fn at_audit_clean() -> App {
    let mut app = at_audit_form();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Audited(Ok(clean_audit_report())));
    app
}

fn at_audit_failed() -> App {
    let mut app = at_audit_form();
    press(&mut app, KeyCode::Enter);
    let message = "cannot read /root/.ssh: Permission denied (os error 13); check the path, and run the audit as a user who may read it";
    done(&mut app, Done::Audited(Err(Problem::new(message))));
    app
}

#[test]
fn audit() {
    let mut app = at_audit_form();
    snap("audit_form", &app);
    for _ in 0..2 {
        press(&mut app, KeyCode::Down);
    }
    type_text(&mut app, "/srv/dumps/web1-admin.keys:admin");
    snap("audit_form_authorized_keys", &app);
    press(&mut app, KeyCode::Up);
    update(
        &mut app,
        Msg::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        )),
    );
    press(&mut app, KeyCode::Down);
    update(
        &mut app,
        Msg::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        )),
    );
    press(&mut app, KeyCode::Enter);
    snap("audit_form_nothing_to_audit", &app);

    let mut app = at_audit_form();
    press(&mut app, KeyCode::Enter);
    snap("audit_running", &app);

    let mut app = at_audit_findings();
    snap("audit_findings", &app);
    // The server line: mode, account, line and column in the details.
    for _ in 0..4 {
        press(&mut app, KeyCode::Down);
    }
    snap("audit_findings_server_line", &app);
    // Many findings: the table scrolls to keep the selected one in view.
    let mut app = at_audit_form();
    press(&mut app, KeyCode::Enter);
    let mut report = audit_report();
    let template = report.findings[4].clone();
    for line in 13..53 {
        let mut f = template.clone();
        f.location.line = Some(line);
        report.findings.insert(4 + (line - 13) as usize, f);
        report.summary.counts.warning += 1;
    }
    done(&mut app, Done::Audited(Ok(report)));
    for _ in 0..30 {
        press(&mut app, KeyCode::Down);
    }
    snap("audit_findings_scrolled", &app);
    snap("audit_clean", &at_audit_clean());
    snap("audit_failed", &at_audit_failed());
}

#[test]
fn too_small_terminal_says_so() {
    let screen = draw(&app(), 50, 12);
    insta::assert_snapshot!("too_small_50x12", screen);
}

/// Every screen at many sizes, including absurd ones: nothing panics, nothing draws
/// outside the frame (TestBackend would panic), as when the user drags the window.
#[test]
fn every_screen_survives_any_size() {
    let states = vec![
        app(),
        at_devices(),
        at_checks(false),
        at_pin(false),
        at_pin(true),
        app_at_review(collision_preflight()),
        at_generate(),
        at_passphrase(),
        at_summary(),
        at_recover_ready(),
        at_audit_form(),
        at_audit_findings(),
        at_audit_clean(),
        at_audit_failed(),
    ];
    for state in &states {
        for w in [1, 10, 40, 59, 60, 61, 80, 100, 200] {
            for h in [1, 5, 15, 16, 17, 24, 60] {
                let _ = draw(state, w, h);
            }
        }
    }
}

/// NO_COLOR: no cell gets a colour, yet the marks (✓ ! ✗) and words still carry meaning.
#[test]
fn no_color_means_no_colour() {
    let colours = |app: &App| {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal
            .draw(|frame| skset::tui::view::view(app, frame))
            .unwrap();
        terminal
            .backend()
            .buffer()
            .content
            .iter()
            .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
            .count()
    };
    let mut app = app_at_review(collision_preflight());
    press(&mut app, KeyCode::Enter);
    assert_eq!(colours(&app), 0);
    app.theme = Theme { color: true };
    assert!(colours(&app) > 0);

    // The audit's severities: red, yellow, grey with colour; marks and words without.
    let mut app = at_audit_findings();
    assert_eq!(colours(&app), 0);
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("✗ error") && screen.contains("! warning") && screen.contains("i info"),
        "{screen}"
    );
    app.theme = Theme { color: true };
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| skset::tui::view::view(&app, frame))
        .unwrap();
    let fg: std::collections::HashSet<Color> = terminal
        .backend()
        .buffer()
        .content
        .iter()
        .map(|c| c.fg)
        .collect();
    assert!(
        fg.contains(&Color::Red) && fg.contains(&Color::Yellow),
        "{fg:?}"
    );
}
