//! Files ssh-keygen wrote (see tests/fixtures/openssh/make-fixtures.sh): our reader
//! understands them, and our renderer reproduces the sk ones byte for byte.

mod openssh_support;

use std::path::PathBuf;

use openssh_support::keygen_randomness;
use skset::openssh::private_key::{
    inspect_private_key, read_sk_private_key, render_private_key_with, Encryption, FileRandomness,
    Passphrase, PrivateKeyError, Protection,
};
use skset::openssh::public_key::{render_public_key_line, SkPublicKey};
use skset::openssh::sk_key::SkAlgorithm;
use zeroize::Zeroizing;

const PASS: &str = "fixture-pass";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openssh")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

struct SkFixture {
    stem: &'static str,
    algorithm: SkAlgorithm,
    application: &'static str,
    flags: u8,
    comment: &'static str,
    encrypted: bool,
}

const SK_FIXTURES: [SkFixture; 4] = [
    SkFixture {
        stem: "sk-ed25519-root",
        algorithm: SkAlgorithm::Ed25519,
        application: "ssh:root",
        flags: 0x25,
        comment: "root@fixture",
        encrypted: false,
    },
    SkFixture {
        stem: "sk-ecdsa-sudo",
        algorithm: SkAlgorithm::EcdsaP256,
        application: "ssh:sudo",
        flags: 0x21,
        comment: "sudo@fixture",
        encrypted: false,
    },
    SkFixture {
        stem: "sk-ed25519-robo-forced",
        algorithm: SkAlgorithm::Ed25519,
        application: "ssh:robo",
        flags: 0x31,
        comment: "robo@fixture",
        encrypted: false,
    },
    SkFixture {
        stem: "sk-ed25519-wheel-encrypted",
        algorithm: SkAlgorithm::Ed25519,
        application: "ssh:wheel",
        flags: 0x00,
        comment: "wheel@fixture",
        encrypted: true,
    },
];

#[test]
fn sk_fixtures_are_read_and_reproduced_byte_for_byte() {
    let pass = Passphrase::new(Zeroizing::new(PASS.to_owned()));
    for f in SK_FIXTURES {
        let file = text(&format!("{}.key", f.stem));
        let listed = text(&format!("{}.fingerprint", f.stem));
        let public_file = text(&format!("{}.pub", f.stem));

        let info = inspect_private_key(file.as_bytes()).unwrap();
        assert_eq!(info.key_type, f.algorithm.key_type());
        assert_eq!(info.sk_algorithm, Some(f.algorithm));
        assert_eq!(info.application.as_deref(), Some(f.application));
        assert_eq!(
            info.fingerprint,
            listed.split(' ').nth(1).unwrap(),
            "{}",
            f.stem
        );
        if f.encrypted {
            assert_eq!(
                info.encryption,
                Encryption::Encrypted {
                    cipher: "aes256-ctr".into(),
                    kdf: "bcrypt".into(),
                    rounds: Some(24)
                }
            );
            assert_eq!((info.flags, info.comment.as_deref()), (None, None));
        } else {
            assert_eq!(info.encryption, Encryption::None);
            assert_eq!(
                (info.flags, info.comment.as_deref()),
                (Some(f.flags), Some(f.comment))
            );
        }

        let key = read_sk_private_key(file.as_bytes(), Some(&pass)).unwrap();
        assert_eq!(key.credential.algorithm, f.algorithm);
        assert_eq!(key.credential.flags, f.flags);
        assert_eq!(key.credential.application, f.application);
        assert_eq!(key.comment, f.comment);

        // Our renderer, given ssh-keygen's random values, writes ssh-keygen's bytes.
        let random = keygen_randomness(&file, f.encrypted.then_some(PASS));
        let protection = if f.encrypted {
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
        let ours =
            render_private_key_with(&key.credential, f.comment, protection, randomness).unwrap();
        assert_eq!(*ours, file, "{}", f.stem);
        assert_eq!(
            render_public_key_line(&key.credential, f.comment).unwrap(),
            public_file
        );

        let public = SkPublicKey::parse_line(&public_file).unwrap();
        assert_eq!(public.public_key, key.credential.public_key);
        assert_eq!(public.application, f.application);
        assert_eq!(public.ssh_keygen_l_line().unwrap(), listed.trim_end());
    }
}

#[test]
fn ordinary_keys_are_described_without_a_passphrase() {
    let ed25519 = inspect_private_key(&fixture("ed25519-plain.key")).unwrap();
    assert_eq!(ed25519.key_type, "ssh-ed25519");
    assert_eq!(ed25519.sk_algorithm, None);
    assert_eq!((ed25519.flags, ed25519.application), (None, None));
    assert_eq!(ed25519.comment.as_deref(), Some("plain@fixture"));
    assert_eq!(
        ed25519.fingerprint,
        text("ed25519-plain.fingerprint").split(' ').nth(1).unwrap()
    );
    assert!(text("ed25519-plain.pub").starts_with(&ed25519.public_key_line));

    let rsa = inspect_private_key(&fixture("rsa-plain.key")).unwrap();
    assert_eq!(rsa.key_type, "ssh-rsa");
    assert_eq!(
        rsa.fingerprint,
        text("rsa-plain.fingerprint").split(' ').nth(1).unwrap()
    );

    let ecdsa = inspect_private_key(&fixture("ecdsa384-encrypted-16-rounds.key")).unwrap();
    assert_eq!(ecdsa.key_type, "ecdsa-sha2-nistp384");
    assert_eq!(
        ecdsa.encryption,
        Encryption::Encrypted {
            cipher: "aes256-ctr".into(),
            kdf: "bcrypt".into(),
            rounds: Some(16)
        }
    );
    assert_eq!(ecdsa.comment, None);
    assert_eq!(
        ecdsa.fingerprint,
        text("ecdsa384-encrypted-16-rounds.fingerprint")
            .split(' ')
            .nth(1)
            .unwrap()
    );
}

#[test]
fn the_wrong_kind_of_file_gets_an_error_that_says_what_it_is() {
    assert!(matches!(
        inspect_private_key(&fixture("rsa-legacy-pem.key")),
        Err(PrivateKeyError::LegacyPem { label }) if label == "RSA PRIVATE KEY"
    ));
    assert!(matches!(
        inspect_private_key(&fixture("sk-ed25519-root.pub")),
        Err(PrivateKeyError::PublicKeyGiven)
    ));
    assert!(matches!(
        read_sk_private_key(&fixture("ed25519-plain.key"), None),
        Err(PrivateKeyError::NotSecurityKey { key_type }) if key_type == "ssh-ed25519"
    ));
    assert!(matches!(
        inspect_private_key(b"hello"),
        Err(PrivateKeyError::NotOpenSsh)
    ));
    assert!(SkPublicKey::parse_line(&text("ed25519-plain.pub")).is_err());
}
