//! `skset plan` and `skset policy explain|show-default` through the real binary.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn skset(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skset"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run skset")
}

fn json(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn key<'a>(plan: &'a Value, mode: &str) -> &'a Value {
    plan["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["mode"] == mode)
        .unwrap_or_else(|| panic!("no {mode}"))
}

#[test]
fn four_mode_plan_has_the_model_flags_and_distinct_identities() {
    let plan = json(&skset(&[
        "plan",
        "--policy",
        "policies/four-mode.yaml",
        "--label",
        "laptop",
        "--json",
    ]));
    let expected = [
        ("root", 0x25, 3),
        ("sudo", 0x21, 2),
        ("wheel", 0x00, 2),
        ("robo", 0x20, 2),
    ];
    for (mode, flags, cred_protect) in expected {
        let k = key(&plan, mode);
        assert_eq!(k["flags"], flags, "{mode}");
        assert_eq!(k["flags_hex"], format!("0x{flags:02x}"), "{mode}");
        assert_eq!(k["cred_protect"], cred_protect, "{mode}");
        assert_eq!(k["comment"], format!("laptop-{mode}"));
        assert_eq!(k["private_key_file"], format!("id_{mode}"));
        assert_eq!(k["public_key_file"], format!("id_{mode}.pub"));
    }
    let resident: Vec<&Value> = plan["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["resident"] == true)
        .collect();
    assert_eq!(resident.len(), 3);
    let identities: HashSet<(String, String)> = resident
        .iter()
        .map(|k| {
            (
                k["application"].as_str().unwrap().to_owned(),
                k["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        identities.len(),
        3,
        "resident keys would overwrite each other: {identities:?}"
    );
    for k in &resident {
        let cmd = k["ssh_keygen_command"].as_str().unwrap();
        assert!(
            cmd.contains(&format!(
                "-O application={}",
                k["application"].as_str().unwrap()
            )),
            "{cmd}"
        );
        assert!(cmd.contains("-O user="), "{cmd}");
        assert!(cmd.contains("-O resident"), "{cmd}");
        assert!(cmd.contains("-N ''"), "{cmd}");
        assert_eq!(k["user_id"].as_str().unwrap().len(), 64, "32 bytes as hex");
    }
    let root_key = key(&plan, "root");
    assert_eq!(
        root_key["user_id"].as_str().unwrap(),
        format!("{}{}", "726f6f74", "00".repeat(28))
    );
    assert!(root_key["ssh_keygen_command"]
        .as_str()
        .unwrap()
        .contains("-O verify-required"));

    let wheel = key(&plan, "wheel");
    assert_eq!(wheel["passphrase"], "required");
    assert_eq!(wheel["agent_lifetime"], "10m");
    assert_eq!(wheel["agent_lifetime_seconds"], 600);
    assert_eq!(wheel["ssh_add_command"], "ssh-add -t 10m ~/.ssh/id_wheel");
    let wheel_cmd = wheel["ssh_keygen_command"].as_str().unwrap();
    assert!(
        wheel_cmd.contains("-O no-touch-required")
            && wheel_cmd.contains("-a 24")
            && !wheel_cmd.contains("-N"),
        "{wheel_cmd}"
    );
    assert!(!wheel_cmd.contains("-O resident"));

    let robo = key(&plan, "robo");
    assert_eq!(
        robo["authorized_keys_template"],
        "restrict,no-touch-required,from=\"10.0.0.0/8\",command=\"/usr/local/bin/backup-shell\" {public_key} laptop-robo"
    );
    assert_eq!(
        key(&plan, "root")["authorized_keys_options"],
        serde_json::json!(["verify-required"])
    );
    assert_eq!(key(&plan, "sudo")["sudo_totp"], true);
    assert_eq!(plan["kdf_rounds"], 24);
    assert_eq!(plan["min_pin_length"], 6);
}

#[test]
fn default_plan_uses_the_built_in_policy() {
    let plan = json(&skset(&["plan", "--json", "--label", "x"]));
    assert_eq!(plan["policy"], "four-mode");
    assert_eq!(plan["keys"].as_array().unwrap().len(), 4);
}

#[test]
fn two_keys_plan_names_both_devices() {
    let plan = json(&skset(&[
        "plan",
        "--policy",
        "policies/two-keys.yaml",
        "--label",
        "w",
        "--json",
    ]));
    assert_eq!(plan["devices"], serde_json::json!(["primary", "desk"]));
    assert_eq!(key(&plan, "wheel")["device"], "desk");
}

#[test]
fn plan_refuses_a_violating_policy_with_exit_1() {
    let out = skset(&[
        "plan",
        "--policy",
        "tests/fixtures/policy/rules/SK006-break.yaml",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no plan on stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SK006") && stderr.contains("mode sudo"),
        "{stderr}"
    );
}

#[test]
fn plan_refuses_a_bad_label_and_bad_files_with_exit_2() {
    let out = skset(&["plan", "--label", "a\nb"]);
    assert_eq!(out.status.code(), Some(2));
    let out = skset(&[
        "plan",
        "--policy",
        "tests/fixtures/policy/malformed/unknown-field.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_plan_shows_commands() {
    let out = skset(&["plan", "--label", "laptop"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0x25")
            && text.contains("0x21")
            && text.contains("0x00")
            && text.contains("0x20"),
        "{text}"
    );
    assert!(text.contains("ssh-keygen -t ed25519-sk -O resident -O verify-required -O application=ssh:root -O user=root"), "{text}");
}

#[test]
fn show_default_prints_the_shipped_four_mode_policy() {
    let out = skset(&["policy", "show-default"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        std::fs::read(root().join("policies/four-mode.yaml")).unwrap()
    );
}

#[test]
fn explain_answers_the_three_questions_with_rules() {
    let v = json(&skset(&[
        "policy",
        "explain",
        "policies/four-mode.yaml",
        "--json",
    ]));
    let modes = v["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 4);
    for m in modes {
        for who in ["device_thief", "forwarded_agent_host", "disk_copy"] {
            assert!(
                m[who]["text"].as_str().unwrap().len() > 40,
                "{} {who}",
                m["mode"]
            );
            assert!(
                !m[who]["rules"].as_array().unwrap().is_empty(),
                "{} {who}",
                m["mode"]
            );
        }
    }
    let by = |name: &str| modes.iter().find(|m| m["mode"] == name).unwrap();
    assert_eq!(by("root")["device_thief"]["verdict"], "nothing");
    assert_eq!(by("sudo")["device_thief"]["verdict"], "limited");
    assert!(by("sudo")["device_thief"]["text"]
        .as_str()
        .unwrap()
        .contains("TOTP"));
    assert_eq!(by("wheel")["forwarded_agent_host"]["verdict"], "signs");
    assert!(by("wheel")["forwarded_agent_host"]["text"]
        .as_str()
        .unwrap()
        .contains("10m"));
    assert!(by("robo")["device_thief"]["text"]
        .as_str()
        .unwrap()
        .contains("10.0.0.0/8"));
    assert_eq!(by("robo")["forwarded_agent_host"]["verdict"], "nothing");
}

#[test]
fn explain_one_mode_and_unknown_mode() {
    let out = skset(&[
        "policy",
        "explain",
        "policies/four-mode.yaml",
        "--mode",
        "wheel",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("mode wheel") && !text.contains("mode root"),
        "{text}"
    );
    assert!(text.contains("because of: SK"), "{text}");
    let out = skset(&[
        "policy",
        "explain",
        "policies/four-mode.yaml",
        "--mode",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("root, sudo, wheel, robo"));
}

#[test]
fn help_teaches_with_examples() {
    for args in [
        &["policy", "--help"][..],
        &["policy", "check", "--help"],
        &["plan", "--help"],
        &["policy", "explain", "--help"],
    ] {
        let out = skset(args);
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Example"),
            "{args:?}"
        );
    }
}
