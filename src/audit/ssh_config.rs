//! Auditing the client side: `~/.ssh/config` (ssh_config(5)).
//!
//! ssh takes, for each option, the first value it meets among the blocks that match the
//! host, in file order. Without a host name to evaluate, the audit judges each block that
//! names a policy key (`IdentityFile .../id_wheel`) together with the blocks that apply to
//! every host (`Host *`, `Match all`, and lines before the first block): the first value
//! among those, in file order, is what ssh uses for hosts matching that block. `Include` is
//! not followed; pass included files with another `--ssh-config`.

use std::io::{self, BufRead};
use std::path::Path;

use super::lines::{BoundedLine, BoundedLines, MAX_LINE_BYTES};
use super::modes::ModeIndex;
use super::rules::{self, AuditFinding, Location};
use crate::policy::model::{Lifetime, Mode};

/// An option's value and where it was written.
#[derive(Debug, Clone)]
struct Setting {
    value: String,
    line: u64,
}

/// `Host`/`Match` block (or the lines before the first one).
#[derive(Debug, Default)]
struct Block {
    /// What opened it, for messages (`Host *`, `Match user wheel`).
    header: String,
    line: u64,
    /// Applies to every host.
    global: bool,
    identity_files: Vec<Setting>,
    forward_agent: Option<Setting>,
    add_keys_to_agent: Option<Setting>,
}

/// `AddKeysToAgent` as ssh reads it (8.9+): `yes|no|ask|confirm`, `confirm TIME`, or a TIME
/// alone meaning yes with that lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddKeys {
    No,
    Forever,
    For(u32),
    /// Not a value ssh accepts (ssh refuses the file).
    Invalid,
}

fn parse_add_keys(value: &str) -> AddKeys {
    let mut words = value.split_whitespace();
    let first = words.next().unwrap_or_default().to_ascii_lowercase();
    let second = words.next();
    if words.next().is_some() {
        return AddKeys::Invalid;
    }
    match (first.as_str(), second) {
        ("no", None) => AddKeys::No,
        ("yes" | "ask" | "confirm", None) => AddKeys::Forever,
        ("confirm", Some(t)) => Lifetime::parse(t)
            .map(|l| AddKeys::For(l.seconds))
            .unwrap_or(AddKeys::Invalid),
        (t, None) => Lifetime::parse(t)
            .map(|l| AddKeys::For(l.seconds))
            .unwrap_or(AddKeys::Invalid),
        _ => AddKeys::Invalid,
    }
}

/// `ForwardAgent no` is the only value that does not forward (yes, a socket path or an
/// environment variable all do).
fn forwards(value: &str) -> bool {
    !value.trim().eq_ignore_ascii_case("no")
}

