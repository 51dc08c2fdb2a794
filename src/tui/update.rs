//! `update(app, msg) -> effects`: the only place state changes. It never blocks and never
//! touches a device or a file; work is asked for by returning [`Effect`]s, whose answers
//! come back later as [`Msg::Done`].

use super::app::*;
use super::effects::{load_policy, Effect, Target};
use super::message::{AuditRequest, Done, LoadedPolicy, Msg, PolicySource};
use super::summary;
use super::widgets::{SecretInput, TextInput};
use crate::device::{DeviceError, DeviceEvent, Pin, PinStatus};
use crate::enroll::{CheckStatus, EnrollError, EnrollEvent, ModeStatus, Secrets};
use crate::openssh::private_key::Passphrase;
use crate::policy::PassphraseRule;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::path::PathBuf;

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick => {
            app.tick = app.tick.wrapping_add(1);
            vec![]
        }
        Msg::Resize(..) => vec![],
        Msg::Device(DeviceEvent::TouchNeeded { operation }) => {
            app.touch = Some(operation.to_string());
            vec![]
        }
        Msg::Device(DeviceEvent::TouchDone) => {
            app.touch = None;
            vec![]
        }
        Msg::Enroll(event) => {
            on_enroll_event(app, event);
            vec![]
        }
        Msg::Done(done) => {
            app.pending = None;
            on_done(app, done)
        }
        Msg::Key(key) => on_key(app, key),
        Msg::Terminate => {
            // Files are written whole or not at all, so stopping here loses nothing.
            app.quit = true;
            vec![]
        }
    }
}

// ---------------------------------------------------------------- worker answers

