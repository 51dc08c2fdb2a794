//! The rules a policy must satisfy. Each has a stable ID (`SK001`...), a short name, a
//! severity and a rationale taken from the four-knob model; each finding names the rule,
//! the mode, what is wrong and the fix.
//!
//! IDs are never reused or renumbered: a retired rule keeps its number, unused.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::model::{
    Mode, PassphraseRule, Policy, SourceLocation, CTAP_MAX_PIN_BYTES, CTAP_MIN_PIN_LENGTH,
    OPENSSH_DEFAULT_APPLICATION,
};
use crate::openssh::authorized_keys::AuthOption;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A rule's identity and why it exists.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule demands.
    pub summary: &'static str,
    /// Why, in the model's words.
    pub rationale: &'static str,
}

/// One violation.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// The offending mode; `None` for policy-wide settings.
    pub mode: Option<String>,
    pub message: String,
    pub fix: String,
    pub location: Option<SourceLocation>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{} {}]", self.severity, self.rule, self.name)?;
        if let Some(m) = &self.mode {
            write!(f, " mode {m}")?;
        }
        write!(f, ": {}\n  fix: {}", self.message, self.fix)
    }
}

macro_rules! rules {
    ($($konst:ident = $id:literal $name:literal $sev:ident, $summary:literal, $rationale:literal;)*) => {
        $(pub const $konst: Rule = Rule { id: $id, name: $name, severity: Severity::$sev, summary: $summary, rationale: $rationale };)*
        /// Every rule, in ID order.
        pub const RULES: &[Rule] = &[$($konst),*];
    };
}

