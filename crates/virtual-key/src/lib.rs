//! A virtual FIDO2 security key for tests, with no hardware.
//!
//! [`VirtualKey::start`] runs Google's OpenSK authenticator (crates.io `opensk`)
//! in this process and serves it as `DIR/hidraw0`, a FUSE file that behaves like
//! a Linux hidraw device: every `write` is one 65-byte output report (report
//! number 0 + a 64-byte CTAPHID packet), every `read` returns one 64-byte input
//! report and blocks until there is one, and it answers hidraw's ioctls. So an
//! unmodified client that opens a hidraw path, such as `ctap-hid-fido2` through
//! hidapi, talks to it as to a key on USB:
//!
//! ```no_run
//! use virtual_key::{Options, Touch, VirtualKey};
//!
//! let dir = tempfile::tempdir()?;
//! let key = VirtualKey::start(dir.path(), Options::default())?;
//! let path = key.path().to_string_lossy().into_owned();
//! // ctap_hid_fido2::FidoKeyHidFactory::create_by_params(&[HidParam::Path(path)], &cfg)
//! key.set_touch(Touch::Deny); // the next makeCredential fails with 0x27
//! drop(key); // unmounts
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The simulated user (touch accepted, denied or never given, and after how
//! long) and a stalled authenticator are scripted through the methods here or,
//! from any process, through `DIR/control`: `echo "touch deny" > DIR/control`.
//! See the crate's README for what this cannot model.
//!
//! Mounting needs `/dev/fuse` and either root or `fusermount3` (Debian: `fuse3`).
#![forbid(unsafe_code)]

mod authenticator;
mod control;
mod fs;
mod hidraw;
mod hub;
mod mount;
mod stats;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};

pub use control::Touch;

use authenticator::Input;
use control::{Command, Controls, Settings};
use hub::Hub;
use stats::Stats;

/// How often the watchdog looks for reads that waited too long.
const WATCHDOG_TICK: Duration = Duration::from_millis(50);

/// The most discoverable credentials OpenSK's in-memory storage is sized for.
pub const MAX_RESIDENT_KEYS_LIMIT: usize = 150;

/// How the virtual key behaves. `Options::default()` is a cooperative user who
/// touches at once, and a 10 s watchdog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// What the user does when the authenticator asks for presence.
    pub touch: Touch,
    /// How long the user takes to decide. Meanwhile the key sends CTAPHID
    /// keep-alives with status UPNEEDED every 100 ms, as a real key does. OpenSK
    /// gives up after 30 s (`CTAP2_ERR_USER_ACTION_TIMEOUT`) even if the user
    /// would accept later.
    pub touch_delay: Duration,
    /// A read of `hidraw0` that has had no report for this long fails with EIO,
    /// so a client of a stalled key gets an error instead of hanging forever.
    /// Keep-alives count as reports, so a long touch delay does not trip it;
    /// but a client that reads with nothing asked gets EIO after this long.
    pub watchdog: Duration,
    /// Number of discoverable credential slots (OpenSK's default, and the
    /// maximum, is 150). A small number makes a "full key" cheap to test.
    pub max_resident_keys: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            touch: Touch::Accept,
            touch_delay: Duration::ZERO,
            watchdog: Duration::from_secs(10),
            max_resident_keys: None,
        }
    }
}

/// Why the virtual key could not start. Every message says how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel's FUSE device is missing.
    #[error(
        "/dev/fuse not available: load the module (modprobe fuse), run as root or install \
         fuse3 (fusermount3); in a container, pass --device /dev/fuse (and --cap-add SYS_ADMIN \
         to mount as root)"
    )]
    FuseUnavailable,
    /// This user may not open /dev/fuse, which a mount without root needs.
    #[error(
        "/dev/fuse is not accessible to this user: run as root, make it world read-writable \
         (chmod 0666 /dev/fuse, Debian's default), or let fusermount3 do the mount by adding \
         user_allow_other to /etc/fuse.conf"
    )]
    FusePermission,
    /// The mount point is missing or not a directory.
    #[error(
        "mount point {} does not exist or is not a directory: create it first (mkdir -p {})",
        .0.display(),
        .0.display()
    )]
    NotADirectory(PathBuf),
    /// A FUSE mount whose process died is still on the mount point.
    #[error(
        "{} is a FUSE mount left behind by a process that died: unmount it with \
         `fusermount3 -u {}` (or `umount -l {}` as root)",
        .0.display(),
        .0.display(),
        .0.display()
    )]
    StaleMount(PathBuf),
    /// The mount itself failed.
    #[error(
        "could not mount the virtual key on {}: {source}; run as root, or as a user with \
         fusermount3 installed (Debian/Ubuntu: apt install fuse3), on an empty directory you own",
        .dir.display()
    )]
    Mount {
        /// The mount point.
        dir: PathBuf,
        /// What the kernel or fusermount3 said.
        source: std::io::Error,
    },
    /// An option is out of range.
    #[error("invalid virtual key options: {0}")]
    InvalidOptions(String),
    /// A thread could not be started (the system is out of resources).
    #[error(
        "could not start the virtual key's threads: {0}; free some memory or processes and retry"
    )]
    Thread(std::io::Error),
}

