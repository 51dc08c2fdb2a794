//! Each audit rule fires on the file it is about, with its rule ID and location: a clean
//! four-mode tree (see `audit_clean.rs`) is broken in one way per test.

mod audit_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use audit_support::*;
use skset::audit::authorized_keys::audit_authorized_keys_capped;
use skset::audit::modes::ModeIndex;
use skset::audit::{AuditFinding, AuditInput, AuthorizedKeysInput};
use skset::openssh::private_key::{render_private_key, Passphrase, Protection};
use skset::openssh::sk_key::SkCredential;
use skset::policy;
use zeroize::Zeroizing;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openssh");

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The single finding of `rule`, with everything else in `allowed` or the self-attestation note.
fn only<'a>(findings: &'a [AuditFinding], rule: &str) -> &'a AuditFinding {
    let hits = of_rule(findings, rule);
    assert_eq!(
        hits.len(),
        1,
        "expected one {rule}, got:\n{}",
        dump(findings)
    );
    hits[0]
}

fn dump(findings: &[AuditFinding]) -> String {
    findings
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `type base64` of a mode's key.
fn key_of(tree: &Tree, mode: &str) -> String {
    let line = tree.keys[mode].public.to_line().unwrap();
    let mut w = line.split_whitespace();
    format!("{} {}", w.next().unwrap(), w.next().unwrap())
}

/// Write a key file for `credential` over a mode's file (keeping mode 0600).
fn write_key(path: &Path, credential: &SkCredential, comment: &str, passphrase: Option<&str>) {
    let pass = passphrase.map(|p| Passphrase::new(Zeroizing::new(p.to_owned())));
    let protection = match &pass {
        Some(p) => Protection::Passphrase {
            passphrase: p,
            kdf_rounds: 16,
        },
        None => Protection::Unencrypted,
    };
    std::fs::write(
        path,
        render_private_key(credential, comment, protection)
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
}

// --- key files -----------------------------------------------------------------------

#[test]
fn au001_encrypted_file_based_key() {
    let tree = four_mode_tree();
    let path = tree.ssh_dir.join("id_ecdsa");
    std::fs::copy(
        format!("{FIXTURES}/ecdsa384-encrypted-16-rounds.key"),
        &path,
    )
    .unwrap();
    chmod(&path, 0o600);
    let (findings, _) = tree.audit();
    let f = only(&findings, "AU001");
    assert_eq!(f.location.file, path);
    assert_eq!(f.name, "file-based-key");
    assert!(significant(&findings).len() == 1, "{}", dump(&findings));
}

#[test]
fn au002_unencrypted_file_based_keys_openssh_pem_and_putty() {
    let tree = four_mode_tree();
    for (name, source) in [
        ("id_ed25519", "ed25519-plain.key"),
        ("id_rsa", "rsa-legacy-pem.key"),
    ] {
        let path = tree.ssh_dir.join(name);
        std::fs::copy(format!("{FIXTURES}/{source}"), &path).unwrap();
        chmod(&path, 0o600);
    }
    let putty = tree.ssh_dir.join("work.ppk");
    std::fs::write(
        &putty,
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\n",
    )
    .unwrap();
    chmod(&putty, 0o600);
    let (findings, _) = tree.audit();
    let hits = of_rule(&findings, "AU002");
    let files: Vec<_> = hits
        .iter()
        .map(|f| f.location.file.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["id_ed25519", "id_rsa", "work.ppk"],
        "{}",
        dump(&findings)
    );
    assert!(hits[0].fix.contains("ssh-keygen -p"));
}

#[test]
fn au003_recovered_robo_file_asks_for_a_touch() {
    let tree = four_mode_tree();
    let mut credential = tree.keys["robo"].credential.clone();
    credential.flags = 0x21; // what ssh-keygen -K writes
    write_key(&tree.key_path("robo"), &credential, "laptop-robo", None);
    let (findings, _) = tree.audit();
    let f = only(&findings, "AU003");
    assert_eq!(f.location.file, tree.key_path("robo"));
    assert_eq!(f.mode.as_deref(), Some("robo"));
    assert!(
        f.message.contains("0x21")
            && f.message.contains("0x20")
            && f.message.contains("ssh-keygen -K"),
        "{}",
        f.message
    );
    assert!(f.fix.contains("skset recover"));
    // A forced overwrite's 0x10 is not a mismatch.
    let mut credential = tree.keys["root"].credential.clone();
    credential.flags = 0x35;
    write_key(&tree.key_path("root"), &credential, "laptop-root", None);
    let (findings, _) = tree.audit();
    assert_eq!(of_rule(&findings, "AU003").len(), 1, "{}", dump(&findings));
}

#[test]
fn au004_root_file_with_the_default_application() {
    let tree = four_mode_tree();
    let mut credential = tree.keys["root"].credential.clone();
    credential.application = "ssh:".into();
    write_key(&tree.key_path("root"), &credential, "laptop-root", None);
    std::fs::remove_file(tree.ssh_dir.join("id_root.attest")).unwrap();
    std::fs::remove_file(tree.ssh_dir.join("id_root.pub")).unwrap();
    let (findings, _) = tree.audit();
    let f = only(&findings, "AU004");
    assert_eq!(f.location.file, tree.key_path("root"));
    assert!(
        f.message.contains("ssh:") && f.message.contains("file name"),
        "{}",
        f.message
    );
    assert!(
        of_rule(&findings, "AU003").is_empty(),
        "flags still match root's: {}",
        dump(&findings)
    );
}

#[test]
fn au005_unencrypted_wheel_file() {
    let tree = four_mode_tree();
    write_key(
        &tree.key_path("wheel"),
        &tree.keys["wheel"].credential,
        "laptop-wheel",
        None,
    );
    let (findings, _) = tree.audit();
    let f = only(&findings, "AU005");
    assert_eq!(f.location.file, tree.key_path("wheel"));
    assert_eq!(f.severity, skset::audit::Severity::Error);
}

#[test]
fn au006_private_key_readable_by_others() {
    let tree = four_mode_tree();
    chmod(&tree.key_path("sudo"), 0o644);
    let (findings, _) = tree.audit();
    let f = only(&findings, "AU006");
    assert_eq!(f.location.file, tree.key_path("sudo"));
    assert!(f.message.contains("0644") && f.fix.starts_with("chmod 600"));
}

#[test]
fn au007_ssh_dir_writable_by_others() {
    let tree = four_mode_tree();
    chmod(&tree.ssh_dir, 0o777);
    let (findings, _) = tree.audit();
    let f = only(&findings, "AU007");
    assert_eq!(f.location.file, tree.ssh_dir);
    chmod(&tree.ssh_dir, 0o700);
}

#[test]
fn au008_damaged_key_file() {
    let tree = four_mode_tree();
    let path = tree.ssh_dir.join("id_broken");
    std::fs::write(&path, "-----BEGIN OPENSSH PRIVATE KEY-----\nnot base64 at all!\n-----END OPENSSH PRIVATE KEY-----\n").unwrap();
    chmod(&path, 0o600);
    let (findings, _) = tree.audit();
    assert_eq!(only(&findings, "AU008").location.file, path);
}

#[test]
fn au009_pub_file_of_another_key() {
    let tree = four_mode_tree();
    std::fs::copy(
        tree.ssh_dir.join("id_root.pub"),
        tree.ssh_dir.join("id_sudo.pub"),
    )
    .unwrap();
    let (findings, _) = tree.audit();
    let f = only(&findings, "AU009");
    assert_eq!(
        f.location.to_string(),
        format!("{}:1", tree.ssh_dir.join("id_sudo.pub").display())
    );
}

#[test]
fn au010_sk_keys_of_no_mode_in_files_and_on_servers() {
    let tree = four_mode_tree();
    let mut credential = tree.keys["sudo"].credential.clone();
    credential.application = "ssh:".into();
    let path = tree.ssh_dir.join("id_ed25519_sk");
    write_key(&path, &credential, "someone@host", None);
    chmod(&path, 0o600);
    let line =
        skset::openssh::public_key::render_public_key_line(&credential, "hand-made").unwrap();
    let admin = tree.server_file("admin");
    let mut text = std::fs::read_to_string(&admin).unwrap();
    text.push_str(&line);
    tree.rewrite(&admin, text.as_bytes());
    let (findings, _) = tree.audit();
    let hits = of_rule(&findings, "AU010");
    assert_eq!(hits.len(), 2, "{}", dump(&findings));
    assert_eq!(hits[0].location.file, path);
    assert_eq!(
        hits[1].location.to_string(),
        format!("{}:2", admin.display())
    );
    assert_eq!(hits[0].severity, skset::audit::Severity::Info);
}

#[test]
fn au011_passphrase_on_a_resident_file() {
    let tree = four_mode_tree();
    write_key(
        &tree.key_path("sudo"),
        &tree.keys["sudo"].credential,
        "laptop-sudo",
        Some("pointless"),
    );
    let (findings, _) = tree.audit();
    assert_eq!(
        only(&findings, "AU011").location.file,
        tree.key_path("sudo")
    );
}

// --- attestation ---------------------------------------------------------------------

#[test]
fn au020_attestation_with_another_challenge() {
    let tree = four_mode_tree();
    std::fs::write(tree.ssh_dir.join("id_root.challenge"), random_bytes(32)).unwrap();
    let (findings, summary) = tree.audit();
    let f = only(&findings, "AU020");
    assert_eq!(f.location.file, tree.ssh_dir.join("id_root.attest"));
    assert!(f.message.contains("does not verify"), "{}", f.message);
    assert!(
        !summary
            .attestations
            .iter()
            .find(|a| a.mode == "root")
            .unwrap()
            .verified
    );
}

#[test]
fn au020_attestation_of_another_key() {
    let tree = four_mode_tree();
    std::fs::copy(
        tree.ssh_dir.join("id_sudo.attest"),
        tree.ssh_dir.join("id_root.attest"),
    )
    .unwrap();
    std::fs::copy(
        tree.ssh_dir.join("id_sudo.challenge"),
        tree.ssh_dir.join("id_root.challenge"),
    )
    .unwrap();
    let (findings, _) = tree.audit();
    let messages: Vec<_> = of_rule(&findings, "AU020")
        .iter()
        .map(|f| f.message.clone())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("not the key in the .pub file")),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("application hash")),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("credential id")),
        "{messages:#?}"
    );
}