rules! {
    NO_TOUCH_NEEDS_SERVER_OPTION = "SK001" "no-touch-needs-server-option" Error,
        "A key made without touch needs `no-touch-required` in its authorized_keys line.",
        "sshd requires user presence on every security-key signature unless the authorized_keys line (or a certificate) says no-touch-required; without it the key is refused at login, which people then 'fix' by regenerating the key with touch or by hand-editing servers.";
    UNATTENDED_KEY_CONTAINMENT = "SK002" "unattended-key-containment" Error,
        "A key with neither touch nor PIN is allowed only as wheel (non-resident, passphrase required, bounded agent lifetime) or as robo (resident, out of the agent, pinned by from= and command=).",
        "With no touch and no PIN, anything that can reach the key can sign silently: a process on the laptop, a forwarded agent, a thief. The model allows that only where something else bounds it: for wheel the passphrase on the non-resident file and a short agent lifetime, for robo the server, which accepts it only from known addresses and only for one command.";
    NON_RESIDENT_NEEDS_PASSPHRASE = "SK003" "non-resident-needs-passphrase" Error,
        "A non-resident key's file must have a passphrase.",
        "A non-resident credential is split: the device holds a master secret, the file holds the credential handle. The file is the part that isn't on the device, so it is the part to protect, exactly like a classic key file; the passphrase also forces a deliberate step before ssh-agent gets the key.";
    RESIDENT_PASSPHRASE_PROTECTS_NOTHING = "SK004" "resident-passphrase-protects-nothing" Warning,
        "A passphrase on a resident key's file protects nothing; use `passphrase: forbidden`.",
        "A resident key's file is only a pointer to the credential on the device: anyone with the device and its PIN can rewrite it with `ssh-keygen -K`. A passphrase there adds a prompt, not protection, and teaches that passphrases are optional noise. (When a policy says forbidden, enrollment refuses a passphrase.)";
    PIN_NEEDS_VERIFY_REQUIRED = "SK005" "pin-needs-verify-required" Warning,
        "A PIN mode should carry `verify-required` in authorized_keys.",
        "The device asks for the PIN because the key was made with verify-required, but sshd checks the signature's user-verified flag only when the authorized_keys line (or sshd_config PubkeyAuthOptions) says verify-required. Without it the server accepts a signature made without the PIN, e.g. from a credential re-created without UV.";
    RESIDENT_IDENTITY_COLLISION = "SK006" "resident-identity-collision" Error,
        "No two resident modes on one device may share application and user id.",
        "CTAP replaces a discoverable credential that has the same rpId (application) and user id. The naive four-mode recipe (three `ssh-keygen -O resident` with defaults) makes sudo overwrite root and robo overwrite sudo, sometimes silently.";
    FORWARDING_NEEDS_TOUCH = "SK007" "forwarding-needs-touch" Error,
        "Only touch-required keys may be used through a forwarded agent.",
        "With ssh -A a compromised intermediate host can ask your agent for signatures. Touch turns each such request into a blink you can refuse; without touch the forwarded host signs as you, silently, for as long as the key stays in the agent.";
    ROOT_NEEDS_TOUCH_AND_PIN = "SK008" "root-needs-touch-and-pin" Error,
        "A key that logs in as root needs both touch and PIN.",
        "Root login is the highest blast radius. Touch defends against silent signing on a compromised or forwarded host; the PIN defends against device theft (the thief can touch). Root needs both.";
    FROM_ENTRIES_VALID = "SK009" "from-entries-valid" Error,
        "Each `from=` entry is an IP address, a CIDR network, or an sshd pattern, and the list allows at least one source.",
        "sshd treats a malformed CIDR as an invalid criterion and refuses the key; a list of only negated entries matches no client, so the key is refused everywhere. Both fail closed, but only at login time on the server, far from where the policy was written.";
    FROM_HOST_NAME_PATTERN = "SK010" "from-host-name-pattern" Warning,
        "`from=` entries that are host names depend on reverse DNS.",
        "sshd matches host names in from= against the client's reverse DNS name only when UseDNS is yes (the default is no, so a name matches nothing), and reverse DNS is controlled by whoever owns the client's address block. Prefer addresses and networks.";
    COMMAND_ABSOLUTE_PATH = "SK011" "command-absolute-path" Error,
        "`command=` is an absolute path that can be written into authorized_keys.",
        "A forced command runs through the account's shell with the account's PATH; a relative name runs whatever comes first in that PATH. A value with a line break or a trailing backslash cannot be written as a quoted authorized_keys value.";
    PIN_LENGTH = "SK012" "pin-length" Error,
        "`settings.min_pin_length` is between 4 (CTAP's minimum) and 63.",
        "CTAP devices refuse PINs shorter than 4 code points and longer than 63 bytes; a policy outside that range cannot be satisfied. The PIN is the only defense against device theft, so the policy's minimum is enforced at enrollment.";
    APPLICATION_FORMAT = "SK013" "application-format" Error,
        "`application` starts with `ssh:` and is printable ASCII without spaces.",
        "OpenSSH only accepts applications starting with `ssh:` (and `ssh-keygen -K` only lists those), so a key with another application cannot be used or recovered by OpenSSH.";
    USER_ID_FORMAT = "SK014" "user-id-format" Error,
        "`user_id` is at most 31 bytes with no NUL.",
        "OpenSSH copies `-O user=` into a 32-byte buffer padded with zeros, so at most 31 bytes survive and a NUL would end it early; a longer id would be cut and could collide with another mode's.";
    AGENT_LIFETIME_LONG = "SK015" "agent-lifetime-long" Warning,
        "A no-touch key in the agent should have a lifetime of at most 1 hour.",
        "The model's wheel key lives in ssh-agent for minutes (`ssh-add -t 10m`): decrypted briefly, used, forgotten. A long lifetime is the 'agent running all session' habit that hardware keys exist to end.";
    FORCED_COMMAND_WITHOUT_RESTRICT = "SK016" "forced-command-without-restrict" Warning,
        "A mode with `command=` should also set `restrict`.",
        "A forced command limits what runs, not what else the session can do: without restrict (or no-port-forwarding, no-agent-forwarding, no-X11-forwarding, no-pty) the key still opens tunnels into the network behind the server.";
    NAMES_ARE_PLAIN = "SK017" "names-are-plain" Error,
        "Mode names, devices, accounts and file names are plain names, and no two modes write the same file.",
        "Names end up in file names under ~/.ssh and in shell commands; a `/`, `..` or space there writes somewhere unexpected, and two modes with one file name overwrite each other's key file.";
    COMMENT_TEMPLATE = "SK018" "comment-template" Error,
        "`comment` uses only `{label}`, `{mode}`, `{account}` and `{device}`, on one line.",
        "The comment is written into the key file and the authorized_keys line; an unknown placeholder would be written literally and a line break would split the authorized_keys line.";
    KDF_ROUNDS = "SK019" "kdf-rounds" Warning,
        "`settings.kdf_rounds` is between 16 and 1000 (OpenSSH's default is 24).",
        "The rounds slow down guessing the passphrase of a stolen non-resident key file. Below OpenSSH's old default of 16 guessing is cheap; far above the default every ssh-add takes seconds.";
    VERIFY_REQUIRED_WITHOUT_PIN = "SK020" "verify-required-without-pin" Error,
        "`verify-required` on the server needs `pin: true` on the key.",
        "A key made without verify-required signs without the PIN, so its signatures never carry the user-verified flag and sshd refuses every login with this line.";
    NO_TOUCH_OPTION_ON_TOUCH_KEY = "SK021" "no-touch-option-on-touch-key" Warning,
        "A touch key's authorized_keys line should not say `no-touch-required`.",
        "The device still asks for a touch, but the server stops checking for it, so a no-touch credential with the same public key handle would be accepted; keep the server as strict as the key.";
    AGENT_SETTINGS_UNUSED = "SK022" "agent-settings-unused" Warning,
        "`agent.lifetime` and `agent.forwarding` need `agent.load: true`.",
        "A lifetime or forwarding permission on a key that is never added to ssh-agent has no effect, and usually means the policy author expected the key to be in the agent.";
    SERVER_OPTION_CONFLICT = "SK023" "server-option-conflict" Error,
        "`server.options` does not repeat `from=`, `command=` or `restrict` (they have their own fields) or list an option twice.",
        "Two from= or command= options on one line are ambiguous to a reader and to skset's audit; the dedicated fields keep one source of truth.";
    UNKNOWN_SERVER_OPTION = "SK024" "unknown-server-option" Error,
        "`server.options` contains only options sshd knows.",
        "sshd refuses the whole authorized_keys line when it meets an option it does not know ('bad key options'), locking the key out.";
    DEFAULT_RESIDENT_IDENTITY = "SK025" "default-resident-identity" Warning,
        "A resident mode should not use OpenSSH's default identity (application `ssh:`, empty user id).",
        "Any later plain `ssh-keygen -t ed25519-sk -O resident`, by you or a tool, uses the same identity and replaces this credential on the device, after a prompt that people learn to answer 'y'.";
}

