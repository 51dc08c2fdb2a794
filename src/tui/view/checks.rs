use super::{check_mark, firmware_text, pad};
use crate::enroll::CheckStatus;
use crate::tui::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, scroll: u16) {
    let theme = app.theme;
    let mut lines = Vec::new();
    if let Some(device) = &app.session.device {
        lines.push(Line::from(vec![
            Span::styled(device.name(), theme.heading()),
            Span::raw(format!("  {}", device.path)),
        ]));
        let pin = match &device.pin {
            Some(p) if p.is_set => match p.retries_left {
                Some(n) => format!("PIN set, {n} tries left"),
                None => "PIN set".into(),
            },
            Some(_) => "no PIN yet".into(),
            None => "no PIN support".into(),
        };
        let algorithms: Vec<String> = device
            .info
            .ssh_algorithms
            .iter()
            .map(|a| a.to_string())
            .collect();
        lines.push(Line::from(Span::styled(
            format!(
                "AAGUID {}  firmware {}",
                device.info.aaguid,
                firmware_text(device.info.firmware_version)
            ),
            theme.dim(),
        )));
        lines.push(Line::from(Span::styled(
            format!("{} · {pin}", algorithms.join(", ")),
            theme.dim(),
        )));
        lines.push(Line::from(""));
    }
    if let Some(preflight) = &app.session.device_checks {
        for check in &preflight.checks {
            // No PIN yet is not a problem here: the next step sets one.
            let (status, fix) = if check.id == "pin-set"
                && check.status == CheckStatus::Fail
                && preflight.device.options.client_pin.is_some()
            {
                (
                    CheckStatus::Warn,
                    Some("the next step sets one".to_string()),
                )
            } else {
                (check.status, check.fix.clone())
            };
            lines.push(Line::from(vec![
                check_mark(status, theme),
                Span::raw(check.message.clone()),
            ]));
            if status != CheckStatus::Pass {
                if let Some(fix) = fix {
                    lines.push(Line::from(Span::styled(
                        format!("  → {}", super::review::wizard_fix(&fix)),
                        theme.dim(),
                    )));
                }
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        pad(area),
    );
}
