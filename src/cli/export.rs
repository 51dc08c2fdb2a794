//! `skset export ssh-config|agent|pam`: the client and server snippets a policy needs.

use super::output::Stdout;
use super::plan_input::PlanArgs;
use super::{Failure, Outcome};
use clap::{Args, Subcommand};
use skset::export;
use std::io::Write;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  skset export ssh-config >> ~/.ssh/config
  skset export agent                    the ssh-add -t lines for agent modes (wheel)
  skset export pam                      the sudo PAM line for TOTP (sudo mode)")]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: ExportWhat,
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// ssh_config blocks: per mode, `Match user ACCOUNT` with IdentityFile, IdentitiesOnly,
    /// AddKeysToAgent (with the policy's lifetime) and ForwardAgent.
    SshConfig {
        #[command(flatten)]
        plan: PlanArgs,
        /// How the snippet names the key directory.
        #[arg(long, value_name = "DIR", default_value = "~/.ssh")]
        ssh_dir: String,
    },
    /// `ssh-add -t LIFETIME` lines for the modes the policy loads into ssh-agent.
    Agent {
        #[command(flatten)]
        plan: PlanArgs,
        #[arg(long, value_name = "DIR", default_value = "~/.ssh")]
        ssh_dir: String,
    },
    /// The /etc/pam.d/sudo line for modes paired with TOTP at sudo.
    Pam {
        #[command(flatten)]
        plan: PlanArgs,
    },
}

pub fn run(args: &ExportArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    let io = |e: std::io::Error| Failure::from(anyhow::Error::from(e));
    match &args.what {
        ExportWhat::SshConfig { plan, ssh_dir } => {
            write!(out, "{}", export::ssh_config(&plan.load()?, ssh_dir)).map_err(io)?;
        }
        ExportWhat::Agent { plan, ssh_dir } => {
            for line in export::agent_commands(&plan.load()?, ssh_dir) {
                writeln!(out, "{line}").map_err(io)?;
            }
        }
        ExportWhat::Pam { plan } => match export::pam_snippet(&plan.load()?) {
            Some(snippet) => write!(out, "{snippet}").map_err(io)?,
            None => eprintln!("no mode of this policy asks for TOTP at sudo (server.sudo_totp)"),
        },
    }
    Ok(Outcome::Success)
}
