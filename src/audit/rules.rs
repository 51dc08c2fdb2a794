//! The audit's rules: a stable ID (`AU001`...), a slug, a severity, what the rule demands
//! and why. A finding names its rule, where (`file:line:column`), what is wrong and the fix.
//!
//! IDs are never reused or renumbered: a retired rule keeps its number, unused. The gaps
//! between groups leave room for related rules. `docs/audit.md` lists every rule; a test
//! checks that the two agree.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

pub use crate::policy::rules::Severity;

/// A rule's identity and why it exists.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct AuditRule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule demands.
    pub summary: &'static str,
    /// Why, in the model's words.
    pub rationale: &'static str,
}

macro_rules! audit_rules {
    ($($konst:ident = $id:literal $name:literal $sev:ident, $summary:literal, $rationale:literal;)*) => {
        $(pub const $konst: AuditRule = AuditRule { id: $id, name: $name, severity: Severity::$sev, summary: $summary, rationale: $rationale };)*
        /// Every rule, in ID order.
        pub const AUDIT_RULES: &[AuditRule] = &[$($konst),*];
    };
}

audit_rules! {
    // --- key files in ~/.ssh ---------------------------------------------------------
    FILE_BASED_KEY = "AU001" "file-based-key" Warning,
        "No file-based (non-sk) private keys where the policy's hardware-backed keys are used.",
        "A file-based key can be copied, backed up or leaked and then used without the security key; retiring such keys is what the policy is for. Encrypted, it still falls to an offline guess once copied.";
    FILE_BASED_KEY_UNENCRYPTED = "AU002" "file-based-key-unencrypted" Error,
        "No file-based private key without a passphrase.",
        "Anyone who reads the file (a backup, a stolen disk, a compromised process) holds the key outright: no device, no PIN, no passphrase stands in the way.";
    SK_FLAGS_MISMATCH = "AU003" "sk-flags-mismatch" Error,
        "An sk key file's flags are the flags of its mode (touch, PIN, resident).",
        "The flags tell ssh how to ask the device: a root file without the verify-required bit never asks for the PIN; a recovered robo file (ssh-keygen -K never restores no-touch-required) asks for a touch that automation cannot give.";
    SK_IDENTITY_MISMATCH = "AU004" "sk-identity-mismatch" Warning,
        "A key file named or commented as a mode holds a credential with that mode's application.",
        "A file called id_root holding a credential for application ssh: was made by hand with OpenSSH's default identity: the next plain `ssh-keygen -O resident` replaces it on the device, and the audit cannot tell its mode from the credential.";
    PASSPHRASE_MISSING = "AU005" "passphrase-missing" Error,
        "A non-resident sk key file (wheel), or any key file whose mode requires a passphrase, is encrypted.",
        "A non-resident credential is split: the device holds a master secret, the file holds the credential handle. The file is the part to protect, and the passphrase is the deliberate step before ssh-agent gets a no-touch key.";
    PRIVATE_KEY_PERMISSIONS = "AU006" "private-key-permissions" Error,
        "Private key files are readable and writable by their owner only (0600 or stricter).",
        "ssh refuses a private key file that group or others can read ('UNPROTECTED PRIVATE KEY FILE'), and a readable wheel file is the encrypted handle an attacker needs for an offline passphrase guess.";
    SSH_DIR_PERMISSIONS = "AU007" "ssh-dir-permissions" Error,
        "The ~/.ssh directory is not writable by group or others.",
        "Whoever can write the directory can replace key files, config and authorized_keys; sshd's StrictModes refuses to use authorized_keys below such a directory.";
    DAMAGED_KEY_FILE = "AU008" "damaged-key-file" Warning,
        "Files in ~/.ssh that look like private keys can be read and parsed.",
        "A damaged or unreadable key file is either a key that no longer works or something that is not what its name says; both deserve a look.";
    PUBLIC_KEY_MISMATCH = "AU009" "public-key-mismatch" Warning,
        "A key's .pub file holds the public half of the private key beside it.",
        "authorized_keys lines are made from .pub files; a .pub left over from an earlier key puts a line on the servers that no device can use, and hides the key that is really in use.";
    SK_KEY_UNKNOWN_MODE = "AU010" "sk-key-unknown-mode" Info,
        "Every security-key credential belongs to one of the policy's modes (by its application).",
        "The mode decides which options the server line needs and which account may hold it; a credential with another application (often OpenSSH's default `ssh:`) cannot be checked against the policy.";
    RESIDENT_FILE_ENCRYPTED = "AU011" "resident-file-encrypted" Info,
        "Resident key files of modes whose passphrase is forbidden carry no passphrase.",
        "A resident key's file is only a pointer to the credential on the device; anyone with the device and its PIN can rewrite it with `ssh-keygen -K`. A passphrase there protects nothing and teaches that passphrases are noise.";
    // --- attestation ------------------------------------------------------------------
    ATTESTATION_INVALID = "AU020" "attestation-invalid" Error,
        "An attestation file verifies: signature over authData and the challenge, rpIdHash = SHA-256(application), attested key = the SSH key.",
        "The attestation is the evidence of how and where the credential was made. One that does not verify is evidence of nothing, and one whose key differs from the .pub file belongs to another credential.";
    ATTESTATION_UNTRUSTED = "AU021" "attestation-untrusted" Error,
        "When trusted roots are configured, every attestation certificate chains to one of them.",
        "A signature by an unknown certificate proves only that some software holds that certificate's key; only a chain to the vendor's root says the credential was made on real hardware of that vendor.";
    ATTESTATION_AAGUID_NOT_ALLOWED = "AU022" "attestation-aaguid-not-allowed" Error,
        "The authenticator model (AAGUID) is on the policy's aaguid_allow_list (when the list is not empty).",
        "The allow list names the security key models the organisation issues; a credential made on another model (or a software authenticator) is outside the policy.";
    ATTESTATION_SELF = "AU023" "attestation-self" Info,
        "Attestations signed by a certificate, not by the credential itself, are evidence of hardware.",
        "Self-attestation (packed format without x5c) is signed with the new credential's own key: it proves the authenticator data belongs to the key, not that the key lives in hardware. OpenSK and software authenticators self-attest.";
    ATTESTATION_NO_CHALLENGE = "AU024" "attestation-no-challenge" Warning,
        "An attestation file comes with the challenge it signs (`<key>.challenge`).",
        "The attestation signs SHA-256(challenge); without the challenge it cannot be verified, and a copied attestation of another enrollment cannot be told apart.";
    ATTESTATION_CHAIN_UNCHECKED = "AU025" "attestation-chain-unchecked" Info,
        "Attestation certificates are checked against trusted roots (settings.trusted_attestation_roots or --roots).",
        "Without roots the audit can check the signature but not who made the certificate, so the attestation says nothing about the vendor.";
    ATTESTATION_MISSING = "AU026" "attestation-missing" Warning,
        "When the policy sets require_attestation, every sk key file has its attestation (`<key>.attest`).",
        "The policy asks for evidence of how each key was made; a key without it may have been made anywhere, including in software.";
    ATTESTATION_NONE = "AU027" "attestation-none" Warning,
        "An attestation file carries a signature (not the `none` format).",
        "An empty attestation statement is the authenticator declining to give evidence; the file looks like an attestation but proves nothing.";
    // --- authorized_keys --------------------------------------------------------------
    LINE_UNPARSEABLE = "AU030" "line-unparseable" Error,
        "Every authorized_keys line parses: options, key type, base64 blob, comment.",
        "sshd skips a line it cannot read, so the key on it silently stops working, and a half-edited line is often a pasted key whose options were lost.";
    LINE_TOO_LONG = "AU031" "line-too-long" Error,
        "No authorized_keys or ssh_config line is longer than 64 KiB.",
        "No real key line comes near that (a 16384-bit RSA key is under 3 KiB); such a line is damage or an attempt to exhaust whoever reads the file, and sshd will not use it.";
    KEY_BLOB_INVALID = "AU032" "key-blob-invalid" Error,
        "The base64 blob decodes as a public key of the type the line names.",
        "A blob that does not decode, or whose inner type differs from the line's, was damaged or spliced; sshd refuses it, so the key does not work, and the line misleads whoever reads the file.";
    NO_TOUCH_REQUIRED_MISSING = "AU033" "no-touch-required-missing" Error,
        "A key of a no-touch mode carries `no-touch-required` in authorized_keys.",
        "sshd requires user presence on every security-key signature unless the line says no-touch-required; without it every login with the key fails, which people then 'fix' by weakening the key.";
    NO_TOUCH_REQUIRED_ON_TOUCH_MODE = "AU034" "no-touch-required-on-touch-mode" Warning,
        "A key of a touch mode does not carry `no-touch-required`.",
        "The device still asks for a touch, but the server stops checking for it; keep the server as strict as the key.";
    VERIFY_REQUIRED_MISSING = "AU035" "verify-required-missing" Warning,
        "A key of a PIN mode carries `verify-required` in authorized_keys.",
        "sshd checks the signature's user-verified flag only with verify-required (or PubkeyAuthOptions verify-required in sshd_config); without it a thief with the device and no PIN gets in.";
    UNATTENDED_KEY_UNRESTRICTED = "AU036" "unattended-key-unrestricted" Error,
        "A resident key without touch and PIN (robo) carries `from=` and `command=` in authorized_keys.",
        "With neither touch nor PIN, whoever holds the device signs freely; the model allows that only because the server accepts the key from known addresses and for one command.";
    SERVER_OPTIONS_DIFFER = "AU037" "server-options-differ" Warning,
        "`from=` and `command=` on a mode's key are the policy's values.",
        "The policy is the one place where a mode's restrictions are decided; a wider from= or another forced command on a server is drift nobody reviewed.";
    WRONG_ACCOUNT = "AU038" "wrong-account" Error,
        "A mode's key is only in the authorized_keys of the mode's account.",
        "Each mode is a deliberate mix of knobs for one account: the sudo key (touch only) in root's authorized_keys logs in as root without the PIN; robo's key elsewhere escapes its forced command.";
    DUPLICATE_KEY = "AU039" "duplicate-key" Warning,
        "A key appears once per authorized_keys file.",
        "sshd uses the first matching line, so the options of a later copy never apply; an edit to one copy (adding from=, removing the key) silently does nothing.";
    NON_SK_KEY = "AU040" "non-sk-key" Warning,
        "Accounts the policy governs accept only security-key (sk) keys.",
        "A file-based key on root, admin, wheel or robo bypasses every knob of the policy: no device, no touch, no PIN.";
    AUTHORIZED_KEYS_PERMISSIONS = "AU041" "authorized-keys-permissions" Error,
        "authorized_keys is not writable by group or others.",
        "Whoever can write it can add their own key; sshd's StrictModes then refuses the file, locking every key out.";
    ACCOUNT_UNKNOWN = "AU042" "account-unknown" Info,
        "The audit knows whose authorized_keys each file is.",
        "Without the account the audit cannot check wrong-account keys or file-based keys on governed accounts; name it with FILE:ACCOUNT.";
    DUPLICATE_CHECK_CAPPED = "AU043" "duplicate-check-capped" Info,
        "Duplicate detection covers the whole file.",
        "To keep memory bounded on fleet-size files, duplicate detection remembers at most a fixed number of keys per file; keys after that are not compared.";
    // --- ssh_config ---------------------------------------------------------------------
    FORWARD_AGENT_NO_TOUCH = "AU050" "forward-agent-no-touch" Error,
        "Hosts that use a no-touch key do not forward the agent.",
        "With ssh -A a compromised host can ask the agent for signatures; a no-touch key in the agent signs them silently for as long as it stays loaded.";
    FORWARD_AGENT_EXPOSES_AGENT = "AU051" "forward-agent-exposes-agent" Warning,
        "Agent forwarding is not enabled for all hosts while a no-touch key is kept in the agent.",
        "Forwarding exposes every key in the agent, not only the host's own: `ForwardAgent yes` under `Host *` lets any server use wheel while it is loaded.";
    ADD_KEYS_WITHOUT_LIFETIME = "AU052" "add-keys-without-lifetime" Error,
        "`AddKeysToAgent` for a key with an agent lifetime in the policy gives a lifetime.",
        "`AddKeysToAgent yes` keeps the key in the agent until it stops, which for a no-touch key is the 'agent running all session' habit hardware keys exist to end.";
    ADD_KEYS_LIFETIME_TOO_LONG = "AU053" "add-keys-lifetime-too-long" Error,
        "`AddKeysToAgent` lifetimes are at most the policy's agent lifetime.",
        "The policy's lifetime (10m for wheel) is what bounds a silent signer in the agent; a longer one in ssh_config quietly replaces it.";
    CONFIG_LINE_UNREADABLE = "AU054" "config-line-unreadable" Warning,
        "ssh_config lines are UTF-8 text of sane length.",
        "ssh itself refuses a config with such a line, so everything in the file stops applying.";
}

