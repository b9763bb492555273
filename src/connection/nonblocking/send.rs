//! Sending a request in non-blocking mode, step by step: opening the connection, writing the
//! head and body from where the last call stopped, the 100-continue wait, a streamed body read
//! piece by piece from its source; and the usual request written at once when it can be.

use std::time::Instant;

use super::{Buf, Call, CallKind, Flight, Source, Step, Then};
use crate::connection::{Connection, State, IDLE_CHECK_AFTER, MAX_REPLAY};
use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind, Result};
use crate::request;
use crate::response::head::{parse_status_line, Head, HeadParser, Status};
use crate::transport::WANT_READ;
use crate::wire::{lock, Sent, SharedWire, Wire, MAX_LINE};

/// What the 100-continue wait decided.
enum Verdict {
    /// Send the body.
    Go,
    /// A final answer (or the end) came first: the body is not sent.
    Withhold,
    /// Wait on; `answering`: part of an answer came.
    Wait { answering: bool },
}

impl Connection {
    /// The usual request, without a 100-continue body, on an open connection that is still
    /// usable: the steps Open and Write of [`Connection::nb_steps`] under one lock, and no
    /// flight unless the write stops short. None, with nothing done, when the connection
    /// must be opened first: the caller takes the general path.
    pub(super) fn nb_request_now(&mut self, call: Call) -> Option<Result<()>> {
        let queue = self.sent_record();
        let mut w = lock(self.wire.as_ref()?);
        if !w.check_idle(IDLE_CHECK_AFTER) {
            return None;
        }
        let reused = w.responses() > 0;
        w.set_deadline(self.request_deadline);
        self.debug_request(&w);
        let mut written = 0;
        let r = w.write_from(&self.out, &mut written);
        if let (Ok(()), Some(sent)) = (&r, queue) {
            w.queue(sent);
        }
        drop(w);
        self.pending().sent_on_reused = reused;
        let then = Then::Queue {
            expect_continue: false,
            stream: false,
        };
        let e = match r {
            Ok(()) => {
                self.note_replayable(false, false);
                return Some(Ok(()));
            }
            Err(e) => e,
        };
        let step = Step::Write {
            buf: Buf::Out,
            written,
        };
        self.flight = Some(Flight::new(call, step, then).boxed());
        if e.is_would_block() {
            return Some(self.nb_blocked(Err(e)));
        }
        let shared = self.wire.clone()?;
        let r = match self.nb_write_failed(&shared, Buf::Out, e) {
            Ok(true) => Ok(()),
            Ok(false) => self.nb_steps(&mut None),
            Err(e) => Err(e),
        };
        Some(self.nb_settle(r))
    }

    /// What the wire queues for the response of the request being sent: whether it was a
    /// HEAD, and its deadline.
    fn sent_record(&self) -> Option<Sent> {
        match self.state {
            State::Started(p) | State::Sent(p) => Some(Sent {
                head: p.is_head_request,
                deadline: self.request_deadline,
            }),
            State::Idle => None,
        }
    }

    /// The request in `out` was written whole: whether a stale connection may send it again.
    fn note_replayable(&mut self, stream: bool, expect_continue: bool) {
        let p = *self.pending();
        let replayable = p.idempotent && !stream && self.out.len() <= MAX_REPLAY;
        self.pending().replayable = replayable && !expect_continue;
    }

