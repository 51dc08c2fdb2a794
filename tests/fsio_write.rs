//! fsio: nothing lost (no overwrite without replace, backups kept, all-or-nothing write
//! sets) and nothing leaked (exact modes, no temp files left, no contents in errors).

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use skset::fsio::{
    ensure_private_dir, file_mode, is_too_open_for_private_key, replace, write_new, FsError,
    PrivateDir, WriteSet, MODE_PRIVATE, MODE_PUBLIC,
};

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn write_new_creates_the_file_with_its_exact_mode_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("id_ed25519_sk");
    let public = dir.path().join("id_ed25519_sk.pub");
    write_new(&private, b"private", MODE_PRIVATE).unwrap();
    write_new(&public, b"public", MODE_PUBLIC).unwrap();
    assert_eq!(fs::read(&private).unwrap(), b"private");
    assert_eq!(fs::read(&public).unwrap(), b"public");
    assert_eq!(mode(&private), 0o600);
    assert_eq!(mode(&public), 0o644);
    assert_eq!(names(dir.path()), ["id_ed25519_sk", "id_ed25519_sk.pub"]);
}

#[test]
fn write_new_never_replaces_an_existing_file_or_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("id_ed25519_sk");
    fs::write(&path, b"the only copy of an old key").unwrap();
    let error = write_new(&path, b"new secret bytes", MODE_PRIVATE).unwrap_err();
    assert!(matches!(&error, FsError::AlreadyExists { path: p } if p == &path));
    let message = error.to_string();
    assert!(
        message.contains("--force") && message.contains("id_ed25519_sk"),
        "{message}"
    );
    assert!(!message.contains("new secret bytes"));
    assert_eq!(fs::read(&path).unwrap(), b"the only copy of an old key");

    // A dangling symlink is an existing name too: writing through it could land anywhere.
    let link = dir.path().join("dangling");
    symlink(dir.path().join("nowhere"), &link).unwrap();
    assert!(matches!(
        write_new(&link, b"x", MODE_PRIVATE),
        Err(FsError::AlreadyExists { .. })
    ));
    assert!(!dir.path().join("nowhere").exists());
    assert_eq!(names(dir.path()), ["dangling", "id_ed25519_sk"]);
}

#[test]
fn replace_keeps_every_earlier_version_as_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    write_new(&path, b"v1", MODE_PRIVATE).unwrap();
    let first = replace(&path, b"v2", MODE_PRIVATE)
        .unwrap()
        .expect("a backup");
    let second = replace(&path, b"v3", MODE_PRIVATE)
        .unwrap()
        .expect("a backup");
    assert_ne!(
        first, second,
        "the second backup must not clobber the first"
    );
    assert_eq!(fs::read(&path).unwrap(), b"v3");
    assert_eq!(fs::read(&first).unwrap(), b"v1");
    assert_eq!(fs::read(&second).unwrap(), b"v2");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&first), 0o600);

    let first_name = first.file_name().unwrap().to_str().unwrap();
    assert!(first_name.starts_with("key.bak-"), "{first_name}");
    let stamp = &first_name["key.bak-".len()..];
    assert_eq!(stamp.len(), "YYYYmmddTHHMMSSZ".len(), "{stamp}");
    assert!(
        stamp.as_bytes()[8] == b'T' && stamp.ends_with('Z'),
        "{stamp}"
    );
    assert_eq!(names(dir.path()).len(), 3);
}

#[test]
fn replace_changes_the_mode_to_the_one_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    fs::write(&path, b"old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    replace(&path, b"new", MODE_PRIVATE).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn replace_of_a_missing_file_just_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pub");
    assert_eq!(replace(&path, b"line\n", MODE_PUBLIC).unwrap(), None);
    assert_eq!(fs::read(&path).unwrap(), b"line\n");
    assert_eq!(names(dir.path()), ["key.pub"]);
}

#[test]
fn a_failure_in_the_middle_of_a_write_set_leaves_every_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("replaced");
    fs::write(&old, b"old contents").unwrap();
    for fail_at in 0..4 {
        let mut set = WriteSet::new();
        set.add_new(dir.path().join("id_ed25519_sk"), b"private", MODE_PRIVATE)
            .add_replace(&old, b"new contents", MODE_PRIVATE)
            .add_new(dir.path().join("id_ed25519_sk.pub"), b"public", MODE_PUBLIC)
            .add_new(dir.path().join("attestation"), b"attestation", MODE_PRIVATE)
            .fail_before_installing(fail_at);
        assert!(set.commit().is_err());
        assert_eq!(
            names(dir.path()),
            ["replaced"],
            "failing before file {fail_at}"
        );
        assert_eq!(fs::read(&old).unwrap(), b"old contents");
    }
}

