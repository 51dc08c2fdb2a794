use super::{firmware_text, pad};
use crate::tui::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, selected: usize, loading: bool) {
    let theme = app.theme;
    let mut lines = Vec::new();
    if loading {
        lines.push(Line::from("Looking for security keys…"));
        frame.render_widget(Paragraph::new(lines), pad(area));
        return;
    }
    let devices = &app.session.devices;
    if devices.is_empty() {
        lines.push(Line::from(Span::styled(
            "No security key found.",
            theme.heading(),
        )));
        if let Some(reason) = &app.session.devices_error {
            lines.push(Line::from(Span::styled(reason.clone(), theme.dim())));
        } else {
            lines.push(Line::from(Span::styled(
                "Plug one in and press r (on Linux a udev rule must allow /dev/hidraw*).",
                theme.dim(),
            )));
        }
        lines.push(Line::from(""));
    } else {
        lines.push(Line::from(format!(
            "{} security key(s) plugged in. Which one should get the SSH keys?",
            devices.len()
        )));
        lines.push(Line::from(""));
    }
    for (i, choice) in devices.iter().enumerate() {
        let chosen = i == selected;
        let style = if chosen {
            theme.selected()
        } else {
            theme.heading()
        };
        let product = choice
            .info
            .as_ref()
            .and_then(|i| i.product.clone())
            .unwrap_or_else(|| choice.summary.product.clone());
        let product = if product.is_empty() {
            "FIDO2 security key".to_string()
        } else {
            product
        };
        lines.push(Line::from(vec![
            Span::raw(if chosen { "▶ " } else { "  " }),
            Span::styled(product, style),
            Span::raw(format!("  {}", choice.summary.path)),
        ]));
        match (&choice.info, &choice.error) {
            (Some(info), _) => lines.push(Line::from(Span::styled(
                format!(
                    "    AAGUID {}  firmware {}  {}",
                    info.aaguid,
                    firmware_text(info.firmware_version),
                    ctap_text(&info.ctap_versions)
                ),
                theme.dim(),
            ))),
            (None, Some(e)) => lines.push(Line::from(Span::styled(
                format!("    cannot ask it: {e}"),
                theme.warn(),
            ))),
            (None, None) => {}
        }
    }
    let sim = devices.len();
    let chosen = selected == sim;
    lines.push(Line::from(vec![
        Span::raw(if chosen { "▶ " } else { "  " }),
        Span::styled(
            "Simulated key",
            if chosen {
                theme.selected()
            } else {
                theme.heading()
            },
        ),
        Span::raw("  for trying skset out"),
    ]));
    lines.push(Line::from(Span::styled(
        "    OpenSK in memory: gone when skset exits; its keys log in nowhere",
        theme.dim(),
    )));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), pad(area));
}

/// The highest protocol the key speaks, in the words people know.
fn ctap_text(versions: &[String]) -> &'static str {
    if versions.iter().any(|v| v == "FIDO_2_1") {
        "CTAP 2.1"
    } else if versions.iter().any(|v| v.starts_with("FIDO_2")) {
        "CTAP 2.0"
    } else {
        "U2F only"
    }
}
