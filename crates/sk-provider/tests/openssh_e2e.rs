//! End to end: real OpenSSH 9.2 (ssh-keygen, ssh, sshd, ssh-agent) with this provider in
//! front of the virtual security key (OpenSK behind a FUSE file).
//!
//! Each test has its own virtual key (PIN set through skset's device layer), its own sshd
//! on 127.0.0.1 and its own authorized_keys for root. A positive case passes only if the
//! server ran the command (a marker computed by the server's shell comes back); a negative
//! case asserts that the marker is absent and, where sshd says why, the reason in its log.

use openssh_harness::{
    authorized_line, provider_library, remote_marker, skip_reason, Client, Output, Provider,
    SshOptions, Sshd,
};
use skset::device::{Authenticator, CtapAuthenticator, CtapOptions, Pin};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use virtual_key::{Options, Touch, VirtualKey};
use zeroize::Zeroizing;

const PIN: &str = "4711-virtual";

/// One virtual key and a client wired to it through the provider. Field order matters:
/// the key unmounts before its directory is removed.
struct Bench {
    client: Client,
    key: VirtualKey,
    _key_dir: TempDir,
    _work: TempDir,
}

/// None (after printing SKIPPED) when this machine cannot run the tier.
fn bench(pin: Option<&str>) -> Option<Bench> {
    bench_with(pin, Options::default())
}

fn bench_with(pin: Option<&str>, options: Options) -> Option<Bench> {
    if let Some(reason) = skip_reason() {
        println!("SKIPPED: {reason}");
        return None;
    }
    let library = provider_library().unwrap_or_else(|e| panic!("{e}"));
    let key_dir = tempfile::Builder::new()
        .prefix("skset-vk-")
        .tempdir()
        .unwrap();
    let key = VirtualKey::start(key_dir.path(), options).expect("virtual key starts");
    if let Some(pin) = pin {
        let device = CtapAuthenticator::open(&key.path().to_string_lossy(), CtapOptions::default())
            .expect("open virtual key");
        device
            .set_pin(&Pin::new(Zeroizing::new(pin.to_string())).unwrap())
            .expect("set PIN");
    }
    let work = tempfile::Builder::new()
        .prefix("skset-e2e-")
        .tempdir()
        .unwrap();
    let client = Client::new(work.path(), Provider::new(library, key.path())).unwrap();
    client.askpass().set_pin(pin).unwrap();
    Some(Bench {
        client,
        key,
        _key_dir: key_dir,
        _work: work,
    })
}

impl Bench {
    fn key_file(&self, name: &str) -> PathBuf {
        self.client.workdir().join(name)
    }

    /// Enrolls with ssh-keygen and insists it worked.
    fn enroll(&self, key_type: &str, name: &str, options: &[&str]) -> PathBuf {
        let file = self.key_file(name);
        let out = self.client.enroll(key_type, &file, options).unwrap();
        assert!(out.success(), "enrollment failed: {out}");
        assert!(
            file.exists() && file.with_extension("pub").exists(),
            "no key files after: {out}"
        );
        file
    }
}

fn public(file: &Path) -> PathBuf {
    file.with_extension("pub")
}

/// The sk flags byte stored in an OpenSSH private key file.
fn sk_flags(file: &Path) -> u8 {
    use ssh_key::private::KeypairData;
    let key = ssh_key::PrivateKey::read_openssh_file(file).unwrap();
    match key.key_data() {
        KeypairData::SkEd25519(sk) => sk.flags(),
        KeypairData::SkEcdsaSha2NistP256(sk) => sk.flags(),
        other => panic!("not an sk key: {:?}", other.algorithm()),
    }
}

fn assert_logged_in(out: &Output, marker: &str, sshd: &Sshd) {
    assert!(
        out.success() && out.stdout.contains(&format!("{marker}root")),
        "expected the login to run the command: {out}\n--- sshd log ---\n{}",
        sshd.log()
    );
}

/// The login was refused at authentication (not a connection or host key failure, which
/// would make a negative case pass for the wrong reason).
fn assert_refused(out: &Output, marker: &str, sshd: &Sshd) {
    println!("refused as expected: {out}");
    assert!(
        !out.success()
            && !out.stdout.contains(marker)
            && !out.timed_out
            && out.stderr.contains("Permission denied (publickey)"),
        "expected an authentication refusal: {out}\n--- sshd log ---\n{}",
        sshd.log()
    );
}

