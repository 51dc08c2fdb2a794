//! Command line: one subcommand per file. Machine output (keys, lines, JSON) goes to
//! stdout; prompts, progress and errors go to stderr.

mod exit;
mod plan;
mod policy;

use clap::{Parser, Subcommand};
pub use exit::Outcome;

#[derive(Debug, Parser)]
#[command(
    name = "skset",
    version,
    about = "Provision hardware-backed SSH keys on a FIDO2 security key, and keep them honest",
    after_help = exit::EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Policy(policy::PolicyArgs),
    Plan(plan::PlanArgs),
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Outcome::Success
        }
        Some(Command::Policy(args)) => policy::run(args),
        Some(Command::Plan(args)) => plan::run(args),
    };
    outcome.into()
}
