use super::{pad, secret_field};
use crate::tui::app::{App, PassphraseScreen, MIN_PASSPHRASE_CHARS};
use crate::tui::widgets::strength::estimate;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, screen: &PassphraseScreen) {
    let theme = app.theme;
    let area = pad(area);
    let modes = screen.modes.join("/");
    let lifetime = app
        .session
        .policy
        .as_ref()
        .and_then(|p| p.plan.keys.iter().find(|k| screen.modes.contains(&k.mode)))
        .and_then(|k| k.agent_lifetime.map(|l| l.to_string()));
    let [intro, _, first, second, strength_row, _, message] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let agent = match lifetime {
        Some(l) => format!("ssh-agent keeps it unlocked for {l} after ssh-add."),
        None => "ssh-agent keeps it unlocked once added.".into(),
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(format!("The {modes} key signs without a touch, so its file is what needs guarding: it gets a passphrase.")),
            Line::from(Span::styled(format!("A copy of the file is useless without it; {agent}"), theme.dim())),
            Line::from(Span::styled(format!("At least {MIN_PASSPHRASE_CHARS} characters. A few random words are easy to type and strong."), theme.dim())),
        ])
        .wrap(Wrap { trim: false }),
        intro,
    );
    secret_field(
        frame,
        first,
        "Passphrase",
        &screen.first,
        screen.focus == 0,
        theme,
    );
    secret_field(
        frame,
        second,
        "Repeat",
        &screen.second,
        screen.focus == 1,
        theme,
    );
    let strength = estimate(screen.first.expose(), MIN_PASSPHRASE_CHARS);
    let style = match strength.cells() {
        0 | 1 => theme.fail(),
        2 => theme.warn(),
        _ => theme.ok(),
    };
    let bar = format!(
        "{}{}",
        "█".repeat(strength.cells()),
        "░".repeat(4 - strength.cells())
    );
    let count = screen.first.chars();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(format!("{:<12}", "Strength")),
            Span::styled(bar, style),
            Span::styled(format!(" {}", strength.word()), style),
            Span::styled(format!("  ({count} characters)"), theme.dim()),
        ])),
        strength_row,
    );
    if let Some(error) = &screen.error {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(format!("✗ {error}"), theme.fail())))
                .wrap(Wrap { trim: false }),
            message,
        );
    }
}
