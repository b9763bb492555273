//! One open connection: the transport and its read buffer, shared by the connection handle
//! and the response being read from it.
//!
//! This file holds the [`Wire`] struct and its companion types, locking it, building it and
//! what it knows; the rest is split by responsibility:
//! - `exchange`: the exchange (a request queued, a response begun, ended or failed, the
//!   deadline that bounds it, the response call holding bytes) and closing the wire;
//! - `read_write`: reading and writing the stream (filling the buffer, finding lines,
//!   writing), each bounded by the deadline, and the wait for a server's early answer;
//! - `buffer`: the read buffer (its size, consuming its bytes) and the buffers kept for reuse.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::debug::{DebugKind, DebugSink};
use crate::error::{Error, ErrorKind, Result};
use crate::transport::{Stream, Transport};
use buffer::spare_buffer;

mod buffer;
mod exchange;
mod read_write;

/// The read buffer's usual size. It grows only to hold one long head line, and shrinks back.
pub(crate) const BUF_SIZE: usize = 16 * 1024;
/// The smallest and largest read buffer a connection may choose.
pub(crate) const MIN_BLOCK: usize = 1024;
pub(crate) const MAX_BLOCK: usize = 1024 * 1024;
/// The longest status, header, chunk-size or trailer line, terminator included (httplib's
/// `_MAXLINE`).
pub(crate) const MAX_LINE: usize = 65536;

/// A request sent whose response has not been read yet.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub head: bool,
    /// When the whole exchange of this request must be over (the connection's deadline
    /// option, counted from the start of sending it).
    pub deadline: Option<Instant>,
}

/// The requests sent whose responses have not begun, oldest first. The first is kept inline:
/// with one request at a time (all but pipelining) the queue never allocates, and an event
/// loop with thousands of connections touches no separate storage per request.
#[derive(Debug, Default)]
struct SentQueue {
    first: Option<Sent>,
    /// Boxed on purpose: 8 bytes in the wire rather than a VecDeque's 32 (pipelining only).
    #[allow(clippy::box_collection)]
    rest: Option<Box<VecDeque<Sent>>>,
}

impl SentQueue {
    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.as_ref().map_or(0, |r| r.len())
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    fn push_back(&mut self, sent: Sent) {
        if self.first.is_none() {
            self.first = Some(sent);
        } else {
            self.rest.get_or_insert_with(Box::default).push_back(sent);
        }
    }

    fn pop_front(&mut self) -> Option<Sent> {
        let first = self.first.take();
        self.first = self.rest.as_mut().and_then(|r| r.pop_front());
        first
    }
}

/// Where a line search ended.
pub enum Line {
    /// `buf[start..end]` is a line, its terminator (LF) included.
    Complete(usize, usize),
    /// The stream ended; `buf[start..end]` holds what came before the end, maybe nothing.
    Eof(usize, usize),
}

/// One open stream and its read buffer. Its fields are its own: the connection and the
/// response change it through the verbs below (queue a request sent, begin, end or fail a
/// response, close), which keep its rules in this one place:
/// - a closed wire is never used again, and remembers why it closed;
/// - a wire whose peer closed, or that holds bytes nobody asked for, is closed when its
///   response ends;
/// - every read and write is bounded by the exchange's deadline, set when a request is sent
///   and when its response begins, cleared when the response ends or fails.
///
/// The fields every request reads come first, in this order (`repr(C)`): with thousands of
/// connections each wire is out of cache when its next request comes.
#[repr(C)]
pub struct Wire {
    io: Stream,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Requests written whose responses have not begun.
    outstanding: SentQueue,
    /// Responses begun on it (0 on a fresh connection).
    responses: u64,
    /// When its last response ended: the idle check measures from there.
    last_used: Instant,
    /// The end of the exchange in progress: every read and write is limited to what is left,
    /// and fails with `Timeout` once it passed. Set when a request is sent and when its
    /// response begins; cleared when the response body ends or fails.
    deadline: Option<Instant>,
    /// The limit of each read and write (the connection's timeout option).
    io_timeout: Option<Duration>,
    debug: Option<Arc<DebugSink>>,
    /// Bytes written since the stream opened.
    bytes_out: u64,
    /// The buffer is borrowed (LENT_BUFFER bytes) when a read needs it and given back as
    /// soon as its bytes are consumed: empty while nothing is buffered.
    lends: bool,
    /// No further use: closed by us, or not reusable.
    closed: bool,
    /// A response is being read from it.
    response_active: bool,
    /// A read met the end of the stream: the server closed (or half-closed) the connection,
    /// which therefore never carries another request.
    peer_closed: bool,
    /// The stream ended without the protocol's clean close (TLS without close_notify).
    unclean_eof: bool,
    /// The transport's timeout was shortened for a deadline and must be set back.
    timeout_shortened: bool,
    /// Non-blocking mode: the transport's reads and writes never wait, and one that would
    /// fails with `WouldBlock`; timeouts are not applied to the transport.
    nonblocking: bool,
    /// What the last read or write that would have blocked waits for (WANT_READ/WANT_WRITE).
    want: u8,
    is_tls: bool,
    // The rest is read for messages and when options change.
    /// Host and port, for messages.
    peer: Arc<str>,
    /// Why it was closed, for the message of a later use.
    closed_why: &'static str,
    /// The read buffer's usual size (BUF_SIZE unless the connection chose another).
    block: usize,
    /// Non-blocking mode: the response call (readline, read_all) that returned `WouldBlock`
    /// holding bytes read so far, which must be repeated before the connection is used
    /// (docs/nonblocking.md, rule 2). Cleared when the response ends and when the wire closes.
    held_by: Option<&'static str>,
}

