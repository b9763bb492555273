//! Reading and writing the stream: filling the buffer, finding lines, writing, each bounded by
//! the deadline (or failing with `WouldBlock` in non-blocking mode); and, after a failed write,
//! the wait for a final answer the server sent early.

use std::io;
use std::time::{Duration, Instant};

use super::buffer::borrow_buffer;
use super::{line_too_long, Line, Wire, MAX_LINE};
use crate::error::{Error, ErrorKind, Result};
use crate::transport::Transport;

impl Wire {
    /// Reads from the transport into `out`, mapping errors; `Ok(0)` is a clean end.
    pub fn read_raw(&mut self, out: &mut [u8]) -> Result<usize> {
        loop {
            self.apply_deadline()?;
            match self.io.read(out) {
                Ok(n) => {
                    self.peer_closed |= n == 0 && !out.is_empty();
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.unclean_eof = true;
                    self.peer_closed = true;
                    return Ok(0);
                }
                Err(e) => return Err(self.map_read_error(&e)),
            }
        }
    }

    /// Reads more bytes into the buffer, making room (at most `limit` bytes unconsumed).
    /// Returns the count read, 0 at the end of the stream.
    pub fn fill(&mut self, limit: usize) -> Result<usize> {
        if self.lends && self.buf.is_empty() {
            self.buf = borrow_buffer();
        }
        if self.pos > 0 && self.end == self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let want = (self.buf.len() * 2).min(limit.max(self.block));
            if want <= self.buf.len() {
                return Err(Error::new(ErrorKind::Internal, "read buffer full"));
            }
            self.buf.resize(want, 0);
        }
        let mut end = self.end;
        let n = loop {
            self.apply_deadline()?;
            match self.io.read(&mut self.buf[end..]) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        match n {
            Ok(n) => {
                end += n;
                self.end = end;
                self.peer_closed |= n == 0;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.unclean_eof = true;
                self.peer_closed = true;
                Ok(0)
            }
            Err(e) => Err(self.map_read_error(&e)),
        }
    }

    /// Reads more bytes as [`Wire::fill`] does, waiting at most `wait` (and at most the
    /// timeout option) for them.
    pub fn fill_within(&mut self, wait: Duration, limit: usize) -> Result<usize> {
        let t = self.io_timeout.map_or(wait, |t| t.min(wait));
        let _ = self.io.set_io_timeout(Some(t));
        let r = self.fill(limit);
        let _ = self.io.set_io_timeout(self.io_timeout);
        r
    }

    /// Finds the next line (up to LF) of at most `max` bytes, reading as needed.
    /// A longer line is `LineTooLong`. Does not consume.
    pub fn line(&mut self, max: usize) -> Result<Line> {
        let mut searched = 0;
        loop {
            let avail = &self.buf[self.pos + searched..self.end];
            if let Some(i) = avail.iter().position(|&b| b == b'\n') {
                let end = self.pos + searched + i + 1;
                if end - self.pos > max {
                    return Err(line_too_long(max));
                }
                return Ok(Line::Complete(self.pos, end));
            }
            searched = self.end - self.pos;
            if searched >= max {
                return Err(line_too_long(max));
            }
            // Room for the longest line and its terminator.
            if self.fill(max + 1)? == 0 {
                return Ok(Line::Eof(self.pos, self.end));
            }
        }
    }

    /// Writes `data[*done..]`, advancing `*done` past each byte written, until all is written
    /// or (non-blocking mode) the transport would block, which is `WouldBlock` with `*done`
    /// saying how far it got: the next call goes on from there.
    pub fn write_from(&mut self, data: &[u8], done: &mut usize) -> Result<()> {
        while *done < data.len() {
            self.apply_deadline()?;
            match self.io.write(&data[*done..]) {
                Ok(0) => {
                    let e = io::Error::from(io::ErrorKind::WriteZero);
                    return Err(self.io_error("write to", &e));
                }
                Ok(n) => {
                    *done += n;
                    self.bytes_out += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.nonblocking && e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(self.would_block("write to", crate::transport::WANT_WRITE));
                }
                Err(e) => return Err(self.deadline_error(self.io_error("write to", &e))),
            }
        }
        Ok(())
    }

    /// Writes all of `data` (each write limited by the deadline, when there is one). In
    /// non-blocking mode a write that would block is `WouldBlock` and what was written is
    /// not remembered: calls that must resume use [`Wire::write_from`].
    pub fn write_all(&mut self, data: &[u8]) -> Result<()> {
        let mut done = 0;
        self.write_from(data, &mut done)
    }

    /// The error of a read (`dir` WANT_READ) or write (WANT_WRITE) that would block, noting
    /// what it waits for: the transport's own answer (TLS may read for a write), else `dir`.
    fn would_block(&mut self, what: &str, dir: u8) -> Error {
        let want = self.io.want();
        self.want = if want == 0 { dir } else { want };
        Error::would_block_at(what, &self.peer)
    }

