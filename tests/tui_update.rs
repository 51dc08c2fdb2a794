//! The wizard's update function, flow by flow, with every failure the device can answer.
//! No device and no terminal: the tests feed the worker's answers as messages.

mod tui_fixtures;

use crossterm::event::KeyCode;
use skset::device::{CredentialCounts, DeviceError, DeviceEvent};
use skset::enroll::{EnrollError, EnrollEvent, ModeStatus};
use skset::tui::app::{ConfirmAction, Flow, Level, ModeState, PinKind, Screen};
use skset::tui::effects::{Effect, Target};
use skset::tui::message::{Done, Msg, Problem};
use skset::tui::update::update;
use std::path::PathBuf;
use tui_fixtures::*;

fn counts() -> CredentialCounts {
    CredentialCounts {
        existing: 0,
        remaining: 25,
    }
}

fn notice(app: &skset::tui::app::App) -> String {
    app.notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default()
}

#[test]
fn enroll_from_a_fresh_key_to_the_summary() {
    let mut app = app();
    // Home: Enroll looks for devices; the worker is busy, keys wait.
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["ListDevices"]);
    assert!(matches!(app.screen, Screen::Devices { loading: true, .. }));
    assert!(app.pending.is_some());
    assert!(
        press(&mut app, KeyCode::Down).is_empty(),
        "keys are ignored while the worker works"
    );
    done(&mut app, Done::Devices(Ok(choices())));
    assert!(app.pending.is_none());

    // Two keys plugged in: take the first.
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(effects.as_slice(), [Effect::Open(Target::Path(p))] if p == "/dev/hidraw3"));
    let effects = done(&mut app, Done::Opened(Ok(opened(false, None))));
    match effects.as_slice() {
        [Effect::Preflight {
            pin: None, out_dir, ..
        }] => assert_eq!(out_dir, &PathBuf::from(OUT)),
        other => panic!("expected the device pre-flight, got {other:?}"),
    }
    done(&mut app, Done::Preflight(Ok(device_checks())));
    assert!(matches!(app.screen, Screen::Checks { .. }));

    // No PIN yet: set one, typed twice, at least the policy's 6.
    press(&mut app, KeyCode::Enter);
    let Screen::Pin(pin) = &app.screen else {
        panic!("PIN screen expected")
    };
    assert_eq!((pin.kind, pin.min_length), (PinKind::Set, 6));
    type_text(&mut app, "4242");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert!(
        pin.error.as_deref().unwrap().contains("at least 6"),
        "{:?}",
        pin.error
    );
    type_text(&mut app, "42");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "424242");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(names(&effects), ["SetPin"]);
    assert!(
        !format!("{effects:?}").contains("424242"),
        "the PIN must not show in Debug"
    );
    done(&mut app, Done::PinSet(Ok(())));
    assert!(app.session.pin.is_some());
    assert!(matches!(app.screen, Screen::Policy(_)));

    // Built-in policy: pre-flight with the PIN, then the review.
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Preflight { pin: Some(_), .. }]
    ));
    done(&mut app, Done::Preflight(Ok(review_preflight())));
    assert!(matches!(app.screen, Screen::Review(_)));

    // Make the keys: one Prepare per mode, each answered, touch shown while it waits.
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Prepare { index: 0, .. }]
    ));
    update(
        &mut app,
        Msg::Enroll(EnrollEvent::TouchNeeded {
            mode: "root".into(),
        }),
    );
    update(
        &mut app,
        Msg::Device(DeviceEvent::TouchNeeded {
            operation: "make credential",
        }),
    );
    assert_eq!(app.touch.as_deref(), Some("make credential"));
    assert!(matches!(app.session.progress[0], ModeState::Touch));
    for index in 0..4 {
        update(&mut app, Msg::Device(DeviceEvent::TouchDone));
        let effects = done(
            &mut app,
            Done::Prepared {
                index,
                result: Ok(prepared(index)),
            },
        );
        if index < 3 {
            assert!(
                matches!(effects.as_slice(), [Effect::Prepare { index: i, .. }] if *i == index + 1),
                "{effects:?}"
            );
        } else {
            assert!(effects.is_empty());
        }
    }
    assert!(app.touch.is_none());
    assert!(app.session.changed);

    // wheel's passphrase: too short, then mismatched, then right.
    let Screen::Passphrase(pass) = &app.screen else {
        panic!("passphrase screen expected, got {:?}", app.screen)
    };
    assert_eq!(pass.modes, ["wheel"]);
    type_text(&mut app, "short");
    press(&mut app, KeyCode::Enter);
    let Screen::Passphrase(pass) = &app.screen else {
        panic!()
    };
    assert!(pass.error.as_deref().unwrap().contains("At least 10"));
    type_text(&mut app, " but long enough");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "something else");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let Screen::Passphrase(pass) = &app.screen else {
        panic!()
    };
    assert!(pass.error.as_deref().unwrap().contains("differ"));
    assert!(pass.first.is_empty() && pass.second.is_empty() && pass.focus == 0);
    type_text(&mut app, "correct horse battery staple");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "correct horse battery staple");
    let effects = press(&mut app, KeyCode::Enter);
    match effects.as_slice() {
        [Effect::Write { items, secrets, .. }] => {
            assert_eq!(items.len(), 4);
            assert!(secrets.passphrases.contains_key("wheel"));
        }
        other => panic!("expected Write, got {other:?}"),
    }
    assert!(
        !format!("{effects:?}").contains("horse"),
        "the passphrase must not show in Debug"
    );

    for index in 0..4 {
        done(
            &mut app,
            Done::Written {
                index,
                result: Ok(outcome(index, ModeStatus::Created)),
            },
        );
    }
    assert!(matches!(app.screen, Screen::Summary { .. }));
    assert!(app.session.finished);
    let text = app.exit_text.clone().expect("summary text for stdout");
    assert!(
        text.contains("verify-required sk-ssh-ed25519@openssh.com"),
        "{text}"
    );
    assert!(text.contains("# account root: ~root/.ssh/authorized_keys"));
    assert!(text.contains("ssh-add -t 10m ~/.ssh/id_wheel"), "{text}");
    assert!(text.contains("skset enroll --device /dev/hidraw3 --label laptop --out ~/.ssh --pin-file PIN_FILE --passphrase-file PASSPHRASE_FILE --yes\n"), "{text}");

    // Finished: leaving asks nothing.
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(names(&effects), ["Forget"]);
    assert!(matches!(app.screen, Screen::Home { .. }));
    assert!(app.confirm.is_none());
}

