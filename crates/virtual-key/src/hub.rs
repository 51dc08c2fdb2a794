//! Where the authenticator's HID reports meet the readers of `hidraw0`.
//!
//! Like the kernel's hidraw driver, every open file gets its own copy of every
//! input report produced while it is open, a bounded buffer, and a `read` that
//! blocks until a report is there. A blocked read is a FUSE request whose reply
//! is kept here and sent when the authenticator produces a report, when the
//! watchdog gives up on it, or when the key shuts down.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use fuser::{Errno, PollEvents, PollNotifier, ReplyData};

/// One CTAPHID packet, without the hidraw report number.
pub(crate) type Report = [u8; REPORT_LEN];
pub(crate) const REPORT_LEN: usize = 64;

/// hidraw keeps at most this many unread reports per open file and drops new
/// ones beyond that; a client that stops reading must not make us grow forever.
const QUEUE_LIMIT: usize = 64;

/// `status` byte of a CTAPHID_KEEPALIVE: still working, or waiting for a touch.
pub(crate) const CTAPHID_KEEPALIVE: u8 = 0x80 | 0x3B;

struct PendingRead {
    reply: ReplyData,
    size: usize,
    since: Instant,
}

#[derive(Default)]
struct OpenFile {
    queue: VecDeque<Report>,
    pending: VecDeque<PendingRead>,
    poll: Option<PollNotifier>,
    /// Opened before a simulated unplug: like a hidraw file whose device went
    /// away, it only fails until the client closes it.
    unplugged: bool,
}

#[derive(Default)]
struct State {
    open_files: HashMap<u64, OpenFile>,
    next_handle: u64,
    closed: bool,
}

/// Replies are collected under the lock and sent after it is released, so a slow
/// write to /dev/fuse never holds up the authenticator or other readers.
#[derive(Default)]
#[must_use]
pub(crate) struct Outbox(Vec<Outgoing>);

enum Outgoing {
    Data(ReplyData, Vec<u8>),
    Error(ReplyData, Errno),
    Wake(PollNotifier),
}

impl Outbox {
    pub(crate) fn send(self) {
        for outgoing in self.0 {
            match outgoing {
                Outgoing::Data(reply, data) => reply.data(&data),
                Outgoing::Error(reply, errno) => reply.error(errno),
                // A failed poll wake-up only means nobody is polling any more.
                Outgoing::Wake(notifier) => {
                    let _ = notifier.notify();
                }
            }
        }
    }
}

/// What `read` should do now.
pub(crate) enum ReadOutcome {
    /// The reply was queued or answered; nothing more to do.
    Handled(Outbox),
    /// Answer the read with this error.
    Fail(ReplyData, Errno),
}

#[derive(Default)]
pub(crate) struct Hub {
    state: Mutex<State>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent before anything that
        // could panic, so a poisoned lock still guards usable data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new open file of `hidraw0`; `None` once the key is shutting down.
    pub(crate) fn open(&self) -> Option<u64> {
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        state.next_handle += 1;
        let handle = state.next_handle;
        state.open_files.insert(handle, OpenFile::default());
        Some(handle)
    }

    pub(crate) fn release(&self, handle: u64) -> Outbox {
        let mut outbox = Outbox::default();
        if let Some(file) = self.lock().open_files.remove(&handle) {
            // The kernel releases a file only after its reads returned; this is a
            // safety net so no reply is ever dropped unanswered.
            for read in file.pending {
                outbox.0.push(Outgoing::Error(read.reply, Errno::EIO));
            }
        }
        outbox
    }

    /// A `read` of one report; blocks (keeps the reply) when none is queued,
    /// unless the file was opened non-blocking.
    pub(crate) fn read(
        &self,
        handle: u64,
        size: usize,
        nonblocking: bool,
        reply: ReplyData,
    ) -> ReadOutcome {
        let mut state = self.lock();
        if state.closed {
            return ReadOutcome::Fail(reply, Errno::EIO);
        }
        let Some(file) = state.open_files.get_mut(&handle) else {
            return ReadOutcome::Fail(reply, Errno::EBADF);
        };
        if file.unplugged {
            return ReadOutcome::Fail(reply, Errno::EIO);
        }
        let mut outbox = Outbox::default();
        if let Some(report) = file.queue.pop_front() {
            outbox.0.push(Outgoing::Data(
                reply,
                report[..size.min(REPORT_LEN)].to_vec(),
            ));
        } else if nonblocking {
            return ReadOutcome::Fail(reply, Errno::EAGAIN);
        } else {
            file.pending.push_back(PendingRead {
                reply,
                size,
                since: Instant::now(),
            });
        }
        ReadOutcome::Handled(outbox)
    }

