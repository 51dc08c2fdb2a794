//! The real `ssh-keygen` (Debian's OpenSSH 9.2) judges every file skset renders.

mod openssh_support;

use openssh_support::*;
use skset::openssh::private_key::{
    inspect_private_key, read_sk_private_key, render_private_key, render_private_key_with,
    Encryption, FileRandomness, Passphrase, PrivateKeyError, Protection, DEFAULT_KDF_ROUNDS,
};
use skset::openssh::public_key::{fingerprint, render_public_key_line, SkPublicKey};
use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use zeroize::Zeroizing;

fn passphrase(text: &str) -> Passphrase {
    Passphrase::new(Zeroizing::new(text.to_owned()))
}

#[test]
fn ssh_keygen_reads_our_unencrypted_files_for_every_algorithm_and_flags_byte() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ALGORITHMS {
        for flags in FLAGS {
            let credential = credential(algorithm, flags, "ssh:root");
            let comment = format!("skset test {algorithm} {flags:#04x}");
            let private =
                render_private_key(&credential, &comment, Protection::Unencrypted).unwrap();
            let public = render_public_key_line(&credential, &comment).unwrap();
            let path = dir
                .path()
                .join(format!("key-{}-{flags:02x}", algorithm.default_file_stem()));
            write_private(&path, private.as_bytes());

            // -y derives the public line from the private file; 9.2 prints the comment too.
            assert_eq!(
                ssh_keygen_ok(&["-y", "-f", path_str(&path)]),
                public,
                "{algorithm} {flags:#04x}"
            );

            // -l prints "256 SHA256:... comment (ED25519-SK)".
            let listed = ssh_keygen_ok(&["-l", "-f", path_str(&path)]);
            let ours = SkPublicKey::parse_line(&public).unwrap();
            assert_eq!(listed.trim_end(), ours.ssh_keygen_l_line().unwrap());
            assert_eq!(
                listed.split(' ').nth(1).unwrap(),
                fingerprint(&credential).unwrap()
            );

            // Our reader sees what we wrote, flags included.
            let info = inspect_private_key(private.as_bytes()).unwrap();
            assert_eq!(info.sk_algorithm, Some(algorithm));
            assert_eq!(info.flags, Some(flags));
            assert_eq!(info.application.as_deref(), Some("ssh:root"));
            assert_eq!(info.comment.as_deref(), Some(comment.as_str()));
            assert_eq!(info.encryption, Encryption::None);
            assert_eq!(format!("{} {comment}\n", info.public_key_line), public);
            let read = read_sk_private_key(private.as_bytes(), None).unwrap();
            assert_eq!(read.credential, credential);
            assert_eq!(read.comment, comment);
        }
    }
}

#[test]
fn ssh_keygen_decrypts_our_encrypted_files_and_refuses_a_wrong_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ALGORITHMS {
        let credential = credential(algorithm, 0x00, "ssh:wheel");
        let pass = passphrase("correct horse battery staple");
        let protection = Protection::Passphrase {
            passphrase: &pass,
            kdf_rounds: DEFAULT_KDF_ROUNDS,
        };
        let private = render_private_key(&credential, "wheel", protection).unwrap();
        let public = render_public_key_line(&credential, "wheel").unwrap();
        let path = dir
            .path()
            .join(format!("enc-{}", algorithm.default_file_stem()));
        write_private(&path, private.as_bytes());

        assert_eq!(
            ssh_keygen_ok(&[
                "-y",
                "-P",
                "correct horse battery staple",
                "-f",
                path_str(&path)
            ]),
            public
        );
        let wrong = ssh_keygen(&["-y", "-P", "wrong", "-f", path_str(&path)]);
        assert!(
            !wrong.status.success(),
            "ssh-keygen accepted a wrong passphrase"
        );

        // Without the passphrase only the public section shows.
        let info = inspect_private_key(private.as_bytes()).unwrap();
        assert_eq!(
            info.encryption,
            Encryption::Encrypted {
                cipher: "aes256-ctr".into(),
                kdf: "bcrypt".into(),
                rounds: Some(24)
            }
        );
        assert_eq!(info.application.as_deref(), Some("ssh:wheel"));
        assert_eq!(info.flags, None);
        assert_eq!(info.comment, None);
        assert_eq!(info.fingerprint, fingerprint(&credential).unwrap());
        assert!(matches!(
            read_sk_private_key(private.as_bytes(), None),
            Err(PrivateKeyError::PassphraseRequired)
        ));
        assert!(matches!(
            read_sk_private_key(private.as_bytes(), Some(&passphrase("wrong"))),
            Err(PrivateKeyError::WrongPassphrase)
        ));

        // ssh-keygen re-encrypts our file; we decrypt its result.
        ssh_keygen_ok(&[
            "-p",
            "-P",
            "correct horse battery staple",
            "-N",
            "new pass",
            "-f",
            path_str(&path),
        ]);
        let rewritten = std::fs::read(&path).unwrap();
        let read = read_sk_private_key(&rewritten, Some(&passphrase("new pass"))).unwrap();
        assert_eq!(read.credential, credential);
        assert_eq!(read.comment, "wheel");
        assert!(matches!(
            read_sk_private_key(&rewritten, Some(&pass)),
            Err(PrivateKeyError::WrongPassphrase)
        ));
    }
}

