//! The OpenSSH client tools, pointed at a SecurityKeyProvider and answered by an askpass.

use crate::process::{run, stop, Output};
use crate::sshd::Sshd;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The SecurityKeyProvider library and the device it should open. Every client process
/// gets `SKSET_SK_DEVICE` (the provider reads it in `ssh-sk-helper`, which inherits the
/// environment of ssh, ssh-keygen or ssh-agent).
#[derive(Debug, Clone)]
pub struct Provider {
    pub library: PathBuf,
    pub device: PathBuf,
}

impl Provider {
    pub fn new(library: impl Into<PathBuf>, device: impl Into<PathBuf>) -> Provider {
        Provider {
            library: library.into(),
            device: device.into(),
        }
    }

    /// Sets the environment the provider reads. `SKSET_SK_DEBUG` passes through, so
    /// `SKSET_SK_DEBUG=1 cargo test` shows the provider's reasoning in failure output.
    pub fn apply(&self, command: &mut Command) {
        command.env("SKSET_SK_DEVICE", &self.device);
        if let Some(debug) = std::env::var_os("SKSET_SK_DEBUG") {
            command.env("SKSET_SK_DEBUG", debug);
        }
    }
}

/// An `SSH_ASKPASS` program that answers from files and logs every prompt.
///
/// OpenSSH asks through it for PINs ("Enter PIN for authenticator:", "Enter PIN for
/// ED25519-SK key ...:") and passphrases, and notifies through it ("Confirm user presence
/// for key ..."). Answers: prompts containing "PIN" get the PIN file, others the passphrase
/// file; no file means the askpass fails (OpenSSH treats that as no answer). Each prompt is
/// logged as `<kind>: <text>`, kind being `ask`, `none` (a notification) or `confirm`.
#[derive(Debug, Clone)]
pub struct Askpass {
    dir: PathBuf,
}

impl Askpass {
    /// Writes the script into `dir` (created if needed).
    pub fn new(dir: &Path) -> io::Result<Askpass> {
        fs::create_dir_all(dir)?;
        let dir_text = dir.to_str().filter(|d| !d.contains('\'')).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "askpass directory must be UTF-8 without single quotes",
            )
        })?;
        let script = format!(
            r#"#!/bin/sh
# skset openssh-harness askpass: logs the prompt and answers it from a file.
dir='{dir_text}'
kind="${{SSH_ASKPASS_PROMPT:-ask}}"
printf '%s: %s\n' "$kind" "$1" >> "$dir/prompts.log"
case "$kind" in
  none) exit 0 ;;
  confirm) [ -f "$dir/confirm" ] && exit 0; exit 1 ;;
esac
case "$1" in
  *PIN*)
    # Queued PINs first (one per prompt), then the standing answer.
    if [ -s "$dir/pin-queue" ]; then
      head -n 1 "$dir/pin-queue"
      tail -n +2 "$dir/pin-queue" > "$dir/pin-queue.next" && mv "$dir/pin-queue.next" "$dir/pin-queue"
      exit 0
    fi
    answer="$dir/pin" ;;
  *) answer="$dir/passphrase" ;;