/// Run every rule. Findings come in mode order, then rule ID; policy-wide ones first.
pub fn check(policy: &Policy) -> Vec<Finding> {
    let mut c = Checker { out: Vec::new() };
    c.settings(policy);
    c.collisions(policy);
    for mode in &policy.modes {
        c.mode(mode);
    }
    let order: HashMap<&str, usize> = policy
        .modes
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    c.out.sort_by_key(|f| {
        (
            f.mode
                .as_deref()
                .map(|m| order.get(m).copied().unwrap_or(usize::MAX) + 1)
                .unwrap_or(0),
            f.rule,
        )
    });
    c.out
}

/// Error-severity findings only.
pub fn errors(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(|f| f.severity == Severity::Error)
}

/// Look a rule up by ID or name.
pub fn rule(id_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id_or_name) || r.name == id_or_name)
}

struct Checker {
    out: Vec<Finding>,
}

const PLACEHOLDERS: &[&str] = &["label", "mode", "account", "device"];

impl Checker {
    fn push(&mut self, rule: &Rule, mode: Option<&Mode>, message: String, fix: String) {
        self.out.push(Finding {
            rule: rule.id,
            name: rule.name,
            severity: rule.severity,
            mode: mode.map(|m| m.name.clone()),
            message,
            fix,
            location: mode.and_then(|m| m.location),
        });
    }

