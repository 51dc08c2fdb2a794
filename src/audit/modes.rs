//! Which policy mode a key belongs to.
//!
//! The credential's application (`ssh:root`) is the authority: it is in the public key, so
//! it survives copying to a server and cannot drift from the credential. A key file's name
//! (`id_root`, or its `.bak-...` backup) and comment (`laptop-root`) are what a person
//! wrote; they are used when the application says nothing, and a disagreement between the
//! two is itself a finding.

use crate::policy::model::{Mode, Policy};
use crate::policy::plan::flags_for;

/// How a mode was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Application,
    FileName,
    Comment,
}

impl Via {
    pub fn describe(self) -> &'static str {
        match self {
            Via::Application => "its application",
            Via::FileName => "its file name",
            Via::Comment => "its comment",
        }
    }
}

/// A key file's mode, and the mode its name or comment claims when that differs.
#[derive(Debug, Clone, Copy)]
pub struct ModeMatch<'p> {
    pub mode: Option<&'p Mode>,
    pub via: Via,
    /// The name or comment points at this mode while the application does not.
    pub claimed: Option<(&'p Mode, Via)>,
}

/// The policy's modes, looked up the ways the audit needs.
#[derive(Debug, Clone, Copy)]
pub struct ModeIndex<'p> {
    pub policy: &'p Policy,
}

impl<'p> ModeIndex<'p> {
    pub fn new(policy: &'p Policy) -> ModeIndex<'p> {
        ModeIndex { policy }
    }

    /// The modes whose credentials have this application.
    pub fn by_application<'a>(
        &'a self,
        application: &'a str,
    ) -> impl Iterator<Item = &'p Mode> + 'a {
        self.policy
            .modes
            .iter()
            .filter(move |m| m.application == application)
    }

    /// The one mode with this application, if exactly one has it.
    pub fn unique_by_application(&self, application: &str) -> Option<&'p Mode> {
        let mut it = self.by_application(application);
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }

    /// The mode writing this file name (`id_root`, `id_root.bak-20250101T000000Z`).
    pub fn by_file_name(&self, file_name: &str) -> Option<&'p Mode> {
        let stem = match file_name.find(".bak-") {
            Some(i) => &file_name[..i],
            None => file_name,
        };
        self.policy.modes.iter().find(|m| m.file == stem)
    }

    /// The mode whose comment template produces this comment, `{label}` matching anything.
    pub fn by_comment(&self, comment: &str) -> Option<&'p Mode> {
        if comment.is_empty() {
            return None;
        }
        self.policy.modes.iter().find(|m| {
            // A template without a mode-specific placeholder would match every mode's keys.
            m.comment.contains("{mode}") && comment_matches(&m.comment, m, comment)
        })
    }

    /// The mode of a key file: by application, else by file name, else by comment.
    pub fn for_key_file(
        &self,
        application: Option<&str>,
        file_name: &str,
        comment: Option<&str>,
    ) -> ModeMatch<'p> {
        let by_name = self.by_file_name(file_name).map(|m| (m, Via::FileName));
        let by_comment = comment
            .and_then(|c| self.by_comment(c))
            .map(|m| (m, Via::Comment));
        let claimed = by_name.or(by_comment);
        if let Some(app) = application {
            let candidates: Vec<&Mode> = self.by_application(app).collect();
            let chosen = match candidates.as_slice() {
                [one] => Some(*one),
                // Several modes share the application (only non-resident ones may): the name
                // or comment decides between them.
                [_, _, ..] => claimed
                    .map(|(m, _)| m)
                    .filter(|m| candidates.iter().any(|c| c.name == m.name)),
                [] => None,
            };
            if let Some(mode) = chosen {
                let claimed = claimed.filter(|(m, _)| m.name != mode.name);
                return ModeMatch {
                    mode: Some(mode),
                    via: Via::Application,
                    claimed,
                };
            }
            if let Some((mode, via)) = claimed {
                // The name says a mode, the credential has another application.
                return ModeMatch {
                    mode: Some(mode),
                    via,
                    claimed: Some((mode, via)),
                };
            }
            return ModeMatch {
                mode: None,
                via: Via::Application,
                claimed: None,
            };
        }
        match claimed {
            Some((mode, via)) => ModeMatch {
                mode: Some(mode),
                via,
                claimed: None,
            },
            None => ModeMatch {
                mode: None,
                via: Via::FileName,
                claimed: None,
            },
        }
    }

    /// Accounts whose authorized_keys the policy governs.
    pub fn governs_account(&self, account: &str) -> bool {
        self.policy
            .modes
            .iter()
            .any(|m| m.server.account == account)
    }
}

/// The flags byte a mode's key file carries.
pub fn expected_flags(mode: &Mode) -> u8 {
    flags_for(mode)
}

/// Does `comment` come from `template` for this mode, with `{label}` as a wildcard?
fn comment_matches(template: &str, mode: &Mode, comment: &str) -> bool {
    let fixed = template
        .replace("{mode}", &mode.name)
        .replace("{account}", &mode.server.account)
        .replace("{device}", &mode.device);
    let parts: Vec<&str> = fixed.split("{label}").collect();
    glob_parts(&parts, comment)
}

/// Match `text` against literal parts joined by wildcards.
fn glob_parts(parts: &[&str], text: &str) -> bool {
    match parts {
        [] => text.is_empty(),
        [only] => *only == text,
        [first, middle @ .., last] => {
            let Some(mut rest) = text.strip_prefix(first) else {
                return false;
            };
            let Some(before_last) = rest.len().checked_sub(last.len()) else {
                return false;
            };
            if !rest.ends_with(last) {
                return false;
            }
            rest = &rest[..before_last];
            for part in middle {
                match rest.find(part) {
                    Some(i) => rest = &rest[i + part.len()..],
                    None => return false,
                }
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        assert!(glob_parts(&["", "-root"], "laptop-root"));
        assert!(!glob_parts(&["", "-root"], "laptop-sudo"));
        assert!(glob_parts(&["x"], "x"));
        assert!(glob_parts(&["a", "b", "c"], "a1b2c"));
        assert!(!glob_parts(&["ab", "bc"], "abc"));
    }

    #[test]
    fn default_policy_lookups() {
        let policy = crate::policy::default_policy().unwrap();
        let idx = ModeIndex::new(&policy);
        assert_eq!(idx.unique_by_application("ssh:robo").unwrap().name, "robo");
        assert_eq!(
            idx.by_file_name("id_wheel.bak-20250101T000000Z")
                .unwrap()
                .name,
            "wheel"
        );
        assert_eq!(idx.by_comment("laptop-sudo").unwrap().name, "sudo");
        let m = idx.for_key_file(Some("ssh:"), "id_root", None);
        assert_eq!(m.mode.unwrap().name, "root");
        assert!(m.claimed.is_some());
        let m = idx.for_key_file(Some("ssh:root"), "id_sudo", None);
        assert_eq!(m.mode.unwrap().name, "root");
        assert_eq!(m.claimed.unwrap().0.name, "sudo");
        assert!(idx
            .for_key_file(Some("ssh:"), "id_ed25519_sk", None)
            .mode
            .is_none());
    }
}
