//! Mounting and, harder, unmounting the FUSE file system without hanging.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use fuser::{Config, MountOption, Session, SessionACL, SessionUnmounter};

use crate::fs::KeyFs;

/// How long an orderly unmount may take before we force it.
const UNMOUNT_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the FUSE thread after forcing. Without fusectl the
/// connection only ends when the last client closes the file, which a client
/// that just got EIO usually does at once; longer would only slow down Drop.
const FORCED_UNMOUNT_GRACE: Duration = Duration::from_secs(1);

/// A mounted file system whose FUSE loop runs on its own thread.
pub(crate) struct MountedFs {
    dir: PathBuf,
    /// `st_dev` of the mounted root: tells our mount from what was there before,
    /// and names the connection under /sys/fs/fuse/connections.
    device: u64,
    unmounter: SessionUnmounter,
    /// Mounted by fusermount3, which must also unmount it: with `auto_unmount`
    /// it only cleans up after a dead process, not a live one.
    via_fusermount: bool,
    /// Disconnects when the FUSE thread ends.
    finished: Receiver<()>,
    thread: JoinHandle<()>,
}

/// This process's effective uid and gid, read from /proc so no libc call (and
/// no `unsafe`) is needed.
pub(crate) fn effective_ids() -> (u32, u32) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|effective| effective.parse().ok())
    };
    // If /proc is unreadable, assume an ordinary user: the mount then goes
    // through fusermount3, which works for root too.
    (
        field("Uid:").unwrap_or(u32::MAX),
        field("Gid:").unwrap_or(u32::MAX),
    )
}

pub(crate) fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn config(acl: SessionACL, auto_unmount: bool) -> Config {
    let mut config = Config::default();
    config.acl = acl;
    config.mount_options = vec![
        MountOption::FSName("skset-virtual-key".to_owned()),
        MountOption::Subtype("skset-virtual-key".to_owned()),
        // Let the kernel enforce the modes we report (hidraw0 0666, control 0644),
        // which matters once other users may enter the mount.
        MountOption::DefaultPermissions,
        MountOption::NoExec,
    ];
    if auto_unmount {
        // fusermount3 stays behind and unmounts if this process dies without
        // unmounting (a killed test), so no dead mount is left for the next run.
        config.mount_options.push(MountOption::AutoUnmount);
    }
    config
}

