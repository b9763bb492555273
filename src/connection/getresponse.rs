//! getresponse: reading the response to the request sent, and sending the request again on a
//! fresh connection when a reused one turns out closed.

use std::sync::Arc;

use super::{Connection, State};
use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind, Result};
use crate::response::Response;
use crate::wire::{lock, Sent, SharedWire};

impl Connection {
    /// The wire a sent request went out on; the request is abandoned when there is none (the
    /// connection was closed after sending).
    pub(super) fn sent_wire(&mut self) -> Result<SharedWire> {
        match self.wire.clone() {
            Some(shared) => Ok(shared),
            None => {
                self.abandon(None);
                Err(Error::new(
                    ErrorKind::NotConnected,
                    "the connection was closed after the request was sent",
                ))
            }
        }
    }

    /// Checks that a response can begin on `shared`: the previous one was read to its end and
    /// the wire is still open (else the request is abandoned). Returns how many requests sent
    /// on it wait for their responses.
    pub(super) fn ready_for_response(&mut self, shared: &SharedWire) -> Result<usize> {
        let w = lock(shared);
        if w.response_active() {
            return Err(Error::new(
                ErrorKind::ResponseNotReady,
                "the previous response was not read to its end",
            ));
        }
        if w.is_closed() {
            let why = w.closed_why();
            drop(w);
            self.abandon(Some(why));
            return Err(Error::new(
                ErrorKind::NotConnected,
                format!("the connection closed after the request was sent: {why}"),
            ));
        }
        Ok(w.outstanding())
    }

    /// Reads the response to the request sent (httplib's getresponse).
    pub fn getresponse(&mut self) -> Result<Response> {
        if self.nonblocking {
            return self.nb_getresponse();
        }
        let State::Sent(pending) = self.state else {
            return Err(Error::new(
                ErrorKind::ResponseNotReady,
                match self.state {
                    State::Idle => "no request was sent",
                    _ => "the request's headers were not ended with endheaders",
                },
            ));
        };
        if pending.chunk_open {
            // The caller did not end the chunked body: end it now.
            self.send_chunk(&[])?;
        }
        let shared = self.sent_wire()?;
        let single = self.ready_for_response(&shared)? == 1;
        let mut result = Response::begin(shared, self.strict);
        if let Err(e) = &result {
            let closed_early = matches!(
                e.kind(),
                ErrorKind::RemoteDisconnected | ErrorKind::ConnectionReset
            );
            let p = self.pending();
            if closed_early && p.sent_on_reused && p.replayable && single {
                result = self.replay();
            }
        }
        let withheld = self.pending().body_withheld;
        // The request is over: its response (or its failure) is the caller's now.
        self.state = State::Idle;
        self.finish_getresponse(result, withheld)
    }

    /// The end of getresponse, the request over: the response is the caller's; the
    /// connection is dropped when the response will close it, or closed when it failed.
    pub(super) fn finish_getresponse(
        &mut self,
        result: Result<Response>,
        withheld: bool,
    ) -> Result<Response> {
        match result {
            Ok(mut resp) => {
                if withheld {
                    // The server answered before the body went out, and may still expect it:
                    // the connection can't carry another request.
                    resp.set_will_close();
                    if let Some(w) = &self.wire {
                        if resp.isclosed() {
                            lock(w).close("the request body was not sent");
                        }
                    }
                }
                if resp.will_close() {
                    // The response owns the connection now; the next request opens another.
                    let wire = self.wire.take();
                    self.reading = wire.as_ref().map(Arc::downgrade);
                    if let Some(w) = wire {
                        self.retire_wire(w);
                    }
                }
                Ok(resp)
            }
            Err(e) => {
                if let Some(w) = self.wire.take() {
                    lock(&w).close("a response failed");
                    self.retire_wire(w);
                }
                Err(e)
            }
        }
    }

    /// Sends the kept request again on a fresh connection and reads its response.
    fn replay(&mut self) -> Result<Response> {
        if let Some(w) = self.wire.take() {
            lock(&w).close("the server closed a reused connection");
        }
        let shared = self.open()?;
        {
            let mut w = lock(&shared);
            w.debug(
                DebugKind::Text,
                b"the server closed a reused connection: sending the request again",
            );
            // The request's deadline still counts from its first sending.
            w.set_deadline(self.request_deadline);
            if let Err(e) = w.write_all(&self.out) {
                w.close("a write failed");
                return Err(e);
            }
            w.queue(Sent {
                head: self.pending().is_head_request,
                deadline: self.request_deadline,
            });
        }
        self.pending().sent_on_reused = false;
        Response::begin(shared, self.strict)
    }
}
