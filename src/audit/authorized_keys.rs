//! Auditing an `authorized_keys` file, streamed line by line.
//!
//! Each line is parsed with [`crate::openssh::authorized_keys`] (the same parser the
//! exporter's lines are tested against), its blob decoded, and an sk key's mode taken from
//! its application. Nothing a line contains stops the audit: a malformed line is a finding
//! with its line and column, a line over [`MAX_LINE_BYTES`] is a finding whose bytes were
//! never held in memory.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::io::{self, BufRead};
use std::path::{Component, Path};

use ssh_key::encoding::base64::{Base64, Encoding};
use ssh_key::public::KeyData;
use ssh_key::PublicKey;

use super::lines::{BoundedLine, BoundedLines, MAX_LINE_BYTES};
use super::modes::ModeIndex;
use super::rules::{self, AuditFinding, Location};
use crate::openssh::authorized_keys::{
    parse_line_bytes, AuthOption, AuthorizedKeyLine, Line, KNOWN_KEY_TYPES,
};
use crate::policy::model::Mode;

/// Keys remembered per file for duplicate detection. Each costs ~20 bytes of table, so a
/// file of any length costs at most ~20 MiB here; past the cap duplicates are not looked for
/// (and the audit says so).
pub const MAX_TRACKED_KEYS: usize = 500_000;

/// What one file held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorizedKeysStats {
    pub lines: u64,
    pub keys: u64,
    pub sk_keys: u64,
}

/// Whose authorized_keys a path is, from its shape: `/root/.ssh/...` is root's,
/// `/home/NAME/...` is NAME's (the last such component wins, so a test tree under a temp
/// directory works the same).
pub fn account_from_path(path: &Path) -> Option<String> {
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let mut found = None;
    for (i, part) in parts.iter().enumerate() {
        match *part {
            "home" if i + 2 < parts.len() => found = Some(parts[i + 1].to_owned()),
            "root" if parts.get(i + 1) == Some(&".ssh") => found = Some("root".to_owned()),
            _ => {}
        }
    }
    found
}

/// Audit one file. `account` is whose file it is, when known. I/O errors (the file became
/// unreadable half-way) are returned; everything about the content is a finding.
pub fn audit_authorized_keys(
    modes: &ModeIndex<'_>,
    path: &Path,
    account: Option<&str>,
    reader: impl BufRead,
    sink: &mut dyn FnMut(AuditFinding),
) -> io::Result<AuthorizedKeysStats> {
    audit_authorized_keys_capped(modes, path, account, reader, MAX_TRACKED_KEYS, sink)
}