fn on_done(app: &mut App, done: Done) -> Vec<Effect> {
    match done {
        Done::Devices(result) => {
            match result {
                Ok(devices) => {
                    app.session.devices = devices;
                    app.session.devices_error = None;
                }
                Err(e) => {
                    app.session.devices = Vec::new();
                    app.session.devices_error = Some(e.to_string());
                }
            }
            if let Screen::Devices { selected, loading } = &mut app.screen {
                *loading = false;
                *selected = 0;
            }
            vec![]
        }
        Done::Opened(Ok(device)) => {
            app.session.out_dir = app.default_out_dir(device.simulated);
            let pin_set = device.pin.as_ref().is_some_and(|p| p.is_set);
            let has_pin_support = device.pin.is_some();
            app.session.device = Some(device);
            match app.session.flow {
                Flow::Recover => {
                    if !has_pin_support || !pin_set {
                        return error(app, "This key has no PIN yet, so it holds no keys skset made (resident keys need a PIN). Choose another key, or enroll this one first.");
                    }
                    let retries = app
                        .session
                        .device
                        .as_ref()
                        .and_then(|d| d.pin.as_ref())
                        .and_then(|p| p.retries_left);
                    app.screen = Screen::Pin(PinScreen::new(PinKind::Verify, retries, 4));
                    vec![]
                }
                _ => {
                    if app.session.policy.is_none() {
                        match load_policy(PolicySource::BuiltIn, &app.options.host_name) {
                            Ok(p) => app.session.policy = Some(p),
                            Err(p) => return error(app, &p.message),
                        }
                    }
                    preflight(app, "Checking what the key can do")
                }
            }
        }
        Done::Opened(Err(problem)) => error(app, &problem.message),
        Done::PinSet(result) => {
            let in_flight = app.session.pin_in_flight.take();
            match result {
                Ok(()) => {
                    app.session.pin = in_flight;
                    if let Some(device) = &mut app.session.device {
                        device.pin = Some(PinStatus {
                            is_set: true,
                            retries_left: None,
                        });
                        device.info.options.client_pin = Some(true);
                    }
                    app.notice = Some(Notice {
                        level: Level::Info,
                        text: "PIN set. Remember it: after 8 wrong tries the key locks for good."
                            .into(),
                    });
                    after_pin(app);
                }
                Err(e) => {
                    if let Screen::Pin(pin) = &mut app.screen {
                        pin.first.clear();
                        pin.second.clear();
                        pin.focus = 0;
                        pin.error = Some(e.to_string());
                    } else {
                        return error(app, &e.to_string());
                    }
                }
            }
            vec![]
        }
        Done::PinVerified(result) => {
            let in_flight = app.session.pin_in_flight.take();
            match result {
                Ok(counts) => {
                    app.session.pin = in_flight;
                    app.session.counts = Some(counts);
                    after_pin(app);
                }
                Err(e) => {
                    let Screen::Pin(pin) = &mut app.screen else {
                        return error(app, &e.to_string());
                    };
                    pin.first.clear();
                    pin.last_try_armed = false;
                    match &e {
                        DeviceError::PinInvalid { retries_left } => {
                            pin.retries_left = *retries_left;
                            pin.blocked = *retries_left == Some(0);
                        }
                        DeviceError::PinBlocked | DeviceError::PinAuthBlocked => pin.blocked = true,
                        _ => {}
                    }
                    pin.error = Some(e.to_string());
                }
            }
            vec![]
        }
        Done::PolicyLoaded(Ok(policy)) => on_policy_loaded(app, policy),
        Done::PolicyLoaded(Err(problem)) => {
            if let Screen::Policy(screen) = &mut app.screen {
                screen.error = Some(problem.message);
                vec![]
            } else {
                error(app, &problem.message)
            }
        }
        Done::Preflight(Ok(preflight)) => {
            match &mut app.screen {
                Screen::Devices { .. } => {
                    app.session.device_checks = Some(preflight);
                    app.screen = Screen::Checks { scroll: 0 };
                }
                Screen::Review(_) | Screen::Policy(_) => {
                    app.session.preflight = Some(preflight);
                    if !matches!(app.screen, Screen::Review(_)) {
                        app.screen = Screen::Review(ReviewScreen {
                            selected: 0,
                            scroll: 0,
                            out_dir: None,
                        });
                    }
                }
                _ => {}
            }
            vec![]
        }
        Done::Preflight(Err(e)) => error(app, &e.to_string()),
        Done::Prepared { index, result } => {
            app.touch = None;
            match result {
                Ok(prepared) => {
                    if matches!(prepared.status, ModeStatus::Created | ModeStatus::Replaced) {
                        app.session.changed = true;
                    }
                    set_progress(
                        app,
                        index,
                        ModeState::Prepared {
                            status: prepared.status,
                            fingerprint: prepared.fingerprint,
                        },
                    );
                    prepare_next(app, index + 1)
                }
                Err(e) => {
                    if matches!(e.device_error(), Some(DeviceError::CredentialExcluded)) {
                        app.session.changed = true;
                    }
                    let retry = retryable(&e);
                    let mode = mode_name(app, index);
                    let hint = if retry {
                        format!(" Press r to try {mode} again, or Esc to go back.")
                    } else {
                        " Press Esc to go back.".into()
                    };
                    app.notice = Some(Notice {
                        level: Level::Error,
                        text: format!("{e}.{hint}").replace("..", "."),
                    });
                    set_progress(
                        app,
                        index,
                        ModeState::Failed {
                            message: e.to_string(),
                            kind: failure_kind(&e),
                            retry,
                        },
                    );
                    vec![]
                }
            }
        }
        Done::Written { index, result } => {
            match result {
                Ok(outcome) => {
                    app.session.changed = true;
                    set_progress(app, index, ModeState::Written(Box::new(outcome)));
                }
                Err(e) => {
                    app.notice = Some(Notice {
                        level: Level::Error,
                        text: e.to_string(),
                    });
                    set_progress(
                        app,
                        index,
                        ModeState::Failed {
                            message: e.to_string(),
                            kind: failure_kind(&e),
                            retry: false,
                        },
                    );
                }
            }
            let writing = app
                .session
                .progress
                .iter()
                .any(|s| matches!(s, ModeState::Writing));
            let all_written = app
                .session
                .progress
                .iter()
                .all(|s| matches!(s, ModeState::Written(_)));
            if !writing && all_written {
                finish_enroll(app);
            } else if writing {
                app.pending = Some(Pending {
                    what: "Writing the key files".into(),
                });
            }
            vec![]
        }
        Done::Recovered(Ok(report)) => {
            app.session.changed = !report.recovered.is_empty();
            app.session.finished = true;
            app.session.report = Some(report);
            app.exit_text = Some(summary::recover_text(app));
            app.screen = Screen::RecoverReport { scroll: 0 };
            vec![]
        }
        Done::Recovered(Err(e)) => error(app, &e.to_string()),
        Done::Audited(result) => {
            if app.session.flow != Flow::Audit {
                return vec![];
            }
            match result {
                Ok(report) => {
                    app.session.audit_error = None;
                    app.session.audit_report = Some(report);
                    app.screen = Screen::AuditFindings {
                        selected: 0,
                        scroll: 0,
                    };
                }
                Err(problem) => {
                    app.session.audit_report = None;
                    app.session.audit_error = Some(problem.message);
                    app.screen = Screen::AuditFailed;
                }
            }
            vec![]
        }
        Done::Crashed(text) => {
            app.touch = None;
            for state in &mut app.session.progress {
                if matches!(
                    state,
                    ModeState::Working | ModeState::Touch | ModeState::Writing
                ) {
                    *state = ModeState::Failed {
                        message: text.clone(),
                        kind: "crash".into(),
                        retry: true,
                    };
                }
            }
            error(app, &text)
        }
    }
}

fn on_enroll_event(app: &mut App, event: EnrollEvent) {
    let (mode, state) = match event {
        EnrollEvent::ModeStarted { mode } => (mode, ModeState::Working),
        EnrollEvent::TouchNeeded { mode } => (mode, ModeState::Touch),
        _ => return,
    };
    if let Some(index) = plan_index(app, &mode) {
        set_progress(app, index, state);
    }
}

fn error(app: &mut App, text: &str) -> Vec<Effect> {
    app.notice = Some(Notice {
        level: Level::Error,
        text: text.to_string(),
    });
    vec![]
}

fn set_progress(app: &mut App, index: usize, state: ModeState) {
    if let Some(slot) = app.session.progress.get_mut(index) {
        *slot = state;
    }
}

fn plan_index(app: &App, mode: &str) -> Option<usize> {
    app.session
        .policy
        .as_ref()?
        .plan
        .keys
        .iter()
        .position(|k| k.mode == mode)
}

fn mode_name(app: &App, index: usize) -> String {
    app.session
        .policy
        .as_ref()
        .and_then(|p| p.plan.keys.get(index))
        .map(|k| k.mode.clone())
        .unwrap_or_default()
}

/// Whether trying the same mode again can help (a refused touch, a key pulled and put back).
fn retryable(e: &EnrollError) -> bool {
    match e.device_error() {
        Some(d) => !matches!(
            d,
            DeviceError::PinBlocked
                | DeviceError::UnsupportedAlgorithm { .. }
                | DeviceError::UnsupportedOption { .. }
                | DeviceError::KeyStoreFull
                | DeviceError::CredentialExcluded
        ),
        None => false,
    }
}