/// A running virtual security key. Dropping it unmounts `DIR`.
///
/// The authenticator's state (PIN, credentials, counters) lives as long as this
/// value; every client that opens `hidraw0`, one after another or at once,
/// talks to the same authenticator.
pub struct VirtualKey {
    dir: PathBuf,
    controls: Arc<Controls>,
    hub: Arc<Hub>,
    stats: Arc<Stats>,
    to_authenticator: Sender<Input>,
    authenticator: Option<JoinHandle<()>>,
    /// Dropping the sender stops the watchdog thread.
    watchdog: Option<(Sender<()>, JoinHandle<()>)>,
    mounted: Option<mount::MountedFs>,
}

impl std::fmt::Debug for VirtualKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualKey")
            .field("dir", &self.dir)
            .field("settings", &self.controls.get())
            .finish_non_exhaustive()
    }
}

impl VirtualKey {
    /// Starts the authenticator and mounts it on `dir` (an existing, preferably
    /// empty directory). Returns once `dir/hidraw0` can be opened.
    pub fn start(dir: &Path, options: Options) -> Result<VirtualKey, Error> {
        if let Some(slots) = options.max_resident_keys {
            if !(1..=MAX_RESIDENT_KEYS_LIMIT).contains(&slots) {
                return Err(Error::InvalidOptions(format!(
                    "max_resident_keys must be between 1 and {MAX_RESIDENT_KEYS_LIMIT}, not {slots}"
                )));
            }
        }
        if options.watchdog.is_zero() {
            return Err(Error::InvalidOptions(
                "watchdog must be longer than zero".to_owned(),
            ));
        }
        let dir = match dir.canonicalize() {
            Ok(dir) if dir.is_dir() => dir,
            // ENOTCONN or ECONNABORTED: a FUSE mount whose server is gone.
            Err(error) if matches!(error.raw_os_error(), Some(107 | 103)) => {
                return Err(Error::StaleMount(dir.to_path_buf()))
            }
            _ => return Err(Error::NotADirectory(dir.to_path_buf())),
        };
        if !Path::new("/dev/fuse").exists() {
            return Err(Error::FuseUnavailable);
        }
        reserve_standard_fds();

        let controls = Arc::new(Controls::new(Settings {
            touch: options.touch,
            touch_delay: options.touch_delay,
            stalled: false,
            watchdog: options.watchdog,
        }));
        let hub = Arc::new(Hub::default());
        let stats = Arc::new(Stats::default());
        let (to_authenticator, inputs) = mpsc::channel();
        let authenticator = authenticator::spawn(
            authenticator::Setup {
                max_resident_keys: options.max_resident_keys,
            },
            Arc::clone(&controls),
            Arc::clone(&hub),
            Arc::clone(&stats),
            inputs,
        )
        .map_err(Error::Thread)?;

        // From here on, an early return drops `key`, which stops what was started.
        let mut key = VirtualKey {
            dir: dir.clone(),
            controls,
            hub,
            stats,
            to_authenticator,
            authenticator: Some(authenticator),
            watchdog: None,
            mounted: None,
        };

        let (uid, gid) = mount::effective_ids();
        let created = SystemTime::now();
        let make_fs = || fs::KeyFs {
            hub: Arc::clone(&key.hub),
            controls: Arc::clone(&key.controls),
            stats: Arc::clone(&key.stats),
            to_authenticator: key.to_authenticator.clone(),
            uid,
            gid,
            created,
        };
        let mounted = mount::mount(&dir, make_fs, uid == 0).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound && !Path::new("/dev/fuse").exists() {
                Error::FuseUnavailable
            } else if source.kind() == std::io::ErrorKind::PermissionDenied
                && uid != 0
                && std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/fuse")
                    .is_err()
            {
                // fuser opens /dev/fuse itself before it tries fusermount3.
                Error::FusePermission
            } else {
                Error::Mount {
                    dir: dir.clone(),
                    source,
                }
            }
        })?;
        key.mounted = Some(mounted);

        let (stop, stopped) = mpsc::channel::<()>();
        let hub = Arc::clone(&key.hub);
        let controls = Arc::clone(&key.controls);
        let stats = Arc::clone(&key.stats);
        let watchdog = thread::Builder::new()
            .name("virtual-key-watchdog".to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(WATCHDOG_TICK) {
                    let (failed, outbox) = hub.expire(controls.get().watchdog);
                    outbox.send();
                    stats.count_watchdog_failures(failed);
                }
            })
            .map_err(Error::Thread)?;
        key.watchdog = Some((stop, watchdog));
        Ok(key)
    }

    /// The device file to open: `DIR/hidraw0`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(fs::DEVICE_NAME)
    }

    /// The control file, `DIR/control`, for other processes.
    pub fn control_path(&self) -> PathBuf {
        self.dir.join(fs::CONTROL_NAME)
    }

    /// Changes what the user does at the next presence check (also one already
    /// waiting, if a touch delay is set).
    pub fn set_touch(&self, touch: Touch) {
        self.controls.apply(&[Command::Touch(touch)]);
    }

    /// Changes how long the user takes to touch.
    pub fn set_touch_delay(&self, delay: Duration) {
        self.controls.apply(&[Command::TouchDelay(delay)]);
    }

    /// A stalled authenticator stops answering: packets sent to it are lost and
    /// no keep-alives are sent, so clients' reads block until the watchdog fails
    /// them. Un-stalling lets new requests through again.
    pub fn set_stalled(&self, stalled: bool) {
        self.controls.apply(&[Command::Stall(stalled)]);
    }

    /// Unplugs the key and plugs it back in: files open now fail (reads EIO,
    /// writes ENODEV) until closed, a request in progress is lost, and the
    /// authenticator restarts with its storage (credentials, PIN) intact, so
    /// the per-boot limit of 3 wrong PINs is lifted and authenticatorReset is
    /// allowed for the next 10 s, as after a real replug.
    pub fn replug(&self) {
        replug(&self.hub, &self.to_authenticator);
    }

    /// How many keep-alives (status UPNEEDED) the key has sent so far.
    pub fn keepalives_sent(&self) -> u64 {
        self.stats.keepalives()
    }

    /// How many reads the watchdog has failed so far.
    pub fn watchdog_failures(&self) -> u64 {
        self.stats.watchdog_failures()
    }
}

