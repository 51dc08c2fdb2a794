//! skset: provision hardware-backed SSH keys on a FIDO2 security key and keep them honest.
//!
//! The library is layered so that the tree shows the architecture (see `docs/architecture.md`):
//!
//! - [`policy`]: pure. YAML policies, the rules that refuse unsafe combinations, explanations
//!   and the enrollment plan derived from a policy.
//! - [`device`]: the security key behind the [`device::Authenticator`] trait; the only
//!   implementation talks CTAP2 over HID through ctap-hid-fido2.
//! - [`openssh`]: pure rendering and parsing of the formats OpenSSH owns (sk private key
//!   files, public keys, attestation blobs, authorized_keys lines, ssh_config snippets).
//! - [`fsio`]: the one place that writes files: atomic, 0600, never silently overwriting.
#![forbid(unsafe_code)]

pub mod device;
pub mod fsio;
pub mod openssh;
pub mod policy;
