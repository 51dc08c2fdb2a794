//! `skset attest verify`: check the attestation `skset enroll` (or `ssh-keygen -O
//! write-attestation`) wrote for a key.

use super::output::{outln, Stdout};
use super::{Failure, Outcome};
use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use skset::audit::attest_check::{read_small, MAX_ATTESTATION_FILE_LEN};
use skset::audit::attestation::{verify, AttestationKind, ChainStatus, VerifyRequest};
use skset::audit::load_anchors;
use skset::openssh::attestation::SkAttestation;
use skset::openssh::private_key::read_sk_private_key;
use skset::openssh::public_key::SkPublicKey;
use skset::policy;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub command: AttestCommand,
}

impl AttestArgs {
    pub fn json(&self) -> bool {
        match &self.command {
            AttestCommand::Verify(a) => a.json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Verify a key's attestation: signature, chain to trusted roots, AAGUID, key, application.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Checks the packed attestation signature over authData || SHA-256(challenge) (with the
certificate's key, or for self-attestation the credential's own key), the certificate chain to
trusted roots, the AAGUID against the policy's aaguid_allow_list, that the attested key is the
.pub file's key, and that rpIdHash is SHA-256 of the key's application.

Self-attestation (no certificate; OpenSK and software authenticators) is reported as
\"not evidence of hardware\"; with trusted roots given it cannot be verified.

Exit codes: 0 verified, 1 not verified (the reasons are printed), 2 a file could not be read.

Examples:
  skset attest verify --pub ~/.ssh/id_root.pub --attestation ~/.ssh/id_root.attest --challenge ~/.ssh/id_root.challenge
  skset attest verify --pub id_root.pub --attestation id_root.attest --challenge id_root.challenge --roots /etc/skset/roots
  skset attest verify --pub id_root.pub --attestation id_root.attest --challenge id_root.challenge --policy four-mode.yaml --json"
)]
pub struct VerifyArgs {
    /// The key's public key file (id_MODE.pub).
    #[arg(long = "pub", value_name = "FILE")]
    pub public: PathBuf,

    /// The attestation file (id_MODE.attest, ssh-sk-attest-v01).
    #[arg(long, value_name = "FILE")]
    pub attestation: PathBuf,

    /// The challenge file: the raw bytes whose SHA-256 is the clientDataHash (id_MODE.challenge).
    #[arg(long, value_name = "FILE")]
    pub challenge: PathBuf,

    /// Trusted attestation roots: a directory of PEM/DER certificates, or one file.
    /// Default: the policy's settings.trusted_attestation_roots (none: the chain is not checked).
    #[arg(long, value_name = "DIR")]
    pub roots: Option<PathBuf>,

    /// The policy whose trusted_attestation_roots and aaguid_allow_list apply.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The private key file too: an unencrypted one lets the credential id be compared.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &AttestArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    match &args.command {
        AttestCommand::Verify(v) => run_verify(v, out),
    }
}

