//! The audit: what is deployed (key files in `~/.ssh`, `authorized_keys` on servers,
//! `ssh_config` on clients, attestations) checked against a policy, for a security team.
//!
//! Pure file analysis: no device, no writes. The pieces:
//! - [`rules`]: the rules with stable IDs (`AU001`...), and the finding type;
//! - [`modes`]: which policy mode a key belongs to (application, file name, comment);
//! - [`ssh_dir`]: permissions and private key files;
//! - [`authorized_keys`]: server lines, streamed with a line-length cap;
//! - [`ssh_config`]: agent forwarding and agent lifetimes on the client;
//! - [`attestation`]: verifying `ssh-sk-attest-v01` files; [`attest_check`] runs it in the audit.
//!
//! Findings go to a sink as they are found, so a fleet-size file never makes the audit hold
//! its findings in memory; [`audit_collect`] gathers them for callers that want a `Vec`.
//! Only input that cannot be read at all is an error ([`AuditError`]); everything in it
//! that is wrong, however malformed, is a finding.

pub mod attest_check;
pub mod attestation;
pub mod authorized_keys;
pub mod lines;
pub mod modes;
pub mod report;
pub mod rules;
pub mod ssh_config;
pub mod ssh_dir;

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Serialize;

use self::attest_check::{AttestationEvidence, AttestationSettings};
use self::attestation::{RootsError, TrustAnchors};
use self::modes::ModeIndex;
pub use self::rules::{AuditFinding, AuditRule, Location, Severity, AUDIT_RULES};
use crate::policy::model::Policy;

/// An authorized_keys file and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizedKeysInput {
    #[serde(serialize_with = "path_text")]
    pub path: PathBuf,
    /// From `FILE:ACCOUNT`, else from the path (`/root/...`, `/home/NAME/...`).
    pub account: Option<String>,
}

impl AuthorizedKeysInput {
    /// `FILE[:ACCOUNT]`. The part after the last `:` is an account only when it looks like
    /// one (no `/`) and the whole argument is not itself an existing file.
    pub fn parse(arg: &str) -> AuthorizedKeysInput {
        if let Some((file, account)) = arg.rsplit_once(':') {
            let plausible = !account.is_empty() && !account.contains('/') && !file.is_empty();
            if plausible && !Path::new(arg).exists() {
                return AuthorizedKeysInput {
                    path: PathBuf::from(file),
                    account: Some(account.to_owned()),
                };
            }
        }
        let path = PathBuf::from(arg);
        let account = authorized_keys::account_from_path(&path);
        AuthorizedKeysInput { path, account }
    }
}

/// What to audit.
#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    /// `~/.ssh` directories: key files, and the `authorized_keys` and `config` inside.
    pub ssh_dirs: Vec<PathBuf>,
    pub authorized_keys: Vec<AuthorizedKeysInput>,
    pub ssh_configs: Vec<PathBuf>,
    /// Attestation roots (a directory or file); overrides the policy's list.
    pub roots: Option<PathBuf>,
    /// Where the policy file is: its relative `trusted_attestation_roots` are relative to it.
    pub policy_dir: Option<PathBuf>,
}

/// Input that could not be read at all (exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("cannot read {}: {source}; check the path, and run the audit as a user who may read it", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a directory; --ssh-dir takes a directory such as ~/.ssh (use --authorized-keys or --ssh-config for files)", path.display())]
    NotADirectory { path: PathBuf },
    #[error("attestation roots: {0}")]
    Roots(#[from] RootsError),
}

/// Findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub error: u64,
    pub warning: u64,
    pub info: u64,
}

impl SeverityCounts {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }

    /// Findings at or above `threshold`.
    pub fn at_or_above(&self, threshold: Severity) -> u64 {
        match threshold {
            Severity::Error => self.error,
            Severity::Warning => self.error + self.warning,
            Severity::Info => self.error + self.warning + self.info,
        }
    }
}

/// What was audited, and the totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditSummary {
    pub policy: String,
    #[serde(serialize_with = "paths_text")]
    pub ssh_dirs: Vec<PathBuf>,
    pub authorized_keys: Vec<AuthorizedKeysInput>,
    #[serde(serialize_with = "paths_text")]
    pub ssh_configs: Vec<PathBuf>,
    /// Files looked at (directory entries, authorized_keys and config files).
    pub files: u64,
    /// authorized_keys and ssh_config lines read.
    pub lines: u64,
    pub private_keys: u64,
    /// Keys on authorized_keys lines.
    pub authorized_keys_entries: u64,
    /// sk keys, in key files and on authorized_keys lines.
    pub sk_keys: u64,
    pub counts: SeverityCounts,
    pub attestations: Vec<AttestationEvidence>,
}

fn path_text<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

fn paths_text<S: serde::Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ps.iter().map(|p| p.to_string_lossy()))
}

/// Load the attestation roots the audit trusts: `--roots`, else the policy's list.
pub fn load_anchors(
    policy: &Policy,
    roots: Option<&Path>,
    policy_dir: Option<&Path>,
) -> Result<Option<TrustAnchors>, RootsError> {
    if let Some(dir) = roots {
        return TrustAnchors::from_dir(dir).map(Some);
    }
    let listed = &policy.settings.trusted_attestation_roots;
    if listed.is_empty() {
        return Ok(None);
    }
    let files: Vec<PathBuf> = listed
        .iter()
        .map(|p| {
            let p = Path::new(p);
            match policy_dir {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p.to_owned(),
            }
        })
        .collect();
    TrustAnchors::from_files(&files).map(Some)
}

