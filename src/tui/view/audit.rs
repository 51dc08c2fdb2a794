//! The audit: the form (what to audit), the findings (a table, the selected finding's
//! details below it), the clean state, and the error state.

use super::pad;
use crate::audit::rules::audit_rule;
use crate::audit::{AuditFinding, AuditSummary, Severity};
use crate::tui::app::{App, AUDIT_FIELDS, AUDIT_POLICY};
use crate::tui::message::AuditReport;
use crate::tui::theme::Theme;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

const LABEL_WIDTH: usize = 18;
/// `✗ error`, `! warning`, `i info`: glyph and word, so meaning never rests on colour.
const SEVERITY_WIDTH: u16 = 9;
/// The longest `ID name` of any rule.
const RULE_WIDTH: usize = 37;

pub fn render_form(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let area = pad(area);
    let form = &app.session.audit_form;
    let rows = AUDIT_FIELDS.len() as u16 * 2;
    let what = "Check what is deployed against a policy: key files and their attestations, authorized_keys, ssh_config.";
    let intro_height = super::wrapped_height(what, area.width) + 2;
    let [intro, fields, rest] = Layout::vertical([
        Constraint::Length(intro_height),
        Constraint::Length(rows),
        Constraint::Min(0),
    ])
    .areas(area);
    let intro_lines = vec![
        Line::from(what),
        Line::from(Span::styled(
            "Only reads files: no security key, nothing written.",
            theme.dim(),
        )),
    ];
    frame.render_widget(
        Paragraph::new(intro_lines).wrap(Wrap { trim: false }),
        intro,
    );
    for (i, (label, hint)) in AUDIT_FIELDS.iter().enumerate() {
        let row = Rect {
            y: fields.y + i as u16 * 2,
            height: 1,
            ..fields
        };
        let hint_row = Rect {
            y: row.y + 1,
            ..row
        };
        if row.bottom() > fields.bottom() {
            break;
        }
        let placeholder = if i == AUDIT_POLICY {
            "(built-in four-mode policy)"
        } else {
            ""
        };
        field(
            frame,
            row,
            label,
            &form.fields[i].value,
            placeholder,
            form.focus == i,
            theme,
        );
        if hint_row.bottom() <= fields.bottom() {
            let hint = format!("{}{hint}", " ".repeat(LABEL_WIDTH));
            frame.render_widget(Paragraph::new(Span::styled(hint, theme.dim())), hint_row);
        }
    }
    let mut below = vec![Line::from("")];
    if let Some(error) = &form.error {
        below.push(Line::from(Span::styled(format!("✗ {error}"), theme.fail())));
    }
    below.push(Line::from(Span::styled(
        format!("same as: {}", form.command_line()),
        theme.dim(),
    )));
    frame.render_widget(Paragraph::new(below).wrap(Wrap { trim: false }), rest);
}

