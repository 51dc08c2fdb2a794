//! The enrollment plan: what to ask the security key for, per mode, and what to write.
//!
//! Pure data derived from a checked [`Policy`]; the enrollment engine executes it. Every
//! value the engine needs is an explicit public field, so it never re-derives policy
//! (flags, credProtect, identity, file names, server line) on its own.

use serde::{Serialize, Serializer};

use super::model::{KeyType, Lifetime, Mode, PassphraseRule, Policy};
use super::rules::{self, Finding};
use crate::openssh::authorized_keys::{self, AuthOption, AuthorizedKeyLine, RenderError};

/// OpenSSH `sk-api.h` flag bits, as stored in the private key file (owned by the format).
pub use crate::openssh::sk_key::flags as sk_flags;

/// CTAP 2.1 credProtect levels.
pub mod cred_protect {
    pub const UV_OPTIONAL: u8 = 1;
    pub const UV_OPTIONAL_WITH_ID: u8 = 2;
    pub const UV_REQUIRED: u8 = 3;

    pub fn name(level: u8) -> &'static str {
        match level {
            UV_OPTIONAL => "UV_OPTIONAL",
            UV_OPTIONAL_WITH_ID => "UV_OPTIONAL_WITH_ID",
            UV_REQUIRED => "UV_REQUIRED",
            _ => "unknown",
        }
    }
}

/// FIDO user id length on the device (OpenSSH pads `-O user=` to this).
pub const USER_ID_LEN: usize = 32;

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollmentPlan {
    pub policy: String,
    /// Replaces `{label}` in comments (default: host name).
    pub label: String,
    pub min_pin_length: u8,
    pub kdf_rounds: u32,
    pub require_attestation: bool,
    /// Devices in first-use order (`primary`, ...); keys name theirs in `PlannedKey::device`.
    pub devices: Vec<String>,
    pub keys: Vec<PlannedKey>,
    /// Warnings and infos from the rules (errors make `plan` fail instead).
    pub findings: Vec<Finding>,
}

/// One key to enroll.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedKey {
    pub mode: String,
    pub device: String,
    pub key_type: KeyType,
    /// Use [`KeyType::EcdsaP256`] if the device lacks Ed25519 (getInfo algorithms).
    pub ecdsa_fallback: bool,
    /// FIDO application / rpId, e.g. `ssh:root`.
    pub application: String,
    /// The 32 bytes sent as user.id: the policy's text, zero padded.
    #[serde(serialize_with = "hex_bytes")]
    pub user_id: [u8; USER_ID_LEN],
    /// For people: the text, or `(32 zero bytes)`.
    pub user_id_display: String,
    pub resident: bool,
    pub touch: bool,
    pub pin: bool,
    /// `sk_flags` bits for the key file.
    pub flags: u8,
    /// `flags` as `0x25`.
    pub flags_hex: String,
    /// credProtect level to request: 3 with PIN, else 2.
    pub cred_protect: u8,
    pub cred_protect_name: &'static str,
    /// File names inside `~/.ssh`.
    pub private_key_file: String,
    pub public_key_file: String,
    pub attestation_file: String,
    /// The comment, rendered from the template and label.
    pub comment: String,
    pub passphrase: PassphraseRule,
    /// bcrypt rounds when the file gets a passphrase.
    pub kdf_rounds: u32,
    pub agent_load: bool,
    pub agent_lifetime: Option<Lifetime>,
    pub agent_lifetime_seconds: Option<u32>,
    pub agent_forwarding: bool,
    /// The account whose authorized_keys gets the key.
    pub account: String,
    pub sudo_totp: bool,
    pub authorized_keys_options: Vec<AuthOption<'static>>,
    /// The server line with `{public_key}` standing for `<key type> <base64>`.
    pub authorized_keys_template: String,
    /// The `ssh-keygen` command that makes the same key (same identity, flags, comment).
    pub ssh_keygen_command: String,
    /// The same with `-t ecdsa-sk`, when fallback is allowed.
    pub ssh_keygen_fallback_command: Option<String>,
    /// How to load it into the agent, when the policy says so.
    pub ssh_add_command: Option<String>,
}

