//! `skset audit` on a 100,000-line authorized_keys dump, next to `ssh-keygen -l -f` on the
//! same file in the same run. Printed, not asserted: the ratio and skset's peak memory.
//!
//! Run: cargo bench --bench audit_fleet        (LINES=N to change the size)
//!
//! The dump mixes what a fleet has: Ed25519, RSA 3072, ECDSA P-256 and sk keys (the
//! policy's modes, some for the wrong account), a third with options (from=, command=
//! with quotes, restrict, no-touch-required), comments, blank lines. Every key is distinct,
//! so skset reports no duplicates. Generation stays fast (a second or two): Ed25519 and sk
//! keys are random 32-byte keys (their encodings take any 32 bytes), ECDSA keys real P-256
//! points, and RSA keys one ssh-keygen modulus, made once, with varied low bytes: a
//! structurally valid key (ssh-keygen checks the size, not the primes), so parsing and
//! fingerprinting cost what they cost for any RSA 3072 key.
//!
//! skset audits the file as the admin account's (`FILE:admin`), so every file-based key is
//! a finding it formats and prints: the comparison is skset doing more work per line
//! (parse options, decode blob, per-mode checks, duplicate table, a report line per finding)
//! against ssh-keygen printing a fingerprint per key. Both write to /dev/null.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ssh_key::encoding::base64::{Base64, Encoding};

const RUNS: usize = 5;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn b64(blob: &[u8]) -> String {
    Base64::encode_string(blob)
}

/// A real RSA 3072 public key from ssh-keygen: (e, n).
fn rsa_template(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let path = dir.join("rsa");
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "3072", "-N", "", "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "ssh-keygen -t rsa failed (is OpenSSH installed?)");
    let line = std::fs::read_to_string(dir.join("rsa.pub")).unwrap();
    let key = ssh_key::PublicKey::from_openssh(&line).unwrap();
    let rsa = key.key_data().rsa().unwrap();
    (
        rsa.e().as_positive_bytes().unwrap().to_vec(),
        rsa.n().as_positive_bytes().unwrap().to_vec(),
    )
}

fn generate(lines: usize, dir: &Path) -> (std::path::PathBuf, [usize; 4]) {
    let mut rng = Rng(0x000f_f1ce);
    let (e, n) = rsa_template(dir);
    let mut out = String::with_capacity(lines * 300);
    let mut counts = [0usize; 4];
    for i in 0..lines {
        if i % 50 == 49 {
            out.push_str("# ---- team change ----\n\n");
        }
        let comment = format!("user{}@host{}", i, i % 997);
        let kind = (rng.next() % 4) as usize;
        counts[kind] += 1;
        let (ty, blob) = match kind {
            0 => {
                let mut b = Vec::new();
                string(&mut b, b"ssh-ed25519");
                string(&mut b, &rng.bytes(32));
                ("ssh-ed25519", b)
            }
            1 => {
                let mut modulus = n.clone();
                let len = modulus.len();
                modulus[len - 8..].copy_from_slice(&(i as u64).to_be_bytes());
                modulus[len - 1] |= 1;
                let mut b = Vec::new();
                string(&mut b, b"ssh-rsa");
                // mpints: a leading zero when the top bit is set.
                let mpint = |v: &[u8]| {
                    if v[0] & 0x80 != 0 {
                        [&[0u8][..], v].concat()
                    } else {
                        v.to_vec()
                    }
                };
                string(&mut b, &mpint(&e));
                string(&mut b, &mpint(&modulus));
                ("ssh-rsa", b)
            }
            2 => {
                let point = loop {
                    if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&rng.bytes(32)) {
                        break k.verifying_key().to_sec1_point(false).as_bytes().to_vec();
                    }
                };
                let mut b = Vec::new();
                string(&mut b, b"ecdsa-sha2-nistp256");
                string(&mut b, b"nistp256");
                string(&mut b, &point);
                ("ecdsa-sha2-nistp256", b)
            }
            _ => {
                let app = ["ssh:sudo", "ssh:sudo", "ssh:robo", "ssh:"][(rng.next() % 4) as usize];
                let mut b = Vec::new();
                string(&mut b, b"sk-ssh-ed25519@openssh.com");
                string(&mut b, &rng.bytes(32));
                string(&mut b, app.as_bytes());
                ("sk-ssh-ed25519@openssh.com", b)
            }
        };
        let options = match rng.next() % 6 {
            0 => "from=\"10.0.0.0/8,192.168.1.*\",no-agent-forwarding ",
            1 => "restrict,command=\"/usr/bin/rsync --server -e.LsfxC \\\"x\\\" . /srv\" ",
            2 if kind == 3 => "no-touch-required,restrict,from=\"10.0.0.0/8\",command=\"/usr/local/bin/backup-shell\" ",
            _ => "",
        };
        out.push_str(options);
        out.push_str(ty);
        out.push(' ');
        out.push_str(&b64(&blob));
        out.push(' ');
        out.push_str(&comment);
        out.push('\n');
    }
    let path = dir.join("authorized_keys");
    std::fs::write(&path, out).unwrap();
    (path, counts)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn run(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run");
    let elapsed = started.elapsed();
    assert!(status.code().is_some(), "killed by a signal");
    elapsed
}

