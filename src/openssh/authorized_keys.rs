//! One `authorized_keys` line: typed options, key type, base64 blob, comment.
//!
//! Rendering and parsing follow sshd, not a grammar of our own:
//! - option names are matched case-insensitively (`auth-options.c`, `opt_flag`/`opt_match`);
//! - a value is always in double quotes, and the only escape is `\"` (`opt_dequote`): every
//!   other backslash is kept as is. So a value that ends in a backslash, or holds a line
//!   break or NUL, cannot be written at all, and rendering refuses it instead of writing a
//!   line sshd would read differently;
//! - the option field ends at the first space or tab outside quotes
//!   (`sshkey_advance_past_options`), which is why `command="echo a b"` is one option.
//!
//! `ssh-key`'s own parser splits on the space inside such a quoted value, hence this module.
//!
//! The parser borrows from its input (values are copied only when they contain `\"`) and
//! does one pass over the bytes of a line with no regex, so it can stream a 100k-line file.
//! Every malformed line gives a [`LineError`] with the column and what is wrong; no input
//! makes it panic (see `tests/policy_authorized_keys.rs`).

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};

/// Key types OpenSSH writes in the second field. Used to tell "options first" from
/// "key first": sshd tries to read a key and falls back to options; we do the same by name.
pub const KNOWN_KEY_TYPES: &[&str] = &[
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "ssh-dss",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
];

