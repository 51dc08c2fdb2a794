//! The one place that writes files.
//!
//! Every file is written whole to a temporary file in the target's directory, created with
//! its final mode (never briefly readable by others), synced, and only then put in place:
//!
//! - a new file with `link(temp, path)`, which fails atomically if `path` exists, so an
//!   existing file is never replaced without an explicit [`Existing::Backup`];
//! - a confirmed replacement by first hard-linking the old file to a backup name (which also
//!   never clobbers), then `rename(temp, path)`.
//!
//! A [`WriteSet`] does that for several files so that a failure part-way leaves each target
//! either as it was or whole, never half written, and removes its temporary files.
//! File contents never appear in errors or `Debug` output.

use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

/// Private keys and attestation files: owner read/write only (ssh refuses anything looser).
pub const MODE_PRIVATE: u32 = 0o600;
/// Public keys: world readable, as ssh-keygen writes them.
pub const MODE_PUBLIC: u32 = 0o644;
/// Directories holding private keys (`~/.ssh`).
pub const MODE_PRIVATE_DIR: u32 = 0o700;

/// The command line flag that confirms replacing existing files; named in error messages.
pub const REPLACE_FLAG: &str = "--force";

/// Why a file could not be written. Never carries file contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// The target exists and replacing it was not confirmed.
    #[error(
        "{} already exists; nothing was written. To replace it (the old file is kept as a \
         backup next to it), run again with {REPLACE_FLAG}", path.display()
    )]
    AlreadyExists { path: PathBuf },
    /// One write set names the same file twice.
    #[error("{} is listed twice in one write; this is a bug in the caller", path.display())]
    DuplicatePath { path: PathBuf },
    /// An operating system error.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The directory for private keys can be written by others.
    #[error(
        "{} is writable by group or others (mode {mode:04o}), so others could replace your \
         keys and sshd's StrictModes would refuse it; fix it with: chmod go-w '{}'",
        path.display(), path.display()
    )]
    InsecureDirectory { path: PathBuf, mode: u32 },
    /// The directory path is taken by something else.
    #[error("{} exists but is not a directory; move it away or choose another directory", path.display())]
    NotADirectory { path: PathBuf },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> FsError + 'a {
    move |source| FsError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Create `path` with `bytes` and exactly `mode`; fails with [`FsError::AlreadyExists`] if it
/// exists (even if it appears while we write).
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FsError> {
    let mut set = WriteSet::new();
    set.add_new(path, bytes, mode);
    set.commit().map(drop)
}

/// Replace `path` (only after an explicit confirmation), keeping the old file as
/// `path.bak-YYYYmmddTHHMMSSZ` (UTC; `.1`, `.2`, ... appended if that exists). Returns the
/// backup path, or `None` if there was nothing to replace.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> Result<Option<PathBuf>, FsError> {
    let mut set = WriteSet::new();
    set.add_replace(path, bytes, mode);
    let mut written = set.commit()?;
    Ok(written.pop().and_then(|w| w.backup))
}

/// What to do when a target already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Fail with [`FsError::AlreadyExists`]; write nothing.
    Refuse,
    /// Keep the old file under a backup name, then replace it (needs a confirmation).
    Backup,
}

/// A file a [`WriteSet`] put in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    /// Where the replaced file now is, if one was replaced.
    pub backup: Option<PathBuf>,
}

struct PlannedFile {
    path: PathBuf,
    bytes: Zeroizing<Vec<u8>>,
    mode: u32,
    existing: Existing,
}

/// Several files written all-or-nothing: either every target ends up whole with its new
/// contents, or every target is left as it was (absent, or the old file).
///
/// Not proof against a crash between two installs (the files already in place stay, each
/// whole); proof against every error we can see.
#[derive(Default)]
pub struct WriteSet {
    files: Vec<PlannedFile>,
    fail_before_install: Option<usize>,
}

impl fmt::Debug for WriteSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.files.iter().map(|file| {
                format!(
                    "{} ({} bytes, {:04o}, {:?})",
                    file.path.display(),
                    file.bytes.len(),
                    file.mode,
                    file.existing
                )
            }))
            .finish()
    }
}

/// What the install step did, so it can be undone.
enum Installed {
    New { path: PathBuf },
    Replaced { path: PathBuf, backup: PathBuf },
}

