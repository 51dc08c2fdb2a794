use super::pad;
use crate::tui::app::{App, HOME_ITEMS};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, selected: usize) {
    let theme = app.theme;
    let mut lines = vec![
        Line::from("skset puts four SSH keys on one FIDO2 security key, each a deliberate mix of"),
        Line::from("touch, PIN, where the key lives, and how it meets ssh-agent."),
        Line::from(""),
    ];
    for (i, (name, what)) in HOME_ITEMS.iter().enumerate() {
        let chosen = i == selected;
        let marker = if chosen { "▶ " } else { "  " };
        let style = if chosen {
            theme.selected()
        } else {
            theme.heading()
        };
        lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(format!("{} {name}", i + 1), style),
        ]));
        if !what.is_empty() {
            lines.push(Line::from(Span::styled(format!("    {what}"), theme.dim())));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), pad(area));
}
