//! The harness itself against real OpenSSH, without a security key: sshd starts on
//! loopback, a plain key logs in when sshd is told to accept it, and the default sk-only
//! sshd refuses that same key.

use openssh_harness::{
    authorized_line, remote_marker, skip_reason, Client, Provider, Sshd, SshdOptions, SK_ALGORITHMS,
};
use std::time::{Duration, Instant};

fn skipped() -> bool {
    // This tier needs sshd and root, not FUSE; reuse the common checks anyway.
    if let Some(reason) = skip_reason() {
        println!("SKIPPED: {reason}");
        return true;
    }
    false
}

fn plain_key(client: &Client) -> std::path::PathBuf {
    let key = client.workdir().join("id_plain");
    let out = client
        .keygen(
            &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
            b"",
        )
        .unwrap();
    assert!(out.success(), "{out}");
    key
}

#[test]
fn sshd_starts_and_enforces_its_algorithm_list() {
    if skipped() {
        return;
    }
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    // No security key involved: the provider is never loaded for a plain key.
    let client = Client::new(
        work.path(),
        Provider::new("/nonexistent.so", "/nonexistent"),
    )
    .unwrap();
    let key = plain_key(&client);
    let line = authorized_line("", &key.with_extension("pub")).unwrap();
    let (command, marker) = remote_marker("plain");

    let open = Sshd::start_with_options(SshdOptions {
        authorized_keys: vec![("root".into(), vec![line.clone()])],
        accepted_algorithms: format!("ssh-ed25519,{SK_ALGORITHMS}"),
        ..SshdOptions::default()
    })
    .unwrap();
    let out = client.login(&open, "root", &key, &command).unwrap();
    assert!(
        out.success() && out.stdout.contains(&format!("{marker}root")),
        "{out}\n--- sshd ---\n{}",
        open.log()
    );

    let sk_only = Sshd::start_with(&[("root", &[line][..])]).unwrap();
    let out = client.login(&sk_only, "root", &key, &command).unwrap();
    assert!(!out.success() && !out.stdout.contains(&marker), "{out}");
    assert!(
        out.stderr.contains("Permission denied (publickey)"),
        "{out}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn sshd_stops_on_drop() {
    openssh_harness::skip_unless_ready!();
    let port = {
        let sshd = Sshd::start().unwrap();
        assert!(std::net::TcpStream::connect(("127.0.0.1", sshd.port())).is_ok());
        sshd.port()
    };
    // Dropped: the listener is gone (nothing else should grab the port this fast).
    assert!(std::net::TcpStream::connect_timeout(
        &([127, 0, 0, 1], port).into(),
        Duration::from_secs(1)
    )
    .is_err());
}