/// [`audit_authorized_keys`] remembering at most `max_tracked` keys for duplicate detection.
pub fn audit_authorized_keys_capped(
    modes: &ModeIndex<'_>,
    path: &Path,
    account: Option<&str>,
    reader: impl BufRead,
    max_tracked: usize,
    sink: &mut dyn FnMut(AuditFinding),
) -> io::Result<AuthorizedKeysStats> {
    let mut stats = AuthorizedKeysStats::default();
    if account.is_none() {
        sink(AuditFinding::new(
            &rules::ACCOUNT_UNKNOWN,
            Location::file(path),
            "cannot tell whose authorized_keys this is from its path, so wrong-account and file-based keys on governed accounts are not checked",
            format!("name the account: --authorized-keys {}:ACCOUNT", path.display()),
        ));
    }
    let governed = account.is_some_and(|a| modes.governs_account(a));
    let mut seen = Seen::new(max_tracked);
    let mut blob = Vec::new();
    let mut lines = BoundedLines::new(reader);
    while let Some((number, line)) = lines.next_line()? {
        stats.lines += 1;
        let text = match line {
            BoundedLine::TooLong { len } => {
                sink(AuditFinding::new(
                    &rules::LINE_TOO_LONG,
                    Location::line(path, number),
                    format!("line is {len} bytes, over the {MAX_LINE_BYTES}-byte limit; it was skipped unread"),
                    format!("look at it with `sed -n {number}p {} | head -c 200` and remove it; no key line is that long", path.display()),
                ).account(account));
                continue;
            }
            BoundedLine::Text(t) => t,
        };
        let key = match parse_line_bytes(text) {
            Ok(Line::Key(key)) => key,
            Ok(Line::Blank | Line::Comment(_)) => continue,
            Err(e) => {
                sink(AuditFinding::new(
                    &rules::LINE_UNPARSEABLE,
                    Location::at(path, number, e.column),
                    format!("line does not parse: {}", e.kind),
                    format!("correct or remove line {number}: sshd skips it, so the key on it does not work"),
                ).account(account));
                continue;
            }
        };
        stats.keys += 1;
        let ctx = LineContext {
            modes,
            path,
            number,
            account,
            governed,
        };
        let Some(data) = decode_blob(&ctx, &key, &mut blob, sink) else {
            continue;
        };
        if let Some(first) = seen.check(&blob, number) {
            match first {
                Remembered::At(first) => sink(AuditFinding::new(
                    &rules::DUPLICATE_KEY,
                    Location::line(path, number),
                    format!("the {} key on this line is already on line {first}; sshd uses the first and ignores these options", key.key_type),
                    format!("remove line {number}, or merge its options into line {first}"),
                ).account(account)),
                Remembered::CapReached => sink(AuditFinding::new(
                    &rules::DUPLICATE_CHECK_CAPPED,
                    Location::line(path, number),
                    format!("more than {max_tracked} distinct keys: duplicates from here on are not looked for"),
                    "split the file per team or host group, or audit it with a dedicated tool for this size",
                ).account(account)),
            }
        }
        check_key(&ctx, &key, &data, &mut stats, sink);
    }
    Ok(stats)
}

struct LineContext<'a, 'p> {
    modes: &'a ModeIndex<'p>,
    path: &'a Path,
    number: u64,
    account: Option<&'a str>,
    governed: bool,
}

impl LineContext<'_, '_> {
    fn location(&self) -> Location {
        Location::line(self.path, self.number)
    }
}

/// Decode the base64 blob into `blob` and parse it; a finding and `None` when it fails.
fn decode_blob(
    ctx: &LineContext<'_, '_>,
    key: &AuthorizedKeyLine<'_>,
    blob: &mut Vec<u8>,
    sink: &mut dyn FnMut(AuditFinding),
) -> Option<KeyData> {
    let invalid = |message: String| {
        AuditFinding::new(
            &rules::KEY_BLOB_INVALID,
            ctx.location(),
            message,
            format!(
                "paste the key again from its .pub file, or remove line {}",
                ctx.number
            ),
        )
        .account(ctx.account)
    };
    let known = KNOWN_KEY_TYPES.contains(&key.key_type.as_ref());
    // The parser has checked the alphabet and length, so this is the exact size.
    blob.resize(key.key_base64.len() / 4 * 3, 0);
    let decoded_len = match Base64::decode(key.key_base64.as_bytes(), blob) {
        Ok(d) => d.len(),
        Err(_) => {
            sink(invalid(format!(
                "the {} key's base64 does not decode",
                printable(&key.key_type)
            )));
            return None;
        }
    };
    blob.truncate(decoded_len);
    if key.key_type.ends_with("-cert-v01@openssh.com") {
        // A certificate is checked by its CA, not by the line; nothing more to say here.
        return None;
    }
    if !known {
        sink(invalid(format!(
            "unknown key type `{}`: sshd does not accept it",
            printable(&key.key_type)
        )));
        return None;
    }
    match PublicKey::from_bytes(blob) {
        Ok(public) if public.algorithm().as_str() == key.key_type => {
            Some(public.key_data().clone())
        }
        Ok(public) => {
            sink(invalid(format!(
                "the line says {} but the key data is {}; the line was edited or spliced",
                key.key_type,
                public.algorithm().as_str()
            )));
            None
        }
        Err(e) => {
            sink(invalid(format!(
                "the {} key data does not decode: {e}",
                key.key_type
            )));
            None
        }
    }
}

