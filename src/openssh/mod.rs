//! Pure rendering and parsing of the file formats OpenSSH owns for security-key (sk) keys.
//! No file I/O here: [`crate::fsio`] writes what these modules render.
pub mod attestation;
pub mod authorized_keys;
pub mod private_key;
pub mod public_key;
pub mod sk_key;
