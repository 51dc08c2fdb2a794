//! Everything that can happen to the wizard, as data: a key press, a resize, a tick of the
//! clock, and the answers of the effect runner. `update` is a function of these alone, so
//! tests drive every flow, including every failure, by feeding messages: no device needed.

use crate::audit::{AuditFinding, AuditSummary, Severity};
use crate::device::{
    CredentialCounts, DeviceError, DeviceEvent, DeviceInfo, DeviceSummary, PinStatus,
};
use crate::enroll::recover::{RecoverError, RecoverReport};
use crate::enroll::{EnrollError, EnrollEvent, ModeOutcome, ModeStatus, Preflight};
use crate::policy::{EnrollmentPlan, ModeExplanation, Policy};
use crossterm::event::KeyEvent;
use std::path::PathBuf;

// A handful of messages a second: moving a large `Done` costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    /// Animation clock (spinner, blinking touch prompt); ~5 per second.
    Tick,
    /// From inside a device call: "touch your key now" and its end.
    Device(DeviceEvent),
    /// Progress of the enrollment engine.
    Enroll(EnrollEvent),
    /// The answer to an [`crate::tui::effects::Effect`].
    Done(Done),
    /// SIGTERM or SIGHUP: leave at once, through the normal exit that restores the terminal.
    /// (Ctrl-C arrives as a key in raw mode and asks first.)
    Terminate,
}

#[derive(Debug)]
pub enum Done {
    /// Enumeration (each device opened briefly for its getInfo), or why it failed.
    Devices(Result<Vec<DeviceChoice>, DeviceError>),
    Opened(Result<OpenedDevice, Problem>),
    PinSet(Result<(), DeviceError>),
    /// The PIN was checked by a call that needs it (credential metadata).
    PinVerified(Result<CredentialCounts, DeviceError>),
    PolicyLoaded(Result<LoadedPolicy, Problem>),
    Preflight(Result<Preflight, DeviceError>),
    /// The device half of one mode (the touch happens here).
    Prepared {
        index: usize,
        result: Result<PreparedSummary, EnrollError>,
    },
    /// The file half of one mode.
    Written {
        index: usize,
        result: Result<ModeOutcome, EnrollError>,
    },
    Recovered(Result<RecoverReport, RecoverError>),
    /// The audit's findings, or why it could not run (unreadable input, a broken policy).
    Audited(Result<AuditReport, Problem>),
    /// The runner caught a panic while executing an effect.
    Crashed(String),
}

/// A failure that is not a [`DeviceError`]: what happened, with the fix in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
        }
    }
}

impl From<DeviceError> for Problem {
    fn from(e: DeviceError) -> Problem {
        Problem::new(e.to_string())
    }
}

/// A device in the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChoice {
    pub summary: DeviceSummary,
    /// None when the device could not be asked (busy, no permission): `error` says why.
    pub info: Option<DeviceInfo>,
    pub error: Option<String>,
}

/// The device the flow works with, as far as the screen needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedDevice {
    pub path: String,
    pub info: DeviceInfo,
    /// None: the device has no PIN support at all.
    pub pin: Option<PinStatus>,
    pub simulated: bool,
}

impl OpenedDevice {
    pub fn name(&self) -> String {
        if self.simulated {
            return "simulated key (OpenSK)".into();
        }
        self.info
            .product
            .clone()
            .unwrap_or_else(|| "FIDO2 security key".into())
    }
}

/// Where the policy came from (for the equivalent command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    BuiltIn,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub source: PolicySource,
    pub policy: Policy,
    /// Only the keys of this security key (the policy's first device).
    pub plan: EnrollmentPlan,
    pub explanations: Vec<ModeExplanation>,
}

/// What the runner keeps of a prepared credential; the credential itself stays on the
/// worker until it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSummary {
    pub status: ModeStatus,
    pub fingerprint: String,
}

/// What the audit form asks the worker to audit: the fields as typed, `~` expanded. The
/// worker builds the [`crate::audit::AuditInput`] (parsing `FILE[:ACCOUNT]` looks at the disk).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditRequest {
    /// None: the built-in four-mode policy.
    pub policy: Option<PathBuf>,
    pub ssh_dir: Option<PathBuf>,
    /// `FILE[:ACCOUNT]`, as `skset audit --authorized-keys` takes it.
    pub authorized_keys: Option<String>,
    pub ssh_config: Option<PathBuf>,
}

/// Most findings the wizard keeps to show; the counts stay exact beyond it, and the least
/// severe findings are the ones left out (a fleet-size file can have millions).
pub const AUDIT_SHOWN_MAX: usize = 10_000;

/// What the audit found, most severe first (file order within a severity).
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub findings: Vec<AuditFinding>,
    pub summary: AuditSummary,
    /// Findings counted but not kept (beyond [`AUDIT_SHOWN_MAX`]).
    pub left_out: u64,
}

impl AuditReport {
    /// Keeps findings as the audit reports them, up to `max`, preferring the more severe.
    pub fn collector(max: usize) -> AuditCollector {
        AuditCollector {
            max,
            kept: [Vec::new(), Vec::new(), Vec::new()],
            left_out: 0,
        }
    }

    /// The report fails at "error", as `skset audit` does by default.
    pub fn passes(&self) -> bool {
        self.summary.counts.at_or_above(Severity::Error) == 0
    }
}

/// Gathers findings per severity with a cap; see [`AuditReport::collector`].
#[derive(Debug)]
pub struct AuditCollector {
    max: usize,
    /// Error, warning, info.
    kept: [Vec<AuditFinding>; 3],
    left_out: u64,
}

impl AuditCollector {
    fn slot(s: Severity) -> usize {
        match s {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        }
    }

    pub fn push(&mut self, finding: AuditFinding) {
        let slot = Self::slot(finding.severity);
        let total: usize = self.kept.iter().map(Vec::len).sum();
        if total >= self.max {
            // Full: make room only by dropping a less severe finding.
            match (slot + 1..3).rev().find(|&s| !self.kept[s].is_empty()) {
                Some(lower) => {
                    self.kept[lower].pop();
                }
                None => {
                    self.left_out += 1;
                    return;
                }
            }
            self.left_out += 1;
        }
        self.kept[slot].push(finding);
    }

    pub fn finish(self, summary: AuditSummary) -> AuditReport {
        let [errors, warnings, infos] = self.kept;
        let mut findings = errors;
        findings.extend(warnings);
        findings.extend(infos);
        AuditReport {
            findings,
            summary,
            left_out: self.left_out,
        }
    }
}
