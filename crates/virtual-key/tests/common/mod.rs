//! Helpers shared by the integration tests: skipping without FUSE, clients of
//! the virtual key through unmodified ctap-hid-fido2, and bounded waits.
#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ctap_hid_fido2::{FidoKeyHid, FidoKeyHidFactory, HidParam, LibCfg};
use virtual_key::{Options, VirtualKey};

/// Every client call gets this long before the test fails instead of hanging.
pub const CALL_DEADLINE: Duration = Duration::from_secs(20);

/// Why the tests cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is not available (load the fuse module, or run the container with --device /dev/fuse)".to_owned());
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0");
    let fusermount = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("fusermount3").is_file())
    });
    if !root && !fusermount {
        return Some("not root and fusermount3 is not installed (apt install fuse3)".to_owned());
    }
    let fuse_writable = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .is_ok();
    if !root && !fuse_writable {
        return Some("not root and /dev/fuse is not read-writable for this user".to_owned());
    }
    None
}

/// Starts a key in a fresh temporary directory, or prints why not and returns None.
pub fn start(test: &str, options: Options) -> Option<(tempfile::TempDir, VirtualKey)> {
    if let Some(reason) = skip_reason() {
        println!("skipped: {test}: {reason}");
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("virtual-key-test-")
        .tempdir()
        .expect("create a temporary directory");
    let key = VirtualKey::start(dir.path(), options).expect("start the virtual key");
    Some((dir, key))
}

pub fn cfg() -> LibCfg {
    let mut cfg = LibCfg::init();
    // The library would println! a touch prompt on keep-alives.
    cfg.enable_keep_alive_msg = false;
    cfg.use_pre_credential_management = false;
    cfg
}

/// Opens the key with unmodified ctap-hid-fido2, by path.
pub fn client(key: &VirtualKey) -> FidoKeyHid {
    let path = key.path().to_string_lossy().into_owned();
    FidoKeyHidFactory::create_by_params(&[HidParam::Path(path)], &cfg())
        .expect("ctap-hid-fido2 opens the virtual key by path")
}

/// Runs `f` on a thread and fails the test if it does not finish within `deadline`.
pub fn within<T: Send + 'static>(
    deadline: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(deadline) {
        Ok(value) => (value, started.elapsed()),
        Err(_) => panic!("{what} did not finish within {deadline:?}"),
    }
}

/// The CTAP status code in a ctap-hid-fido2 error message
/// ("response_status err = 0x27 CTAP2_ERR_OPERATION_DENIED ...").
pub fn ctap_status(message: &str) -> Option<u8> {
    let at = message.find("err = 0x")? + "err = 0x".len();
    u8::from_str_radix(message.get(at..at + 2)?, 16).ok()
}

/// Whether a FUSE mount is still listed on `dir` (in this mount namespace).
pub fn is_mounted(dir: &Path) -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let dir = dir.to_string_lossy();
    mountinfo
        .lines()
        .any(|line| line.split(' ').nth(4) == Some(&*dir))
}