    pub(super) fn nb_steps(&mut self, source: &mut Option<Source<'_>>) -> Result<()> {
        loop {
            let step = self.flight().step;
            match step {
                Step::Open => {
                    let kind = self.flight().call.kind;
                    let (shared, reused) = match self.usable_wire() {
                        Ok(v) => v,
                        Err(e) if e.is_would_block() => return Err(e),
                        Err(e) => {
                            if kind != CallKind::Send {
                                self.abandon(None);
                            }
                            return Err(e);
                        }
                    };
                    let buf = if kind == CallKind::Send {
                        Buf::Outbox
                    } else {
                        self.pending().sent_on_reused = reused;
                        let mut w = lock(&shared);
                        // While an earlier response is being read, its deadline stays.
                        w.set_deadline(self.request_deadline);
                        self.debug_request(&w);
                        Buf::Out
                    };
                    self.flight().step = Step::Write { buf, written: 0 };
                }
                Step::Write { buf, mut written } => {
                    let Some(shared) = self.wire.clone() else {
                        return Err(self.nb_lost());
                    };
                    // A request written whole is queued for its response under the same lock.
                    let queue = match self.flight().then {
                        Then::Queue { .. } => self.sent_record(),
                        _ => None,
                    };
                    let r = {
                        let mut w = lock(&shared);
                        let data = match buf {
                            Buf::Out => &self.out[..],
                            Buf::Outbox => &self.flight.as_ref().expect("in flight").outbox[..],
                        };
                        let r = w.write_from(data, &mut written);
                        if let (Ok(()), Some(sent)) = (&r, queue) {
                            w.queue(sent);
                        }
                        r
                    };
                    self.flight().step = Step::Write { buf, written };
                    let done = match r {
                        Ok(()) => self.nb_written(),
                        Err(e) if e.is_would_block() => return Err(e),
                        Err(e) => self.nb_write_failed(&shared, buf, e),
                    };
                    if done? {
                        return Ok(());
                    }
                }
                Step::AwaitContinue { until, .. } => {
                    let Some(shared) = self.wire.clone() else {
                        return Err(self.nb_lost());
                    };
                    match self.nb_continue(&shared, until) {
                        Verdict::Go if self.flight().stream.is_some() => {
                            self.flight().outbox.clear();
                            self.flight().step = Step::Stream { written: 0 };
                        }
                        Verdict::Go => {
                            let body_len = self.flight().outbox.len();
                            self.flight().step = Step::Write {
                                buf: Buf::Outbox,
                                written: 0,
                            };
                            self.flight().then = Then::Done;
                            let w = lock(&shared);
                            if w.has_debug() {
                                let note = format!("sending the {body_len} body bytes");
                                w.debug(DebugKind::Text, note.as_bytes());
                            }
                        }
                        Verdict::Withhold => {
                            self.pending().body_withheld = true;
                            return Ok(());
                        }
                        Verdict::Wait { answering } => {
                            self.flight().step = Step::AwaitContinue { until, answering };
                            self.want = WANT_READ;
                            let peer = lock(&shared).peer().to_string();
                            return Err(Error::would_block(&format!(
                                "wait for 100 Continue from {peer}"
                            )));
                        }
                    }
                }
                Step::Stream { mut written } => {
                    let Some(shared) = self.wire.clone() else {
                        return Err(self.nb_lost());
                    };
                    let r = {
                        let mut w = lock(&shared);
                        let data = &self.flight.as_ref().expect("in flight").outbox[..];
                        w.write_from(data, &mut written)
                    };
                    self.flight().step = Step::Stream { written };
                    match r {
                        Ok(()) => {}
                        Err(e) if e.is_would_block() => return Err(e),
                        Err(e) => return self.nb_stream_failed(&shared, e),
                    }
                    if self.nb_refill(&shared, source)? {
                        return Ok(());
                    }
                }
                Step::Head => unreachable!("getresponse drives its own steps"),
            }
        }
    }

    /// The connection went away while a call was in flight.
    fn nb_lost(&mut self) -> Error {
        self.abandon(None);
        Error::new(
            ErrorKind::NotConnected,
            "the connection was closed while the request was being sent",
        )
    }

    /// The debug trace of the request in `out` about to be written on `w`.
    fn debug_request(&self, w: &Wire) {
        if w.has_debug() {
            let end = head_end(&self.out);
            w.debug(DebugKind::HeaderOut, &self.out[..end]);
            if self.out.len() > end {
                w.debug(DebugKind::DataOut, &self.out[end..]);
            }
        }
    }

    /// A write step finished: what follows it. True when the call is over. (The step that
    /// wrote a request whole queued it on the wire.)
    fn nb_written(&mut self) -> Result<bool> {
        let then = self.flight().then;
        match then {
            Then::Done => Ok(true),
            Then::Queue {
                expect_continue,
                stream,
            } => {
                self.note_replayable(stream, expect_continue);
                if expect_continue {
                    let until = Instant::now() + self.continue_timeout;
                    self.flight().step = Step::AwaitContinue {
                        until,
                        answering: false,
                    };
                    self.flight().then = Then::Done;
                    Ok(false)
                } else if stream {
                    self.out.clear();
                    self.flight().outbox.clear();
                    self.flight().step = Step::Stream { written: 0 };
                    Ok(false)
                } else {
                    Ok(true)
                }
            }
            Then::Chunk { last: false } => {
                self.pending().replayable = false;
                Ok(true)
            }
            Then::Chunk { last: true } | Then::EndBody => {
                let frame = std::mem::take(&mut self.flight().outbox);
                self.out.extend_from_slice(&frame);
                let fits = self.out.len() <= MAX_REPLAY;
                let p = self.pending();
                p.chunk_open = false;
                p.replayable = p.replayable && fits;
                Ok(true)
            }
        }
    }