#[test]
fn an_empty_passphrase_writes_an_unencrypted_file_as_ssh_keygen_does() {
    let credential = credential(SkAlgorithm::Ed25519, 0x25, "ssh:root");
    let empty = passphrase("");
    let protection = Protection::Passphrase {
        passphrase: &empty,
        kdf_rounds: 24,
    };
    let private = render_private_key(&credential, "root", protection).unwrap();
    assert_eq!(
        inspect_private_key(private.as_bytes()).unwrap().encryption,
        Encryption::None
    );
}

/// ssh-keygen rewrites our file (`-c` changes the comment, `-p` the passphrase). With its
/// check int and salt fed to our renderer, our output must be the very same bytes.
#[test]
fn our_private_key_files_are_byte_identical_to_ssh_keygens() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ALGORITHMS {
        for flags in FLAGS {
            let credential = credential(algorithm, flags, "ssh:sudo");
            let path = dir.path().join(format!(
                "same-{}-{flags:02x}",
                algorithm.default_file_stem()
            ));
            let ours = render_private_key(&credential, "before", Protection::Unencrypted).unwrap();
            write_private(&path, ours.as_bytes());

            // Unencrypted, new comment: ssh-keygen rewrites the private and the .pub file.
            ssh_keygen_ok(&["-c", "-C", "after comment", "-P", "", "-f", path_str(&path)]);
            let theirs = std::fs::read_to_string(&path).unwrap();
            let random = keygen_randomness(&theirs, None);
            let again = render_private_key_with(
                &credential,
                "after comment",
                Protection::Unencrypted,
                FileRandomness {
                    checkint: random.checkint,
                    salt: [0; 16],
                },
            )
            .unwrap();
            assert_eq!(*again, theirs, "unencrypted {algorithm} {flags:#04x}");
            let their_pub = std::fs::read_to_string(path.with_extension("pub")).unwrap();
            assert_eq!(
                render_public_key_line(&credential, "after comment").unwrap(),
                their_pub
            );
        }

        // Encrypted at 24 rounds: ssh-keygen draws a fresh check int and salt.
        let credential = credential(algorithm, 0x21, "ssh:sudo");
        let path = dir
            .path()
            .join(format!("same-enc-{}", algorithm.default_file_stem()));
        write_private(
            &path,
            render_private_key(&credential, "enc", Protection::Unencrypted)
                .unwrap()
                .as_bytes(),
        );
        ssh_keygen_ok(&[
            "-p",
            "-P",
            "",
            "-N",
            "pass phrase",
            "-a",
            "24",
            "-f",
            path_str(&path),
        ]);
        let theirs = std::fs::read_to_string(&path).unwrap();
        let random = keygen_randomness(&theirs, Some("pass phrase"));
        let pass = passphrase("pass phrase");
        let again = render_private_key_with(
            &credential,
            "enc",
            Protection::Passphrase {
                passphrase: &pass,
                kdf_rounds: 24,
            },
            FileRandomness {
                checkint: random.checkint,
                salt: random.salt.unwrap(),
            },
        )
        .unwrap();
        assert_eq!(*again, theirs, "encrypted {algorithm}");
    }
}

#[test]
fn public_lines_match_ssh_keygen_for_an_empty_comment() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ALGORITHMS {
        let credential = credential(algorithm, 0x20, "ssh:robo");
        let path = dir
            .path()
            .join(format!("empty-{}", algorithm.default_file_stem()));
        write_private(
            &path,
            render_private_key(&credential, "x", Protection::Unencrypted)
                .unwrap()
                .as_bytes(),
        );
        ssh_keygen_ok(&["-c", "-C", "", "-P", "", "-f", path_str(&path)]);
        // ssh-keygen writes "type base64 \n" (a space before the empty comment).
        let their_pub = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        assert!(their_pub.ends_with(" \n"), "{their_pub:?}");
        assert_eq!(render_public_key_line(&credential, "").unwrap(), their_pub);
        let parsed = SkPublicKey::parse_line(&their_pub).unwrap();
        assert_eq!(parsed.comment, "");
        let listed = ssh_keygen_ok(&["-l", "-f", path_str(&path.with_extension("pub"))]);
        assert_eq!(listed.trim_end(), parsed.ssh_keygen_l_line().unwrap());
        assert_eq!(parsed.to_line().unwrap(), their_pub);
    }
}

