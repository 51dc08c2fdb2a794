use super::{check_mark, pad, text_field};
use crate::enroll::{CheckStatus, ModeAction};
use crate::policy::Severity;
use crate::tui::app::{App, ReviewScreen};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

pub fn action_word(action: &ModeAction) -> &'static str {
    match action {
        ModeAction::Create => "create",
        ModeAction::Adopt => "keep existing",
        ModeAction::AlreadyEnrolled => "nothing to do",
        ModeAction::Replace => "REPLACE",
        ModeAction::Blocked { .. } => "blocked ✗",
    }
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, screen: &ReviewScreen) {
    let theme = app.theme;
    let area = pad(area);
    let (Some(policy), Some(preflight)) = (&app.session.policy, &app.session.preflight) else {
        return;
    };
    let plan = &policy.plan;
    let device = app
        .session
        .device
        .as_ref()
        .map(|d| d.name())
        .unwrap_or_default();
    let rows_needed = plan.keys.len() as u16 + 1;
    let [info, dir_row, table_area, _, details] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(rows_needed),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);

    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("Policy {}", plan.policy), theme.heading()),
            Span::raw(format!(" · label {} · {device}", plan.label)),
        ])),
        info,
    );
    match &screen.out_dir {
        Some(input) => text_field(frame, dir_row, "Files into:", input, true, theme),
        None => frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw("Files into "),
                Span::styled(app.show_path(&app.session.out_dir), theme.heading()),
                Span::styled("  (o to change)", theme.dim()),
            ])),
            dir_row,
        ),
    }

    let header = Row::new([
        " mode",
        "stored",
        "touch",
        "PIN",
        "agent",
        "type",
        "on key now",
        "will",
    ])
    .style(theme.heading());
    let rows: Vec<Row> = plan
        .keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let decided = preflight.modes.get(i);
            let algorithm = decided.and_then(|m| m.algorithm).map(|a| match a {
                crate::device::KeyAlgorithm::Ed25519 => "Ed25519",
                crate::device::KeyAlgorithm::EcdsaP256 => "ECDSA",
            });
            let on_key = match decided.and_then(|m| m.existing.as_ref()) {
                Some(_) => "a credential",
                None if key.resident => "nothing",
                None => "n/a (file)",
            };
            let agent = match (key.agent_load, &key.agent_lifetime) {
                (true, Some(l)) => l.to_string(),
                (true, None) => "yes".into(),
                (false, _) => "no".into(),
            };
            let will = decided.map(|m| action_word(&m.action)).unwrap_or("?");
            let will_style = match decided.map(|m| &m.action) {
                Some(ModeAction::Blocked { .. }) => theme.fail(),
                Some(ModeAction::Replace) => theme.warn(),
                _ => ratatui::style::Style::new(),
            };
            let marker = if i == screen.selected { "▶" } else { " " };
            let row = Row::new(vec![
                Cell::from(format!("{marker}{}", key.mode)),
                Cell::from(if key.resident {
                    "resident"
                } else {
                    "non-resident"
                }),
                Cell::from(if key.touch { "yes" } else { "no" }),
                Cell::from(if key.pin { "yes" } else { "no" }),
                Cell::from(agent),
                Cell::from(algorithm.unwrap_or("none ✗")),
                Cell::from(on_key),
                Cell::from(Span::styled(will, will_style)),
            ]);
            if i == screen.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(5),
        Constraint::Length(3),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Min(9),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );

    let mut lines = Vec::new();
    let problems: Vec<_> = preflight
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .collect();
    let passed = preflight.checks.len() - problems.len();
    if problems.is_empty() {
        lines.push(Line::from(vec![
            check_mark(CheckStatus::Pass, theme),
            Span::raw(format!("pre-flight: all {passed} checks pass")),
        ]));
    } else {
        lines.push(Line::from(vec![
            Span::styled("Pre-flight: ", theme.heading()),
            Span::raw(format!("{passed} pass, {} need a look", problems.len())),
        ]));
        for check in problems {
            lines.push(Line::from(vec![
                check_mark(check.status, theme),
                Span::raw(check.message.clone()),
            ]));
            if let Some(fix) = &check.fix {
                lines.push(Line::from(Span::styled(
                    format!("  → {}", wizard_fix(fix)),
                    theme.dim(),
                )));
            }
        }
    }
    let errors = plan
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Error)
        .collect();
    lines.push(Line::from(vec![
        check_mark(
            if errors == 0 {
                CheckStatus::Pass
            } else {
                CheckStatus::Fail
            },
            theme,
        ),
        Span::raw(format!(
            "policy rules: {errors} errors, {} warnings/notes",
            warnings.len()
        )),
    ]));
    for f in warnings {
        let mode = f
            .mode
            .as_deref()
            .map(|m| format!(" {m}"))
            .unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!("  {} {}{mode}: {}", f.severity, f.rule, f.message),
            theme.dim(),
        )));
    }
    if !preflight.foreign_credentials.is_empty() {
        let names: Vec<String> = preflight
            .foreign_credentials
            .iter()
            .map(|c| format!("{} (user {})", c.application, c.user_id_display()))
            .collect();
        lines.push(Line::from(Span::styled(
            format!("Also on the key, left alone: {}", names.join(", ")),
            theme.dim(),
        )));
    }
    lines.push(Line::from(Span::styled("Files per mode:", theme.heading())));
    for key in &plan.keys {
        let passphrase = match key.passphrase {
            crate::policy::PassphraseRule::Required => " + passphrase",
            _ => "",
        };
        // The plan names them id_x, id_x.pub, id_x.attest, id_x.challenge.
        lines.push(Line::from(format!(
            "  {:<6} {}  .pub  .attest  .challenge{passphrase}",
            key.mode, key.private_key_file
        )));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((screen.scroll, 0)),
        details,
    );
}

/// The engine's fixes name command line flags; here the same choice is a key.
pub fn wizard_fix(fix: &str) -> String {
    let mut text = fix
        .replace("add --force", "press f")
        .replace("with --force", "with f")
        .replace("--force", "f");
    while let Some(start) = text.find("--replace-existing ") {
        let rest = &text[start + "--replace-existing ".len()..];
        let mode: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ';')
            .collect();
        text = format!("{}x on {mode}{}", &text[..start], &rest[mode.len()..]);
    }
    text
}
