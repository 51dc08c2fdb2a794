//! skset's own share of a full four-mode enrollment's wall time, against the virtual key.
//! Device time (every Authenticator call, measured by a wrapper) and wheel's KDF (bcrypt at
//! the policy's rounds, measured on its own) are excluded; what remains is skset: policy,
//! pre-flight logic, rendering, file writes. Printed, not asserted.
//!
//! Run as root with /dev/fuse: cargo bench --bench enroll_share
//! For the encryption against `ssh-keygen -p` at the same rounds: cargo bench --bench wheel_encrypt

use skset::device::*;
use skset::enroll::{self, PreflightOptions, Secrets};
use skset::openssh::private_key::{render_private_key, Passphrase, Protection};
use skset::openssh::sk_key::{SkAlgorithm, SkCredential};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

const RUNS: usize = 10;

/// Adds up the time spent inside the device.
struct Timed<'a> {
    inner: &'a dyn Authenticator,
    spent: Mutex<Duration>,
}

impl Timed<'_> {
    fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = f();
        if let Ok(mut spent) = self.spent.lock() {
            *spent += start.elapsed();
        }
        result
    }
}

impl Authenticator for Timed<'_> {
    fn path(&self) -> &str {
        self.inner.path()
    }
    fn info(&self) -> Result<DeviceInfo, DeviceError> {
        self.time(|| self.inner.info())
    }
    fn pin_status(&self) -> Result<PinStatus, DeviceError> {
        self.time(|| self.inner.pin_status())
    }
    fn set_pin(&self, p: &Pin) -> Result<(), DeviceError> {
        self.time(|| self.inner.set_pin(p))
    }
    fn change_pin(&self, a: &Pin, b: &Pin) -> Result<(), DeviceError> {
        self.time(|| self.inner.change_pin(a, b))
    }
    fn make_credential(&self, r: &MakeCredentialRequest<'_>) -> Result<NewCredential, DeviceError> {
        self.time(|| self.inner.make_credential(r))
    }
    fn get_assertion(&self, r: &AssertionRequest<'_>) -> Result<Assertion, DeviceError> {
        self.time(|| self.inner.get_assertion(r))
    }
    fn credential_counts(&self, p: &Pin) -> Result<CredentialCounts, DeviceError> {
        self.time(|| self.inner.credential_counts(p))
    }
    fn list_ssh_credentials(&self, p: &Pin) -> Result<Vec<ResidentCredential>, DeviceError> {
        self.time(|| self.inner.list_ssh_credentials(p))
    }
    fn delete_credential(&self, p: &Pin, id: &[u8]) -> Result<(), DeviceError> {
        self.time(|| self.inner.delete_credential(p, id))
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if !std::path::Path::new("/dev/fuse").exists() {
        println!("SKIPPED: /dev/fuse is missing; the benchmark needs the virtual key");
        return;
    }
    let policy = skset::policy::default_policy().expect("built-in policy");
    let plan = skset::policy::plan(&policy, "bench").expect("plan");
    let pin = Pin::new(Zeroizing::new("424242".into())).unwrap();
    let (mut totals, mut devices, mut kdfs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let key_dir = tempfile::tempdir().unwrap();
        let vk = virtual_key::VirtualKey::start(key_dir.path(), virtual_key::Options::default())
            .expect("virtual key");
        let real =
            CtapAuthenticator::open(&vk.path().to_string_lossy(), CtapOptions::default()).unwrap();
        real.set_pin(&pin).unwrap();
        let device = Timed {
            inner: &real,
            spent: Mutex::new(Duration::ZERO),
        };
        let out = tempfile::tempdir().unwrap();
        let mut secrets = Secrets::default();
        secrets.passphrases.insert(
            "wheel".into(),
            Passphrase::new(Zeroizing::new("a long wheel passphrase".into())),
        );

        let start = Instant::now();
        let preflight = enroll::preflight(
            &device,
            &plan,
            Some(&pin),
            out.path(),
            &PreflightOptions::default(),
        )
        .unwrap();
        for (key, decided) in plan.keys.iter().zip(&preflight.modes) {
            enroll::enroll_mode(
                &device,
                key,
                decided,
                Some(&pin),
                &secrets,
                out.path(),
                &|_| {},
            )
            .unwrap();
        }
        let total = start.elapsed();

        // The KDF alone, as wheel's file spends it.
        let credential = SkCredential {
            algorithm: SkAlgorithm::Ed25519,
            public_key: vec![7; 32],
            application: "ssh:wheel".into(),
            flags: 0,
            key_handle: vec![9; 96],
        };
        let passphrase = Passphrase::new(Zeroizing::new("a long wheel passphrase".into()));
        let kdf_start = Instant::now();
        render_private_key(
            &credential,
            "bench-wheel",
            Protection::Passphrase {
                passphrase: &passphrase,
                kdf_rounds: plan.kdf_rounds,
            },
        )
        .unwrap();
        let kdf = kdf_start.elapsed();

        totals.push(total);
        devices.push(*device.spent.lock().unwrap());
        kdfs.push(kdf);
    }
    let (total, device, kdf) = (median(totals), median(devices), median(kdfs));
    let own = total.saturating_sub(device).saturating_sub(kdf);
    println!("four-mode enrollment on the virtual key, median of {RUNS} runs");
    println!(
        "  total wall time         {:>8.1} ms",
        total.as_secs_f64() * 1e3
    );
    println!(
        "  device (CTAP over HID)  {:>8.1} ms",
        device.as_secs_f64() * 1e3
    );
    println!(
        "  wheel KDF ({} rounds)   {:>8.1} ms",
        plan.kdf_rounds,
        kdf.as_secs_f64() * 1e3
    );
    println!(
        "  skset's own             {:>8.1} ms  ({:.1}% of the total)",
        own.as_secs_f64() * 1e3,
        100.0 * own.as_secs_f64() / total.as_secs_f64()
    );
}
