//! skset: provision hardware-backed SSH keys on a FIDO2 security key and keep them honest.
//!
//! The library is layered so that the tree shows the architecture (see `docs/architecture.md`):
//!
//! - [`audit`]: deployed key files, authorized_keys, ssh_config and attestations checked
//!   against a policy (pure file analysis).
//! - [`policy`]: pure. YAML policies, the rules that refuse unsafe combinations, explanations
//!   and the enrollment plan derived from a policy.
//! - [`device`]: the security key behind the [`device::Authenticator`] trait; the only
//!   implementation talks CTAP2 over HID through ctap-hid-fido2.
//! - [`openssh`]: pure rendering and parsing of the formats OpenSSH owns (sk private key
//!   files, public keys, attestation blobs, authorized_keys lines, ssh_config snippets).
//! - [`fsio`]: the one place that writes files: atomic, 0600, never silently overwriting.
//! - [`enroll`]: pre-flight, the executor that turns a plan into credentials and files, and
//!   recovery; it reports progress as events and never prints.
//! - [`export`]: authorized_keys lines, ssh_config, ssh-agent and PAM snippets (pure).
//! - [`tui`]: the terminal wizard (Elm style: state, update, effects on a worker, pure view).
#![forbid(unsafe_code)]

pub mod audit;
pub mod device;
pub mod enroll;
pub mod export;
pub mod fsio;
pub mod openssh;
pub mod policy;
pub mod tui;