#[test]
fn wrong_pin_shows_tries_left_and_warns_before_the_last() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Opened(Ok(opened(true, Some(8)))));
    done(&mut app, Done::Preflight(Ok(review_preflight())));
    press(&mut app, KeyCode::Enter);
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert_eq!((pin.kind, pin.retries_left), (PinKind::Verify, Some(8)));

    type_text(&mut app, "000000");
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["VerifyPin"]);
    assert!(app.session.pin_in_flight.is_some());
    done(
        &mut app,
        Done::PinVerified(Err(DeviceError::PinInvalid {
            retries_left: Some(2),
        })),
    );
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert_eq!(pin.retries_left, Some(2));
    assert!(
        pin.error
            .as_deref()
            .unwrap()
            .contains("wrong PIN: 2 tries left"),
        "{:?}",
        pin.error
    );
    assert!(pin.first.is_empty(), "a wrong PIN is wiped");
    assert!(app.session.pin.is_none() && app.session.pin_in_flight.is_none());
    assert!(!pin.blocked);

    done(
        &mut app,
        Done::PinVerified(Err(DeviceError::PinInvalid {
            retries_left: Some(1),
        })),
    );
    // Last try: the first Enter only arms it; the second sends.
    type_text(&mut app, "111111");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert!(pin.last_try_armed);
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["VerifyPin"]);
    done(&mut app, Done::PinVerified(Ok(counts())));
    assert!(app.session.pin.is_some());
    assert!(matches!(app.screen, Screen::Policy(_)));
}

#[test]
fn blocked_pin_stops_typing_and_offers_the_way_back() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Opened(Ok(opened(true, Some(1)))));
    done(&mut app, Done::Preflight(Ok(review_preflight())));
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "999999");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::PinVerified(Err(DeviceError::PinBlocked)));
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert!(pin.blocked);
    assert!(pin.error.as_deref().unwrap().contains("ykman fido reset"));
    assert!(press(&mut app, KeyCode::Char('1')).is_empty());
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert!(pin.first.is_empty(), "nothing can be typed once blocked");
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.screen, Screen::Devices { .. }));
}

