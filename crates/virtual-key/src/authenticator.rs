//! The OpenSK authenticator on its own thread.
//!
//! `opensk::Ctap<TestEnv>` is not `Send`, so it is created and used on one thread
//! that receives CTAPHID packets over a channel and hands every answer to the
//! [`Hub`]. User presence, keep-alives, cancellation and the authenticator's clock
//! are modelled here, because OpenSK's `TestEnv` leaves them to its caller:
//! its user presence is a closure, its clock only moves when advanced, and the
//! keep-alives it sends while waiting for a touch go nowhere.

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use opensk::api::customization::{CustomizationImpl, DEFAULT_CUSTOMIZATION};
use opensk::api::user_presence::{UserPresenceError, UserPresenceResult};
use opensk::ctap::{CtapState, TOUCH_TIMEOUT_MS};
use opensk::env::test::TestEnv;
use opensk::env::Env;
use opensk::{Ctap, Transport};

use crate::control::{Controls, Touch};
use crate::hub::{Hub, Report, CTAPHID_KEEPALIVE};
use crate::stats::Stats;

/// What the FUSE side sends to the authenticator thread.
pub(crate) enum Input {
    /// One 64-byte CTAPHID packet written by a client.
    Packet(Report),
    /// Power-cycle the authenticator: what a real key loses when unplugged
    /// (PIN tokens, the per-boot PIN attempt count, pending commands) is lost;
    /// stored credentials and the PIN stay. Reset is allowed again for 10 s.
    Replug,
    /// Stop: the key is being dropped.
    Shutdown,
}

/// How the authenticator is built; fixed for its lifetime.
pub(crate) struct Setup {
    pub(crate) max_resident_keys: Option<usize>,
}

/// Real keys repeat CTAPHID_KEEPALIVE about every 100 ms while they wait for a
/// touch; OpenSK's own loop uses the same period.
const KEEPALIVE_PERIOD: Duration = Duration::from_millis(100);

/// OpenSK drops a half-received message when the next packet is more than 100 ms
/// (of its clock) late. Clients on a loaded CI machine can be slower than that
/// between the packets of one message, so the clock moves at most this much
/// between them; between messages it follows real time.
const CONTINUATION_CLOCK_STEP: Duration = Duration::from_millis(50);

const KEEPALIVE_STATUS_UPNEEDED: u8 = 2;
const CTAPHID_CANCEL: u8 = 0x80 | 0x11;
const CTAPHID_ERROR: u8 = 0x80 | 0x3F;
const CTAPHID_ERR_CHANNEL_BUSY: u8 = 0x06;

/// Starts the authenticator thread and waits until OpenSK is initialised.
pub(crate) fn spawn(
    setup: Setup,
    controls: Arc<Controls>,
    hub: Arc<Hub>,
    stats: Arc<Stats>,
    inputs: Receiver<Input>,
) -> std::io::Result<JoinHandle<()>> {
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let handle = thread::Builder::new()
        .name("virtual-key-opensk".to_owned())
        .spawn(move || run(setup, controls, hub, stats, inputs, ready_tx))?;
    // OpenSK initialises its storage and keys in well under a second; if the thread
    // died instead, the channel closes and the caller sees an error.
    match ready_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => Ok(handle),
        Err(_) => Err(std::io::Error::other(
            "the OpenSK authenticator thread failed to start",
        )),
    }
}

/// State shared between the packet loop and the user-presence closure, which
/// OpenSK calls from inside `process_hid_packet` on the same thread.
struct Exchange {
    /// Channel of the message being processed: keep-alives go to it.
    cid: [u8; 4],
    /// When OpenSK first asked for presence during this message.
    presence_asked: Option<Instant>,
    last_keepalive: Option<Instant>,
    /// The key was unplugged while this message was processed.
    replugged: bool,
    shutting_down: bool,
}

