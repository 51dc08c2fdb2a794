//! Damaged, truncated, huge or made-up input gives an error, never a panic or a hang.

mod openssh_support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use openssh_support::{credential, random_bytes};
use skset::openssh::attestation::SkAttestation;
use skset::openssh::private_key::{
    inspect_private_key, read_sk_private_key, render_private_key, Encryption, Passphrase,
    PrivateKeyError, Protection, MAX_PRIVATE_KEY_FILE_LEN,
};
use skset::openssh::public_key::{render_public_key_line, SkPublicKey};
use skset::openssh::sk_key::SkAlgorithm;
use ssh_key::encoding::base64::{Base64, Encoding};
use zeroize::Zeroizing;

fn armour(binary: &[u8]) -> String {
    let b64 = Base64::encode_string(binary);
    let mut out = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    out
}

fn unarmour(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Base64::decode_vec(&body).unwrap()
}

/// Feed one candidate file to every reader; decrypt only when asked and cheap (bcrypt is
/// slow in debug builds, and a damaged ciphertext fails the same way wherever it is hit).
fn read_everything(file: &[u8], pass: &Passphrase, decrypt: bool, what: &str) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let info = inspect_private_key(file);
        let cheap = match &info {
            Ok(info) => match &info.encryption {
                Encryption::Encrypted {
                    rounds: Some(rounds),
                    ..
                } => *rounds <= 4,
                _ => true,
            },
            Err(_) => true,
        };
        if cheap && decrypt {
            let _ = read_sk_private_key(file, Some(pass));
        }
        let _ = read_sk_private_key(file, None);
    }));
    assert!(result.is_ok(), "panicked on {what}");
}

fn mutations_of(pem: &str, pass: &Passphrase) {
    let binary = unarmour(pem);
    for cut in 0..binary.len() {
        let truncated = armour(&binary[..cut]);
        read_everything(
            truncated.as_bytes(),
            pass,
            true,
            &format!("binary cut at {cut}"),
        );
        assert!(
            inspect_private_key(truncated.as_bytes()).is_err(),
            "accepted binary cut at {cut}"
        );
    }
    for at in 0..binary.len() {
        for (i, value) in [0x00, 0xff, binary[at] ^ 0x01, binary[at] ^ 0x80]
            .into_iter()
            .enumerate()
        {
            let mut mutated = binary.clone();
            mutated[at] = value;
            let decrypt = i == 0 && at % 8 == 0;
            read_everything(
                armour(&mutated).as_bytes(),
                pass,
                decrypt,
                &format!("byte {at} = {value:#04x}"),
            );
        }
    }
    for cut in 0..pem.len() {
        read_everything(
            &pem.as_bytes()[..cut],
            pass,
            true,
            &format!("text cut at {cut}"),
        );
    }
}

#[test]
fn damaged_private_key_files_give_errors_not_panics() {
    let pass = Passphrase::new(Zeroizing::new("pw".to_owned()));
    for algorithm in [SkAlgorithm::Ed25519, SkAlgorithm::EcdsaP256] {
        let credential = credential(algorithm, 0x25, "ssh:root");
        let plain = render_private_key(&credential, "comment", Protection::Unencrypted).unwrap();
        mutations_of(&plain, &pass);
        // One round keeps thousands of decryptions fast; the structure is the same.
        let encrypted = render_private_key(
            &credential,
            "comment",
            Protection::Passphrase {
                passphrase: &pass,
                kdf_rounds: 1,
            },
        )
        .unwrap();
        mutations_of(&encrypted, &pass);
    }
}