fn failure_kind(e: &EnrollError) -> String {
    match e {
        EnrollError::Device { source, .. } => source.kind().to_string(),
        EnrollError::Blocked { .. } => "blocked".into(),
        EnrollError::FilesAfterCredential { .. } | EnrollError::Files { .. } => "files".into(),
        _ => "enroll".into(),
    }
}

// ---------------------------------------------------------------- flow steps

fn start_flow(app: &mut App, flow: Flow) -> Vec<Effect> {
    app.session = Session::new(flow, app.default_out_dir(false));
    app.notice = None;
    match flow {
        Flow::Enroll | Flow::Recover => device_step(app),
        Flow::Explain => {
            app.screen = Screen::Policy(PolicyScreen {
                selected: 0,
                path: TextInput::default(),
                editing: false,
                error: None,
            });
            vec![]
        }
        Flow::Audit => {
            let ssh_dir = match &app.options.home {
                Some(home) => app.show_path(&home.join(".ssh")),
                None => ".ssh".into(),
            };
            app.session.audit_form = AuditForm::new(ssh_dir);
            app.screen = Screen::AuditForm;
            vec![]
        }
    }
}

fn device_step(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::Devices {
        selected: 0,
        loading: false,
    };
    if app.options.simulate {
        app.pending = Some(Pending {
            what: "Starting the simulated key".into(),
        });
        return vec![Effect::Open(Target::Simulated)];
    }
    if let Some(path) = app.options.device.clone() {
        app.pending = Some(Pending {
            what: format!("Opening {path}"),
        });
        return vec![Effect::Open(Target::Path(path))];
    }
    list_devices(app)
}

fn list_devices(app: &mut App) -> Vec<Effect> {
    app.screen = Screen::Devices {
        selected: 0,
        loading: true,
    };
    app.pending = Some(Pending {
        what: "Looking for security keys".into(),
    });
    vec![Effect::ListDevices]
}

fn go_home(app: &mut App) -> Vec<Effect> {
    let selected = match app.session.flow {
        Flow::Enroll => 0,
        Flow::Recover => 1,
        Flow::Audit => 2,
        Flow::Explain => 3,
    };
    app.session = Session::new(Flow::Enroll, app.default_out_dir(false));
    app.screen = Screen::Home { selected };
    app.touch = None;
    app.pending = None;
    vec![Effect::Forget]
}

/// Leave the flow: ask first if the key or the disk changed and the flow did not finish.
fn leave_flow(app: &mut App) -> Vec<Effect> {
    if app.session.changed && !app.session.finished {
        app.confirm = Some(Confirm {
            title: "Leave this enrollment?".into(),
            text: leave_text(app),
            action: ConfirmAction::LeaveFlow,
        });
        return vec![];
    }
    go_home(app)
}

fn leave_text(app: &App) -> String {
    let written = app.session.outcomes().len();
    let mut text = String::from("Keys were already made on the security key");
    if written > 0 {
        text.push_str(&format!(" and {written} mode(s) have their files written"));
    }
    text.push_str(". Resident keys stay on the key and the next run picks them up; a non-resident key (wheel) made but not written is lost (it uses no slot). Leave?");
    text
}

fn request_quit(app: &mut App) -> Vec<Effect> {
    if app.session.changed && !app.session.finished {
        app.confirm = Some(Confirm {
            title: "Quit skset?".into(),
            text: leave_text(app),
            action: ConfirmAction::Quit,
        });
        return vec![];
    }
    app.quit = true;
    vec![]
}

fn preflight(app: &mut App, what: &str) -> Vec<Effect> {
    let Some(policy) = &app.session.policy else {
        return vec![];
    };
    app.pending = Some(Pending {
        what: what.to_string(),
    });
    vec![Effect::Preflight {
        plan: Box::new(policy.plan.clone()),
        pin: app.session.pin.clone(),
        out_dir: app.session.out_dir.clone(),
        options: app.session.options.clone(),
    }]
}

fn pin_min_length(app: &App) -> usize {
    let device = app
        .session
        .device
        .as_ref()
        .map(|d| d.info.min_pin_length as usize)
        .unwrap_or(Pin::MIN_CODE_POINTS);
    let policy = app
        .session
        .policy
        .as_ref()
        .map(|p| usize::from(p.plan.min_pin_length))
        .unwrap_or(Pin::MIN_CODE_POINTS);
    device.max(policy).max(Pin::MIN_CODE_POINTS)
}

fn pin_step(app: &mut App) {
    let status = app.session.device.as_ref().and_then(|d| d.pin.clone());
    let kind = if status.as_ref().is_some_and(|s| s.is_set) {
        PinKind::Verify
    } else {
        PinKind::Set
    };
    let retries = status.and_then(|s| s.retries_left);
    app.screen = Screen::Pin(PinScreen::new(kind, retries, pin_min_length(app)));
}

fn after_pin(app: &mut App) {
    let preselect = match app.session.policy.as_ref().map(|p| &p.source) {
        Some(PolicySource::File(path)) => (1, TextInput::new(path.display().to_string())),
        _ => (0, TextInput::default()),
    };
    app.screen = Screen::Policy(PolicyScreen {
        selected: preselect.0,
        path: preselect.1,
        editing: false,
        error: None,
    });
}