fn run(
    setup: Setup,
    controls: Arc<Controls>,
    hub: Arc<Hub>,
    stats: Arc<Stats>,
    inputs: Receiver<Input>,
    ready: SyncSender<()>,
) {
    let mut env = TestEnv::default();
    // TestEnv seeds its RNG with 0: every instance would derive the same master
    // keys and accept each other's credential IDs, unlike two real keys.
    env.seed_rng_from_u64(random_seed());
    if let Some(slots) = setup.max_resident_keys {
        *env.customization_mut() = CustomizationImpl {
            max_supported_resident_keys: slots,
            ..DEFAULT_CUSTOMIZATION
        }
        .into();
    }
    let mut ctap = Ctap::new(env);
    let clock = ctap.env().clock().clone();
    let inputs = Rc::new(inputs);
    let exchange = Rc::new(RefCell::new(Exchange {
        cid: [0; 4],
        presence_asked: None,
        last_keepalive: None,
        replugged: false,
        shutting_down: false,
    }));

    {
        let inputs = Rc::clone(&inputs);
        let exchange = Rc::clone(&exchange);
        let controls = Arc::clone(&controls);
        let hub = Arc::clone(&hub);
        let stats = Arc::clone(&stats);
        let clock = clock.clone();
        // OpenSK calls this about every 100 ms (of its clock) while it waits for a
        // touch, until it returns something other than Timeout or its 30 s elapse.
        ctap.env().user_presence().set(move || {
            wait_for_touch(&exchange, &inputs, &controls, &hub, &stats, &|ms| {
                clock.advance(ms)
            })
        });
    }
    // The receiver may already be gone if start() gave up waiting.
    let _ = ready.send(());

    let mut last_packet = Instant::now();
    while let Ok(input) = inputs.recv() {
        let packet = match input {
            Input::Packet(packet) => packet,
            Input::Replug => {
                power_cycle(&mut ctap);
                continue;
            }
            Input::Shutdown => break,
        };
        if controls.get().stalled {
            // A hung authenticator: what it is sent is lost.
            continue;
        }
        stats.count_packet_in();
        let now = Instant::now();
        let mut elapsed = now.duration_since(last_packet);
        if is_continuation(&packet) {
            elapsed = elapsed.min(CONTINUATION_CLOCK_STEP);
        }
        clock.advance(millis(elapsed));
        {
            let mut exchange = exchange.borrow_mut();
            exchange.cid = channel_of(&packet);
            exchange.presence_asked = None;
            exchange.last_keepalive = None;
            exchange.replugged = false;
        }
        let answers = ctap.process_hid_packet(&packet, Transport::MainHid);
        // Time spent waiting for a touch was already added to the clock.
        last_packet = Instant::now();
        if exchange.borrow().replugged {
            // Nobody is left to read the answer of a request cut off by the unplug.
            drop(answers);
            power_cycle(&mut ctap);
            continue;
        }
        for answer in answers {
            stats.count_packet_out();
            hub.deliver(&answer).send();
        }
        // U2F (CTAP1) registration asks for presence by failing until the user
        // has touched; a user who accepts touches right away.
        if ctap.u2f_needs_user_presence() && controls.get().touch == Touch::Accept {
            ctap.u2f_grant_user_presence();
        }
        if exchange.borrow().shutting_down {
            break;
        }
    }
}

/// What unplugging and plugging back a real key does: everything that lives in
/// RAM starts over (PIN/UV tokens, key agreement, the per-boot count of wrong
/// PINs, stateful commands, the 10 s window for authenticatorReset), while
/// storage (credentials, PIN, retries left) stays.
fn power_cycle(ctap: &mut Ctap<TestEnv>) {
    let fresh = CtapState::new(ctap.env());
    *ctap.state() = fresh;
}

