//! Counters shown (as comments) when the control file is read, so a test in
//! another process can check that, say, keep-alives were really sent.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct Stats {
    packets_in: AtomicU64,
    packets_out: AtomicU64,
    keepalives: AtomicU64,
    watchdog_failures: AtomicU64,
}

impl Stats {
    pub(crate) fn count_packet_in(&self) {
        self.packets_in.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_packet_out(&self) {
        self.packets_out.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_keepalive(&self) {
        self.keepalives.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_watchdog_failures(&self, reads: usize) {
        self.watchdog_failures
            .fetch_add(u64::try_from(reads).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn keepalives(&self) -> u64 {
        self.keepalives.load(Ordering::Relaxed)
    }

    pub(crate) fn watchdog_failures(&self) -> u64 {
        self.watchdog_failures.load(Ordering::Relaxed)
    }

    /// Comment lines, ignored if the text is written back to the control file.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        for (name, counter) in [
            ("packets-in", &self.packets_in),
            ("packets-out", &self.packets_out),
            ("keepalives-sent", &self.keepalives),
            ("watchdog-failed-reads", &self.watchdog_failures),
        ] {
            // Writing to a String cannot fail.
            let _ = writeln!(text, "# {name} {}", counter.load(Ordering::Relaxed));
        }
        text
    }
}
