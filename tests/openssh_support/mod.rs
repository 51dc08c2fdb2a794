//! Helpers shared by the `openssh_*` integration tests: key material and the real
//! `ssh-keygen` as the judge.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use ssh_key::encoding::base64::{Base64, Encoding};
use ssh_key::{
    getrandom::SysRng, private::EcdsaKeypair, private::KeypairData, rand_core::UnwrapErr,
    Algorithm, EcdsaCurve, PrivateKey,
};
use ssh_key::{Cipher, Kdf};

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

/// The random parts of a file ssh-keygen wrote: its check int and bcrypt salt.
pub struct KeygenRandomness {
    pub checkint: u32,
    pub salt: Option<[u8; 16]>,
}

/// Read ssh-keygen's random values straight from the bytes (PROTOCOL.key), independently of
/// the code under test, decrypting with ssh-key's KDF and cipher when needed.
pub fn keygen_randomness(pem: &str, pass: Option<&str>) -> KeygenRandomness {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let bin = Base64::decode_vec(&body).unwrap();
    let mut at = 0usize;
    let mut take = |n: usize| {
        let s = bin[at..at + n].to_vec();
        at += n;
        s
    };
    assert_eq!(take(15), b"openssh-key-v1\0");
    let string = |take: &mut dyn FnMut(usize) -> Vec<u8>| {
        let len = u32::from_be_bytes(take(4).try_into().unwrap()) as usize;
        take(len)
    };
    let cipher = string(&mut take);
    let _kdf = string(&mut take);
    let kdf_options = string(&mut take);
    assert_eq!(take(4), [0, 0, 0, 1]);
    let _public = string(&mut take);
    let mut private = string(&mut take);
    let salt = if cipher == b"none" {
        None
    } else {
        assert_eq!(cipher, b"aes256-ctr");
        let salt: [u8; 16] = kdf_options[4..20].try_into().unwrap();
        let rounds = u32::from_be_bytes(kdf_options[20..24].try_into().unwrap());
        let kdf = Kdf::Bcrypt {
            salt: salt.to_vec(),
            rounds,
        };
        let (key, iv) = kdf
            .derive_key_and_iv(Cipher::Aes256Ctr, pass.unwrap())
            .unwrap();
        Cipher::Aes256Ctr
            .decrypt(&key, &iv, &mut private, None)
            .unwrap();
        Some(salt)
    };
    assert_eq!(private[0..4], private[4..8], "check ints differ");
    KeygenRandomness {
        checkint: u32::from_be_bytes(private[0..4].try_into().unwrap()),
        salt,
    }
}
