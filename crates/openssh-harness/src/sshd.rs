//! A throw-away sshd on loopback.

use crate::process::{run, stop};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How to start sshd. The defaults are what the sk tests need.
#[derive(Debug, Clone)]
pub struct SshdOptions {
    /// Initial authorized_keys lines per user.
    pub authorized_keys: Vec<(String, Vec<String>)>,
    /// Extra `sshd_config` lines, appended last (e.g. `PubkeyAuthOptions verify-required`,
    /// `TrustedUserCAKeys PATH`). sshd uses the first value it reads for most keywords,
    /// so these cannot override the harness's own lines; add new keywords only.
    pub extra_config: Vec<String>,
    /// `PubkeyAcceptedAlgorithms`. Default: the sk types and their certificates only, so
    /// nothing but a security key can log in.
    pub accepted_algorithms: String,
    /// How long to wait for "Server listening".
    pub startup_timeout: Duration,
}

/// The sk key types and their certificate types.
pub const SK_ALGORITHMS: &str = "sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,\
sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com";

impl Default for SshdOptions {
    fn default() -> Self {
        SshdOptions {
            authorized_keys: Vec::new(),
            extra_config: Vec::new(),
            accepted_algorithms: SK_ALGORITHMS.to_string(),
            startup_timeout: Duration::from_secs(10),
        }
    }
}

/// Debian's `/usr/sbin/sshd -D -e -f CONFIG` on 127.0.0.1, stopped (process group killed)
/// on drop. Its log (LogLevel VERBOSE, stderr) is kept in `DIR/sshd.log`.
pub struct Sshd {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Sshd {
    /// An sshd with no authorized keys yet.
    pub fn start() -> io::Result<Sshd> {
        Sshd::start_with_options(SshdOptions::default())
    }

    /// An sshd that lets `user` in with `lines` (authorized_keys lines, options included).
    pub fn start_with<U: AsRef<str>, L: AsRef<str>>(
        authorized_keys: &[(U, &[L])],
    ) -> io::Result<Sshd> {
        Sshd::start_with_options(SshdOptions {
            authorized_keys: authorized_keys
                .iter()
                .map(|(user, lines)| {
                    (
                        user.as_ref().to_string(),
                        lines.iter().map(|l| l.as_ref().to_string()).collect(),
                    )
                })
                .collect(),
            ..SshdOptions::default()
        })
    }

    pub fn start_with_options(options: SshdOptions) -> io::Result<Sshd> {
        ensure_privsep_dir()?;
        let dir = tempfile::Builder::new().prefix("skset-sshd-").tempdir()?;
        fs::create_dir(dir.path().join("authorized_keys"))?;
        let host_key = dir.path().join("ssh_host_ed25519_key");
        let keygen = run(
            Command::new(crate::SSH_KEYGEN)
                .args([
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "skset-test-host",
                    "-f",
                ])
                .arg(&host_key),
            b"",
            Duration::from_secs(10),
        )?;
        if !keygen.success() {
            return Err(io::Error::other(format!(
                "host key generation failed: {keygen}"
            )));
        }
        let mut sshd = None;
        // A free port can be taken between our probe and sshd's bind: retry a few times.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            fs::write(
                dir.path().join("sshd_config"),
                config(dir.path(), port, &host_key, &options),
            )?;
            match spawn_and_wait(dir.path(), port, options.startup_timeout) {
                Ok(child) => {
                    sshd = Some((child, port));
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let Some((child, port)) = sshd else {
            return Err(last_error.unwrap_or_else(|| io::Error::other("sshd did not start")));
        };
        let sshd = Sshd { child, port, dir };
        for (user, lines) in &options.authorized_keys {
            sshd.set_authorized_keys(user, lines)?;
        }
        Ok(sshd)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temp dir holding the config, host key, authorized_keys and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The authorized_keys file sshd reads for `user`.
    pub fn authorized_keys_path(&self, user: &str) -> PathBuf {
        self.dir.path().join("authorized_keys").join(user)
    }

    /// Replaces `user`'s authorized_keys. sshd reads it on every connection: no restart.
    pub fn set_authorized_keys<L: AsRef<str>>(&self, user: &str, lines: &[L]) -> io::Result<()> {
        let mut text = String::new();
        for line in lines {
            let line = line.as_ref();
            if line.contains('\n') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an authorized_keys line contains a newline",
                ));
            }
            text.push_str(line);
            text.push('\n');
        }
        let path = self.authorized_keys_path(user);
        fs::write(&path, text)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
    }

