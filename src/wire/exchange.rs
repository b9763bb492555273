//! The exchange on a wire: a request queued, a response begun, ended or failed, the deadline
//! that bounds it, the response call holding bytes; and closing the wire.

use std::time::{Duration, Instant};

use super::{Sent, Wire};
use crate::transport::Transport;

impl Wire {
    // ----- the exchange -----

    /// A request was written whose response has not begun.
    pub fn queue(&mut self, sent: Sent) {
        self.outstanding.push_back(sent);
    }

    /// Bounds the exchange in progress by `deadline` (a request about to be written), unless
    /// a response is being read: its own deadline stays in force.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        if !self.response_active {
            self.deadline = deadline;
        }
    }

    /// The next response begins: the request it answers (None when none was sent), whose
    /// deadline now bounds the reads.
    pub fn begin_response(&mut self) -> Option<Sent> {
        let sent = self.outstanding.pop_front();
        self.deadline = sent.and_then(|s| s.deadline);
        sent
    }

    /// The head of a response was read: its body is being read from the wire now.
    pub fn response_started(&mut self) {
        self.responses += 1;
        self.response_active = true;
    }

    /// A response's body ended. The wire closes when `will_close` (the response said so),
    /// when the server closed the stream, or when it sent bytes past the response that no
    /// request awaits; otherwise it is free for the next request. Returns whether it closed.
    pub fn end_response(&mut self, will_close: bool) -> bool {
        self.response_active = false;
        self.held_by = None;
        self.deadline = None;
        self.last_used = Instant::now();
        let awaited = !self.outstanding.is_empty();
        if will_close {
            self.close("the server said it would close the connection");
        } else if self.peer_closed && !awaited {
            // A head or trailer section ended by the close (docs/cut-responses.md).
            self.close("the server closed the connection");
        } else if !self.available().is_empty() && !awaited {
            self.close("the server sent bytes after the end of a response");
        }
        self.closed
    }

    /// A response failed or was given up before its end: the wire can't be trusted any more.
    pub fn fail_response(&mut self, why: &'static str) {
        self.response_active = false;
        self.deadline = None;
        self.close(why);
    }

    /// Marks the wire closed without shutting the stream down: for a plain stream nobody
    /// else holds, which dropping closes anyway (a shutdown first would only cost a system
    /// call).
    pub fn close_by_dropping(&mut self) {
        self.closed = true;
        self.closed_why = "the connection was freed";
    }

    /// When the exchange in progress must be over, if it is timed.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Records (`Some`) or clears the response call that holds bytes between its `WouldBlock`
    /// and its repeat.
    pub fn set_held_by(&mut self, call: Option<&'static str>) {
        self.held_by = call;
    }

    /// The response call that must be repeated before this wire's connection is used again:
    /// set by that call, cleared by its repeat, by the end of its response and by the close
    /// (which a failed or freed response makes).
    pub fn held_by(&self) -> Option<&'static str> {
        self.held_by
    }

    /// Closes the stream; the wire is never used again. In non-blocking mode the socket is
    /// released at once, its descriptor number kept by a placeholder until the wire is dropped
    /// (docs/nonblocking.md, "The descriptor changes").
    pub fn close(&mut self, why: &'static str) {
        self.held_by = None;
        if !self.closed {
            self.closed = true;
            self.closed_why = why;
            self.io.shutdown();
            if self.nonblocking {
                if let Some(fd) = self.io.fd() {
                    crate::ffi::park::park(fd);
                }
            }
        }
        self.pos = 0;
        self.end = 0;
        if self.lends {
            self.give_back_buffer();
        }
    }

    /// An idle wire the server may have closed: checked without blocking once it sat idle
    /// `after`, and closed when the server did (or when a read already met the end of the
    /// stream). Returns whether it is still open.
    pub fn check_idle(&mut self, after: Duration) -> bool {
        if !self.closed && self.is_idle() {
            if self.peer_closed {
                self.close("the server closed the connection");
            } else if self.responses > 0 && self.last_used.elapsed() >= after {
                let closed = self.io.closed_while_idle();
                // The check may have put the socket back in blocking mode (TLS peeks by
                // switching it): non-blocking mode stays.
                if self.nonblocking && self.io.set_nonblocking(true).is_err() {
                    self.close("the connection could not be put back in non-blocking mode");
                } else if closed {
                    self.close("the server closed the connection while it was idle");
                }
            }
        }
        !self.closed
    }
}
