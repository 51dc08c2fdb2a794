//! The terminal wizard: the same enrollment engine as `skset enroll`, driven by a person,
//! and the same audit as `skset audit` (Home → Audit: a form, then the findings).
//!
//! Elm-style, in four parts you can see in the tree:
//! - [`message`]: everything that can happen (keys, ticks, answers from the worker);
//! - [`update`]: `update(&mut App, Msg) -> Vec<Effect>`, the only place state changes;
//! - [`effects`]: the [`effects::Runner`] executes device and file work on a worker thread
//!   and answers with messages over the channel the main loop reads;
//! - [`view`]: `view(&App, &mut Frame)`, pure drawing.
//!
//! The main loop below waits on one channel fed by three producers (input thread, tick
//! thread, worker), so the screen keeps redrawing while a device call blocks.
//!
//! Where output goes: the binary has pointed fd 1 at /dev/null (ctap-hid-fido2 `println!`s)
//! and hands [`run`] the real stdout it saved; the wizard draws only through that writer.
//! While the wizard owns the screen, fd 2 is pointed at /dev/null too (the virtual key and
//! hidapi may `eprintln!`), and put back on exit and in the panic hook before the panic
//! message is printed. Raw mode and the terminal size go through `/dev/tty` (crossterm), never
//! through fd 1. `Terminal::clear` is never called: ratatui implements it with a cursor
//! position query written to fd 1, which here is /dev/null and would stall.

pub mod app;
pub mod effects;
pub mod message;
pub mod summary;
pub mod theme;
pub mod update;
pub mod view;
pub mod widgets;

use app::{App, WizardOptions};
use crossterm::event::{self, Event, KeyEventKind};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use effects::{DeviceExecutor, Runner};
use message::Msg;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;
use theme::Theme;

/// How often the clock ticks (spinner, blinking touch prompt).
pub const TICK: Duration = Duration::from_millis(200);

/// What the wizard leaves behind for the caller to print on stdout.
#[derive(Debug, Default)]
pub struct WizardExit {
    pub text: Option<String>,
}

/// Runs the wizard on the terminal, drawing through `out` (the real stdout the binary saved).
pub fn run<W: Write>(out: W, options: WizardOptions) -> io::Result<WizardExit> {
    let theme = Theme::from_env();
    let stderr = StderrSilencer::start();
    let mut terminal = TerminalSession::enter(out)?;
    let hook = PanicHook::install(stderr.saved_copy());

    let (tx, rx) = mpsc::channel();
    let input = InputThread::spawn(tx.clone())?;
    let _signals = SignalThread::spawn(tx.clone())?;
    spawn_ticker(tx.clone())?;
    let runner = Runner::spawn(tx.clone(), DeviceExecutor::new(tx))?;
    let mut app = App::new(options, theme);

    let result = event_loop(&mut terminal.terminal, &mut app, &rx, &runner);

    input.stop();
    // Let the worker drop the device and unmount the simulated key, if it is not stuck.
    runner.shutdown(Duration::from_secs(3));
    drop(terminal);
    drop(hook);
    drop(stderr);
    result.map(|()| WizardExit {
        text: app.exit_text.take(),
    })
}

fn event_loop<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    app: &mut App,
    rx: &Receiver<Msg>,
    runner: &Runner,
) -> io::Result<()> {
    terminal.draw(|frame| view::view(app, frame))?;
    while !app.quit {
        let Ok(msg) = rx.recv() else { break };
        dispatch(app, runner, msg);
        // Apply whatever else is already queued (a burst of keys, events), then draw once.
        while !app.quit {
            match rx.try_recv() {
                Ok(msg) => dispatch(app, runner, msg),
                Err(_) => break,
            }
        }
        if !app.quit {
            terminal.draw(|frame| view::view(app, frame))?;
        }
    }
    Ok(())
}

/// One message through `update`, its effects to the runner.
pub fn dispatch(app: &mut App, runner: &Runner, msg: Msg) {
    for effect in update::update(app, msg) {
        runner.send(effect);
    }
}

/// Raw mode and the alternate screen for as long as it lives.
struct TerminalSession<W: Write> {
    terminal: Terminal<CrosstermBackend<W>>,
}

impl<W: Write> TerminalSession<W> {
    fn enter(mut out: W) -> io::Result<TerminalSession<W>> {
        enable_raw_mode()?;
        if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
            let _ = disable_raw_mode();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(TerminalSession { terminal }),
            Err(e) => {
                emergency_restore();
                Err(e)
            }
        }
    }
}

impl<W: Write> Drop for TerminalSession<W> {
    fn drop(&mut self) {
        let _ = disable_raw_mode();
        let _ = execute!(
            self.terminal.backend_mut(),
            LeaveAlternateScreen,
            cursor::Show
        );
    }
}

