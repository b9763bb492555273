//! getresponse in non-blocking mode: ends a chunked body the caller left open, reads the head
//! with the resumable reader, and sends the request again on a fresh connection when a reused
//! one turns out stale, each step repeated after `WouldBlock` where it stopped.

use super::{end_flight, Buf, Call, CallKind, Flight, Step, Then};
use crate::connection::{Connection, State};
use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind, Result};
use crate::response::Response;
use crate::wire::lock;

impl Connection {
    /// getresponse in non-blocking mode.
    pub(in crate::connection) fn nb_getresponse(&mut self) -> Result<Response> {
        let call = Call::new(CallKind::Getresponse, [0; 3]);
        let repeat = self.nb_enter(call)?;
        let r = self.nb_getresponse_steps(call, repeat);
        match &r {
            Err(e) if e.is_would_block() => {}
            _ => {
                end_flight(self.flight.take());
                self.beginning = None;
            }
        }
        self.nb_blocked(r)
    }

    fn nb_getresponse_steps(&mut self, call: Call, repeat: bool) -> Result<Response> {
        let State::Sent(pending) = self.state else {
            return Err(self.response_not_ready());
        };
        if !repeat && pending.chunk_open {
            // The caller did not end the chunked body: end it now, in steps of a flight.
            let mut f = Flight::new(
                call,
                Step::Write {
                    buf: Buf::Outbox,
                    written: 0,
                },
                Then::EndBody,
            );
            f.outbox.extend_from_slice(b"0\r\n\r\n");
            self.flight = Some(f.boxed());
        }
        // The steps before the head: only a call with a flight has any.
        while self.flight.as_ref().is_some_and(|f| f.step != Step::Head) {
            match self.nb_steps(&mut None) {
                Err(e) if e.is_would_block() => return Err(e),
                Err(e) => {
                    self.abandon(None);
                    return Err(e);
                }
                Ok(()) => {
                    // The early answer ended the request's writing.
                    self.flight().step = Step::Head;
                }
            }
        }
        let shared = self.sent_wire()?;
        // Whether only this request was outstanding when its head began: kept in the flight
        // across a WouldBlock (a call without a flight began its head now).
        let mut single = self.flight.as_ref().is_some_and(|f| f.single);
        if self.beginning.is_none() {
            let now = self.ready_for_response(&shared)? == 1;
            match self.flight.as_deref_mut() {
                Some(f) if f.replaying => {}
                Some(f) => {
                    f.single = now;
                    single = now;
                }
                None => single = now,
            }
        }
        // `shared` is the connection's own wire (sent_wire): it goes to the response.
        let result = Response::resume(shared, self.strict, &mut self.beginning);
        if let Err(e) = &result {
            if e.is_would_block() {
                self.want = self.wire.as_ref().map_or(0, |w| lock(w).want());
                // A call that returns at once needs no flight; one that would block keeps
                // in it what its repeat must know.
                if self.flight.is_none() {
                    let mut f = Flight::new(call, Step::Head, Then::Done);
                    f.single = single;
                    self.flight = Some(f.boxed());
                }
                return result;
            }
            let closed_early = matches!(
                e.kind(),
                ErrorKind::RemoteDisconnected | ErrorKind::ConnectionReset
            );
            let p = self.pending();
            let replay = closed_early && p.sent_on_reused && p.replayable;
            let replaying = self.flight.as_ref().is_some_and(|f| f.replaying);
            if replay && single && !replaying {
                // The server closed a reused connection: the request goes again on a fresh
                // one (the descriptor changes).
                // Closed, but kept until the new connection's descriptor exists (usable_wire),
                // so that the number changes.
                if let Some(w) = &self.wire {
                    lock(w).close("the server closed a reused connection");
                }
                self.pending().sent_on_reused = false;
                if self.flight.is_none() {
                    self.flight = Some(Flight::new(call, Step::Head, Then::Done).boxed());
                }
                let f = self.flight();
                f.single = single;
                f.replaying = true;
                f.retried = true;
                f.step = Step::Open;
                f.then = Then::Queue {
                    expect_continue: false,
                    stream: false,
                };
                return self.nb_replay();
            }
        }
        self.nb_got(result)
    }

    /// Sends the kept request again on a fresh connection, then reads its response.
    fn nb_replay(&mut self) -> Result<Response> {
        loop {
            let step = self.flight().step;
            if step == Step::Head {
                break;
            }
            match self.nb_steps(&mut None) {
                Err(e) if e.is_would_block() => return Err(e),
                Err(e) => {
                    self.abandon(None);
                    return Err(e);
                }
                Ok(()) => self.flight().step = Step::Head,
            }
        }
        let Some(shared) = self.wire.clone() else {
            self.abandon(None);
            return Err(Error::new(
                ErrorKind::NotConnected,
                "the connection was closed after the request was sent again",
            ));
        };
        lock(&shared).debug(
            DebugKind::Text,
            b"the server closed a reused connection: sent the request again",
        );
        let result = Response::resume(shared.clone(), self.strict, &mut self.beginning);
        if matches!(&result, Err(e) if e.is_would_block()) {
            self.want = lock(&shared).want();
            return result;
        }
        self.nb_got(result)
    }

    /// The response head was read (or failed): as blocking getresponse ends.
    fn nb_got(&mut self, result: Result<Response>) -> Result<Response> {
        let withheld = self.pending().body_withheld;
        self.state = State::Idle;
        end_flight(self.flight.take());
        self.beginning = None;
        self.finish_getresponse(result, withheld)
    }

    fn response_not_ready(&self) -> Error {
        Error::new(
            ErrorKind::ResponseNotReady,
            match self.state {
                State::Idle => "no request was sent",
                _ => "the request's headers were not ended with endheaders",
            },
        )
    }
}
