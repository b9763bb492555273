//! Non-blocking mode (`Connection::set_blocking(false)`): the same calls as blocking mode, and
//! a call that would wait returns `WouldBlock` instead, with [`Connection::want`] saying what
//! it waits for. Progress is kept here, in a [`Flight`]: the repeated call (the same call with
//! the same buffers) goes on where the last one stopped and never resends a byte; any other
//! call in between is refused with `ImproperConnectionState`, as OpenSSL refuses a "bad write
//! retry". docs/nonblocking.md states the contract.
//!
//! The request is serialised exactly as in blocking mode (the head, the Content-Length,
//! chunk framing); the only differences are that the body is always kept with the head (one
//! buffer written from an offset), and that the 100-continue wait is a deadline checked at
//! each call rather than a wait.

use std::time::Instant;

use super::{Connection, State, IDLE_CHECK_AFTER, MAX_REPLAY};
use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind, Result};
use crate::request;
use crate::response::head::{parse_status_line, Head, HeadParser, Status};
use crate::spare;
use crate::transport::WANT_READ;
use crate::wire::{lock, Sent, SharedWire, Wire, MAX_LINE};

mod getresponse;

/// The calls that keep progress inside between a `WouldBlock` and their repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallKind {
    Connect,
    Request,
    Endheaders,
    Send,
    SendChunk,
    RequestStream,
    Getresponse,
}

impl CallKind {
    fn name(self) -> &'static str {
        match self {
            CallKind::Connect => "connect",
            CallKind::Request => "request",
            CallKind::Endheaders => "endheaders",
            CallKind::Send => "send",
            CallKind::SendChunk => "send_chunk",
            CallKind::RequestStream => "request_stream",
            CallKind::Getresponse => "getresponse",
        }
    }
}

/// A call and the addresses and lengths of its buffers: the repeat must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Call {
    kind: CallKind,
    key: [usize; 3],
}

impl Call {
    pub(super) fn new(kind: CallKind, key: [usize; 3]) -> Call {
        Call { kind, key }
    }
}

/// Which buffer a write step writes: the request (head and body, `Connection::out`, kept for
/// a resend) or the other bytes of the call (`Flight::outbox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Buf {
    Out,
    Outbox,
}

/// Where a call that returned `WouldBlock` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Opening the connection (or checking the open one) before writing the request.
    Open,
    /// Writing a buffer from `written`.
    Write { buf: Buf, written: usize },
    /// The head of a request with `Expect: 100-continue` went out: waiting, at most until
    /// `until`, for the server's go-ahead before writing the body (in the outbox).
    /// `answering`: part of the server's answer came, and its status line decides, however
    /// long the rest takes (as in blocking mode).
    AwaitContinue { until: Instant, answering: bool },
    /// A streamed body: the outbox holds the next framed piece from the source.
    Stream { written: usize },
    /// getresponse: reading the response head.
    Head,
}

/// What is done once the writing of a request or a piece of body is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Then {
    /// Nothing more (send, a body after 100-continue).
    Done,
    /// The request's head (and body) went out: queue it for its response.
    Queue {
        /// The body waits for 100-continue (in the outbox).
        expect_continue: bool,
        /// A streamed body follows from the source.
        stream: bool,
    },
    /// A chunk of send_chunk went out; `last`: the empty chunk ending the body.
    Chunk { last: bool },
    /// The last chunk that getresponse adds went out: read the head now.
    EndBody,
}

/// What the 100-continue wait decided.
enum Verdict {
    /// Send the body.
    Go,
    /// A final answer (or the end) came first: the body is not sent.
    Withhold,
    /// Wait on; `answering`: part of an answer came.
    Wait { answering: bool },
}

/// A streamed body's source state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StreamState {
    chunked: bool,
    limit: Option<u64>,
    sent: u64,
    ended: bool,
}

/// A call in progress in non-blocking mode.
pub(super) struct Flight {
    call: Call,
    step: Step,
    then: Then,
    /// The bytes of the call other than the request kept in `out`.
    outbox: Vec<u8>,
    /// A write on a reused connection already failed once and was retried on a fresh one.
    retried: bool,
    stream: Option<StreamState>,
    /// getresponse: only one request was outstanding when it began (a resend is possible).
    single: bool,
    /// getresponse: the request is being sent again on a fresh connection.
    replaying: bool,
}

