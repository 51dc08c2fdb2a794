//! `view(&app, frame)`: draws the state. Pure: it reads `App` and writes cells, nothing
//! else (no device, no file, no clock: animation comes from `app.tick`). One file per screen.

mod audit;
mod checks;
mod devices;
mod done;
mod explain;
mod generate;
mod home;
mod passphrase;
mod pin;
mod policy;
mod recover;
mod review;

use super::app::{App, Level, Screen};
use super::theme::Theme;
use super::widgets::{Footer, SecretInput};
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use ratatui::Frame;

/// Below this the screens cannot be laid out; a message asks for more room.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn view(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let theme = app.theme;
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!("skset needs a terminal of at least {MIN_WIDTH}x{MIN_HEIGHT} (this one is {}x{}). Make it larger, or press Ctrl-C to quit.", area.width, area.height);
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let status = status_lines(app, area.width.saturating_sub(2));
    let status_height = status.len() as u16;
    let [title, body, status_area, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(status_height),
        Constraint::Length(1),
    ])
    .areas(area);

    frame.render_widget(Paragraph::new(title_line(app)), title);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Span::styled(
            format!(" {} ", screen_title(app)),
            theme.heading(),
        ));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    match &app.screen {
        Screen::Home { selected } => home::render(app, frame, inner, *selected),
        Screen::Devices { selected, loading } => {
            devices::render(app, frame, inner, *selected, *loading)
        }
        Screen::Checks { scroll } => checks::render(app, frame, inner, *scroll),
        Screen::Pin(screen) => pin::render(app, frame, inner, screen),
        Screen::Policy(screen) => policy::render(app, frame, inner, screen),
        Screen::Review(screen) => review::render(app, frame, inner, screen),
        Screen::Generate => generate::render(app, frame, inner),
        Screen::Passphrase(screen) => passphrase::render(app, frame, inner, screen),
        Screen::Summary { scroll } => done::render_summary(app, frame, inner, *scroll),
        Screen::RecoverReady => recover::render_ready(app, frame, inner),
        Screen::RecoverReport { scroll } => done::render_recover(app, frame, inner, *scroll),
        Screen::Explain { mode, scroll } => explain::render(app, frame, inner, *mode, *scroll),
        Screen::AuditForm => audit::render_form(app, frame, inner),
        Screen::AuditFindings { selected, scroll } => {
            audit::render_findings(app, frame, inner, *selected, *scroll)
        }
        Screen::AuditFailed => audit::render_failed(app, frame, inner),
    }
    if !status.is_empty() {
        frame.render_widget(
            Paragraph::new(status).wrap(Wrap { trim: false }),
            status_area.inner(ratatui::layout::Margin {
                horizontal: 1,
                vertical: 0,
            }),
        );
    }
    frame.render_widget(
        Paragraph::new(Footer::line(&footer_keys(app), theme)).style(theme.dim()),
        footer,
    );

    if app.touch.is_some() && !matches!(app.screen, Screen::Generate) {
        touch_popup(app, frame, area);
    }
    if let Some(confirm) = &app.confirm {
        let width = area.width.saturating_sub(8).min(72);
        let text_lines = wrapped_height(&confirm.text, width.saturating_sub(6)) + 3;
        let popup = centered(area, width, text_lines + 2);
        frame.render_widget(Clear, popup);
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .padding(ratatui::widgets::Padding::horizontal(1))
            .title(Span::styled(
                format!(" {} ", confirm.title),
                theme.warn().add_modifier(ratatui::style::Modifier::BOLD),
            ));
        let lines = vec![
            Line::from(confirm.text.clone()),
            Line::from(""),
            Line::from(vec![
                Span::styled("y", theme.key()),
                Span::raw(" yes   "),
                Span::styled("n", theme.key()),
                Span::raw(" / "),
                Span::styled("Esc", theme.key()),
                Span::raw(" no"),
            ]),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            popup,
        );
    }
}