    fn settings(&mut self, p: &Policy) {
        let s = &p.settings;
        if s.min_pin_length < CTAP_MIN_PIN_LENGTH || s.min_pin_length > CTAP_MAX_PIN_BYTES {
            self.push(
                &PIN_LENGTH,
                None,
                format!(
                    "min_pin_length is {}, outside what CTAP devices accept (4..=63)",
                    s.min_pin_length
                ),
                "set `settings.min_pin_length` to 4 or more (6 is a good default)".into(),
            );
        }
        if !(16..=1000).contains(&s.kdf_rounds) {
            self.push(
                &KDF_ROUNDS,
                None,
                format!("kdf_rounds is {}", s.kdf_rounds),
                "set `settings.kdf_rounds: 24` (OpenSSH's default since 9.4)".into(),
            );
        }
    }

    fn collisions(&mut self, p: &Policy) {
        let mut seen: HashMap<(&str, &str, &str), &Mode> = HashMap::new();
        for m in p.modes.iter().filter(|m| m.resident) {
            let key = (
                m.device.as_str(),
                m.application.as_str(),
                m.user_id.as_str(),
            );
            if let Some(first) = seen.get(&key) {
                let first = first.name.clone();
                self.push(
                    &RESIDENT_IDENTITY_COLLISION,
                    Some(m),
                    format!(
                        "resident modes {first} and {} both use application {:?} and user id {:?} on device {:?}: enrolling {} would replace {first}'s credential",
                        m.name, m.application, m.user_id, m.device, m.name
                    ),
                    format!("give {} its own identity, e.g. `application: \"ssh:{}\"` and `user_id: {}`", m.name, m.name, m.name),
                );
            } else {
                seen.insert(key, m);
            }
        }
        let mut files: HashMap<&str, &Mode> = HashMap::new();
        for m in &p.modes {
            if let Some(first) = files.get(m.file.as_str()) {
                let first = first.name.clone();
                self.push(
                    &NAMES_ARE_PLAIN,
                    Some(m),
                    format!("modes {first} and {} both write ~/.ssh/{}", m.name, m.file),
                    format!("give {} its own `file:`, e.g. id_{}", m.name, m.name),
                );
            } else {
                files.insert(&m.file, m);
            }
        }
    }