fn run_verify(args: &VerifyArgs, out: &mut Stdout) -> Result<Outcome, Failure> {
    let read = |path: &PathBuf, what: &str| {
        read_small(path, MAX_ATTESTATION_FILE_LEN)
            .with_context(|| format!("cannot read the {what} {}", path.display()))
    };
    let public_text = read(&args.public, "public key")?;
    let public_text = String::from_utf8_lossy(&public_text);
    let public =
        SkPublicKey::parse_line(public_text.lines().next().unwrap_or("")).with_context(|| {
            format!(
                "{}: not a security-key public key line",
                args.public.display()
            )
        })?;
    let attestation = SkAttestation::from_bytes(&read(&args.attestation, "attestation")?)
        .with_context(|| format!("{}", args.attestation.display()))?;
    let challenge = read(&args.challenge, "challenge")?;
    let key_handle = match &args.key {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the key file {}", path.display()))?;
            match read_sk_private_key(&bytes, None) {
                Ok(k) => Some(k.credential.key_handle.clone()),
                // An encrypted (wheel) file: the credential id cannot be compared without the passphrase.
                Err(skset::openssh::private_key::PrivateKeyError::PassphraseRequired) => None,
                Err(e) => return Err(Failure::bad_input(anyhow!("{}: {e}", path.display()))),
            }
        }
        None => None,
    };
    let policy = match &args.policy {
        Some(path) => {
            Some(policy::load_policy_file(path).map_err(|e| Failure::bad_input(anyhow!("{e}")))?)
        }
        None => None,
    };
    let policy_dir = args
        .policy
        .as_ref()
        .and_then(|p| p.parent())
        .map(|p| p.to_path_buf());
    let anchors = match &policy {
        Some(p) => load_anchors(p, args.roots.as_deref(), policy_dir.as_deref()),
        None => match &args.roots {
            Some(dir) => skset::audit::attestation::TrustAnchors::from_dir(dir).map(Some),
            None => Ok(None),
        },
    }
    .map_err(|e| Failure::bad_input(anyhow!("attestation roots: {e}")))?;
    let allow = policy
        .as_ref()
        .map(|p| p.settings.aaguid_allow_list.clone())
        .unwrap_or_default();
    let result = verify(&VerifyRequest {
        attestation: &attestation,
        challenge: &challenge,
        public_key: &public,
        key_handle: key_handle.as_deref(),
        anchors: anchors.as_ref(),
        aaguid_allow_list: &allow,
    });
    let outcome = if result.verified() {
        Outcome::Success
    } else {
        Outcome::Findings
    };
    if args.json {
        let doc = serde_json::json!({
            "attestation": args.attestation.to_string_lossy(),
            "public_key": args.public.to_string_lossy(),
            "application": public.application,
            "verified": result.verified(),
            "evidence_of_hardware": result.verified() && !result.is_self_attestation() && result.kind != AttestationKind::None,
            "result": result,
            "exit_code": outcome as u8,
        });
        outln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?
        );
        return Ok(outcome);
    }
    outln!(out, "attestation  {}", args.attestation.display());
    outln!(
        out,
        "key          {} ({}, {})",
        args.public.display(),
        public.algorithm,
        public.application
    );
    match &result.kind {
        AttestationKind::Certificate { subject, issuer } => {
            outln!(out, "signed by    certificate {subject} (issuer {issuer})")
        }
        AttestationKind::SelfAttestation => outln!(
            out,
            "signed by    the credential itself: self-attestation: not evidence of hardware"
        ),
        AttestationKind::None => outln!(out, "signed by    nothing (no attestation statement)"),
    }
    outln!(
        out,
        "AAGUID       {}",
        result.aaguid.as_deref().unwrap_or("?")
    );
    let chain = match &result.chain {
        ChainStatus::Trusted { root, file } => format!("trusted: chains to {root} ({file})"),
        ChainStatus::Untrusted => "NOT trusted".to_string(),
        ChainStatus::NotChecked => "not checked (no trusted roots given: --roots DIR or the policy's trusted_attestation_roots)".to_string(),
        ChainStatus::NoCertificate => "none (no certificate)".to_string(),
    };
    outln!(out, "chain        {chain}");
    let flag = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    };
    outln!(
        out,
        "at creation  user present: {}, user verified: {}, credProtect: {}",
        flag(result.user_present),
        flag(result.user_verified),
        result
            .cred_protect
            .map(|c| c.to_string())
            .unwrap_or_else(|| "not reported".into())
    );
    if result.verified() {
        outln!(
            out,
            "result       verified{}",
            if result.is_self_attestation() {
                " (self-attestation: not evidence of hardware)"
            } else {
                ""
            }
        );
    } else {
        outln!(out, "result       NOT verified");
        for p in &result.problems {
            outln!(out, "  - {p}");
        }
    }
    Ok(outcome)
}
