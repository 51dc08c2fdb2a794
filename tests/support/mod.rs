//! Shared test fixtures: the virtual key (OpenSK behind a FUSE file) and the hardware tier.
#![allow(dead_code)]

use skset::device::{CtapAuthenticator, CtapOptions, Pin};
use std::path::Path;
use std::time::Duration;
use virtual_key::{Options, VirtualKey};
use zeroize::Zeroizing;

pub const TEST_PIN: &str = "424242";

pub fn pin(text: &str) -> Pin {
    Pin::new(Zeroizing::new(text.to_string())).expect("test PIN is well formed")
}

/// A virtual key in its own directory. Dropping it unmounts.
pub struct TestKey {
    pub key: VirtualKey,
    pub dir: tempfile::TempDir,
}

impl TestKey {
    pub fn path(&self) -> String {
        self.key.path().to_string_lossy().into_owned()
    }

    pub fn open(&self) -> CtapAuthenticator {
        self.open_with(fast_options())
    }

    pub fn open_with(&self, options: CtapOptions) -> CtapAuthenticator {
        CtapAuthenticator::open(&self.path(), options).expect("open the virtual key")
    }
}

/// Deadlines short enough that a hang fails the test quickly, long enough for a loaded CI.
pub fn fast_options() -> CtapOptions {
    CtapOptions {
        deadline: Duration::from_secs(10),
        touch_deadline: Duration::from_secs(15),
        events: None,
    }
}

/// Starts a virtual key, or says why this machine cannot (and the test then returns early).
pub fn virtual_key() -> Option<TestKey> {
    virtual_key_with(Options::default())
}

pub fn virtual_key_with(options: Options) -> Option<TestKey> {
    if !Path::new("/dev/fuse").exists() {
        eprintln!("SKIPPED: /dev/fuse is missing, so the virtual key cannot be served (see docs/testing.md)");
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("skset-test-key-")
        .tempdir()
        .expect("temp dir");
    let key = VirtualKey::start(dir.path(), options)
        .expect("start the virtual key (needs root or fusermount3)");
    Some(TestKey { key, dir })
}

/// The hardware tier: a real key named by SKSET_HW_DEVICE, its PIN in SKSET_HW_PIN_FILE.
pub fn hardware_key() -> Option<(String, Option<Pin>)> {
    let Ok(path) = std::env::var("SKSET_HW_DEVICE") else {
        eprintln!("SKIPPED: hardware tier (set SKSET_HW_DEVICE=/dev/hidrawN and SKSET_HW_PIN_FILE=FILE to run it against a real key)");
        return None;
    };
    let pin = std::env::var("SKSET_HW_PIN_FILE").ok().map(|f| {
        let text = std::fs::read_to_string(f).expect("read SKSET_HW_PIN_FILE");
        pin(text.trim_end())
    });
    Some((path, pin))
}
