//! The policy a command works from: `--policy FILE` (or the built-in four-mode policy),
//! checked against the rules, turned into an enrollment plan.

use super::{Failure, Outcome};
use anyhow::anyhow;
use clap::Args;
use skset::policy::{self, EnrollmentPlan, Policy};
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The policy file (YAML). Default: the built-in four-mode policy (skset policy show-default).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Label used in key comments, e.g. "laptop" gives "laptop-root". Default: the policy's
    /// default_label, else this machine's host name.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,

    /// For policies that spread modes over several security keys: which one this is.
    /// Default: the first the policy names.
    #[arg(long, value_name = "NAME")]
    pub policy_device: Option<String>,
}

impl PlanArgs {
    pub fn load_policy(&self) -> Result<Policy, Failure> {
        let loaded = match &self.policy {
            Some(path) => policy::load_policy_file(path),
            None => policy::default_policy(),
        };
        loaded.map_err(|e| Failure::bad_input(anyhow!("{e}")))
    }

    /// The plan for this security key. Rule errors stop here (exit 1), like `policy check`.
    pub fn load(&self) -> Result<EnrollmentPlan, Failure> {
        let policy = self.load_policy()?;
        let findings = policy::check(&policy);
        let errors: Vec<String> = policy::rules::errors(&findings)
            .map(|f| f.to_string())
            .collect();
        if !errors.is_empty() {
            return Err(Failure {
                outcome: Outcome::Findings,
                kind: "policy-violation",
                error: anyhow!("the policy breaks its rules:\n{}", errors.join("\n")),
            });
        }
        let label = self
            .label
            .clone()
            .or_else(|| policy.settings.default_label.clone())
            .unwrap_or_else(super::plan::host_name);
        let mut plan =
            policy::plan(&policy, &label).map_err(|e| Failure::bad_input(anyhow!("{e}")))?;
        let device = match &self.policy_device {
            Some(name) if plan.devices.contains(name) => name.clone(),
            Some(name) => {
                return Err(Failure::bad_input(anyhow!(
                    "--policy-device {name}: the policy names the devices {}",
                    plan.devices.join(", ")
                )))
            }
            None => plan.devices.first().cloned().unwrap_or_default(),
        };
        plan.keys.retain(|k| k.device == device);
        Ok(plan)
    }

    pub fn mode_names(&self) -> Result<Vec<String>, Failure> {
        Ok(self
            .load_policy()?
            .modes
            .iter()
            .map(|m| m.name.clone())
            .collect())
    }

    /// How to repeat this choice of policy in a suggested command (with a leading space).
    pub fn policy_arg(&self) -> String {
        let mut arg = String::new();
        if let Some(p) = &self.policy {
            arg.push_str(&format!(" --policy {}", p.display()));
        }
        if let Some(label) = &self.label {
            arg.push_str(&format!(" --label {label}"));
        }
        if let Some(device) = &self.policy_device {
            arg.push_str(&format!(" --policy-device {device}"));
        }
        arg
    }
}