thread_local! {
    /// The box of the last call in flight that ended on this thread, for the next one: a
    /// call that returns at once allocates nothing.
    static SPARE_FLIGHT: std::cell::Cell<Option<Box<Flight>>> = const { std::cell::Cell::new(None) };
}

/// Ends a call's flight (when there is one), keeping its box for the next call on this thread.
pub(super) fn end_flight(flight: Option<Box<Flight>>) {
    if let Some(f) = flight {
        spare::keep(&SPARE_FLIGHT, f);
    }
}

impl Flight {
    /// This flight in a box: the spare one of this thread when there is one.
    pub(super) fn boxed(self) -> Box<Flight> {
        spare::boxed(&SPARE_FLIGHT, self)
    }

    fn new(call: Call, step: Step, then: Then) -> Flight {
        Flight {
            call,
            step,
            then,
            outbox: Vec::new(),
            retried: false,
            stream: None,
            single: false,
            replaying: false,
        }
    }
}

/// The body source of request_stream: fills a buffer and returns the count, 0 at the end.
pub(super) type Source<'a> = &'a mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>;

impl Connection {
    /// At the start of every call of non-blocking mode: clears `want`; refuses a call other
    /// than the one that returned `WouldBlock` (when one did); returns whether this call is
    /// its repeat, which goes on from where it stopped.
    pub(super) fn nb_enter(&mut self, call: Call) -> Result<bool> {
        self.want = 0;
        let Some(f) = &self.flight else {
            return Ok(false);
        };
        if f.call == call {
            return Ok(true);
        }
        let theirs = f.call.kind.name();
        let what = if f.call.kind == call.kind {
            format!("{theirs} with other arguments")
        } else {
            call.kind.name().to_string()
        };
        Err(Error::new(
            ErrorKind::ImproperConnectionState,
            format!(
                "{what} called while a {theirs} that returned WouldBlock is unfinished: repeat \
                 that {theirs} with the same arguments (the same pointers and lengths) first, or \
                 close the connection"
            ),
        ))
    }