fn policy_with(replace: &str, with: &str) -> policy::Policy {
    let yaml = policy::DEFAULT_POLICY_YAML.replace(replace, with);
    assert_ne!(yaml, policy::DEFAULT_POLICY_YAML, "{replace} not found");
    policy::load_policy_str("test.yaml", None, &yaml).unwrap()
}

#[test]
fn au021_self_attestation_when_roots_are_required() {
    let mut tree = four_mode_tree();
    let root = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&root)
        .unwrap();
    let roots = tree.tmp.path().join("roots");
    std::fs::create_dir(&roots).unwrap();
    std::fs::write(roots.join("vendor.pem"), cert.pem()).unwrap();
    let mut input = tree.input();
    input.roots = Some(roots.clone());
    let (findings, _) = tree.audit_with(&input);
    assert_eq!(of_rule(&findings, "AU021").len(), 4, "{}", dump(&findings));
    assert!(of_rule(&findings, "AU021")[0]
        .message
        .contains("self-attestation"));
    // The same through the policy's trusted_attestation_roots, relative to the policy file.
    tree.policy = policy_with(
        "trusted_attestation_roots: []",
        "trusted_attestation_roots: [roots/vendor.pem]",
    );
    let mut input = tree.input();
    input.policy_dir = Some(tree.tmp.path().to_owned());
    let (findings, _) = tree.audit_with(&input);
    assert_eq!(of_rule(&findings, "AU021").len(), 4);
}

