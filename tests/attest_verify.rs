//! `skset attest verify` and the verifier behind it, with a CA chain made here: a P-256
//! root, an attestation leaf it signs (with the FIDO AAGUID extension), and an attestation
//! signature by the leaf key over authData || SHA-256(challenge), where authData carries a
//! real credential key.

mod audit_support;

use std::path::{Path, PathBuf};

use audit_support::*;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, SigningKey as _, PKCS_ECDSA_P256_SHA256,
};
use skset::audit::attestation::{
    verify, AttestationKind, ChainStatus, Problem, TrustAnchors, VerifyRequest,
};
use skset::openssh::attestation::SkAttestation;
use skset::openssh::sk_key::SkAlgorithm;
use skset::policy::model::Aaguid;

const YUBIKEY_5_AAGUID: [u8; 16] = [
    0xee, 0x88, 0x28, 0x79, 0x72, 0x1c, 0x49, 0x13, 0x97, 0x75, 0x3d, 0xfc, 0xce, 0x97, 0x07, 0x2a,
];

struct Ca {
    root_pem: String,
    leaf_der: Vec<u8>,
    leaf_key: KeyPair,
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Test Vendor");
    dn.push(DnType::CommonName, cn);
    dn
}

/// root -> leaf, P-256 throughout; the leaf carries the AAGUID extension.
fn ca(root_cn: &str, aaguid: [u8; 16]) -> Ca {
    ca_with(
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap(),
        root_cn,
        aaguid,
    )
}

/// The same with a given root key (P-384, RSA: how vendor roots are often made).
fn ca_with(root_key: KeyPair, root_cn: &str, aaguid: [u8; 16]) -> Ca {
    let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.distinguished_name = name(root_cn);
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_cert = root_params.self_signed(&root_key).unwrap();
    let issuer = Issuer::new(root_params, &root_key);

    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf_params.distinguished_name = name("Test Authenticator Attestation");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    // id-fido-gen-ce-aaguid: OCTET STRING { 16 bytes }
    let mut value = vec![0x04, 0x10];
    value.extend_from_slice(&aaguid);
    leaf_params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4],
            value,
        ));
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    Ca {
        root_pem: root_cert.pem(),
        leaf_der: leaf_cert.der().to_vec(),
        leaf_key,
    }
}

/// A credential attested by `ca`'s leaf.
struct Attested {
    enrolled: Enrolled,
    attestation: SkAttestation,
}

fn attested(ca: &Ca, aaguid: [u8; 16], algorithm: SkAlgorithm) -> Attested {
    let policy = skset::policy::default_policy().unwrap();
    let plan = skset::policy::plan(&policy, "laptop").unwrap();
    let root = plan.keys.iter().find(|k| k.mode == "root").unwrap();
    let mut enrolled = Enrolled::new(root, algorithm);
    enrolled.auth_data = auth_data(
        &root.application,
        0x05,
        aaguid,
        &enrolled.credential.key_handle,
        &enrolled.key.cose(),
        Some(3),
    );
    let signature = ca
        .leaf_key
        .sign(&signed_data(&enrolled.auth_data, &enrolled.challenge))
        .unwrap();
    let attestation =
        SkAttestation::from_raw_auth_data(ca.leaf_der.clone(), signature, &enrolled.auth_data);
    Attested {
        enrolled,
        attestation,
    }
}

fn anchors_of(pem: &str) -> (tempfile::TempDir, TrustAnchors) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.pem"), pem).unwrap();
    let anchors = TrustAnchors::from_dir(dir.path()).unwrap();
    (dir, anchors)
}

fn request<'a>(
    a: &'a Attested,
    anchors: Option<&'a TrustAnchors>,
    allow: &'a [Aaguid],
) -> VerifyRequest<'a> {
    VerifyRequest {
        attestation: &a.attestation,
        challenge: &a.enrolled.challenge,
        public_key: &a.enrolled.public,
        key_handle: Some(&a.enrolled.credential.key_handle),
        anchors,
        aaguid_allow_list: allow,
    }
}

