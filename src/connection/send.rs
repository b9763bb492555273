//! Sending a request whose body is in memory (endheaders, send_chunk, send, request) and the
//! writes under them, including a write cut short by the server's early answer.

use super::nonblocking::{self, Call, CallKind};
use super::{Connection, Pending, State, COALESCE_BODY, MAX_REPLAY};
use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind, Result};
use crate::request::{self, GivenHeaders};
use crate::wire::{lock, Sent, Wire};

impl Connection {
    /// Ends the headers and sends the request, with `body` when given (httplib's
    /// endheaders(message_body)). With `Transfer-Encoding: chunked` and no `body`, the body
    /// stays open: [`Connection::send_chunk`] sends it, and getresponse ends it if needed.
    pub fn endheaders(&mut self, body: Option<&[u8]>) -> Result<()> {
        let call = Call::new(CallKind::Endheaders, slice_key(body, 0));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        if !matches!(self.state, State::Started(_)) {
            return Err(Error::new(
                ErrorKind::CannotSendHeader,
                "endheaders needs a request started with putrequest and not yet ended",
            ));
        }
        self.out.extend_from_slice(b"\r\n");
        self.mark_sent();
        let chunked = self.given.chunked;
        self.pending().chunk_open = chunked && body.is_none();
        if self.nonblocking {
            self.append_body(body.unwrap_or(&[]), chunked);
            return self.nb_start_request(call, None);
        }
        self.send_request(body.unwrap_or(&[]), chunked)
    }

