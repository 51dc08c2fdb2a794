//! The key hints at the bottom of every screen.

use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

pub struct Footer;

impl Footer {
    /// `[("Enter", "choose"), ("Esc", "back")]` -> " Enter choose · Esc back".
    pub fn line(keys: &[(&str, &str)], theme: Theme) -> Line<'static> {
        let mut spans = vec![Span::raw(" ")];
        for (i, (key, what)) in keys.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", theme.dim()));
            }
            spans.push(Span::styled(key.to_string(), theme.key()));
            spans.push(Span::raw(format!(" {what}")));
        }
        Line::from(spans)
    }
}