fn check_key(
    ctx: &LineContext<'_, '_>,
    key: &AuthorizedKeyLine<'_>,
    data: &KeyData,
    stats: &mut AuthorizedKeysStats,
    sink: &mut dyn FnMut(AuditFinding),
) {
    let application = match data {
        KeyData::SkEd25519(k) => Some(k.application()),
        KeyData::SkEcdsaSha2NistP256(k) => Some(k.application()),
        _ => None,
    };
    let Some(application) = application else {
        if ctx.governed {
            let account = ctx.account.unwrap_or_default();
            sink(AuditFinding::new(
                &rules::NON_SK_KEY,
                ctx.location(),
                format!("a file-based {} key on {account}, an account the policy governs: it logs in without the security key", key.key_type),
                format!("replace it with the policy's sk key for {account} (`skset authorized-keys`), then remove line {}", ctx.number),
            ).account(ctx.account));
        }
        return;
    };
    stats.sk_keys += 1;
    if key
        .options
        .iter()
        .any(|o| matches!(o, AuthOption::CertAuthority))
    {
        // A CA key signs certificates; touch and PIN come from the certificate's options.
        return;
    }
    let Some(mode) = ctx.modes.unique_by_application(application) else {
        sink(AuditFinding::new(
            &rules::SK_KEY_UNKNOWN_MODE,
            ctx.location(),
            format!("security-key credential for application {} matches no mode of the policy, so its options cannot be checked", printable(application)),
            "enroll the key with skset (each mode has its own application) and replace this line; or add a mode with this application to the policy",
        ).account(ctx.account));
        return;
    };
    let has = |pred: fn(&AuthOption<'_>) -> bool| key.options.iter().any(pred);
    let finding = |rule: &rules::AuditRule, message: String, fix: String| {
        AuditFinding::new(rule, ctx.location(), message, fix)
            .mode(Some(&mode.name))
            .account(ctx.account)
    };
    let no_touch = has(|o| matches!(o, AuthOption::NoTouchRequired));
    if !mode.touch && !no_touch {
        sink(finding(
            &rules::NO_TOUCH_REQUIRED_MISSING,
            format!("{} key ({application}) is a no-touch key but the line lacks no-touch-required: sshd refuses every signature it makes", mode.name),
            format!("add no-touch-required to the options of line {} (`skset authorized-keys` prints the whole line)", ctx.number),
        ));
    }
    if mode.touch && no_touch {
        sink(finding(
            &rules::NO_TOUCH_REQUIRED_ON_TOUCH_MODE,
            format!("{} key ({application}) is a touch key but the line says no-touch-required: the server stops checking for the touch", mode.name),
            format!("remove no-touch-required from line {}", ctx.number),
        ));
    }
    if mode.pin && !has(|o| matches!(o, AuthOption::VerifyRequired)) {
        sink(finding(
            &rules::VERIFY_REQUIRED_MISSING,
            format!("{} key ({application}) is a PIN key but the line lacks verify-required: sshd accepts its signatures without the PIN", mode.name),
            format!("add verify-required to the options of line {} (or set PubkeyAuthOptions verify-required in sshd_config)", ctx.number),
        ));
    }
    check_restrictions(ctx, key, mode, sink);
    if let Some(account) = ctx.account {
        if account != mode.server.account {
            sink(finding(
                &rules::WRONG_ACCOUNT,
                format!("{} key ({application}) is in {account}'s authorized_keys; the policy gives it to {} only", mode.name, mode.server.account),
                format!("remove line {} here; it belongs in ~{}/.ssh/authorized_keys", ctx.number, mode.server.account),
            ));
        }
    }
}

/// from= and command=: present for unattended resident keys, and as the policy says.
fn check_restrictions(
    ctx: &LineContext<'_, '_>,
    key: &AuthorizedKeyLine<'_>,
    mode: &Mode,
    sink: &mut dyn FnMut(AuditFinding),
) {
    let from = key.options.iter().find_map(|o| match o {
        AuthOption::From(v) => Some(v.as_ref()),
        _ => None,
    });
    let command = key.options.iter().find_map(|o| match o {
        AuthOption::Command(v) => Some(v.as_ref()),
        _ => None,
    });
    let policy_from = (!mode.server.from.is_empty()).then(|| mode.server.from.join(","));
    let policy_command = mode.server.command.as_deref();
    let unattended = !mode.touch && !mode.pin && mode.resident;
    let finding = |rule: &rules::AuditRule, message: String, fix: String| {
        AuditFinding::new(rule, ctx.location(), message, fix)
            .mode(Some(&mode.name))
            .account(ctx.account)
    };
    let wanted = |name: &str, value: Option<&str>| match value {
        Some(v) => format!("{name}=\"{v}\""),
        None => format!("{name}=\"...\""),
    };
    if unattended && (from.is_none() || command.is_none()) {
        let missing: Vec<String> = [
            (from.is_none(), wanted("from", policy_from.as_deref())),
            (command.is_none(), wanted("command", policy_command)),
        ]
        .into_iter()
        .filter_map(|(missing, text)| missing.then_some(text))
        .collect();
        sink(finding(
            &rules::UNATTENDED_KEY_UNRESTRICTED,
            format!("{} key signs without touch or PIN, but the line has no {}: whoever holds the device logs in from anywhere and runs anything", mode.name, missing.join(" and no ")),
            format!("add {} to line {}", missing.join(","), ctx.number),
        ));
    }
    for (name, line_value, policy_value) in [
        ("from", from, policy_from.as_deref()),
        ("command", command, policy_command),
    ] {
        let Some(expected) = policy_value else {
            continue;
        };
        match line_value {
            Some(v) if v == expected => {}
            Some(v) => sink(finding(
                &rules::SERVER_OPTIONS_DIFFER,
                format!("{} key has {name}=\"{}\" but the policy says {name}=\"{expected}\"", mode.name, printable(v)),
                format!("set {name}=\"{expected}\" on line {}, or change the policy if the server is right", ctx.number),
            )),
            // Already reported as unrestricted.
            None if unattended => {}
            None => sink(finding(
                &rules::SERVER_OPTIONS_DIFFER,
                format!("{} key has no {name}= but the policy says {name}=\"{expected}\"", mode.name),
                format!("add {name}=\"{expected}\" to line {}", ctx.number),
            )),
        }
    }
}

/// Text from the file, made safe to print in one line of a report.
fn printable(s: &str) -> String {
    const MAX: usize = 120;
    let mut out: String = s.chars().take(MAX).flat_map(char::escape_debug).collect();
    if s.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Keys seen so far in one file: a keyed 128-bit hash of the blob and its line. Random keys
/// so nobody can craft two blobs that look alike here.
struct Seen {
    hashers: (RandomState, RandomState),
    lines: HashMap<u128, u64>,
    max: usize,
    capped: bool,
}

enum Remembered {
    At(u64),
    CapReached,
}

impl Seen {
    fn new(max: usize) -> Seen {
        Seen {
            hashers: (RandomState::new(), RandomState::new()),
            lines: HashMap::new(),
            max,
            capped: false,
        }
    }

    /// The line this blob was first seen on, or a one-time note that the cap was reached.
    fn check(&mut self, blob: &[u8], line: u64) -> Option<Remembered> {
        let h = (u128::from(self.hashers.0.hash_one(blob)) << 64)
            | u128::from(self.hashers.1.hash_one(blob));
        if let Some(first) = self.lines.get(&h) {
            return Some(Remembered::At(*first));
        }
        if self.lines.len() >= self.max {
            if self.capped {
                return None;
            }
            self.capped = true;
            return Some(Remembered::CapReached);
        }
        self.lines.insert(h, line);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_from_paths() {
        assert_eq!(
            account_from_path(Path::new("/root/.ssh/authorized_keys")).as_deref(),
            Some("root")
        );
        assert_eq!(
            account_from_path(Path::new("/home/admin/.ssh/authorized_keys")).as_deref(),
            Some("admin")
        );
        assert_eq!(
            account_from_path(Path::new("/tmp/x/home/robo/.ssh/authorized_keys")).as_deref(),
            Some("robo")
        );
        assert_eq!(
            account_from_path(Path::new("/etc/ssh/authorized_keys")),
            None
        );
        assert_eq!(account_from_path(Path::new("authorized_keys")), None);
    }
}