#[test]
fn a_good_chain_verifies_with_its_evidence() {
    for algorithm in [SkAlgorithm::Ed25519, SkAlgorithm::EcdsaP256] {
        let ca = ca("Test Vendor FIDO Root", YUBIKEY_5_AAGUID);
        let a = attested(&ca, YUBIKEY_5_AAGUID, algorithm);
        let (_dir, anchors) = anchors_of(&ca.root_pem);
        let allow = [Aaguid(YUBIKEY_5_AAGUID)];
        let v = verify(&request(&a, Some(&anchors), &allow));
        assert!(v.verified(), "{:?}", v.problems);
        assert!(
            matches!(&v.kind, AttestationKind::Certificate { subject, .. } if subject.contains("Test Authenticator Attestation"))
        );
        assert!(
            matches!(&v.chain, ChainStatus::Trusted { root, .. } if root.contains("Test Vendor FIDO Root"))
        );
        assert_eq!(
            v.aaguid.as_deref(),
            Some("ee882879-721c-4913-9775-3dfcce97072a")
        );
        assert_eq!(
            (v.user_present, v.user_verified, v.cred_protect),
            (Some(true), Some(true), Some(3))
        );
        // Without roots the signature still verifies; the chain is simply not checked.
        let v = verify(&request(&a, None, &[]));
        assert!(v.verified() && v.chain == ChainStatus::NotChecked);
    }
}