#[test]
fn setting_a_pin_handles_mismatch_and_the_keys_own_policy() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Opened(Ok(opened(false, None))));
    done(&mut app, Done::Preflight(Ok(device_checks())));
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "123456");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "654321");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert!(pin.error.as_deref().unwrap().contains("differ"));
    assert_eq!(pin.focus, 0);
    type_text(&mut app, "123456");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "123456");
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["SetPin"]);
    done(
        &mut app,
        Done::PinSet(Err(DeviceError::PinPolicy { min_length: 8 })),
    );
    let Screen::Pin(pin) = &app.screen else {
        panic!()
    };
    assert!(pin.error.as_deref().unwrap().contains("at least 8"));
    assert!(app.session.pin.is_none());
}

#[test]
fn refused_touch_can_be_retried() {
    let mut app = app_at_review(review_preflight());
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::Prepared {
            index: 0,
            result: Ok(prepared(0)),
        },
    );
    update(
        &mut app,
        Msg::Device(DeviceEvent::TouchNeeded {
            operation: "make credential",
        }),
    );
    let effects = done(
        &mut app,
        Done::Prepared {
            index: 1,
            result: Err(EnrollError::Device {
                mode: "sudo".into(),
                source: DeviceError::TouchDenied,
            }),
        },
    );
    assert!(effects.is_empty());
    assert!(
        app.touch.is_none(),
        "the touch prompt goes when the call returns"
    );
    assert!(
        matches!(&app.session.progress[1], ModeState::Failed { retry: true, kind, .. } if kind == "touch-denied")
    );
    let n = notice(&app);
    assert!(
        n.contains("the touch was refused") && n.contains("Press r to try sudo again"),
        "{n}"
    );
    let effects = press(&mut app, KeyCode::Char('r'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Prepare { index: 1, .. }]
    ));
    assert!(app.notice.is_none());
    let effects = done(
        &mut app,
        Done::Prepared {
            index: 1,
            result: Ok(prepared(1)),
        },
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::Prepare { index: 2, .. }]
    ));
}

#[test]
fn device_gone_is_reported_with_its_fix_and_retryable() {
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
    assert!(
        notice(&app).contains("still plugged in"),
        "{}",
        notice(&app)
    );
    assert!(matches!(
        &app.session.progress[0],
        ModeState::Failed { retry: true, .. }
    ));
    // Nothing was made: going back needs no question.
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.screen, Screen::Review(_)));

    // Opening fails (pulled out before it was chosen): the picker stays, with the message.
    let mut app = tui_fixtures::app();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::Opened(Err(Problem::from(DeviceError::Open {
            path: "/dev/hidraw3".into(),
            reason: "No such file or directory".into(),
        }))),
    );
    assert!(matches!(app.screen, Screen::Devices { .. }));
    assert_eq!(app.notice.as_ref().map(|n| n.level), Some(Level::Error));
    assert!(notice(&app).contains("cannot open the security key at /dev/hidraw3"));
    // ... and a pre-flight that loses the key.
    let mut app = tui_fixtures::app();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Opened(Ok(opened(true, Some(8)))));
    done(
        &mut app,
        Done::Preflight(Err(DeviceError::Timeout {
            operation: "getInfo",
            after: std::time::Duration::from_secs(10),
        })),
    );
    assert!(notice(&app).contains("Unplug it and plug it in again"));
}

#[test]
fn collision_is_shown_and_needs_a_named_confirmation() {
    let mut app = app_at_review(collision_preflight());
    // Not ready: Enter refuses and says why.
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert!(notice(&app).contains("Pre-flight found problems"));
    assert!(matches!(app.screen, Screen::Review(_)));

    // x on root (selected): a question naming the mode; n leaves everything as it was.
    assert!(press(&mut app, KeyCode::Char('x')).is_empty());
    let confirm = app.confirm.clone().expect("a confirmation");
    assert_eq!(
        confirm.action,
        ConfirmAction::ReplaceExisting("root".into())
    );
    assert!(confirm.title.contains("root") && confirm.text.contains("DELETES"));
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    assert!(app.confirm.is_none() && app.session.options.replace_existing.is_empty());

    press(&mut app, KeyCode::Char('x'));
    let effects = press(&mut app, KeyCode::Char('y'));
    match effects.as_slice() {
        [Effect::Preflight { options, .. }] => {
            assert_eq!(options.replace_existing, ["root"]);
            assert!(
                !options.force,
                "root has no file here: nothing to overwrite"
            );
        }
        other => panic!("{other:?}"),
    }
    done(&mut app, Done::Preflight(Ok(collision_preflight())));

    // x on a mode with nothing on the key says so.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert!(press(&mut app, KeyCode::Char('x')).is_empty());
    assert!(notice(&app).contains("nothing for wheel"));

    // f: replace files, confirmed.
    press(&mut app, KeyCode::Char('f'));
    assert_eq!(
        app.confirm.as_ref().map(|c| c.action.clone()),
        Some(ConfirmAction::ForceFiles)
    );
    let effects = press(&mut app, KeyCode::Char('y'));
    assert!(matches!(effects.as_slice(), [Effect::Preflight { options, .. }] if options.force));
}

