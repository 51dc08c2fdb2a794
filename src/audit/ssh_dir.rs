//! Auditing a `~/.ssh` directory: its permissions and every private key file in it.
//!
//! Only regular files are opened (a FIFO left in `~/.ssh` would block a reader forever),
//! only the top level is read (ssh does not look deeper), and a file is read only when it
//! is no larger than OpenSSH's own key file limit. Files are visited in name order so that
//! reports are stable.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::attest_check::{self, AttestationEvidence};
use super::modes::{expected_flags, ModeIndex};
use super::rules::{self, AuditFinding, Location};
use super::AuditError;
use crate::fsio;
use crate::openssh::private_key::{
    inspect_private_key, read_sk_private_key, Encryption, PrivateKeyError, PrivateKeyInfo,
    MAX_PRIVATE_KEY_FILE_LEN,
};
use crate::openssh::public_key::{parse_any_line, SkPublicKey};
use crate::openssh::sk_key::flags;
use crate::policy::model::{Mode, PassphraseRule};

/// What a directory handed on to the other parts of the audit.
#[derive(Debug, Default)]
pub struct SshDirContents {
    pub authorized_keys: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    pub files: u64,
    pub private_keys: u64,
    pub sk_keys: u64,
    pub attestations: Vec<AttestationEvidence>,
}

/// Settings the key-file checks need beyond the policy.
pub struct KeyFileContext<'a, 'p> {
    pub modes: &'a ModeIndex<'p>,
    pub attestation: &'a attest_check::AttestationSettings,
}

