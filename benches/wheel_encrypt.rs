//! How long our encryption of a wheel key file takes at 24 bcrypt rounds, next to
//! `ssh-keygen -p -a 24` encrypting a copy of the same file. Printed, not asserted.
//!
//! Run: cargo bench --bench wheel_encrypt
//! ssh-keygen's time includes starting a process and reading the unencrypted file; its
//! bcrypt-pbkdf dominates at 24 rounds, which the numbers below make visible.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use skset::openssh::private_key::{render_private_key, Passphrase, Protection, DEFAULT_KDF_ROUNDS};
use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use zeroize::Zeroizing;

const RUNS: usize = 15;

fn wheel_credential() -> SkCredential {
    let mut public_key = vec![0u8; 32];
    let mut key_handle = vec![0u8; 96];
    ssh_key::getrandom::fill(&mut public_key).expect("OS random");
    ssh_key::getrandom::fill(&mut key_handle).expect("OS random");
    SkCredential {
        algorithm: SkAlgorithm::Ed25519,
        public_key,
        application: "ssh:wheel".into(),
        flags: 0x00,
        key_handle,
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let credential = wheel_credential();
    let pass = Passphrase::new(Zeroizing::new("benchmark passphrase".to_owned()));
    let protection = Protection::Passphrase {
        passphrase: &pass,
        kdf_rounds: DEFAULT_KDF_ROUNDS,
    };

    let dir = tempfile::tempdir().expect("temp dir");
    let plain = render_private_key(&credential, "wheel", Protection::Unencrypted).expect("render");
    // Alternate the two so that load from other processes on the machine hits both alike.
    let mut ours = Vec::with_capacity(RUNS);
    let mut theirs = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let started = Instant::now();
        let file = render_private_key(&credential, "wheel", protection).expect("render");
        ours.push(started.elapsed());
        assert!(file.contains("OPENSSH PRIVATE KEY"));

        let path = dir.path().join(format!("wheel-{i}"));
        skset::fsio::write_new(&path, plain.as_bytes(), skset::fsio::MODE_PRIVATE).expect("write");
        let started = Instant::now();
        let status = Command::new("ssh-keygen")
            .args([
                "-q",
                "-p",
                "-P",
                "",
                "-N",
                "benchmark passphrase",
                "-a",
                "24",
                "-f",
            ])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("ssh-keygen is installed");
        theirs.push(started.elapsed());
        assert!(status.success(), "ssh-keygen -p failed");
    }

    // The process start alone, to show how much of ssh-keygen's time is not bcrypt.
    let startup: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let _ = Command::new("ssh-keygen")
                .arg("-?")
                .stderr(Stdio::null())
                .status();
            started.elapsed()
        })
        .collect();

    let (ours, theirs, startup) = (median(ours), median(theirs), median(startup));
    println!("wheel key file, aes256-ctr + bcrypt-pbkdf at 24 rounds, median of {RUNS} runs:");
    println!(
        "  skset render_private_key      {:>8.1} ms",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  ssh-keygen -p -a 24 (process) {:>8.1} ms",
        theirs.as_secs_f64() * 1e3
    );
    println!(
        "  ssh-keygen process start      {:>8.1} ms",
        startup.as_secs_f64() * 1e3
    );
    println!(
        "  ratio ours / ssh-keygen       {:>8.2}",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}