impl WriteSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a file that must not exist yet.
    pub fn add_new(&mut self, path: impl Into<PathBuf>, bytes: &[u8], mode: u32) -> &mut Self {
        self.add(path.into(), bytes, mode, Existing::Refuse)
    }

    /// Add a file that may replace an existing one (only after an explicit confirmation).
    pub fn add_replace(&mut self, path: impl Into<PathBuf>, bytes: &[u8], mode: u32) -> &mut Self {
        self.add(path.into(), bytes, mode, Existing::Backup)
    }

    fn add(&mut self, path: PathBuf, bytes: &[u8], mode: u32, existing: Existing) -> &mut Self {
        self.files.push(PlannedFile {
            path,
            bytes: Zeroizing::new(bytes.to_vec()),
            mode,
            existing,
        });
        self
    }

    /// Test hook: fail as if the OS refused the install of file number `index` (0-based),
    /// after every temporary file is written and the earlier files are in place.
    #[doc(hidden)]
    pub fn fail_before_installing(&mut self, index: usize) -> &mut Self {
        self.fail_before_install = Some(index);
        self
    }

    /// Write every file; see the type docs for what a failure leaves behind.
    pub fn commit(self) -> Result<Vec<Written>, FsError> {
        for (i, file) in self.files.iter().enumerate() {
            if self.files[..i].iter().any(|other| other.path == file.path) {
                return Err(FsError::DuplicatePath {
                    path: file.path.clone(),
                });
            }
            // Refuse early so that nothing at all is written; install re-checks atomically.
            if file.existing == Existing::Refuse && exists_no_follow(&file.path) {
                return Err(FsError::AlreadyExists {
                    path: file.path.clone(),
                });
            }
        }

        let mut temps: Vec<PathBuf> = Vec::with_capacity(self.files.len());
        for file in &self.files {
            match write_temp(&file.path, &file.bytes, file.mode) {
                Ok(temp) => temps.push(temp),
                Err(error) => {
                    remove_all(&temps);
                    return Err(error);
                }
            }
        }

        let mut installed: Vec<Installed> = Vec::with_capacity(self.files.len());
        for (i, (file, temp)) in self.files.iter().zip(&temps).enumerate() {
            let step = if self.fail_before_install == Some(i) {
                Err(FsError::Io {
                    action: "install (simulated failure)",
                    path: file.path.clone(),
                    source: io::Error::other("simulated failure"),
                })
            } else {
                install(file, temp)
            };
            match step {
                Ok(done) => installed.push(done),
                Err(error) => {
                    undo(installed);
                    remove_all(&temps);
                    return Err(error);
                }
            }
        }

        // Renamed temps are gone already; linked ones still have their temp name.
        remove_all(&temps);
        let mut synced: Vec<PathBuf> = Vec::new();
        for file in &self.files {
            let dir = parent_dir(&file.path);
            if !synced.contains(&dir) {
                sync_dir(&dir)?;
                synced.push(dir);
            }
        }

        Ok(installed
            .into_iter()
            .map(|done| match done {
                Installed::New { path } => Written { path, backup: None },
                Installed::Replaced { path, backup } => Written {
                    path,
                    backup: Some(backup),
                },
            })
            .collect())
    }
}

fn install(file: &PlannedFile, temp: &Path) -> Result<Installed, FsError> {
    let path = &file.path;
    if file.existing == Existing::Backup && exists_no_follow(path) {
        let backup = link_backup(path)?;
        if let Err(source) = fs::rename(temp, path) {
            // The original is untouched; drop the extra name we gave it.
            let _ = fs::remove_file(&backup);
            return Err(FsError::Io {
                action: "replace",
                path: path.clone(),
                source,
            });
        }
        return Ok(Installed::Replaced {
            path: path.clone(),
            backup,
        });
    }
    match fs::hard_link(temp, path) {
        Ok(()) => Ok(Installed::New { path: path.clone() }),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            Err(FsError::AlreadyExists { path: path.clone() })
        }
        Err(source) => Err(FsError::Io {
            action: "create",
            path: path.clone(),
            source,
        }),
    }
}

