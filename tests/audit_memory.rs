//! Bounded memory: a 512 MiB authorized_keys line streams through the audit without being
//! held. Its own test binary, so no other test's allocations move the process's peak.

use std::io::{self, BufRead, Read};
use std::path::Path;

use skset::audit::authorized_keys::audit_authorized_keys;
use skset::audit::modes::ModeIndex;

/// `len` bytes of `A` then a newline and a comment line, made on the fly.
struct Generated {
    left: u64,
    tail: &'static [u8],
    chunk: Vec<u8>,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.fill_buf()?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Generated {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.left > 0 {
            let n = self.left.min(self.chunk.len() as u64) as usize;
            return Ok(&self.chunk[..n]);
        }
        Ok(self.tail)
    }

    fn consume(&mut self, amt: usize) {
        if self.left > 0 {
            self.left -= amt as u64;
        } else {
            self.tail = &self.tail[amt..];
        }
    }
}

/// Peak resident set size of this process (Linux), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_512_mib_line_costs_no_more_than_the_line_cap() {
    let policy = skset::policy::default_policy().unwrap();
    let modes = ModeIndex::new(&policy);
    let before = peak_rss_kib();
    let reader = Generated {
        left: 512 << 20,
        tail: b"\n# end\n",
        chunk: vec![b'A'; 1 << 16],
    };
    let mut findings = Vec::new();
    let stats = audit_authorized_keys(
        &modes,
        Path::new("generated"),
        Some("admin"),
        reader,
        &mut |f| findings.push(f),
    )
    .unwrap();
    assert_eq!(stats.lines, 2);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, "AU031");
    assert!(findings[0].message.contains(&(512u64 << 20).to_string()));
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown = after.saturating_sub(before);
        eprintln!("peak RSS grew by {grown} KiB while streaming 512 MiB");
        assert!(grown < 16 * 1024, "peak RSS grew by {grown} KiB");
    }
}
