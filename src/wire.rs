//! One open connection: the transport and its read buffer, shared by the connection handle
//! and the response being read from it.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::debug::{DebugKind, DebugSink};
use crate::error::{Error, ErrorKind, Result};
use crate::spare;
use crate::transport::{Stream, Transport};

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
    /// (docs/nonblocking.md, rule 2). Counts only while the response is active.
    held_by: Option<&'static str>,
}

pub type SharedWire = Arc<Mutex<Wire>>;

thread_local! {
    /// The read buffer of the last connection dropped on this thread, for the next one: a
    /// program that opens a connection per request does not allocate and zero 16 KiB each
    /// time.
    static SPARE_BUFFER: Cell<Option<Vec<u8>>> = const { Cell::new(None) };
}

/// The read buffer of a wire that borrows one only while bytes are buffered (a non-blocking
/// connection): an event loop with thousands of connections keeps a few buffers, in cache,
/// rather than one per connection, as a hand-written loop reads every socket into one buffer.
pub(crate) const LENT_BUFFER: usize = 4 * 1024;

/// The most lent buffers a thread keeps for the next borrower.
const LENT_KEPT: usize = 16;

thread_local! {
    /// Lent buffers given back on this thread, the last given back on top (still in cache).
    static LENT: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn borrow_buffer() -> Vec<u8> {
    LENT.try_with(|l| l.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![0; LENT_BUFFER])
}

/// Gives a lent buffer back (one of another size, grown for a large response, is freed).
fn give_back(buf: Vec<u8>) {
    if buf.len() == LENT_BUFFER {
        let _ = LENT.try_with(|l| {
            let mut l = l.borrow_mut();
            if l.len() < LENT_KEPT {
                l.push(buf);
            }
        });
    }
}

fn spare_buffer() -> Vec<u8> {
    spare::take(&SPARE_BUFFER)
        .filter(|b| b.len() == BUF_SIZE)
        .unwrap_or_else(|| vec![0; BUF_SIZE])
}

impl Drop for Wire {
    fn drop(&mut self) {
        if self.lends {
            self.give_back_buffer();
        } else if self.buf.len() == BUF_SIZE {
            spare::keep(&SPARE_BUFFER, std::mem::take(&mut self.buf));
        }
    }
}

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

    /// The error of a read (`dir` WANT_READ) or write (WANT_WRITE) that would block, noting
    /// what it waits for: the transport's own answer (TLS may read for a write), else `dir`.
    fn would_block(&mut self, what: &str, dir: u8) -> Error {
        let want = self.io.want();
        self.want = if want == 0 { dir } else { want };
        Error::would_block_at(what, &self.peer)
    }

    /// Maps a read error: `WouldBlock` in non-blocking mode, else as [`Wire::read_error`].
    fn map_read_error(&mut self, e: &io::Error) -> Error {
        if self.nonblocking && e.kind() == io::ErrorKind::WouldBlock {
            self.would_block("read from", crate::transport::WANT_READ)
        } else {
            self.read_error(e)
        }
    }

    /// The limit of each read and write (the connection's timeout option), applied now.
    pub fn set_io_timeout(&mut self, t: Option<Duration>) {
        self.io_timeout = t;
        let _ = self.io.set_io_timeout(t);
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

    /// Reads more bytes as [`Wire::fill`] does, waiting at most `wait` (and at most the
    /// timeout option) for them.
    pub fn fill_within(&mut self, wait: Duration, limit: usize) -> Result<usize> {
        let t = self.io_timeout.map_or(wait, |t| t.min(wait));
        let _ = self.io.set_io_timeout(Some(t));
        let r = self.fill(limit);
        let _ = self.io.set_io_timeout(self.io_timeout);
        r
    }

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
        self.held_by = None;
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

    /// Before each read or write: limits the transport's timeout to what is left of the
    /// deadline, or fails with `Timeout` when it passed; with no deadline, puts the timeout
    /// option back if a deadline had shortened it.
    fn apply_deadline(&mut self) -> Result<()> {
        if self.nonblocking {
            // Nothing waits: the deadline is only checked, at each call.
            return match self.deadline {
                Some(d) if Instant::now() >= d => Err(self.deadline_passed()),
                _ => Ok(()),
            };
        }
        let Some(deadline) = self.deadline else {
            if self.timeout_shortened {
                self.timeout_shortened = false;
                let _ = self.io.set_io_timeout(self.io_timeout);
            }
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.deadline_passed());
        }
        let t = match self.io_timeout {
            Some(io) if io < left => io,
            _ => left,
        };
        self.timeout_shortened = true;
        self.io
            .set_io_timeout(Some(t))
            .map_err(|e| self.io_error("set the timeout of", &e))
    }

    fn deadline_passed(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "the request's deadline passed before its response from {} ended",
                self.peer
            ),
        )
    }

    /// When the exchange in progress must be over, if it is timed.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Maps a transport error; a timeout is the deadline's when the deadline has passed.
    fn read_error(&self, e: &io::Error) -> Error {
        let err = self.io_error("read from", e);
        self.deadline_error(err)
    }

    fn deadline_error(&self, err: Error) -> Error {
        match self.deadline {
            Some(d) if err.kind() == ErrorKind::Timeout && Instant::now() >= d => Error::new(
                ErrorKind::Timeout,
                format!(
                    "the request's deadline passed before its response from {} ended",
                    self.peer
                ),
            ),
            _ => err,
        }
    }

    /// Sets the read buffer's usual size (clamped to MIN_BLOCK..=MAX_BLOCK): at once when
    /// nothing is buffered, else once the buffered bytes are consumed (a smaller size), or
    /// when the buffer next fills (a larger one).
    pub fn set_block(&mut self, n: usize) {
        self.block = n.clamp(MIN_BLOCK, MAX_BLOCK);
        // A size of its own: the buffer is the wire's from now on.
        self.lends = false;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            self.buf.resize(self.block, 0);
            self.buf.shrink_to_fit();
        }
    }

    /// Closes the stream; the wire is never used again. In non-blocking mode the socket is
    /// released at once, its descriptor number kept by a placeholder until the wire is dropped
    /// (docs/nonblocking.md, "The descriptor changes").
    /// Records (`Some`) or clears the response call that holds bytes between its `WouldBlock`
    /// and its repeat.
    pub fn set_held_by(&mut self, call: Option<&'static str>) {
        self.held_by = call;
    }

    /// The response call that must be repeated before this wire's connection is used again:
    /// set by that call, and only while its response is being read on an open wire.
    pub fn held_by(&self) -> Option<&'static str> {
        self.held_by
            .filter(|_| self.response_active && !self.closed)
    }

    pub fn close(&mut self, why: &'static str) {
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

    pub fn debug(&self, kind: DebugKind, data: &[u8]) {
        if let Some(d) = &self.debug {
            d.event(kind, data);
        }
    }

    /// The bytes received and not yet consumed.
    pub fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    pub fn slice(&self, start: usize, end: usize) -> &[u8] {
        &self.buf[start..end]
    }

    pub fn consume(&mut self, n: usize) {
        debug_assert!(self.pos + n <= self.end);
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            if self.lends {
                self.give_back_buffer();
            } else if self.buf.len() > self.block {
                self.buf.truncate(self.block);
                self.buf.shrink_to_fit();
            }
        }
    }

    /// Puts bytes read past what a reader needed back in front of the buffer, which must be
    /// empty (they were read straight into a caller's buffer).
    pub fn unread(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.pos, self.end, "unread into a non-empty buffer");
        if bytes.len() > self.buf.len() {
            self.buf.resize(bytes.len(), 0);
        }
        self.buf[..bytes.len()].copy_from_slice(bytes);
        self.pos = 0;
        self.end = bytes.len();
    }

    /// Sets the start of unconsumed bytes to `pos` (a position returned by a line search).
    pub fn consume_to(&mut self, pos: usize) {
        let n = pos - self.pos;
        self.consume(n);
    }

    fn io_error(&self, what: &str, e: &io::Error) -> Error {
        Error::io(&format!("{what} {}", self.peer), e)
    }

    /// Reads from the transport into `out`, mapping errors; `Ok(0)` is a clean end.
    pub fn read_raw(&mut self, out: &mut [u8]) -> Result<usize> {
        loop {
            self.apply_deadline()?;
            match self.io.read(out) {
                Ok(n) => {
                    self.peer_closed |= n == 0 && !out.is_empty();
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.unclean_eof = true;
                    self.peer_closed = true;
                    return Ok(0);
                }
                Err(e) => return Err(self.map_read_error(&e)),
            }
        }
    }

    /// A lending wire's buffer, emptied, goes back to its thread.
    fn give_back_buffer(&mut self) {
        give_back(std::mem::take(&mut self.buf));
    }

    /// Reads more bytes into the buffer, making room (at most `limit` bytes unconsumed).
    /// Returns the count read, 0 at the end of the stream.
    pub fn fill(&mut self, limit: usize) -> Result<usize> {
        if self.lends && self.buf.is_empty() {
            self.buf = borrow_buffer();
        }
        if self.pos > 0 && self.end == self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let want = (self.buf.len() * 2).min(limit.max(self.block));
            if want <= self.buf.len() {
                return Err(Error::new(ErrorKind::Internal, "read buffer full"));
            }
            self.buf.resize(want, 0);
        }
        let mut end = self.end;
        let n = loop {
            self.apply_deadline()?;
            match self.io.read(&mut self.buf[end..]) {
                Ok(n) => break Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        match n {
            Ok(n) => {
                end += n;
                self.end = end;
                self.peer_closed |= n == 0;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                self.unclean_eof = true;
                self.peer_closed = true;
                Ok(0)
            }
            Err(e) => Err(self.map_read_error(&e)),
        }
    }

    /// Finds the next line (up to LF) of at most `max` bytes, reading as needed.
    /// A longer line is `LineTooLong`. Does not consume.
    pub fn line(&mut self, max: usize) -> Result<Line> {
        let mut searched = 0;
        loop {
            let avail = &self.buf[self.pos + searched..self.end];
            if let Some(i) = avail.iter().position(|&b| b == b'\n') {
                let end = self.pos + searched + i + 1;
                if end - self.pos > max {
                    return Err(line_too_long(max));
                }
                return Ok(Line::Complete(self.pos, end));
            }
            searched = self.end - self.pos;
            if searched >= max {
                return Err(line_too_long(max));
            }
            // Room for the longest line and its terminator.
            if self.fill(max + 1)? == 0 {
                return Ok(Line::Eof(self.pos, self.end));
            }
        }
    }

    /// Writes `data[*done..]`, advancing `*done` past each byte written, until all is written
    /// or (non-blocking mode) the transport would block, which is `WouldBlock` with `*done`
    /// saying how far it got: the next call goes on from there.
    pub fn write_from(&mut self, data: &[u8], done: &mut usize) -> Result<()> {
        while *done < data.len() {
            self.apply_deadline()?;
            match self.io.write(&data[*done..]) {
                Ok(0) => {
                    let e = io::Error::from(io::ErrorKind::WriteZero);
                    return Err(self.io_error("write to", &e));
                }
                Ok(n) => {
                    *done += n;
                    self.bytes_out += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.nonblocking && e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(self.would_block("write to", crate::transport::WANT_WRITE));
                }
                Err(e) => return Err(self.deadline_error(self.io_error("write to", &e))),
            }
        }
        Ok(())
    }

    /// Writes all of `data` (each write limited by the deadline, when there is one). In
    /// non-blocking mode a write that would block is `WouldBlock` and what was written is
    /// not remembered: calls that must resume use [`Wire::write_from`].
    pub fn write_all(&mut self, data: &[u8]) -> Result<()> {
        let mut done = 0;
        self.write_from(data, &mut done)
    }
}

