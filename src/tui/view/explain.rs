use super::pad;
use crate::policy::explain::{Exposure, Verdict};
use crate::tui::app::App;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, mode: usize, scroll: u16) {
    let theme = app.theme;
    let area = pad(area);
    let Some(policy) = &app.session.policy else {
        return;
    };
    let [tabs, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let mut spans = vec![Span::styled(
        format!("{}: ", policy.plan.policy),
        theme.heading(),
    )];
    for (i, e) in policy.explanations.iter().enumerate() {
        let style = if i == mode {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(format!(" {} ", e.mode), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), tabs);
    let Some(e) = policy.explanations.get(mode) else {
        return;
    };
    let mut lines = vec![Line::from(Span::styled(e.summary.clone(), theme.heading()))];
    if let Some(d) = &e.description {
        lines.push(Line::from(Span::styled(d.clone(), theme.dim())));
    }
    let mut section = |title: &str, x: &Exposure| {
        let (mark, word, style) = match x.verdict {
            Verdict::Nothing => ("✓", "gets nothing", theme.ok()),
            Verdict::Limited => ("!", "gets something, limited", theme.warn()),
            Verdict::Signs => ("✗", "can sign", theme.fail()),
        };
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} {title}: "), style),
            Span::styled(word, style),
        ]));
        lines.push(Line::from(x.text.clone()));
        if !x.rules.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("rules: {}", x.rules.join(", ")),
                theme.dim(),
            )));
        }
    };
    section("A thief holding the security key", &e.device_thief);
    section("A host you reached with ssh -A", &e.forwarded_agent_host);
    section("A copy of the laptop's disk", &e.disk_copy);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        body,
    );
}