#[test]
fn replacing_an_enrolled_mode_replaces_its_files_too() {
    let mut preflight = review_preflight();
    preflight.modes[0].action = skset::enroll::ModeAction::AlreadyEnrolled;
    preflight.modes[0].existing = Some(resident("ssh:root", "root"));
    let mut app = app_at_review(preflight);
    press(&mut app, KeyCode::Char('x'));
    let effects = press(&mut app, KeyCode::Char('y'));
    assert!(
        matches!(effects.as_slice(), [Effect::Preflight { options, .. }] if options.force && options.replace_existing == ["root"])
    );
}

#[test]
fn leaving_after_keys_were_made_asks_first() {
    let mut app = app_at_review(review_preflight());
    press(&mut app, KeyCode::Enter);
    for index in 0..4 {
        done(
            &mut app,
            Done::Prepared {
                index,
                result: Ok(prepared(index)),
            },
        );
    }
    assert!(matches!(app.screen, Screen::Passphrase(_)));
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(
        app.confirm.as_ref().map(|c| c.action.clone()),
        Some(ConfirmAction::LeaveFlow)
    );
    assert!(
        press(&mut app, KeyCode::Char('x')).is_empty(),
        "other keys keep the question"
    );
    assert!(app.confirm.is_some());
    press(&mut app, KeyCode::Esc);
    assert!(app.confirm.is_none() && matches!(app.screen, Screen::Passphrase(_)));

    // Ctrl-C asks too; a second Ctrl-C quits.
    ctrl_c(&mut app);
    assert_eq!(
        app.confirm.as_ref().map(|c| c.action.clone()),
        Some(ConfirmAction::Quit)
    );
    ctrl_c(&mut app);
    assert!(app.quit);

    let mut app = app_at_review(review_preflight());
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::Prepared {
            index: 0,
            result: Ok(prepared(0)),
        },
    );
    done(
        &mut app,
        Done::Prepared {
            index: 1,
            result: Err(EnrollError::Device {
                mode: "sudo".into(),
                source: DeviceError::TouchTimeout,
            }),
        },
    );
    press(&mut app, KeyCode::Esc);
    let effects = press(&mut app, KeyCode::Char('y'));
    assert_eq!(names(&effects), ["Forget"]);
    assert!(matches!(app.screen, Screen::Home { .. }));
}

#[test]
fn ctrl_c_quits_at_once_when_nothing_changed_even_while_waiting() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    assert!(app.pending.is_some());
    ctrl_c(&mut app);
    assert!(app.quit);
    let mut app = tui_fixtures::app();
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn no_device_offers_the_simulated_key() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::Devices(Err(DeviceError::HidUnavailable {
            reason: "no udev".into(),
        })),
    );
    assert!(app.session.devices.is_empty());
    assert!(app
        .session
        .devices_error
        .as_deref()
        .unwrap()
        .contains("no udev"));
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Open(Target::Simulated)]
    ));
    let mut simulated = opened(false, None);
    simulated.simulated = true;
    done(&mut app, Done::Opened(Ok(simulated)));
    assert_eq!(
        app.session.out_dir,
        PathBuf::from("/tmp/skset-simulated-1234"),
        "a simulated key never writes into ~/.ssh by default"
    );
}

#[test]
fn command_line_choices_skip_the_picker() {
    let mut options = options();
    options.simulate = true;
    let mut app = app_with(options);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Open(Target::Simulated)]
    ));

    let mut options = tui_fixtures::options();
    options.device = Some("/tmp/vk/hidraw0".into());
    options.out_dir = Some(PathBuf::from("/tmp/out"));
    let mut app = app_with(options);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::Open(Target::Path(p))] if p == "/tmp/vk/hidraw0")
    );
    done(&mut app, Done::Opened(Ok(opened(false, None))));
    assert_eq!(app.session.out_dir, PathBuf::from("/tmp/out"));
}