fn screen_title(app: &App) -> String {
    match &app.screen {
        Screen::Home { .. } => "skset".into(),
        Screen::Devices { .. } => "Choose the security key".into(),
        Screen::Checks { .. } => "Pre-flight: what the key can do".into(),
        Screen::Pin(p) => match p.kind {
            super::app::PinKind::Verify => "PIN".into(),
            super::app::PinKind::Set => "Set a PIN".into(),
        },
        Screen::Policy(_) => "Choose the policy".into(),
        Screen::Review(_) => "Review the plan".into(),
        Screen::Generate => "Making the keys".into(),
        Screen::Passphrase(_) => "Passphrase for the key file".into(),
        Screen::Summary { .. } => "Done".into(),
        Screen::RecoverReady => "Recover".into(),
        Screen::RecoverReport { .. } => "Recovered".into(),
        Screen::Explain { .. } => "What each mode protects against".into(),
        Screen::AuditForm => "Audit: what to check".into(),
        Screen::AuditFindings { .. } => {
            match app.session.audit_report.as_ref().map(|r| r.findings.len()) {
                Some(0) => "Audit: clean".into(),
                Some(n) => format!("Audit: {n} finding(s)"),
                None => "Audit".into(),
            }
        }
        Screen::AuditFailed => "Audit: could not run".into(),
    }
}

/// ` skset · enroll   key › checks › PIN › ...` with the current step underlined.
fn title_line(app: &App) -> Line<'static> {
    let theme = app.theme;
    let mut spans = vec![Span::styled(" skset", theme.title())];
    if matches!(app.screen, Screen::Home { .. }) {
        spans.push(Span::styled(
            "  hardware-backed SSH keys on a FIDO2 security key",
            theme.dim(),
        ));
        return Line::from(spans);
    }
    let flow = app.session.flow;
    spans.push(Span::styled(
        format!(" · {}  ", flow.name()),
        theme.heading(),
    ));
    let current = app.screen.step(flow);
    for (i, step) in flow.steps().iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", theme.dim()));
        }
        let style = if i == current {
            theme.step_current()
        } else if i < current {
            Style::new()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(step.to_string(), style));
    }
    Line::from(spans)
}

/// The spinner while the worker is busy, else the notice.
fn status_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let theme = app.theme;
    if let Some(pending) = &app.pending {
        let spinner = SPINNER[(app.tick as usize) % SPINNER.len()];
        let mut text = format!("{spinner} {}…", pending.what);
        if app.touch.is_some() {
            text.push_str(" waiting for your touch");
        }
        return vec![Line::from(Span::styled(text, theme.key()))];
    }
    let Some(notice) = &app.notice else {
        return vec![];
    };
    let (mark, style) = match notice.level {
        Level::Info => ("✓", theme.ok()),
        Level::Warn => ("!", theme.warn()),
        Level::Error => ("✗", theme.fail()),
    };
    let text = format!("{mark} {}", notice.text);
    let height = wrapped_height(&text, width).min(5);
    let mut lines = vec![Line::from(Span::styled(text, style))];
    // Paragraph wraps the one line; reserve the rows it needs.
    for _ in 1..height {
        lines.push(Line::from(""));
    }
    lines
}

/// Rows a text needs at `width` columns with word wrapping (an estimate that errs high).
pub fn wrapped_height(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let mut rows = 0usize;
    for paragraph in text.split('\n') {
        let mut col = 0usize;
        let mut lines = 1usize;
        for word in paragraph.split(' ') {
            let w = unicode_width(word);
            if col == 0 {
                col = w;
            } else if col + 1 + w <= width {
                col += 1 + w;
            } else {
                lines += 1;
                col = w;
            }
            while col > width {
                lines += 1;
                col -= width;
            }
        }
        rows += lines;
    }
    rows as u16
}

