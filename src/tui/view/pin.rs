use super::{pad, secret_field};
use crate::tui::app::{App, PinKind, PinScreen, PIN_TRIES_WARNING};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, screen: &PinScreen) {
    let theme = app.theme;
    let area = pad(area);
    let device = app
        .session
        .device
        .as_ref()
        .map(|d| d.name())
        .unwrap_or_else(|| "the key".into());
    let intro: Vec<Line> = match screen.kind {
        PinKind::Verify => vec![
            Line::from(format!("Type the PIN of the {device}.")),
            Line::from(Span::styled("The key checks it itself and counts wrong tries; skset never stores it.", theme.dim())),
        ],
        PinKind::Set => vec![
            Line::from(format!("The {device} has no PIN yet. Choose one of at least {} characters.", screen.min_length)),
            Line::from(Span::styled("The key asks for it when the root key signs and for managing its keys. Letters are allowed.", theme.dim())),
        ],
    };
    let fields = if screen.kind == PinKind::Set { 2 } else { 1 };
    let [intro_area, _, fields_area, _, message_area] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(fields),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(intro).wrap(Wrap { trim: false }), intro_area);
    let rows = Layout::vertical(vec![Constraint::Length(1); fields as usize]).split(fields_area);
    let active = !screen.blocked;
    match screen.kind {
        PinKind::Verify => secret_field(frame, rows[0], "PIN", &screen.first, active, theme),
        PinKind::Set => {
            secret_field(
                frame,
                rows[0],
                "New PIN",
                &screen.first,
                active && screen.focus == 0,
                theme,
            );
            secret_field(
                frame,
                rows[1],
                "Repeat",
                &screen.second,
                active && screen.focus == 1,
                theme,
            );
        }
    }
    let mut lines = Vec::new();
    if let Some(error) = &screen.error {
        lines.push(Line::from(Span::styled(format!("✗ {error}"), theme.fail())));
    }
    if screen.kind == PinKind::Verify && !screen.blocked {
        match screen.retries_left {
            Some(1) if screen.last_try_armed => lines.push(Line::from(Span::styled(
                "! This is the LAST try. If this PIN is wrong too, the PIN blocks and only a reset that deletes every credential on the key helps. Press Enter again to send it, or Esc.",
                theme.fail(),
            ))),
            Some(n) if n <= PIN_TRIES_WARNING => lines.push(Line::from(Span::styled(
                format!("! Careful: {n} {} left. When they run out the PIN blocks, and only a reset that deletes every credential on the key gets it back.", if n == 1 { "try" } else { "tries" }),
                theme.warn(),
            ))),
            Some(n) => lines.push(Line::from(Span::styled(format!("{n} tries left before the PIN blocks."), theme.dim()))),
            None => {}
        }
    }
    if screen.blocked {
        lines.push(Line::from(Span::styled(
            "Nothing more can be typed here. Press Esc to choose the key again.",
            theme.dim(),
        )));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        message_area,
    );
}
