//! Keeps whatever the CTAP library prints away from fd 1 while a device call runs.
//!
//! OpenSSH runs providers inside `ssh-sk-helper`, whose IPC channel started life as its
//! stdin/stdout. ctap-hid-fido2 `println!`s unconditionally (for example "- unknown field
//! in pin retries response" when skset's error mapping asks for the PIN retry counter after
//! a wrong PIN). OpenSSH 9.2's helper already moves its channel off fd 0/1 before loading a
//! provider, but other hosts (or other versions) may not, and a stray line on fd 1 would be
//! read as protocol. So every device call runs with fd 1 pointed at `/dev/null`.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};

/// While alive, fd 1 is `/dev/null`. Dropping it restores the original fd 1, unless
/// [`SilencedStdout::keep_silenced`] was called.
pub struct SilencedStdout {
    saved: Option<OwnedFd>,
    restore: bool,
}

impl SilencedStdout {
    /// Points fd 1 at `/dev/null`. Best effort: if that fails nothing changes and the call
    /// proceeds (the alternative, refusing every operation, helps nobody).
    pub fn new() -> SilencedStdout {
        let _ = std::io::stdout().flush();
        let saved = rustix::io::dup(std::io::stdout().as_fd()).ok();
        let silenced = OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .ok()
            .is_some_and(|null| rustix::stdio::dup2_stdout(&null).is_ok());
        // If fd 1 was closed (dup failed) there is nothing to restore: leave /dev/null there,
        // so a file opened later cannot become fd 1 and receive the library's output.
        SilencedStdout {
            restore: silenced && saved.is_some(),
            saved,
        }
    }

    /// A device call outlived its deadline: its worker thread is still inside the CTAP
    /// library and may print at any time. Leave fd 1 on `/dev/null` for good, because a
    /// stray line in OpenSSH's IPC channel is worse than a silenced stdout.
    pub fn keep_silenced(&mut self) {
        self.restore = false;
    }
}

impl Default for SilencedStdout {
    fn default() -> Self {
        SilencedStdout::new()
    }
}

impl Drop for SilencedStdout {
    fn drop(&mut self) {
        // Anything the library left in Rust's stdout buffer belongs to /dev/null, too.
        let _ = std::io::stdout().flush();
        if self.restore {
            if let Some(saved) = &self.saved {
                let _ = rustix::stdio::dup2_stdout(saved);
            }
        }
    }
}
