//! Hostile input gives findings, never panics or errors: binary junk, megabyte lines, bad
//! base64, unknown key types, CRLF, quotes and escapes in options, junk files in ~/.ssh.
//! The mutation loop at the end is the deterministic stand-in for the cargo-fuzz targets in
//! `fuzz/` (which need a nightly compiler): it runs in every `cargo test`.

mod audit_support;

use std::path::Path;

use audit_support::*;
use skset::audit::attestation::{verify, VerifyRequest};
use skset::audit::authorized_keys::audit_authorized_keys;
use skset::audit::modes::ModeIndex;
use skset::audit::AuditFinding;
use skset::openssh::attestation::SkAttestation;
use skset::openssh::private_key::inspect_private_key;

fn audit_text(tree: &Tree, bytes: &[u8]) -> Vec<AuditFinding> {
    let modes = ModeIndex::new(&tree.policy);
    let mut findings = Vec::new();
    audit_authorized_keys(
        &modes,
        Path::new("hostile"),
        Some("admin"),
        bytes,
        &mut |f| findings.push(f),
    )
    .expect("in-memory input cannot fail to read");
    findings
}

fn line_rules(findings: &[AuditFinding]) -> Vec<(u64, &'static str)> {
    findings
        .iter()
        .map(|f| (f.location.line.unwrap_or(0), f.rule))
        .collect()
}