    fn mode(&mut self, m: &Mode) {
        let has = |pred: fn(&AuthOption<'static>) -> bool| m.server.has_option(pred);
        let no_touch_opt = has(|o| matches!(o, AuthOption::NoTouchRequired));
        let verify_opt = has(|o| matches!(o, AuthOption::VerifyRequired));
        let agent = &m.agent;

        // SK001
        if !m.touch && !no_touch_opt {
            self.push(
                &NO_TOUCH_NEEDS_SERVER_OPTION,
                Some(m),
                format!("{} is made without touch, but its authorized_keys line lacks no-touch-required, so sshd will refuse it", m.name),
                "add `no-touch-required` to `server.options`".into(),
            );
        }
        // SK021
        if m.touch && no_touch_opt {
            self.push(
                &NO_TOUCH_OPTION_ON_TOUCH_KEY,
                Some(m),
                format!("{} requires touch on the device, but the server line says no-touch-required", m.name),
                "remove `no-touch-required` from `server.options` (or set `touch: false` if this is meant to be an unattended key)".into(),
            );
        }

        // SK002
        if !m.touch && !m.pin {
            let wheel_ok = !m.resident
                && m.passphrase == PassphraseRule::Required
                && (!agent.load || agent.lifetime.is_some());
            let robo_ok = m.resident
                && !m.server.from.is_empty()
                && m.server.command.is_some()
                && !agent.load;
            if !wheel_ok && !robo_ok {
                let mut missing = Vec::new();
                if m.resident {
                    if m.server.from.is_empty() {
                        missing.push("server.from");
                    }
                    if m.server.command.is_none() {
                        missing.push("server.command");
                    }
                    if agent.load {
                        missing.push(
                            "agent.load: false (a resident no-touch key never goes into the agent)",
                        );
                    }
                } else {
                    if m.passphrase != PassphraseRule::Required {
                        missing.push("passphrase: required");
                    }
                    if agent.load && agent.lifetime.is_none() {
                        missing.push("agent.lifetime");
                    }
                }
                self.push(
                    &UNATTENDED_KEY_CONTAINMENT,
                    Some(m),
                    format!(
                        "{} signs with neither touch nor PIN and is not contained: missing {}",
                        m.name,
                        missing.join(", ")
                    ),
                    if m.resident {
                        "pin it down at the server with `server.from` and `server.command` and keep it out of the agent (robo), or make it non-resident with `passphrase: required` and `agent.lifetime: 10m` (wheel)".into()
                    } else {
                        "set `passphrase: required` and, if it goes into the agent, `agent.lifetime: 10m` (wheel)".into()
                    },
                );
            }
        }

        // SK003
        if !m.resident && m.passphrase != PassphraseRule::Required {
            self.push(
                &NON_RESIDENT_NEEDS_PASSPHRASE,
                Some(m),
                format!("{} is non-resident, so its file holds the credential handle, but its passphrase is {}", m.name, m.passphrase),
                "set `passphrase: required`".into(),
            );
        }
        // SK004
        if m.resident && m.passphrase == PassphraseRule::Required {
            self.push(
                &RESIDENT_PASSPHRASE_PROTECTS_NOTHING,
                Some(m),
                format!("{} is resident: its file is a pointer that `ssh-keygen -K` recreates, so a passphrase on it protects nothing", m.name),
                "set `passphrase: forbidden` (or make the mode non-resident if the file must be the protected part)".into(),
            );
        }
        // SK005
        if m.pin && !verify_opt {
            self.push(
                &PIN_NEEDS_VERIFY_REQUIRED,
                Some(m),
                format!("{} requires the PIN on the device, but the server does not check it (no verify-required)", m.name),
                "add `verify-required` to `server.options`".into(),
            );
        }
        // SK020
        if verify_opt && !m.pin {
            self.push(
                &VERIFY_REQUIRED_WITHOUT_PIN,
                Some(m),
                format!("{}'s server line says verify-required but the key is made without PIN: every login would be refused", m.name),
                "set `pin: true`, or remove `verify-required` from `server.options`".into(),
            );
        }
        // SK007
        if agent.forwarding && !m.touch {
            self.push(
                &FORWARDING_NEEDS_TOUCH,
                Some(m),
                format!("{} allows agent forwarding without touch: a compromised forwarded host could sign silently", m.name),
                "set `agent.forwarding: false` (use ProxyJump, which needs no forwarding), or require touch".into(),
            );
        }
        // SK008
        if m.server.account == "root" && !(m.touch && m.pin) {
            let lacking = match (m.touch, m.pin) {
                (false, false) => "touch and PIN",
                (false, true) => "touch",
                _ => "PIN",
            };
            self.push(
                &ROOT_NEEDS_TOUCH_AND_PIN,
                Some(m),
                format!("{} logs in as root without {lacking}", m.name),
                "set `touch: true` and `pin: true` (and `verify-required` in server.options), or target a non-root account".into(),
            );
        }
        self.check_from_option(m);
        // SK011
        if let Some(cmd) = &m.server.command {
            let problem = if !cmd.starts_with('/') {
                Some(format!("command {cmd:?} is not an absolute path"))
            } else if cmd.contains(['\n', '\r', '\0']) {
                Some("command contains a line break or NUL".to_string())
            } else if cmd.ends_with('\\') {
                Some(
                    "command ends in a backslash, which sshd would read as an escaped quote"
                        .to_string(),
                )
            } else {
                None
            };
            if let Some(problem) = problem {
                self.push(&COMMAND_ABSOLUTE_PATH, Some(m), format!("{}: {problem}", m.name), "write the full path, e.g. `command: /usr/local/bin/backup-shell` (wrap arguments in a script)".into());
            }
        }
        // SK013
        let app_ok = m.application.starts_with(OPENSSH_DEFAULT_APPLICATION)
            && m.application.bytes().all(|b| b.is_ascii_graphic());
        if !app_ok {
            self.push(
                &APPLICATION_FORMAT,
                Some(m),
                format!("{}'s application {:?} must start with \"ssh:\" and contain printable ASCII only", m.name, m.application),
                format!("use e.g. `application: \"ssh:{}\"`", m.name),
            );
        }
        // SK014
        if m.user_id.len() > 31 || m.user_id.contains('\0') {
            self.push(
                &USER_ID_FORMAT,
                Some(m),
                format!(
                    "{}'s user_id is {} bytes{}; OpenSSH keeps at most 31",
                    m.name,
                    m.user_id.len(),
                    if m.user_id.contains('\0') {
                        " and contains NUL"
                    } else {
                        ""
                    }
                ),
                format!("shorten it, e.g. `user_id: {}`", m.name),
            );
        }
        // SK025
        if m.resident && m.application == OPENSSH_DEFAULT_APPLICATION && m.user_id.is_empty() {
            self.push(
                &DEFAULT_RESIDENT_IDENTITY,
                Some(m),
                format!("{} uses OpenSSH's default resident identity (application \"ssh:\", null user id)", m.name),
                format!("set `application: \"ssh:{}\"` and `user_id: {}`", m.name, m.name),
            );
        }
        // SK015
        if agent.load && !m.touch {
            if let Some(l) = agent.lifetime.filter(|l| l.seconds > 3600) {
                self.push(
                    &AGENT_LIFETIME_LONG,
                    Some(m),
                    format!(
                        "{} stays in the agent for {l} without needing a touch",
                        m.name
                    ),
                    "shorten `agent.lifetime` (the model uses 10m)".into(),
                );
            }
        }
        // SK022
        if !agent.load && (agent.lifetime.is_some() || agent.forwarding) {
            self.push(
                &AGENT_SETTINGS_UNUSED,
                Some(m),
                format!(
                    "{} sets agent.{} but is never added to the agent",
                    m.name,
                    if agent.lifetime.is_some() {
                        "lifetime"
                    } else {
                        "forwarding"
                    }
                ),
                "set `agent.load: true`, or remove the agent settings".into(),
            );
        }
        // SK016
        if m.server.command.is_some() && !m.server.restrict {
            let all_off = has(|o| matches!(o, AuthOption::NoPortForwarding))
                && has(|o| matches!(o, AuthOption::NoAgentForwarding))
                && has(|o| matches!(o, AuthOption::NoX11Forwarding));
            if !all_off {
                self.push(
                    &FORCED_COMMAND_WITHOUT_RESTRICT,
                    Some(m),
                    format!(
                        "{} has a forced command but can still open port forwardings",
                        m.name
                    ),
                    "set `server.restrict: true`".into(),
                );
            }
        }
        self.names(m);
        self.comment(m);
        self.server_options(m);
    }

    fn check_from_option(&mut self, m: &Mode) {
        if m.server.from.is_empty() {
            return;
        }
        let mut positives = 0;
        let mut invalid = 0;
        for entry in &m.server.from {
            match classify_from(entry) {
                FromEntry::Invalid(why) => {
                    invalid += 1;
                    self.push(
                    &FROM_ENTRIES_VALID,
                    Some(m),
                    format!("{}: from entry {entry:?} {why}", m.name),
                    "write an address (192.0.2.7), a network (10.0.0.0/8), a wildcard (10.1.*), or `!` before one to exclude it; one entry per list item".into(),
                    )
                }
                FromEntry::HostName { negated } => {
                    positives += usize::from(!negated);
                    self.push(
                        &FROM_HOST_NAME_PATTERN,
                        Some(m),
                        format!("{}: from entry {entry:?} is a host name, matched only through reverse DNS with UseDNS yes", m.name),
                        "use the host's address or network instead".into(),
                    );
                }
                FromEntry::Address { negated } => positives += usize::from(!negated),
            }
        }
        if positives == 0 && invalid == 0 {
            self.push(
                &FROM_ENTRIES_VALID,
                Some(m),
                format!("{}: every from entry is negated, so no client matches and sshd refuses the key everywhere", m.name),
                "add the networks that may connect, e.g. `from: [\"10.0.0.0/8\", \"!10.0.5.0/24\"]`".into(),
            );
        }
    }

    fn names(&mut self, m: &Mode) {
        let checks: [(&str, &str, &str); 4] = [
            (
                "mode name",
                &m.name,
                "lowercase letters, digits, '-' and '_'",
            ),
            ("device", &m.device, "letters, digits, '-' and '_'"),
            ("server.account", &m.server.account, "a user name"),
            ("file", &m.file, "a file name inside ~/.ssh, without '/'"),
        ];
        for (what, value, expected) in checks {
            let ok = !value.is_empty()
                && value.len() <= 64
                && value != "."
                && value != ".."
                && !value.starts_with('-')
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && (what != "mode name"
                    || value.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_')
                    }));
            if !ok {
                self.push(
                    &NAMES_ARE_PLAIN,
                    Some(m),
                    format!("{} {value:?} is not a plain name", what),
                    format!("use {expected} (at most 64 characters)"),
                );
            }
        }
    }

    fn comment(&mut self, m: &Mode) {
        let problem = if m.comment.contains(['\n', '\r', '\0']) {
            Some("contains a line break".to_string())
        } else {
            template_problem(&m.comment)
        };
        if let Some(p) = problem {
            self.push(&COMMENT_TEMPLATE, Some(m), format!("{}'s comment {:?} {p}", m.name, m.comment), "use e.g. `comment: \"{label}-{mode}\"`; placeholders: {label} {mode} {account} {device}".into());
        }
    }

    fn server_options(&mut self, m: &Mode) {
        let mut seen: Vec<String> = Vec::new();
        for o in &m.server.options {
            let dedicated = match o {
                AuthOption::From(_) => Some("server.from"),
                AuthOption::Command(_) => Some("server.command"),
                AuthOption::Restrict => Some("server.restrict: true"),
                _ => None,
            };
            if let Some(field) = dedicated {
                self.push(
                    &SERVER_OPTION_CONFLICT,
                    Some(m),
                    format!("{}: `{}` belongs in its own field", m.name, o.name()),
                    format!("move it to `{field}`"),
                );
            }
            let name = o.name().to_ascii_lowercase();
            if seen.contains(&name) {
                self.push(
                    &SERVER_OPTION_CONFLICT,
                    Some(m),
                    format!("{}: `{}` is listed twice", m.name, o.name()),
                    "list each option once".into(),
                );
            } else {
                seen.push(name);
            }
            if o.is_unknown() {
                self.push(
                    &UNKNOWN_SERVER_OPTION,
                    Some(m),
                    format!("{}: sshd does not know the option `{}` and would refuse the line", m.name, o.name()),
                    "check the spelling against sshd(8) AUTHORIZED_KEYS FILE FORMAT (e.g. no-touch-required, verify-required, no-port-forwarding)".into(),
                );
            }
        }
    }
}