impl Wire {
    /// Bytes written since the stream opened.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// After a write failed because the peer closed or reset the stream: whether the peer's
    /// final answer already arrived, i.e. what it sent before closing holds a whole response
    /// head that is not an interim (1xx) one. Reads what the transport still holds (bytes
    /// received before a reset stay readable), each read limited to EARLY_ANSWER_WAIT, and
    /// keeps every byte read for the response.
    pub fn holds_final_head(&mut self) -> bool {
        const EARLY_ANSWER_WAIT: Duration = Duration::from_millis(200);
        if self.closed {
            return false;
        }
        let _ = self.io.set_io_timeout(Some(EARLY_ANSWER_WAIT));
        let found = loop {
            match final_head_in(self.available()) {
                Some(found) => break found,
                None => match self.fill(2 * MAX_LINE) {
                    Ok(n) if n > 0 => {}
                    _ => break false,
                },
            }
        };
        let _ = self.io.set_io_timeout(self.io_timeout);
        found
    }
}

/// Whether `bytes` begin with a whole final response head, after any whole interim (1xx but
/// 101) ones: Some(true) or Some(false) when that is known, None when more bytes could tell.
/// The heads are read by the response's own parser, so what counts as a head here is what
/// getresponse will accept.
fn final_head_in(mut bytes: &[u8]) -> Option<bool> {
    use crate::response::head::{Head, HeadParser, Status};
    let mut head = Head::default();
    loop {
        if bytes.len() >= 5 && !bytes.starts_with(b"HTTP/") {
            return Some(false);
        }
        match HeadParser::new().parse(bytes, &mut head, None) {
            Err(_) => return Some(false),
            Ok(Status::Partial(_)) => return None,
            Ok(Status::Complete(n)) if (100..200).contains(&head.status) && head.status != 101 => {
                bytes = &bytes[n..];
            }
            Ok(Status::Complete(_)) => return Some(true),
        }
    }
}