pub type SharedWire = Arc<Mutex<Wire>>;

/// Locks a wire; a poisoned lock (a panic while it was held) gives the wire back closed.
// Inlined: a request takes it about ten times, and whether the compiler inlined it on its own
// changed from one build to the next.
#[inline]
pub fn lock(w: &SharedWire) -> MutexGuard<'_, Wire> {
    match w.lock() {
        Ok(g) => g,
        Err(p) => poisoned(p),
    }
}

#[cold]
#[inline(never)]
fn poisoned(p: std::sync::PoisonError<MutexGuard<'_, Wire>>) -> MutexGuard<'_, Wire> {
    let mut g = p.into_inner();
    g.close("an earlier call failed inside httpclient");
    g
}

impl Wire {
    pub fn new(io: impl Into<Stream>, peer: Arc<str>, is_tls: bool) -> Wire {
        Wire::with_buffer(io.into(), peer, is_tls, false)
    }

    /// [`Wire::new`] for a connection among thousands (non-blocking mode): it holds a read
    /// buffer only while bytes are buffered, one of LENT_BUFFER bytes borrowed from its
    /// thread, which grows as [`Wire::fill`] needs up to the usual size.
    pub fn lending(io: impl Into<Stream>, peer: Arc<str>, is_tls: bool) -> Wire {
        Wire::with_buffer(io.into(), peer, is_tls, true)
    }

    fn with_buffer(io: Stream, peer: Arc<str>, is_tls: bool, lends: bool) -> Wire {
        let buf = if lends { Vec::new() } else { spare_buffer() };
        Wire {
            io,
            buf,
            lends,
            block: BUF_SIZE,
            pos: 0,
            end: 0,
            peer,
            closed: false,
            closed_why: "",
            response_active: false,
            outstanding: SentQueue::default(),
            responses: 0,
            bytes_out: 0,
            last_used: Instant::now(),
            debug: None,
            is_tls,
            unclean_eof: false,
            peer_closed: false,
            io_timeout: None,
            deadline: None,
            timeout_shortened: false,
            nonblocking: false,
            want: 0,
            held_by: None,
        }
    }

    // ----- what the wire knows -----

    /// Host and port, for messages.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Closed by us, or not reusable: never used again.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Why it was closed, for the message of a later use ("" while open).
    pub fn closed_why(&self) -> &'static str {
        self.closed_why
    }

    pub fn is_tls(&self) -> bool {
        self.is_tls
    }

    /// The stream ended without the protocol's clean close (TLS without close_notify).
    pub fn unclean_eof(&self) -> bool {
        self.unclean_eof
    }

    /// A read met the end of the stream: the server closed (or half-closed) it.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Responses begun on it (0 on a fresh connection).
    pub fn responses(&self) -> u64 {
        self.responses
    }

    /// A response is being read from it.
    pub fn response_active(&self) -> bool {
        self.response_active
    }

    /// Requests written whose responses have not begun.
    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// No response being read and none awaited.
    pub fn is_idle(&self) -> bool {
        !self.response_active && self.outstanding.is_empty()
    }

    pub fn debug_sink(&self) -> Option<Arc<DebugSink>> {
        self.debug.clone()
    }

    pub fn has_debug(&self) -> bool {
        self.debug.is_some()
    }

    pub fn set_debug(&mut self, debug: Option<Arc<DebugSink>>) {
        self.debug = debug;
    }

    pub fn debug(&self, kind: DebugKind, data: &[u8]) {
        if let Some(d) = &self.debug {
            d.event(kind, data);
        }
    }

    /// The transport's descriptor.
    pub fn fd(&self) -> Option<i32> {
        self.io.fd()
    }

    /// Non-blocking mode on or off, applied to the transport at once.
    pub fn set_nonblocking(&mut self, on: bool) -> Result<()> {
        self.io
            .set_nonblocking(on)
            .map_err(|e| self.io_error("set the non-blocking mode of the connection to", &e))?;
        self.nonblocking = on;
        Ok(())
    }

    /// Non-blocking mode on, for a transport that is non-blocking already (a non-blocking
    /// opening's): nothing is asked of the transport.
    pub fn note_nonblocking(&mut self) {
        self.nonblocking = true;
    }

    /// True in non-blocking mode.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking
    }

    /// What the last read or write that returned `WouldBlock` waits for (WANT_READ and/or
    /// WANT_WRITE).
    pub fn want(&self) -> u8 {
        self.want
    }

    /// The limit of each read and write (the connection's timeout option), applied now.
    pub fn set_io_timeout(&mut self, t: Option<Duration>) {
        self.io_timeout = t;
        let _ = self.io.set_io_timeout(t);
    }
}

pub(crate) fn line_too_long(max: usize) -> Error {
    Error::new(
        ErrorKind::LineTooLong,
        format!("got more than {max} bytes when reading a status, header or chunk line"),
    )
}