fn assert_sshd_said(sshd: &Sshd, needle: &str) {
    assert!(
        sshd.wait_for_log(needle, Duration::from_secs(3)),
        "sshd never logged {needle:?}:\n{}",
        sshd.log()
    );
}

const NO_UV: &str = "rejected: user verification requirement not met";
const NO_UP: &str = "rejected: user presence (authenticator touch) requirement not met";

#[test]
fn resident_verify_required_ed25519_key_logs_in_with_its_pin() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let started = Instant::now();
    let key = bench.enroll(
        "ed25519-sk",
        "id_root",
        &["resident", "application=ssh:root", "verify-required"],
    );
    let prompts = bench.client.askpass().prompts();
    assert!(
        prompts
            .iter()
            .any(|p| p.contains("Enter PIN for authenticator")),
        "no PIN prompt: {prompts:?}"
    );
    assert_eq!(sk_flags(&key), 0x25, "UP | UV | RESIDENT");
    let line = std::fs::read_to_string(public(&key)).unwrap();
    assert!(line.starts_with("sk-ssh-ed25519@openssh.com "), "{line}");

    let sshd = Sshd::start_with(&[(
        "root",
        &[authorized_line("verify-required", &public(&key)).unwrap()][..],
    )])
    .unwrap();
    let (command, marker) = remote_marker("root");
    bench.client.askpass().clear_prompts().unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_logged_in(&out, &marker, &sshd);
    let prompts = bench.client.askpass().prompts();
    assert!(
        prompts
            .iter()
            .any(|p| p.contains("Enter PIN for ED25519-SK key")),
        "ssh did not ask for the PIN: {prompts:?}"
    );

    // No PIN to give: the client cannot produce a UV signature, nothing runs.
    bench.client.askpass().set_pin(None).unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_refused(&out, &marker, &sshd);

    // A wrong PIN: the key refuses to sign.
    bench.client.askpass().set_pin(Some("0000-wrong")).unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_refused(&out, &marker, &sshd);
    println!(
        "resident verify-required case: {:.2}s",
        started.elapsed().as_secs_f32()
    );
}

/// Rewrites an sk-ssh-ed25519 key file with other flags, keeping key and handle.
fn with_flags(file: &Path, flags: u8, out: &Path) {
    use ssh_key::private::{KeypairData, SkEd25519};
    let key = ssh_key::PrivateKey::read_openssh_file(file).unwrap();
    let KeypairData::SkEd25519(sk) = key.key_data() else {
        panic!("not sk-ed25519")
    };
    let doctored = SkEd25519::new(sk.public().clone(), flags, sk.key_handle().to_vec()).unwrap();
    ssh_key::PrivateKey::new(KeypairData::SkEd25519(doctored), "doctored")
        .unwrap()
        .write_openssh_file(out, ssh_key::LineEnding::LF)
        .unwrap();
}

#[test]
fn the_key_itself_refuses_a_verify_required_credential_without_the_pin() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let key = bench.enroll(
        "ed25519-sk",
        "id_root",
        &["resident", "application=ssh:root", "verify-required"],
    );
    // sshd does not ask for UV here: only the authenticator's credProtect 3 stands in the way.
    let sshd =
        Sshd::start_with(&[("root", &[authorized_line("", &public(&key)).unwrap()][..])]).unwrap();
    let (command, marker) = remote_marker("credprotect");
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_logged_in(&out, &marker, &sshd);

    // A key file that "forgot" verify-required: ssh signs without a PIN, and the key
    // cannot find the credential without user verification.
    let doctored = bench.key_file("id_root_doctored");
    with_flags(&key, 0x21, &doctored);
    assert_eq!(sk_flags(&doctored), 0x21);
    bench.client.askpass().set_pin(None).unwrap();
    let out = bench
        .client
        .login(&sshd, "root", &doctored, &command)
        .unwrap();
    assert_refused(&out, &marker, &sshd);
}