pub(crate) fn line_too_long(max: usize) -> Error {
    Error::new(
        ErrorKind::LineTooLong,
        format!("got more than {max} bytes when reading a status, header or chunk line"),
    )
}

#[cfg(test)]
mod tests {
    use super::final_head_in;

    #[test]
    fn final_heads() {
        assert_eq!(
            final_head_in(b"HTTP/1.1 413 Too Large\r\n\r\nbody"),
            Some(true)
        );
        assert_eq!(final_head_in(b"HTTP/1.0 401 X\nA: b\n\n"), Some(true));
        assert_eq!(
            final_head_in(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 417 No\r\n\r\n"),
            Some(true)
        );
        assert_eq!(final_head_in(b"HTTP/1.1 101 Switching\r\n\r\n"), Some(true));
        assert_eq!(final_head_in(b"HTTP/1.1 100 Continue\r\n\r\n"), None);
        assert_eq!(final_head_in(b"HTTP/1.1 413 Too Large\r\nContent-Le"), None);
        assert_eq!(final_head_in(b""), None);
        assert_eq!(final_head_in(b"HTT"), None);
        assert_eq!(final_head_in(b"garbage\r\n\r\n"), Some(false));
        assert_eq!(final_head_in(b"HTTP/1.1 abc\r\n\r\n"), Some(false));
    }
}
