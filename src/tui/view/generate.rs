use super::pad;
use crate::tui::app::{App, ModeState};
use crate::tui::summary::{progress_word, status_word};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Gauge, Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let area = pad(area);
    let Some(policy) = &app.session.policy else {
        return;
    };
    let n = policy.plan.keys.len() as u16;
    let [intro, touch_area, list, gauge_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(4),
        Constraint::Length(n),
        Constraint::Length(2),
    ])
    .areas(area);
    let device = app
        .session
        .device
        .as_ref()
        .map(|d| d.name())
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(format!(
                "One credential per mode on the {device}; touch it each time it blinks."
            )),
            Line::from(Span::styled(
                "Files are written together at the end, each mode all or nothing.",
                theme.dim(),
            )),
        ])
        .wrap(Wrap { trim: false }),
        intro,
    );

    let touching = app.touch.is_some()
        || app
            .session
            .progress
            .iter()
            .any(|s| matches!(s, ModeState::Touch));
    if touching {
        let blink = app.tick % 4 < 2;
        let style = if blink {
            theme.touch()
        } else {
            theme.heading()
        };
        let mode = policy
            .plan
            .keys
            .iter()
            .zip(&app.session.progress)
            .find(|(_, s)| matches!(s, ModeState::Touch | ModeState::Working))
            .map(|(k, _)| k.mode.clone())
            .unwrap_or_default();
        let block = Block::bordered()
            .border_type(BorderType::Thick)
            .border_style(style);
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(Span::styled(
                    format!("TOUCH YOUR SECURITY KEY NOW ({mode})"),
                    style,
                )),
                Line::from("it is blinking; it waits about 30 seconds"),
            ])
            .alignment(Alignment::Center)
            .block(block),
            touch_area,
        );
    }

    let mut lines = Vec::new();
    for (key, state) in policy.plan.keys.iter().zip(&app.session.progress) {
        let (mark, style, word, detail) = match state {
            ModeState::Prepared {
                status,
                fingerprint,
            } => ("✓", theme.ok(), status_word(*status), fingerprint.clone()),
            ModeState::Written(o) => ("✓", theme.ok(), "files written", o.fingerprint.clone()),
            ModeState::Failed { kind, .. } => ("✗", theme.fail(), "failed", kind.clone()),
            ModeState::Touch => ("●", theme.touch(), progress_word(state), String::new()),
            ModeState::Working | ModeState::Writing => {
                ("…", theme.key(), progress_word(state), String::new())
            }
            ModeState::Waiting => ("·", theme.dim(), progress_word(state), String::new()),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled(format!("{:<6} ", key.mode), theme.heading()),
            Span::styled(word.to_string(), style),
            Span::raw(if detail.is_empty() {
                String::new()
            } else {
                format!(" · {detail}")
            }),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), list);

    let done = app
        .session
        .progress
        .iter()
        .filter(|s| {
            matches!(
                s,
                ModeState::Prepared { .. } | ModeState::Written(_) | ModeState::Writing
            )
        })
        .count();
    let ratio = if n == 0 {
        0.0
    } else {
        done as f64 / f64::from(n)
    };
    let gauge_area = Rect {
        y: gauge_area.y + 1,
        height: 1,
        ..gauge_area
    };
    frame.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(format!("{done} of {n} credentials"))
            .gauge_style(theme.ok()),
        gauge_area,
    );
}