/// One option in the first field of an `authorized_keys` line.
///
/// Flag options have no value; valued options carry the value *unescaped* (as sshd sees it).
/// Options skset does not know are kept in [`AuthOption::Unknown`] so that a line can be
/// read, audited and written back without losing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthOption<'a> {
    /// `restrict`: no forwarding of any kind, no pty, no ~/.ssh/rc (and whatever future
    /// restrictions sshd adds).
    Restrict,
    /// `cert-authority`: the key is a CA for user certificates.
    CertAuthority,
    /// `no-touch-required`: accept signatures made without user presence.
    NoTouchRequired,
    /// `touch-required`: undo a `no-touch-required` from a certificate.
    TouchRequired,
    /// `verify-required`: accept only signatures made with user verification (the PIN).
    VerifyRequired,
    NoAgentForwarding,
    AgentForwarding,
    NoPortForwarding,
    PortForwarding,
    NoPty,
    Pty,
    NoUserRc,
    UserRc,
    NoX11Forwarding,
    X11Forwarding,
    /// `command="..."`: the forced command.
    Command(Cow<'a, str>),
    /// `environment="NAME=value"` (needs `PermitUserEnvironment` on the server).
    Environment(Cow<'a, str>),
    /// `from="pattern-list"`: client addresses or host name patterns allowed to use the key.
    From(Cow<'a, str>),
    /// `permitopen="host:port"`.
    PermitOpen(Cow<'a, str>),
    /// `permitlisten="[host:]port"`.
    PermitListen(Cow<'a, str>),
    /// `principals="name,..."` (with `cert-authority`).
    Principals(Cow<'a, str>),
    /// `tunnel="n"`.
    Tunnel(Cow<'a, str>),
    /// `expiry-time="YYYYMMDD[HHMM[SS]][Z]"`.
    ExpiryTime(Cow<'a, str>),
    /// Anything else, preserved as written (name case included).
    Unknown {
        name: Cow<'a, str>,
        value: Option<Cow<'a, str>>,
    },
}

/// How a known option name is spelled when written and what it takes.
enum Known {
    Flag(AuthOption<'static>),
    Valued(Valued),
}

/// The valued options, as a tag (the value comes from the line).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Valued {
    Command,
    Environment,
    From,
    PermitOpen,
    PermitListen,
    Principals,
    Tunnel,
    ExpiryTime,
}

impl Valued {
    fn make(self, v: Cow<'_, str>) -> AuthOption<'_> {
        match self {
            Valued::Command => AuthOption::Command(v),
            Valued::Environment => AuthOption::Environment(v),
            Valued::From => AuthOption::From(v),
            Valued::PermitOpen => AuthOption::PermitOpen(v),
            Valued::PermitListen => AuthOption::PermitListen(v),
            Valued::Principals => AuthOption::Principals(v),
            Valued::Tunnel => AuthOption::Tunnel(v),
            Valued::ExpiryTime => AuthOption::ExpiryTime(v),
        }
    }

    fn of(opt: &AuthOption<'_>) -> Option<Valued> {
        Some(match opt {
            AuthOption::Command(_) => Valued::Command,
            AuthOption::Environment(_) => Valued::Environment,
            AuthOption::From(_) => Valued::From,
            AuthOption::PermitOpen(_) => Valued::PermitOpen,
            AuthOption::PermitListen(_) => Valued::PermitListen,
            AuthOption::Principals(_) => Valued::Principals,
            AuthOption::Tunnel(_) => Valued::Tunnel,
            AuthOption::ExpiryTime(_) => Valued::ExpiryTime,
            _ => return None,
        })
    }
}

/// The canonical spellings, as in sshd(8). Matching is case-insensitive, like sshd.
static KNOWN_OPTIONS: &[(&str, Known)] = &[
    ("restrict", Known::Flag(AuthOption::Restrict)),
    ("cert-authority", Known::Flag(AuthOption::CertAuthority)),
    (
        "no-touch-required",
        Known::Flag(AuthOption::NoTouchRequired),
    ),
    ("touch-required", Known::Flag(AuthOption::TouchRequired)),
    ("verify-required", Known::Flag(AuthOption::VerifyRequired)),
    (
        "no-agent-forwarding",
        Known::Flag(AuthOption::NoAgentForwarding),
    ),
    ("agent-forwarding", Known::Flag(AuthOption::AgentForwarding)),
    (
        "no-port-forwarding",
        Known::Flag(AuthOption::NoPortForwarding),
    ),
    ("port-forwarding", Known::Flag(AuthOption::PortForwarding)),
    ("no-pty", Known::Flag(AuthOption::NoPty)),
    ("pty", Known::Flag(AuthOption::Pty)),
    ("no-user-rc", Known::Flag(AuthOption::NoUserRc)),
    ("user-rc", Known::Flag(AuthOption::UserRc)),
    (
        "no-X11-forwarding",
        Known::Flag(AuthOption::NoX11Forwarding),
    ),
    ("X11-forwarding", Known::Flag(AuthOption::X11Forwarding)),
    ("command", Known::Valued(Valued::Command)),
    ("environment", Known::Valued(Valued::Environment)),
    ("from", Known::Valued(Valued::From)),
    ("permitopen", Known::Valued(Valued::PermitOpen)),
    ("permitlisten", Known::Valued(Valued::PermitListen)),
    ("principals", Known::Valued(Valued::Principals)),
    ("tunnel", Known::Valued(Valued::Tunnel)),
    ("expiry-time", Known::Valued(Valued::ExpiryTime)),
];

fn lookup(name: &str) -> Option<&'static (&'static str, Known)> {
    KNOWN_OPTIONS
        .iter()
        .find(|(canonical, _)| canonical.eq_ignore_ascii_case(name))
}

impl<'a> AuthOption<'a> {
    /// Build an option from its name and (unescaped) value, as the parser does. A known
    /// flag given a value, or a known valued option given none, is an error sshd would
    /// also refuse; the message says how to write it.
    pub fn from_parts(name: &'a str, value: Option<Cow<'a, str>>) -> Result<Self, LineErrorKind> {
        match (lookup(name), value) {
            (Some((_, Known::Flag(flag))), None) => Ok(flag.clone()),
            (Some((canonical, Known::Flag(_))), Some(_)) => {
                Err(LineErrorKind::FlagWithValue { name: canonical })
            }
            (Some((_, Known::Valued(kind))), Some(v)) => Ok(kind.make(v)),
            (Some((canonical, Known::Valued(_))), None) => {
                Err(LineErrorKind::MissingValue { name: canonical })
            }
            (None, value) => Ok(AuthOption::Unknown {
                name: Cow::Borrowed(name),
                value,
            }),
        }
    }

    /// The option name as written by [`render`](Self::render).
    pub fn name(&self) -> &str {
        match self {
            AuthOption::Unknown { name, .. } => name,
            known => KNOWN_OPTIONS
                .iter()
                .find(|(_, k)| match k {
                    Known::Flag(f) => f == known,
                    Known::Valued(kind) => Valued::of(known) == Some(*kind),
                })
                .map(|(canonical, _)| *canonical)
                .unwrap_or("?"),
        }
    }

    /// The unescaped value, for valued options.
    pub fn value(&self) -> Option<&str> {
        match self {
            AuthOption::Command(v)
            | AuthOption::Environment(v)
            | AuthOption::From(v)
            | AuthOption::PermitOpen(v)
            | AuthOption::PermitListen(v)
            | AuthOption::Principals(v)
            | AuthOption::Tunnel(v)
            | AuthOption::ExpiryTime(v) => Some(v),
            AuthOption::Unknown { value, .. } => value.as_deref(),
            _ => None,
        }
    }

    /// True for options skset does not model.
    pub fn is_unknown(&self) -> bool {
        matches!(self, AuthOption::Unknown { .. })
    }

    /// Copy borrowed text so the option can outlive its input.
    pub fn into_owned(self) -> AuthOption<'static> {
        fn own(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        match self {
            AuthOption::Restrict => AuthOption::Restrict,
            AuthOption::CertAuthority => AuthOption::CertAuthority,
            AuthOption::NoTouchRequired => AuthOption::NoTouchRequired,
            AuthOption::TouchRequired => AuthOption::TouchRequired,
            AuthOption::VerifyRequired => AuthOption::VerifyRequired,
            AuthOption::NoAgentForwarding => AuthOption::NoAgentForwarding,
            AuthOption::AgentForwarding => AuthOption::AgentForwarding,
            AuthOption::NoPortForwarding => AuthOption::NoPortForwarding,
            AuthOption::PortForwarding => AuthOption::PortForwarding,
            AuthOption::NoPty => AuthOption::NoPty,
            AuthOption::Pty => AuthOption::Pty,
            AuthOption::NoUserRc => AuthOption::NoUserRc,
            AuthOption::UserRc => AuthOption::UserRc,
            AuthOption::NoX11Forwarding => AuthOption::NoX11Forwarding,
            AuthOption::X11Forwarding => AuthOption::X11Forwarding,
            AuthOption::Command(v) => AuthOption::Command(own(v)),
            AuthOption::Environment(v) => AuthOption::Environment(own(v)),
            AuthOption::From(v) => AuthOption::From(own(v)),
            AuthOption::PermitOpen(v) => AuthOption::PermitOpen(own(v)),
            AuthOption::PermitListen(v) => AuthOption::PermitListen(own(v)),
            AuthOption::Principals(v) => AuthOption::Principals(own(v)),
            AuthOption::Tunnel(v) => AuthOption::Tunnel(own(v)),
            AuthOption::ExpiryTime(v) => AuthOption::ExpiryTime(own(v)),
            AuthOption::Unknown { name, value } => AuthOption::Unknown {
                name: own(name),
                value: value.map(own),
            },
        }
    }

    /// Append this option as sshd reads it: `name` or `name="value"` with `"` escaped.
    pub fn render_into(&self, out: &mut String) -> Result<(), RenderError> {
        let name = self.name();
        if name.is_empty() || !name.bytes().all(is_option_name_byte) {
            return Err(RenderError::BadOptionName {
                name: name.to_owned(),
            });
        }
        out.push_str(name);
        if let Some(value) = self.value() {
            check_value_renderable(name, value)?;
            out.push_str("=\"");
            for ch in value.chars() {
                if ch == '"' {
                    out.push('\\');
                }
                out.push(ch);
            }
            out.push('"');
        }
        Ok(())
    }

    /// This option alone, rendered.
    pub fn render(&self) -> Result<String, RenderError> {
        let mut s = String::new();
        self.render_into(&mut s)?;
        Ok(s)
    }

    /// Parse a single option such as `from="10.0.0.0/8"` (as written in a policy file).
    pub fn parse(text: &'a str) -> Result<Self, LineError> {
        let mut p = Cursor { s: text, pos: 0 };
        let opt = p.option()?;
        if p.pos != text.len() {
            return Err(p.error(LineErrorKind::TrailingAfterOption));
        }
        Ok(opt)
    }
}

impl fmt::Display for AuthOption<'_> {
    /// Lossless for every value [`render`](Self::render) accepts; an unrenderable value
    /// shows as `name=<unrenderable>` rather than a line sshd would misread.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.render() {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}=<unrenderable>", self.name()),
        }
    }
}

impl Serialize for AuthOption<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.render().map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&s)
    }
}

fn is_option_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn check_value_renderable(name: &str, value: &str) -> Result<(), RenderError> {
    if let Some(ch) = value.chars().find(|c| matches!(c, '\n' | '\r' | '\0')) {
        return Err(RenderError::LineBreakInValue {
            name: name.to_owned(),
            ch,
        });
    }
    if value.ends_with('\\') {
        return Err(RenderError::TrailingBackslash {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Why a line or option cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("option name {name:?} is not a valid authorized_keys option name: use letters, digits and '-'")]
    BadOptionName { name: String },
    #[error("the value of {name}= contains {ch:?}: authorized_keys is one line per key, so remove the line break or NUL")]
    LineBreakInValue { name: String, ch: char },
    #[error("the value of {name}= ends in a backslash, which sshd would read as an escaped closing quote: remove the trailing '\\' (for a command, wrap it in a script)")]
    TrailingBackslash { name: String },
    #[error("the key field {field} is empty or contains whitespace: pass the key type and base64 blob exactly as in the .pub file")]
    BadKeyField { field: &'static str },
    #[error("the comment contains a line break: use a single-line comment")]
    LineBreakInComment,
}

/// A parsed or to-be-rendered `authorized_keys` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizedKeyLine<'a> {
    pub options: Vec<AuthOption<'a>>,
    /// e.g. `sk-ssh-ed25519@openssh.com`.
    pub key_type: Cow<'a, str>,
    /// The base64 public key blob, as written (not decoded).
    pub key_base64: Cow<'a, str>,
    /// The rest of the line after the blob, without trailing whitespace; sshd ignores it.
    pub comment: Option<Cow<'a, str>>,
}

impl<'a> AuthorizedKeyLine<'a> {
    /// Render the line without a trailing newline.
    pub fn render(&self) -> Result<String, RenderError> {
        let mut out = render_options(&self.options)?;
        if !out.is_empty() {
            out.push(' ');
        }
        for (field, text) in [
            ("key type", &self.key_type),
            ("base64 blob", &self.key_base64),
        ] {
            if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c == '\0') {
                return Err(RenderError::BadKeyField { field });
            }
        }
        out.push_str(&self.key_type);
        out.push(' ');
        out.push_str(&self.key_base64);
        if let Some(comment) = self.comment.as_deref().filter(|c| !c.is_empty()) {
            if comment.contains(['\n', '\r', '\0']) {
                return Err(RenderError::LineBreakInComment);
            }
            out.push(' ');
            out.push_str(comment);
        }
        Ok(out)
    }

    /// The first option of a kind, e.g. `line.find(|o| matches!(o, AuthOption::From(_)))`.
    pub fn find(&self, pred: impl Fn(&AuthOption<'a>) -> bool) -> Option<&AuthOption<'a>> {
        self.options.iter().find(|o| pred(o))
    }

    pub fn into_owned(self) -> AuthorizedKeyLine<'static> {
        AuthorizedKeyLine {
            options: self
                .options
                .into_iter()
                .map(AuthOption::into_owned)
                .collect(),
            key_type: Cow::Owned(self.key_type.into_owned()),
            key_base64: Cow::Owned(self.key_base64.into_owned()),
            comment: self.comment.map(|c| Cow::Owned(c.into_owned())),
        }
    }
}

/// Render a comma-separated option field (empty string for no options).
pub fn render_options(options: &[AuthOption<'_>]) -> Result<String, RenderError> {
    let mut out = String::new();
    for (i, opt) in options.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        opt.render_into(&mut out)?;
    }
    Ok(out)
}

/// What one line of an `authorized_keys` file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// Empty or whitespace only.
    Blank,
    /// Starts with `#` (after optional whitespace); the text after `#`.
    Comment(&'a str),
    Key(AuthorizedKeyLine<'a>),
}

/// A malformed line: where (1-based character column) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct LineError {
    /// 1-based column, counted in characters (bytes for non-UTF-8 input).
    pub column: usize,
    /// 0-based byte offset into the line as given.
    pub byte_offset: usize,
    pub kind: LineErrorKind,
}

/// What is wrong with a line; each message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineErrorKind {
    #[error("the line is not valid UTF-8: authorized_keys holds text; remove or re-encode the stray byte")]
    InvalidUtf8,
    #[error("the line contains a NUL byte: sshd stops reading there; remove it")]
    NulByte,
    #[error("the line contains a line break: give one line at a time")]
    EmbeddedNewline,
    #[error("expected an option name here (options look like `restrict` or `from=\"10.0.0.0/8\"`, separated by commas without spaces)")]
    EmptyOptionName,
    #[error("option values must be in double quotes: write {name}=\"...\"")]
    UnquotedValue { name: String },
    #[error(
        "the quoted value is not closed: add the missing '\"' (write a literal quote as \\\")"
    )]
    UnterminatedQuote,
    #[error("unexpected {found:?} after an option: separate options with ',' and end the option list with a space before the key type")]
    BadSeparator { found: char },
    #[error("`{name}` takes no value: write just {name}")]
    FlagWithValue { name: &'static str },
    #[error("`{name}` needs a value: write {name}=\"...\"")]
    MissingValue { name: &'static str },
    #[error("unexpected text after the option: a single option was expected")]
    TrailingAfterOption,
    #[error("options end here but no key follows: add `<key type> <base64>` after a space")]
    MissingKeyType,
    #[error("key type `{key_type}` has no base64 key blob after it: paste the whole line from the .pub file")]
    MissingKeyBlob { key_type: String },
    #[error("{found:?} cannot appear in a base64 key blob: the key was damaged when copied; paste it again from the .pub file")]
    BadBase64Char { found: char },
    #[error("the base64 key blob has length {len}, not a multiple of 4: the key was truncated when copied; paste it again from the .pub file")]
    BadBase64Length { len: usize },
}

/// Parse one line (with or without its trailing `\n` / `\r\n`).
pub fn parse_line(line: &str) -> Result<Line<'_>, LineError> {
    let line = strip_eol(line);
    if let Some(pos) = line
        .bytes()
        .position(|b| b == b'\n' || b == b'\r' || b == 0)
    {
        let kind = if line.as_bytes()[pos] == 0 {
            LineErrorKind::NulByte
        } else {
            LineErrorKind::EmbeddedNewline
        };
        return Err(error_at(line, pos, kind));
    }
    let start = line.len() - line.trim_start_matches([' ', '\t']).len();
    let rest = &line[start..];
    if rest.is_empty() {
        return Ok(Line::Blank);
    }
    if let Some(comment) = rest.strip_prefix('#') {
        return Ok(Line::Comment(comment));
    }
    let mut p = Cursor {
        s: line,
        pos: start,
    };
    p.key_line().map(Line::Key)
}

/// Parse one line of bytes: checks UTF-8 first and reports the column of a bad byte.
pub fn parse_line_bytes(line: &[u8]) -> Result<Line<'_>, LineError> {
    match std::str::from_utf8(line) {
        Ok(s) => parse_line(s),
        Err(e) => {
            let at = e.valid_up_to();
            // Column in characters up to the bad byte (the prefix is valid UTF-8).
            let column = std::str::from_utf8(&line[..at])
                .map(|s| s.chars().count())
                .unwrap_or(at)
                + 1;
            Err(LineError {
                column,
                byte_offset: at,
                kind: LineErrorKind::InvalidUtf8,
            })
        }
    }
}

