//! Policy: which SSH keys ("modes") to make on a security key and what each must be.
//!
//! Pure: no device, no file writes. The pieces, in the order data flows:
//! - [`load`]: a YAML file -> [`model::Policy`], strict, budgeted, with located errors;
//! - [`rules`]: the checks with stable IDs (`SK001`...), each finding naming mode and fix;
//! - [`explain`]: what a thief, a forwarded host and a disk copy get, per mode;
//! - [`plan`]: the [`plan::EnrollmentPlan`] the enrollment engine executes.

pub mod explain;
pub mod load;
pub mod model;
pub mod plan;
pub mod rules;

pub use explain::{explain, ModeExplanation};
pub use load::{
    default_policy, load_policy_bytes, load_policy_file, load_policy_str, LoadError,
    DEFAULT_POLICY_YAML,
};
pub use model::{KeyType, Mode, PassphraseRule, Policy};
pub use plan::{plan, EnrollmentPlan, PlanError, PlannedKey};
pub use rules::{check, Finding, Severity, RULES};