fn on_policy_loaded(app: &mut App, policy: LoadedPolicy) -> Vec<Effect> {
    app.session.policy = Some(policy);
    match app.session.flow {
        Flow::Enroll => {
            app.session.options = Default::default();
            app.session.preflight = None;
            let what = format!(
                "Looking at the key and at {}",
                app.show_path(&app.session.out_dir)
            );
            preflight(app, &what)
        }
        Flow::Recover => {
            app.screen = Screen::RecoverReady;
            vec![]
        }
        _ => {
            app.screen = Screen::Explain { mode: 0, scroll: 0 };
            vec![]
        }
    }
}

fn start_generate(app: &mut App) -> Vec<Effect> {
    let n = app
        .session
        .policy
        .as_ref()
        .map(|p| p.plan.keys.len())
        .unwrap_or(0);
    app.session.progress = vec![ModeState::Waiting; n];
    app.screen = Screen::Generate;
    prepare_next(app, 0)
}

fn prepare_next(app: &mut App, index: usize) -> Vec<Effect> {
    let (Some(policy), Some(preflight)) = (&app.session.policy, &app.session.preflight) else {
        return vec![];
    };
    if let (Some(key), Some(decided)) = (policy.plan.keys.get(index), preflight.modes.get(index)) {
        let effect = Effect::Prepare {
            index,
            key: Box::new(key.clone()),
            decided: Box::new(decided.clone()),
            pin: app.session.pin.clone(),
        };
        app.pending = Some(Pending {
            what: format!("Making the {} key", key.mode),
        });
        set_progress(app, index, ModeState::Working);
        return vec![effect];
    }
    // Every credential is made: the passphrase (if a mode needs one), then the files.
    let needs: Vec<String> = policy
        .plan
        .keys
        .iter()
        .zip(&app.session.progress)
        .filter(|(k, s)| {
            k.passphrase == PassphraseRule::Required
                && !matches!(
                    s,
                    ModeState::Prepared {
                        status: ModeStatus::AlreadyEnrolled,
                        ..
                    }
                )
        })
        .map(|(k, _)| k.mode.clone())
        .collect();
    if needs.is_empty() {
        start_write(app, Secrets::default())
    } else {
        app.screen = Screen::Passphrase(PassphraseScreen::new(needs));
        vec![]
    }
}

fn start_write(app: &mut App, secrets: Secrets) -> Vec<Effect> {
    let (Some(policy), Some(preflight)) = (&app.session.policy, &app.session.preflight) else {
        return vec![];
    };
    let items: Vec<_> = policy
        .plan
        .keys
        .iter()
        .zip(&preflight.modes)
        .enumerate()
        .filter(|(i, _)| {
            matches!(
                app.session.progress.get(*i),
                Some(ModeState::Prepared { .. })
            )
        })
        .map(|(i, (k, m))| (i, k.clone(), m.clone()))
        .collect();
    for (i, _, _) in &items {
        app.session.progress[*i] = ModeState::Writing;
    }
    app.screen = Screen::Generate;
    app.pending = Some(Pending {
        what: "Writing the key files".into(),
    });
    vec![Effect::Write {
        items,
        secrets,
        out_dir: app.session.out_dir.clone(),
    }]
}

fn finish_enroll(app: &mut App) {
    app.session.finished = true;
    app.pending = None;
    match summary::authorized_keys(app) {
        Ok(accounts) => app.session.accounts = accounts,
        Err(e) => {
            app.notice = Some(Notice {
                level: Level::Error,
                text: e,
            })
        }
    }
    app.exit_text = Some(summary::enroll_text(app));
    app.screen = Screen::Summary { scroll: 0 };
}

// ---------------------------------------------------------------- keys

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C'))
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
    }
    if is_ctrl_c(&key) {
        // A second Ctrl-C on the question quits for sure.
        if matches!(
            app.confirm,
            Some(Confirm {
                action: ConfirmAction::Quit,
                ..
            })
        ) || app.pending.is_some() && !app.session.changed
        {
            app.quit = true;
            return vec![];
        }
        app.confirm = None;
        return request_quit(app);
    }
    if let Some(confirm) = app.confirm.take() {
        return on_confirm(app, confirm, key);
    }
    if app.pending.is_some() {
        // The worker is talking to the key; the screen says so. Keys would be stale.
        return vec![];
    }
    // A notice answers the last action; the next key moves on (the screen keeps the state).
    app.notice = None;
    match &app.screen {
        Screen::Home { .. } => home_key(app, key),
        Screen::Devices { .. } => devices_key(app, key),
        Screen::Checks { .. } => checks_key(app, key),
        Screen::Pin(_) => pin_key(app, key),
        Screen::Policy(_) => policy_key(app, key),
        Screen::Review(_) => review_key(app, key),
        Screen::Generate => generate_key(app, key),
        Screen::Passphrase(_) => passphrase_key(app, key),
        Screen::Summary { .. } | Screen::RecoverReport { .. } => report_key(app, key),
        Screen::RecoverReady => recover_ready_key(app, key),
        Screen::Explain { .. } => explain_key(app, key),
        Screen::AuditForm => audit_form_key(app, key),
        Screen::AuditFindings { .. } => audit_findings_key(app, key),
        Screen::AuditFailed => audit_failed_key(app, key),
    }
}