#[test]
fn a_real_error_part_way_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = WriteSet::new();
    set.add_new(dir.path().join("a"), b"a", MODE_PRIVATE)
        .add_new(dir.path().join("b"), b"b", MODE_PUBLIC)
        .add_new(dir.path().join("missing-dir/c"), b"c", MODE_PRIVATE);
    let error = set.commit().unwrap_err();
    assert!(matches!(error, FsError::Io { .. }), "{error}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn a_write_set_refuses_up_front_when_any_target_exists() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("b"), b"keep me").unwrap();
    let mut set = WriteSet::new();
    set.add_new(dir.path().join("a"), b"a", MODE_PRIVATE)
        .add_new(dir.path().join("b"), b"b", MODE_PUBLIC);
    assert!(matches!(set.commit(), Err(FsError::AlreadyExists { .. })));
    assert_eq!(names(dir.path()), ["b"]);
    assert_eq!(fs::read(dir.path().join("b")).unwrap(), b"keep me");
}

#[test]
fn a_write_set_installs_everything_and_reports_backups() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("old"), b"old").unwrap();
    let mut set = WriteSet::new();
    set.add_new(dir.path().join("new"), b"new", MODE_PUBLIC)
        .add_replace(dir.path().join("old"), b"newer", MODE_PRIVATE);
    let written = set.commit().unwrap();
    assert_eq!(written[0].backup, None);
    let backup = written[1].backup.clone().unwrap();
    assert_eq!(fs::read(backup).unwrap(), b"old");
    assert_eq!(fs::read(dir.path().join("old")).unwrap(), b"newer");
    assert_eq!(names(dir.path()).len(), 3);
}

#[test]
fn a_write_set_refuses_the_same_path_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = WriteSet::new();
    set.add_new(dir.path().join("a"), b"1", MODE_PRIVATE)
        .add_new(dir.path().join("a"), b"2", MODE_PRIVATE);
    assert!(matches!(set.commit(), Err(FsError::DuplicatePath { .. })));
    assert!(names(dir.path()).is_empty());
}

#[test]
fn contents_never_show_in_debug_output() {
    let mut set = WriteSet::new();
    set.add_new("/nonexistent/key", b"SECRET-KEY-HANDLE", MODE_PRIVATE);
    let shown = format!("{set:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("17 bytes"), "{shown}");
    let error = set.commit().unwrap_err();
    assert!(!format!("{error:?}{error}").contains("SECRET"));
}

#[test]
fn ensure_private_dir_creates_0700_and_reports_loose_directories_without_changing_them() {
    let root = tempfile::tempdir().unwrap();
    let ssh = root.path().join("home/.ssh");
    assert_eq!(ensure_private_dir(&ssh).unwrap(), PrivateDir::Created);
    assert_eq!(mode(&ssh), 0o700);
    assert_eq!(ensure_private_dir(&ssh).unwrap(), PrivateDir::Existing);

    fs::set_permissions(&ssh, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(ensure_private_dir(&ssh).unwrap(), PrivateDir::Existing);

    fs::set_permissions(&ssh, fs::Permissions::from_mode(0o775)).unwrap();
    let error = ensure_private_dir(&ssh).unwrap_err();
    assert!(
        matches!(error, FsError::InsecureDirectory { mode: 0o775, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("chmod go-w"), "{error}");
    assert_eq!(mode(&ssh), 0o775, "the mode must be reported, not changed");

    let file = root.path().join("file");
    fs::write(&file, b"").unwrap();
    assert!(matches!(
        ensure_private_dir(&file),
        Err(FsError::NotADirectory { .. })
    ));
}

#[test]
fn file_modes_are_checked_like_ssh_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    write_new(&path, b"k", MODE_PRIVATE).unwrap();
    assert_eq!(file_mode(&path).unwrap(), 0o600);
    assert!(!is_too_open_for_private_key(0o600));
    assert!(!is_too_open_for_private_key(0o400));
    assert!(is_too_open_for_private_key(0o640));
    assert!(is_too_open_for_private_key(0o604));
    assert!(matches!(
        file_mode(&dir.path().join("missing")),
        Err(FsError::Io { .. })
    ));
}
