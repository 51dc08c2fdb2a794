//! An OpenSSH `SecurityKeyProvider` (middleware API 0x000a0000) over skset's device layer.
//!
//! OpenSSH talks to security keys through a small C API (`sk-api.h`): `sk_api_version`,
//! `sk_enroll`, `sk_sign` and `sk_load_resident_keys`. Its built-in implementation uses
//! libfido2, which only opens real hidraw character devices. This library implements the
//! same four functions on top of [`skset::device::Authenticator`], so real `ssh-keygen -w`,
//! `ssh -o SecurityKeyProvider=` and `ssh-agent -P` can use any device skset can open by
//! path: a YubiKey's `/dev/hidrawN`, or the virtual key's FUSE file in tests.
//!
//! The device is named by the environment variable [`DEVICE_ENV`] (`SKSET_SK_DEVICE`), or
//! by OpenSSH's `device` option (`ssh-keygen -O device=PATH`), which wins when given.
//!
//! Layout: [`middleware`] holds the behaviour (safe Rust, testable with a fake
//! authenticator), [`der`] and [`cbor`] the two small encodings it needs, [`stdout`] the fd 1
//! guard, and `ffi` the only `unsafe` code: the exported C functions and `#[repr(C)]` structs.
#![deny(unsafe_code)]

pub mod cbor;
pub mod der;
mod ffi;
pub mod middleware;
pub mod stdout;

pub use middleware::{
    Algorithm, EnrollRequest, EnrollResponse, ProviderOptions, ResidentKey, SignRequest,
    SignResponse, SkError,
};

/// Environment variable naming the device to open (a hidraw node or the virtual key's file).
pub const DEVICE_ENV: &str = "SKSET_SK_DEVICE";

/// Set to `1` to have the provider explain every call on stderr (never stdout).
pub const DEBUG_ENV: &str = "SKSET_SK_DEBUG";

/// The middleware API version this library implements (`SSH_SK_VERSION_MAJOR`).
pub const API_VERSION: u32 = 0x000a_0000;

/// `sk-api.h` flag bits: the same bits the key files store, defined once by skset's format code.
pub use skset::openssh::sk_key::flags;

/// `sk-api.h` error codes.
pub mod errors {
    pub const GENERAL: i32 = -1;
    pub const UNSUPPORTED: i32 = -2;
    pub const PIN_REQUIRED: i32 = -3;
    pub const DEVICE_NOT_FOUND: i32 = -4;
    pub const CREDENTIAL_EXISTS: i32 = -5;
}