esac
[ -f "$answer" ] || exit 1
cat "$answer"
"#
        );
        let path = dir.join("askpass.sh");
        fs::write(&path, script)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700))?;
        Ok(Askpass {
            dir: dir.to_path_buf(),
        })
    }

    pub fn script(&self) -> PathBuf {
        self.dir.join("askpass.sh")
    }

    /// The PIN to answer with; None makes PIN prompts fail.
    pub fn set_pin(&self, pin: Option<&str>) -> io::Result<()> {
        self.set_answer("pin", pin)
    }

    /// PINs to give, one per PIN prompt, before falling back to [`Askpass::set_pin`]'s
    /// (e.g. a wrong PIN first, to see OpenSSH retry).
    pub fn queue_pins(&self, pins: &[&str]) -> io::Result<()> {
        let text: String = pins.iter().map(|p| format!("{p}\n")).collect();
        self.set_answer("pin-queue", Some(&text))
    }

    /// The passphrase to answer with; None makes passphrase prompts fail.
    pub fn set_passphrase(&self, passphrase: Option<&str>) -> io::Result<()> {
        self.set_answer("passphrase", passphrase)
    }

    /// Whether `ssh-agent` confirmations (`ssh-add -c`) are approved.
    pub fn set_confirm(&self, approve: bool) -> io::Result<()> {
        self.set_answer("confirm", approve.then_some("yes"))
    }

    fn set_answer(&self, name: &str, value: Option<&str>) -> io::Result<()> {
        let path = self.dir.join(name);
        match value {
            Some(v) => {
                fs::write(&path, v)?;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            }
            None => match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Every prompt so far, oldest first.
    pub fn prompts(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("prompts.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Forgets the prompt log (to look at one command's prompts only).
    pub fn clear_prompts(&self) -> io::Result<()> {
        match fs::remove_file(self.dir.join("prompts.log")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Makes OpenSSH use this askpass for every prompt, tty or not.
    pub fn apply(&self, command: &mut Command) {
        command
            .env("SSH_ASKPASS", self.script())
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0");
    }
}

/// How to run `ssh`.
#[derive(Debug, Clone)]
pub struct SshOptions {
    pub user: String,
    /// `IdentityFile` (a private key, or a `.pub` to pick one of the agent's keys).
    pub identity: Option<PathBuf>,
    /// `IdentityAgent`: None means `none` (no agent).
    pub agent: Option<PathBuf>,
    /// Pass `SecurityKeyProvider=<library>`. Off for agent logins, so only the agent can sign.
    pub use_provider: bool,
    /// The remote command.
    pub command: String,
    /// More `-o` options (`Key=Value`).
    pub extra: Vec<String>,
}

impl SshOptions {
    /// Log in as `user` with the key file `identity` through the provider and run `command`.
    pub fn key(user: &str, identity: &Path, command: &str) -> SshOptions {
        SshOptions {
            user: user.into(),
            identity: Some(identity.to_path_buf()),
            agent: None,
            use_provider: true,
            command: command.into(),
            extra: Vec::new(),
        }
    }

    /// Log in as `user` with the agent's key whose public half is `public_key` (a `.pub`
    /// file). ssh gets only that public half, and no provider: only the agent can sign.
    pub fn agent(user: &str, agent: &Agent, public_key: &Path, command: &str) -> SshOptions {
        SshOptions {
            user: user.into(),
            identity: Some(public_key.to_path_buf()),
            agent: Some(agent.socket().to_path_buf()),
            use_provider: false,
            command: command.into(),
            extra: Vec::new(),
        }
    }
}

/// Runs the OpenSSH client tools in a working directory with one provider and one askpass.
#[derive(Debug, Clone)]
pub struct Client {
    provider: Provider,
    askpass: Askpass,
    workdir: PathBuf,
    /// Deadline for each command.
    pub timeout: Duration,
}

impl Client {
    /// `workdir` is where keys are written and `ssh-keygen -K` downloads to; the askpass
    /// lives in `workdir/askpass/`.
    pub fn new(workdir: &Path, provider: Provider) -> io::Result<Client> {
        fs::create_dir_all(workdir)?;
        let askpass = Askpass::new(&workdir.join("askpass"))?;
        Ok(Client {
            provider,
            askpass,
            workdir: workdir.to_path_buf(),
            timeout: crate::COMMAND_TIMEOUT,
        })
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    pub fn askpass(&self) -> &Askpass {
        &self.askpass
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// `program` with a clean environment (nothing from the caller's agent, askpass or
    /// provider settings leaks in), the provider's and askpass's variables, cwd = workdir.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.workdir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .env("HOME", &self.workdir);
        self.provider.apply(&mut command);
        self.askpass.apply(&mut command);
        command
    }

    /// `ssh-keygen ARGS` as is, with `stdin` (e.g. `b"y\n"` for "Overwrite key in token?").
    pub fn keygen(&self, args: &[&str], stdin: &[u8]) -> io::Result<Output> {
        run(
            self.command(crate::SSH_KEYGEN).args(args),
            stdin,
            self.timeout,
        )
    }

    /// `ssh-keygen -t KEY_TYPE -w PROVIDER -N "" -f FILE [-O OPTION]...`: an unencrypted key
    /// file (the secret stays on the authenticator). Answers "n" if asked to overwrite.
    pub fn enroll(&self, key_type: &str, file: &Path, options: &[&str]) -> io::Result<Output> {
        let mut command = self.command(crate::SSH_KEYGEN);
        command
            .args(["-t", key_type, "-w"])
            .arg(&self.provider.library)
            .args(["-N", "", "-C", "skset-test", "-f"])
            .arg(file);
        for option in options {
            command.args(["-O", option]);
        }
        run(&mut command, b"n\n", self.timeout)
    }

    /// Runs `ssh` against `sshd` on loopback; BatchMode, no config file, pinned host key.
    pub fn ssh(&self, sshd: &Sshd, options: &SshOptions) -> io::Result<Output> {
        let known_hosts = self.workdir.join(format!("known_hosts-{}", sshd.port()));
        fs::write(&known_hosts, format!("{}\n", sshd.known_hosts_line()?))?;
        let mut command = self.command(crate::SSH);
        command.args([
            "-F",
            "/dev/null",
            "-T",
            "-p",
            &sshd.port().to_string(),
            "-l",
            &options.user,
        ]);
        // ssh takes the first value of an option, so a caller's BatchMode must come first.
        // Batch mode never asks for a key file's passphrase, even through a forced askpass.
        let batch = options
            .extra
            .iter()
            .find(|o| o.starts_with("BatchMode="))
            .cloned()
            .unwrap_or_else(|| "BatchMode=yes".into());
        let mut o = vec![
            batch,
            "ConnectTimeout=5".into(),
            "ConnectionAttempts=1".into(),
            "ServerAliveInterval=5".into(),
            "ServerAliveCountMax=2".into(),
            "StrictHostKeyChecking=yes".into(),
            format!("UserKnownHostsFile={}", known_hosts.display()),
            "GlobalKnownHostsFile=/dev/null".into(),
            "UpdateHostKeys=no".into(),
            "CheckHostIP=no".into(),
            "PreferredAuthentications=publickey".into(),
            "PasswordAuthentication=no".into(),
            "KbdInteractiveAuthentication=no".into(),
            "IdentitiesOnly=yes".into(),
            "ControlMaster=no".into(),
            "ControlPath=none".into(),
            "ForwardAgent=no".into(),
            "LogLevel=VERBOSE".into(),
        ];
        o.push(match &options.agent {
            Some(socket) => format!("IdentityAgent={}", socket.display()),
            None => "IdentityAgent=none".into(),
        });
        match (&options.identity, &options.agent) {
            (Some(identity), Some(_)) if identity.extension().is_some_and(|e| e == "pub") => {
                // Pick the agent's key by its public half, with no private file beside it:
                // ssh then cannot sign by itself, and does not try to parse the .pub as a
                // private key ("error in libcrypto").
                let alone = self.workdir.join(format!("agent-identity-{}", sshd.port()));
                fs::copy(identity, alone.with_extension("pub"))?;
                o.push(format!("IdentityFile={}", alone.display()));
            }
            (Some(identity), _) => o.push(format!("IdentityFile={}", identity.display())),
            (None, _) => o.push("IdentityFile=none".into()),
        }
        if options.use_provider {
            o.push(format!(
                "SecurityKeyProvider={}",
                self.provider.library.display()
            ));
        }
        o.extend(options.extra.iter().cloned());
        for option in &o {
            command.args(["-o", option]);
        }
        command.arg("127.0.0.1").arg(&options.command);
        run(&mut command, b"", self.timeout)
    }

    /// Log in as `user` with the key file through the provider and run `command`.
    pub fn login(
        &self,
        sshd: &Sshd,
        user: &str,
        key_file: &Path,
        command: &str,
    ) -> io::Result<Output> {
        self.ssh(sshd, &SshOptions::key(user, key_file, command))
    }

    /// `ssh-agent -D -a SOCK -P PROVIDER`, accepting this client's provider library.
    pub fn start_agent(&self) -> io::Result<Agent> {
        Agent::start(self)
    }

    /// `ssh-add ARGS` against `agent`, with `-S PROVIDER` already given.
    pub fn ssh_add(&self, agent: &Agent, args: &[&str]) -> io::Result<Output> {
        let mut command = self.command(crate::SSH_ADD);
        command
            .env("SSH_AUTH_SOCK", agent.socket())
            .arg("-S")
            .arg(&self.provider.library)
            .args(args);
        run(&mut command, b"", self.timeout)
    }
}

/// One-call login: `ssh -o SecurityKeyProvider=LIB -i key_file user@127.0.0.1 command`,
/// with `askpass` answering PIN prompts.
pub fn ssh_login(
    sshd: &Sshd,
    user: &str,
    key_file: &Path,
    provider: &Provider,
    askpass: &Askpass,
    command: &str,
) -> io::Result<Output> {
    let workdir = key_file.parent().unwrap_or(Path::new("/tmp"));
    let client = Client {
        provider: provider.clone(),
        askpass: askpass.clone(),
        workdir: workdir.to_path_buf(),
        timeout: crate::COMMAND_TIMEOUT,
    };
    client.login(sshd, user, key_file, command)
}

/// A running `ssh-agent -D`, stopped on drop.
pub struct Agent {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn start(client: &Client) -> io::Result<Agent> {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::Builder::new().prefix("skset-agent-").tempdir()?;
        let socket = dir.path().join("agent.sock");
        let log = fs::File::create(dir.path().join("agent.log"))?;
        let pattern = client
            .provider
            .library
            .to_str()
            .ok_or_else(|| io::Error::other("provider path is not UTF-8"))?;
        let mut child = client
            .command(crate::SSH_AGENT)
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .args(["-P", pattern])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !socket.exists() {
            if let Some(status) = child.try_wait()? {
                let log = fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
                return Err(io::Error::other(format!(
                    "ssh-agent exited ({status}):\n{log}"
                )));
            }
            if Instant::now() >= deadline {
                stop(&mut child);
                return Err(io::Error::other(
                    "ssh-agent did not create its socket within 5s",
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
        Ok(Agent {
            child,
            socket,
            _dir: dir,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// An authorized_keys line: `options` (may be empty) then the public key file's key type and
/// blob, and a comment.
pub fn authorized_line(options: &str, public_key_file: &Path) -> io::Result<String> {
    let public = fs::read_to_string(public_key_file)?;
    let mut fields = public.split_whitespace();
    let (Some(kind), Some(blob)) = (fields.next(), fields.next()) else {
        return Err(io::Error::other(format!(
            "{} is not a public key file",
            public_key_file.display()
        )));
    };
    Ok(if options.is_empty() {
        format!("{kind} {blob} test")
    } else {
        format!("{options} {kind} {blob} test")
    })
}

/// A remote command and the line it prints. The arithmetic and `id -un` run in the
/// server's shell, so seeing the line proves the command ran there.
pub fn remote_marker(tag: &str) -> (String, String) {
    (
        format!("echo skset-marker:{tag}:$((6*7)):$(id -un)"),
        format!("skset-marker:{tag}:42:"),
    )
}