#[test]
fn recover_flow_reports_the_wheel_explanation() {
    let mut app = app();
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.session.flow, Flow::Recover);
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    // A key without a PIN holds nothing skset made.
    done(&mut app, Done::Opened(Ok(opened(false, None))));
    assert!(notice(&app).contains("no PIN yet"));
    press(&mut app, KeyCode::Enter);
    assert!(
        done(&mut app, Done::Opened(Ok(opened(true, Some(8))))).is_empty(),
        "recover needs no device pre-flight"
    );
    assert!(matches!(app.screen, Screen::Pin(_)));
    type_text(&mut app, "424242");
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::PinVerified(Ok(counts())));
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "the built-in policy needs no worker"
    );
    assert!(matches!(app.screen, Screen::RecoverReady));
    press(&mut app, KeyCode::Char('f'));
    assert!(app.session.recover_force);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Recover { force: true, .. }]
    ));
    done(&mut app, Done::Recovered(Ok(recover_report())));
    assert!(matches!(app.screen, Screen::RecoverReport { .. }));
    let text = app.exit_text.clone().unwrap();
    assert!(
        text.contains("wheel is non-resident") && text.contains("scp OLD-HOST"),
        "{text}"
    );
    assert!(text.contains("✓ root") && text.contains("! robo"));
}

#[test]
fn policy_view_explains_each_mode_and_loads_files_on_the_worker() {
    let mut app = app();
    press(&mut app, KeyCode::Char('4'));
    assert!(matches!(app.screen, Screen::Policy(_)));
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.screen, Screen::Explain { mode: 0, .. }));
    press(&mut app, KeyCode::Right);
    press(&mut app, KeyCode::Right);
    assert!(matches!(app.screen, Screen::Explain { mode: 2, .. }));
    press(&mut app, KeyCode::Left);
    press(&mut app, KeyCode::Left);
    press(&mut app, KeyCode::Left);
    assert!(matches!(app.screen, Screen::Explain { mode: 3, .. }));

    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "~/policies/mine.yaml");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::LoadPolicyFile { path, .. }] if path == &PathBuf::from("/home/user/policies/mine.yaml"))
    );
    done(
        &mut app,
        Done::PolicyLoaded(Err(Problem::new(
            "cannot read /home/user/policies/mine.yaml: No such file or directory",
        ))),
    );
    let Screen::Policy(policy) = &app.screen else {
        panic!()
    };
    assert!(policy.error.as_deref().unwrap().contains("No such file"));
}

#[test]
fn secrets_never_reach_debug_output() {
    let mut app = app();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Devices(Ok(choices())));
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Opened(Ok(opened(true, Some(8)))));
    done(&mut app, Done::Preflight(Ok(review_preflight())));
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "s3cr3t-pin");
    assert!(!format!("{app:?}").contains("s3cr3t"));
    let effects = press(&mut app, KeyCode::Enter);
    assert!(!format!("{effects:?}{app:?}").contains("s3cr3t"));
}

#[test]
fn a_crash_in_the_worker_becomes_an_error_on_screen() {
    let mut app = app_at_review(review_preflight());
    press(&mut app, KeyCode::Enter);
    done(
        &mut app,
        Done::Crashed("Prepare failed unexpectedly: boom".into()),
    );
    assert!(app.pending.is_none());
    assert!(notice(&app).contains("boom"));
    assert!(matches!(
        &app.session.progress[0],
        ModeState::Failed { retry: true, .. }
    ));
}

// ---------------------------------------------------------------- audit

fn at_audit_form() -> skset::tui::app::App {
    let mut app = app();
    assert!(
        press(&mut app, KeyCode::Char('3')).is_empty(),
        "the form asks the worker for nothing"
    );
    assert!(matches!(app.screen, Screen::AuditForm));
    assert_eq!(app.session.flow, Flow::Audit);
    app
}