/// Audit one ssh_config file.
pub fn audit_ssh_config(
    modes: &ModeIndex<'_>,
    path: &Path,
    reader: impl BufRead,
    sink: &mut dyn FnMut(AuditFinding),
) -> io::Result<u64> {
    let (blocks, lines) = read_blocks(path, reader, sink)?;
    let no_touch_in_agent: Vec<&Mode> = modes
        .policy
        .modes
        .iter()
        .filter(|m| !m.touch && m.agent.load)
        .collect();
    for block in &blocks {
        let block_modes: Vec<&Mode> = block
            .identity_files
            .iter()
            .filter_map(|f| file_name(&f.value).and_then(|n| modes.by_file_name(n)))
            .collect();
        // What ssh uses for hosts of this block: first among this block and the global ones.
        let effective = |pick: fn(&Block) -> Option<&Setting>| {
            blocks
                .iter()
                .filter(|b| b.global || std::ptr::eq(*b, block))
                .filter_map(pick)
                .min_by_key(|s| s.line)
        };
        let forward = effective(|b| b.forward_agent.as_ref()).filter(|s| forwards(&s.value));
        let mut reported_forward = false;
        for mode in &block_modes {
            if let (false, Some(setting)) = (mode.touch, forward) {
                reported_forward = true;
                sink(AuditFinding::new(
                    &rules::FORWARD_AGENT_NO_TOUCH,
                    Location::line(path, setting.line),
                    format!("hosts of `{}` (line {}) use the no-touch {} key and forward the agent (ForwardAgent {}): a compromised host can sign as {} without a touch", block.header, block.line, mode.name, setting.value, mode.name),
                    format!("set ForwardAgent no in `{}`; use ProxyJump (-J) to reach hosts behind it", block.header),
                ).mode(Some(&mode.name)));
            }
            check_add_keys(
                mode,
                block,
                effective(|b| b.add_keys_to_agent.as_ref()),
                path,
                sink,
            );
        }
        if let (Some(setting), false, Some(loaded)) = (
            block.forward_agent.as_ref().filter(|s| forwards(&s.value)),
            reported_forward,
            no_touch_in_agent.first(),
        ) {
            let scope = if block.global {
                "every host".to_owned()
            } else {
                format!("hosts of `{}`", block.header)
            };
            sink(AuditFinding::new(
                &rules::FORWARD_AGENT_EXPOSES_AGENT,
                Location::line(path, setting.line),
                format!("ForwardAgent {} forwards the whole agent to {scope}, including the no-touch {} key while it is loaded", setting.value, loaded.name),
                format!("forward only where needed and only touch keys: set ForwardAgent no here, or give {} its own agent (IdentityAgent) that is never forwarded", loaded.name),
            ).mode(Some(&loaded.name)));
        }
    }
    Ok(lines)
}

fn check_add_keys(
    mode: &Mode,
    block: &Block,
    setting: Option<&Setting>,
    path: &Path,
    sink: &mut dyn FnMut(AuditFinding),
) {
    let Some(limit) = mode.agent.lifetime else {
        return;
    };
    let Some(setting) = setting else { return };
    let finding = |rule: &rules::AuditRule, message: String| {
        AuditFinding::new(rule, Location::line(path, setting.line), message, format!("write `AddKeysToAgent {limit}` in `{}` (what `skset export` prints), or `no` and add it with `ssh-add -t {limit}`", block.header)).mode(Some(&mode.name))
    };
    match parse_add_keys(&setting.value) {
        AddKeys::No => {}
        AddKeys::Forever => sink(finding(
            &rules::ADD_KEYS_WITHOUT_LIFETIME,
            format!("hosts of `{}` add the {} key to the agent with no lifetime (AddKeysToAgent {}); the policy keeps it at most {limit}", block.header, mode.name, setting.value),
        )),
        AddKeys::For(seconds) if seconds > limit.seconds => sink(finding(
            &rules::ADD_KEYS_LIFETIME_TOO_LONG,
            format!("hosts of `{}` keep the {} key in the agent for {} (AddKeysToAgent {}); the policy allows {limit}", block.header, mode.name, Lifetime { seconds }, setting.value),
        )),
        AddKeys::For(_) => {}
        AddKeys::Invalid => sink(AuditFinding::new(
            &rules::CONFIG_LINE_UNREADABLE,
            Location::line(path, setting.line),
            format!("AddKeysToAgent {:?} is not a value ssh accepts, so ssh refuses this config", setting.value),
            format!("write `AddKeysToAgent {limit}`"),
        ).mode(Some(&mode.name))),
    }
}

/// The last path component of an IdentityFile value (`~/.ssh/id_wheel` -> `id_wheel`).
fn file_name(value: &str) -> Option<&str> {
    value.rsplit('/').next().filter(|n| !n.is_empty())
}