#[test]
fn a_wrong_pin_at_enrollment_is_retried_and_keeps_the_helper_channel_clean() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    // First answer wrong: the device says PIN_INVALID, skset's error mapping then asks for
    // the retry counter, and ctap-hid-fido2 println!s inside ssh-sk-helper. OpenSSH must
    // still read a clean reply, say "PIN incorrect" and succeed with the second answer.
    bench.client.askpass().queue_pins(&["0000-wrong"]).unwrap();
    let file = bench.key_file("id_retry");
    let out = bench
        .client
        .enroll("ed25519-sk", &file, &["resident", "application=ssh:retry"])
        .unwrap();
    assert!(out.success(), "{out}");
    assert!(out.stderr.contains("PIN incorrect"), "{out}");
    let pin_prompts = bench
        .client
        .askpass()
        .prompts()
        .iter()
        .filter(|p| p.contains("Enter PIN for authenticator"))
        .count();
    assert_eq!(pin_prompts, 2, "{:?}", bench.client.askpass().prompts());
    assert_eq!(sk_flags(&file), 0x21);
}

#[test]
fn ecdsa_key_logs_in() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let key = bench.enroll("ecdsa-sk", "id_ecdsa", &[]);
    assert_eq!(sk_flags(&key), 0x01);
    let line = std::fs::read_to_string(public(&key)).unwrap();
    assert!(
        line.starts_with("sk-ecdsa-sha2-nistp256@openssh.com "),
        "{line}"
    );
    let sshd =
        Sshd::start_with(&[("root", &[authorized_line("", &public(&key)).unwrap()][..])]).unwrap();
    let (command, marker) = remote_marker("ecdsa");
    // Several logins: each signature has fresh r and s, some with a high bit or a
    // leading zero, which the DER split must hand over correctly every time.
    for _ in 0..3 {
        let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
        assert_logged_in(&out, &marker, &sshd);
    }
    // Touch was asked for (the key is touch-required): ssh showed its notification.
    assert!(bench
        .client
        .askpass()
        .prompts()
        .iter()
        .any(|p| p.starts_with("none: Confirm user presence")));
}

#[test]
fn verify_required_in_authorized_keys_refuses_a_signature_made_without_the_pin() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    // Resident but not verify-required: ssh signs without asking for the PIN (UV=0).
    let key = bench.enroll(
        "ed25519-sk",
        "id_sudo",
        &["resident", "application=ssh:sudo"],
    );
    assert_eq!(sk_flags(&key), 0x21);
    let (command, marker) = remote_marker("sudo");
    let sshd = Sshd::start_with(&[(
        "root",
        &[authorized_line("verify-required", &public(&key)).unwrap()][..],
    )])
    .unwrap();
    bench.client.askpass().clear_prompts().unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_refused(&out, &marker, &sshd);
    assert_sshd_said(&sshd, NO_UV);
    assert!(
        !bench
            .client
            .askpass()
            .prompts()
            .iter()
            .any(|p| p.contains("Enter PIN")),
        "the key does not ask for a PIN, so the signature carries no UV"
    );

    // Control: the same key and the same signature path log in without the option.
    sshd.set_authorized_keys("root", &[authorized_line("", &public(&key)).unwrap()])
        .unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_logged_in(&out, &marker, &sshd);
}

#[test]
fn no_touch_key_logs_in_only_with_no_touch_required() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let key = bench.enroll("ed25519-sk", "id_robo", &["no-touch-required"]);
    assert_eq!(sk_flags(&key), 0x00);
    // From here on nobody touches the key: a login can only succeed without presence.
    bench.key.set_touch(Touch::Deny);
    let (command, marker) = remote_marker("robo");
    let sshd =
        Sshd::start_with(&[("root", &[authorized_line("", &public(&key)).unwrap()][..])]).unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_refused(&out, &marker, &sshd);
    assert_sshd_said(&sshd, NO_UP);

    sshd.set_authorized_keys(
        "root",
        &[authorized_line("no-touch-required", &public(&key)).unwrap()],
    )
    .unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_logged_in(&out, &marker, &sshd);
}

#[test]
fn a_denied_touch_fails_a_touch_required_login() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let key = bench.enroll("ed25519-sk", "id_touch", &[]);
    let (command, marker) = remote_marker("touch");
    let sshd =
        Sshd::start_with(&[("root", &[authorized_line("", &public(&key)).unwrap()][..])]).unwrap();
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_logged_in(&out, &marker, &sshd);

    bench.key.set_touch(Touch::Deny);
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_refused(&out, &marker, &sshd);
    // The refusal is the key's: no signature ever reached sshd for that attempt.
    assert_eq!(
        sshd.log().matches("Accepted publickey").count(),
        1,
        "{}",
        sshd.log()
    );
}

