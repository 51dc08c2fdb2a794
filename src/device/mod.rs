//! The security key, behind a trait at the level the wizard thinks in.
//!
//! [`Authenticator`] uses only skset's own types ([`types`]), so the enrollment engine, the
//! TUI and the tests never see ctap-hid-fido2. The one implementation, [`CtapAuthenticator`],
//! talks CTAP2 over HID; the tests point it at the virtual key (OpenSK behind a FUSE file),
//! so they exercise the same code path a YubiKey does.
//!
//! Prompts are not printed here: operations that wait for a touch report it through an
//! [`EventSink`], and the caller (CLI or TUI) decides how to show it.

mod ctap;
pub mod error;
pub mod types;

pub use ctap::{list_devices, CtapAuthenticator, CtapOptions, WORKER_THREAD_NAME};
pub use error::DeviceError;
pub use types::*;

use std::sync::Arc;

/// Something the user should know while a device call is in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// The device is (probably) blinking: touch it now.
    TouchNeeded { operation: &'static str },
    /// The call that needed a touch has returned, one way or the other.
    TouchDone,
}

/// Receives [`DeviceEvent`]s; called from the thread that made the device call.
pub type EventSink = Arc<dyn Fn(DeviceEvent) + Send + Sync>;

/// A FIDO2 authenticator as skset uses it.
pub trait Authenticator: Send + Sync {
    /// The path the device was opened by (a hidraw node or the virtual key's file).
    fn path(&self) -> &str;

    /// What the device can do (authenticatorGetInfo).
    fn info(&self) -> Result<DeviceInfo, DeviceError>;

    /// Whether a PIN is set and how many tries are left.
    fn pin_status(&self) -> Result<PinStatus, DeviceError>;

    /// Sets the first PIN. Fails with [`DeviceError::Ctap`] (NOT_ALLOWED) if one is set.
    fn set_pin(&self, new_pin: &Pin) -> Result<(), DeviceError>;

    /// Changes the PIN. A wrong `current` gives [`DeviceError::PinInvalid`] with tries left.
    fn change_pin(&self, current: &Pin, new_pin: &Pin) -> Result<(), DeviceError>;

    /// Creates a credential (always needs a touch on real hardware).
    fn make_credential(
        &self,
        request: &MakeCredentialRequest<'_>,
    ) -> Result<NewCredential, DeviceError>;

    /// Signs with an existing credential.
    fn get_assertion(&self, request: &AssertionRequest<'_>) -> Result<Assertion, DeviceError>;

    /// How many discoverable credentials exist and how many more fit (needs the PIN).
    fn credential_counts(&self, pin: &Pin) -> Result<CredentialCounts, DeviceError>;

    /// Discoverable credentials of `ssh:` applications. None is an empty list, not an error.
    fn list_ssh_credentials(&self, pin: &Pin) -> Result<Vec<ResidentCredential>, DeviceError>;

    /// Deletes one discoverable credential by id.
    fn delete_credential(&self, pin: &Pin, credential_id: &[u8]) -> Result<(), DeviceError>;
}