fn on_confirm(app: &mut App, confirm: Confirm, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Char('y') | KeyCode::Char('Y') => match confirm.action {
            ConfirmAction::LeaveFlow => go_home(app),
            ConfirmAction::Quit => {
                app.quit = true;
                vec![]
            }
            ConfirmAction::ReplaceExisting(mode) => {
                if !app.session.options.replace_existing.contains(&mode) {
                    app.session.options.replace_existing.push(mode.clone());
                }
                // A replaced credential needs its files replaced too. Pre-flight already
                // looked at the disk: files are there when the mode is enrolled or blocked.
                let has_files = app
                    .session
                    .preflight
                    .as_ref()
                    .and_then(|p| p.mode(&mode))
                    .is_some_and(|m| {
                        m.replace_files
                            || matches!(
                                m.action,
                                crate::enroll::ModeAction::AlreadyEnrolled
                                    | crate::enroll::ModeAction::Blocked { .. }
                            )
                    });
                if has_files {
                    app.session.options.force = true;
                }
                preflight(app, "Checking the plan again")
            }
            ConfirmAction::ForceFiles => {
                app.session.options.force = true;
                preflight(app, "Checking the plan again")
            }
        },
        KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => vec![],
        _ => {
            app.confirm = Some(confirm);
            vec![]
        }
    }
}

fn up_down(selected: &mut usize, len: usize, key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => {
            *selected = selected.saturating_sub(1);
            true
        }
        KeyCode::Down | KeyCode::Char('j') => {
            if *selected + 1 < len {
                *selected += 1;
            }
            true
        }
        _ => false,
    }
}

fn scroll(scroll: &mut u16, key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
        KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
        KeyCode::PageDown | KeyCode::Char(' ') => *scroll = scroll.saturating_add(10),
        KeyCode::Home => *scroll = 0,
        _ => return false,
    }
    true
}

fn home_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Screen::Home { selected } = &mut app.screen else {
        return vec![];
    };
    if up_down(selected, HOME_ITEMS.len(), &key) {
        return vec![];
    }
    let choice = match key.code {
        KeyCode::Enter => *selected,
        KeyCode::Char(c @ '1'..='5') => c as usize - '1' as usize,
        KeyCode::Char('q') | KeyCode::Esc => return request_quit(app),
        _ => return vec![],
    };
    app.notice = None;
    match choice {
        0 => start_flow(app, Flow::Enroll),
        1 => start_flow(app, Flow::Recover),
        2 => start_flow(app, Flow::Audit),
        3 => start_flow(app, Flow::Explain),
        _ => request_quit(app),
    }
}