    /// Maps a read error: `WouldBlock` in non-blocking mode, else as [`Wire::read_error`].
    fn map_read_error(&mut self, e: &io::Error) -> Error {
        if self.nonblocking && e.kind() == io::ErrorKind::WouldBlock {
            self.would_block("read from", crate::transport::WANT_READ)
        } else {
            self.read_error(e)
        }
    }

    /// Maps a transport error; a timeout is the deadline's when the deadline has passed.
    fn read_error(&self, e: &io::Error) -> Error {
        let err = self.io_error("read from", e);
        self.deadline_error(err)
    }

    fn deadline_error(&self, err: Error) -> Error {
        match self.deadline {
            Some(d) if err.kind() == ErrorKind::Timeout && Instant::now() >= d => Error::new(
                ErrorKind::Timeout,
                format!(
                    "the request's deadline passed before its response from {} ended",
                    self.peer
                ),
            ),
            _ => err,
        }
    }

    pub(super) fn io_error(&self, what: &str, e: &io::Error) -> Error {
        Error::io(&format!("{what} {}", self.peer), e)
    }

    /// Before each read or write: limits the transport's timeout to what is left of the
    /// deadline, or fails with `Timeout` when it passed; with no deadline, puts the timeout
    /// option back if a deadline had shortened it.
    fn apply_deadline(&mut self) -> Result<()> {
        if self.nonblocking {
            // Nothing waits: the deadline is only checked, at each call.
            return match self.deadline {
                Some(d) if Instant::now() >= d => Err(self.deadline_passed()),
                _ => Ok(()),
            };
        }
        let Some(deadline) = self.deadline else {
            if self.timeout_shortened {
                self.timeout_shortened = false;
                let _ = self.io.set_io_timeout(self.io_timeout);
            }
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.deadline_passed());
        }
        let t = match self.io_timeout {
            Some(io) if io < left => io,
            _ => left,
        };
        self.timeout_shortened = true;
        self.io
            .set_io_timeout(Some(t))
            .map_err(|e| self.io_error("set the timeout of", &e))
    }

    fn deadline_passed(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "the request's deadline passed before its response from {} ended",
                self.peer
            ),
        )
    }
}

impl Wire {
    /// Bytes written since the stream opened.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// After a write failed because the peer closed or reset the stream: whether the peer's
    /// final answer already arrived, i.e. what it sent before closing holds a whole response
    /// head that is not an interim (1xx) one. Reads what the transport still holds (bytes
    /// received before a reset stay readable), each read limited to EARLY_ANSWER_WAIT, and
    /// keeps every byte read for the response.
    pub fn holds_final_head(&mut self) -> bool {
        const EARLY_ANSWER_WAIT: Duration = Duration::from_millis(200);
        if self.closed {
            return false;
        }
        let _ = self.io.set_io_timeout(Some(EARLY_ANSWER_WAIT));
        let found = loop {
            match final_head_in(self.available()) {
                Some(found) => break found,
                None => match self.fill(2 * MAX_LINE) {
                    Ok(n) if n > 0 => {}
                    _ => break false,
                },
            }
        };
        let _ = self.io.set_io_timeout(self.io_timeout);
        found
    }
}

/// Whether `bytes` begin with a whole final response head, after any whole interim (1xx but
/// 101) ones: Some(true) or Some(false) when that is known, None when more bytes could tell.
/// The heads are read by the response's own parser, so what counts as a head here is what
/// getresponse will accept.
fn final_head_in(mut bytes: &[u8]) -> Option<bool> {
    use crate::response::head::{Head, HeadParser, Status};
    let mut head = Head::default();
    loop {
        if bytes.len() >= 5 && !bytes.starts_with(b"HTTP/") {
            return Some(false);
        }
        match HeadParser::new().parse(bytes, &mut head, None) {
            Err(_) => return Some(false),
            Ok(Status::Partial(_)) => return None,
            Ok(Status::Complete(n)) if (100..200).contains(&head.status) && head.status != 101 => {
                bytes = &bytes[n..];
            }
            Ok(Status::Complete(_)) => return Some(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::final_head_in;

    #[test]
    fn final_heads() {
        assert_eq!(
            final_head_in(b"HTTP/1.1 413 Too Large\r\n\r\nbody"),
            Some(true)
        );
        assert_eq!(final_head_in(b"HTTP/1.0 401 X\nA: b\n\n"), Some(true));
        assert_eq!(
            final_head_in(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 417 No\r\n\r\n"),
            Some(true)
        );
        assert_eq!(final_head_in(b"HTTP/1.1 101 Switching\r\n\r\n"), Some(true));
        assert_eq!(final_head_in(b"HTTP/1.1 100 Continue\r\n\r\n"), None);
        assert_eq!(final_head_in(b"HTTP/1.1 413 Too Large\r\nContent-Le"), None);
        assert_eq!(final_head_in(b""), None);
        assert_eq!(final_head_in(b"HTT"), None);
        assert_eq!(final_head_in(b"garbage\r\n\r\n"), Some(false));
        assert_eq!(final_head_in(b"HTTP/1.1 abc\r\n\r\n"), Some(false));
    }
}
