//! Real `ssh-keygen -t ...-sk` enrollments (tests/fixtures/openssh/make-fixtures.sh, with
//! the stand-in token fixed-token.c): from the token's known answer, skset writes the very
//! bytes ssh-keygen wrote — private key, .pub and attestation.

mod openssh_support;

use std::path::PathBuf;

use openssh_support::keygen_randomness;
use skset::openssh::attestation::SkAttestation;
use skset::openssh::private_key::{
    read_sk_private_key, render_private_key_with, FileRandomness, Passphrase, Protection,
};
use skset::openssh::public_key::render_public_key_line;
use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use zeroize::Zeroizing;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openssh")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `n` bytes counting up from `start`, as fixed-token.c makes them.
fn counting(n: usize, start: u8) -> Vec<u8> {
    (0..n).map(|i| start.wrapping_add(i as u8)).collect()
}

/// The P-256 base point, the ECDSA public key fixed-token.c returns.
fn p256_generator() -> Vec<u8> {
    let hex = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// What the enrollment engine would build from the token's answer.
fn token_credential(algorithm: SkAlgorithm, application: &str, flags: u8) -> SkCredential {
    SkCredential {
        algorithm,
        public_key: match algorithm {
            SkAlgorithm::Ed25519 => counting(32, 0x01),
            SkAlgorithm::EcdsaP256 => p256_generator(),
        },
        application: application.to_owned(),
        flags,
        key_handle: counting(64, 0x40),
    }
}

fn token_attestation() -> SkAttestation {
    let cbor = counting(166, 0x10);
    let raw = &cbor[2..];
    SkAttestation::from_raw_auth_data(counting(300, 0x00), counting(71, 0x80), raw)
}

#[test]
fn enrollments_through_ssh_keygen_are_reproduced_byte_for_byte() {
    let pass = Passphrase::new(Zeroizing::new("fixture-pass".to_owned()));
    // name, algorithm, application, the flags ssh-keygen derived from its -O options, encrypted
    let cases = [
        (
            "enrolled-root-ed25519",
            SkAlgorithm::Ed25519,
            "ssh:root",
            0x25,
            false,
        ),
        (
            "enrolled-sudo-ecdsa",
            SkAlgorithm::EcdsaP256,
            "ssh:sudo",
            0x21,
            false,
        ),
        (
            "enrolled-robo-ed25519",
            SkAlgorithm::Ed25519,
            "ssh:robo",
            0x20,
            false,
        ),
        (
            "enrolled-wheel-ecdsa",
            SkAlgorithm::EcdsaP256,
            "ssh:wheel",
            0x00,
            false,
        ),
        (
            "enrolled-wheel-ed25519-encrypted",
            SkAlgorithm::Ed25519,
            "ssh:wheel",
            0x00,
            true,
        ),
    ];
    for (name, algorithm, application, flags, encrypted) in cases {
        let credential = token_credential(algorithm, application, flags);
        let comment = format!("{name}@fixture");
        let theirs = String::from_utf8(fixture(&format!("{name}.key"))).unwrap();

        let read = read_sk_private_key(theirs.as_bytes(), Some(&pass)).unwrap();
        assert_eq!(read.credential, credential, "{name}");
        assert_eq!(read.comment, comment);

        let random = keygen_randomness(&theirs, encrypted.then_some("fixture-pass"));
        let protection = if encrypted {
            Protection::Passphrase {
                passphrase: &pass,
                kdf_rounds: 24,
            }
        } else {
            Protection::Unencrypted
        };
        let randomness = FileRandomness {
            checkint: random.checkint,
            salt: random.salt.unwrap_or_default(),
        };
        let ours = render_private_key_with(&credential, &comment, protection, randomness).unwrap();
        assert_eq!(*ours, theirs, "{name}: private key");

        let their_pub = String::from_utf8(fixture(&format!("{name}.pub"))).unwrap();
        assert_eq!(
            render_public_key_line(&credential, &comment).unwrap(),
            their_pub,
            "{name}: .pub"
        );

        let their_attestation = fixture(&format!("{name}.attest"));
        assert_eq!(
            token_attestation().to_bytes().unwrap(),
            their_attestation,
            "{name}: attestation"
        );
        assert_eq!(
            SkAttestation::from_bytes(&their_attestation).unwrap(),
            token_attestation()
        );
    }
}
