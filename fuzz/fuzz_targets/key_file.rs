//! A private key file (or .pub line) of any bytes: what the audit reads from ~/.ssh.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skset::openssh::private_key::{inspect_private_key, read_sk_private_key};
use skset::openssh::public_key::{parse_any_line, SkPublicKey};

fuzz_target!(|data: &[u8]| {
    let _ = inspect_private_key(data);
    let _ = read_sk_private_key(data, None);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_any_line(text);
        let _ = SkPublicKey::parse_line(text);
    }
});