/// Look a rule up by ID or name.
pub fn audit_rule(id_or_name: &str) -> Option<&'static AuditRule> {
    AUDIT_RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id_or_name) || r.name == id_or_name)
}

/// Where a finding is: a file, and a line and column in it when the finding is about one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    #[serde(serialize_with = "path_text")]
    pub file: PathBuf,
    /// 1-based.
    pub line: Option<u64>,
    /// 1-based, in characters.
    pub column: Option<usize>,
}

impl Location {
    pub fn file(file: &Path) -> Location {
        Location {
            file: file.to_owned(),
            line: None,
            column: None,
        }
    }

    pub fn line(file: &Path, line: u64) -> Location {
        Location {
            file: file.to_owned(),
            line: Some(line),
            column: None,
        }
    }

    pub fn at(file: &Path, line: u64, column: usize) -> Location {
        Location {
            file: file.to_owned(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

fn path_text<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// One audit finding.
#[derive(Debug, Clone, Serialize)]
pub struct AuditFinding {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub location: Location,
    /// The policy mode the finding is about, when one is known.
    pub mode: Option<String>,
    /// The account whose authorized_keys the finding is in, when known.
    pub account: Option<String>,
    pub message: String,
    pub fix: String,
}

impl AuditFinding {
    pub fn new(
        rule: &AuditRule,
        location: Location,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> AuditFinding {
        AuditFinding {
            rule: rule.id,
            name: rule.name,
            severity: rule.severity,
            location,
            mode: None,
            account: None,
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn mode(mut self, mode: Option<&str>) -> AuditFinding {
        self.mode = mode.map(str::to_owned);
        self
    }

    pub fn account(mut self, account: Option<&str>) -> AuditFinding {
        self.account = account.map(str::to_owned);
        self
    }
}

impl fmt::Display for AuditFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} [{} {}]: {}\n  fix: {}",
            self.location, self.severity, self.rule, self.name, self.message, self.fix
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_ordered_and_slugs_are_kebab_case() {
        for pair in AUDIT_RULES.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} before {}",
                pair[0].id,
                pair[1].id
            );
        }
        for r in AUDIT_RULES {
            assert!(
                r.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.name
            );
            assert_eq!(audit_rule(r.name).map(|x| x.id), Some(r.id));
        }
    }
}
