//! Placeholder until the virtual key lands (replaced by its own change).
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Touch { Accept, Deny, Timeout }

#[derive(Debug, Clone)]
pub struct Options { pub touch: Touch, pub touch_delay: Duration, pub watchdog: Duration }
impl Default for Options {
    fn default() -> Self { Options { touch: Touch::Accept, touch_delay: Duration::ZERO, watchdog: Duration::from_secs(10) } }
}

#[derive(Debug)]
pub struct Error;
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("the virtual key is not built yet") }
}
impl std::error::Error for Error {}

pub struct VirtualKey;
impl VirtualKey {
    pub fn start(_dir: &Path, _options: Options) -> Result<VirtualKey, Error> { Err(Error) }
    pub fn path(&self) -> PathBuf { PathBuf::new() }
    pub fn set_touch(&self, _touch: Touch) {}
    pub fn set_stalled(&self, _stalled: bool) {}
}