/// Put every target back as it was: remove new files, move backups back over replaced ones.
fn undo(installed: Vec<Installed>) {
    for done in installed.into_iter().rev() {
        match done {
            Installed::New { path } => {
                let _ = fs::remove_file(path);
            }
            Installed::Replaced { path, backup } => {
                let _ = fs::rename(backup, path);
            }
        }
    }
}

fn remove_all(paths: &[PathBuf]) {
    for path in paths {
        let _ = fs::remove_file(path);
    }
}

fn exists_no_follow(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Create, fill and sync a temporary file next to `path`, with `mode` from the first moment.
fn write_temp(path: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf, FsError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = parent_dir(path);
    let name = path.file_name().ok_or_else(|| FsError::Io {
        action: "write",
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file"),
    })?;
    loop {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(
            ".skset-tmp-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = dir.join(temp_name);
        // The umask can only take bits away from `mode`, so the file is never looser than
        // asked; set_permissions then makes it exactly `mode`.
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
        {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(FsError::Io {
                    action: "create a temporary file for",
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let written = file
            .set_permissions(Permissions::from_mode(mode))
            .and_then(|()| file.write_all(bytes))
            .and_then(|()| file.sync_all());
        return match written {
            Ok(()) => Ok(temp),
            Err(source) => {
                drop(file);
                let _ = fs::remove_file(&temp);
                Err(FsError::Io {
                    action: "write",
                    path: path.to_owned(),
                    source,
                })
            }
        };
    }
}

/// Give the current file a second name `<name>.bak-<UTC time>[.N]`; link never clobbers.
fn link_backup(path: &Path) -> Result<PathBuf, FsError> {
    let stamp = utc_timestamp(SystemTime::now());
    let mut base = path.as_os_str().to_owned();
    base.push(format!(".bak-{stamp}"));
    for n in 0..1000u32 {
        let mut candidate = base.clone();
        if n > 0 {
            candidate.push(format!(".{n}"));
        }
        let candidate = PathBuf::from(candidate);
        match fs::hard_link(path, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(FsError::Io {
                    action: "make a backup of",
                    path: path.to_owned(),
                    source,
                })
            }
        }
    }
    Err(FsError::Io {
        action: "make a backup of",
        path: path.to_owned(),
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            "1000 backups with this timestamp exist",
        ),
    })
}

/// Make the directory entries we created durable.
fn sync_dir(dir: &Path) -> Result<(), FsError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync the directory", dir))
}

/// `YYYYmmddTHHMMSSZ` in UTC, without a date crate.
fn utc_timestamp(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whether a private directory was made or found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateDir {
    Created,
    Existing,
}

/// Make sure `dir` exists for private keys: create it (and missing parents) with mode 0700,
/// or check an existing one. A group/world-writable directory is reported, never changed.
pub fn ensure_private_dir(dir: &Path) -> Result<PrivateDir, FsError> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(FsError::NotADirectory {
            path: dir.to_owned(),
        }),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o022 != 0 {
                return Err(FsError::InsecureDirectory {
                    path: dir.to_owned(),
                    mode,
                });
            }
            Ok(PrivateDir::Existing)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(MODE_PRIVATE_DIR)
                .create(dir)
                .map_err(io_error("create the directory", dir))?;
            fs::set_permissions(dir, Permissions::from_mode(MODE_PRIVATE_DIR))
                .map_err(io_error("set the mode of", dir))?;
            sync_dir(&parent_dir(dir))?;
            Ok(PrivateDir::Created)
        }
        Err(source) => Err(FsError::Io {
            action: "inspect",
            path: dir.to_owned(),
            source,
        }),
    }
}

/// The permission bits of a file (following symlinks, as ssh does).
pub fn file_mode(path: &Path) -> Result<u32, FsError> {
    fs::metadata(path)
        .map(|meta| meta.permissions().mode() & 0o7777)
        .map_err(io_error("inspect", path))
}

/// ssh refuses a private key whose mode has any group or other bit ("UNPROTECTED PRIVATE
/// KEY FILE", `sshkey_perm_ok`).
pub fn is_too_open_for_private_key(mode: u32) -> bool {
    mode & 0o077 != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_civil_dates() {
        let at = |secs| utc_timestamp(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_700_000_000), "20231114T221320Z");
        assert_eq!(at(4_107_542_399), "21000228T235959Z");
    }
}
