//! Reading text files line by line with a cap on line length, for files of any size.
//!
//! `BufRead::read_line` grows its buffer to whatever the next line is, so a file that is one
//! 2 GB line is a 2 GB allocation. Here a line longer than the cap is skipped while it is
//! read (only its length is kept) and reported as such; memory stays at the cap plus the
//! reader's buffer however large the file.

use std::io::{self, BufRead};

/// No key line comes near this: a 16384-bit RSA key is under 3 KiB of base64, and sshd
/// itself refuses key blobs over 16 KiB (`SSH_MAX_PUBKEY_BYTES`). Options and a comment
/// get the rest.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line as read.
#[derive(Debug, PartialEq, Eq)]
pub enum BoundedLine<'a> {
    /// The line without its `\n` (a `\r` before it is left for the parser).
    Text(&'a [u8]),
    /// Longer than the cap; `len` bytes were skipped.
    TooLong { len: u64 },
}

/// A streaming line reader. `next_line` lends the line until the next call.
pub struct BoundedLines<R> {
    reader: R,
    buf: Vec<u8>,
    line_number: u64,
    max: usize,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R) -> Self {
        Self::with_max(reader, MAX_LINE_BYTES)
    }

    pub fn with_max(reader: R, max: usize) -> Self {
        BoundedLines {
            reader,
            buf: Vec::new(),
            line_number: 0,
            max,
        }
    }

    /// The next line and its 1-based number, `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, BoundedLine<'_>)>> {
        self.buf.clear();
        let mut too_long: Option<u64> = None;
        let mut read_any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !read_any {
                    return Ok(None);
                }
                break;
            }
            read_any = true;
            let (chunk, consumed, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            match too_long.as_mut() {
                Some(len) => *len += chunk.len() as u64,
                None if self.buf.len() + chunk.len() > self.max => {
                    too_long = Some((self.buf.len() + chunk.len()) as u64);
                    // Give the memory back: this buffer will not be used for this line.
                    self.buf = Vec::new();
                }
                None => self.buf.extend_from_slice(chunk),
            }
            self.reader.consume(consumed);
            if done {
                break;
            }
        }
        self.line_number += 1;
        let line = match too_long {
            Some(len) => BoundedLine::TooLong { len },
            None => BoundedLine::Text(&self.buf),
        };
        Ok(Some((self.line_number, line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<(u64, Result<Vec<u8>, u64>)> {
        let mut r = BoundedLines::with_max(io::BufReader::with_capacity(4, input), max);
        let mut out = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            out.push((
                n,
                match l {
                    BoundedLine::Text(t) => Ok(t.to_vec()),
                    BoundedLine::TooLong { len } => Err(len),
                },
            ));
        }
        out
    }

    #[test]
    fn lines_crlf_and_no_final_newline() {
        let got = collect(b"ab\r\n\ncd", 10);
        assert_eq!(
            got,
            vec![
                (1, Ok(b"ab\r".to_vec())),
                (2, Ok(vec![])),
                (3, Ok(b"cd".to_vec()))
            ]
        );
        assert!(collect(b"", 10).is_empty());
    }

    #[test]
    fn long_lines_are_skipped_and_measured() {
        let mut input = vec![b'x'; 100];
        input.extend_from_slice(b"\nok\n");
        let got = collect(&input, 10);
        assert_eq!(got, vec![(1, Err(100)), (2, Ok(b"ok".to_vec()))]);
    }
}
