use super::pad;
use crate::tui::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render_ready(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let Some(policy) = &app.session.policy else {
        return;
    };
    let device = app
        .session
        .device
        .as_ref()
        .map(|d| d.name())
        .unwrap_or_default();
    let dir = app.show_path(&app.session.out_dir);
    let mut lines = vec![
        Line::from(format!("Write the files of the resident keys that policy {} finds on the {device} into {dir}, with the policy's names and flags (0600).", policy.plan.policy)),
        Line::from(""),
    ];
    for key in &policy.plan.keys {
        if key.resident {
            lines.push(Line::from(format!(
                "  {:<6} {:<10} → {dir}/{}",
                key.mode, key.application, key.private_key_file
            )));
        } else {
            lines.push(Line::from(Span::styled(
                format!(
                    "  {:<6} non-resident: not on the key; its file comes from the old machine",
                    key.mode
                ),
                theme.dim(),
            )));
        }
    }
    lines.push(Line::from(""));
    let (state, style) = if app.session.recover_force {
        ("ON (a backup is kept)", theme.warn())
    } else {
        ("off (such files are left alone and reported)", theme.dim())
    };
    lines.push(Line::from(vec![
        Span::raw("Replace files that hold a different key (f): "),
        Span::styled(state, style),
    ]));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), pad(area));
}