/// Iterate over a whole file: `(1-based line number, result)`. Lazy and borrowing, so a
/// caller can stream large files and stop at the first error or collect them all.
pub fn parse_lines(text: &str) -> impl Iterator<Item = (usize, Result<Line<'_>, LineError>)> {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, parse_line(l)))
}

fn strip_eol(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

fn error_at(line: &str, byte_offset: usize, kind: LineErrorKind) -> LineError {
    let column = line
        .get(..byte_offset)
        .map(|s| s.chars().count())
        .unwrap_or(byte_offset)
        + 1;
    LineError {
        column,
        byte_offset,
        kind,
    }
}

/// A byte cursor over one line. Every index it uses comes from `find`/`position` on ASCII
/// delimiters, so slicing always lands on character boundaries.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn error(&self, kind: LineErrorKind) -> LineError {
        error_at(self.s, self.pos, kind)
    }

    /// Next whitespace-delimited token (quote-aware, as sshd's option skipping), without
    /// consuming it.
    fn peek_token(&self, from: usize) -> &'a str {
        let bytes = self.s.as_bytes();
        let mut i = from;
        let mut quoted = false;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if quoted && bytes.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => quoted = !quoted,
                b' ' | b'\t' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        self.s.get(from..i).unwrap_or("")
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Does the line start with options? sshd tries to read a key first; we decide by name:
    /// a known key type means no options; a token with `=`, `,` or `"`, a known option name,
    /// or a first token followed by a known key type means options.
    fn starts_with_options(&self) -> bool {
        let first = self.peek_token(self.pos);
        if KNOWN_KEY_TYPES.contains(&first) {
            return false;
        }
        if first.contains(['=', ',', '"']) || lookup(first).is_some() {
            return true;
        }
        let mut after = self.pos + first.len();
        let bytes = self.s.as_bytes();
        while matches!(bytes.get(after), Some(b' ' | b'\t')) {
            after += 1;
        }
        KNOWN_KEY_TYPES.contains(&self.peek_token(after))
    }

    fn key_line(&mut self) -> Result<AuthorizedKeyLine<'a>, LineError> {
        let mut options = Vec::new();
        if self.starts_with_options() {
            loop {
                options.push(self.option()?);
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b' ' | b'\t') => break,
                    None => return Err(self.error(LineErrorKind::MissingKeyType)),
                    Some(_) => {
                        let found = self.rest().chars().next().unwrap_or('?');
                        return Err(self.error(LineErrorKind::BadSeparator { found }));
                    }
                }
            }
            self.skip_blanks();
            if self.peek().is_none() {
                return Err(self.error(LineErrorKind::MissingKeyType));
            }
        }
        let key_type = self.word();
        self.skip_blanks();
        if self.peek().is_none() {
            return Err(self.error(LineErrorKind::MissingKeyBlob {
                key_type: key_type.to_owned(),
            }));
        }
        let blob_start = self.pos;
        let blob = self.word();
        if let Some(i) = blob
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='))
        {
            let found = blob.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
            return Err(error_at(
                self.s,
                blob_start + i,
                LineErrorKind::BadBase64Char { found },
            ));
        }
        let trimmed = blob.trim_end_matches('=');
        if !blob.len().is_multiple_of(4) || blob.len() - trimmed.len() > 2 {
            return Err(error_at(
                self.s,
                blob_start,
                LineErrorKind::BadBase64Length { len: blob.len() },
            ));
        }
        if let Some(i) = trimmed.find('=') {
            return Err(error_at(
                self.s,
                blob_start + i,
                LineErrorKind::BadBase64Char { found: '=' },
            ));
        }
        self.skip_blanks();
        let comment = self.rest().trim_end_matches([' ', '\t']);
        Ok(AuthorizedKeyLine {
            options,
            key_type: Cow::Borrowed(key_type),
            key_base64: Cow::Borrowed(blob),
            comment: (!comment.is_empty()).then_some(Cow::Borrowed(comment)),
        })
    }

    /// Up to the next space or tab.
    fn word(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest.find([' ', '\t']).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// `name` or `name="value"`.
    fn option(&mut self) -> Result<AuthOption<'a>, LineError> {
        let rest = self.rest();
        let name_len = rest.find(['=', ',', ' ', '\t', '"']).unwrap_or(rest.len());
        let name = &rest[..name_len];
        if name.is_empty() {
            return Err(self.error(LineErrorKind::EmptyOptionName));
        }
        let name_pos = self.pos;
        self.pos += name_len;
        let value = if self.peek() == Some(b'=') {
            self.pos += 1;
            if self.peek() != Some(b'"') {
                return Err(self.error(LineErrorKind::UnquotedValue {
                    name: name.to_owned(),
                }));
            }
            Some(self.quoted()?)
        } else if self.peek() == Some(b'"') {
            return Err(self.error(LineErrorKind::BadSeparator { found: '"' }));
        } else {
            None
        };
        AuthOption::from_parts(name, value).map_err(|kind| error_at(self.s, name_pos, kind))
    }

    /// A double-quoted value at the cursor; `\"` is the only escape (sshd `opt_dequote`).
    fn quoted(&mut self) -> Result<Cow<'a, str>, LineError> {
        let open = self.pos;
        let body_start = open + 1;
        let bytes = self.s.as_bytes();
        let mut i = body_start;
        let mut escaped = false;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if bytes.get(i + 1) == Some(&b'"') => {
                    escaped = true;
                    i += 2;
                }
                b'"' => {
                    let raw = self.s.get(body_start..i).unwrap_or("");
                    self.pos = i + 1;
                    return Ok(if escaped {
                        Cow::Owned(raw.replace("\\\"", "\""))
                    } else {
                        Cow::Borrowed(raw)
                    });
                }
                _ => i += 1,
            }
        }
        Err(error_at(self.s, open, LineErrorKind::UnterminatedQuote))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_space_and_comma_stay_in_one_option() {
        let l = parse_line("command=\"echo a, b\",no-pty ssh-ed25519 AAAA c d\r\n").unwrap();
        let Line::Key(k) = l else { panic!("not a key") };
        assert_eq!(
            k.options,
            vec![AuthOption::Command("echo a, b".into()), AuthOption::NoPty]
        );
        assert_eq!(k.key_type, "ssh-ed25519");
        assert_eq!(k.comment.as_deref(), Some("c d"));
    }

    #[test]
    fn escaped_quote_round_trips() {
        let opt = AuthOption::Command(r#"say "hi" \n"#.into());
        let s = opt.render().unwrap();
        assert_eq!(s, r#"command="say \"hi\" \n""#);
        assert_eq!(AuthOption::parse(&s).unwrap(), opt);
    }

    #[test]
    fn errors_are_located() {
        let e = parse_line("  from=10.0.0.1 ssh-ed25519 AAAA").unwrap_err();
        assert_eq!(e.column, 8);
        assert!(matches!(e.kind, LineErrorKind::UnquotedValue { .. }));
        let e = parse_line("from=\"x ssh-ed25519 AAAA").unwrap_err();
        assert_eq!(e.kind, LineErrorKind::UnterminatedQuote);
        assert_eq!(e.column, 6);
    }

    #[test]
    fn name_of_every_known_option_is_canonical() {
        for (canonical, known) in KNOWN_OPTIONS {
            let opt = match known {
                Known::Flag(f) => f.clone(),
                Known::Valued(kind) => kind.make(Cow::Borrowed("v")),
            };
            assert_eq!(opt.name(), *canonical);
        }
    }
}