/// Peak RSS in KiB of one run, from GNU time.
fn peak_kib(program: &str, args: &[&str]) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let lines: usize = std::env::var("LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (file, counts) = generate(lines, dir.path());
    let size = std::fs::metadata(&file).unwrap().len();
    println!("generated {lines} keys ({} Ed25519, {} RSA 3072, {} ECDSA P-256, {} sk-ed25519; {:.1} MB) in {:.2} s", counts[0], counts[1], counts[2], counts[3], size as f64 / 1e6, started.elapsed().as_secs_f64());

    let skset = env!("CARGO_BIN_EXE_skset");
    let target = format!("{}:admin", file.display());
    let skset_args = [
        "audit",
        "--authorized-keys",
        target.as_str(),
        "--fail-on",
        "info",
    ];
    let file_arg = file.to_str().unwrap();

    // Sanity: both read every key.
    let keygen = Command::new("ssh-keygen")
        .args(["-l", "-f", file_arg])
        .output()
        .expect("ssh-keygen");
    let keygen_lines = String::from_utf8_lossy(&keygen.stdout).lines().count();
    let audit = Command::new(skset)
        .args(skset_args)
        .args(["--json"])
        .output()
        .expect("skset");
    let doc: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("skset JSON");
    println!(
        "ssh-keygen -l printed {keygen_lines} fingerprints; skset read {} keys on {} lines, {} findings",
        doc["summary"]["authorized_keys_entries"], doc["summary"]["lines"], doc["findings"].as_array().map(|f| f.len()).unwrap_or(0)
    );

    // Alternate the two so load from elsewhere on the machine hits both alike.
    let mut ours = Vec::with_capacity(RUNS);
    let mut theirs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        ours.push(run(Command::new(skset).args(skset_args)));
        theirs.push(run(Command::new("ssh-keygen").args(["-l", "-f", file_arg])));
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!("median of {RUNS} runs on {lines} lines:");
    println!(
        "  skset audit           {:>8.1} ms",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  ssh-keygen -l -f      {:>8.1} ms",
        theirs.as_secs_f64() * 1e3
    );
    println!(
        "  ratio ssh-keygen / skset {:>5.2}x (target: >= 2x)",
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
    match (
        peak_kib(skset, &skset_args),
        peak_kib("ssh-keygen", &["-l", "-f", file_arg]),
    ) {
        (Some(a), Some(b)) => println!(
            "  peak RSS: skset {:.1} MiB, ssh-keygen {:.1} MiB (file {:.1} MiB)",
            a as f64 / 1024.0,
            b as f64 / 1024.0,
            size as f64 / 1048576.0
        ),
        _ => println!("  peak RSS: /usr/bin/time unavailable"),
    }
}