#[test]
fn ssh_keygen_k_downloads_the_resident_keys() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let root = bench.enroll(
        "ed25519-sk",
        "id_root",
        &["resident", "application=ssh:root", "verify-required"],
    );
    let robo = bench.enroll(
        "ecdsa-sk",
        "id_robo",
        &["resident", "application=ssh:robo", "user=robo"],
    );
    let nonresident = bench.enroll("ed25519-sk", "id_plain", &[]);

    let download = bench.client.workdir().join("download");
    std::fs::create_dir(&download).unwrap();
    bench.client.askpass().clear_prompts().unwrap();
    let mut command = bench.client.command(openssh_harness::SSH_KEYGEN);
    command
        .current_dir(&download)
        .arg("-K")
        .arg("-w")
        .arg(&bench.client.provider().library)
        .args(["-N", ""]);
    let out = openssh_harness::run(&mut command, b"", Duration::from_secs(30)).unwrap();
    assert!(out.success(), "{out}");
    assert!(bench
        .client
        .askpass()
        .prompts()
        .iter()
        .any(|p| p.contains("Enter PIN for authenticator")));

    let mut names: Vec<String> = std::fs::read_dir(&download)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "id_ecdsa_sk_rk_robo_robo",
            "id_ecdsa_sk_rk_robo_robo.pub",
            "id_ed25519_sk_rk_root",
            "id_ed25519_sk_rk_root.pub"
        ],
        "{out}"
    );
    let blob = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(
        blob(&download.join("id_ed25519_sk_rk_root.pub")),
        blob(&public(&root))
    );
    assert_eq!(
        blob(&download.join("id_ecdsa_sk_rk_robo_robo.pub")),
        blob(&public(&robo))
    );
    assert_ne!(
        blob(&download.join("id_ed25519_sk_rk_root.pub")),
        blob(&public(&nonresident))
    );
    // OpenSSH's flags for downloaded keys: UP | RESIDENT, plus UV for credProtect 3.
    assert_eq!(sk_flags(&download.join("id_ed25519_sk_rk_root")), 0x25);
    assert_eq!(sk_flags(&download.join("id_ecdsa_sk_rk_robo_robo")), 0x21);

    // The recovered file logs in like the original.
    let recovered = download.join("id_ed25519_sk_rk_root");
    let sshd = Sshd::start_with(&[(
        "root",
        &[authorized_line("verify-required", &public(&root)).unwrap()][..],
    )])
    .unwrap();
    let (command, marker) = remote_marker("recovered");
    let out = bench
        .client
        .login(&sshd, "root", &recovered, &command)
        .unwrap();
    assert_logged_in(&out, &marker, &sshd);
}

#[test]
fn an_existing_resident_key_is_only_replaced_after_the_overwrite_prompt() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let first = bench.enroll(
        "ed25519-sk",
        "id_first",
        &["resident", "application=ssh:root"],
    );
    let (command, marker) = remote_marker("overwrite");
    let sshd = Sshd::start_with(&[("root", &[authorized_line("", &public(&first)).unwrap()][..])])
        .unwrap();

    // Same application and user id: ssh-keygen asks, "n" leaves the key alone.
    let second = bench.key_file("id_second");
    let args = [
        "-t",
        "ed25519-sk",
        "-w",
        bench.client.provider().library.to_str().unwrap(),
        "-N",
        "",
        "-f",
    ];
    let with = |stdin: &[u8]| {
        let mut a: Vec<&str> = args.to_vec();
        a.push(second.to_str().unwrap());
        a.extend(["-O", "resident", "-O", "application=ssh:root"]);
        bench.client.keygen(&a, stdin).unwrap()
    };
    let out = with(b"n\n");
    assert!(!out.success(), "{out}");
    assert!(
        out.stdout
            .contains("A resident key scoped to 'ssh:root' with user id 'null' already exists."),
        "{out}"
    );
    assert!(
        out.stdout.contains("Overwrite key in token (y/n)?"),
        "{out}"
    );
    assert_logged_in(
        &bench.client.login(&sshd, "root", &first, &command).unwrap(),
        &marker,
        &sshd,
    );

    // "y": the provider is called with FORCE_OPERATION and the credential is replaced.
    let out = with(b"y\n");
    assert!(out.success(), "{out}");
    assert_eq!(
        sk_flags(&second),
        0x31,
        "UP | FORCE | RESIDENT, as OpenSSH writes it"
    );
    assert_refused(
        &bench.client.login(&sshd, "root", &first, &command).unwrap(),
        &marker,
        &sshd,
    );
    sshd.set_authorized_keys("root", &[authorized_line("", &public(&second)).unwrap()])
        .unwrap();
    assert_logged_in(
        &bench
            .client
            .login(&sshd, "root", &second, &command)
            .unwrap(),
        &marker,
        &sshd,
    );
}