/// Run the audit, handing each finding to `sink` as it is found.
pub fn audit(
    policy: &Policy,
    input: &AuditInput,
    sink: &mut dyn FnMut(AuditFinding),
) -> Result<AuditSummary, AuditError> {
    preflight(input)?;
    let modes = ModeIndex::new(policy);
    let settings = AttestationSettings {
        anchors: load_anchors(policy, input.roots.as_deref(), input.policy_dir.as_deref())?,
        aaguid_allow_list: policy.settings.aaguid_allow_list.clone(),
        require_attestation: policy.settings.require_attestation,
    };
    let mut summary = AuditSummary {
        policy: policy.name.clone(),
        ssh_dirs: input.ssh_dirs.clone(),
        ..AuditSummary::default()
    };
    let mut counts = SeverityCounts::default();
    let mut counted = |f: AuditFinding| {
        counts.add(f.severity);
        sink(f);
    };

    let mut authorized: Vec<AuthorizedKeysInput> = input.authorized_keys.clone();
    let mut configs: Vec<PathBuf> = input.ssh_configs.clone();
    let ctx = ssh_dir::KeyFileContext {
        modes: &modes,
        attestation: &settings,
    };
    for dir in &input.ssh_dirs {
        let found = ssh_dir::audit_ssh_dir(&ctx, dir, &mut counted)?;
        summary.files += found.files;
        summary.private_keys += found.private_keys;
        summary.sk_keys += found.sk_keys;
        summary.attestations.extend(found.attestations);
        for path in found.authorized_keys {
            let account = authorized_keys::account_from_path(&path);
            authorized.push(AuthorizedKeysInput { path, account });
        }
        configs.extend(found.config);
    }

    // A file named twice (explicitly and inside a directory) is audited once, as named first.
    let mut seen = HashSet::new();
    authorized.retain(|a| seen.insert(canonical(&a.path)));
    let mut seen = HashSet::new();
    configs.retain(|c| seen.insert(canonical(c)));

    for entry in &authorized {
        let unreadable = |source| AuditError::Unreadable {
            path: entry.path.clone(),
            source,
        };
        let file = File::open(&entry.path).map_err(unreadable)?;
        if let Ok(mode) = crate::fsio::file_mode(&entry.path) {
            if mode & 0o022 != 0 {
                counted(AuditFinding::new(
                    &rules::AUTHORIZED_KEYS_PERMISSIONS,
                    Location::file(&entry.path),
                    format!("authorized_keys is writable by group or others (mode {mode:04o}): they can add their own key, and sshd's StrictModes refuses the file"),
                    format!("chmod 600 '{}'", entry.path.display()),
                ).account(entry.account.as_deref()));
            }
        }
        let stats = authorized_keys::audit_authorized_keys(
            &modes,
            &entry.path,
            entry.account.as_deref(),
            BufReader::with_capacity(256 * 1024, file),
            &mut counted,
        )
        .map_err(unreadable)?;
        summary.files += 1;
        summary.lines += stats.lines;
        summary.authorized_keys_entries += stats.keys;
        summary.sk_keys += stats.sk_keys;
    }
    for path in &configs {
        let unreadable = |source| AuditError::Unreadable {
            path: path.clone(),
            source,
        };
        let file = File::open(path).map_err(unreadable)?;
        summary.lines +=
            ssh_config::audit_ssh_config(&modes, path, BufReader::new(file), &mut counted)
                .map_err(unreadable)?;
        summary.files += 1;
    }
    summary.authorized_keys = authorized;
    summary.ssh_configs = configs;
    summary.counts = counts;
    Ok(summary)
}

/// Every input named on the command line can be opened, before the first finding is
/// reported: an unreadable input then fails the audit cleanly instead of half-way through
/// a report.
pub fn preflight(input: &AuditInput) -> Result<(), AuditError> {
    for dir in &input.ssh_dirs {
        let meta = std::fs::metadata(dir).map_err(|source| AuditError::Unreadable {
            path: dir.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(AuditError::NotADirectory { path: dir.clone() });
        }
        std::fs::read_dir(dir).map_err(|source| AuditError::Unreadable {
            path: dir.clone(),
            source,
        })?;
    }
    let files = input
        .authorized_keys
        .iter()
        .map(|a| &a.path)
        .chain(&input.ssh_configs);
    for path in files {
        let unreadable = |source| AuditError::Unreadable {
            path: path.clone(),
            source,
        };
        if std::fs::metadata(path).map_err(unreadable)?.is_dir() {
            return Err(unreadable(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "it is a directory, not a file",
            )));
        }
        File::open(path).map_err(unreadable)?;
    }
    Ok(())
}

/// [`audit`], with the findings gathered into a `Vec`.
pub fn audit_collect(
    policy: &Policy,
    input: &AuditInput,
) -> Result<(Vec<AuditFinding>, AuditSummary), AuditError> {
    let mut findings = Vec::new();
    let summary = audit(policy, input, &mut |f| findings.push(f))?;
    Ok((findings, summary))
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}
