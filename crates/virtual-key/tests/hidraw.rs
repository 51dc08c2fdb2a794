//! The device file at the level of hidraw reports, without a FIDO library:
//! report framing, blocking and non-blocking reads, broadcast to every open
//! file, and keep-alives on the wire.

mod common;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use common::{start, within, CALL_DEADLINE};
use virtual_key::Options;

const CTAPHID_INIT: u8 = 0x86;
const CTAPHID_CBOR: u8 = 0x90;
const CTAPHID_KEEPALIVE: u8 = 0xBB;
const BROADCAST: [u8; 4] = [0xFF; 4];
const NONCE: [u8; 8] = *b"nonce-01";

fn open(path: &std::path::Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open hidraw0 read-write")
}

/// Writes one output report: report number 0, then the 64-byte packet.
fn write_packet(file: &mut File, cid: [u8; 4], first: u8, payload: &[u8]) {
    let mut report = [0u8; 65];
    report[1..5].copy_from_slice(&cid);
    report[5] = first;
    report[6..6 + payload.len()].copy_from_slice(payload);
    assert_eq!(file.write(&report).expect("write a report"), 65);
}

/// Sends a whole CTAPHID message, split into an initialisation packet and
/// continuation packets.
fn send_message(file: &mut File, cid: [u8; 4], command: u8, payload: &[u8]) {
    let length = u16::try_from(payload.len())
        .expect("short message")
        .to_be_bytes();
    let first = payload.len().min(57);
    let mut init = vec![length[0], length[1]];
    init.extend_from_slice(&payload[..first]);
    write_packet(file, cid, command, &init);
    for (sequence, chunk) in payload[first..].chunks(59).enumerate() {
        write_packet(
            file,
            cid,
            u8::try_from(sequence).expect("few packets"),
            chunk,
        );
    }
}

fn read_report(mut file: File) -> (File, [u8; 64]) {
    let (result, _) = within(CALL_DEADLINE, "read a report", move || {
        let mut report = [0u8; 64];
        let read = file.read(&mut report);
        (file, read, report)
    });
    let (file, read, report) = result;
    assert_eq!(
        read.expect("read a report"),
        64,
        "one read is one 64-byte report"
    );
    (file, report)
}

fn init(file: File) -> (File, [u8; 4]) {
    let mut file = file;
    write_packet(
        &mut file,
        BROADCAST,
        CTAPHID_INIT,
        &[0, 8, b'n', b'o', b'n', b'c', b'e', b'-', b'0', b'1'],
    );
    let (file, report) = read_report(file);
    assert_eq!(report[..5], [0xFF, 0xFF, 0xFF, 0xFF, CTAPHID_INIT]);
    assert_eq!(report[7..15], NONCE);
    (file, [report[15], report[16], report[17], report[18]])
}

#[test]
fn every_open_file_receives_every_report() {
    let Some((_dir, key)) = start("broadcast", Options::default()) else {
        return;
    };
    let observer = open(&key.path());
    let (_client, cid) = init(open(&key.path()));
    let (_observer, seen) = read_report(observer);
    assert_eq!(
        seen[4], CTAPHID_INIT,
        "the other reader got the INIT answer too"
    );
    assert_eq!(seen[15..19], cid);
}

#[test]
fn non_blocking_reads_and_bad_writes_fail_like_hidraw() {
    let Some((_dir, key)) = start("nonblocking", Options::default()) else {
        return;
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(0o4000) // O_NONBLOCK
        .open(key.path())
        .expect("open non-blocking");
    let mut report = [0u8; 64];
    let error = file.read(&mut report).expect_err("nothing to read yet");
    assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
    // The report number must be 0: a FIDO key has no numbered reports.
    let error = file.write(&[1u8; 65]).expect_err("report number 1");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let error = file.write(&[0u8; 66]).expect_err("longer than a report");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

/// makeCredential {1: clientDataHash, 2: {"id": "a"}, 3: {"id": h'01',
/// "name": "u"}, 4: [{"alg": -8, "type": "public-key"}]}, in canonical CBOR.
fn make_credential_request() -> Vec<u8> {
    let mut request = vec![0x01, 0xA4, 0x01, 0x58, 0x20];
    request.extend_from_slice(&[0x11; 32]);
    request.extend_from_slice(&[0x02, 0xA1, 0x62, b'i', b'd', 0x61, b'a']);
    request.extend_from_slice(&[
        0x03, 0xA2, 0x62, b'i', b'd', 0x41, 0x01, 0x64, b'n', b'a', b'm', b'e', 0x61, b'u',
    ]);
    request.extend_from_slice(&[0x04, 0x81, 0xA2, 0x63, b'a', b'l', b'g', 0x27, 0x64]);
    request.extend_from_slice(b"type");
    request.push(0x6A);
    request.extend_from_slice(b"public-key");
    request
}

#[test]
fn keepalives_with_upneeded_come_before_the_answer() {
    let Some((_dir, key)) = start(
        "raw_keepalives",
        Options {
            touch_delay: Duration::from_millis(500),
            ..Options::default()
        },
    ) else {
        return;
    };
    let (mut file, cid) = init(open(&key.path()));
    send_message(&mut file, cid, CTAPHID_CBOR, &make_credential_request());
    let mut keepalives = 0;
    let answer = loop {
        let (next, report) = read_report(file);
        file = next;
        assert_eq!(report[..4], cid, "reports go to our channel");
        match report[4] {
            CTAPHID_KEEPALIVE => {
                assert_eq!(report[5..8], [0, 1, 2], "keep-alive with status UPNEEDED");
                keepalives += 1;
            }
            CTAPHID_CBOR => break report,
            other => panic!("unexpected command {other:#04x}: {report:02x?}"),
        }
        assert!(keepalives < 50, "too many keep-alives");
    };
    assert_eq!(answer[7], 0x00, "CTAP2_OK");
    assert!(
        keepalives >= 3,
        "{keepalives} keep-alives for a 500 ms touch"
    );
}
