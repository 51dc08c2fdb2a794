//! `skset-virtual-key`: serve a virtual FIDO2 security key until SIGINT/SIGTERM.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use virtual_key::{Options, Touch, VirtualKey, MAX_RESIDENT_KEYS_LIMIT};

const USAGE: &str = "\
Usage: skset-virtual-key --dir DIR [--touch accept|deny|timeout] [--touch-delay-ms N]
                         [--watchdog-secs N] [--max-resident-keys N]

Runs Google's OpenSK authenticator in this process and serves it as DIR/hidraw0,
a FUSE file that behaves like a Linux hidraw device, so FIDO2 clients that open
a hidraw path (ctap-hid-fido2, hidapi) use it like a security key on USB.
Prints DIR/hidraw0 on stdout once it can be opened, then serves until SIGINT or
SIGTERM, and unmounts. Closing stdin does not stop it.

Options:
  --dir DIR               existing directory to mount on (preferably empty)
  --touch WHAT            what the user does when asked for presence
                          (default accept; deny -> CTAP2_ERR_OPERATION_DENIED,
                          timeout -> CTAP2_ERR_USER_ACTION_TIMEOUT)
  --touch-delay-ms N      how long the user takes; keep-alives are sent meanwhile
                          (default 0)
  --watchdog-secs N       a read with no answer for N seconds fails with EIO
                          (default 10)
  --max-resident-keys N   discoverable credential slots, 1..=150 (default 150)
  -h, --help              show this help

Who can run it: root (needs /dev/fuse), or any user when fusermount3 is
installed (Debian/Ubuntu: apt install fuse3) and /dev/fuse is world
read-writable (Debian's default). Run as root, the device is open to every
local user (mode 0666); as a user, only to that user unless /etc/fuse.conf has
user_allow_other. With fusermount3 and root, even kill -9 leaves no dead mount.

Control file: DIR/control changes the behaviour while the key runs. Write one
command per line; invalid lines fail with EINVAL and change nothing:
  echo 'touch deny' > DIR/control        (or: touch accept, touch timeout)
  echo 'touch-delay-ms 1500' > DIR/control
  echo 'stall on' > DIR/control          (the key stops answering; stall off)
  echo 'watchdog-ms 2000' > DIR/control
  echo 'replug' > DIR/control            (unplug and plug back: open files fail,
                                          PIN/credentials stay)
  cat DIR/control                        (current settings and counters)

Not modelled: attestation is self-attestation without x5c, the AAGUID is zero,
udev does not list the device, and libfido2 (OpenSSH's built-in USB
middleware) will not open it: it wants a character device.
";

struct Args {
    dir: PathBuf,
    options: Options,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut dir = None;
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        // Accept both "--flag value" and "--flag=value".
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--touch" => options.touch = value()?.parse::<Touch>()?,
            "--touch-delay-ms" => {
                options.touch_delay = Duration::from_millis(number(&flag, &value()?)?)
            }
            "--watchdog-secs" => match number(&flag, &value()?)? {
                0 => return Err("--watchdog-secs must be at least 1".to_owned()),
                secs => options.watchdog = Duration::from_secs(secs),
            },
            "--max-resident-keys" => {
                let slots = number(&flag, &value()?)?;
                options.max_resident_keys = Some(
                    usize::try_from(slots)
                        .ok()
                        .filter(|n| (1..=MAX_RESIDENT_KEYS_LIMIT).contains(n))
                        .ok_or_else(|| {
                            format!("--max-resident-keys must be between 1 and {MAX_RESIDENT_KEYS_LIMIT}")
                        })?,
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let dir = dir.ok_or("--dir DIR is required")?;
    Ok(Some(Args { dir, options }))
}

fn number(flag: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} needs a whole number, not {value:?}"))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("skset-virtual-key: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Register before mounting, so a signal that arrives early still unmounts.
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("skset-virtual-key: cannot handle SIGINT/SIGTERM: {error}");
            return ExitCode::FAILURE;
        }
    };
    let key = match VirtualKey::start(&args.dir, args.options) {
        Ok(key) => key,
        Err(error) => {
            eprintln!("skset-virtual-key: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    // A closed stdout is no reason to stop serving; the caller may not read it.
    let _ = writeln!(stdout, "{}", key.path().display());
    let _ = stdout.flush();

    if let Some(signal) = signals.forever().next() {
        eprintln!(
            "skset-virtual-key: signal {signal}, unmounting {}",
            args.dir.display()
        );
    }
    drop(key);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_all_flags() {
        let args = parse(&[
            "--dir",
            "/tmp/k",
            "--touch=deny",
            "--touch-delay-ms",
            "1500",
            "--watchdog-secs",
            "3",
            "--max-resident-keys",
            "2",
        ]);
        let Ok(Some(args)) = args else {
            panic!("flags should parse: {:?}", args.err());
        };
        assert_eq!(args.dir, PathBuf::from("/tmp/k"));
        assert_eq!(args.options.touch, Touch::Deny);
        assert_eq!(args.options.touch_delay, Duration::from_millis(1500));
        assert_eq!(args.options.watchdog, Duration::from_secs(3));
        assert_eq!(args.options.max_resident_keys, Some(2));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--dir"]).is_err());
        assert!(parse(&["--dir", "d", "--touch", "maybe"]).is_err());
        assert!(parse(&["--dir", "d", "--watchdog-secs", "0"]).is_err());
        assert!(parse(&["--dir", "d", "--max-resident-keys", "151"]).is_err());
        assert!(parse(&["--dir", "d", "--frobnicate"]).is_err());
        assert!(matches!(parse(&["--help"]), Ok(None)));
    }
}