/// One slice of OpenSK's wait for user presence.
///
/// Returns `Err(Timeout)` for "still waiting" (OpenSK calls again) and the
/// user's decision once the touch delay has passed. While waiting it sends the
/// keep-alives a real key sends, and handles packets that arrive meanwhile the
/// way OpenSK's firmware does: CANCEL on the waiting channel aborts with
/// CTAP2_ERR_KEEPALIVE_CANCEL, other channels get CTAPHID_ERROR "busy".
fn wait_for_touch(
    exchange: &RefCell<Exchange>,
    inputs: &Receiver<Input>,
    controls: &Controls,
    hub: &Hub,
    stats: &Stats,
    advance_clock: &dyn Fn(usize),
) -> UserPresenceResult {
    let settings = controls.get();
    let now = Instant::now();
    let (cid, asked, keepalive_due) = {
        let mut exchange = exchange.borrow_mut();
        if exchange.shutting_down {
            advance_clock(TOUCH_TIMEOUT_MS);
            return Err(UserPresenceError::Timeout);
        }
        let asked = *exchange.presence_asked.get_or_insert(now);
        let keepalive_due = exchange
            .last_keepalive
            .is_none_or(|last| now.duration_since(last) >= KEEPALIVE_PERIOD);
        (exchange.cid, asked, keepalive_due)
    };

    let waited = now.duration_since(asked);
    if !settings.stalled && waited >= settings.touch_delay {
        return match settings.touch {
            Touch::Accept => Ok(()),
            Touch::Deny => Err(UserPresenceError::Declined),
            Touch::Timeout => {
                // End OpenSK's 30 s wait now: the delay stood for it.
                advance_clock(TOUCH_TIMEOUT_MS);
                Err(UserPresenceError::Timeout)
            }
        };
    }

    if !settings.stalled && keepalive_due {
        stats.count_keepalive();
        hub.deliver(&keepalive(cid)).send();
        exchange.borrow_mut().last_keepalive = Some(now);
    }

    let slice = if settings.stalled {
        KEEPALIVE_PERIOD
    } else {
        (settings.touch_delay - waited).min(KEEPALIVE_PERIOD)
    };
    let outcome = match inputs.recv_timeout(slice) {
        Ok(Input::Packet(packet)) if !settings.stalled => {
            stats.count_packet_in();
            let from = channel_of(&packet);
            if from != cid {
                hub.deliver(&busy_error(from)).send();
                Err(UserPresenceError::Timeout)
            } else if packet[4] == CTAPHID_CANCEL {
                Err(UserPresenceError::Canceled)
            } else {
                // A client must not talk on a channel that is waiting; OpenSK drops it.
                Err(UserPresenceError::Timeout)
            }
        }
        // Lost, like everything sent to a stalled key.
        Ok(Input::Packet(_)) => Err(UserPresenceError::Timeout),
        // Unplugged while waiting for a touch: the request dies with the power;
        // the packet loop drops its answer and starts a fresh state.
        Ok(Input::Replug) => {
            exchange.borrow_mut().replugged = true;
            Err(UserPresenceError::Canceled)
        }
        Ok(Input::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
            exchange.borrow_mut().shutting_down = true;
            advance_clock(TOUCH_TIMEOUT_MS);
            Err(UserPresenceError::Timeout)
        }
        Err(RecvTimeoutError::Timeout) => Err(UserPresenceError::Timeout),
    };
    // A stalled key is frozen: its touch timeout does not run either.
    if !settings.stalled {
        advance_clock(millis(now.elapsed()));
    }
    outcome
}

fn channel_of(packet: &Report) -> [u8; 4] {
    [packet[0], packet[1], packet[2], packet[3]]
}

/// Initialisation packets have the high bit of byte 4 (the command) set.
fn is_continuation(packet: &Report) -> bool {
    packet[4] & 0x80 == 0
}

fn keepalive(cid: [u8; 4]) -> Report {
    single_byte_message(cid, CTAPHID_KEEPALIVE, KEEPALIVE_STATUS_UPNEEDED)
}

fn busy_error(cid: [u8; 4]) -> Report {
    single_byte_message(cid, CTAPHID_ERROR, CTAPHID_ERR_CHANNEL_BUSY)
}

fn single_byte_message(cid: [u8; 4], command: u8, byte: u8) -> Report {
    let mut report = [0; 64];
    report[..4].copy_from_slice(&cid);
    report[4] = command;
    report[5] = 0; // payload length, big-endian: 1
    report[6] = 1;
    report[7] = byte;
    report
}

fn millis(duration: Duration) -> usize {
    usize::try_from(duration.as_millis()).unwrap_or(usize::MAX)
}

/// A different seed per key, without a dependency on a random number crate:
/// std's hasher keys are random per process, mixed with the time and a counter.
fn random_seed() -> u64 {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    RandomState::new().hash_one((now, std::process::id(), thread::current().id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_is_a_one_byte_upneeded_message() {
        let report = keepalive([1, 2, 3, 4]);
        assert_eq!(report[..8], [1, 2, 3, 4, 0xBB, 0, 1, 2]);
        assert!(report[8..].iter().all(|&b| b == 0));
        let busy = busy_error([9, 9, 9, 9]);
        assert_eq!(busy[..8], [9, 9, 9, 9, 0xBF, 0, 1, 6]);
    }

    #[test]
    fn continuation_packets_are_recognised() {
        let mut packet = [0u8; 64];
        packet[4] = 0x90; // CTAPHID_CBOR
        assert!(!is_continuation(&packet));
        packet[4] = 0x00; // sequence 0
        assert!(is_continuation(&packet));
    }

    #[test]
    fn seeds_differ() {
        assert_ne!(random_seed(), random_seed());
    }
}
