//! Run-time behaviour of the virtual key: what the "user" does when the
//! authenticator asks for presence, and whether the authenticator answers at all.
//!
//! The same settings are changed through the library ([`crate::VirtualKey::set_touch`]
//! and friends) and through the `control` file, so a shell script or another process
//! can script the user while a client is talking to the key.

use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// What the simulated user does when the authenticator asks for user presence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Touch {
    /// The user touches the key: the request goes through.
    #[default]
    Accept,
    /// The user refuses (on a real key: a button press that means "no", or a
    /// platform that declines): the request fails with
    /// `CTAP2_ERR_OPERATION_DENIED` (0x27).
    Deny,
    /// The user never touches: the request fails with
    /// `CTAP2_ERR_USER_ACTION_TIMEOUT` (0x2F) once the touch delay has passed.
    Timeout,
}

impl Touch {
    /// The word used for this behaviour on the command line and in the control file.
    pub fn as_str(self) -> &'static str {
        match self {
            Touch::Accept => "accept",
            Touch::Deny => "deny",
            Touch::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for Touch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Touch {
    type Err = String;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word {
            "accept" => Ok(Touch::Accept),
            "deny" => Ok(Touch::Deny),
            "timeout" => Ok(Touch::Timeout),
            other => Err(format!(
                "unknown touch behaviour {other:?}: use accept, deny or timeout"
            )),
        }
    }
}

/// The settings that can change while the key runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) touch: Touch,
    pub(crate) touch_delay: Duration,
    pub(crate) stalled: bool,
    pub(crate) watchdog: Duration,
}

/// One line written to the control file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Touch(Touch),
    TouchDelay(Duration),
    Stall(bool),
    Watchdog(Duration),
    /// Not a setting: unplug the key and plug it back in.
    Replug,
}

/// The words the control file understands, for error messages and `--help`.
pub(crate) const CONTROL_SYNTAX: &str = "touch accept|deny|timeout, touch-delay-ms N, \
     stall on|off, watchdog-ms N, replug (one per line; lines starting with # are ignored)";

/// Parses everything written to the control file in one `write`.
///
/// All lines are parsed before any is applied, so a bad line changes nothing.
pub(crate) fn parse_commands(text: &str) -> Result<Vec<Command>, String> {
    let mut commands = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        commands.push(parse_command(line)?);
    }
    if commands.is_empty() {
        return Err(format!("no command given: expected {CONTROL_SYNTAX}"));
    }
    Ok(commands)
}

fn parse_command(line: &str) -> Result<Command, String> {
    if line.split_whitespace().eq(["replug"]) {
        return Ok(Command::Replug);
    }
    let mut words = line.split_whitespace();
    let (Some(name), Some(value), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!("cannot parse {line:?}: expected {CONTROL_SYNTAX}"));
    };
    match name {
        "touch" => value.parse().map(Command::Touch),
        "touch-delay-ms" => parse_millis(value).map(Command::TouchDelay),
        "watchdog-ms" => match parse_millis(value)? {
            // A zero watchdog would fail every read before the key could answer.
            d if d.is_zero() => Err("watchdog-ms must be at least 1".to_owned()),
            d => Ok(Command::Watchdog(d)),
        },
        "stall" => match value {
            "on" => Ok(Command::Stall(true)),
            "off" => Ok(Command::Stall(false)),
            other => Err(format!("unknown stall value {other:?}: use on or off")),
        },
        other => Err(format!(
            "unknown command {other:?}: expected {CONTROL_SYNTAX}"
        )),
    }
}

fn parse_millis(value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("{value:?} is not a number of milliseconds"))
}

impl Settings {
    pub(crate) fn apply(&mut self, command: &Command) {
        match *command {
            Command::Touch(touch) => self.touch = touch,
            Command::TouchDelay(delay) => self.touch_delay = delay,
            Command::Stall(stalled) => self.stalled = stalled,
            Command::Watchdog(watchdog) => self.watchdog = watchdog,
            Command::Replug => {}
        }
    }

    /// What reading the control file shows: the current settings, written as the
    /// commands that would set them, so the output can be written back.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(text, "touch {}", self.touch);
        let _ = writeln!(text, "touch-delay-ms {}", self.touch_delay.as_millis());
        let _ = writeln!(text, "stall {}", if self.stalled { "on" } else { "off" });
        let _ = writeln!(text, "watchdog-ms {}", self.watchdog.as_millis());
        text
    }
}

/// Settings shared by the FUSE thread, the authenticator thread and the owner.
#[derive(Debug)]
pub(crate) struct Controls {
    settings: Mutex<Settings>,
}

impl Controls {
    pub(crate) fn new(settings: Settings) -> Self {
        Controls {
            settings: Mutex::new(settings),
        }
    }

    pub(crate) fn get(&self) -> Settings {
        self.lock().clone()
    }

    pub(crate) fn apply(&self, commands: &[Command]) {
        let mut settings = self.lock();
        for command in commands {
            settings.apply(command);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Settings> {
        // Settings are plain values: a panic elsewhere cannot leave them half-written.
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Settings {
        Settings {
            touch: Touch::Accept,
            touch_delay: Duration::ZERO,
            stalled: false,
            watchdog: Duration::from_secs(10),
        }
    }

    #[test]
    fn parses_every_command() {
        let commands = parse_commands(
            "touch deny\ntouch-delay-ms 1500\n# comment\n\nstall on\nwatchdog-ms 200\nreplug\n",
        );
        assert_eq!(
            commands,
            Ok(vec![
                Command::Touch(Touch::Deny),
                Command::TouchDelay(Duration::from_millis(1500)),
                Command::Stall(true),
                Command::Watchdog(Duration::from_millis(200)),
                Command::Replug,
            ])
        );
        assert_eq!(
            parse_commands("  touch   timeout  "),
            Ok(vec![Command::Touch(Touch::Timeout)])
        );
        assert_eq!(parse_commands("stall off"), Ok(vec![Command::Stall(false)]));
    }

    #[test]
    fn rejects_bad_lines() {
        for bad in [
            "",
            "\n# only a comment\n",
            "touch",
            "touch maybe",
            "touch accept now",
            "touch-delay-ms -1",
            "touch-delay-ms soon",
            "stall yes",
            "watchdog-ms 0",
            "reboot now",
            "touch accept\nbogus line",
            "replug now",
        ] {
            assert!(parse_commands(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rendered_settings_parse_back_to_the_same_settings() {
        let mut settings = defaults();
        settings.apply(&Command::Touch(Touch::Timeout));
        settings.apply(&Command::TouchDelay(Duration::from_millis(250)));
        settings.apply(&Command::Stall(true));
        let text = settings.render();
        assert_eq!(
            text,
            "touch timeout\ntouch-delay-ms 250\nstall on\nwatchdog-ms 10000\n"
        );
        let mut round_trip = defaults();
        for command in parse_commands(&text).unwrap_or_default() {
            round_trip.apply(&command);
        }
        assert_eq!(round_trip, settings);
    }
}