#[test]
fn au022_aaguid_not_on_the_allow_list() {
    let mut tree = four_mode_tree();
    tree.policy = policy_with(
        "aaguid_allow_list: []",
        "aaguid_allow_list: [\"ee882879-721c-4913-9775-3dfcce97072a\"]",
    );
    let (findings, _) = tree.audit();
    let hits = of_rule(&findings, "AU022");
    assert_eq!(hits.len(), 4);
    assert!(hits[0]
        .message
        .contains("00000000-0000-0000-0000-000000000000"));
}

#[test]
fn au024_attestation_without_its_challenge() {
    let tree = four_mode_tree();
    std::fs::remove_file(tree.ssh_dir.join("id_robo.challenge")).unwrap();
    let (findings, _) = tree.audit();
    assert_eq!(
        only(&findings, "AU024").location.file,
        tree.ssh_dir.join("id_robo.attest")
    );
}

#[test]
fn au026_missing_attestation_when_required() {
    let mut tree = four_mode_tree();
    tree.policy = policy_with("require_attestation: false", "require_attestation: true");
    std::fs::remove_file(tree.ssh_dir.join("id_sudo.attest")).unwrap();
    let (findings, _) = tree.audit();
    assert_eq!(
        only(&findings, "AU026").location.file,
        tree.key_path("sudo")
    );
}