/// Why a comment template is bad, if it is.
pub fn template_problem(template: &str) -> Option<String> {
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Some("has a '}' without '{'".into());
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Some("has a '{' without '}'".into());
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Some(format!("uses unknown placeholder {{{name}}}"));
        }
        rest = &after[close + 1..];
    }
    None
}

enum FromEntry {
    Address { negated: bool },
    HostName { negated: bool },
    Invalid(String),
}

/// Our reading of an sshd `from=` pattern-list entry (see docs/policy.md, SK009/SK010):
/// addresses, CIDR networks (network address only), address wildcards (`10.1.*`), and
/// host name patterns (warned), each optionally negated with `!`.
fn classify_from(entry: &str) -> FromEntry {
    let (negated, body) = match entry.strip_prefix('!') {
        Some(b) => (true, b),
        None => (false, entry),
    };
    if body.is_empty() {
        return FromEntry::Invalid("is empty".into());
    }
    if body.contains(',') {
        return FromEntry::Invalid("contains ',': give each entry as its own list item".into());
    }
    if let Some((addr, len)) = body.split_once('/') {
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return FromEntry::Invalid(format!(
                "has {addr:?} before '/', which is not an IP address"
            ));
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let Ok(len) = len.parse::<u8>() else {
            return FromEntry::Invalid(format!(
                "has prefix length {len:?}, not a number 0..={max}"
            ));
        };
        if len > max {
            return FromEntry::Invalid(format!("has prefix length {len}, more than {max}"));
        }
        if host_bits_set(ip, len) {
            return FromEntry::Invalid(format!(
                "has bits set below the /{len} prefix; write the network address"
            ));
        }
        return FromEntry::Address { negated };
    }
    if body.parse::<IpAddr>().is_ok() {
        return FromEntry::Address { negated };
    }
    let wildcard = body.contains(['*', '?']);
    let v4_wildcard = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'*' | b'?'));
    let v6_wildcard = body.contains(':')
        && body
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'*' | b'?'));
    if wildcard && (v4_wildcard || v6_wildcard) {
        return FromEntry::Address { negated };
    }
    if body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'*' | b'?' | b'_'))
    {
        return FromEntry::HostName { negated };
    }
    FromEntry::Invalid("is neither an address, a network nor a host name pattern".into())
}