fn devices_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let count = app.session.devices.len() + 1;
    let Screen::Devices { selected, .. } = &mut app.screen else {
        return vec![];
    };
    if up_down(selected, count, &key) {
        return vec![];
    }
    let selected = *selected;
    match key.code {
        KeyCode::Enter => {
            app.notice = None;
            if let Some(choice) = app.session.devices.get(selected) {
                let path = choice.summary.path.clone();
                app.pending = Some(Pending {
                    what: format!("Opening {path}"),
                });
                vec![Effect::Open(Target::Path(path))]
            } else {
                app.pending = Some(Pending {
                    what: "Starting the simulated key".into(),
                });
                vec![Effect::Open(Target::Simulated)]
            }
        }
        KeyCode::Char('s') => {
            app.notice = None;
            app.pending = Some(Pending {
                what: "Starting the simulated key".into(),
            });
            vec![Effect::Open(Target::Simulated)]
        }
        KeyCode::Char('r') => {
            app.notice = None;
            list_devices(app)
        }
        KeyCode::Esc => go_home(app),
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

/// Checks that no policy or PIN can fix: the key lacks what skset needs.
pub fn blocking_checks(app: &App) -> Vec<String> {
    app.session
        .device_checks
        .iter()
        .flat_map(|p| &p.checks)
        .filter(|c| {
            c.status == CheckStatus::Fail
                && (c.id == "cred-protect" || c.id == "credential-management" || c.id == "out-dir")
        })
        .map(|c| c.message.clone())
        .collect()
}

fn checks_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if let Screen::Checks { scroll: s } = &mut app.screen {
        if scroll(s, &key) {
            return vec![];
        }
    }
    match key.code {
        KeyCode::Enter => {
            let blocking = blocking_checks(app);
            if !blocking.is_empty() {
                return error(
                    app,
                    &format!(
                        "This key cannot be used: {}. Press Esc and choose another key.",
                        blocking.join("; ")
                    ),
                );
            }
            app.notice = None;
            pin_step(app);
            vec![]
        }
        KeyCode::Esc => back_to_devices(app),
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

fn back_to_devices(app: &mut App) -> Vec<Effect> {
    app.notice = None;
    if app.session.devices.is_empty() && app.session.devices_error.is_none() {
        return list_devices(app);
    }
    app.screen = Screen::Devices {
        selected: 0,
        loading: false,
    };
    vec![]
}

fn pin_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Screen::Pin(screen) = &mut app.screen else {
        return vec![];
    };
    if screen.blocked {
        return match key.code {
            KeyCode::Esc => back_to_devices(app),
            KeyCode::Char('q') => request_quit(app),
            _ => vec![],
        };
    }
    let field = if screen.focus == 0 {
        &mut screen.first
    } else {
        &mut screen.second
    };
    match key.code {
        KeyCode::Char(c) => {
            if !field.push(c) {
                screen.error = Some(format!("A PIN is at most {} bytes.", Pin::MAX_BYTES));
            }
            screen.last_try_armed = false;
            vec![]
        }
        KeyCode::Backspace => {
            field.pop();
            vec![]
        }
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down
            if screen.kind == PinKind::Set =>
        {
            screen.focus = 1 - screen.focus;
            vec![]
        }
        KeyCode::Enter => submit_pin(app),
        KeyCode::Esc => {
            if app.session.flow == Flow::Recover {
                back_to_devices(app)
            } else {
                app.screen = Screen::Checks { scroll: 0 };
                vec![]
            }
        }
        _ => vec![],
    }
}

fn submit_pin(app: &mut App) -> Vec<Effect> {
    let Screen::Pin(screen) = &mut app.screen else {
        return vec![];
    };
    screen.error = None;
    match screen.kind {
        PinKind::Verify => {
            if screen.first.is_empty() {
                screen.error = Some("Type the key's PIN, then Enter.".into());
                return vec![];
            }
            if screen.retries_left == Some(1) && !screen.last_try_armed {
                screen.last_try_armed = true;
                return vec![];
            }
            let pin = match Pin::new(screen.first.take()) {
                Ok(pin) => pin,
                Err(e) => {
                    screen.error = Some(format!("{e}."));
                    return vec![];
                }
            };
            app.session.pin_in_flight = Some(pin.clone());
            app.pending = Some(Pending {
                what: "Checking the PIN with the key".into(),
            });
            vec![Effect::VerifyPin(pin)]
        }
        PinKind::Set => {
            let too_short = format!(
                "The PIN needs at least {} characters (the policy's and the key's minimum).",
                screen.min_length
            );
            let Some(secret) = typed_twice(
                TwiceFields {
                    first: &mut screen.first,
                    second: &mut screen.second,
                    focus: &mut screen.focus,
                    error: &mut screen.error,
                },
                screen.min_length,
                too_short,
                "The two PINs differ. Type the new PIN again.",
            ) else {
                return vec![];
            };
            let pin = match Pin::new(secret) {
                Ok(pin) => pin,
                Err(e) => {
                    screen.focus = 0;
                    screen.error = Some(format!("{e}."));
                    return vec![];
                }
            };
            app.session.pin_in_flight = Some(pin.clone());
            app.pending = Some(Pending {
                what: "Setting the PIN".into(),
            });
            vec![Effect::SetPin(pin)]
        }
    }
}

fn policy_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let host_name = app.options.host_name.clone();
    let Screen::Policy(screen) = &mut app.screen else {
        return vec![];
    };
    if screen.editing {
        match key.code {
            KeyCode::Char(c) => screen.path.push(c),
            KeyCode::Backspace => screen.path.pop(),
            KeyCode::Esc => screen.editing = false,
            KeyCode::Enter => {
                let text = screen.path.value.trim().to_string();
                if text.is_empty() {
                    screen.error = Some("Type the path of a policy file (YAML).".into());
                    return vec![];
                }
                screen.error = None;
                let path = expand_home(&text, app.options.home.as_deref());
                app.pending = Some(Pending {
                    what: format!("Loading {}", path.display()),
                });
                return vec![Effect::LoadPolicyFile { path, host_name }];
            }
            _ => {}
        }
        return vec![];
    }
    if up_down(&mut screen.selected, 2, &key) {
        return vec![];
    }
    match key.code {
        KeyCode::Enter if screen.selected == 0 => {
            screen.error = None;
            match load_policy(PolicySource::BuiltIn, &host_name) {
                Ok(policy) => on_policy_loaded(app, policy),
                Err(p) => error(app, &p.message),
            }
        }
        KeyCode::Enter | KeyCode::Char('e') => {
            screen.selected = 1;
            screen.editing = true;
            vec![]
        }
        KeyCode::Esc => match app.session.flow {
            Flow::Explain => go_home(app),
            _ => {
                pin_step(app);
                vec![]
            }
        },
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

/// `~/x` -> `$HOME/x`; the shell is not there to do it.
pub fn expand_home(text: &str, home: Option<&std::path::Path>) -> PathBuf {
    match (text.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if text == "~" => home
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(text)),
        _ => PathBuf::from(text),
    }
}

fn review_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let modes: Vec<String> = app
        .session
        .policy
        .as_ref()
        .map(|p| p.plan.keys.iter().map(|k| k.mode.clone()).collect())
        .unwrap_or_default();
    let home = app.options.home.clone();
    let Screen::Review(screen) = &mut app.screen else {
        return vec![];
    };
    if let Some(input) = &mut screen.out_dir {
        match key.code {
            KeyCode::Char(c) => input.push(c),
            KeyCode::Backspace => input.pop(),
            KeyCode::Esc => screen.out_dir = None,
            KeyCode::Enter => {
                let text = input.value.trim().to_string();
                screen.out_dir = None;
                if !text.is_empty() {
                    app.session.out_dir = expand_home(&text, home.as_deref());
                    app.session.options = Default::default();
                    return preflight(app, "Checking the plan again");
                }
            }
            _ => {}
        }
        return vec![];
    }
    if up_down(&mut screen.selected, modes.len(), &key) {
        return vec![];
    }
    match key.code {
        KeyCode::PageDown | KeyCode::Char(' ') => {
            screen.scroll = screen.scroll.saturating_add(5);
            vec![]
        }
        KeyCode::PageUp => {
            screen.scroll = screen.scroll.saturating_sub(5);
            vec![]
        }
        KeyCode::Char('o') => {
            let shown = app.show_path(&app.session.out_dir);
            if let Screen::Review(screen) = &mut app.screen {
                screen.out_dir = Some(TextInput::new(shown));
            }
            vec![]
        }
        KeyCode::Char('x') => {
            let Some(mode) = modes.get(screen.selected).cloned() else {
                return vec![];
            };
            let existing = app
                .session
                .preflight
                .as_ref()
                .and_then(|p| p.mode(&mode))
                .and_then(|m| m.existing.as_ref());
            match existing {
                Some(cred) => {
                    app.confirm = Some(Confirm {
                        title: format!("Replace the {mode} credential on the key?"),
                        text: format!(
                            "The key already holds a credential for {} (user {}). Replacing it DELETES it from the key and makes a new one: the old public key stops working on every server that trusts it, and each must get the new authorized_keys line. An old {mode} key file is kept as a backup. Replace {mode}?",
                            cred.application,
                            cred.user_id_display()
                        ),
                        action: ConfirmAction::ReplaceExisting(mode),
                    });
                    vec![]
                }
                None => error(
                    app,
                    &format!("The key holds nothing for {mode} to replace."),
                ),
            }
        }
        KeyCode::Char('f') => {
            app.confirm = Some(Confirm {
                title: "Replace existing key files?".into(),
                text: format!(
                    "Files in {} that stand in the way are replaced by the new ones; each old file is kept as a backup beside it (name.bak-...). Replace them?",
                    app.show_path(&app.session.out_dir)
                ),
                action: ConfirmAction::ForceFiles,
            });
            vec![]
        }
        KeyCode::Enter => {
            let Some(preflight) = &app.session.preflight else {
                return vec![];
            };
            if !preflight.ready() {
                return error(app, "Pre-flight found problems (marked ✗ below, each with its fix). Fix them, or use x/f/o, then Enter.");
            }
            app.notice = None;
            start_generate(app)
        }
        KeyCode::Esc => {
            app.notice = None;
            after_pin(app);
            vec![]
        }
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

fn generate_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Char('r') => {
            let failed = app
                .session
                .progress
                .iter()
                .position(|s| matches!(s, ModeState::Failed { retry: true, .. }));
            match failed {
                Some(index) => {
                    app.notice = None;
                    prepare_next(app, index)
                }
                None => vec![],
            }
        }
        KeyCode::Esc => {
            if app.session.changed {
                leave_flow(app)
            } else {
                app.screen = Screen::Review(ReviewScreen {
                    selected: 0,
                    scroll: 0,
                    out_dir: None,
                });
                app.notice = None;
                vec![]
            }
        }
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

fn passphrase_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Screen::Passphrase(screen) = &mut app.screen else {
        return vec![];
    };
    let field = if screen.focus == 0 {
        &mut screen.first
    } else {
        &mut screen.second
    };
    match key.code {
        KeyCode::Char(c) => {
            if !field.push(c) {
                screen.error = Some(format!(
                    "A passphrase here is at most {PASSPHRASE_MAX_BYTES} bytes."
                ));
            }
            vec![]
        }
        KeyCode::Backspace => {
            field.pop();
            vec![]
        }
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
            screen.focus = 1 - screen.focus;
            vec![]
        }
        KeyCode::Esc => leave_flow(app),
        KeyCode::Enter => {
            screen.error = None;
            let Some(passphrase) = typed_twice(
                TwiceFields { first: &mut screen.first, second: &mut screen.second, focus: &mut screen.focus, error: &mut screen.error },
                MIN_PASSPHRASE_CHARS,
                format!("At least {MIN_PASSPHRASE_CHARS} characters: this passphrase is what stands between a copy of the file and ssh-agent."),
                "The two passphrases differ. Type it again.",
            ) else {
                return vec![];
            };
            let modes = screen.modes.clone();
            let mut secrets = Secrets::default();
            for mode in &modes {
                // Each clone is its own zeroizing buffer, wiped when `secrets` is dropped.
                secrets
                    .passphrases
                    .insert(mode.clone(), Passphrase::new(passphrase.clone()));
            }
            drop(passphrase);
            start_write(app, secrets)
        }
        _ => vec![],
    }
}