    /// The `ssh_known_hosts` line for this server, for clients that check host keys.
    pub fn known_hosts_line(&self) -> io::Result<String> {
        let public = fs::read_to_string(self.dir.path().join("ssh_host_ed25519_key.pub"))?;
        let mut fields = public.split_whitespace();
        let (Some(kind), Some(key)) = (fields.next(), fields.next()) else {
            return Err(io::Error::other("unreadable host public key"));
        };
        Ok(format!("[127.0.0.1]:{} {kind} {key}", self.port))
    }

    /// Everything sshd logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Waits (bounded) until the log contains `needle`: the privsep child may log a
    /// rejection a moment after the client has already exited.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// sshd refuses to start without its privilege separation directory.
fn ensure_privsep_dir() -> io::Result<()> {
    let dir = Path::new("/run/sshd");
    if !dir.is_dir() {
        match fs::create_dir(dir) {
            Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot create /run/sshd (sshd needs it): {e}"),
                ))
            }
        }
    }
    Ok(())
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn config(dir: &Path, port: u16, host_key: &Path, options: &SshdOptions) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# Written by skset's openssh-harness: loopback only, sk keys only."
    );
    let _ = writeln!(c, "ListenAddress 127.0.0.1:{port}");
    let _ = writeln!(c, "AddressFamily inet");
    let _ = writeln!(c, "HostKey {}", host_key.display());
    let _ = writeln!(c, "PidFile none");
    let _ = writeln!(c, "AuthorizedKeysFile {}/authorized_keys/%u", dir.display());
    // The temp dir lives under /tmp (world-writable), which StrictModes would reject.
    let _ = writeln!(c, "StrictModes no");
    let _ = writeln!(c, "PubkeyAuthentication yes");
    let _ = writeln!(
        c,
        "PubkeyAcceptedAlgorithms {}",
        options.accepted_algorithms
    );
    let _ = writeln!(c, "PasswordAuthentication no");
    let _ = writeln!(c, "KbdInteractiveAuthentication no");
    let _ = writeln!(c, "HostbasedAuthentication no");
    let _ = writeln!(c, "GSSAPIAuthentication no");
    let _ = writeln!(c, "UsePAM no");
    let _ = writeln!(c, "PermitRootLogin prohibit-password");
    let _ = writeln!(c, "UseDNS no");
    let _ = writeln!(c, "PrintMotd no");
    let _ = writeln!(c, "PrintLastLog no");
    let _ = writeln!(c, "X11Forwarding no");
    let _ = writeln!(c, "AllowAgentForwarding no");
    let _ = writeln!(c, "AllowTcpForwarding no");
    let _ = writeln!(c, "PermitUserEnvironment no");
    let _ = writeln!(c, "LoginGraceTime 20");
    let _ = writeln!(c, "MaxAuthTries 6");
    let _ = writeln!(c, "LogLevel VERBOSE");
    for line in &options.extra_config {
        let _ = writeln!(c, "{line}");
    }
    c
}

fn spawn_and_wait(dir: &Path, port: u16, timeout: Duration) -> io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let log_path = dir.join("sshd.log");
    let log = fs::File::create(&log_path)?;
    let mut child = Command::new(crate::SSHD)
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .process_group(0)
        .spawn()?;
    let listening = format!("Server listening on 127.0.0.1 port {port}");
    let deadline = Instant::now() + timeout;
    loop {
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains(&listening) {
            return Ok(child);
        }
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "sshd exited ({status}) before listening:\n{log}"
            )));
        }
        if Instant::now() >= deadline {
            stop(&mut child);
            return Err(io::Error::other(format!(
                "sshd did not listen within {timeout:?}:\n{log}"
            )));
        }
        thread::sleep(Duration::from_millis(20));
    }
}