    /// Sends `data` as one chunk of the chunked body left open by endheaders; empty `data`
    /// ends the body (`0\r\n\r\n`). A failed write closes the connection.
    pub fn send_chunk(&mut self, data: &[u8]) -> Result<()> {
        let call = Call::new(CallKind::SendChunk, slice_key(Some(data), 0));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        let pending = match self.state {
            State::Sent(p) => Some(p),
            _ => None,
        };
        if pending.is_some_and(|p| p.body_withheld) {
            // The server's answer already ended the request: the rest of the body is dropped.
            return Ok(());
        }
        if !pending.is_some_and(|p| p.chunk_open) {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                "send_chunk needs a request with Transfer-Encoding: chunked whose headers were \
                 ended by endheaders without a body, and whose body was not ended yet",
            ));
        }
        let Some(shared) = self.wire.clone() else {
            self.abandon(None);
            return Err(Error::new(
                ErrorKind::NotConnected,
                "the connection was closed after the request head was sent",
            ));
        };
        let mut frame = Vec::with_capacity(data.len() + 24);
        if data.is_empty() {
            frame.extend_from_slice(b"0\r\n\r\n");
        } else {
            request::write_chunk(&mut frame, data);
        }
        if self.nonblocking {
            drop(shared);
            let then = nonblocking::Then::Chunk {
                last: data.is_empty(),
            };
            return self.nb_start_bytes(call, frame, then);
        }
        let mut w = lock(&shared);
        if !data.is_empty() {
            w.debug(DebugKind::DataOut, data);
        }
        let body_start = w.bytes_out();
        let written = w.write_all(&frame);
        if let Err(e) = &written {
            if self.answered_early(&mut w, e, body_start, None) {
                return Ok(());
            }
        }
        drop(w);
        if let Err(e) = written {
            self.abandon(Some("a write failed"));
            return Err(e);
        }
        if data.is_empty() {
            self.out.extend_from_slice(&frame);
            let fits = self.out.len() <= MAX_REPLAY;
            let p = self.pending();
            p.chunk_open = false;
            p.replayable = p.replayable && fits;
        } else {
            self.pending().replayable = false;
        }
        Ok(())
    }

    /// Sends raw bytes on the connection (httplib's send), opening it if needed. A request
    /// that used it can't be sent again by itself.
    pub fn send(&mut self, data: &[u8]) -> Result<()> {
        let call = Call::new(CallKind::Send, slice_key(Some(data), 0));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        if matches!(self.state, State::Started(_)) {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                "send while a request's headers are being built: call endheaders first",
            ));
        }
        if let State::Sent(p) = &mut self.state {
            if p.body_withheld {
                // The server's answer already ended the request: the rest of the body is
                // dropped.
                return Ok(());
            }
            p.replayable = false;
            // Raw bytes after endheaders of a chunked request: the caller frames the body
            // itself (as with http.client), so getresponse must not end it.
            p.chunk_open = false;
        }
        if self.nonblocking {
            return self.nb_start_bytes(call, data.to_vec(), nonblocking::Then::Done);
        }
        let (shared, _) = self.usable_wire()?;
        let mut w = lock(&shared);
        w.debug(DebugKind::DataOut, data);
        let body_start = w.bytes_out();
        match w.write_all(data) {
            Err(e) if self.state.is_sent() && self.answered_early(&mut w, &e, body_start, None) => {
                Ok(())
            }
            Err(e) => {
                w.close("a write failed");
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }

    /// Sends a whole request (httplib's request): adds Host, Accept-Encoding: identity and
    /// Content-Length as httplib does unless `headers` gives them.
    pub fn request(
        &mut self,
        method: &[u8],
        url: &[u8],
        body: Option<&[u8]>,
        headers: &[(&[u8], &[u8])],
    ) -> Result<()> {
        let call = Call::new(CallKind::Request, slice_key(body, url.as_ptr() as usize));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        let plain = body.is_none() && headers.is_empty();
        let given = if plain && self.state == State::Idle && self.out.is_plain_request(method, url)
        {
            // The same plain request as the last one, its bytes kept: they are what building
            // it would give again (its method and URL were checked then).
            self.state = State::Started(Pending::new(method));
            GivenHeaders::default()
        } else {
            let given = self.start_whole_request(method, url, headers)?;
            if !given.content_length && !given.transfer_encoding {
                match body {
                    Some(b) => {
                        self.out.extend_from_slice(b"Content-Length: ");
                        request::write_decimal(&mut self.out, b.len() as u64);
                        self.out.extend_from_slice(b"\r\n");
                    }
                    None if request::expects_body(method) => {
                        request::write_header(&mut self.out, b"Content-Length", b"0")
                    }
                    None => {}
                }
            }
            self.out.extend_from_slice(b"\r\n");
            if plain {
                self.out.mark_plain();
            }
            given
        };
        self.given = given;
        self.mark_sent();
        if self.nonblocking {
            let b = body.unwrap_or(&[]);
            if given.expect_continue && !b.is_empty() {
                let mut framed = Vec::with_capacity(b.len() + 32);
                if given.chunked {
                    request::write_chunk(&mut framed, b);
                    framed.extend_from_slice(b"0\r\n\r\n");
                } else {
                    framed.extend_from_slice(b);
                }
                return self.nb_start_request(call, Some(framed));
            }
            self.append_body(b, given.chunked);
            return self.nb_start_request(call, None);
        }
        match body {
            Some(b) if given.expect_continue && !b.is_empty() => {
                self.send_expecting_continue(b, given.chunked)
            }
            _ => self.send_request(body.unwrap_or(&[]), given.chunked),
        }
    }

    /// Appends `body` to the request built in `out`, chunk-framed (and ended) when `chunked`
    /// and the body is not left open for send_chunk (non-blocking mode keeps a request whole
    /// in one buffer).
    fn append_body(&mut self, body: &[u8], chunked: bool) {
        if body.is_empty() && !chunked {
            // Nothing to add (and a plain request's bytes stay marked as such).
            return;
        }
        if chunked && !self.pending().chunk_open {
            request::write_chunk(&mut self.out, body);
            self.out.extend_from_slice(b"0\r\n\r\n");
        } else {
            self.out.extend_from_slice(body);
        }
    }

    /// Writes the built head alone, for a body that follows separately (such a request is
    /// never sent again); on failure the request is dropped and the connection is idle.
    pub(super) fn write_head(&mut self) -> Result<()> {
        let head_len = self.out.len();
        self.start_deadline();
        if let Err(e) = self.write_request(head_len, None) {
            self.abandon(None);
            return Err(e);
        }
        self.pending().replayable = false;
        Ok(())
    }

    /// Writes the built head and `body` (chunk-encoded when `chunked`), on a reused connection
    /// retrying once on a fresh one when the write fails and the request may be sent again.
    fn send_request(&mut self, body: &[u8], chunked: bool) -> Result<()> {
        let head_len = self.out.len();
        if chunked && !self.pending().chunk_open {
            request::write_chunk(&mut self.out, body);
            self.out.extend_from_slice(b"0\r\n\r\n");
        } else if !body.is_empty() && body.len() <= COALESCE_BODY {
            // (Not for an empty body: a plain request's bytes stay marked as such.)
            self.out.extend_from_slice(body);
        }
        let separate_body = !chunked && body.len() > COALESCE_BODY;
        self.start_deadline();
        let mut result = self.write_request(head_len, separate_body.then_some(body));
        if let Err(e) = &result {
            let p = self.pending();
            let retry = p.sent_on_reused
                && p.idempotent
                && (e.kind() == ErrorKind::ConnectionReset || e.kind() == ErrorKind::Os);
            if retry {
                if let Some(w) = self.wire.take() {
                    lock(&w).close("a write failed");
                }
                result = self.write_request(head_len, separate_body.then_some(body));
            }
        }
        match result {
            // The server answered early: that response ends the request, which is not resent.
            Ok(()) if self.pending().body_withheld => Ok(()),
            Ok(()) => {
                let idempotent = self.pending().idempotent;
                let mut replayable = idempotent && !separate_body && self.out.len() <= MAX_REPLAY;
                if separate_body && idempotent && head_len + body.len() <= MAX_REPLAY {
                    self.out.extend_from_slice(body);
                    replayable = true;
                }
                self.pending().replayable = replayable;
                Ok(())
            }
            Err(e) => {
                self.abandon(None);
                Err(e)
            }
        }
    }

    fn write_request(&mut self, head_len: usize, separate_body: Option<&[u8]>) -> Result<()> {
        let (shared, reused) = self.usable_wire()?;
        self.pending().sent_on_reused = reused;
        let is_head_request = self.pending().is_head_request;
        let mut w = lock(&shared);
        // While an earlier response is being read, its deadline stays in force.
        w.set_deadline(self.request_deadline);
        if w.has_debug() {
            w.debug(DebugKind::HeaderOut, &self.out[..head_len]);
            if self.out.len() > head_len {
                w.debug(DebugKind::DataOut, &self.out[head_len..]);
            }
            if let Some(b) = separate_body {
                w.debug(DebugKind::DataOut, b);
            }
        }
        let body_start = w.bytes_out() + head_len as u64;
        let body_len = (self.out.len() - head_len + separate_body.map_or(0, <[u8]>::len)) as u64;
        let r = w.write_all(&self.out).and_then(|()| match separate_body {
            Some(b) => w.write_all(b),
            None => Ok(()),
        });
        match r {
            Err(e) if !self.answered_early(&mut w, &e, body_start, Some(body_len)) => {
                w.close("a write failed");
                Err(e)
            }
            _ => {
                w.queue(Sent {
                    head: is_head_request,
                    deadline: self.request_deadline,
                });
                Ok(())
            }
        }
    }

    /// A write of the request failed. When the failure is the server closing (a reset or a
    /// broken pipe) and its final answer is already here (an upload refused early: 413, 401,
    /// 417 ...), that answer ends the request: true, the rest of the body is not sent, the
    /// request stays sent for getresponse, and the connection closes after that response.
    /// False when the failure stands. `body_start` is where the body began in the wire's
    /// count of bytes out, `body_len` its length when known (for the debug trace).
    pub(super) fn answered_early(
        &mut self,
        w: &mut Wire,
        e: &Error,
        body_start: u64,
        body_len: Option<u64>,
    ) -> bool {
        if e.kind() != ErrorKind::ConnectionReset || !w.holds_final_head() {
            return false;
        }
        if w.has_debug() {
            let sent = w.bytes_out().saturating_sub(body_start);
            let of = body_len.map_or(String::new(), |n| format!(" of {n}"));
            let note = format!(
                "the server answered before the request was sent whole (after {sent}{of} body \
                 bytes; {e}): the connection will not be reused"
            );
            w.debug(DebugKind::Text, note.as_bytes());
        }
        let p = self.pending();
        p.body_withheld = true;
        p.replayable = false;
        p.chunk_open = false;
        true
    }
}

/// The address and length of an optional buffer, and `extra`, as the key of a call that must
/// be repeated with the same arguments in non-blocking mode.
fn slice_key(b: Option<&[u8]>, extra: usize) -> [usize; 3] {
    match b {
        Some(b) => [b.as_ptr() as usize, b.len(), extra],
        None => [0, usize::MAX, extra],
    }
}