    /// A write failed (not `WouldBlock`): on a reused connection, an idempotent request is
    /// written again on a fresh one, once; a server that answered early ends the request;
    /// otherwise the request is dropped and the connection closed.
    fn nb_write_failed(&mut self, shared: &SharedWire, buf: Buf, e: Error) -> Result<bool> {
        let kind = self.flight().call.kind;
        let retry = buf == Buf::Out
            && !self.flight().retried
            && matches!(self.state, State::Sent(p) if p.sent_on_reused && p.idempotent)
            && matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::Os);
        if retry {
            // Closed, but kept until the new connection's descriptor exists (usable_wire), so
            // that the number changes.
            lock(shared).close("a write failed");
            self.flight().retried = true;
            self.flight().step = Step::Open;
            return Ok(false);
        }
        let sent = matches!(self.state, State::Sent(_));
        let body_start = lock(shared).bytes_out();
        if sent && self.answered_early(&mut lock(shared), &e, body_start, None) {
            return Ok(true);
        }
        lock(shared).close("a write failed");
        if kind != CallKind::Send {
            self.abandon(Some("a write failed"));
        }
        Err(e)
    }

    fn nb_stream_failed(&mut self, shared: &SharedWire, e: Error) -> Result<()> {
        let body_start = lock(shared).bytes_out();
        if self.answered_early(&mut lock(shared), &e, body_start, None) {
            return Ok(());
        }
        self.abandon(Some("a streamed request body failed"));
        Err(e)
    }

    /// The outbox of a streamed body was written: reads the next piece from the source
    /// (framed when chunked). Returns true when the body is over.
    fn nb_refill(&mut self, shared: &SharedWire, source: &mut Option<Source<'_>>) -> Result<bool> {
        const STEP: usize = 64 * 1024;
        let st = self.flight().stream.expect("a streamed body");
        if st.ended {
            return Ok(true);
        }
        let Some(read) = source.as_mut() else {
            return Err(Error::new(
                ErrorKind::Internal,
                "a streamed body without its source",
            ));
        };
        let want = match st.limit {
            Some(l) => (l - st.sent).min(STEP as u64) as usize,
            None => STEP,
        };
        let mut buf = vec![0u8; want];
        let n = if want == 0 {
            0
        } else {
            loop {
                match read(&mut buf) {
                    Ok(n) => break n.min(want),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.abandon(Some("a streamed request body failed"));
                        return Err(crate::connection::request_stream::body_source_error(e));
                    }
                }
            }
        };
        let f = self.flight();
        f.outbox.clear();
        f.step = Step::Stream { written: 0 };
        let st = f.stream.as_mut().expect("a streamed body");
        if n == 0 {
            if let Some(l) = st.limit {
                if st.sent < l {
                    let sent = st.sent;
                    self.abandon(Some("a streamed request body failed"));
                    return Err(Error::new(
                        ErrorKind::IncompleteRead,
                        format!("the request body ended after {sent} of {l} bytes"),
                    ));
                }
            }
            st.ended = true;
            if st.chunked {
                f.outbox.extend_from_slice(b"0\r\n\r\n");
                return Ok(false);
            }
            return Ok(true);
        }
        st.sent += n as u64;
        if st.chunked {
            request::write_chunk(&mut f.outbox, &buf[..n]);
        } else {
            f.outbox.extend_from_slice(&buf[..n]);
        }
        lock(shared).debug(DebugKind::DataOut, &buf[..n]);
        Ok(false)
    }

    /// The 100-continue wait, without waiting, as blocking mode decides it: the body goes on
    /// `100 Continue`, or when nothing came before `until`; it is withheld when a final
    /// response (left for getresponse), something that is not a status line, or the end of
    /// the stream comes first. Once bytes of an answer came, its status line decides however
    /// long it takes (other interim responses are skipped).
    fn nb_continue(&mut self, shared: &SharedWire, until: Instant) -> Verdict {
        let mut w = lock(shared);
        loop {
            let avail = w.available();
            let answering = !avail.is_empty();
            if let Some(i) = avail.iter().position(|&b| b == b'\n') {
                let line = avail[..i].strip_suffix(b"\r").unwrap_or(&avail[..i]);
                let status = match parse_status_line(line) {
                    Ok((_, status, _)) => status,
                    Err(_) => return Verdict::Withhold,
                };
                if !(100..200).contains(&status) || status == 101 {
                    return Verdict::Withhold;
                }
                let mut head = Head::default();
                match HeadParser::new().parse(avail, &mut head, None) {
                    Ok(Status::Complete(n)) => {
                        w.consume(n);
                        if status == 100 {
                            return Verdict::Go;
                        }
                        continue;
                    }
                    Ok(Status::Partial(_)) => {}
                    // Reported by getresponse, which reads the same bytes.
                    Err(_) => return Verdict::Withhold,
                }
            } else if avail.len() >= MAX_LINE {
                return Verdict::Withhold;
            }
            match w.fill(MAX_LINE + 1) {
                Ok(0) => return Verdict::Withhold,
                Ok(_) => {}
                Err(e) if e.is_would_block() => {
                    return if !answering && Instant::now() >= until {
                        Verdict::Go
                    } else {
                        Verdict::Wait { answering }
                    };
                }
                // Reported by getresponse, which reads from the same stream.
                Err(_) => return Verdict::Withhold,
            }
        }
    }
}

/// The end of the head in a request buffer (after its empty line), or its length.
fn head_end(out: &[u8]) -> usize {
    out.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |i| i + 4)
}