impl Drop for VirtualKey {
    fn drop(&mut self) {
        // Fail blocked reads first: an unmount waits for outstanding requests.
        self.hub.close().send();
        let _ = self.to_authenticator.send(Input::Shutdown);
        if let Some(authenticator) = self.authenticator.take() {
            // The thread checks for Shutdown at least every 100 ms.
            let _ = authenticator.join();
        }
        if let Some((stop, watchdog)) = self.watchdog.take() {
            drop(stop);
            let _ = watchdog.join();
        }
        if let Some(mounted) = self.mounted.take() {
            if !mounted.unmount() {
                eprintln!(
                    "skset-virtual-key: {} was detached, but a process still holds {} open; \
                     its FUSE connection ends when that process closes it",
                    self.dir.display(),
                    fs::DEVICE_NAME
                );
            }
        }
    }
}

/// Shared by [`VirtualKey::replug`] and the control file's `replug`.
pub(crate) fn replug(hub: &Hub, to_authenticator: &Sender<Input>) {
    // Clients first, so none of them sees an answer from the new boot.
    hub.unplug().send();
    // A send error means the key is shutting down; nothing to replug.
    let _ = to_authenticator.send(Input::Replug);
}

/// fuser asserts that the /dev/fuse descriptor is above 2. If this process was
/// started with stdin, stdout or stderr closed, open() would hand out 0, 1 or 2,
/// so fill those slots with /dev/null first (only closed slots are affected).
fn reserve_standard_fds() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    for _ in 0..3 {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            // Deliberately leaked: it now stands in for the closed standard stream.
            Ok(null) if null.as_raw_fd() <= 2 => {
                let _ = null.into_raw_fd();
            }
            _ => break,
        }
    }
}