    /// A call other than the sending ones (putrequest, putheader, set_tunnel ...) while a
    /// call is unfinished: refused the same way.
    pub(super) fn nb_refuse_other(&mut self, name: &'static str) -> Result<()> {
        if let Some(f) = &self.flight {
            let theirs = f.call.kind.name();
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                format!(
                    "{name} called while a {theirs} that returned WouldBlock is unfinished: \
                     repeat that {theirs} with the same arguments first, or close the connection"
                ),
            ));
        }
        Ok(())
    }

    /// Notes what a `WouldBlock` waits for (unless the opening already said) and passes the
    /// outcome on.
    fn nb_blocked<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.is_would_block() && self.want == 0 {
                self.want = self
                    .wire
                    .as_ref()
                    .map(|w| lock(w).want())
                    .filter(|&w| w != 0)
                    .unwrap_or(WANT_READ);
            }
        }
        r
    }

    /// connect in non-blocking mode.
    pub(super) fn nb_connect(&mut self) -> Result<()> {
        let call = Call::new(CallKind::Connect, [0; 3]);
        self.nb_enter(call)?;
        let r = self.usable_wire().map(|_| ());
        let flight = self.flight.take();
        self.flight = match &r {
            Err(e) if e.is_would_block() => {
                Some(flight.unwrap_or_else(|| Flight::new(call, Step::Open, Then::Done).boxed()))
            }
            _ => {
                // Its box serves the thread's next call (the next connection's connect).
                end_flight(flight);
                None
            }
        };
        self.nb_blocked(r)
    }

    /// Starts writing the request built in `out` (head, and body unless it waits for
    /// 100-continue in `continue_body`), opening the connection if needed.
    pub(super) fn nb_start_request(
        &mut self,
        call: Call,
        continue_body: Option<Vec<u8>>,
    ) -> Result<()> {
        self.start_deadline();
        if continue_body.is_none() {
            if let Some(r) = self.nb_request_now(call) {
                return r;
            }
        }
        let then = Then::Queue {
            expect_continue: continue_body.is_some(),
            stream: false,
        };
        let mut f = Flight::new(call, Step::Open, then);
        f.outbox = continue_body.unwrap_or_default();
        self.flight = Some(f.boxed());
        self.nb_drive(None)
    }

    /// The usual request, without a 100-continue body, on an open connection that is still
    /// usable: the steps Open and Write of [`Connection::nb_steps`] under one lock, and no
    /// flight unless the write stops short. None, with nothing done, when the connection
    /// must be opened first: the caller takes the general path.
    fn nb_request_now(&mut self, call: Call) -> Option<Result<()>> {
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

    /// Starts request_stream: the head built in `out`, then (after 100-continue when
    /// `continue_body` is given, empty) the body from `read`, read only when the previous
    /// piece was written.
    pub(super) fn nb_start_stream(
        &mut self,
        call: Call,
        continue_body: Option<Vec<u8>>,
        chunked: bool,
        limit: Option<u64>,
        read: Source<'_>,
    ) -> Result<()> {
        let then = Then::Queue {
            expect_continue: continue_body.is_some(),
            stream: true,
        };
        let mut f = Flight::new(call, Step::Open, then);
        f.stream = Some(StreamState {
            chunked,
            limit,
            sent: 0,
            ended: false,
        });
        self.flight = Some(f.boxed());
        self.nb_drive(Some(read))
    }

    /// Starts writing raw bytes of a call (send, send_chunk) on the open connection (or,
    /// for send, opening it).
    pub(super) fn nb_start_bytes(&mut self, call: Call, bytes: Vec<u8>, then: Then) -> Result<()> {
        let step = if call.kind == CallKind::Send {
            Step::Open
        } else {
            Step::Write {
                buf: Buf::Outbox,
                written: 0,
            }
        };
        let mut f = Flight::new(call, step, then);
        f.outbox = bytes;
        self.flight = Some(f.boxed());
        self.nb_drive(None)
    }

    /// Goes on with the call in flight as far as the connection allows.
    pub(super) fn nb_drive(&mut self, mut source: Option<Source<'_>>) -> Result<()> {
        let r = self.nb_steps(&mut source);
        self.nb_settle(r)
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

    /// The end of a call that drove its flight: the flight ends unless the call would block.
    fn nb_settle(&mut self, r: Result<()>) -> Result<()> {
        match &r {
            Err(e) if e.is_would_block() => {}
            _ => end_flight(self.flight.take()),
        }
        self.nb_blocked(r)
    }

    fn flight(&mut self) -> &mut Flight {
        self.flight.as_mut().expect("a call in flight")
    }

    fn nb_steps(&mut self, source: &mut Option<Source<'_>>) -> Result<()> {
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
                        return Err(super::request_stream::body_source_error(e));
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

    /// What a call to come after 100-continue or the deadline should be made by at the
    /// latest, in milliseconds (rounded up); -1 when nothing is timed.
    pub fn timeout_ms(&self) -> i64 {
        let mut at: Option<Instant> = None;
        if let Some(Flight {
            step:
                Step::AwaitContinue {
                    until,
                    answering: false,
                },
            ..
        }) = self.flight.as_deref()
        {
            at = Some(*until);
        }
        // Without a deadline option ever set, no wire carries a deadline: no lock to take.
        let timed = self.timed;
        let deadline = self
            .wire
            .as_ref()
            .filter(|_| timed)
            .and_then(|w| lock(w).deadline())
            .or(match self.state {
                State::Idle => None,
                _ => self.request_deadline,
            })
            .or(self.opening_deadline());
        if let Some(d) = deadline {
            at = Some(at.map_or(d, |a| a.min(d)));
        }
        // A response that closes its connection holds the wire alone: its body's reads are
        // still bounded by the deadline.
        let reading = (self.reading.as_ref())
            .filter(|_| timed)
            .and_then(std::sync::Weak::upgrade);
        if let Some(d) = reading.and_then(|w| lock(&w).deadline()) {
            at = Some(at.map_or(d, |a| a.min(d)));
        }
        match at {
            None => -1,
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now());
                let ms = left.as_nanos().div_ceil(1_000_000);
                i64::try_from(ms).unwrap_or(i64::MAX)
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