#[test]
fn each_kind_of_hostile_line_is_a_located_finding() {
    let tree = four_mode_tree();
    let sudo = std::fs::read_to_string(tree.server_file("admin"))
        .unwrap()
        .trim_end()
        .to_owned();
    let blob = sudo.split_whitespace().nth(1).unwrap().to_owned();
    let mut input = Vec::new();
    input.extend_from_slice(b"\x00\x01\xff\xfe binary \x7f junk\n"); // 1
    input.extend_from_slice(format!("ssh-ed25519 {}\n", "A".repeat(1 << 20)).as_bytes()); // 2
    input.extend_from_slice(b"ssh-ed25519 AAAA$$$$ bad base64\n"); // 3
    input.extend_from_slice(b"ssh-ed25519 AAAAA truncated\n"); // 4
    input.extend_from_slice(format!("ssh-unknown {blob}\n").as_bytes()); // 5
    input.extend_from_slice(format!("{sudo}\r\n").as_bytes()); // 6: CRLF, valid
    input.extend_from_slice(
        format!("command=\"echo \\\"a, b\\\" \\\\n\",from=\"10.0.0.0/8\" {sudo}\n").as_bytes(),
    ); // 7: escapes, valid but a duplicate
    input.extend_from_slice(format!("command=\"unterminated {sudo}\n").as_bytes()); // 8
    input.extend_from_slice(format!("from=\"10.0.0.1\",,no-pty {sudo}\n").as_bytes()); // 9
    input.extend_from_slice(format!("restrict=\"x\" {sudo}\n").as_bytes()); // 10
    input.extend_from_slice("commänd=\"ü\" ssh-ed25519 AAAA=A\n".as_bytes()); // 11
    input.extend_from_slice(b"   \t  \n# comment\n"); // 12, 13
    input.extend_from_slice(sudo.as_bytes()); // 14: no final newline, a duplicate
    let findings = audit_text(&tree, &input);
    assert_eq!(
        line_rules(&findings),
        [
            (1, "AU030"),
            (2, "AU031"),
            (3, "AU030"),
            (4, "AU030"),
            (5, "AU032"),
            (7, "AU039"),
            (8, "AU030"),
            (9, "AU030"),
            (10, "AU030"),
            (11, "AU030"),
            (14, "AU039"),
        ],
        "{}",
        findings
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let junk = &findings[0];
    assert_eq!(
        junk.location.column,
        Some(3),
        "the first byte that is not UTF-8"
    );
    assert_eq!(findings[2].location.column, Some(17), "the first '$'");
}

#[test]
fn a_ten_megabyte_line_without_newline_is_one_finding() {
    let tree = four_mode_tree();
    let input = vec![b'A'; 10 << 20];
    let findings = audit_text(&tree, &input);
    assert_eq!(line_rules(&findings), [(1, "AU031")]);
}

#[test]
fn random_binary_files_are_findings() {
    let tree = four_mode_tree();
    let mut rng = Rng(0x5eed);
    for round in 0..50 {
        let len = (rng.next() % 4096) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let findings = audit_text(&tree, &bytes);
        assert!(
            findings.iter().all(|f| f.location.line.is_some()),
            "round {round}"
        );
    }
}

#[test]
fn junk_in_the_ssh_dir_is_skipped_or_reported() {
    let tree = four_mode_tree();
    let d = &tree.ssh_dir;
    std::fs::write(d.join("id_junk"), b"\x00\xff-----BEGIN junk").unwrap();
    std::fs::write(
        d.join("id_fake"),
        b"-----BEGIN OPENSSH PRIVATE KEY-----\n\x00\x01\x02\n",
    )
    .unwrap();
    let mut big = b"-----BEGIN OPENSSH PRIVATE KEY-----\n".to_vec();
    big.resize(3 << 20, b'A');
    std::fs::write(d.join("id_big"), big).unwrap();
    std::fs::create_dir(d.join("id_dir")).unwrap();
    std::os::unix::fs::symlink(d.join("loop"), d.join("loop")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(d.join("id_fifo"))
        .status();
    assert!(fifo.map(|s| s.success()).unwrap_or(false), "mkfifo");
    std::fs::write(
        d.join("id_sudo.attest"),
        b"\x00\x00\x00\x11ssh-sk-attest-v01\xff\xff\xff\xff",
    )
    .unwrap();
    std::fs::set_permissions(
        d.join("id_fake"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let (findings, _) = tree.audit();
    let got: Vec<_> = significant(&findings)
        .iter()
        .map(|f| {
            (
                f.location
                    .file
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                f.rule,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("id_fake".to_owned(), "AU008"),
            ("id_sudo.attest".to_owned(), "AU020")
        ],
        "{findings:#?}"
    );
}

#[test]
fn hostile_ssh_config_lines() {
    let tree = four_mode_tree();
    let mut text = b"Host *\n  ForwardAgent\n  AddKeysToAgent\n=\n Host\nMatch\n\"\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', 70_000));
    text.extend_from_slice(
        b"\nHost w\n IdentityFile \"~/.ssh/id_wheel\"\n AddKeysToAgent yes yes\n",
    );
    tree.rewrite(&tree.config_path(), &text);
    let (findings, _) = tree.audit();
    let got: Vec<_> = significant(&findings)
        .iter()
        .map(|f| (f.location.line, f.rule))
        .collect();
    // Options without a value and an AddKeysToAgent ssh would refuse are reported as such.
    assert_eq!(
        got,
        [
            (Some(2), "AU054"),
            (Some(3), "AU054"),
            (Some(8), "AU031"),
            (Some(11), "AU054")
        ]
    );
}

/// xorshift64*: deterministic, so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\\"",
    b",",
    b" ",
    b"\t",
    b"=",
    b"\r\n",
    b"\n",
    b"\0",
    b"\xff",
    b"#",
    b"AAAA",
    b"sk-ssh-ed25519@openssh.com ",
    b"no-touch-required,",
    b"command=\"",
    b"from=\"",
    b"\xc3\xbc",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=(rng.next() % 4) {
        let at = if out.is_empty() {
            0
        } else {
            (rng.next() as usize) % out.len()
        };
        match rng.next() % 6 {
            0 if !out.is_empty() => out[at] ^= 1 << (rng.next() % 8),
            1 if !out.is_empty() => {
                let end = (at + 1 + (rng.next() as usize % 16)).min(out.len());
                out.drain(at..end);
            }
            2 => {
                let piece = INTERESTING[(rng.next() as usize) % INTERESTING.len()];
                out.splice(at..at, piece.iter().copied());
            }
            3 if !out.is_empty() => {
                let end = (at + 1 + (rng.next() as usize % 32)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
            4 if !out.is_empty() => out[at] = rng.next() as u8,
            _ => out.truncate(at),
        }
    }
    out
}

/// Iterations per target: `SKSET_MUTATION_ITERATIONS` (default 3000, seconds in debug).
fn iterations() -> u64 {
    std::env::var("SKSET_MUTATION_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

#[test]
fn mutated_authorized_keys_files_never_panic() {
    let tree = four_mode_tree();
    let mut corpus: Vec<u8> = Vec::new();
    for p in tree.authorized_keys.values() {
        corpus.extend(std::fs::read(p).unwrap());
    }
    corpus.extend_from_slice(b"# comment\r\nrestrict,command=\"a \\\"b\\\" c\",from=\"10.0.0.0/8\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x\n");
    let mut rng = Rng(0xa0d17);
    let n = iterations();
    for i in 0..n {
        let input = mutate(&mut rng, &corpus);
        let findings = audit_text(&tree, &input);
        assert!(
            findings
                .iter()
                .all(|f| !f.message.is_empty() && !f.fix.is_empty()),
            "iteration {i}"
        );
    }
    eprintln!("authorized_keys: {n} mutated files, no panic");
}

#[test]
fn mutated_key_files_and_attestations_never_panic() {
    let tree = four_mode_tree();
    let e = &tree.keys["root"];
    let key = std::fs::read(tree.key_path("root")).unwrap();
    let wheel = std::fs::read(tree.key_path("wheel")).unwrap();
    let attest = std::fs::read(tree.ssh_dir.join("id_root.attest")).unwrap();
    let mut rng = Rng(0xfee1);
    let n = iterations();
    for _ in 0..n {
        let _ = inspect_private_key(&mutate(&mut rng, &key));
        let _ = inspect_private_key(&mutate(&mut rng, &wheel));
        if let Ok(a) = SkAttestation::from_bytes(&mutate(&mut rng, &attest)) {
            let v = verify(&VerifyRequest {
                attestation: &a,
                challenge: &e.challenge,
                public_key: &e.public,
                key_handle: None,
                anchors: None,
                aaguid_allow_list: &[],
            });
            let _ = v.verified();
        }
        // Mutate authData itself, re-wrapped, so the CBOR and COSE parsing gets the mutations.
        let a = SkAttestation::from_raw_auth_data(
            Vec::new(),
            vec![0; 64],
            &mutate(&mut rng, &e.auth_data),
        );
        let _ = verify(&VerifyRequest {
            attestation: &a,
            challenge: &e.challenge,
            public_key: &e.public,
            key_handle: None,
            anchors: None,
            aaguid_allow_list: &[],
        });
    }
    eprintln!("key files and attestations: {n} mutations each, no panic");
}
