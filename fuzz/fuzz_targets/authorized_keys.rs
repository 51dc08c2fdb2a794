//! An authorized_keys file of any bytes: the line parser, then the whole audit of the file
//! (line cap, blob decoding, per-mode option checks, duplicates).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skset::audit::authorized_keys::audit_authorized_keys_capped;
use skset::audit::modes::ModeIndex;
use skset::openssh::authorized_keys::parse_line_bytes;
use skset::policy::{default_policy, Policy};

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| default_policy().expect("the built-in policy loads"))
}

fuzz_target!(|data: &[u8]| {
    for line in data.split(|b| *b == b'\n') {
        let _ = parse_line_bytes(line);
    }
    let modes = ModeIndex::new(policy());
    let mut findings = 0usize;
    // A small duplicate cap so the fuzzer also reaches the capped path.
    let result = audit_authorized_keys_capped(
        &modes,
        Path::new("fuzz"),
        Some("admin"),
        data,
        8,
        &mut |_| findings += 1,
    );
    assert!(result.is_ok(), "reading from memory cannot fail");
});