#[test]
fn a_file_asking_for_endless_kdf_rounds_is_refused_before_any_work() {
    let pass = Passphrase::new(Zeroizing::new("pw".to_owned()));
    let credential = credential(SkAlgorithm::Ed25519, 0x25, "ssh:root");
    let encrypted = render_private_key(
        &credential,
        "",
        Protection::Passphrase {
            passphrase: &pass,
            kdf_rounds: 1,
        },
    )
    .unwrap();
    let mut binary = unarmour(&encrypted);
    // magic(15) string "aes256-ctr"(4+10) string "bcrypt"(4+6) uint32 kdfoptions length,
    // string salt(4+16), uint32 rounds.
    let rounds_at = 15 + 14 + 10 + 4 + 20;
    assert_eq!(binary[rounds_at..rounds_at + 4], [0, 0, 0, 1]);
    binary[rounds_at..rounds_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let hostile = armour(&binary);
    let started = std::time::Instant::now();
    assert!(matches!(
        read_sk_private_key(hostile.as_bytes(), Some(&pass)),
        Err(PrivateKeyError::KdfRounds { rounds: u32::MAX })
    ));
    assert!(started.elapsed().as_secs() < 2);
}

#[test]
fn junk_gives_errors_not_panics() {
    let pass = Passphrase::new(Zeroizing::new("pw".to_owned()));
    for round in 0..2000usize {
        let junk = random_bytes(round % 700);
        read_everything(&junk, &pass, true, "random bytes");
        read_everything(
            armour(&junk).as_bytes(),
            &pass,
            true,
            "armoured random bytes",
        );
        let mut magic = b"openssh-key-v1\0".to_vec();
        magic.extend_from_slice(&junk);
        read_everything(
            armour(&magic).as_bytes(),
            &pass,
            true,
            "random bytes after the magic",
        );
        let _ = SkAttestation::from_bytes(&junk);
        let _ = SkPublicKey::parse_line(&String::from_utf8_lossy(&junk));
        let _ = SkPublicKey::parse_line(&format!(
            "sk-ssh-ed25519@openssh.com {}",
            Base64::encode_string(&junk)
        ));
    }
    // Lengths that promise far more than is there must not allocate it.
    let mut huge_length = b"openssh-key-v1\0".to_vec();
    huge_length.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert!(inspect_private_key(armour(&huge_length).as_bytes()).is_err());
    // Non-UTF-8 comments must not take quadratic time.
    let too_big = vec![b'A'; MAX_PRIVATE_KEY_FILE_LEN + 1];
    assert!(matches!(
        inspect_private_key(&too_big),
        Err(PrivateKeyError::TooLarge { .. })
    ));
    assert!(inspect_private_key(&[0xff, 0xfe, 0x00]).is_err());
}

#[test]
fn a_huge_non_utf8_comment_is_read_quickly() {
    let credential = credential(SkAlgorithm::Ed25519, 0x25, "ssh:root");
    let plain = render_private_key(&credential, "x", Protection::Unencrypted).unwrap();
    // Rebuild the private section with a 600 kB comment that is not UTF-8.
    let binary = unarmour(&plain);
    let public_len = u32::from_be_bytes(binary[39..43].try_into().unwrap()) as usize;
    let private_at = 43 + public_len;
    let private = &binary[private_at + 4..];
    let comment_at =
        private.len() - private.iter().rev().take_while(|&&b| b != b'x').count() - 1 - 4;
    let mut section = private[..comment_at].to_vec();
    // ssh-key's `as_str_lossy` tries every prefix: quadratic when the bad byte is mid-way.
    let mut comment = vec![b'a'; 300_000];
    comment.push(0xff);
    comment.extend_from_slice(&[b'a'; 300_000]);
    section.extend_from_slice(&(comment.len() as u32).to_be_bytes());
    section.extend_from_slice(&comment);
    let mut pad = 1u8;
    while !section.len().is_multiple_of(8) {
        section.push(pad);
        pad += 1;
    }
    let mut file = binary[..private_at].to_vec();
    file.extend_from_slice(&(section.len() as u32).to_be_bytes());
    file.extend_from_slice(&section);
    let started = std::time::Instant::now();
    let info = inspect_private_key(armour(&file).as_bytes()).unwrap();
    assert_eq!(info.comment.unwrap().chars().count(), 600_001);
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn damaged_public_lines_and_attestations_give_errors_not_panics() {
    let credential = credential(SkAlgorithm::EcdsaP256, 0x21, "ssh:sudo");
    let line = render_public_key_line(&credential, "comment").unwrap();
    for cut in 0..line.len() {
        let _ = SkPublicKey::parse_line(&line[..cut]);
    }
    let attestation =
        SkAttestation::from_raw_auth_data(random_bytes(300), random_bytes(70), &random_bytes(200))
            .to_bytes()
            .unwrap();
    for cut in 0..attestation.len() {
        assert!(
            SkAttestation::from_bytes(&attestation[..cut]).is_err(),
            "accepted {cut} bytes"
        );
    }
    for at in 0..attestation.len() {
        let mut mutated = attestation.clone();
        mutated[at] ^= 0xff;
        if let Ok(parsed) = SkAttestation::from_bytes(&mutated) {
            let _ = parsed.raw_auth_data();
        }
    }
}
