//! The policy as the rest of skset sees it: every default applied, every string that has a
//! grammar (options, lifetimes, AAGUIDs) already parsed. The YAML schema that produces it
//! lives in `load.rs`; this file has no serde `Deserialize` on purpose, so the file format
//! can change version without touching the types the engine consumes.

use std::fmt;

use serde::Serialize;

use crate::openssh::authorized_keys::AuthOption;

/// Policy schema versions this build reads.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];

/// OpenSSH's default bcrypt rounds for passphrase-protected keys since 9.4.
pub const DEFAULT_KDF_ROUNDS: u32 = 24;

/// CTAP 2.1 minimum PIN length (code points).
pub const CTAP_MIN_PIN_LENGTH: u8 = 4;

/// CTAP maximum PIN length in bytes.
pub const CTAP_MAX_PIN_BYTES: u8 = 63;

/// The default application OpenSSH uses when none is given.
pub const OPENSSH_DEFAULT_APPLICATION: &str = "ssh:";

/// Where in the policy file something was written (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceLocation {
    pub line: u32,
    pub column: u32,
}

/// A whole policy: policy-wide settings and the modes (one SSH key each), in file order.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub version: u32,
    /// Short name, e.g. `four-mode`. Defaults to the file stem.
    pub name: String,
    pub description: Option<String>,
    pub settings: Settings,
    pub modes: Vec<Mode>,
}

impl Policy {
    pub fn mode(&self, name: &str) -> Option<&Mode> {
        self.modes.iter().find(|m| m.name == name)
    }
}

/// Policy-wide settings.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The shortest FIDO2 PIN accepted (CTAP's floor is 4). Enrollment refuses to set or
    /// accept a shorter one; devices enforcing a longer minimum win.
    pub min_pin_length: u8,
    /// bcrypt rounds for passphrase-protected key files (`ssh-keygen -a`).
    pub kdf_rounds: u32,
    /// Refuse to finish enrollment without an attestation for each key.
    pub require_attestation: bool,
    /// PEM files of attestation roots the audit trusts (paths as written).
    pub trusted_attestation_roots: Vec<String>,
    /// Authenticator models (AAGUIDs) the audit accepts; empty = any.
    pub aaguid_allow_list: Vec<Aaguid>,
    /// Label used in comments when `--label` is not given; `None` = the host name.
    pub default_label: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_pin_length: CTAP_MIN_PIN_LENGTH,
            kdf_rounds: DEFAULT_KDF_ROUNDS,
            require_attestation: false,
            trusted_attestation_roots: Vec::new(),
            aaguid_allow_list: Vec::new(),
            default_label: None,
        }
    }
}

/// A 16-byte authenticator model identifier, written `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aaguid(pub [u8; 16]);

impl Aaguid {
    /// Parse the canonical hyphenated form (hyphens optional, case-insensitive).
    pub fn parse(s: &str) -> Option<Aaguid> {
        let hex: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(text, 16).ok()?;
        }
        Some(Aaguid(out))
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Aaguid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One SSH key and everything that decides what it takes to use it.
#[derive(Debug, Clone, Serialize)]
pub struct Mode {
    /// `root`, `sudo`, ... (the key under `modes:`).
    pub name: String,
    pub description: Option<String>,
    /// Which security key holds it when a policy uses more than one (default `primary`).
    pub device: String,
    /// Discoverable credential stored on the device (`-O resident`).
    pub resident: bool,
    /// User presence: a touch per signature (off = `-O no-touch-required`).
    pub touch: bool,
    /// User verification: the FIDO2 PIN per signature (`-O verify-required`).
    pub pin: bool,
    /// Whether the private key file gets a passphrase.
    pub passphrase: PassphraseRule,
    pub key_type: KeyType,
    /// Allow ecdsa-sk when the device cannot make Ed25519 credentials.
    pub ecdsa_fallback: bool,
    /// FIDO application (rpId), always starting `ssh:`.
    pub application: String,
    /// FIDO user id as text: at most 31 bytes, zero padded to 32 on the device; empty = 32
    /// zero bytes (OpenSSH's default).
    pub user_id: String,
    /// File name inside `~/.ssh` (e.g. `id_root`); `.pub` and `.attest` are added.
    pub file: String,
    /// Comment template: `{label}`, `{mode}`, `{account}`, `{device}` are replaced.
    pub comment: String,
    pub agent: AgentUse,
    pub server: ServerSide,
    /// Where the mode was written (for messages); `None` for built-in values.
    #[serde(skip)]
    pub location: Option<SourceLocation>,
}

/// What the private key file's passphrase must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PassphraseRule {
    Required,
    Forbidden,
    Optional,
}

impl fmt::Display for PassphraseRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PassphraseRule::Required => "required",
            PassphraseRule::Forbidden => "forbidden",
            PassphraseRule::Optional => "optional",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyType {
    #[serde(rename = "ed25519")]
    Ed25519,
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
}