fn ctrl(app: &mut skset::tui::app::App, c: char) -> Vec<Effect> {
    use crossterm::event::{KeyEvent, KeyModifiers};
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

#[test]
fn audit_form_runs_on_the_worker_and_shows_findings_most_severe_first() {
    let mut app = at_audit_form();
    let form = &app.session.audit_form;
    assert_eq!(
        (form.focus, form.fields[1].value.as_str()),
        (0, "~/.ssh"),
        "the ssh dir defaults to ~/.ssh"
    );
    assert_eq!(form.command_line(), "skset audit --ssh-dir ~/.ssh");

    // The policy field takes a path; 'q' is a letter here, not quit.
    type_text(&mut app, "~/team policy.yaml");
    assert!(!app.quit);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "/srv/dumps/web1.keys:admin");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "~/.ssh/config.d/work");
    assert_eq!(
        app.session.audit_form.command_line(),
        "skset audit --policy ~/'team policy.yaml' --ssh-dir ~/.ssh --authorized-keys /srv/dumps/web1.keys:admin --ssh-config ~/.ssh/config.d/work"
    );

    let effects = press(&mut app, KeyCode::Enter);
    match effects.as_slice() {
        [Effect::Audit(request)] => {
            assert_eq!(
                request.policy,
                Some(PathBuf::from("/home/user/team policy.yaml"))
            );
            assert_eq!(request.ssh_dir, Some(PathBuf::from("/home/user/.ssh")));
            assert_eq!(
                request.authorized_keys.as_deref(),
                Some("/srv/dumps/web1.keys:admin")
            );
            assert_eq!(
                request.ssh_config,
                Some(PathBuf::from("/home/user/.ssh/config.d/work"))
            );
        }
        other => panic!("expected one Audit effect, got {other:?}"),
    }
    // Running: the spinner says what, keys wait.
    assert!(
        app.pending
            .as_ref()
            .unwrap()
            .what
            .starts_with("Auditing ~/.ssh"),
        "{:?}",
        app.pending
    );
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert!(matches!(app.screen, Screen::AuditForm));

    done(&mut app, Done::Audited(Ok(audit_report())));
    assert!(app.pending.is_none());
    assert!(matches!(
        app.screen,
        Screen::AuditFindings {
            selected: 0,
            scroll: 0
        }
    ));
    let report = app.session.audit_report.as_ref().unwrap();
    assert!(!report.passes());
    let severities: Vec<_> = report.findings.iter().map(|f| f.severity).collect();
    assert!(
        severities.windows(2).all(|w| w[0] >= w[1]),
        "most severe first: {severities:?}"
    );
    assert_eq!(
        report.findings.first().map(|f| f.rule),
        Some("AU002"),
        "file order within a severity"
    );
    assert_eq!(report.findings.last().map(|f| f.rule), Some("AU023"));

    // Moving: ↑↓ within the table, PgDn scrolls the details, a new finding starts them at the top.
    press(&mut app, KeyCode::Up);
    assert!(matches!(
        app.screen,
        Screen::AuditFindings { selected: 0, .. }
    ));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::PageDown);
    assert!(matches!(
        app.screen,
        Screen::AuditFindings {
            selected: 1,
            scroll: 3
        }
    ));
    press(&mut app, KeyCode::Down);
    assert!(matches!(
        app.screen,
        Screen::AuditFindings {
            selected: 2,
            scroll: 0
        }
    ));
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Down);
    assert!(matches!(
        app.screen,
        Screen::AuditFindings { selected: 5, .. }
    ));

    // Esc: back to the form, as it was; r from there is Enter again.
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.screen, Screen::AuditForm));
    assert_eq!(
        app.session.audit_form.fields[2].value,
        "/srv/dumps/web1.keys:admin"
    );
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["Audit"]);
    done(&mut app, Done::Audited(Ok(audit_report())));
    // r runs the same audit again (after a chmod, say).
    assert_eq!(names(&press(&mut app, KeyCode::Char('r'))), ["Audit"]);
    done(&mut app, Done::Audited(Ok(clean_audit_report())));
    assert!(app.session.audit_report.as_ref().unwrap().passes());

    // Enter: home, on the Audit item.
    assert_eq!(names(&press(&mut app, KeyCode::Enter)), ["Forget"]);
    assert!(matches!(app.screen, Screen::Home { selected: 2 }));
}

