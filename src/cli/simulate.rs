//! `--simulate`: start the virtual key (OpenSK served as a FUSE file) for this run.

use anyhow::Context;
use virtual_key::{Options, VirtualKey};

pub struct SimulatedKey {
    // Field order matters: unmount before the directory is removed.
    key: VirtualKey,
    _dir: tempfile::TempDir,
}

impl SimulatedKey {
    pub fn start() -> anyhow::Result<SimulatedKey> {
        let dir = tempfile::Builder::new()
            .prefix("skset-simulated-key-")
            .tempdir()
            .context("cannot create a directory for the simulated key")?;
        let key = VirtualKey::start(dir.path(), Options::default())
            .context("cannot start the simulated security key")?;
        eprintln!(
            "Using a SIMULATED security key at {} (OpenSK in memory; it vanishes when skset exits, and nothing made with it can log in anywhere).",
            key.path().display()
        );
        Ok(SimulatedKey { key, _dir: dir })
    }

    pub fn path(&self) -> String {
        self.key.path().to_string_lossy().into_owned()
    }
}
