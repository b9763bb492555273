//! Requests with `Expect: 100-continue`: the head goes first, the body only once the server
//! allows it or the wait passed.

use std::time::{Duration, Instant};

use super::Connection;
use crate::debug::DebugKind;
use crate::error::{ErrorKind, Result};
use crate::request;
use crate::response::head::{parse_status_line, read_head};
use crate::wire::{lock, Line, SharedWire, MAX_LINE};

impl Connection {
    /// Sends the built head alone, then the body only once the server allows it (or the wait
    /// passed); a final response that came first is left for getresponse.
    pub(super) fn send_expecting_continue(&mut self, body: &[u8], chunked: bool) -> Result<()> {
        let go = self.send_head_and_wait()?;
        self.out.clear();
        if !go {
            return Ok(());
        }
        let shared = self.wire.clone().expect("send_head_and_wait leaves a wire");
        let mut framed = Vec::new();
        let data = if chunked {
            request::write_chunk(&mut framed, body);
            framed.extend_from_slice(b"0\r\n\r\n");
            &framed[..]
        } else {
            body
        };
        let mut w = lock(&shared);
        w.debug(DebugKind::DataOut, body);
        let body_start = w.bytes_out();
        match w.write_all(data) {
            Err(e) if !self.answered_early(&mut w, &e, body_start, Some(data.len() as u64)) => {
                drop(w);
                self.abandon(Some("a write failed"));
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// Writes the built head (a request with `Expect: 100-continue`) and waits for the
    /// server's answer: true when the body may follow (`100 Continue`, or nothing within the
    /// continue timeout), false when a final response (or the end of the stream) came first.
    pub(super) fn send_head_and_wait(&mut self) -> Result<bool> {
        self.write_head()?;
        let shared = self.wire.clone().expect("write_request leaves a wire");
        let go = await_continue(&shared, self.continue_timeout);
        match go {
            Ok(go) => {
                self.pending().body_withheld = !go;
                Ok(go)
            }
            Err(e) => {
                self.abandon(Some("an interim response could not be read"));
                Err(e)
            }
        }
    }
}

/// Waits, at most `wait`, for the server's answer to a request head with `Expect:
/// 100-continue`: true on `100 Continue` (consumed, with any other interim response before
/// it) or when nothing came in time; false when a final response (left unread for
/// getresponse), something that is not a status line, or the end of the stream came first.
fn await_continue(shared: &SharedWire, wait: Duration) -> Result<bool> {
    let deadline = Instant::now() + wait;
    let mut w = lock(shared);
    loop {
        if w.available().is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(true);
            }
            let r = w.fill_within(left, MAX_LINE);
            match r {
                Ok(0) => return Ok(false),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Timeout => return Ok(true),
                // Reported by getresponse, which reads from the same stream.
                Err(_) => return Ok(false),
            }
        }
        // Bytes came: the status line decides (read with the usual timeout).
        let (s, e) = match w.line(MAX_LINE) {
            Ok(Line::Complete(s, e)) => (s, e),
            _ => return Ok(false),
        };
        let line = w.slice(s, e);
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let status = match parse_status_line(line) {
            Ok((_, status, _)) => status,
            Err(_) => return Ok(false),
        };
        if !(100..200).contains(&status) || status == 101 {
            return Ok(false);
        }
        read_head(&mut w, false)?;
        if status == 100 {
            return Ok(true);
        }
    }
}
