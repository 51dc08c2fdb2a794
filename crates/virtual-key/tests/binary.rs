//! The `skset-virtual-key` binary: prints the device path, serves with stdin
//! closed, unmounts on SIGTERM and SIGINT.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{within, CALL_DEADLINE};

const BINARY: &str = env!("CARGO_BIN_EXE_skset-virtual-key");

/// Kills the child if the test fails half-way, so no process is left behind.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn serve(dir: &std::path::Path, extra: &[&str]) -> (Running, String) {
    let mut child = Command::new(BINARY)
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start skset-virtual-key");
    let stdout = child.stdout.take().expect("piped stdout");
    let running = Running(Some(child));
    let (line, _) = within(CALL_DEADLINE, "the device path on stdout", move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    (running, line.expect("read stdout").trim_end().to_owned())
}

fn stop(mut running: Running, signal: &str) -> std::process::ExitStatus {
    let mut child = running.0.take().expect("running");
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("skset-virtual-key did not exit within 10 s of SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serves_until_a_signal_then_unmounts() {
    if let Some(reason) = common::skip_reason() {
        println!("skipped: binary: {reason}");
        return;
    }
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (running, printed) = serve(dir.path(), &["--touch", "deny", "--watchdog-secs", "3"]);
        let canonical = dir.path().canonicalize().expect("canonical dir");
        assert_eq!(printed, canonical.join("hidraw0").display().to_string());

        let control = std::fs::read_to_string(canonical.join("control")).expect("read control");
        assert!(
            control.starts_with("touch deny\ntouch-delay-ms 0\nstall off\nwatchdog-ms 3000\n"),
            "{control}"
        );

        // ctap-hid-fido2 opens the printed path.
        let device = ctap_hid_fido2::FidoKeyHidFactory::create_by_params(
            &[ctap_hid_fido2::HidParam::Path(printed.clone())],
            &common::cfg(),
        )
        .expect("open the printed path");
        let (info, _) = within(CALL_DEADLINE, "getInfo", move || device.get_info().is_ok());
        assert!(info);

        let status = stop(running, signal);
        assert!(status.success(), "SIG{signal}: {status}");
        assert!(
            !canonical.join("hidraw0").exists(),
            "unmounted after SIG{signal}"
        );
        assert!(!common::is_mounted(&canonical));
    }
}

#[test]
fn usage_errors_and_help() {
    let help = Command::new(BINARY)
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "--dir DIR",
        "fusermount3",
        "root",
        "echo 'touch deny' > DIR/control",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}");
    }
    let bad = Command::new(BINARY)
        .arg("--touch")
        .arg("maybe")
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
    let missing = Command::new(BINARY)
        .args(["--dir", "/nonexistent/virtual-key-dir"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("mkdir -p"));
}