fn unicode_width(s: &str) -> usize {
    Line::from(s.to_string()).width()
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

fn touch_popup(app: &App, frame: &mut Frame, area: Rect) {
    let popup = centered(area, 44, 5);
    frame.render_widget(Clear, popup);
    let blink = app.tick % 4 < 2;
    let style = if blink {
        app.theme.touch()
    } else {
        app.theme.heading()
    };
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(style);
    let text = vec![
        Line::from(Span::styled("TOUCH YOUR SECURITY KEY NOW", style)),
        Line::from("it is blinking; it waits about 30 seconds"),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .block(block)
            .alignment(ratatui::layout::Alignment::Center),
        popup,
    );
}

/// A labelled masked field: `label [•••••     ]`, with the terminal cursor in it when focused.
pub fn secret_field(
    frame: &mut Frame,
    area: Rect,
    label: &str,
    input: &SecretInput,
    focused: bool,
    theme: Theme,
) {
    let label_width = 12u16;
    let field_width = area.width.saturating_sub(label_width + 2).min(32);
    let mask = input.mask();
    let shown: String = {
        let chars: Vec<char> = mask.chars().collect();
        let start = chars
            .len()
            .saturating_sub(usize::from(field_width.saturating_sub(1)));
        chars[start..].iter().collect()
    };
    let pad = usize::from(field_width).saturating_sub(Line::from(shown.clone()).width());
    let field_style = if focused {
        theme.selected()
    } else {
        theme.dim()
    };
    let line = Line::from(vec![
        Span::styled(
            format!("{label:<width$}", width = usize::from(label_width)),
            if focused {
                theme.heading()
            } else {
                Style::new()
            },
        ),
        Span::raw("["),
        Span::styled(format!("{shown}{}", " ".repeat(pad)), field_style),
        Span::raw("]"),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if focused {
        let x = area.x + label_width + 1 + Line::from(shown).width() as u16;
        frame.set_cursor_position(Position {
            x: x.min(area.right().saturating_sub(1)),
            y: area.y,
        });
    }
}

/// A visible text field for paths.
pub fn text_field(
    frame: &mut Frame,
    area: Rect,
    label: &str,
    value: &super::widgets::TextInput,
    focused: bool,
    theme: Theme,
) {
    let label_width = (label.chars().count() as u16 + 1).min(area.width / 2);
    let field_width = area.width.saturating_sub(label_width);
    let shown = value.visible(usize::from(field_width));
    let pad = usize::from(field_width).saturating_sub(Line::from(shown.clone()).width());
    let style = if focused {
        theme.selected()
    } else {
        Style::new()
    };
    let line = Line::from(vec![
        Span::raw(format!("{label} ")),
        Span::styled(format!("{shown}{}", " ".repeat(pad)), style),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if focused {
        let x = area.x + label_width + Line::from(shown).width() as u16;
        frame.set_cursor_position(Position {
            x: x.min(area.right().saturating_sub(1)),
            y: area.y,
        });
    }
}

fn footer_keys(app: &App) -> Vec<(&'static str, &'static str)> {
    if app.confirm.is_some() {
        return vec![("y", "yes"), ("n/Esc", "no")];
    }
    if app.pending.is_some() {
        return vec![("Ctrl-C", "quit")];
    }
    match &app.screen {
        Screen::Home { .. } => vec![
            ("↑↓", "move"),
            ("Enter", "choose"),
            ("1-5", "jump"),
            ("q", "quit"),
        ],
        Screen::Devices { .. } => vec![
            ("↑↓", "move"),
            ("Enter", "use this key"),
            ("s", "simulated key"),
            ("r", "rescan"),
            ("Esc", "back"),
            ("q", "quit"),
        ],
        Screen::Checks { .. } => vec![
            ("Enter", "continue"),
            ("↑↓", "scroll"),
            ("Esc", "back"),
            ("q", "quit"),
        ],
        Screen::Pin(p) if p.blocked => vec![("Esc", "choose the key again"), ("q", "quit")],
        Screen::Pin(p) => match p.kind {
            super::app::PinKind::Set => vec![
                ("Enter", "next"),
                ("Tab", "switch field"),
                ("Esc", "back"),
                ("Ctrl-C", "quit"),
            ],
            super::app::PinKind::Verify => vec![
                ("Enter", "check the PIN"),
                ("Esc", "back"),
                ("Ctrl-C", "quit"),
            ],
        },
        Screen::Policy(p) if p.editing => vec![
            ("Enter", "load"),
            ("Esc", "stop editing"),
            ("Ctrl-C", "quit"),
        ],
        Screen::Policy(_) => vec![
            ("↑↓", "move"),
            ("Enter", "choose"),
            ("Esc", "back"),
            ("q", "quit"),
        ],
        Screen::Review(r) if r.out_dir.is_some() => {
            vec![("Enter", "use this directory"), ("Esc", "cancel")]
        }
        Screen::Review(_) => vec![
            ("Enter", "make keys"),
            ("↑↓", "mode"),
            ("x", "replace"),
            ("f", "files"),
            ("o", "dir"),
            ("PgDn", "more"),
            ("Esc", "back"),
        ],
        Screen::Generate => {
            if app
                .session
                .progress
                .iter()
                .any(|s| matches!(s, super::app::ModeState::Failed { retry: true, .. }))
            {
                vec![("r", "try again"), ("Esc", "back"), ("q", "quit")]
            } else {
                vec![("Esc", "back"), ("q", "quit")]
            }
        }
        Screen::Passphrase(_) => vec![
            ("Enter", "next"),
            ("Tab", "switch field"),
            ("Esc", "leave"),
            ("Ctrl-C", "quit"),
        ],
        Screen::Summary { .. } | Screen::RecoverReport { .. } => vec![
            ("↑↓/PgDn", "scroll"),
            ("Enter", "home"),
            ("q", "quit and print"),
        ],
        Screen::RecoverReady => vec![
            ("Enter", "recover"),
            ("f", "toggle replacing files"),
            ("Esc", "back"),
            ("q", "quit"),
        ],
        Screen::Explain { .. } => vec![
            ("←→", "mode"),
            ("↑↓", "scroll"),
            ("Esc", "back"),
            ("q", "quit"),
        ],
        Screen::AuditForm => vec![
            ("Enter", "audit"),
            ("↑↓/Tab", "field"),
            ("Ctrl-U", "clear"),
            ("Esc", "back"),
            ("Ctrl-C", "quit"),
        ],
        Screen::AuditFindings { .. }
            if app
                .session
                .audit_report
                .as_ref()
                .is_some_and(|r| r.findings.is_empty()) =>
        {
            vec![
                ("Enter", "home"),
                ("Esc", "change inputs"),
                ("r", "run again"),
                ("q", "quit"),
            ]
        }
        Screen::AuditFindings { .. } => vec![
            ("↑↓", "move"),
            ("PgDn", "details"),
            ("r", "again"),
            ("Esc", "inputs"),
            ("Enter", "home"),
            ("q", "quit"),
        ],
        Screen::AuditFailed => vec![
            ("Esc", "back to the form"),
            ("r", "try again"),
            ("q", "quit"),
        ],
    }
}

/// `✓`, `!` or `✗` with its style.
pub fn check_mark(status: crate::enroll::CheckStatus, theme: Theme) -> Span<'static> {
    match status {
        crate::enroll::CheckStatus::Pass => Span::styled("✓ ", theme.ok()),
        crate::enroll::CheckStatus::Warn => Span::styled("! ", theme.warn()),
        crate::enroll::CheckStatus::Fail => Span::styled("✗ ", theme.fail()),
    }
}

/// Firmware as YubiKeys encode it (0x050403 = 5.4.3); other vendors' numbers verbatim.
pub fn firmware_text(version: Option<u32>) -> String {
    match version {
        Some(v) if v > 0xFFFF && v <= 0xFF_FFFF => {
            format!("{}.{}.{}", v >> 16, (v >> 8) & 0xFF, v & 0xFF)
        }
        Some(v) => v.to_string(),
        None => "unknown".into(),
    }
}

pub fn pad(area: Rect) -> Rect {
    area.inner(ratatui::layout::Margin {
        horizontal: 1,
        vertical: 0,
    })
}