#[test]
fn an_unreadable_input_is_an_error_state_with_the_way_back() {
    let mut app = at_audit_form();
    press(&mut app, KeyCode::Down);
    ctrl(&mut app, 'u');
    assert_eq!(
        app.session.audit_form.fields[1].value, "",
        "Ctrl-U clears the field"
    );
    type_text(&mut app, "/nonexistent/.ssh");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(names(&effects), ["Audit"]);
    let message = "cannot read /nonexistent/.ssh: No such file or directory (os error 2); check the path, and run the audit as a user who may read it";
    done(&mut app, Done::Audited(Err(Problem::new(message))));
    assert!(matches!(app.screen, Screen::AuditFailed));
    assert_eq!(app.session.audit_error.as_deref(), Some(message));
    assert!(app.session.audit_report.is_none());

    // r tries the same again; Esc goes back to the form with the path still there.
    let effects = press(&mut app, KeyCode::Char('r'));
    assert!(
        matches!(effects.as_slice(), [Effect::Audit(r)] if r.ssh_dir == Some(PathBuf::from("/nonexistent/.ssh")))
    );
    done(&mut app, Done::Audited(Err(Problem::new(message))));
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.screen, Screen::AuditForm));
    assert_eq!(app.session.audit_form.focus, 1);
    assert_eq!(app.session.audit_form.fields[1].value, "/nonexistent/.ssh");

    // Fixed: the audit runs and the error is gone.
    ctrl(&mut app, 'u');
    type_text(&mut app, "/home/user/.ssh");
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Audited(Ok(clean_audit_report())));
    assert!(matches!(app.screen, Screen::AuditFindings { .. }));
    assert!(app.session.audit_error.is_none());
}

#[test]
fn audit_form_refuses_nothing_to_audit_and_esc_goes_home() {
    let mut app = at_audit_form();
    press(&mut app, KeyCode::Down);
    ctrl(&mut app, 'u');
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert!(app
        .session
        .audit_form
        .error
        .as_deref()
        .unwrap()
        .contains("Nothing to audit"));
    assert!(app.pending.is_none());
    // Typing clears the complaint.
    type_text(&mut app, "x");
    assert!(app.session.audit_form.error.is_none());
    // Up from the first field wraps to the last.
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.session.audit_form.focus, 3);

    assert_eq!(names(&press(&mut app, KeyCode::Esc)), ["Forget"]);
    assert!(matches!(app.screen, Screen::Home { selected: 2 }));
    // Coming back starts a fresh form.
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.session.audit_form.fields[1].value, "~/.ssh");
    assert!(app.session.audit_form.fields[2].value.is_empty());

    // Ctrl-C quits from the form at once (nothing changed).
    ctrl(&mut app, 'c');
    assert!(app.quit);
}

#[test]
fn an_answer_after_leaving_the_audit_is_ignored() {
    let mut app = app();
    done(&mut app, Done::Audited(Ok(audit_report())));
    assert!(matches!(app.screen, Screen::Home { .. }));
    assert!(app.session.audit_report.is_none());
}

#[test]
fn a_fleet_size_audit_keeps_the_most_severe_findings_and_exact_counts() {
    use skset::audit::rules::{ATTESTATION_SELF, FILE_BASED_KEY, FILE_BASED_KEY_UNENCRYPTED};
    use skset::audit::{AuditFinding, Location, Severity};
    use skset::tui::message::AuditReport;
    let at = |rule, line| {
        AuditFinding::new(
            rule,
            Location::line(std::path::Path::new("/srv/keys"), line),
            "m",
            "f",
        )
    };
    let mut collector = AuditReport::collector(3);
    collector.push(at(&ATTESTATION_SELF, 1));
    collector.push(at(&FILE_BASED_KEY, 2));
    collector.push(at(&ATTESTATION_SELF, 3));
    collector.push(at(&FILE_BASED_KEY_UNENCRYPTED, 4)); // full: the last info makes room
    collector.push(at(&FILE_BASED_KEY_UNENCRYPTED, 5)); // and the other info
    collector.push(at(&FILE_BASED_KEY_UNENCRYPTED, 6)); // then the warning
    collector.push(at(&FILE_BASED_KEY_UNENCRYPTED, 7)); // nothing less severe left: left out
    collector.push(at(&ATTESTATION_SELF, 8));
    let report = collector.finish(Default::default());
    let kept: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.severity, f.location.line.unwrap()))
        .collect();
    assert_eq!(
        kept,
        [
            (Severity::Error, 4),
            (Severity::Error, 5),
            (Severity::Error, 6)
        ]
    );
    assert_eq!(report.left_out, 5);

    // The screen says so, and where to get them all.
    let mut app = at_audit_form();
    press(&mut app, KeyCode::Enter);
    done(&mut app, Done::Audited(Ok(report)));
    let screen = draw(&app, 80, 24)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        screen.contains("showing the 3 most severe; 5 less severe left out"),
        "{screen}"
    );
}