/// The two fields of a "type it twice" form, and where the cursor and the message are.
struct TwiceFields<'a> {
    first: &'a mut SecretInput,
    second: &'a mut SecretInput,
    focus: &'a mut usize,
    error: &'a mut Option<String>,
}

/// Enter on a new PIN or passphrase typed twice: from the first field to the second once it
/// is long enough, then the secret when both match (both fields cleared either way a
/// mismatch happens). `None` means: keep typing, the message says why.
fn typed_twice(
    f: TwiceFields<'_>,
    min_chars: usize,
    too_short: String,
    differ: &str,
) -> Option<zeroize::Zeroizing<String>> {
    if *f.focus == 0 {
        if f.first.chars() < min_chars {
            *f.error = Some(too_short);
        } else {
            *f.focus = 1;
        }
        return None;
    }
    if !f.first.matches(f.second) {
        f.first.clear();
        f.second.clear();
        *f.focus = 0;
        *f.error = Some(differ.to_string());
        return None;
    }
    f.second.clear();
    Some(f.first.take())
}

fn report_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if let Screen::Summary { scroll: s } | Screen::RecoverReport { scroll: s } = &mut app.screen {
        if scroll(s, &key) {
            return vec![];
        }
    }
    match key.code {
        KeyCode::Enter | KeyCode::Esc => go_home(app),
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

fn recover_ready_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Char('f') => {
            app.session.recover_force = !app.session.recover_force;
            vec![]
        }
        KeyCode::Enter => {
            let (Some(policy), Some(pin)) = (&app.session.policy, &app.session.pin) else {
                return vec![];
            };
            let effect = Effect::Recover {
                plan: Box::new(policy.plan.clone()),
                pin: pin.clone(),
                out_dir: app.session.out_dir.clone(),
                force: app.session.recover_force,
            };
            app.pending = Some(Pending {
                what: "Reading the resident keys and writing their files".into(),
            });
            vec![effect]
        }
        KeyCode::Esc => {
            after_pin(app);
            vec![]
        }
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

fn explain_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let count = app
        .session
        .policy
        .as_ref()
        .map(|p| p.explanations.len())
        .unwrap_or(0);
    let Screen::Explain { mode, scroll: s } = &mut app.screen else {
        return vec![];
    };
    if scroll(s, &key) {
        return vec![];
    }
    match key.code {
        KeyCode::Right | KeyCode::Char('l') | KeyCode::Tab => {
            if count > 0 {
                *mode = (*mode + 1) % count;
                *s = 0;
            }
            vec![]
        }
        KeyCode::Left | KeyCode::Char('h') | KeyCode::BackTab => {
            if count > 0 {
                *mode = (*mode + count - 1) % count;
                *s = 0;
            }
            vec![]
        }
        KeyCode::Esc => {
            app.screen = Screen::Policy(PolicyScreen {
                selected: 0,
                path: TextInput::default(),
                editing: false,
                error: None,
            });
            vec![]
        }
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

// ---------------------------------------------------------------- audit

/// The form's fields as a request, `~/` expanded; the disk is not looked at here.
pub fn audit_request(
    form: &AuditForm,
    home: Option<&std::path::Path>,
) -> Result<AuditRequest, String> {
    let path = |field: usize| form.value(field).map(|v| expand_home(v, home));
    let request = AuditRequest {
        policy: path(AUDIT_POLICY),
        ssh_dir: path(AUDIT_SSH_DIR),
        authorized_keys: path(AUDIT_AUTHORIZED_KEYS).map(|p| p.to_string_lossy().into_owned()),
        ssh_config: path(AUDIT_SSH_CONFIG),
    };
    if request.ssh_dir.is_none()
        && request.authorized_keys.is_none()
        && request.ssh_config.is_none()
    {
        return Err(
            "Nothing to audit: give an ssh dir, an authorized_keys file or an ssh_config file."
                .into(),
        );
    }
    Ok(request)
}

fn start_audit(app: &mut App, request: AuditRequest) -> Vec<Effect> {
    let what: Vec<String> = [request.ssh_dir.as_ref(), request.ssh_config.as_ref()]
        .into_iter()
        .flatten()
        .map(|p| app.show_path(p))
        .chain(request.authorized_keys.clone())
        .collect();
    app.pending = Some(Pending {
        what: format!("Auditing {}", what.join(", ")),
    });
    app.session.audit_request = Some(request.clone());
    vec![Effect::Audit(request)]
}

fn audit_form_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let form = &mut app.session.audit_form;
    let field = &mut form.fields[form.focus.min(AUDIT_FIELDS.len() - 1)];
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => field.value.clear(),
        KeyCode::Char(_) if ctrl || key.modifiers.contains(KeyModifiers::ALT) => {}
        KeyCode::Char(c) => {
            field.push(c);
            form.error = None;
        }
        KeyCode::Backspace => field.pop(),
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % AUDIT_FIELDS.len(),
        KeyCode::BackTab | KeyCode::Up => {
            form.focus = (form.focus + AUDIT_FIELDS.len() - 1) % AUDIT_FIELDS.len()
        }
        KeyCode::Enter => match audit_request(form, app.options.home.as_deref()) {
            Ok(request) => {
                form.error = None;
                return start_audit(app, request);
            }
            Err(text) => form.error = Some(text),
        },
        KeyCode::Esc => return go_home(app),
        _ => {}
    }
    vec![]
}