impl PlannedKey {
    /// The authorized_keys line for the enrolled public key.
    pub fn authorized_keys_line(
        &self,
        key_type: &str,
        key_base64: &str,
    ) -> Result<String, RenderError> {
        AuthorizedKeyLine {
            options: self.authorized_keys_options.clone(),
            key_type: key_type.into(),
            key_base64: key_base64.into(),
            comment: Some(self.comment.as_str().into()),
        }
        .render()
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error("the policy has {} rule violation(s); run `skset policy check` and fix them first", .0.len())]
    Violations(Vec<Finding>),
    #[error("label {0:?} cannot go into a key comment: use a single line of printable text (at most 64 characters), e.g. --label laptop")]
    BadLabel(String),
    #[error("mode {mode}: {source}")]
    Render { mode: String, source: RenderError },
}

/// Build the plan. Refuses a policy with error findings: the engine must never enroll
/// what the rules reject.
pub fn plan(policy: &Policy, label: &str) -> Result<EnrollmentPlan, PlanError> {
    let findings = rules::check(policy);
    let errors: Vec<Finding> = rules::errors(&findings).cloned().collect();
    if !errors.is_empty() {
        return Err(PlanError::Violations(errors));
    }
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(PlanError::BadLabel(label.to_owned()));
    }
    let mut devices: Vec<String> = Vec::new();
    let mut keys = Vec::with_capacity(policy.modes.len());
    for m in &policy.modes {
        if !devices.contains(&m.device) {
            devices.push(m.device.clone());
        }
        keys.push(planned_key(policy, m, label)?);
    }
    Ok(EnrollmentPlan {
        policy: policy.name.clone(),
        label: label.to_owned(),
        min_pin_length: policy.settings.min_pin_length,
        kdf_rounds: policy.settings.kdf_rounds,
        require_attestation: policy.settings.require_attestation,
        devices,
        keys,
        findings,
    })
}

/// The flags byte OpenSSH stores for a mode.
pub fn flags_for(m: &Mode) -> u8 {
    let mut f = 0;
    if m.touch {
        f |= sk_flags::USER_PRESENCE_REQUIRED;
    }
    if m.pin {
        f |= sk_flags::USER_VERIFICATION_REQUIRED;
    }
    if m.resident {
        f |= sk_flags::RESIDENT_KEY;
    }
    f
}

/// The user id as sent to the device: text, zero padded to 32 bytes (truncated at 31 if
/// the rules were bypassed, as OpenSSH does).
pub fn user_id_bytes(user_id: &str) -> [u8; USER_ID_LEN] {
    let mut out = [0u8; USER_ID_LEN];
    let b = user_id.as_bytes();
    let n = b.len().min(USER_ID_LEN - 1);
    out[..n].copy_from_slice(&b[..n]);
    out
}

/// Replace `{label}`, `{mode}`, `{account}`, `{device}`.
pub fn render_comment(template: &str, m: &Mode, label: &str) -> String {
    template
        .replace("{label}", label)
        .replace("{mode}", &m.name)
        .replace("{account}", &m.server.account)
        .replace("{device}", &m.device)
}

