//! What enrolled keys need elsewhere: authorized_keys lines per account, an ssh_config
//! snippet, the ssh-add line for agent modes, the PAM snippet for TOTP at sudo.
//! Pure rendering from the plan and the public keys; writing is the caller's business.

use crate::openssh::authorized_keys::AuthorizedKeyLine;
use crate::openssh::public_key::SkPublicKey;
use crate::policy::plan::{EnrollmentPlan, PlannedKey};
use serde::Serialize;
use std::fmt::Write as _;

/// The authorized_keys lines for one target account.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccountLines {
    pub account: String,
    /// (mode, line) in plan order.
    pub lines: Vec<ModeLine>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ModeLine {
    pub mode: String,
    pub line: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{mode}: the public key is for application {found}, but the policy gives this mode {expected}. Is this the right file?")]
    ApplicationMismatch {
        mode: String,
        expected: String,
        found: String,
    },
    #[error("{mode}: cannot render the authorized_keys line: {detail}")]
    Render { mode: String, detail: String },
}

/// Renders each mode's line with the policy's options (`verify-required`,
/// `no-touch-required`, `restrict`, `from=`, `command=`), grouped by target account in the
/// order accounts first appear in the plan.
pub fn authorized_keys(
    keys: &[(&PlannedKey, &SkPublicKey)],
) -> Result<Vec<AccountLines>, ExportError> {
    let mut accounts: Vec<AccountLines> = Vec::new();
    for (planned, public) in keys {
        if public.application != planned.application {
            return Err(ExportError::ApplicationMismatch {
                mode: planned.mode.clone(),
                expected: planned.application.clone(),
                found: public.application.clone(),
            });
        }
        let key_line = public.to_line().map_err(|e| ExportError::Render {
            mode: planned.mode.clone(),
            detail: e.to_string(),
        })?;
        let mut words = key_line.split_whitespace();
        let (Some(key_type), Some(base64)) = (words.next(), words.next()) else {
            return Err(ExportError::Render {
                mode: planned.mode.clone(),
                detail: "the public key did not render".into(),
            });
        };
        // The comment is the one in the .pub file: it names the key as its owner saw it.
        let line = AuthorizedKeyLine {
            options: planned.authorized_keys_options.clone(),
            key_type: key_type.into(),
            key_base64: base64.into(),
            comment: (!public.comment.is_empty()).then(|| public.comment.as_str().into()),
        }
        .render()
        .map_err(|e| ExportError::Render {
            mode: planned.mode.clone(),
            detail: e.to_string(),
        })?;
        let entry = ModeLine {
            mode: planned.mode.clone(),
            line: line.trim_end().to_string(),
        };
        match accounts.iter_mut().find(|a| a.account == planned.account) {
            Some(account) => account.lines.push(entry),
            None => accounts.push(AccountLines {
                account: planned.account.clone(),
                lines: vec![entry],
            }),
        }
    }
    Ok(accounts)
}

/// authorized_keys text: a comment naming each account, then its lines.
pub fn authorized_keys_text(accounts: &[AccountLines]) -> String {
    let mut out = String::new();
    for account in accounts {
        let _ = writeln!(
            out,
            "# account {}: ~{}/.ssh/authorized_keys",
            account.account, account.account
        );
        for line in &account.lines {
            let _ = writeln!(out, "{}", line.line);
        }
    }
    out
}

/// An ssh_config snippet. `Match user` matches the *remote* user, and each mode targets one
/// account, so every mode gets a block that picks its key for that account only.
/// `ssh_dir` is how the snippet names the key directory (e.g. `~/.ssh`).
pub fn ssh_config(plan: &EnrollmentPlan, ssh_dir: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# skset: SSH client settings for policy {} (label {}).",
        plan.policy, plan.label
    );
    let _ = writeln!(
        out,
        "# Include it from ~/.ssh/config (Include ~/.ssh/config.d/skset) or paste it there."
    );
    for key in &plan.keys {
        let _ = writeln!(out);
        let _ = writeln!(out, "# {}: {}", key.mode, knobs(key));
        let _ = writeln!(out, "Match user {}", key.account);
        let _ = writeln!(
            out,
            "    IdentityFile {}/{}",
            ssh_dir.trim_end_matches('/'),
            key.private_key_file
        );
        let _ = writeln!(out, "    IdentitiesOnly yes");
        if key.agent_load {
            match &key.agent_lifetime_seconds {
                Some(seconds) => {
                    let _ = writeln!(out, "    AddKeysToAgent {}", lifetime_text(*seconds));
                }
                None => {
                    let _ = writeln!(out, "    AddKeysToAgent yes");
                }
            }
        } else {
            let _ = writeln!(out, "    AddKeysToAgent no");
        }
        let _ = writeln!(
            out,
            "    ForwardAgent {}",
            if key.agent_forwarding { "yes" } else { "no" }
        );
    }
    out
}

/// `ssh-add -t` lines for modes the policy loads into the agent.
pub fn agent_commands(plan: &EnrollmentPlan, ssh_dir: &str) -> Vec<String> {
    plan.keys
        .iter()
        .filter(|k| k.agent_load)
        .map(|k| {
            let lifetime = k
                .agent_lifetime_seconds
                .map(|s| format!("-t {} ", lifetime_text(s)))
                .unwrap_or_default();
            format!(
                "ssh-add {lifetime}{}/{}",
                ssh_dir.trim_end_matches('/'),
                k.private_key_file
            )
        })
        .collect()
}

/// The PAM line for hosts where a mode's account asks for a TOTP code at sudo.
pub fn pam_snippet(plan: &EnrollmentPlan) -> Option<String> {
    let accounts: Vec<&str> = plan
        .keys
        .iter()
        .filter(|k| k.sudo_totp)
        .map(|k| k.account.as_str())
        .collect();
    if accounts.is_empty() {
        return None;
    }
    Some(format!(
        "# /etc/pam.d/sudo on hosts where {} logs in with a skset key (policy {}):\n\
         # a stolen security key can be touched, so sudo asks for a TOTP code too.\n\
         # Each user runs google-authenticator once to create ~/.google_authenticator.\n\
         auth required pam_google_authenticator.so\n",
        accounts.join(", "),
        plan.policy
    ))
}

fn knobs(key: &PlannedKey) -> String {
    format!(
        "{}, {}, {}, {}",
        if key.resident {
            "resident"
        } else {
            "non-resident"
        },
        if key.touch { "touch" } else { "no touch" },
        if key.pin { "PIN" } else { "no PIN" },
        if key.agent_load {
            "ssh-agent"
        } else {
            "no agent"
        }
    )
}

/// Seconds as ssh's time format: `10m` rather than `600` where it divides.
fn lifetime_text(seconds: u32) -> String {
    match seconds {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_use_ssh_time_format() {
        assert_eq!(lifetime_text(600), "10m");
        assert_eq!(lifetime_text(7200), "2h");
        assert_eq!(lifetime_text(90), "90");
    }
}