fn audit_findings_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let count = app
        .session
        .audit_report
        .as_ref()
        .map(|r| r.findings.len())
        .unwrap_or(0);
    let Screen::AuditFindings {
        selected,
        scroll: s,
    } = &mut app.screen
    else {
        return vec![];
    };
    let before = *selected;
    if up_down(selected, count, &key) {
        if *selected != before {
            *s = 0;
        }
        return vec![];
    }
    match key.code {
        KeyCode::Home => {
            *selected = 0;
            *s = 0;
        }
        KeyCode::End => {
            *selected = count.saturating_sub(1);
            *s = 0;
        }
        KeyCode::PageDown | KeyCode::Char(' ') => *s = s.saturating_add(3),
        KeyCode::PageUp => *s = s.saturating_sub(3),
        KeyCode::Esc => app.screen = Screen::AuditForm,
        KeyCode::Enter => return go_home(app),
        KeyCode::Char('r') => return audit_again(app),
        KeyCode::Char('q') => return request_quit(app),
        _ => {}
    }
    vec![]
}

fn audit_failed_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc | KeyCode::Enter => {
            app.screen = Screen::AuditForm;
            vec![]
        }
        KeyCode::Char('r') => audit_again(app),
        KeyCode::Char('q') => request_quit(app),
        _ => vec![],
    }
}

/// The same request again (after a chmod, say).
fn audit_again(app: &mut App) -> Vec<Effect> {
    match app.session.audit_request.clone() {
        Some(request) => start_audit(app, request),
        None => vec![],
    }
}