fn host_bits_set(ip: IpAddr, len: u8) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            bits & !mask != 0
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            bits & !mask != 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_ordered() {
        for w in RULES.windows(2) {
            assert!(w[0].id < w[1].id, "{} before {}", w[0].id, w[1].id);
        }
    }

    #[test]
    fn from_classification() {
        assert!(matches!(
            classify_from("10.0.0.0/8"),
            FromEntry::Address { negated: false }
        ));
        assert!(matches!(
            classify_from("!10.0.5.0/24"),
            FromEntry::Address { negated: true }
        ));
        assert!(matches!(classify_from("10.0.0.1/8"), FromEntry::Invalid(_)));
        assert!(matches!(
            classify_from("10.0.0.0/33"),
            FromEntry::Invalid(_)
        ));
        assert!(matches!(
            classify_from("2001:db8::/32"),
            FromEntry::Address { .. }
        ));
        assert!(matches!(classify_from("10.1.*"), FromEntry::Address { .. }));
        assert!(matches!(
            classify_from("*.example.com"),
            FromEntry::HostName { .. }
        ));
        assert!(matches!(classify_from("a b"), FromEntry::Invalid(_)));
        assert!(matches!(classify_from("10.0.0.0/0"), FromEntry::Invalid(_)));
        assert!(matches!(
            classify_from("0.0.0.0/0"),
            FromEntry::Address { .. }
        ));
    }

    #[test]
    fn templates() {
        assert_eq!(template_problem("{label}-{mode}"), None);
        assert!(template_problem("{lable}").is_some());
        assert!(template_problem("{label").is_some());
        assert!(template_problem("x}").is_some());
    }
}