#[test]
fn p384_and_rsa_roots_verify_their_leaves() {
    let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    // ring cannot make RSA keys; ssh-keygen can, as PKCS#8.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("rsa");
    let ok = std::process::Command::new("ssh-keygen")
        .args([
            "-q", "-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", "", "-f",
        ])
        .arg(&key)
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen -t rsa -m PKCS8");
    let rsa = KeyPair::from_pem(&std::fs::read_to_string(&key).unwrap()).unwrap();
    for (what, root_key) in [("P-384", p384), ("RSA", rsa)] {
        let ca = ca_with(root_key, &format!("{what} Root"), YUBIKEY_5_AAGUID);
        let a = attested(&ca, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
        let (_dir, anchors) = anchors_of(&ca.root_pem);
        let v = verify(&request(&a, Some(&anchors), &[]));
        assert!(v.verified(), "{what}: {:?}", v.problems);
        assert!(matches!(&v.chain, ChainStatus::Trusted { root, .. } if root.contains(what)));
    }
}

#[test]
fn a_wrong_challenge_is_rejected() {
    let ca = ca("Root", YUBIKEY_5_AAGUID);
    let a = attested(&ca, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    let (_dir, anchors) = anchors_of(&ca.root_pem);
    let other = random_bytes(32);
    let v = verify(&VerifyRequest {
        challenge: &other,
        ..request(&a, Some(&anchors), &[])
    });
    assert!(
        matches!(v.problems.as_slice(), [Problem::Signature(_)]),
        "{:?}",
        v.problems
    );
}

#[test]
fn the_pub_of_another_key_is_rejected() {
    let ca = ca("Root", YUBIKEY_5_AAGUID);
    let a = attested(&ca, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    let b = attested(&ca, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    let (_dir, anchors) = anchors_of(&ca.root_pem);
    let v = verify(&VerifyRequest {
        public_key: &b.enrolled.public,
        key_handle: None,
        ..request(&a, Some(&anchors), &[])
    });
    assert_eq!(v.problems, [Problem::KeyMismatch]);
}

#[test]
fn an_untrusted_root_is_rejected() {
    let ca_a = ca("Vendor A Root", YUBIKEY_5_AAGUID);
    let ca_b = ca("Vendor B Root", YUBIKEY_5_AAGUID);
    let a = attested(&ca_a, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    let (_dir, anchors) = anchors_of(&ca_b.root_pem);
    let v = verify(&request(&a, Some(&anchors), &[]));
    assert_eq!(v.chain, ChainStatus::Untrusted);
    assert!(
        matches!(v.problems.as_slice(), [Problem::Untrusted(why)] if why.contains("none of the 1 trusted root")),
        "{:?}",
        v.problems
    );
    // A root with the issuer's name but another key (an impostor) does not verify it either.
    let impostor = ca("Vendor A Root", YUBIKEY_5_AAGUID);
    let (_dir, anchors) = anchors_of(&impostor.root_pem);
    let v = verify(&request(&a, Some(&anchors), &[]));
    assert!(
        matches!(v.problems.as_slice(), [Problem::Untrusted(why)] if why.contains("does not verify")),
        "{:?}",
        v.problems
    );
}

#[test]
fn an_aaguid_not_on_the_list_is_rejected() {
    let ca = ca("Root", YUBIKEY_5_AAGUID);
    let a = attested(&ca, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    let allow = [Aaguid([0x11; 16])];
    let v = verify(&request(&a, None, &allow));
    assert!(
        matches!(v.problems.as_slice(), [Problem::AaguidNotAllowed(g)] if g == "ee882879-721c-4913-9775-3dfcce97072a"),
        "{:?}",
        v.problems
    );
}

#[test]
fn an_aaguid_differing_from_the_certificate_extension_is_rejected() {
    let ca = ca("Root", YUBIKEY_5_AAGUID);
    let a = attested(&ca, [0x22; 16], SkAlgorithm::Ed25519);
    let v = verify(&request(&a, None, &[]));
    assert!(
        matches!(
            v.problems.as_slice(),
            [Problem::AaguidExtensionMismatch { .. }]
        ),
        "{:?}",
        v.problems
    );
}

#[test]
fn self_attestation_is_reported_as_such() {
    let tree = four_mode_tree();
    let e = &tree.keys["root"];
    let att = e.self_attestation();
    let req = VerifyRequest {
        attestation: &att,
        challenge: &e.challenge,
        public_key: &e.public,
        key_handle: None,
        anchors: None,
        aaguid_allow_list: &[],
    };
    let v = verify(&req);
    assert!(
        v.verified() && v.is_self_attestation() && v.chain == ChainStatus::NoCertificate,
        "{:?}",
        v.problems
    );
    assert_eq!(
        v.aaguid.as_deref(),
        Some("00000000-0000-0000-0000-000000000000")
    );
}

#[test]
fn damaged_attestations_are_problems_not_panics() {
    let ca = ca("Root", YUBIKEY_5_AAGUID);
    let a = attested(&ca, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    let raw = a.enrolled.auth_data.clone();
    for cut in [0, 10, 36, 37, 54, 60, raw.len() - 1] {
        let broken = SkAttestation::from_raw_auth_data(
            ca.leaf_der.clone(),
            a.attestation.signature.clone(),
            &raw[..cut],
        );
        let v = verify(&VerifyRequest {
            attestation: &broken,
            ..request(&a, None, &[])
        });
        assert!(!v.verified(), "cut at {cut}");
    }
    let garbage_cert = SkAttestation {
        certificate: vec![0x30, 0x03, 0x02, 0x01],
        ..a.attestation.clone()
    };
    let v = verify(&VerifyRequest {
        attestation: &garbage_cert,
        ..request(&a, None, &[])
    });
    assert!(
        matches!(v.problems.first(), Some(Problem::Certificate(_))),
        "{:?}",
        v.problems
    );
}

// --- the binary ------------------------------------------------------------------------

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(a: &Attested) -> Files {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("id_root.pub"),
            a.enrolled.public.to_line().unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("id_root.attest"),
            a.attestation.to_bytes().unwrap(),
        )
        .unwrap();
        std::fs::write(dir.path().join("id_root.challenge"), &a.enrolled.challenge).unwrap();
        Files { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn verify(&self, extra: &[&str], roots: Option<&Path>) -> (i32, String) {
        let mut cmd = skset();
        cmd.args(["attest", "verify", "--pub"])
            .arg(self.path("id_root.pub"))
            .arg("--attestation")
            .arg(self.path("id_root.attest"))
            .arg("--challenge")
            .arg(self.path("id_root.challenge"));
        if let Some(r) = roots {
            cmd.arg("--roots").arg(r);
        }
        let out = cmd.args(extra).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }
}

#[test]
fn the_binary_accepts_a_good_chain_and_rejects_challenge_key_and_root() {
    let ca_good = ca("Test Vendor FIDO Root", YUBIKEY_5_AAGUID);
    let a = attested(&ca_good, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    let files = Files::new(&a);
    let roots = files.path("roots");
    std::fs::create_dir(&roots).unwrap();
    std::fs::write(roots.join("vendor.pem"), &ca_good.root_pem).unwrap();

    let (code, out) = files.verify(&[], Some(&roots));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("result       verified") && out.contains("trusted: chains to"),
        "{out}"
    );

    let (code, out) = files.verify(&["--json"], Some(&roots));
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["evidence_of_hardware"], true);
    assert_eq!(doc["result"]["kind"], "certificate");
    assert_eq!(doc["result"]["chain"]["status"], "trusted");

    // Wrong challenge.
    std::fs::write(files.path("id_root.challenge"), random_bytes(32)).unwrap();
    let (code, out) = files.verify(&[], Some(&roots));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NOT verified") && out.contains("does not verify"),
        "{out}"
    );
    std::fs::write(files.path("id_root.challenge"), &a.enrolled.challenge).unwrap();

    // Another key's .pub.
    let b = attested(&ca_good, YUBIKEY_5_AAGUID, SkAlgorithm::Ed25519);
    std::fs::write(
        files.path("id_root.pub"),
        b.enrolled.public.to_line().unwrap(),
    )
    .unwrap();
    let (code, out) = files.verify(&[], Some(&roots));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not the key in the .pub file"), "{out}");
    std::fs::write(
        files.path("id_root.pub"),
        a.enrolled.public.to_line().unwrap(),
    )
    .unwrap();

    // Untrusted root.
    let other = ca("Someone Else", YUBIKEY_5_AAGUID);
    std::fs::write(roots.join("vendor.pem"), &other.root_pem).unwrap();
    let (code, out) = files.verify(&[], Some(&roots));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not chain to a trusted root"), "{out}");

    // Unreadable input: exit 2.
    std::fs::remove_file(files.path("id_root.challenge")).unwrap();
    let (code, out) = files.verify(&[], None);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn the_binary_reports_self_attestation_and_checks_the_policy_allow_list() {
    let tree = four_mode_tree();
    let ssh = &tree.ssh_dir;
    let run = |extra: &[&str]| {
        let out = skset()
            .args(["attest", "verify", "--pub"])
            .arg(ssh.join("id_robo.pub"))
            .arg("--attestation")
            .arg(ssh.join("id_robo.attest"))
            .arg("--challenge")
            .arg(ssh.join("id_robo.challenge"))
            .arg("--key")
            .arg(ssh.join("id_robo"))
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = run(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("self-attestation: not evidence of hardware"),
        "{out}"
    );

    let yaml = skset::policy::DEFAULT_POLICY_YAML.replace(
        "aaguid_allow_list: []",
        "aaguid_allow_list: [\"ee882879-721c-4913-9775-3dfcce97072a\"]",
    );
    let policy_file = tree.tmp.path().join("strict.yaml");
    std::fs::write(&policy_file, yaml).unwrap();
    let (code, out) = run(&["--policy", policy_file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["result"]["problems"][0]["problem"],
        "aaguid-not-allowed"
    );
    assert_eq!(doc["evidence_of_hardware"], false);
}

#[test]
fn the_audit_notes_an_unchecked_chain_and_trusts_a_good_one() {
    // AU025: an x5c attestation beside a key, no roots configured.
    let tree = four_mode_tree();
    let ca = ca("Test Vendor FIDO Root", YUBIKEY_5_AAGUID);
    let e = &tree.keys["root"];
    let mut auth = e.auth_data.clone();
    auth[37..53].copy_from_slice(&YUBIKEY_5_AAGUID);
    let sig = ca.leaf_key.sign(&signed_data(&auth, &e.challenge)).unwrap();
    std::fs::write(
        tree.ssh_dir.join("id_root.attest"),
        SkAttestation::from_raw_auth_data(ca.leaf_der.clone(), sig, &auth)
            .to_bytes()
            .unwrap(),
    )
    .unwrap();
    let (findings, _) = tree.audit();
    let hits = of_rule(&findings, "AU025");
    assert_eq!(hits.len(), 1, "{findings:#?}");
    assert_eq!(hits[0].location.file, tree.ssh_dir.join("id_root.attest"));
    // With the vendor root given, root's attestation is trusted and only the three
    // self-attested keys are reported (as untrusted, since roots are now required).
    let roots = tree.tmp.path().join("roots");
    std::fs::create_dir(&roots).unwrap();
    std::fs::write(roots.join("vendor.pem"), &ca.root_pem).unwrap();
    let mut input = tree.input();
    input.roots = Some(roots);
    let (findings, summary) = tree.audit_with(&input);
    assert!(of_rule(&findings, "AU025").is_empty());
    let untrusted: Vec<_> = of_rule(&findings, "AU021")
        .iter()
        .map(|f| f.mode.clone().unwrap())
        .collect();
    assert_eq!(untrusted, ["robo", "sudo", "wheel"]);
    assert!(
        summary
            .attestations
            .iter()
            .find(|a| a.mode == "root")
            .unwrap()
            .verified
    );
}
