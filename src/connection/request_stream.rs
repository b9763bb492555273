//! Requests whose body is streamed from a callback (request_stream).

use super::nonblocking::{Call, CallKind};
use super::Connection;
use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind, Result};
use crate::request;
use crate::wire::{lock, SharedWire};

impl Connection {
    /// Sends a request whose body comes from `read` (which fills a buffer and returns the
    /// count, 0 at the end): with `Content-Length: length` when the length is known (exactly
    /// that many bytes are sent), else chunk-encoded. Such a request is never sent again.
    pub fn request_stream(
        &mut self,
        method: &[u8],
        url: &[u8],
        read: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
        length: Option<u64>,
        headers: &[(&[u8], &[u8])],
    ) -> Result<()> {
        // Not the length: hc_request_fd computes it from the file's position, which moves.
        let call = Call::new(CallKind::RequestStream, [url.as_ptr() as usize, 0, 0]);
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(Some(read));
        }
        let given = self.start_whole_request(method, url, headers)?;
        let chunked = if given.content_length {
            false
        } else if given.transfer_encoding {
            given.chunked
        } else if let Some(len) = length {
            self.out.extend_from_slice(b"Content-Length: ");
            request::write_decimal(&mut self.out, len);
            self.out.extend_from_slice(b"\r\n");
            false
        } else {
            request::write_header(&mut self.out, b"Transfer-Encoding", b"chunked");
            true
        };
        self.given = given;
        self.out.extend_from_slice(b"\r\n");
        self.mark_sent();
        self.pending().idempotent = false;
        if self.nonblocking {
            let limit = if chunked { None } else { length };
            let cont = (self.given.expect_continue && length != Some(0)).then(Vec::new);
            self.start_deadline();
            return self.nb_start_stream(call, cont, chunked, limit, read);
        }
        if self.given.expect_continue && length != Some(0) {
            if !self.send_head_and_wait()? {
                self.out.clear();
                return Ok(());
            }
        } else {
            self.write_head()?;
        }
        self.out.clear();
        if self.pending().body_withheld {
            // The server answered while the head went out.
            return Ok(());
        }
        let shared = self.wire.clone().expect("write_request leaves a wire");
        let limit = if chunked { None } else { length };
        let body_start = lock(&shared).bytes_out();
        let result = stream_body(&shared, read, chunked, limit);
        if let Err(e) = &result {
            let mut w = lock(&shared);
            if self.answered_early(&mut w, e, body_start, limit) {
                return Ok(());
            }
            drop(w);
            self.abandon(Some("a streamed request body failed"));
        }
        result
    }
}

/// Copies a streamed body from `read` to the connection, chunk-encoded or at most `limit`
/// bytes (and exactly that many: a shorter source is an error).
fn stream_body(
    shared: &SharedWire,
    read: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
    chunked: bool,
    limit: Option<u64>,
) -> Result<()> {
    const STEP: usize = 64 * 1024;
    // Room in front for a chunk-size line, behind for its CRLF.
    let mut buf = vec![0u8; STEP + 32];
    let mut sent: u64 = 0;
    loop {
        let want = match limit {
            Some(l) => (l - sent).min(STEP as u64) as usize,
            None => STEP,
        };
        if want == 0 {
            break;
        }
        let n = loop {
            match read(&mut buf[16..16 + want]) {
                Ok(n) => break n.min(want),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(body_source_error(e)),
            }
        };
        if n == 0 {
            if let Some(l) = limit {
                return Err(Error::new(
                    ErrorKind::IncompleteRead,
                    format!("the request body ended after {sent} of {l} bytes"),
                ));
            }
            break;
        }
        let mut w = lock(shared);
        w.debug(DebugKind::DataOut, &buf[16..16 + n]);
        if chunked {
            let size = format!("{n:x}\r\n");
            let start = 16 - size.len();
            buf[start..16].copy_from_slice(size.as_bytes());
            buf[16 + n..16 + n + 2].copy_from_slice(b"\r\n");
            w.write_all(&buf[start..16 + n + 2])?;
        } else {
            w.write_all(&buf[16..16 + n])?;
        }
        sent += n as u64;
    }
    if chunked {
        lock(shared).write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

/// The error of a failed body source: an [`Error`] carried inside the `io::Error` (a source
/// that aborts on purpose) is returned as is; any other is an OS error.
pub(super) fn body_source_error(e: std::io::Error) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        let inner = e.into_inner().expect("checked above");
        return *inner.downcast::<Error>().expect("checked above");
    }
    Error::io("reading the request body", &e)
}