/// Audit one directory. The directory itself must be readable (else [`AuditError`]);
/// files in it that cannot be read are findings.
pub fn audit_ssh_dir(
    ctx: &KeyFileContext<'_, '_>,
    dir: &Path,
    sink: &mut dyn FnMut(AuditFinding),
) -> Result<SshDirContents, AuditError> {
    let unreadable = |source| AuditError::Unreadable {
        path: dir.to_owned(),
        source,
    };
    let meta = fs::metadata(dir).map_err(unreadable)?;
    if !meta.is_dir() {
        return Err(AuditError::NotADirectory {
            path: dir.to_owned(),
        });
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
    if mode & 0o022 != 0 {
        sink(AuditFinding::new(
            &rules::SSH_DIR_PERMISSIONS,
            Location::file(dir),
            format!("the directory is writable by group or others (mode {mode:04o}): they can replace keys, config and authorized_keys"),
            format!("chmod 700 '{}'", dir.display()),
        ));
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(unreadable)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut out = SshDirContents::default();
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        // Follow symlinks as ssh does; skip anything that is not a regular file.
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        out.files += 1;
        match name.as_str() {
            "authorized_keys" | "authorized_keys2" => {
                out.authorized_keys.push(path);
                continue;
            }
            "config" => {
                out.config = Some(path);
                continue;
            }
            _ => {}
        }
        if is_not_a_key_file(&name) || meta.len() > MAX_PRIVATE_KEY_FILE_LEN as u64 {
            continue;
        }
        let bytes = match read_capped(&path, MAX_PRIVATE_KEY_FILE_LEN) {
            Ok(b) => b,
            Err(e) => {
                sink(AuditFinding::new(
                    &rules::DAMAGED_KEY_FILE,
                    Location::file(&path),
                    format!("cannot read the file: {e}"),
                    "check its owner and mode; run the audit as the account that owns ~/.ssh",
                ));
                continue;
            }
        };
        if !looks_like_private_key(&bytes) {
            continue;
        }
        out.private_keys += 1;
        if let Some(evidence) = audit_key_file(ctx, &path, &name, &bytes, &mut out.sk_keys, sink) {
            out.attestations.push(evidence);
        }
    }
    Ok(out)
}

/// Names ssh and skset use for things that are not private keys.
fn is_not_a_key_file(name: &str) -> bool {
    name.ends_with(".pub")
        || name.ends_with(".attest")
        || name.ends_with(".challenge")
        || name.starts_with("known_hosts")
        || matches!(name, "environment" | "rc")
}

/// PEM armour naming a private key, or a PuTTY key file.
fn looks_like_private_key(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(200)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    (text.starts_with("-----BEGIN ")
        && text
            .lines()
            .next()
            .is_some_and(|l| l.contains("PRIVATE KEY")))
        || text.starts_with("PuTTY-User-Key-File-")
}

fn read_capped(path: &Path, cap: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Checks on one private key file. Returns the attestation evidence for an sk key with an
/// attestation file beside it.
fn audit_key_file(
    ctx: &KeyFileContext<'_, '_>,
    path: &Path,
    name: &str,
    bytes: &[u8],
    sk_count: &mut u64,
    sink: &mut dyn FnMut(AuditFinding),
) -> Option<AttestationEvidence> {
    if let Ok(mode) = fsio::file_mode(path) {
        if fsio::is_too_open_for_private_key(mode) {
            sink(AuditFinding::new(
                &rules::PRIVATE_KEY_PERMISSIONS,
                Location::file(path),
                format!("the private key file has mode {mode:04o}: group or others can read it, and ssh refuses to use it"),
                format!("chmod 600 '{}'", path.display()),
            ));
        }
    }
    let info = match inspect_private_key(bytes) {
        Ok(info) => info,
        Err(PrivateKeyError::LegacyPem { label }) => {
            let text = String::from_utf8_lossy(bytes);
            let encrypted = label.contains("ENCRYPTED") || text.contains("Proc-Type: 4,ENCRYPTED");
            file_based_key(path, &format!("a {label} (PEM)"), encrypted, sink);
            return None;
        }
        Err(_) if bytes.starts_with(b"PuTTY-User-Key-File-") => {
            let text = String::from_utf8_lossy(bytes);
            let encrypted = !text.lines().any(|l| l.trim() == "Encryption: none");
            file_based_key(path, "a PuTTY", encrypted, sink);
            return None;
        }
        Err(e) => {
            sink(AuditFinding::new(&rules::DAMAGED_KEY_FILE, Location::file(path), format!("looks like a private key but does not parse: {e}"), "restore it from a backup or remove it; for a resident key, `skset recover` writes it again"));
            return None;
        }
    };
    check_public_beside(path, &info, sink);
    if info.sk_algorithm.is_none() {
        file_based_key(
            path,
            &format!("an OpenSSH {}", info.key_type),
            info.encryption != Encryption::None,
            sink,
        );
        return None;
    }
    *sk_count += 1;
    let found = ctx
        .modes
        .for_key_file(info.application.as_deref(), name, info.comment.as_deref());
    let application = info.application.as_deref().unwrap_or("?");
    if let Some((claimed, via)) = found.claimed {
        let actual = match found.via {
            super::modes::Via::Application => format!(
                "but its credential's application {application} is the {} mode's",
                found.mode.map(|m| m.name.as_str()).unwrap_or("?")
            ),
            _ => format!(
                "but its credential's application is {application}, not {}",
                claimed.application
            ),
        };
        sink(AuditFinding::new(
            &rules::SK_IDENTITY_MISMATCH,
            Location::file(path),
            format!("{} says this is the {} key, {actual}", via.describe(), claimed.name),
            format!("enroll {} with skset (application {}, its own user id) and retire this file; a key with OpenSSH's default identity is replaced by the next plain `ssh-keygen -O resident`", claimed.name, claimed.application),
        ).mode(Some(&claimed.name)));
    }
    let Some(mode) = found.mode else {
        sink(AuditFinding::new(
            &rules::SK_KEY_UNKNOWN_MODE,
            Location::file(path),
            format!("security-key credential for application {application} matches no mode of the policy (by application, file name or comment)"),
            "enroll the key you need with skset and retire this file, or add its mode to the policy",
        ));
        return None;
    };
    check_flags(path, mode, &info, sink);
    check_passphrase(path, mode, &info, sink);
    let public = SkPublicKey::parse_line(&info.public_key_line).ok()?;
    let key_handle = read_sk_private_key(bytes, None)
        .ok()
        .map(|k| k.credential.key_handle.clone());
    attest_check::check_beside(
        ctx.attestation,
        path,
        mode,
        &public,
        key_handle.as_deref(),
        sink,
    )
}

fn file_based_key(path: &Path, what: &str, encrypted: bool, sink: &mut dyn FnMut(AuditFinding)) {
    let fix = "move its servers to the policy's security-key modes (`skset enroll`, then `skset authorized-keys`), remove its authorized_keys lines, then delete the file";
    if encrypted {
        sink(AuditFinding::new(&rules::FILE_BASED_KEY, Location::file(path), format!("{what} private key in a file, passphrase-protected: a copy of the file can be guessed at offline and used without any device"), fix));
    } else {
        sink(AuditFinding::new(&rules::FILE_BASED_KEY_UNENCRYPTED, Location::file(path), format!("{what} private key in a file without a passphrase: whoever reads the file holds the key"), format!("{fix}; until then, add a passphrase: ssh-keygen -p -f '{}'", path.display())));
    }
}

fn describe_flags(f: u8) -> String {
    let mut parts = Vec::new();
    parts.push(if f & flags::USER_PRESENCE_REQUIRED != 0 {
        "touch"
    } else {
        "no touch"
    });
    parts.push(if f & flags::USER_VERIFICATION_REQUIRED != 0 {
        "PIN"
    } else {
        "no PIN"
    });
    parts.push(if f & flags::RESIDENT_KEY != 0 {
        "resident"
    } else {
        "non-resident"
    });
    format!("0x{f:02x}: {}", parts.join(", "))
}

fn check_flags(
    path: &Path,
    mode: &Mode,
    info: &PrivateKeyInfo,
    sink: &mut dyn FnMut(AuditFinding),
) {
    let Some(actual) = info.flags else { return };
    let expected = expected_flags(mode);
    // FORCE_OPERATION only records that ssh-keygen overwrote a credential; it changes nothing at signing.
    if actual & !flags::FORCE_OPERATION == expected {
        return;
    }
    let recovered = mode.resident && !mode.touch && actual & flags::USER_PRESENCE_REQUIRED != 0;
    let hint = if recovered {
        " (ssh-keygen -K never restores no-touch-required, so a recovered file asks for a touch)"
    } else {
        ""
    };
    let fix = if mode.resident {
        format!("write the file again with the policy's flags: move it away and run `skset recover` (mode {})", mode.name)
    } else {
        format!("enroll the {} mode again with skset; a non-resident file cannot be recovered from the device", mode.name)
    };
    sink(
        AuditFinding::new(
            &rules::SK_FLAGS_MISMATCH,
            Location::file(path),
            format!(
                "flags are {} but the {} mode needs {}{hint}",
                describe_flags(actual),
                mode.name,
                describe_flags(expected)
            ),
            fix,
        )
        .mode(Some(&mode.name)),
    );
}

fn check_passphrase(
    path: &Path,
    mode: &Mode,
    info: &PrivateKeyInfo,
    sink: &mut dyn FnMut(AuditFinding),
) {
    let non_resident_file = info.flags.is_some_and(|f| f & flags::RESIDENT_KEY == 0);
    let unencrypted = info.encryption == Encryption::None;
    if unencrypted && (non_resident_file || mode.passphrase == PassphraseRule::Required) {
        sink(AuditFinding::new(
            &rules::PASSPHRASE_MISSING,
            Location::file(path),
            format!("the {} key file is not encrypted, yet it holds the credential handle of a non-resident key: a copy of it plus the device signs without a touch", mode.name),
            format!("ssh-keygen -p -a 24 -f '{}' (set a real passphrase)", path.display()),
        ).mode(Some(&mode.name)));
    }
    if !unencrypted && mode.resident && mode.passphrase == PassphraseRule::Forbidden {
        sink(AuditFinding::new(
            &rules::RESIDENT_FILE_ENCRYPTED,
            Location::file(path),
            format!("the {} key file has a passphrase, but it is a resident key's pointer: `ssh-keygen -K` rewrites it without one", mode.name),
            format!("remove it: ssh-keygen -p -N '' -f '{}'", path.display()),
        ).mode(Some(&mode.name)));
    }
}

/// The `.pub` beside a private key holds its public half.
fn check_public_beside(path: &Path, info: &PrivateKeyInfo, sink: &mut dyn FnMut(AuditFinding)) {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    if !pub_path.is_file() {
        return;
    }
    let text = match read_capped(&pub_path, 64 * 1024) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => return,
    };
    let first = text.lines().next().unwrap_or("");
    let matches = match parse_any_line(first) {
        Ok((key, _)) => {
            ssh_key::PublicKey::from(key).to_openssh().ok().as_deref()
                == Some(info.public_key_line.as_str())
        }
        Err(_) => false,
    };
    if !matches {
        sink(AuditFinding::new(
            &rules::PUBLIC_KEY_MISMATCH,
            Location::line(&pub_path, 1),
            format!(
                "{} does not hold the public half of {} ({})",
                pub_path.display(),
                path.display(),
                info.fingerprint
            ),
            format!(
                "write it again: ssh-keygen -y -f '{}' > '{}'",
                path.display(),
                pub_path.display()
            ),
        ));
    }
}
