//! Device errors: every variant says what happened and what to do about it. CTAP status
//! codes are kept so logs and `--json` output can name them precisely.

use std::time::Duration;

/// CTAP2 status codes skset reacts to (CTAP 2.1, section 8.2).
pub mod status {
    pub const INVALID_COMMAND: u8 = 0x01;
    pub const CREDENTIAL_EXCLUDED: u8 = 0x19;
    pub const UNSUPPORTED_ALGORITHM: u8 = 0x26;
    pub const OPERATION_DENIED: u8 = 0x27;
    pub const KEY_STORE_FULL: u8 = 0x28;
    pub const UNSUPPORTED_OPTION: u8 = 0x2B;
    pub const INVALID_OPTION: u8 = 0x2C;
    pub const KEEPALIVE_CANCEL: u8 = 0x2D;
    pub const NO_CREDENTIALS: u8 = 0x2E;
    pub const USER_ACTION_TIMEOUT: u8 = 0x2F;
    pub const PIN_INVALID: u8 = 0x31;
    pub const PIN_BLOCKED: u8 = 0x32;
    pub const PIN_AUTH_INVALID: u8 = 0x33;
    pub const PIN_AUTH_BLOCKED: u8 = 0x34;
    pub const PIN_NOT_SET: u8 = 0x35;
    pub const PIN_REQUIRED: u8 = 0x36;
    pub const PIN_POLICY_VIOLATION: u8 = 0x37;
    pub const ACTION_TIMEOUT: u8 = 0x3A;
    pub const UP_REQUIRED: u8 = 0x3B;
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// No FIDO device was found by enumeration.
    #[error("no FIDO security key found. Plug in your key (on Linux, make sure a udev rule gives you access to /dev/hidraw*), name one with --device PATH, or try skset with --simulate")]
    NoDevice,

    /// Enumeration found several and the caller did not say which.
    #[error("{} FIDO security keys are plugged in ({}). Choose one with --device PATH", paths.len(), paths.join(", "))]
    SeveralDevices { paths: Vec<String> },

    /// hidapi could not start (no udev, no /sys). ctap-hid-fido2 would panic here.
    #[error("the HID subsystem could not start: {reason}. On Linux install libudev1 and make sure /sys is mounted")]
    HidUnavailable { reason: String },

    #[error("cannot open the security key at {path}: {reason}. Check that the path exists and that you can read and write it (udev rule for hidraw, or run the virtual key)")]
    Open { path: String, reason: String },

    #[error("wrong PIN: {}", match retries_left { Some(1) => "1 try left before the PIN blocks. Be sure before the next try".to_string(), Some(n) => format!("{n} tries left before the PIN blocks"), None => "the key did not say how many tries are left".to_string() })]
    PinInvalid { retries_left: Option<u32> },

    #[error("the PIN is blocked after too many wrong tries. The only way out is a FIDO reset, which deletes every credential on the key (ykman fido reset)")]
    PinBlocked,

    #[error("too many wrong PINs since the key was plugged in. Unplug the key, plug it in again, and retry")]
    PinAuthBlocked,

    #[error("this security key has no PIN yet. Set one first: skset pin set")]
    PinNotSet,

    #[error("this operation needs the key's PIN. Give it at the prompt or with --pin-file FILE")]
    PinRequired,

    #[error("the key refused the new PIN as too short or too simple (the key asks for at least {min_length} characters). Choose a longer PIN")]
    PinPolicy { min_length: u32 },

    #[error("the touch was refused. Touch the key when it blinks, and run the step again")]
    TouchDenied,

    #[error("nobody touched the key in time. Touch it when it blinks (within about 30 seconds) and run the step again")]
    TouchTimeout,

    #[error("the key's storage for resident (discoverable) credentials is full. Delete unused ones (skset recover lists them; ykman fido credentials delete) or use a non-resident mode")]
    KeyStoreFull,

    #[error("the key does not support {algorithm}. Ed25519 needs YubiKey firmware 5.2.3 or later; allow the ECDSA fallback in the policy (ecdsa_fallback: true) to use ECDSA P-256 instead")]
    UnsupportedAlgorithm { algorithm: String },

    #[error("a credential for this application and user already exists on the key (excluded). Nothing was changed")]
    CredentialExcluded,

    #[error("the key does not support an option skset asked for ({detail}). Update the key's firmware or choose a policy that does not need it")]
    UnsupportedOption { code: Option<u8>, detail: String },

    /// A deadline passed with no answer: the device (or its driver) is stuck.
    #[error("the security key did not answer {operation} within {}s. Unplug it and plug it in again; if it keeps happening, the key or its USB port is faulty", after.as_secs_f32())]
    Timeout {
        operation: &'static str,
        after: Duration,
    },

    /// An earlier call timed out and may still be holding the device.
    #[error("the security key is still busy with an earlier request that never finished. Unplug it and plug it in again, then restart skset")]
    Stalled,

    /// The HID link failed (device pulled, read/write error).
    #[error("lost contact with the security key ({detail}). Check that it is still plugged in and retry")]
    Transport { detail: String },

    /// Any other CTAP status, named.
    #[error("the security key answered with CTAP error 0x{code:02X} ({name}) during {operation}")]
    Ctap {
        code: u8,
        name: String,
        operation: &'static str,
    },