fn planned_key(policy: &Policy, m: &Mode, label: &str) -> Result<PlannedKey, PlanError> {
    let flags = flags_for(m);
    let cred_protect = if m.pin {
        cred_protect::UV_REQUIRED
    } else {
        cred_protect::UV_OPTIONAL_WITH_ID
    };
    let comment = render_comment(&m.comment, m, label);
    let options = m.server.authorized_keys_options();
    let rendered =
        authorized_keys::render_options(&options).map_err(|source| PlanError::Render {
            mode: m.name.clone(),
            source,
        })?;
    let template = if rendered.is_empty() {
        format!("{{public_key}} {comment}")
    } else {
        format!("{rendered} {{public_key}} {comment}")
    };
    let kdf_rounds = policy.settings.kdf_rounds;
    let keygen = |kt: KeyType| keygen_command(m, kt, &comment, kdf_rounds);
    let private_key_file = m.file.clone();
    Ok(PlannedKey {
        mode: m.name.clone(),
        device: m.device.clone(),
        key_type: m.key_type,
        ecdsa_fallback: m.ecdsa_fallback,
        application: m.application.clone(),
        user_id: user_id_bytes(&m.user_id),
        user_id_display: if m.user_id.is_empty() {
            "(32 zero bytes)".into()
        } else {
            m.user_id.clone()
        },
        resident: m.resident,
        touch: m.touch,
        pin: m.pin,
        flags,
        flags_hex: format!("0x{flags:02x}"),
        cred_protect,
        cred_protect_name: cred_protect::name(cred_protect),
        public_key_file: format!("{private_key_file}.pub"),
        attestation_file: format!("{private_key_file}.attest"),
        private_key_file,
        comment: comment.clone(),
        passphrase: m.passphrase,
        kdf_rounds,
        agent_load: m.agent.load,
        agent_lifetime: m.agent.lifetime,
        agent_lifetime_seconds: m.agent.lifetime.map(|l| l.seconds),
        agent_forwarding: m.agent.forwarding,
        account: m.server.account.clone(),
        sudo_totp: m.server.sudo_totp,
        authorized_keys_options: options,
        authorized_keys_template: template,
        ssh_keygen_command: keygen(m.key_type),
        ssh_keygen_fallback_command: (m.ecdsa_fallback && m.key_type == KeyType::Ed25519)
            .then(|| keygen(KeyType::EcdsaP256)),
        ssh_add_command: m.agent.load.then(|| match m.agent.lifetime {
            Some(l) => format!("ssh-add -t {l} ~/.ssh/{}", shell_word(&m.file)),
            None => format!("ssh-add ~/.ssh/{}", shell_word(&m.file)),
        }),
    })
}

/// `ssh-keygen` arguments in the order the model's recipes use.
fn keygen_command(m: &Mode, kt: KeyType, comment: &str, kdf_rounds: u32) -> String {
    let mut args: Vec<String> = vec!["ssh-keygen".into(), "-t".into(), kt.keygen_name().into()];
    let mut opt = |o: String| {
        args.push("-O".into());
        args.push(o);
    };
    if m.resident {
        opt("resident".into());
    }
    if m.pin {
        opt("verify-required".into());
    }
    if !m.touch {
        opt("no-touch-required".into());
    }
    if m.application != super::model::OPENSSH_DEFAULT_APPLICATION {
        opt(shell_word(&format!("application={}", m.application)));
    }
    if !m.user_id.is_empty() {
        opt(shell_word(&format!("user={}", m.user_id)));
    }
    opt(format!(
        "\"write-attestation=$HOME/.ssh/{}.attest\"",
        m.file
    ));
    match m.passphrase {
        // A resident file is a pointer: no passphrase, no prompt.
        PassphraseRule::Forbidden => {
            args.push("-N".into());
            args.push("''".into());
        }
        // Prompt for it; bcrypt rounds as the policy says.
        PassphraseRule::Required | PassphraseRule::Optional => {
            args.push("-a".into());
            args.push(kdf_rounds.to_string());
        }
    }
    args.push("-f".into());
    args.push(format!("~/.ssh/{}", shell_word(&m.file)));
    args.push("-C".into());
    args.push(shell_word(comment));
    args.join(" ")
}

/// Quote for a POSIX shell when needed.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn hex_bytes<S: Serializer>(bytes: &[u8; USER_ID_LEN], s: S) -> Result<S::Ok, S::Error> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.serialize_str(&hex)
}
