//! Plain-words consequences of a policy, per mode, against three attackers:
//! a thief holding the security key, a compromised host you reached with `ssh -A`, and a
//! copy of the laptop's disk. Each answer names the rules that make it so.
//!
//! The text is derived from the knobs, not written per mode name, so a custom policy gets
//! an honest explanation too.

use serde::Serialize;

use super::model::{Mode, PassphraseRule, Policy};
use super::rules;

/// How bad an exposure is, for sorting and colouring; the text says the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No signature is possible.
    Nothing,
    /// Signing is possible only with something more, or only in a narrow way.
    Limited,
    /// The attacker can sign as this key.
    Signs,
}

#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    pub verdict: Verdict,
    pub text: String,
    /// Rule IDs that make it so.
    pub rules: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModeExplanation {
    pub mode: String,
    pub description: Option<String>,
    /// The knobs in one line.
    pub summary: String,
    pub device_thief: Exposure,
    pub forwarded_agent_host: Exposure,
    pub disk_copy: Exposure,
}

/// Explain every mode (or the one named).
pub fn explain(policy: &Policy) -> Vec<ModeExplanation> {
    policy
        .modes
        .iter()
        .map(|m| explain_mode(policy, m))
        .collect()
}

pub fn explain_mode(policy: &Policy, m: &Mode) -> ModeExplanation {
    ModeExplanation {
        mode: m.name.clone(),
        description: m.description.clone(),
        summary: summary(m),
        device_thief: device_thief(m),
        forwarded_agent_host: forwarded_host(m),
        disk_copy: disk_copy(policy, m),
    }
}

fn summary(m: &Mode) -> String {
    let mut parts = vec![
        if m.resident {
            "resident"
        } else {
            "non-resident"
        }
        .to_string(),
        if m.touch { "touch" } else { "no touch" }.to_string(),
        if m.pin { "PIN" } else { "no PIN" }.to_string(),
        format!("file passphrase {}", m.passphrase),
    ];
    parts.push(match (&m.agent.load, &m.agent.lifetime) {
        (false, _) => "not in ssh-agent".into(),
        (true, Some(l)) => format!("ssh-agent for {l}"),
        (true, None) => "ssh-agent, no lifetime".into(),
    });
    parts.push(format!("logs in as {}", m.server.account));
    parts.join(", ")
}

/// What the login looks like for someone who can sign: account and server limits.
fn what_signing_gets(m: &Mode) -> String {
    let mut s = format!("log in as {}", m.server.account);
    if !m.server.from.is_empty() {
        s.push_str(&format!(" but only from {}", m.server.from.join(", ")));
    }
    if let Some(cmd) = &m.server.command {
        s.push_str(&format!(", and only to run {cmd}"));
    }
    if m.server.sudo_totp {
        s.push_str("; sudo still asks for the TOTP code, so not root");
    }
    s
}

fn device_thief(m: &Mode) -> Exposure {
    if m.pin {
        let mut rules = vec![rules::PIN_LENGTH.id, rules::PIN_NEEDS_VERIFY_REQUIRED.id];
        if m.server.account == "root" {
            rules.insert(0, rules::ROOT_NEEDS_TOUCH_AND_PIN.id);
        }
        return Exposure {
            verdict: Verdict::Nothing,
            text: "Nothing without the PIN. Every signature needs it (the credential is made with credProtect UV_REQUIRED, so the device will not even use it without the PIN), listing it with `ssh-keygen -K` needs it, and the device locks its FIDO2 PIN after 8 wrong guesses. With the laptop's file as well it is still the PIN that stands in the way.".into(),
            rules,
        };
    }
    if !m.resident {
        return Exposure {
            verdict: Verdict::Nothing,
            text: format!(
                "Nothing from the device alone: a non-resident credential is derived from the handle in the laptop's ~/.ssh/{}, which the device does not keep. A thief who also has that file needs its passphrase too.",
                m.file
            ),
            rules: vec![rules::NON_RESIDENT_NEEDS_PASSPHRASE.id],
        };
    }
    let touch = if m.touch {
        "with a touch (which a thief can give)"
    } else {
        "without even a touch"
    };
    let mut rules = vec![rules::RESIDENT_PASSPHRASE_PROTECTS_NOTHING.id];
    if !m.touch {
        rules.insert(0, rules::UNATTENDED_KEY_CONTAINMENT.id);
    }
    Exposure {
        verdict: Verdict::Limited,
        text: format!(
            "The device alone does not give the key away: finding the credential (`ssh-keygen -K`) needs the PIN, and credProtect UV_OPTIONAL_WITH_ID hides it from PIN-less discovery. But ~/.ssh/{} is not secret (it is only a pointer and may sit on other machines and backups): a thief who has a copy can sign {touch} and {}.{} Revoke the key on the servers when the device is lost.",
            m.file,
            what_signing_gets(m),
            if m.touch { " Touch is not a defense against theft: the PIN is, and this mode has none." } else { "" }
        ),
        rules,
    }
}

