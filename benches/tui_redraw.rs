//! How quickly the wizard shows something, and whether it keeps redrawing while the worker
//! is stuck in a device call. Printed, not asserted (numbers depend on the machine).
//!
//! - first frame: `App::new` + one draw at 80x24, through the crossterm backend into a sink
//!   (so escape-sequence encoding is included), and through ratatui's TestBackend;
//! - redraw while pending: the effect runner executes a fake device call that blocks for
//!   2 s; meanwhile ticks go through the same channel, `update` and `view` as in the real
//!   main loop, and each tick's send-to-frame-written time is measured.
//!
//! Run: cargo bench --bench tui_redraw

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::Terminal;
use skset::tui::app::{App, WizardOptions};
use skset::tui::effects::{Effect, Executor, Runner};
use skset::tui::message::{Done, Msg};
use skset::tui::theme::Theme;
use skset::tui::{dispatch, view::view};
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

/// A device that takes its time: every effect blocks the worker for `delay`.
struct SlowDevice {
    delay: Duration,
}

impl Executor for SlowDevice {
    fn execute(&mut self, _effect: Effect, reply: &Sender<Msg>) {
        std::thread::sleep(self.delay);
        let _ = reply.send(Msg::Done(Done::Devices(Ok(vec![]))));
    }
}

fn options() -> WizardOptions {
    WizardOptions {
        out_dir: None,
        device: None,
        simulate: false,
        host_name: "bench".into(),
        home: Some(PathBuf::from("/home/user")),
        simulated_out_dir: PathBuf::from("/tmp/skset-simulated-bench"),
    }
}

/// The crossterm backend writing into a sink, at a fixed 80x24: a fullscreen viewport would
/// ask the terminal for its size on every frame, and without a tty crossterm falls back to
/// running `tput`, which would swamp what is measured. (On a real terminal that query is
/// an ioctl on /dev/tty, microseconds.)
fn sink_terminal() -> Terminal<CrosstermBackend<std::io::Sink>> {
    let options = ratatui::TerminalOptions {
        viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 80, 24)),
    };
    Terminal::with_options(CrosstermBackend::new(std::io::sink()), options).unwrap()
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<52} n={:<5} median {:>9.1?}  p99 {:>9.1?}  max {:>9.1?}",
        samples.len(),
        pick(0.5),
        pick(0.99),
        samples[samples.len() - 1]
    );
}

fn main() {
    println!("skset wizard: time to first frame and redraw latency (80x24)\n");

    let mut first_crossterm = Vec::new();
    let mut first_test = Vec::new();
    for _ in 0..300 {
        let start = Instant::now();
        let app = App::new(options(), Theme { color: true });
        let mut terminal = sink_terminal();
        terminal.draw(|f| view(&app, f)).unwrap();
        first_crossterm.push(start.elapsed());

        let start = Instant::now();
        let app = App::new(options(), Theme { color: true });
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|f| view(&app, f)).unwrap();
        first_test.push(start.elapsed());
    }
    stats(
        "first frame (App::new + draw, crossterm into a sink)",
        first_crossterm,
    );
    stats("first frame (App::new + draw, TestBackend)", first_test);

    // Redraws while the worker is blocked in a 2 s "device call".
    let delay = Duration::from_secs(2);
    let (tx, rx) = mpsc::channel();
    let runner = Runner::spawn(tx.clone(), SlowDevice { delay }).unwrap();
    let mut app = App::new(options(), Theme { color: true });
    let mut terminal = sink_terminal();
    terminal.draw(|f| view(&app, f)).unwrap();
    // Home -> Enroll: the worker starts "looking for keys" and blocks.
    dispatch(
        &mut app,
        &runner,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(app.pending.is_some());
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut answered_after = None;
    while answered_after.is_none() {
        let sent = Instant::now();
        tx.send(Msg::Tick).unwrap();
        // Take what is queued (the tick, or the worker's answer) like the main loop does.
        let msg = rx.recv().unwrap();
        let was_done = matches!(msg, Msg::Done(_));
        dispatch(&mut app, &runner, msg);
        while let Ok(msg) = rx.try_recv() {
            if matches!(msg, Msg::Done(_)) {
                answered_after = Some(started.elapsed());
            }
            dispatch(&mut app, &runner, msg);
        }
        terminal.draw(|f| view(&app, f)).unwrap();
        if was_done {
            answered_after = Some(started.elapsed());
        } else {
            latencies.push(sent.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let frames = latencies.len();
    stats(
        "redraw while a device call blocks (tick -> frame)",
        latencies,
    );
    println!(
        "{:<52} {frames} frames drawn during the {:.1?} call (answer after {:.2?})",
        "frames while pending",
        delay,
        answered_after.unwrap_or_default()
    );
    runner.shutdown(Duration::from_secs(3));
}
