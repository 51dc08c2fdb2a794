//! Files as `skset enroll` writes them, for the audit and attestation tests: real Ed25519
//! (or P-256) credential keys made here, key files rendered with the library exactly as the
//! enrollment executor renders them, attestations built byte by byte here (authData,
//! COSE key, signature) independently of the verifier under test.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};
use skset::audit::{audit_collect, AuditFinding, AuditInput, AuditSummary, AuthorizedKeysInput};
use skset::export;
use skset::fsio::{self, MODE_PRIVATE, MODE_PUBLIC};
use skset::openssh::attestation::SkAttestation;
use skset::openssh::private_key::{render_private_key, Passphrase, Protection};
use skset::openssh::public_key::{render_public_key_line, SkPublicKey};
use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use skset::policy::{self, EnrollmentPlan, PassphraseRule, Policy};
use zeroize::Zeroizing;

pub const WHEEL_PASSPHRASE: &str = "correct horse battery staple";

pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    ssh_key::getrandom::fill(&mut bytes).expect("OS random");
    bytes
}

/// A credential's private half, as the authenticator would hold it.
pub enum CredentialKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl CredentialKey {
    pub fn new(algorithm: SkAlgorithm) -> CredentialKey {
        match algorithm {
            SkAlgorithm::Ed25519 => {
                let seed: [u8; 32] = random_bytes(32).try_into().unwrap();
                CredentialKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            SkAlgorithm::EcdsaP256 => loop {
                if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&random_bytes(32)) {
                    break CredentialKey::P256(k);
                }
            },
        }
    }

    pub fn algorithm(&self) -> SkAlgorithm {
        match self {
            CredentialKey::Ed25519(_) => SkAlgorithm::Ed25519,
            CredentialKey::P256(_) => SkAlgorithm::EcdsaP256,
        }
    }

