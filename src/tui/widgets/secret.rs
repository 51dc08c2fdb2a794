//! A masked input for PINs and passphrases.
//!
//! The buffer is a `Zeroizing<String>` whose capacity is reserved when the input is made
//! and never exceeded (keystrokes past it are refused), so the String never reallocates and
//! no stale copy of a half-typed secret is left in freed memory. `take` moves the buffer out
//! (into `Pin::new` or `Passphrase::new`) and leaves a fresh reserved one behind. Debug
//! shows only the length.

use zeroize::{Zeroize, Zeroizing};

pub struct SecretInput {
    buf: Zeroizing<String>,
    capacity: usize,
}

impl SecretInput {
    /// `max_bytes`: the longest secret accepted (a PIN: 63 bytes).
    pub fn new(max_bytes: usize) -> SecretInput {
        SecretInput {
            buf: Zeroizing::new(String::with_capacity(max_bytes)),
            capacity: max_bytes,
        }
    }

    /// Appends a character; false (and nothing stored) when it would not fit.
    pub fn push(&mut self, c: char) -> bool {
        if self.buf.len() + c.len_utf8() > self.capacity || c.is_control() {
            return false;
        }
        self.buf.push(c);
        true
    }

    pub fn pop(&mut self) {
        // The popped char's bytes stay in the spare capacity until the next push or
        // zeroize; the whole allocation is wiped on drop.
        self.buf.pop();
    }

    pub fn clear(&mut self) {
        self.buf.zeroize();
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Characters typed, for the mask and the length checks.
    pub fn chars(&self) -> usize {
        self.buf.chars().count()
    }

    /// For comparing two entries and estimating strength; never copy it.
    pub fn expose(&self) -> &str {
        &self.buf
    }

    pub fn matches(&self, other: &SecretInput) -> bool {
        self.buf.as_str() == other.buf.as_str()
    }

    /// Moves the secret out; the input is empty (with the same reserved room) afterwards.
    pub fn take(&mut self) -> Zeroizing<String> {
        std::mem::replace(
            &mut self.buf,
            Zeroizing::new(String::with_capacity(self.capacity)),
        )
    }

    /// One `•` per character typed.
    pub fn mask(&self) -> String {
        "•".repeat(self.chars())
    }
}

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretInput(<{} chars redacted>)", self.chars())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_grows_past_the_reserved_room_and_never_shows_in_debug() {
        let mut s = SecretInput::new(8);
        let start = s.buf.as_ptr();
        for c in "12345678".chars() {
            assert!(s.push(c));
        }
        assert!(!s.push('9'));
        assert_eq!(s.buf.as_ptr(), start, "the buffer must not move");
        assert_eq!(format!("{s:?}"), "SecretInput(<8 chars redacted>)");
        let taken = s.take();
        assert_eq!(taken.as_str(), "12345678");
        assert!(s.is_empty());
        assert!(s.buf.capacity() >= 8);
    }
}