    /// The library or the device misbehaved in a way we could not classify.
    #[error("unexpected answer from the security key during {operation}: {detail}")]
    Protocol {
        operation: &'static str,
        detail: String,
    },
}

impl DeviceError {
    /// The CTAP status code behind this error, when there is one.
    pub fn ctap_code(&self) -> Option<u8> {
        use status::*;
        Some(match self {
            DeviceError::PinInvalid { .. } => PIN_INVALID,
            DeviceError::PinBlocked => PIN_BLOCKED,
            DeviceError::PinAuthBlocked => PIN_AUTH_BLOCKED,
            DeviceError::PinNotSet => PIN_NOT_SET,
            DeviceError::PinRequired => PIN_REQUIRED,
            DeviceError::PinPolicy { .. } => PIN_POLICY_VIOLATION,
            DeviceError::TouchDenied => OPERATION_DENIED,
            DeviceError::TouchTimeout => USER_ACTION_TIMEOUT,
            DeviceError::KeyStoreFull => KEY_STORE_FULL,
            DeviceError::UnsupportedAlgorithm { .. } => UNSUPPORTED_ALGORITHM,
            DeviceError::CredentialExcluded => CREDENTIAL_EXCLUDED,
            DeviceError::Ctap { code, .. } => *code,
            DeviceError::UnsupportedOption {
                code: Some(code), ..
            } => *code,
            _ => return None,
        })
    }

    /// A short stable identifier for `--json` output and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            DeviceError::NoDevice => "no-device",
            DeviceError::SeveralDevices { .. } => "several-devices",
            DeviceError::HidUnavailable { .. } => "hid-unavailable",
            DeviceError::Open { .. } => "open-failed",
            DeviceError::PinInvalid { .. } => "pin-invalid",
            DeviceError::PinBlocked => "pin-blocked",
            DeviceError::PinAuthBlocked => "pin-auth-blocked",
            DeviceError::PinNotSet => "pin-not-set",
            DeviceError::PinRequired => "pin-required",
            DeviceError::PinPolicy { .. } => "pin-policy",
            DeviceError::TouchDenied => "touch-denied",
            DeviceError::TouchTimeout => "touch-timeout",
            DeviceError::KeyStoreFull => "key-store-full",
            DeviceError::UnsupportedAlgorithm { .. } => "unsupported-algorithm",
            DeviceError::CredentialExcluded => "credential-excluded",
            DeviceError::UnsupportedOption { .. } => "unsupported-option",
            DeviceError::Timeout { .. } => "timeout",
            DeviceError::Stalled => "stalled",
            DeviceError::Transport { .. } => "transport",
            DeviceError::Ctap { .. } => "ctap",
            DeviceError::Protocol { .. } => "protocol",
        }
    }
}

/// Name of a CTAP status code, for messages.
pub fn status_name(code: u8) -> &'static str {
    use status::*;
    match code {
        INVALID_COMMAND => "INVALID_COMMAND",
        0x02 => "INVALID_PARAMETER",
        0x03 => "INVALID_LENGTH",
        0x11 => "CBOR_UNEXPECTED_TYPE",
        0x12 => "INVALID_CBOR",
        0x14 => "MISSING_PARAMETER",
        0x16 => "UNSUPPORTED_EXTENSION",
        CREDENTIAL_EXCLUDED => "CREDENTIAL_EXCLUDED",
        0x22 => "INVALID_CREDENTIAL",
        UNSUPPORTED_ALGORITHM => "UNSUPPORTED_ALGORITHM",
        OPERATION_DENIED => "OPERATION_DENIED",
        KEY_STORE_FULL => "KEY_STORE_FULL",
        UNSUPPORTED_OPTION => "UNSUPPORTED_OPTION",
        INVALID_OPTION => "INVALID_OPTION",
        KEEPALIVE_CANCEL => "KEEPALIVE_CANCEL",
        NO_CREDENTIALS => "NO_CREDENTIALS",
        USER_ACTION_TIMEOUT => "USER_ACTION_TIMEOUT",
        0x30 => "NOT_ALLOWED",
        PIN_INVALID => "PIN_INVALID",
        PIN_BLOCKED => "PIN_BLOCKED",
        PIN_AUTH_INVALID => "PIN_AUTH_INVALID",
        PIN_AUTH_BLOCKED => "PIN_AUTH_BLOCKED",
        PIN_NOT_SET => "PIN_NOT_SET",
        PIN_REQUIRED => "PIN_REQUIRED",
        PIN_POLICY_VIOLATION => "PIN_POLICY_VIOLATION",
        0x38 => "PIN_TOKEN_EXPIRED",
        0x39 => "REQUEST_TOO_LARGE",
        ACTION_TIMEOUT => "ACTION_TIMEOUT",
        UP_REQUIRED => "UP_REQUIRED",
        0x3C => "UV_BLOCKED",
        0x3E => "INVALID_SUBCOMMAND",
        0x3F => "UV_INVALID",
        0x40 => "UNAUTHORIZED_PERMISSION",
        0x7F => "OTHER",
        _ => "UNKNOWN",
    }
}
