//! The ssh_config snippet as real ssh reads it (`ssh -G`): each mode's account picks its own
//! key, only wheel goes into the agent, with the policy's lifetime, and nothing forwards.

use std::process::Command;

fn effective(config: &std::path::Path, user: &str) -> String {
    let out = Command::new("ssh")
        .args(["-G", "-F"])
        .arg(config)
        .args(["-l", user, "host.example"])
        .output()
        .expect("run ssh -G");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ssh_reads_the_snippet_as_the_policy_means_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_skset"))
        .args(["export", "ssh-config", "--label", "t"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, &out.stdout).unwrap();
    for (user, key, agent) in [
        ("root", "id_root", "false"),
        ("admin", "id_sudo", "false"),
        ("wheel", "id_wheel", "600"),
        ("robo", "id_robo", "false"),
    ] {
        let seen = effective(&config, user);
        assert!(
            seen.lines()
                .any(|l| l == format!("identityfile ~/.ssh/{key}")),
            "{user}: {seen}"
        );
        assert!(seen.lines().any(|l| l == "identitiesonly yes"), "{user}");
        assert!(
            seen.lines().any(|l| l == format!("addkeystoagent {agent}")),
            "{user}: {seen}"
        );
        assert!(seen.lines().any(|l| l == "forwardagent no"), "{user}");
    }
}
