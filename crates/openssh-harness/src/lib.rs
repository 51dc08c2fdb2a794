//! Real OpenSSH for skset's tests: Debian's `sshd`, `ssh`, `ssh-keygen`, `ssh-agent` and
//! `ssh-add`, on 127.0.0.1 only, every wait bounded.
//!
//! - [`Sshd`]: a throw-away `sshd -D -e -f CONFIG` on a free loopback port with its own host
//!   key and one authorized_keys file per user, stopped on drop. sshd re-reads
//!   authorized_keys on every connection, so a test may rewrite them between logins.
//! - [`Client`]: runs the client tools with a [`Provider`] (the SecurityKeyProvider library
//!   and the device it should open) and an [`Askpass`] that answers PIN prompts from a file.
//! - [`Agent`]: `ssh-agent -D -a SOCK -P PATTERN`, stopped on drop.
//! - [`run`]: spawn with a deadline; on expiry the whole process group is killed.
//!
//! Accounts: the tests run as root and log in as root. Each test gets its own sshd with its
//! own `AuthorizedKeysFile DIR/authorized_keys/%u`, so "who may log in with which key" is
//! per test without creating system users (which would change shared machine state). Other
//! existing accounts work the same way if a test writes lines for them.
#![forbid(unsafe_code)]

mod client;
mod process;
mod sshd;

pub use client::{
    authorized_line, remote_marker, ssh_login, Agent, Askpass, Client, Provider, SshOptions,
};
pub use process::{run, Output};
pub use sshd::{Sshd, SshdOptions, SK_ALGORITHMS};

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where Debian puts the tools.
pub const SSHD: &str = "/usr/sbin/sshd";
pub const SSH: &str = "/usr/bin/ssh";
pub const SSH_KEYGEN: &str = "/usr/bin/ssh-keygen";
pub const SSH_AGENT: &str = "/usr/bin/ssh-agent";
pub const SSH_ADD: &str = "/usr/bin/ssh-add";
pub const SSH_SK_HELPER: &str = "/usr/lib/openssh/ssh-sk-helper";

/// Default deadline for one client command. Generous: a touch on the virtual key is instant.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the OpenSSH tier cannot run here, or None when it can. Tests print
/// `SKIPPED: <reason>` and return when this is Some.
pub fn skip_reason() -> Option<String> {
    for tool in [SSHD, SSH, SSH_KEYGEN, SSH_AGENT, SSH_ADD, SSH_SK_HELPER] {
        if !Path::new(tool).exists() {
            return Some(format!(
                "{tool} is missing (install openssh-server and openssh-client)"
            ));
        }
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is missing: the virtual security key needs FUSE".into());
    }
    if !rustix::process::geteuid().is_root() {
        return Some("the OpenSSH tests run sshd and log in as root: run them as root (e.g. in the dev container)".into());
    }
    None
}

/// Prints `SKIPPED: <reason>` and returns from the enclosing test when the OpenSSH tier
/// cannot run here.
#[macro_export]
macro_rules! skip_unless_ready {
    () => {
        if let Some(reason) = $crate::skip_reason() {
            eprintln!("SKIPPED: {reason}");
            println!("SKIPPED: {reason}");
            return;
        }
    };
}

/// Finds `libskset_sk_provider.so`: `$SKSET_SK_PROVIDER_LIB` if set, else next to the
/// running test's target directory (`target/<profile>/`). Cargo builds it for the
/// sk-provider crate's own tests; other crates' tests need `cargo build -p skset-sk-provider`
/// first.
pub fn provider_library() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("SKSET_SK_PROVIDER_LIB") {
        return Ok(PathBuf::from(path));
    }
    const NAME: &str = "libskset_sk_provider.so";
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the test binary: {e}"))?;
    // target/<profile>/deps/<test> -> target/<profile>/
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(3)
        .flat_map(|dir| [dir.join(NAME), dir.join("deps").join(NAME)])
        .collect();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        format!(
            "{NAME} not found (looked in {}). Build it with `cargo build -p skset-sk-provider` or set SKSET_SK_PROVIDER_LIB",
            candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )
    })
}