    /// 32 bytes, or SEC1 uncompressed.
    pub fn public_bytes(&self) -> Vec<u8> {
        match self {
            CredentialKey::Ed25519(k) => k.verifying_key().to_bytes().to_vec(),
            CredentialKey::P256(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// COSE_Key, written out by hand (RFC 9053 labels).
    pub fn cose(&self) -> Vec<u8> {
        let public = self.public_bytes();
        match self {
            // {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x}
            CredentialKey::Ed25519(_) => {
                let mut c = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
                c.extend_from_slice(&public);
                c
            }
            // {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
            CredentialKey::P256(_) => {
                let mut c = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
                c.extend_from_slice(&public[1..33]);
                c.extend_from_slice(&[0x22, 0x58, 0x20]);
                c.extend_from_slice(&public[33..65]);
                c
            }
        }
    }

    /// The attestation signature format for this key type (Ed25519 raw, ECDSA DER).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            CredentialKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            CredentialKey::P256(k) => {
                let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// authData at enrollment: rpIdHash, flags, counter, AAGUID, credential id, COSE key,
/// and the credProtect extension when given.
pub fn auth_data(
    application: &str,
    flags: u8,
    aaguid: [u8; 16],
    credential_id: &[u8],
    cose: &[u8],
    cred_protect: Option<u8>,
) -> Vec<u8> {
    let mut a = Sha256::digest(application.as_bytes()).to_vec();
    a.push(flags | 0x40 | if cred_protect.is_some() { 0x80 } else { 0 });
    a.extend_from_slice(&0u32.to_be_bytes());
    a.extend_from_slice(&aaguid);
    a.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
    a.extend_from_slice(credential_id);
    a.extend_from_slice(cose);
    if let Some(level) = cred_protect {
        a.push(0xa1);
        a.push(0x6b);
        a.extend_from_slice(b"credProtect");
        a.push(level);
    }
    a
}

/// `authData || SHA-256(challenge)`: what the attestation signs.
pub fn signed_data(auth_data: &[u8], challenge: &[u8]) -> Vec<u8> {
    let mut m = auth_data.to_vec();
    m.extend_from_slice(&Sha256::digest(challenge));
    m
}

/// One enrolled mode.
pub struct Enrolled {
    pub mode: String,
    pub key: CredentialKey,
    pub credential: SkCredential,
    pub public: SkPublicKey,
    pub challenge: Vec<u8>,
    pub auth_data: Vec<u8>,
}

impl Enrolled {
    pub fn new(plan_key: &policy::PlannedKey, algorithm: SkAlgorithm) -> Enrolled {
        let key = CredentialKey::new(algorithm);
        let credential = SkCredential {
            algorithm,
            public_key: key.public_bytes(),
            application: plan_key.application.clone(),
            flags: plan_key.flags,
            key_handle: random_bytes(64),
        };
        let line = render_public_key_line(&credential, &plan_key.comment).unwrap();
        let public = SkPublicKey::parse_line(line.trim_end()).unwrap();
        let up_uv = 0x01 | if plan_key.pin { 0x04 } else { 0 };
        let auth_data = auth_data(
            &plan_key.application,
            up_uv,
            [0u8; 16],
            &credential.key_handle,
            &key.cose(),
            Some(plan_key.cred_protect),
        );
        Enrolled {
            mode: plan_key.mode.clone(),
            key,
            credential,
            public,
            challenge: random_bytes(32),
            auth_data,
        }
    }

    /// OpenSK-style: packed, no x5c, signed with the credential key.
    pub fn self_attestation(&self) -> SkAttestation {
        let sig = self
            .key
            .sign(&signed_data(&self.auth_data, &self.challenge));
        SkAttestation::from_raw_auth_data(Vec::new(), sig, &self.auth_data)
    }
}

/// A temporary tree: a client's `~/.ssh` and a server's home directories.
pub struct Tree {
    pub tmp: tempfile::TempDir,
    pub ssh_dir: PathBuf,
    pub policy: Policy,
    pub plan: EnrollmentPlan,
    pub keys: BTreeMap<String, Enrolled>,
    /// account -> authorized_keys path
    pub authorized_keys: BTreeMap<String, PathBuf>,
}

impl Tree {
    pub fn key_path(&self, mode: &str) -> PathBuf {
        let k = self.plan.keys.iter().find(|k| k.mode == mode).unwrap();
        self.ssh_dir.join(&k.private_key_file)
    }

    pub fn config_path(&self) -> PathBuf {
        self.ssh_dir.join("config")
    }

    pub fn input(&self) -> AuditInput {
        AuditInput {
            ssh_dirs: vec![self.ssh_dir.clone()],
            authorized_keys: self
                .authorized_keys
                .values()
                .map(|p| AuthorizedKeysInput::parse(&p.to_string_lossy()))
                .collect(),
            ..AuditInput::default()
        }
    }

    pub fn audit(&self) -> (Vec<AuditFinding>, AuditSummary) {
        self.audit_with(&self.input())
    }

    pub fn audit_with(&self, input: &AuditInput) -> (Vec<AuditFinding>, AuditSummary) {
        audit_collect(&self.policy, input).expect("audit runs")
    }

    /// Replace a file's content, keeping its mode.
    pub fn rewrite(&self, path: &Path, content: &[u8]) {
        std::fs::write(path, content).unwrap();
    }

    pub fn server_file(&self, account: &str) -> PathBuf {
        self.authorized_keys[account].clone()
    }
}

/// `home/NAME/.ssh/authorized_keys`, or `root/.ssh/authorized_keys` for root.
pub fn server_path(root: &Path, account: &str) -> PathBuf {
    if account == "root" {
        root.join("root/.ssh/authorized_keys")
    } else {
        root.join("home").join(account).join(".ssh/authorized_keys")
    }
}

/// Enroll the built-in four-mode policy the way `skset enroll` writes its files, plus the
/// server files `skset authorized-keys` prints and the config `skset export` prints.
pub fn four_mode_tree() -> Tree {
    tree_for(policy::default_policy().unwrap(), SkAlgorithm::Ed25519)
}

pub fn tree_for(policy: Policy, algorithm: SkAlgorithm) -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let ssh_dir = tmp.path().join("client/home/alice/.ssh");
    std::fs::create_dir_all(ssh_dir.parent().unwrap()).unwrap();
    fsio::ensure_private_dir(&ssh_dir).unwrap();
    let plan = policy::plan(&policy, "laptop").unwrap();
    let mut keys = BTreeMap::new();
    for k in &plan.keys {
        let e = Enrolled::new(k, algorithm);
        let passphrase = Passphrase::new(Zeroizing::new(WHEEL_PASSPHRASE.to_owned()));
        let protection = match k.passphrase {
            PassphraseRule::Required => Protection::Passphrase {
                passphrase: &passphrase,
                kdf_rounds: k.kdf_rounds,
            },
            _ => Protection::Unencrypted,
        };
        let private = render_private_key(&e.credential, &k.comment, protection).unwrap();
        let public = render_public_key_line(&e.credential, &k.comment).unwrap();
        let attest = e.self_attestation().to_bytes().unwrap();
        fsio::write_new(
            &ssh_dir.join(&k.private_key_file),
            private.as_bytes(),
            MODE_PRIVATE,
        )
        .unwrap();
        fsio::write_new(
            &ssh_dir.join(&k.public_key_file),
            public.as_bytes(),
            MODE_PUBLIC,
        )
        .unwrap();
        fsio::write_new(&ssh_dir.join(&k.attestation_file), &attest, MODE_PRIVATE).unwrap();
        fsio::write_new(
            &ssh_dir.join(skset::enroll::challenge_file(&k.attestation_file)),
            &e.challenge,
            MODE_PUBLIC,
        )
        .unwrap();
        keys.insert(k.mode.clone(), e);
    }
    fsio::write_new(
        &ssh_dir.join("config"),
        export::ssh_config(&plan, "~/.ssh").as_bytes(),
        MODE_PUBLIC,
    )
    .unwrap();
    let pairs: Vec<_> = plan
        .keys
        .iter()
        .map(|k| (k, &keys[&k.mode].public))
        .collect();
    let server = tmp.path().join("server");
    let mut authorized_keys = BTreeMap::new();
    for account in export::authorized_keys(&pairs).unwrap() {
        let path = server_path(&server, &account.account);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text: String = account
            .lines
            .iter()
            .map(|l| format!("{}\n", l.line))
            .collect();
        fsio::write_new(&path, text.as_bytes(), MODE_PRIVATE).unwrap();
        authorized_keys.insert(account.account.clone(), path);
    }
    Tree {
        tmp,
        ssh_dir,
        policy,
        plan,
        keys,
        authorized_keys,
    }
}

/// The rule IDs of the findings, for compact assertions.
pub fn rule_ids(findings: &[AuditFinding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.rule).collect()
}

/// The findings of one rule.
pub fn of_rule<'a>(findings: &'a [AuditFinding], rule: &str) -> Vec<&'a AuditFinding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

/// Findings other than the self-attestation note every OpenSK-style key gets.
pub fn significant(findings: &[AuditFinding]) -> Vec<&AuditFinding> {
    findings.iter().filter(|f| f.rule != "AU023").collect()
}

pub fn skset() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_skset"))
}

/// A vendor CA for the tree: a P-256 root and an attestation leaf it signs; rewrites every
/// key's attestation as signed by the leaf (AAGUID of a YubiKey 5) and returns the roots dir.
pub fn attest_with_vendor_ca(tree: &Tree) -> PathBuf {
    use rcgen::{
        BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SigningKey as _,
        PKCS_ECDSA_P256_SHA256,
    };
    let aaguid = [
        0xee, 0x88, 0x28, 0x79, 0x72, 0x1c, 0x49, 0x13, 0x97, 0x75, 0x3d, 0xfc, 0xce, 0x97, 0x07,
        0x2a,
    ];
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = root_params.self_signed(&root_key).unwrap();
    let issuer = Issuer::new(root_params, &root_key);
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    for (mode, e) in &tree.keys {
        let mut auth = e.auth_data.clone();
        auth[37..53].copy_from_slice(&aaguid);
        let sig = leaf_key.sign(&signed_data(&auth, &e.challenge)).unwrap();
        let blob = SkAttestation::from_raw_auth_data(leaf.der().to_vec(), sig, &auth)
            .to_bytes()
            .unwrap();
        let file = tree
            .plan
            .keys
            .iter()
            .find(|k| &k.mode == mode)
            .unwrap()
            .attestation_file
            .clone();
        std::fs::write(tree.ssh_dir.join(file), blob).unwrap();
    }
    let roots = tree.tmp.path().join("roots");
    std::fs::create_dir_all(&roots).unwrap();
    std::fs::write(roots.join("vendor.pem"), root.pem()).unwrap();
    roots
}
