//! The fd 1 guard, in a process of its own (it swaps fd 1 for the whole process, so it
//! must not share one with other tests). One test function only, for the same reason.

use skset_sk_provider::stdout::SilencedStdout;
use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;

#[test]
fn fd_1_goes_to_dev_null_during_device_calls_and_comes_back() {
    let mut capture = tempfile::tempfile().unwrap();
    let original = rustix::io::dup(std::io::stdout().as_fd()).unwrap();
    rustix::stdio::dup2_stdout(&capture).unwrap();

    let mut out = std::io::stdout();
    out.write_all(b"before\n").unwrap();
    {
        let _silenced = SilencedStdout::new();
        // What ctap-hid-fido2's println! does: a line through Rust's stdout.
        out.write_all(b"- unknown field in pin retries response\n")
            .unwrap();
        // An unterminated line sits in the LineWriter; the guard flushes it to /dev/null.
        out.write_all(b"partial").unwrap();
    }
    out.write_all(b"after\n").unwrap();
    {
        let mut stranded = SilencedStdout::new();
        stranded.keep_silenced();
    }
    out.write_all(b"lost\n").unwrap();
    out.flush().unwrap();

    rustix::stdio::dup2_stdout(&original).unwrap();
    let mut seen = String::new();
    capture.rewind().unwrap();
    capture.read_to_string(&mut seen).unwrap();
    assert_eq!(seen, "before\nafter\n");
}