#[test]
fn ssh_agent_holds_a_no_touch_key_for_its_lifetime_only() {
    let Some(bench) = bench(Some(PIN)) else {
        return;
    };
    let key = bench.enroll("ed25519-sk", "id_robo", &["no-touch-required"]);
    bench.key.set_touch(Touch::Deny);
    let agent = bench.client.start_agent().unwrap();
    let added_at = Instant::now();
    let out = bench
        .client
        .ssh_add(&agent, &["-t", "2", key.to_str().unwrap()])
        .unwrap();
    assert!(out.success(), "{out}");
    let listed = bench.client.ssh_add(&agent, &["-L"]).unwrap();
    let blob = std::fs::read_to_string(public(&key))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        listed.success() && listed.stdout.contains(&blob),
        "{listed}"
    );

    let (command, marker) = remote_marker("agent");
    let sshd = Sshd::start_with(&[(
        "root",
        &[authorized_line("no-touch-required", &public(&key)).unwrap()][..],
    )])
    .unwrap();
    // Only the agent can sign here: ssh gets the public half and no provider.
    let via_agent = SshOptions::agent("root", &agent, &public(&key), &command);
    let out = bench.client.ssh(&sshd, &via_agent).unwrap();
    assert!(
        added_at.elapsed() < Duration::from_secs(2),
        "too slow to test a 2 s lifetime"
    );
    assert_logged_in(&out, &marker, &sshd);

    std::thread::sleep(
        Duration::from_secs(2).saturating_sub(added_at.elapsed()) + Duration::from_millis(1200),
    );
    let listed = bench.client.ssh_add(&agent, &["-L"]).unwrap();
    assert!(
        !listed.success() && listed.stdout.contains("The agent has no identities"),
        "{listed}"
    );
    let out = bench.client.ssh(&sshd, &via_agent).unwrap();
    assert_refused(&out, &marker, &sshd);
}

#[test]
fn a_key_that_stops_answering_fails_the_login_instead_of_hanging_it() {
    // The virtual key fails a read that got no answer for 2 s (EIO), as a pulled or wedged
    // key makes hidraw fail. The provider must turn that into a clean signing failure.
    // (Why not test the device layer's own 10 s deadline here: a thread blocked in a FUSE
    // read the virtual key has taken cannot be interrupted, because fuser ignores
    // FUSE_INTERRUPT, so ssh-sk-helper could not exit before the virtual key answers. A
    // real hidraw read is interruptible.)
    let options = Options {
        watchdog: Duration::from_secs(2),
        ..Options::default()
    };
    let Some(bench) = bench_with(Some(PIN), options) else {
        return;
    };
    let key = bench.enroll("ed25519-sk", "id_stall", &[]);
    let (command, marker) = remote_marker("stall");
    let sshd =
        Sshd::start_with(&[("root", &[authorized_line("", &public(&key)).unwrap()][..])]).unwrap();
    bench.key.set_stalled(true);
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_refused(&out, &marker, &sshd);
    assert!(
        out.elapsed < Duration::from_secs(15),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stderr.contains("skset-sk-provider: cannot open"),
        "the provider should say why: {out}"
    );

    // And the key works again once it answers.
    bench.key.set_stalled(false);
    let out = bench.client.login(&sshd, "root", &key, &command).unwrap();
    assert_logged_in(&out, &marker, &sshd);
}

#[test]
fn without_a_device_ssh_keygen_reports_device_not_found() {
    if let Some(reason) = skip_reason() {
        println!("SKIPPED: {reason}");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let client = Client::new(
        work.path(),
        Provider::new(provider_library().unwrap(), "/nonexistent/hidraw0"),
    )
    .unwrap();
    let out = client
        .enroll("ed25519-sk", &work.path().join("id"), &[])
        .unwrap();
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("device not found"), "{out}");
    assert!(
        out.stderr.contains("cannot open /nonexistent/hidraw0"),
        "{out}"
    );
}