impl KeyType {
    /// `ssh-keygen -t` value.
    pub fn keygen_name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519-sk",
            KeyType::EcdsaP256 => "ecdsa-sk",
        }
    }

    /// The SSH public key algorithm name.
    pub fn ssh_name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "sk-ssh-ed25519@openssh.com",
            KeyType::EcdsaP256 => "sk-ecdsa-sha2-nistp256@openssh.com",
        }
    }

    /// COSE algorithm identifier requested from the authenticator.
    pub fn cose_alg(self) -> i32 {
        match self {
            KeyType::Ed25519 => -8,
            KeyType::EcdsaP256 => -7,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 => "ecdsa-p256",
        })
    }
}

/// How the key meets ssh-agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgentUse {
    /// The key is meant to be added to ssh-agent.
    pub load: bool,
    /// `ssh-add -t`: how long the agent keeps it.
    pub lifetime: Option<Lifetime>,
    /// May be used through a forwarded agent (`ssh -A`).
    pub forwarding: bool,
}

/// A duration in seconds, written like sshd/ssh-add time formats: `600`, `10m`, `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lifetime {
    pub seconds: u32,
}

impl Lifetime {
    /// Parse `N[s|m|h|d|w]...` as OpenSSH's `convtime` does. Zero is refused (ssh-add
    /// refuses `-t 0`).
    pub fn parse(text: &str) -> Result<Lifetime, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty duration".into());
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_ascii_digit() {
                digits.push(c);
                if chars.peek().is_some() {
                    continue;
                }
            }
            let unit = if c.is_ascii_digit() { 's' } else { c };
            if digits.is_empty() {
                return Err(format!("expected a number before {c:?}"));
            }
            let n: u64 = digits.parse().map_err(|_| "number too large".to_string())?;
            digits.clear();
            let mult = match unit {
                's' | 'S' => 1,
                'm' | 'M' => 60,
                'h' | 'H' => 3600,
                'd' | 'D' => 86_400,
                'w' | 'W' => 604_800,
                other => return Err(format!("unknown unit {other:?} (use s, m, h, d or w)")),
            };
            total = total
                .checked_add(n.checked_mul(mult).ok_or("duration too large")?)
                .ok_or("duration too large")?;
        }
        if total == 0 {
            return Err(
                "a lifetime of zero means none; give a positive duration such as 10m".into(),
            );
        }
        let seconds = u32::try_from(total).map_err(|_| "duration too large".to_string())?;
        Ok(Lifetime { seconds })
    }
}

impl fmt::Display for Lifetime {
    /// The shortest exact form: 600 -> `10m`, 5400 -> `1h30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.seconds;
        for (unit, secs) in [
            ("w", 604_800),
            ("d", 86_400),
            ("h", 3600),
            ("m", 60),
            ("s", 1),
        ] {
            if rest >= secs {
                write!(f, "{}{unit}", rest / secs)?;
                rest %= secs;
            }
        }
        Ok(())
    }
}

impl Serialize for Lifetime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The server end: where the public key goes and what the line says.
#[derive(Debug, Clone, Serialize)]
pub struct ServerSide {
    /// The account whose `authorized_keys` gets the key (`root`, `admin`, `robo`, ...).
    pub account: String,
    /// Options other than `from=`, `command=` and `restrict`, which have their own fields.
    pub options: Vec<AuthOption<'static>>,
    /// `from="..."` entries (joined with commas).
    pub from: Vec<String>,
    /// `command="..."`: the forced command.
    pub command: Option<String>,
    /// `restrict`: no forwarding, no pty, no rc (re-enable with `pty`, ... in `options`).
    pub restrict: bool,
    /// The host asks for a TOTP code (pam_google_authenticator) before sudo.
    pub sudo_totp: bool,
}

impl ServerSide {
    /// The full option list in the order skset writes it: `restrict`, the listed options,
    /// `from=`, `command=`. sshd does not care about order; people reading the line do.
    pub fn authorized_keys_options(&self) -> Vec<AuthOption<'static>> {
        let mut out = Vec::with_capacity(self.options.len() + 3);
        if self.restrict {
            out.push(AuthOption::Restrict);
        }
        out.extend(self.options.iter().cloned());
        if !self.from.is_empty() {
            out.push(AuthOption::From(self.from.join(",").into()));
        }
        if let Some(cmd) = &self.command {
            out.push(AuthOption::Command(cmd.clone().into()));
        }
        out
    }

    pub fn has_option(&self, pred: impl Fn(&AuthOption<'static>) -> bool) -> bool {
        self.options.iter().any(pred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_forms() {
        assert_eq!(Lifetime::parse("10m").unwrap().seconds, 600);
        assert_eq!(Lifetime::parse("600").unwrap().seconds, 600);
        assert_eq!(Lifetime::parse("1h30m").unwrap().seconds, 5400);
        assert_eq!(Lifetime::parse("1h30m").unwrap().to_string(), "1h30m");
        assert_eq!(Lifetime::parse("90").unwrap().to_string(), "1m30s");
        assert!(Lifetime::parse("0").is_err());
        assert!(Lifetime::parse("m").is_err());
        assert!(Lifetime::parse("10x").is_err());
        assert!(Lifetime::parse("99999999999w").is_err());
    }

    #[test]
    fn aaguid_round_trip() {
        let s = "ee882879-721c-4913-9775-3dfcce97072a";
        assert_eq!(Aaguid::parse(s).unwrap().to_string(), s);
        assert!(Aaguid::parse("nope").is_none());
    }
}
