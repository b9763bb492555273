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
//!
//! This file holds the call bookkeeping: the types of a call in flight ([`Call`], [`Flight`]
//! and where it stands), entering a call or refusing another one, noting what a `WouldBlock`
//! waits for, connect, the start of each sending call, driving and ending its flight, and
//! [`Connection::timeout_ms`]. Its children:
//! - `send`: sending the request step by step (opening the connection, writing the head and
//!   body from where the last call stopped, the 100-continue wait, a streamed body), and the
//!   usual request written at once;
//! - `getresponse`: getresponse (ending a chunked body left open, reading the head, sending
//!   the request again on a fresh connection).

use std::time::Instant;

use super::{Connection, State};
use crate::error::{Error, ErrorKind, Result};
use crate::spare;
use crate::transport::WANT_READ;
use crate::wire::lock;

mod getresponse;
mod send;

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

/// The refusal of `nb_refuse_held`, when a response shares the wire.
#[cold]
#[inline(never)]
fn held_refusal(wire: &crate::wire::SharedWire, name: &str) -> Result<()> {
    let Some(held) = lock(wire).held_by() else {
        return Ok(());
    };
    Err(Error::new(
        ErrorKind::ImproperConnectionState,
        format!(
            "{name} called while a response's {held} that returned WouldBlock holds the bytes \
             it read: repeat that {held} with the same buffer and length first, or close the \
             connection"
        ),
    ))
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
            self.nb_refuse_held(|| call.kind.name())?;
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
        self.nb_refuse_held(|| name)?;
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

    /// A call on the connection while a response's readline or read_all that returned
    /// `WouldBlock` holds the bytes it read: refused, as a call other than a repeat is. (The
    /// response tells the wire they share; the wire forgets it when the response ends.)
    #[inline]
    fn nb_refuse_held(&self, name: impl FnOnce() -> &'static str) -> Result<()> {
        // Only a response can hold: while none shares the wire, no lock is taken (the usual
        // case in an event loop, whose responses end before the next request).
        match &self.wire {
            Some(w) if std::sync::Arc::strong_count(w) > 1 => held_refusal(w, name()),
            _ => Ok(()),
        }
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
