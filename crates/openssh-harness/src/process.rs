//! Running a tool with a deadline.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished (or killed) command left behind.
#[derive(Debug, Clone)]
pub struct Output {
    /// What was run, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The deadline passed and the process group was killed.
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success() && !self.timed_out
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.timed_out {
            "timed out and was killed".to_string()
        } else if let Some(code) = self.status.code() {
            format!("exited {code}")
        } else {
            format!("died of signal {:?}", self.status.signal())
        };
        write!(
            f,
            "`{}` {how} after {:.2}s\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.elapsed.as_secs_f32(),
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

/// Runs `command` with `stdin` as its input, waiting at most `timeout`. The command runs in
/// its own process group, and the whole group (ssh-sk-helper, askpass, ...) is killed if
/// the deadline passes.
pub fn run(command: &mut Command, stdin: &[u8], timeout: Duration) -> io::Result<Output> {
    let description = describe(command);
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start {description}: {e}")))?;
    let pid = Some(rustix::process::Pid::from_child(&child));

    // Feed stdin and drain stdout/stderr on threads so no pipe can fill up and block.
    let mut input = child.stdin.take();
    let stdin_data = stdin.to_vec();
    // Detached: the input is small, and a tool that exits unread gives it EPIPE.
    let _feeder = thread::spawn(move || {
        if let Some(input) = input.as_mut() {
            let _ = input.write_all(&stdin_data);
        }
        // Dropping closes the pipe: the tool sees EOF.
    });
    let mut out_reader = drain(child.stdout.take());
    let mut err_reader = drain(child.stderr.take());

    let (status, timed_out) = wait_bounded(&mut child, timeout, pid)?;
    // The tool has exited, but something it started may still hold the pipes (a notifier
    // askpass, a helper). Give them a moment, then kill the rest of the group: it cannot
    // have been reused while those members live.
    if !(out_reader.finish_within(Duration::from_secs(2))
        && err_reader.finish_within(Duration::from_secs(2)))
    {
        if let Some(group) = pid {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        // A member stuck in the kernel (D state) keeps the pipes open even when killed:
        // take what was read so far rather than wait for it.
        out_reader.finish_within(Duration::from_secs(1));
        err_reader.finish_within(Duration::from_secs(1));
    }
    let (stdout, stderr) = (out_reader.text(), err_reader.text());
    Ok(Output {
        command: description,
        status,
        stdout,
        stderr,
        timed_out,
        elapsed: started.elapsed(),
    })
}

/// A pipe being read on its own thread into a buffer that can be looked at any time.
struct Drain {
    buffer: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
    finished: bool,
}

impl Drain {
    fn finish_within(&mut self, limit: Duration) -> bool {
        if !self.finished {
            self.finished = !matches!(
                self.done.recv_timeout(limit),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
        }
        self.finished
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> Drain {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let (tx, done) = mpsc::channel();
    let sink = Arc::clone(&buffer);
    thread::spawn(move || {
        if let Some(mut pipe) = pipe {
            let mut chunk = [0u8; 4096];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        }
        let _ = tx.send(());
    });
    Drain {
        buffer,
        done,
        finished: false,
    }
}

fn wait_bounded(
    child: &mut Child,
    timeout: Duration,
    group: Option<rustix::process::Pid>,
) -> io::Result<(ExitStatus, bool)> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status, false));
        }
        if Instant::now() >= deadline {
            // Kill the group before reaping its leader, so the id cannot have been reused.
            if let Some(group) = group {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = child.kill();
            return Ok((child.wait()?, true));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Kills `child`'s process group (it was started with `process_group(0)`) and reaps it.
pub(crate) fn stop(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    let _ = child.kill();
    let _ = child.wait();
}

fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(' ') {
            format!("'{a}'")
        } else {
            a.into_owned()
        }
    }));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stuck_command_is_killed_with_its_children() {
        let started = Instant::now();
        let out = run(
            Command::new("sh").args(["-c", "sleep 30 & sleep 30"]),
            b"",
            Duration::from_millis(300),
        )
        .unwrap();
        assert!(out.timed_out, "{out}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the background sleep kept a pipe open"
        );
    }

    #[test]
    fn a_leftover_child_holding_the_pipes_is_killed_and_the_output_kept() {
        let started = Instant::now();
        let out = run(
            Command::new("sh").args(["-c", "echo early; sleep 30 & exit 0"]),
            b"",
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(out.success() && !out.timed_out, "{out}");
        assert_eq!(out.stdout, "early\n");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn stdin_stdout_and_status_come_back() {
        let out = run(
            Command::new("sh").args(["-c", "read x; echo got:$x; echo err >&2; exit 3"]),
            b"y\n",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(
            (out.code(), out.stdout.as_str(), out.stderr.as_str()),
            (Some(3), "got:y\n", "err\n")
        );
        assert!(!out.success());
    }
}