/// Mounts, trying the most useful configuration first:
/// 1. through fusermount3 with `allow_other` and `auto_unmount` (root, or a user
///    allowed `user_allow_other` in /etc/fuse.conf);
/// 2. root: a direct mount with `allow_other`; others: fusermount3, owner only.
pub(crate) fn mount(
    dir: &Path,
    make_fs: impl Fn() -> KeyFs,
    is_root: bool,
) -> io::Result<MountedFs> {
    // (config, mounted through fusermount3)
    let mut attempts = Vec::new();
    if fusermount().is_some() {
        attempts.push((config(SessionACL::All, true), true));
    }
    if is_root {
        attempts.push((config(SessionACL::All, false), false));
    } else {
        attempts.push((config(SessionACL::Owner, false), true));
    }

    let mut last_error = io::Error::other("no mount method available");
    for (config, via_fusermount) in attempts {
        match Session::new(make_fs(), dir, &config) {
            Ok(session) => return start(dir, session, via_fusermount),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

fn start(dir: &Path, mut session: Session<KeyFs>, via_fusermount: bool) -> io::Result<MountedFs> {
    let mut unmounter = session.unmount_callable();
    let (finished_tx, finished) = mpsc::channel::<()>();
    let spawned = thread::Builder::new()
        .name("virtual-key-fuse".to_owned())
        .spawn(move || {
            // Ends when the kernel ends the connection (after unmount); the error,
            // if any, has nobody to go to: unmount reports what matters.
            let _ = session.run();
            drop(finished_tx);
        });
    let thread = match spawned {
        Ok(thread) => thread,
        Err(error) => {
            // The session went down with the closure that failed to start; its
            // mount is still ours to remove.
            let _ = unmounter.unmount();
            return Err(error);
        }
    };
    // Only now: a stat of the mount point is a FUSE request the loop must answer.
    match std::fs::metadata(dir) {
        Ok(metadata) => Ok(MountedFs {
            dir: dir.to_path_buf(),
            device: metadata.dev(),
            unmounter,
            via_fusermount,
            finished,
            thread,
        }),
        Err(error) => {
            let _ = unmounter.unmount();
            if wait(&finished, UNMOUNT_GRACE) {
                let _ = thread.join();
            }
            Err(error)
        }
    }
}

impl MountedFs {
    /// Unmounts and waits (bounded) for the FUSE thread. Never hangs: if a client
    /// keeps `hidraw0` open, the mount is detached and the connection aborted.
    /// Returns false if the FUSE thread had to be left behind.
    pub(crate) fn unmount(mut self) -> bool {
        let mut clean = true;
        if self.via_fusermount {
            clean = run_quietly(fusermount_command(&["-u"], &self.dir)).is_ok();
        }
        // A direct mount: umount(2). Through fusermount3: lets its helper go.
        clean &= self.unmounter.unmount().is_ok();
        if clean && wait(&self.finished, UNMOUNT_GRACE) && !is_mounted(&self.dir, self.device) {
            let _ = self.thread.join();
            return true;
        }
        // Busy: detach it from the tree now, and end the connection so the FUSE
        // thread sees it go (needs fusectl mounted and root; best effort).
        if is_mounted(&self.dir, self.device) {
            let _ = lazy_unmount(&self.dir);
        }
        abort_connection(self.device);
        if wait(&self.finished, FORCED_UNMOUNT_GRACE) {
            let _ = self.thread.join();
            true
        } else {
            // The connection lives until the last client closes hidraw0; every
            // request it makes fails (the hub is closed). Leave the thread be.
            false
        }
    }
}

fn wait(finished: &Receiver<()>, timeout: Duration) -> bool {
    matches!(
        finished.recv_timeout(timeout),
        Ok(()) | Err(RecvTimeoutError::Disconnected)
    )
}

/// Whether `dir` is still our mount (and not what was there before, or after).
pub(crate) fn is_mounted(dir: &Path, device: u64) -> bool {
    match std::fs::metadata(dir) {
        Ok(metadata) => metadata.dev() == device,
        // ENOTCONN/ECONNABORTED: the connection ended (or was aborted) but the
        // mount is still in the tree.
        Err(error) => matches!(error.raw_os_error(), Some(107 | 103)),
    }
}

/// `umount -l` as root, `fusermount3 -u -z` otherwise: detaches the mount even
/// while files on it are open.
fn lazy_unmount(dir: &Path) -> io::Result<()> {
    if effective_ids().0 == 0 {
        let mut command = Command::new("umount");
        command.arg("-l").arg(dir);
        run_quietly(command)
    } else {
        run_quietly(fusermount_command(&["-u", "-z"], dir))
    }
}

fn fusermount() -> Option<PathBuf> {
    find_in_path("fusermount3").or_else(|| find_in_path("fusermount"))
}

fn fusermount_command(args: &[&str], dir: &Path) -> Command {
    let mut command = Command::new(fusermount().unwrap_or_else(|| PathBuf::from("fusermount3")));
    command.args(args).arg("--").arg(dir);
    command
}

fn run_quietly(mut command: Command) -> io::Result<()> {
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("{command:?} failed: {status}")))
    }
}

/// Writes to /sys/fs/fuse/connections/N/abort, which fails every request on the
/// connection and wakes everything waiting on it. N is the minor number of the
/// mount's anonymous device.
fn abort_connection(device: u64) {
    let minor = (device & 0xff) | ((device >> 12) & 0xf_ff00);
    let abort = PathBuf::from(format!("/sys/fs/fuse/connections/{minor}/abort"));
    if abort.exists() {
        let _ = std::fs::write(abort, "1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_effective_ids_from_proc() {
        let (uid, gid) = effective_ids();
        assert_ne!(uid, u32::MAX);
        assert_ne!(gid, u32::MAX);
    }
}
