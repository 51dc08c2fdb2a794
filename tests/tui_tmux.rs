//! The wizard end to end, as a person uses it: the real binary in a real terminal (tmux,
//! 100x30), keys typed with `send-keys`, the screen read with `capture-pane`, against the
//! virtual key started in this process (`--device PATH`). The files it leaves are judged
//! by `ssh-keygen -y`. Every wait is bounded; without tmux or /dev/fuse the tests print
//! a SKIPPED line and pass.

mod support;

use skset::device::Authenticator;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::{pin, virtual_key, TEST_PIN};
use virtual_key::Touch;

const PASSPHRASE: &str = "correct horse battery staple";
/// Generous for a loaded CI machine; a step normally takes well under a second.
const STEP: Duration = Duration::from_secs(45);

/// A private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!(
                "SKIPPED: tmux is not installed, so the wizard cannot be driven in a real terminal"
            );
        }
        ok
    }

    fn start(command: &str) -> Tmux {
        let socket = format!("skset-tui-test-{}-{}", std::process::id(), rand_suffix());
        let tmux = Tmux { socket };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-s",
            "wizard",
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "wizard"]).stdout)
            .into_owned()
    }

    /// The whole history, wrapped lines joined (for what is printed after the wizard).
    fn history(&self) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "wizard"])
                .stdout,
        )
        .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            assert!(self
                .run(&["send-keys", "-t", "wizard", key])
                .status
                .success());
        }
    }

    fn text(&self, text: &str) {
        assert!(self
            .run(&["send-keys", "-t", "wizard", "-l", text])
            .status
            .success());
    }

    /// Waits (bounded) until the screen shows `needle`; fails with the last screen.
    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            if start.elapsed() > STEP {
                panic!("waited {STEP:?} for {needle:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for_history(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.history();
            if text.contains(needle) {
                return text;
            }
            if start.elapsed() > STEP {
                panic!("waited {STEP:?} for {needle:?}; the terminal shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

fn wizard_command(home: &Path, device: &str, out: &Path) -> String {
    // NO_COLOR keeps the screen plain; the exit status is printed so the test can see it.
    format!(
        "env HOME={} NO_COLOR=1 {} --device {} --out {}; echo SKSET-EXIT=$?; sleep 120",
        home.display(),
        env!("CARGO_BIN_EXE_skset"),
        device,
        out.display()
    )
}

/// `ssh-keygen -y` must read each private key and give the public key of its .pub file.
fn check_files(out: &Path) {
    for mode in ["root", "sudo", "wheel", "robo"] {
        let private = out.join(format!("id_{mode}"));
        let mut args: Vec<String> = vec!["-y".into()];
        if mode == "wheel" {
            args.extend(["-P".into(), PASSPHRASE.into()]);
        }
        args.extend(["-f".into(), private.display().to_string()]);
        let derived = Command::new("ssh-keygen")
            .args(&args)
            .output()
            .expect("run ssh-keygen");
        assert!(
            derived.status.success(),
            "ssh-keygen -y {mode}: {}",
            String::from_utf8_lossy(&derived.stderr)
        );
        let derived = String::from_utf8_lossy(&derived.stdout);
        let public = std::fs::read_to_string(out.join(format!("id_{mode}.pub"))).unwrap();
        let key = |line: &str| {
            line.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            key(&derived),
            key(&public),
            "{mode}: the private key and the .pub differ"
        );
        assert!(
            public.starts_with("sk-ssh-ed25519@openssh.com "),
            "{mode}: {public}"
        );
    }
}

struct Setup {
    _dirs: tempfile::TempDir,
    home: PathBuf,
    out: PathBuf,
}

fn setup() -> Setup {
    let dirs = tempfile::tempdir().unwrap();
    let home = dirs.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = dirs.path().join("keys");
    Setup {
        home,
        out,
        _dirs: dirs,
    }
}

#[test]
fn a_first_time_user_enrolls_the_four_modes_at_a_terminal() {
    if !Tmux::available() {
        return;
    }
    let Some(vk) = virtual_key() else { return };
    let s = setup();
    let tmux = Tmux::start(&wizard_command(&s.home, &vk.path(), &s.out));

    tmux.wait_for("Enroll a new key");
    tmux.keys(&["Enter"]);
    // --device skips the picker: straight to what the key can do.
    tmux.wait_for("Pre-flight: what the key can do");
    tmux.wait_for("the next step sets one");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Set a PIN");
    tmux.text(TEST_PIN);
    tmux.keys(&["Enter"]);
    tmux.text(TEST_PIN);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Choose the policy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Review the plan");
    tmux.wait_for("pre-flight: all");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Passphrase for the key file");
    tmux.text(PASSPHRASE);
    tmux.keys(&["Enter"]);
    tmux.text(PASSPHRASE);
    tmux.keys(&["Enter"]);
    let done = tmux.wait_for("4 key(s) enrolled");
    assert!(done.contains("✓ root") && done.contains("✓ robo"), "{done}");
    tmux.keys(&["q"]);
    let history = tmux.wait_for_history("SKSET-EXIT=0");

    // What the wizard printed on the real stdout after restoring the terminal.
    assert!(
        history.contains("verify-required sk-ssh-ed25519@openssh.com AAAA"),
        "{history}"
    );
    assert!(
        history.contains("restrict,no-touch-required,from="),
        "{history}"
    );
    assert!(
        history.contains(&format!("skset enroll --device {} --label", vk.path())),
        "{history}"
    );
    check_files(&s.out);
}

#[test]
fn a_wrong_pin_and_a_refused_touch_are_recoverable_on_screen() {
    if !Tmux::available() {
        return;
    }
    let Some(vk) = virtual_key() else { return };
    vk.open().set_pin(&pin(TEST_PIN)).unwrap();
    let s = setup();
    let tmux = Tmux::start(&wizard_command(&s.home, &vk.path(), &s.out));

    tmux.wait_for("Enroll a new key");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Pre-flight: what the key can do");
    tmux.keys(&["Enter"]);
    tmux.wait_for("tries left before the PIN blocks");
    tmux.text("000000");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("wrong PIN:");
    assert!(
        screen.contains("tries left before the PIN blocks"),
        "{screen}"
    );
    tmux.text(TEST_PIN);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Choose the policy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("pre-flight: all");

    // The user refuses the touch for root: a clear failure, and r tries again.
    vk.key.set_touch(Touch::Deny);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the touch was refused");
    let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("Press r to try root again"), "{screen}");
    assert!(screen.contains("r try again"), "{screen}");
    vk.key.set_touch(Touch::Accept);
    tmux.keys(&["r"]);
    tmux.wait_for("Passphrase for the key file");
    tmux.text(PASSPHRASE);
    tmux.keys(&["Enter"]);
    tmux.text(PASSPHRASE);
    tmux.keys(&["Enter"]);
    tmux.wait_for("4 key(s) enrolled");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Enroll a new key");
    tmux.keys(&["q"]);
    tmux.wait_for_history("SKSET-EXIT=0");
    check_files(&s.out);
}

/// Ctrl-C (a key in raw mode) leaves at once when nothing was made, and the terminal is
/// back: alternate screen off, cursor shown. Resizing redraws at the new size.
#[test]
fn ctrl_c_and_resizing_leave_the_terminal_usable() {
    if !Tmux::available() {
        return;
    }
    let s = setup();
    let tmux = Tmux::start(&wizard_command(&s.home, "/nonexistent/hidraw0", &s.out));
    tmux.wait_for("Enroll a new key");
    let flag = |name: &str| {
        String::from_utf8_lossy(
            &tmux
                .run(&["display-message", "-p", "-t", "wizard", name])
                .stdout,
        )
        .trim()
        .to_string()
    };
    assert_eq!(
        flag("#{alternate_on}"),
        "1",
        "the wizard draws on the alternate screen"
    );

    tmux.run(&["resize-window", "-t", "wizard", "-x", "50", "-y", "12"]);
    tmux.wait_for("needs a terminal of at least 60x16");
    tmux.run(&["resize-window", "-t", "wizard", "-x", "80", "-y", "24"]);
    tmux.wait_for("Enroll a new key");

    // A device that is not there: the error names the path and the fix.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("cannot open the security key");
    assert!(screen.contains("/nonexistent/hidraw0"), "{screen}");

    tmux.keys(&["C-c"]);
    tmux.wait_for_history("SKSET-EXIT=0");
    assert_eq!(flag("#{alternate_on}"), "0", "the alternate screen is left");
    assert_eq!(flag("#{cursor_flag}"), "1", "the cursor is shown again");
}

#[test]
fn without_a_terminal_skset_prints_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_skset"))
        .output()
        .expect("run skset");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: skset [OPTIONS] [COMMAND]"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no terminal control sequences without a terminal"
    );
}

/// Home → Audit at a terminal: the default ~/.ssh audited on the worker, findings in the
/// table with the selected one's details, an unreadable directory as a recoverable error.
#[test]
fn an_audit_of_a_broken_ssh_dir_shows_its_findings_at_a_terminal() {
    if !Tmux::available() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let s = setup();
    let ssh = s.home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(ssh.join("config"), "Host *\n    ForwardAgent yes\n").unwrap();
    std::fs::write(
        ssh.join("authorized_keys"),
        "ssh-ed25519 AAAAnotbase64 truncated\n",
    )
    .unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o777)).unwrap();
    // The device is never opened: the audit reads files only.
    let tmux = Tmux::start(&wizard_command(&s.home, "/nonexistent/hidraw0", &s.out));

    tmux.wait_for("Enroll a new key");
    tmux.keys(&["3"]);
    // The last line drawn: the form is on screen whole.
    tmux.wait_for("same as: skset audit --ssh-dir ~/.ssh");
    tmux.keys(&["Enter"]);
    tmux.wait_for("finding(s)");
    let screen = tmux.wait_for("why: ");
    assert!(screen.contains("✗ FAIL at error"), "{screen}");
    assert!(screen.contains("AU007 ssh-dir-permissions"), "{screen}");
    assert!(
        screen.contains("AU030 line-unparseable") && screen.contains("~/.ssh/authorized_keys:1"),
        "{screen}"
    );
    assert!(
        screen.contains("AU051 forward-agent-exposes-agent"),
        "{screen}"
    );
    // Errors first: the directory's permissions are selected, with their fix and why.
    assert!(screen.contains("fix: chmod 700"), "{screen}");
    assert!(
        screen.contains("why: Whoever can write the directory"),
        "{screen}"
    );

    // The next finding's details follow the selection.
    tmux.keys(&["Down"]);
    tmux.wait_for("fix: correct or remove line 1");

    // An unreadable directory: the message, and Esc back to the form.
    tmux.keys(&["Escape"]);
    tmux.wait_for("same as: skset audit --ssh-dir ~/.ssh");
    tmux.keys(&["Down", "C-u"]);
    tmux.text("/nonexistent/.ssh");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Audit: could not run");
    let screen = tmux.wait_for("Esc goes back to the form");
    assert!(screen.contains("cannot read /nonexistent/.ssh"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("same as: skset audit --ssh-dir /nonexistent/.ssh");
    tmux.keys(&["Escape"]);
    tmux.wait_for("Enroll a new key");
    tmux.keys(&["q"]);
    tmux.wait_for_history("SKSET-EXIT=0");
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn sigterm_leaves_the_terminal_usable() {
    if !Tmux::available() {
        return;
    }
    let s = setup();
    let tmux = Tmux::start(&wizard_command(&s.home, "/nonexistent/hidraw0", &s.out));
    tmux.wait_for("Enroll a new key");
    let flag = |name: &str| {
        String::from_utf8_lossy(
            &tmux
                .run(&["display-message", "-p", "-t", "wizard", name])
                .stdout,
        )
        .trim()
        .to_string()
    };
    assert_eq!(flag("#{alternate_on}"), "1");
    let shell = flag("#{pane_pid}");
    let child = Command::new("pgrep")
        .args(["-P", &shell, "-f", "skset"])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&child.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(!pid.is_empty(), "found the wizard's process");
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    tmux.wait_for_history("SKSET-EXIT=0");
    assert_eq!(flag("#{alternate_on}"), "0", "the alternate screen is left");
    assert_eq!(flag("#{cursor_flag}"), "1", "the cursor is shown again");
}