    /// `poll`: readable when a report is queued. Remembers the notifier so the
    /// next report wakes the poller.
    pub(crate) fn poll(&self, handle: u64, notifier: Option<PollNotifier>) -> PollEvents {
        let mut state = self.lock();
        if state.closed {
            return PollEvents::POLLERR | PollEvents::POLLHUP;
        }
        let Some(file) = state.open_files.get_mut(&handle) else {
            return PollEvents::POLLNVAL;
        };
        if file.unplugged {
            return PollEvents::POLLERR | PollEvents::POLLHUP;
        }
        if notifier.is_some() {
            file.poll = notifier;
        }
        let writable = PollEvents::POLLOUT | PollEvents::POLLWRNORM;
        if file.queue.is_empty() {
            writable
        } else {
            writable | PollEvents::POLLIN | PollEvents::POLLRDNORM
        }
    }

    /// Hands a report from the authenticator to every open file, as hidraw does.
    pub(crate) fn deliver(&self, report: &Report) -> Outbox {
        let mut outbox = Outbox::default();
        let mut state = self.lock();
        if state.closed {
            return outbox;
        }
        for file in state.open_files.values_mut().filter(|file| !file.unplugged) {
            if let Some(read) = file.pending.pop_front() {
                let data = report[..read.size.min(REPORT_LEN)].to_vec();
                outbox.0.push(Outgoing::Data(read.reply, data));
                continue;
            }
            // Keep-alives repeat every 100 ms while a client may sleep between
            // reads (ctap-hid-fido2 does): queueing identical ones back to back
            // would only delay the real answer.
            let duplicate_keepalive =
                report[4] == CTAPHID_KEEPALIVE && file.queue.back() == Some(report);
            if !duplicate_keepalive && file.queue.len() < QUEUE_LIMIT {
                file.queue.push_back(*report);
            }
            if let Some(notifier) = file.poll.take() {
                outbox.0.push(Outgoing::Wake(notifier));
            }
        }
        outbox
    }

    /// The watchdog: fails every read that has waited longer than `limit`, so a
    /// stalled authenticator makes the client's call fail instead of hang.
    /// Returns how many reads it failed.
    pub(crate) fn expire(&self, limit: Duration) -> (usize, Outbox) {
        let mut outbox = Outbox::default();
        let now = Instant::now();
        let mut state = self.lock();
        for file in state.open_files.values_mut() {
            while file
                .pending
                .front()
                .is_some_and(|read| now.duration_since(read.since) >= limit)
            {
                if let Some(read) = file.pending.pop_front() {
                    outbox.0.push(Outgoing::Error(read.reply, Errno::EIO));
                }
            }
        }
        (outbox.0.len(), outbox)
    }

    /// Refuses further I/O and fails every blocked read, so unmounting does not
    /// wait on clients. Also wakes pollers so they see the hang-up.
    pub(crate) fn close(&self) -> Outbox {
        let mut outbox = Outbox::default();
        let mut state = self.lock();
        state.closed = true;
        for file in state.open_files.values_mut() {
            for read in file.pending.drain(..) {
                outbox.0.push(Outgoing::Error(read.reply, Errno::EIO));
            }
            if let Some(notifier) = file.poll.take() {
                outbox.0.push(Outgoing::Wake(notifier));
            }
        }
        outbox
    }

    /// Whether writes through this open file can reach the authenticator:
    /// `Err(EIO)` once the key shuts down, `Err(ENODEV)` after an unplug, as
    /// hidraw answers.
    pub(crate) fn check_writable(&self, handle: u64) -> Result<(), Errno> {
        let state = self.lock();
        if state.closed {
            return Err(Errno::EIO);
        }
        match state.open_files.get(&handle) {
            Some(file) if file.unplugged => Err(Errno::ENODEV),
            Some(_) => Ok(()),
            None => Err(Errno::EBADF),
        }
    }

    /// A simulated unplug: every file open now fails from here on (blocked reads
    /// at once); files opened afterwards talk to the key as usual.
    pub(crate) fn unplug(&self) -> Outbox {
        let mut outbox = Outbox::default();
        let mut state = self.lock();
        for file in state.open_files.values_mut() {
            file.unplugged = true;
            file.queue.clear();
            for read in file.pending.drain(..) {
                outbox.0.push(Outgoing::Error(read.reply, Errno::EIO));
            }
            if let Some(notifier) = file.poll.take() {
                outbox.0.push(Outgoing::Wake(notifier));
            }
        }
        outbox
    }
}