#[test]
fn au027_attestation_without_a_signature() {
    let tree = four_mode_tree();
    let e = &tree.keys["sudo"];
    let blob = skset::openssh::attestation::SkAttestation::from_raw_auth_data(
        Vec::new(),
        Vec::new(),
        &e.auth_data,
    )
    .to_bytes()
    .unwrap();
    std::fs::write(tree.ssh_dir.join("id_sudo.attest"), blob).unwrap();
    let (findings, _) = tree.audit();
    assert_eq!(
        only(&findings, "AU027").location.file,
        tree.ssh_dir.join("id_sudo.attest")
    );
}

// --- authorized_keys -----------------------------------------------------------------

/// Replace an account's authorized_keys with these lines and audit.
fn with_server_lines(
    tree: &Tree,
    account: &str,
    lines: &[String],
) -> (Vec<AuditFinding>, std::path::PathBuf) {
    let path = tree.server_file(account);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    tree.rewrite(&path, text.as_bytes());
    (tree.audit().0, path)
}

#[test]
fn au030_unparseable_line_with_its_column() {
    let tree = four_mode_tree();
    let (findings, path) = with_server_lines(
        &tree,
        "robo",
        &[
            "# robo".into(),
            format!("from=10.0.0.1 {} x", key_of(&tree, "robo")),
        ],
    );
    let f = only(&findings, "AU030");
    assert_eq!(f.location.to_string(), format!("{}:2:6", path.display()));
    assert!(f.message.contains("double quotes"), "{}", f.message);
}

#[test]
fn au031_a_one_megabyte_line() {
    let tree = four_mode_tree();
    let huge = format!("ssh-ed25519 {}", "A".repeat(1024 * 1024));
    let (findings, path) = with_server_lines(
        &tree,
        "admin",
        &[huge, format!("{} laptop-sudo", key_of(&tree, "sudo"))],
    );
    let f = only(&findings, "AU031");
    assert_eq!(f.location.to_string(), format!("{}:1", path.display()));
    assert!(f.message.contains("1048588 bytes"), "{}", f.message);
    assert_eq!(
        significant(&findings).len(),
        1,
        "line 2 is still audited: {}",
        dump(&findings)
    );
}

#[test]
fn au032_spliced_unknown_and_undecodable_blobs() {
    let tree = four_mode_tree();
    let blob = key_of(&tree, "sudo")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    let lines = [
        format!("ssh-rsa {blob} spliced"),
        format!("ssh-foo@example.com {blob}"),
        "ssh-ed25519 AAAA short".to_owned(),
    ];
    let (findings, path) = with_server_lines(&tree, "admin", &lines);
    let hits = of_rule(&findings, "AU032");
    let at: Vec<_> = hits.iter().map(|f| f.location.line).collect();
    assert_eq!(at, [Some(1), Some(2), Some(3)], "{}", dump(&findings));
    assert!(hits[0].message.contains("spliced") && hits[1].message.contains("unknown key type"));
    assert_eq!(hits[0].location.file, path);
}

#[test]
fn au033_wheel_without_no_touch_required() {
    let tree = four_mode_tree();
    let (findings, path) = with_server_lines(
        &tree,
        "wheel",
        &[format!("{} laptop-wheel", key_of(&tree, "wheel"))],
    );
    let f = only(&findings, "AU033");
    assert_eq!(f.location.to_string(), format!("{}:1", path.display()));
    assert_eq!(f.mode.as_deref(), Some("wheel"));
    assert_eq!(f.account.as_deref(), Some("wheel"));
}

