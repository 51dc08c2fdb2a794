//! PINs and passphrases: from a file (`--pin-file F`, `/dev/fd/N` works) or a hidden prompt
//! on the terminal, never from an argument value (argv is visible to every user via /proc).
//! Everything is read into zeroizing buffers with room reserved up front, so no
//! reallocation leaves a copy behind.

use anyhow::{bail, Context, Result};
use skset::device::Pin;
use std::io::{IsTerminal, Read};
use std::path::Path;
use zeroize::Zeroizing;

/// Where the secrets of a command that touches keys come from when not from a prompt.
#[derive(Debug, Clone, clap::Args)]
pub struct SecretArgs {
    /// Read the security key's PIN from this file (first line) instead of prompting.
    /// A path; /dev/fd/N works (e.g. --pin-file <(pass show fido-pin)).
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<std::path::PathBuf>,

    /// Read the passphrase for key files whose policy requires one (wheel) from this file.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<std::path::PathBuf>,
}

/// Longest secret skset reads from a file; a PIN is at most 63 bytes.
const MAX_SECRET_BYTES: u64 = 1024;

/// Reads a secret from a file: the first line, without its newline.
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<String>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the secret file {}", path.display()))?;
    let mut secret = Zeroizing::new(String::with_capacity(MAX_SECRET_BYTES as usize + 1));
    file.take(MAX_SECRET_BYTES)
        .read_to_string(&mut secret)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    if let Some(end) = secret.find('\n') {
        secret.truncate(end);
    }
    if secret.ends_with('\r') {
        secret.pop();
    }
    Ok(secret)
}

/// Asks on the terminal without echo.
pub fn prompt_secret(prompt: &str) -> Result<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() && !Path::new("/dev/tty").exists() {
        bail!(
            "no terminal to ask for the secret: give it with a file option (e.g. --pin-file FILE)"
        );
    }
    let secret = rpassword::prompt_password(prompt).context("cannot read from the terminal")?;
    Ok(Zeroizing::new(secret))
}

pub fn pin_from(file: Option<&Path>, prompt: &str) -> Result<Pin> {
    let secret = match file {
        Some(path) => read_secret_file(path)?,
        None => prompt_secret(prompt)?,
    };
    Ok(Pin::new(secret)?)
}

/// A new PIN: from a file, or typed twice at the prompt.
pub fn new_pin_from(file: Option<&Path>) -> Result<Pin> {
    if let Some(path) = file {
        return Ok(Pin::new(read_secret_file(path)?)?);
    }
    let first = Pin::new(prompt_secret("New PIN for the security key: ")?)?;
    let second = prompt_secret("Repeat the new PIN: ")?;
    if first.expose() != second.as_str() {
        bail!("the two PINs differ; nothing was changed");
    }
    Ok(first)
}