/// `▶ label            value     ` with the value reversed and the cursor in it when focused.
fn field(
    frame: &mut Frame,
    area: Rect,
    label: &str,
    value: &str,
    placeholder: &str,
    focused: bool,
    theme: Theme,
) {
    let marker = if focused { "▶ " } else { "  " };
    let label_text = format!("{marker}{label:<width$}", width = LABEL_WIDTH - 2);
    let width = usize::from(area.width).saturating_sub(LABEL_WIDTH);
    let shown = crate::tui::widgets::TextInput::new(value).visible(width);
    let (text, style) = if value.is_empty() && !placeholder.is_empty() {
        (
            placeholder.to_string(),
            if focused {
                theme.selected()
            } else {
                theme.dim()
            },
        )
    } else {
        (
            shown.clone(),
            if focused {
                theme.selected()
            } else {
                Style::new()
            },
        )
    };
    let pad_width = width.saturating_sub(Line::from(text.clone()).width());
    let line = Line::from(vec![
        Span::styled(
            label_text,
            if focused {
                theme.heading()
            } else {
                Style::new()
            },
        ),
        Span::styled(format!("{text}{}", " ".repeat(pad_width)), style),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if focused {
        let x = area.x + LABEL_WIDTH as u16 + Line::from(shown).width() as u16;
        frame.set_cursor_position(Position {
            x: x.min(area.right().saturating_sub(1)),
            y: area.y,
        });
    }
}

pub fn render_findings(app: &App, frame: &mut Frame, area: Rect, selected: usize, scroll: u16) {
    let theme = app.theme;
    let area = pad(area);
    let Some(report) = &app.session.audit_report else {
        return;
    };
    let extra = u16::from(report.left_out > 0);
    if report.findings.is_empty() {
        return render_clean(app, frame, area, report);
    }
    let details_min = (area.height * 45 / 100).clamp(6, 14);
    let table_height = (report.findings.len() as u16 + 1)
        .min(area.height.saturating_sub(1 + extra + details_min))
        .max(2);
    let [top, table_area, details] = Layout::vertical([
        Constraint::Length(1 + extra),
        Constraint::Length(table_height),
        Constraint::Min(0),
    ])
    .areas(area);
    let mut top_lines = vec![summary_line(app, &report.summary, report.passes())];
    if report.left_out > 0 {
        let text = format!(
            "showing the {} most severe; {} less severe left out (skset audit lists every one)",
            report.findings.len(),
            report.left_out
        );
        top_lines.push(Line::from(Span::styled(text, theme.warn())));
    }
    frame.render_widget(Paragraph::new(top_lines), top);

    // Columns: highlight marker (2), severity, rule, location; one space between.
    let rest = usize::from(table_area.width.saturating_sub(2 + SEVERITY_WIDTH + 2));
    let rule_width = RULE_WIDTH.min(rest * 45 / 100).max(5);
    let location_width = rest.saturating_sub(rule_width).max(1);
    let header = Row::new(vec!["SEVERITY", "RULE", "LOCATION"]).style(theme.heading());
    let rows: Vec<Row> = report
        .findings
        .iter()
        .map(|f| {
            let (mark, style) = severity_mark(f.severity, theme);
            Row::new(vec![
                Line::from(Span::styled(format!("{mark} {}", f.severity), style)),
                Line::from(truncate_end(&format!("{} {}", f.rule, f.name), rule_width)),
                Line::from(truncate_start(&location(app, f, false), location_width)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(SEVERITY_WIDTH),
        Constraint::Length(rule_width as u16),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶ ")
        .highlight_spacing(HighlightSpacing::Always);
    let mut state =
        TableState::default().with_selected(Some(selected.min(report.findings.len() - 1)));
    frame.render_stateful_widget(table, table_area, &mut state);

    if let Some(finding) = report.findings.get(selected) {
        render_details(app, frame, details, finding, scroll);
    }
}

fn render_details(app: &App, frame: &mut Frame, area: Rect, f: &AuditFinding, scroll: u16) {
    let theme = app.theme;
    let (mark, style) = severity_mark(f.severity, theme);
    let title = Line::from(vec![
        Span::raw("─ "),
        Span::styled(format!("{mark} {} {} ", f.rule, f.name), style),
    ]);
    let block = Block::new()
        .borders(Borders::TOP)
        .title(title)
        .border_style(theme.dim());
    let mut lines = vec![Line::from(location(app, f, true))];
    let about: Vec<String> = [
        f.mode.as_ref().map(|m| format!("mode {m}")),
        f.account.as_ref().map(|a| format!("account {a}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !about.is_empty() {
        lines.push(Line::from(Span::styled(about.join(" · "), theme.dim())));
    }
    lines.push(Line::from(clean(&f.message)));
    lines.push(Line::from(vec![
        Span::styled("fix: ", theme.key()),
        Span::raw(clean(&f.fix)),
    ]));
    if let Some(rule) = audit_rule(f.rule) {
        lines.push(Line::from(vec![
            Span::styled("why: ", theme.heading()),
            Span::styled(rule.rationale, theme.dim()),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

fn render_clean(app: &App, frame: &mut Frame, area: Rect, report: &AuditReport) {
    let theme = app.theme;
    let s = &report.summary;
    let mut lines = vec![
        summary_line(app, s, true),
        Line::from(""),
        Line::from(Span::styled(
            format!("✓ Clean: nothing audited breaks policy {}.", s.policy),
            theme.ok(),
        )),
        Line::from(""),
        Line::from(format!(
            "Read {}, {}: {}, {}, {}.",
            plural(s.files, "file"),
            plural(s.lines, "line"),
            plural(s.private_keys, "private key"),
            plural(s.authorized_keys_entries, "authorized key"),
            plural(s.sk_keys, "sk key")
        )),
    ];
    let audited: Vec<String> = s
        .ssh_dirs
        .iter()
        .chain(s.authorized_keys.iter().map(|a| &a.path))
        .chain(&s.ssh_configs)
        .map(|p| app.show_path(p))
        .collect();
    for path in audited {
        lines.push(Line::from(Span::styled(
            format!("  {}", clean(&path)),
            theme.dim(),
        )));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

pub fn render_failed(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let message = app.session.audit_error.clone().unwrap_or_default();
    let mut lines = vec![
        Line::from(Span::styled("✗ The audit could not run:", theme.fail())),
        Line::from(""),
    ];
    lines.extend(message.lines().map(|l| Line::from(clean(l))));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Esc goes back to the form to fix it; r tries the same audit again.",
        theme.dim(),
    )));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), pad(area));
}

/// `✗ FAIL at error: 2 errors · 3 warnings · 1 info · policy four-mode, 9 files`: fails
/// at "error", as `skset audit` does by default.
fn summary_line(app: &App, s: &AuditSummary, passes: bool) -> Line<'static> {
    let theme = app.theme;
    let c = s.counts;
    let verdict = if passes {
        Span::styled("✓ pass", theme.ok())
    } else {
        Span::styled("✗ FAIL", theme.fail())
    };
    Line::from(vec![
        verdict,
        Span::raw(" at error: "),
        Span::styled(
            plural(c.error, "error"),
            if c.error > 0 {
                theme.fail()
            } else {
                Style::new()
            },
        ),
        Span::raw(" · "),
        Span::styled(
            plural(c.warning, "warning"),
            if c.warning > 0 {
                theme.warn()
            } else {
                Style::new()
            },
        ),
        Span::raw(format!(" · {} info", c.info)),
        Span::styled(
            format!(" · policy {}, {}", s.policy, plural(s.files, "file")),
            theme.dim(),
        ),
    ])
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn severity_mark(s: Severity, theme: Theme) -> (&'static str, Style) {
    match s {
        Severity::Error => ("✗", theme.fail()),
        Severity::Warning => ("!", theme.warn()),
        Severity::Info => ("i", theme.dim()),
    }
}

/// `~/.ssh/id_root:3`; with `column`, `:3:17` when the finding has one (the details).
fn location(app: &App, f: &AuditFinding, column: bool) -> String {
    let file = clean(&app.show_path(&f.location.file));
    match (f.location.line, f.location.column) {
        (Some(line), Some(c)) if column => format!("{file}:{line}:{c}"),
        (Some(line), _) => format!("{file}:{line}"),
        (None, _) => file,
    }
}

/// Text from files can hold anything; a cell must stay one line of printable text.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn truncate_end(s: &str, width: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= width {
        return s.to_string();
    }
    let mut out: String = chars[..width.saturating_sub(1)].iter().collect();
    out.push('…');
    out
}

/// Keeps the end of a path (the file name and line), which says the most.
fn truncate_start(s: &str, width: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= width {
        return s.to_string();
    }
    let mut out = String::from("…");
    out.extend(&chars[chars.len() - width.saturating_sub(1)..]);
    out
}