#[test]
fn au034_no_touch_required_on_sudo() {
    let tree = four_mode_tree();
    let (findings, _) = with_server_lines(
        &tree,
        "admin",
        &[format!(
            "no-touch-required {} laptop-sudo",
            key_of(&tree, "sudo")
        )],
    );
    assert_eq!(only(&findings, "AU034").location.line, Some(1));
}

#[test]
fn au035_root_without_verify_required() {
    let tree = four_mode_tree();
    let (findings, _) = with_server_lines(
        &tree,
        "root",
        &["".into(), format!("{} laptop-root", key_of(&tree, "root"))],
    );
    assert_eq!(only(&findings, "AU035").location.line, Some(2));
}

#[test]
fn au036_robo_without_from_and_command() {
    let tree = four_mode_tree();
    let (findings, _) = with_server_lines(
        &tree,
        "robo",
        &[format!(
            "restrict,no-touch-required {} laptop-robo",
            key_of(&tree, "robo")
        )],
    );
    let f = only(&findings, "AU036");
    assert!(
        f.fix.contains("from=\"10.0.0.0/8\"")
            && f.fix.contains("command=\"/usr/local/bin/backup-shell\""),
        "{}",
        f.fix
    );
    assert!(
        of_rule(&findings, "AU037").is_empty(),
        "not reported twice: {}",
        dump(&findings)
    );
}

#[test]
fn au037_robo_from_wider_than_the_policy() {
    let tree = four_mode_tree();
    let line = format!("restrict,no-touch-required,from=\"0.0.0.0/0\",command=\"/usr/local/bin/backup-shell\" {} laptop-robo", key_of(&tree, "robo"));
    let (findings, _) = with_server_lines(&tree, "robo", &[line]);
    assert!(only(&findings, "AU037").message.contains("0.0.0.0/0"));
}

#[test]
fn au038_sudo_key_in_roots_authorized_keys() {
    let tree = four_mode_tree();
    let root_line = std::fs::read_to_string(tree.server_file("root")).unwrap();
    let (findings, path) = with_server_lines(
        &tree,
        "root",
        &[
            root_line.trim_end().to_owned(),
            format!("{} laptop-sudo", key_of(&tree, "sudo")),
        ],
    );
    let f = only(&findings, "AU038");
    assert_eq!(f.location.to_string(), format!("{}:2", path.display()));
    assert!(
        f.message.contains("root's authorized_keys") && f.message.contains("admin"),
        "{}",
        f.message
    );
}

#[test]
fn au038_account_named_on_the_command_line() {
    let tree = four_mode_tree();
    let dump_file = tree.tmp.path().join("web1.keys");
    std::fs::copy(tree.server_file("admin"), &dump_file).unwrap();
    let input = AuditInput {
        authorized_keys: vec![AuthorizedKeysInput::parse(&format!(
            "{}:root",
            dump_file.display()
        ))],
        ..AuditInput::default()
    };
    let (findings, _) = tree.audit_with(&input);
    assert_eq!(only(&findings, "AU038").account.as_deref(), Some("root"));
}

#[test]
fn au039_duplicate_key() {
    let tree = four_mode_tree();
    let line = std::fs::read_to_string(tree.server_file("admin"))
        .unwrap()
        .trim_end()
        .to_owned();
    let (findings, _) = with_server_lines(&tree, "admin", &[line.clone(), "# again".into(), line]);
    let f = only(&findings, "AU039");
    assert_eq!(f.location.line, Some(3));
    assert!(f.message.contains("line 1"));
}

#[test]
fn au040_file_based_key_on_a_governed_account() {
    let tree = four_mode_tree();
    let plain = std::fs::read_to_string(format!("{FIXTURES}/ed25519-plain.pub")).unwrap();
    let root_line = std::fs::read_to_string(tree.server_file("root")).unwrap();
    let (findings, _) = with_server_lines(
        &tree,
        "root",
        &[root_line.trim_end().to_owned(), plain.trim_end().to_owned()],
    );
    assert_eq!(only(&findings, "AU040").location.line, Some(2));
}

#[test]
fn au041_authorized_keys_writable_by_others() {
    let tree = four_mode_tree();
    chmod(&tree.server_file("robo"), 0o666);
    let (findings, _) = tree.audit();
    assert_eq!(
        only(&findings, "AU041").location.file,
        tree.server_file("robo")
    );
}

