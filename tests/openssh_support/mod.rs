//! Helpers shared by the `openssh_*` integration tests: key material and the real
//! `ssh-keygen` as the judge.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use ssh_key::{
    getrandom::SysRng, private::EcdsaKeypair, private::KeypairData, rand_core::UnwrapErr,
    Algorithm, EcdsaCurve, PrivateKey,
};

/// Every flags byte skset writes (root, sudo, wheel, robo) plus the 0x31 a forced
/// overwrite leaves behind.
pub const FLAGS: [u8; 5] = [0x25, 0x21, 0x00, 0x20, 0x31];

pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    ssh_key::getrandom::fill(&mut bytes).expect("OS random");
    bytes
}

/// A file-format-valid credential: any 32 bytes are an Ed25519 public key for the file
/// format; for P-256 a real point from a freshly generated key.
pub fn credential(algorithm: SkAlgorithm, flags: u8, application: &str) -> SkCredential {
    let public_key = match algorithm {
        SkAlgorithm::Ed25519 => random_bytes(32),
        SkAlgorithm::EcdsaP256 => {
            let key = PrivateKey::random(
                &mut UnwrapErr(SysRng),
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP256,
                },
            )
            .expect("P-256 key");
            match key.key_data() {
                KeypairData::Ecdsa(EcdsaKeypair::NistP256 { public, .. }) => {
                    public.as_bytes().to_vec()
                }
                other => panic!("unexpected key {other:?}"),
            }
        }
    };
    SkCredential {
        algorithm,
        public_key,
        application: application.to_owned(),
        flags,
        // A realistic credential id size (YubiKey: 64, many others 96..128).
        key_handle: random_bytes(96),
    }
}

pub const ALGORITHMS: [SkAlgorithm; 2] = [SkAlgorithm::Ed25519, SkAlgorithm::EcdsaP256];

/// Run ssh-keygen with stdin closed so that it can never sit waiting for a passphrase.
pub fn ssh_keygen(args: &[&str]) -> Output {
    Command::new("ssh-keygen")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ssh-keygen is installed (apt-get install openssh-client)")
}

pub fn ssh_keygen_ok(args: &[&str]) -> String {
    let out = ssh_keygen(args);
    assert!(
        out.status.success(),
        "ssh-keygen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Write a file as a private key must be for ssh-keygen to accept it (0600).
pub fn write_private(path: &Path, contents: &[u8]) {
    skset::fsio::write_new(path, contents, skset::fsio::MODE_PRIVATE).expect("write key file");
}
