use super::pad;
use crate::tui::app::App;
use crate::tui::summary::{enroll_items, recover_items, Item, Kind};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

fn lines(app: &App, items: Vec<Item>) -> Vec<Line<'static>> {
    let theme = app.theme;
    items
        .into_iter()
        .map(|i| {
            let style = match i.kind {
                Kind::Heading => theme.heading(),
                Kind::Text | Kind::Code => ratatui::style::Style::new(),
                Kind::Ok => theme.ok(),
                Kind::Warn => theme.warn(),
                Kind::Dim => theme.dim(),
            };
            Line::from(Span::styled(i.text, style))
        })
        .collect()
}

pub fn render_summary(app: &App, frame: &mut Frame, area: Rect, scroll: u16) {
    let text = lines(app, enroll_items(app));
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        pad(area),
    );
}

pub fn render_recover(app: &App, frame: &mut Frame, area: Rect, scroll: u16) {
    let text = lines(app, recover_items(app));
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        pad(area),
    );
}