#[test]
fn au042_account_unknown() {
    let tree = four_mode_tree();
    let dump_file = tree.tmp.path().join("dump.keys");
    std::fs::copy(tree.server_file("admin"), &dump_file).unwrap();
    let input = AuditInput {
        authorized_keys: vec![AuthorizedKeysInput::parse(&dump_file.to_string_lossy())],
        ..AuditInput::default()
    };
    let (findings, _) = tree.audit_with(&input);
    assert_eq!(only(&findings, "AU042").location.file, dump_file);
}

#[test]
fn au043_duplicate_detection_is_capped() {
    let tree = four_mode_tree();
    let text = std::fs::read_to_string(tree.server_file("admin")).unwrap()
        + &std::fs::read_to_string(tree.server_file("robo")).unwrap();
    let modes = ModeIndex::new(&tree.policy);
    let mut findings = Vec::new();
    audit_authorized_keys_capped(
        &modes,
        Path::new("cap"),
        Some("admin"),
        text.as_bytes(),
        1,
        &mut |f| findings.push(f),
    )
    .unwrap();
    assert_eq!(only(&findings, "AU043").location.line, Some(2));
}

// --- ssh_config ----------------------------------------------------------------------

fn with_config(tree: &Tree, text: &str) -> Vec<AuditFinding> {
    tree.rewrite(&tree.config_path(), text.as_bytes());
    tree.audit().0
}

#[test]
fn au050_forward_agent_for_the_wheel_host() {
    let tree = four_mode_tree();
    let findings = with_config(&tree, "Host fleet-*\n    IdentityFile ~/.ssh/id_wheel\n    AddKeysToAgent 10m\n    ForwardAgent yes\n");
    let f = only(&findings, "AU050");
    assert_eq!(
        f.location.to_string(),
        format!("{}:4", tree.config_path().display())
    );
    assert_eq!(f.mode.as_deref(), Some("wheel"));
    // A global ForwardAgent earlier in the file applies to the wheel block too.
    let findings = with_config(&tree, "ForwardAgent yes\nHost fleet-*\n    IdentityFile ~/.ssh/id_wheel\n    AddKeysToAgent 10m\n    ForwardAgent no\n");
    assert_eq!(only(&findings, "AU050").location.line, Some(1));
}

#[test]
fn au051_forward_agent_for_every_host_while_wheel_is_loaded() {
    let tree = four_mode_tree();
    let findings = with_config(&tree, "Host *\n    ForwardAgent yes\n");
    let f = only(&findings, "AU051");
    assert_eq!(f.location.line, Some(2));
    assert!(f.message.contains("every host"));
}

#[test]
fn au052_add_keys_to_agent_without_lifetime() {
    let tree = four_mode_tree();
    let findings = with_config(
        &tree,
        "Match user wheel\n    IdentityFile ~/.ssh/id_wheel\n    AddKeysToAgent yes\n",
    );
    assert_eq!(only(&findings, "AU052").location.line, Some(3));
}

#[test]
fn au053_add_keys_to_agent_longer_than_the_policy() {
    let tree = four_mode_tree();
    let findings = with_config(
        &tree,
        "Host *\n    AddKeysToAgent confirm 8h\nHost fleet\n    IdentityFile ~/.ssh/id_wheel\n",
    );
    let f = only(&findings, "AU053");
    assert_eq!(f.location.line, Some(2));
    assert!(
        f.message.contains("8h") && f.message.contains("10m"),
        "{}",
        f.message
    );
}

#[test]
fn au054_config_line_that_is_not_text() {
    let tree = four_mode_tree();
    let mut bytes = b"Host a\n    User \xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"Host b\n");
    tree.rewrite(&tree.config_path(), &bytes);
    let (findings, _) = tree.audit();
    assert_eq!(only(&findings, "AU054").location.line, Some(2));
}

#[test]
fn every_rule_has_a_test_here_or_in_audit_clean() {
    let me = include_str!("audit_rules.rs");
    for rule in skset::audit::AUDIT_RULES {
        let tested = me.contains(&format!("fn {}_", rule.id.to_lowercase()))
            || (rule.id == "AU023")
            || (rule.id == "AU025");
        assert!(tested, "{} {} has no test", rule.id, rule.name);
    }
}
