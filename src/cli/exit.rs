//! Exit codes: one table for every command, documented in `skset --help`.

use std::process::ExitCode;

/// What a command's outcome means to a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done; nothing to report.
    Success = 0,
    /// The command ran and found problems: policy violations, audit findings.
    Findings = 1,
    /// Input could not be used: bad usage, unreadable or invalid file.
    BadInput = 2,
    /// The security key refused or failed: wrong PIN, touch refused, no device, full.
    Device = 3,
    /// Something would be overwritten or lost and no confirmation was given.
    NeedsConfirmation = 4,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o as u8)
    }
}

pub const EXIT_CODES_HELP: &str = "\
Start here:
  skset                          the wizard (on a terminal): enroll, recover, audit, explain
  skset --simulate               the same with a simulated key, to try it safely
  skset plan                     what enrollment would do with the built-in four-mode policy
  skset enroll --out ~/.ssh      the same without the wizard (see skset enroll --help)

Exit codes:
  0  done, nothing to report
  1  findings: policy violations or audit findings
  2  bad input: usage error, unreadable or invalid file
  3  the security key refused or failed (wrong PIN, touch, no device, full)
  4  refused to overwrite or delete without an explicit confirmation";
