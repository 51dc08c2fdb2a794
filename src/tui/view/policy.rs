use super::{pad, text_field};
use crate::tui::app::{App, Flow, PolicyScreen};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, screen: &PolicyScreen) {
    let theme = app.theme;
    let area = pad(area);
    let question = match app.session.flow {
        Flow::Explain => "Which policy should skset explain?",
        Flow::Recover => {
            "Which policy were the keys made with? It names each mode's application and file."
        }
        _ => "Which policy should the keys follow?",
    };
    let [top, path_row, bottom] = Layout::vertical([
        Constraint::Length(8),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let item = |i: usize, name: &str| {
        let chosen = screen.selected == i;
        Line::from(vec![
            Span::raw(if chosen { "▶ " } else { "  " }),
            Span::styled(
                name.to_string(),
                if chosen {
                    theme.selected()
                } else {
                    theme.heading()
                },
            ),
        ])
    };
    let lines = vec![
        Line::from(question),
        Line::from(""),
        item(0, "Built-in four-mode policy"),
        Line::from(Span::styled(
            "    root: touch + PIN, resident · sudo: touch, resident (TOTP at sudo)",
            theme.dim(),
        )),
        Line::from(Span::styled(
            "    wheel: no touch, non-resident, passphrase file, ssh-agent 10m",
            theme.dim(),
        )),
        Line::from(Span::styled(
            "    robo: no touch, resident, pinned at the server (from=, command=)",
            theme.dim(),
        )),
        Line::from(""),
        item(1, "A policy file (YAML)"),
    ];
    frame.render_widget(Paragraph::new(lines), top);
    text_field(
        frame,
        path_row,
        "    path:",
        &screen.path,
        screen.editing,
        theme,
    );
    let mut below = Vec::new();
    if !screen.editing && screen.selected == 1 {
        below.push(Line::from(Span::styled(
            "    Enter (or e) to type the path",
            theme.dim(),
        )));
    }
    if let Some(error) = &screen.error {
        below.push(Line::from(Span::styled(format!("✗ {error}"), theme.fail())));
    }
    frame.render_widget(Paragraph::new(below).wrap(Wrap { trim: false }), bottom);
}