fn forwarded_host(m: &Mode) -> Exposure {
    let rules = vec![rules::FORWARDING_NEEDS_TOUCH.id];
    if !m.agent.load {
        return Exposure {
            verdict: Verdict::Nothing,
            text: "Nothing: the key is not loaded into ssh-agent, so a forwarded agent cannot offer it. ssh signs with the device directly, and ProxyJump reaches further hosts without forwarding anything.".into(),
            rules: if m.touch { rules } else { vec![rules::UNATTENDED_KEY_CONTAINMENT.id] },
        };
    }
    if m.touch {
        let pin = if m.pin { " and the PIN" } else { "" };
        return Exposure {
            verdict: Verdict::Limited,
            text: format!(
                "Each signature it asks your agent for needs a touch{pin} on your security key. A blink you did not cause is the attack: do not touch, and the signature fails. It can sign only what you confirm."
            ),
            rules,
        };
    }
    let window = match m.agent.lifetime {
        Some(l) => format!("for up to {l} after each ssh-add"),
        None => "for as long as the agent runs".into(),
    };
    let forwarding = if m.agent.forwarding {
        "The policy allows forwarding it".to_string()
    } else {
        "The policy forbids forwarding it, but ssh -A forwards the whole agent, not one key"
            .to_string()
    };
    Exposure {
        verdict: Verdict::Signs,
        text: format!(
            "{forwarding}: while it is loaded, a compromised host you reached with ssh -A can sign as this key silently {window} and {}. Keep it in an agent you never forward (or use `ssh-add -h` destination constraints), and prefer ProxyJump.",
            what_signing_gets(m)
        ),
        rules: vec![rules::FORWARDING_NEEDS_TOUCH.id, rules::UNATTENDED_KEY_CONTAINMENT.id, rules::AGENT_LIFETIME_LONG.id],
    }
}

fn disk_copy(policy: &Policy, m: &Mode) -> Exposure {
    if m.resident {
        return Exposure {
            verdict: Verdict::Nothing,
            text: format!(
                "No signature: the private key never leaves the device, and ~/.ssh/{} is only a pointer to the credential on it. The copy does show that the key exists, its public key and so which servers trust it. {}",
                m.file,
                if m.pin {
                    "Even with the device stolen later, the PIN still stands in the way."
                } else {
                    "Combined with the device stolen later, it is all a PIN-less resident key needs (see the thief)."
                }
            ),
            rules: vec![rules::RESIDENT_PASSPHRASE_PROTECTS_NOTHING.id],
        };
    }
    let protected = match m.passphrase {
        PassphraseRule::Required => format!(
            "encrypted with your passphrase ({} bcrypt rounds), so an attacker who later steals the device must also guess the passphrase offline",
            policy.settings.kdf_rounds
        ),
        _ => "without a passphrase, so whoever later holds the device can sign with it".into(),
    };
    Exposure {
        verdict: if m.passphrase == PassphraseRule::Required { Verdict::Nothing } else { Verdict::Limited },
        text: format!(
            "No signature by itself: the file ~/.ssh/{} holds the credential handle, useless without the device, {protected}.",
            m.file
        ),
        rules: vec![rules::NON_RESIDENT_NEEDS_PASSPHRASE.id, rules::KDF_ROUNDS.id],
    }
}