#[test]
fn public_key_lines_parse_into_the_credentials_public_view() {
    for algorithm in ALGORITHMS {
        let credential = credential(algorithm, 0x25, "ssh:root");
        let line = render_public_key_line(&credential, "alice@host two words").unwrap();
        let parsed = SkPublicKey::parse_line(&line).unwrap();
        assert_eq!(parsed.algorithm, algorithm);
        assert_eq!(parsed.public_key, credential.public_key);
        assert_eq!(parsed.application, "ssh:root");
        assert_eq!(parsed.comment, "alice@host two words");
        assert_eq!(
            parsed.fingerprint().unwrap(),
            fingerprint(&credential).unwrap()
        );

        // ssh-keygen -l on the .pub alone agrees on the fingerprint.
        let dir = tempfile::tempdir().unwrap();
        let pub_path = dir.path().join("k.pub");
        std::fs::write(&pub_path, &line).unwrap();
        let listed = ssh_keygen_ok(&["-l", "-f", path_str(&pub_path)]);
        assert_eq!(listed.trim_end(), parsed.ssh_keygen_l_line().unwrap());

        // OpenSSH tolerates tabs and runs of blanks between fields.
        let (kind, rest) = line.split_once(' ').unwrap();
        let loose = format!("  {kind}\t\t{}", rest.replacen(' ', "   ", 1));
        assert_eq!(SkPublicKey::parse_line(&loose).unwrap(), parsed);
    }
}

#[test]
fn credentials_ssh_keygen_would_refuse_are_refused() {
    let mut bad_point = credential(SkAlgorithm::EcdsaP256, 0x25, "ssh:root");
    bad_point.public_key[64] ^= 1;
    assert!(render_private_key(&bad_point, "", Protection::Unencrypted).is_err());

    let mut short = credential(SkAlgorithm::Ed25519, 0x25, "ssh:root");
    short.public_key.pop();
    assert!(render_public_key_line(&short, "").is_err());

    let bad_app = credential(SkAlgorithm::Ed25519, 0x25, "https://example.com");
    assert!(render_private_key(&bad_app, "", Protection::Unencrypted).is_err());

    let ok = credential(SkAlgorithm::Ed25519, 0x25, "ssh:");
    assert!(render_public_key_line(&ok, "two\nlines").is_err());

    let zero_rounds = Protection::Passphrase {
        passphrase: &passphrase("x"),
        kdf_rounds: 0,
    };
    assert!(matches!(
        render_private_key(&ok, "", zero_rounds),
        Err(PrivateKeyError::KdfRounds { rounds: 0 })
    ));
}

#[test]
fn debug_output_never_shows_the_key_handle_or_passphrase() {
    let credential: SkCredential = credential(SkAlgorithm::Ed25519, 0x25, "ssh:root");
    let hex: String = credential
        .key_handle
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let shown = format!("{credential:?}");
    assert!(!shown.contains(&hex[..16]), "{shown}");
    assert!(shown.contains("96 bytes"));
    assert_eq!(
        format!("{:?}", passphrase("hunter2")),
        "Passphrase(<redacted>)"
    );
}

/// OpenSSH stores credential ids of any length (CTAP allows up to 1023 bytes); ssh-key's
/// own constructor stops at 255, which must not limit us.
#[test]
fn long_key_handles_are_written_as_ssh_keygen_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    for len in [255, 256, 1023] {
        let mut credential = credential(SkAlgorithm::Ed25519, 0x21, "ssh:sudo");
        credential.key_handle = random_bytes(len);
        let path = dir.path().join(format!("long-{len}"));
        write_private(
            &path,
            render_private_key(&credential, "long", Protection::Unencrypted)
                .unwrap()
                .as_bytes(),
        );
        ssh_keygen_ok(&["-c", "-C", "longer", "-P", "", "-f", path_str(&path)]);
        let theirs = std::fs::read_to_string(&path).unwrap();
        let random = keygen_randomness(&theirs, None);
        let randomness = FileRandomness {
            checkint: random.checkint,
            salt: [0; 16],
        };
        let ours =
            render_private_key_with(&credential, "longer", Protection::Unencrypted, randomness)
                .unwrap();
        assert_eq!(*ours, theirs, "key handle of {len} bytes");
        let read = read_sk_private_key(theirs.as_bytes(), None).unwrap();
        assert_eq!(read.credential.key_handle.len(), len);
    }
    let mut empty = credential(SkAlgorithm::Ed25519, 0x21, "ssh:sudo");
    empty.key_handle.clear();
    assert!(render_private_key(&empty, "", Protection::Unencrypted).is_err());
}