fn read_blocks(
    path: &Path,
    reader: impl BufRead,
    sink: &mut dyn FnMut(AuditFinding),
) -> io::Result<(Vec<Block>, u64)> {
    let mut blocks = vec![Block {
        header: "(before any Host)".into(),
        line: 0,
        global: true,
        ..Block::default()
    }];
    let mut lines = BoundedLines::new(reader);
    let mut last = 0;
    while let Some((number, line)) = lines.next_line()? {
        last = number;
        let text = match line {
            BoundedLine::TooLong { len } => {
                sink(AuditFinding::new(&rules::LINE_TOO_LONG, Location::line(path, number), format!("line is {len} bytes, over the {MAX_LINE_BYTES}-byte limit; it was skipped unread"), format!("remove line {number}; ssh refuses lines this long")));
                continue;
            }
            BoundedLine::Text(t) => t,
        };
        let Ok(text) = std::str::from_utf8(text) else {
            sink(AuditFinding::new(
                &rules::CONFIG_LINE_UNREADABLE,
                Location::line(path, number),
                "the line is not UTF-8 text",
                format!("remove or re-type line {number}"),
            ));
            continue;
        };
        let Some((keyword, value)) = split_keyword(text) else {
            continue;
        };
        let setting = || Setting {
            value: unquote(value).to_owned(),
            line: number,
        };
        let watched = ["forwardagent", "addkeystoagent", "identityfile"]
            .iter()
            .any(|k| keyword.eq_ignore_ascii_case(k));
        if watched && value.trim().is_empty() {
            sink(AuditFinding::new(
                &rules::CONFIG_LINE_UNREADABLE,
                Location::line(path, number),
                format!("{keyword} has no value, so ssh refuses this config"),
                format!("give {keyword} a value on line {number}, or remove the line"),
            ));
            continue;
        }
        if keyword.eq_ignore_ascii_case("host") {
            let global = value.split_whitespace().any(|p| p == "*")
                && !value.split_whitespace().any(|p| p.starts_with('!'));
            blocks.push(Block {
                header: format!("Host {value}"),
                line: number,
                global,
                ..Block::default()
            });
        } else if keyword.eq_ignore_ascii_case("match") {
            let global = value.trim().eq_ignore_ascii_case("all");
            blocks.push(Block {
                header: format!("Match {value}"),
                line: number,
                global,
                ..Block::default()
            });
        } else if let Some(block) = blocks.last_mut() {
            if keyword.eq_ignore_ascii_case("identityfile") {
                block.identity_files.push(setting());
            } else if keyword.eq_ignore_ascii_case("forwardagent") {
                block.forward_agent.get_or_insert_with(setting);
            } else if keyword.eq_ignore_ascii_case("addkeystoagent") {
                block.add_keys_to_agent.get_or_insert_with(setting);
            }
        }
    }
    Ok((blocks, last))
}

/// `Keyword value`, `Keyword=value` or `Keyword = value`; `None` for blanks and comments.
fn split_keyword(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_matches(|c: char| c.is_ascii_whitespace());
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_ascii_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let rest = rest
        .strip_prefix('=')
        .unwrap_or(rest)
        .trim_start_matches(|c: char| c.is_ascii_whitespace());
    Some((keyword, rest))
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_keys_values() {
        assert_eq!(parse_add_keys("no"), AddKeys::No);
        assert_eq!(parse_add_keys("yes"), AddKeys::Forever);
        assert_eq!(parse_add_keys("Confirm"), AddKeys::Forever);
        assert_eq!(parse_add_keys("10m"), AddKeys::For(600));
        assert_eq!(parse_add_keys("confirm 1h"), AddKeys::For(3600));
        assert_eq!(parse_add_keys("yes 1h"), AddKeys::Invalid);
        assert_eq!(parse_add_keys("sometimes"), AddKeys::Invalid);
    }

    #[test]
    fn keywords() {
        assert_eq!(
            split_keyword("  ForwardAgent=yes"),
            Some(("ForwardAgent", "yes"))
        );
        assert_eq!(
            split_keyword("IdentityFile = \"~/.ssh/id x\""),
            Some(("IdentityFile", "\"~/.ssh/id x\""))
        );
        assert_eq!(split_keyword("# c"), None);
        assert_eq!(file_name("~/.ssh/id_wheel"), Some("id_wheel"));
    }
}