/// Puts the terminal back from anywhere (the panic hook): raw mode off via /dev/tty, and
/// the escape sequences written to /dev/tty, since the drawing writer is out of reach.
fn emergency_restore() {
    let _ = disable_raw_mode();
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = execute!(tty, LeaveAlternateScreen, cursor::Show);
    }
}

/// Points fd 2 at /dev/null while the wizard draws, and back afterwards.
struct StderrSilencer {
    saved: Option<OwnedFd>,
}

impl StderrSilencer {
    fn start() -> StderrSilencer {
        let Ok(saved) = rustix::io::dup(io::stderr()) else {
            return StderrSilencer { saved: None };
        };
        match std::fs::OpenOptions::new().write(true).open("/dev/null") {
            Ok(null) if rustix::stdio::dup2_stderr(&null).is_ok() => {
                StderrSilencer { saved: Some(saved) }
            }
            _ => StderrSilencer { saved: None },
        }
    }

    fn saved_copy(&self) -> Option<OwnedFd> {
        self.saved.as_ref().and_then(|fd| fd.try_clone().ok())
    }
}

impl Drop for StderrSilencer {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = rustix::stdio::dup2_stderr(saved);
        }
    }
}

/// While the wizard runs: a panic on the UI thread restores the terminal and stderr first,
/// then the previous hook prints the message where the user can read it. Panics on worker
/// threads are caught and shown as errors, so the screen is left alone for them.
struct PanicHook {
    previous: Arc<Mutex<Option<PreviousHook>>>,
}

type PreviousHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync + 'static>;

impl PanicHook {
    fn install(saved_stderr: Option<OwnedFd>) -> PanicHook {
        let previous: Arc<Mutex<Option<PreviousHook>>> =
            Arc::new(Mutex::new(Some(std::panic::take_hook())));
        let ui_thread: ThreadId = std::thread::current().id();
        let restored = AtomicBool::new(false);
        let chained = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == ui_thread && !restored.swap(true, Ordering::SeqCst) {
                emergency_restore();
                if let Some(fd) = &saved_stderr {
                    let _ = rustix::stdio::dup2_stderr(fd);
                }
            }
            if let Ok(guard) = chained.lock() {
                if let Some(previous) = guard.as_ref() {
                    previous(info);
                }
            }
        }));
        PanicHook { previous }
    }
}

impl Drop for PanicHook {
    fn drop(&mut self) {
        // Put the binary's own hook back.
        let previous = self.previous.lock().ok().and_then(|mut p| p.take());
        let _ = std::panic::take_hook();
        if let Some(previous) = previous {
            std::panic::set_hook(previous);
        }
    }
}

/// Reads keys and resizes from the terminal (crossterm reads /dev/tty when stdin is not one).
struct InputThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl InputThread {
    fn spawn(tx: Sender<Msg>) -> io::Result<InputThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("skset-tui-input".into())
            .spawn(move || {
                // Poll with a timeout so `stop` is seen promptly and no key typed after the
                // wizard ends is swallowed by this thread.
                while !flag.load(Ordering::SeqCst) {
                    match event::poll(Duration::from_millis(50)) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(_) => break,
                    }
                    let msg = match event::read() {
                        Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
                        Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                        Ok(_) => continue,
                        Err(_) => break,
                    };
                    if tx.send(msg).is_err() {
                        break;
                    }
                }
            })?;
        Ok(InputThread {
            stop,
            thread: Some(thread),
        })
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Turns SIGTERM and SIGHUP (a closed terminal) into [`Msg::Terminate`], so a killed wizard
/// still leaves raw mode and the alternate screen. Dropping this ends the thread; skset exits
/// right after the wizard, so nothing relies on the signals' default action afterwards.
struct SignalThread {
    handle: signal_hook::iterator::Handle,
}

impl SignalThread {
    fn spawn(tx: Sender<Msg>) -> io::Result<SignalThread> {
        use signal_hook::consts::{SIGHUP, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP])?;
        let handle = signals.handle();
        std::thread::Builder::new()
            .name("skset-tui-signals".into())
            .spawn(move || {
                if signals.forever().next().is_some() {
                    let _ = tx.send(Msg::Terminate);
                }
            })?;
        Ok(SignalThread { handle })
    }
}

impl Drop for SignalThread {
    fn drop(&mut self) {
        self.handle.close();
    }
}

fn spawn_ticker(tx: Sender<Msg>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("skset-tui-tick".into())
        .spawn(move || {
            // Ends when the main loop drops the receiver.
            while tx.send(Msg::Tick).is_ok() {
                std::thread::sleep(TICK);
            }
        })?;
    Ok(())
}
