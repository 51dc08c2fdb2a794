//! Where output goes. ctap-hid-fido2 `println!`s unconditionally (e.g. on every PIN retry
//! query), and the TUI draws on the terminal, so library output must never reach fd 1.
//! At start-up the binary moves the real stdout to a private descriptor and points fd 1
//! at /dev/null; skset's own machine output is written through [`Stdout`] only.
//! `clippy::print_stdout` is denied in the binary so nothing bypasses it by accident.

/// `writeln!` to skset's stdout. A write error (a closed pipe, as in `skset ... | head`)
/// ends the output, not the command: there is nobody left to read it.
macro_rules! outln {
    ($out:expr) => {{
        let _ = writeln!($out);
    }};
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use outln;

use std::fs::File;
use std::io::{self, LineWriter, Write};

/// The process's real standard output, held privately.
pub struct Stdout {
    inner: LineWriter<Box<dyn Write + Send>>,
}

impl Stdout {
    /// Takes fd 1 away from libraries. If that is impossible (no /dev/null, no spare
    /// descriptor) output still works, only library noise could leak.
    pub fn claim() -> Stdout {
        let writer: Box<dyn Write + Send> = match Self::redirect() {
            Ok(real) => Box::new(real),
            Err(_) => Box::new(io::stdout()),
        };
        Stdout {
            inner: LineWriter::new(writer),
        }
    }

    fn redirect() -> io::Result<File> {
        let real = rustix::io::dup(io::stdout())?;
        let null = File::options().write(true).open("/dev/null")?;
        rustix::stdio::dup2_stdout(&null)?;
        Ok(File::from(real))
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
