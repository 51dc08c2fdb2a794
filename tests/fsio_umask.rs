//! Modes are exact whatever the umask. Alone in its own test binary because the umask is
//! per process and other tests would see it.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use rustix::fs::Mode;
use rustix::process::umask;
use skset::fsio::{ensure_private_dir, replace, write_new, MODE_PRIVATE, MODE_PUBLIC};

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn modes_are_exact_under_any_umask() {
    let dir = tempfile::tempdir().unwrap();
    let before = umask(Mode::empty());
    for (i, mask) in [0o000, 0o022, 0o077, 0o777].into_iter().enumerate() {
        umask(Mode::from_bits_truncate(mask));
        let private = dir.path().join(format!("private-{i}"));
        let public = dir.path().join(format!("public-{i}"));
        let ssh = dir.path().join(format!("ssh-{i}"));
        let written = write_new(&private, b"p", MODE_PRIVATE)
            .and_then(|()| write_new(&public, b"p", MODE_PUBLIC))
            .and_then(|()| replace(&public, b"q", MODE_PUBLIC).map(drop))
            .and_then(|()| ensure_private_dir(&ssh).map(drop));
        umask(before);
        written.unwrap();
        assert_eq!(mode(&private), 0o600, "umask {mask:03o}");
        assert_eq!(mode(&public), 0o644, "umask {mask:03o}");
        assert_eq!(mode(&ssh), 0o700, "umask {mask:03o}");
    }
}
