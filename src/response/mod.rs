//! A response: its head, and its body read in pieces from the connection underneath.
//!
//! The data path, one way:
//!
//! ```text
//!  socket ──► Wire's read buffer ──► head::HeadParser ──► framing_of ──► body::Body ──► caller
//!  (transport)   (src/wire.rs)        status line and      Length,        Length: copy
//!                                     header fields,       Chunked,       Chunked: chunked::
//!                                     resumable            UntilClose,    ChunkedDecoder, then
//!                                                          Done           head::FieldsParser
//!                                                                         for the trailers
//! ```
//!
//! Two deliberate back-edges: a large read with nothing buffered goes straight from the
//! socket into the caller's buffer (`Wire::read_raw`; a chunked body is then de-framed in
//! place there), and the bytes such a read took past the body's data (the trailer section, a
//! next response) go back in front of the read buffer (`Wire::unread`). The parsers take
//! whatever bytes have arrived and keep their progress, so a blocking read loop (here) and an
//! event loop drive the same code.

pub mod body;
pub mod chunked;
pub mod head;
pub(crate) mod scan;

use std::cell::OnceCell;
use std::ffi::{CStr, CString};

use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind, Result};
use crate::request::trim;
use crate::spare;
use crate::wire::{lock, Sent, SharedWire, Wire};
use body::{Body, Framing};
use chunked::ChunkedDecoder;
use head::{Head, HeadReader, MAX_INTERIM};

/// An HTTP response (httplib's HTTPResponse).
///
/// Its state is boxed: on its way to the caller a response is returned through several
/// layers (the head reader, getresponse, the C handle), and a box moves as one pointer where
/// the state would be copied whole each time. The box of the last response freed on a thread
/// serves the next one, so a warm request allocates nothing.
pub struct Response(Option<Box<State>>);

thread_local! {
    static SPARE_STATE: std::cell::Cell<Option<Box<State>>> = const { std::cell::Cell::new(None) };
}

impl std::ops::Deref for Response {
    type Target = State;
    #[inline]
    fn deref(&self) -> &State {
        self.0
            .as_deref()
            .expect("a response's state is taken only when it is dropped")
    }
}

impl std::ops::DerefMut for Response {
    #[inline]
    fn deref_mut(&mut self) -> &mut State {
        self.0
            .as_deref_mut()
            .expect("a response's state is taken only when it is dropped")
    }
}

/// What a [`Response`] holds.
pub struct State {
    head: Head,
    body: Body,
    /// The connection the body comes from; None once the body ended or failed.
    wire: Option<SharedWire>,
    will_close: bool,
    /// The error that stopped the body, returned again by every later read.
    error: Option<Box<Error>>,
    /// `getheader` values of repeated fields joined with ", ", built on first use, one slot
    /// per field index.
    joined: OnceCell<Vec<OnceCell<CString>>>,
    /// Non-blocking mode: what the last read that returned `WouldBlock` waits for.
    want: u8,
    /// Non-blocking mode: what a readline or read_all that returned `WouldBlock` read so
    /// far, for the repeated call.
    kept: Option<Box<Kept>>,
}

impl State {
    fn new(head: Head, framing: Framing, wire: Option<SharedWire>, will_close: bool) -> State {
        State {
            head,
            body: Body::new(framing),
            wire,
            will_close,
            error: None,
            joined: OnceCell::new(),
            want: 0,
            kept: None,
        }
    }
}

/// The call that keeps bytes inside a response between its `WouldBlock` and its repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptCall {
    Readline,
    ReadAll,
}

impl KeptCall {
    fn name(self) -> &'static str {
        match self {
            KeptCall::Readline => "readline",
            KeptCall::ReadAll => "read_all",
        }
    }
}

/// Bytes a readline or read_all read before it returned `WouldBlock`, and the call (and its
/// buffer's address and length) that must be repeated to get them.
struct Kept {
    call: KeptCall,
    key: (usize, usize),
    bytes: Vec<u8>,
}

/// A response head being read in non-blocking mode: the request it answers (taken from the
/// wire once), the head reader's progress and the interim responses skipped so far.
pub(crate) struct Beginning {
    sent: Option<Sent>,
    reader: HeadReader,
    interim: usize,
}

thread_local! {
    /// The box of the last response head read on this thread, for the next one.
    static SPARE_BEGINNING: std::cell::Cell<Option<Box<Beginning>>> = const { std::cell::Cell::new(None) };
}

impl Beginning {
    /// A beginning for the answer to `sent`.
    fn new(sent: Option<Sent>) -> Beginning {
        Beginning {
            sent,
            reader: HeadReader::new(),
            interim: 0,
        }
    }

    /// This beginning in a box, the spare one of this thread when there is one.
    fn boxed(self) -> Box<Beginning> {
        spare::boxed(&SPARE_BEGINNING, self)
    }

    /// Keeps this box for the next response head read on this thread.
    fn recycle(self: Box<Self>) {
        spare::keep(&SPARE_BEGINNING, self);
    }
}

/// What a head says of the body that follows it and of the connection.
struct Framed {
    framing: Framing,
    /// The connection is not reused after this response.
    will_close: bool,
}

/// What `begin` learned from the head about the body and the connection.
fn framing_of(head: &Head, is_head_request: bool) -> Result<Framed> {
    let framed = |framing, will_close| {
        Ok(Framed {
            framing,
            will_close,
        })
    };
    // One pass over the fields, each name compared only with those of its length.
    // Content-Length: digits only; repeated identical values are one value.
    let mut length: Option<u64> = None;
    let mut te_present = false;
    let mut chunked_last = false;
    // Connection: close (HTTP/1.1); a keep-alive token or field (HTTP/1.0).
    let mut close = false;
    let mut keep_alive = false;
    for i in 0..head.len() {
        let Some((name, v)) = head.field(i) else {
            break;
        };
        match name.len() {
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                length = content_length(v, length)?;
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                for coding in v.split(|&b| b == b',') {
                    let coding = trim(coding);
                    if coding.is_empty() {
                        continue;
                    }
                    te_present = true;
                    chunked_last = coding.eq_ignore_ascii_case(b"chunked");
                }
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                close |= has_token(v, b"close");
                keep_alive |= has_token(v, b"keep-alive");
            }
            10 if name.eq_ignore_ascii_case(b"keep-alive") => keep_alive = true,
            16 if name.eq_ignore_ascii_case(b"proxy-connection") => {
                keep_alive |= has_token(v, b"keep-alive");
            }
            _ => {}
        }
    }
    let will_close = match head.version {
        11 => close,
        10 => !keep_alive,
        _ => true,
    };
    let status = head.status;
    if is_head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return framed(Framing::Done, will_close || status == 101);
    }
    if te_present {
        if chunked_last {
            // Transfer-Encoding wins over Content-Length, but such a message is suspect:
            // the connection is not reused.
            return framed(
                Framing::Chunked(ChunkedDecoder::new()),
                will_close || length.is_some(),
            );
        }
        return framed(Framing::UntilClose, true);
    }
    match length {
        Some(0) => framed(Framing::Done, will_close),
        Some(n) => framed(Framing::Length(n), will_close),
        None => framed(Framing::UntilClose, true),
    }
}

/// Adds the Content-Length field value `v` to the length of the fields before it: digits
/// only, and every value the same.
fn content_length(v: &[u8], length: Option<u64>) -> Result<Option<u64>> {
    let mut length = length;
    for part in v.split(|&b| b == b',') {
        let part = trim(part);
        let bad = || {
            Error::new(
                ErrorKind::HttpException,
                format!(
                    "invalid Content-Length: {}",
                    crate::error::escape_bytes(v, 100)
                ),
            )
        };
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        // Up to 19 digits can't overflow a u64: no checks needed for them.
        let n = if part.len() <= 19 {
            Some(part.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0')))
        } else {
            part.iter().try_fold(0u64, |a, &d| {
                a.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
        };
        let n = n.ok_or_else(bad)?;
        match length {
            Some(prev) if prev != n => {
                return Err(Error::new(
                    ErrorKind::HttpException,
                    format!("conflicting Content-Length values: {prev} and {n}"),
                ))
            }
            _ => length = Some(n),
        }
    }
    Ok(length)
}

/// True if the comma-separated list `v` holds `token` (case-insensitive).
fn has_token(v: &[u8], token: &[u8]) -> bool {
    v.split(|&b| b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

impl Response {
    /// Reads the head of the next response from `shared` (skipping interim 1xx responses),
    /// for a request that was `head_request` or not.
    pub(crate) fn begin(shared: SharedWire, strict: bool) -> Result<Response> {
        Self::resume(shared, strict, &mut None)
    }

    /// [`Response::begin`] that may stop (non-blocking mode) with `WouldBlock`, keeping its
    /// progress in `beginning` for the next call, which goes on where it stopped; any other
    /// outcome leaves `beginning` None.
    pub(crate) fn resume(
        shared: SharedWire,
        strict: bool,
        beginning: &mut Option<Box<Beginning>>,
    ) -> Result<Response> {
        let mut wire = lock(&shared);
        // A head read at once needs no box: the progress is boxed only to be kept for the
        // next call, when the read would block.
        let mut fresh = None;
        let result = match beginning.as_deref_mut() {
            Some(b) => Self::read_final_head(&mut wire, strict, b),
            None => {
                // This response's reads are bounded by its request's deadline. (Made in
                // place: the progress is moved only when it must be kept.)
                let b = fresh.insert(Beginning::new(wire.begin_response()));
                Self::read_final_head(&mut wire, strict, b)
            }
        };
        if matches!(&result, Err(e) if e.is_would_block()) {
            if let Some(b) = fresh {
                *beginning = Some(b.boxed());
            }
            return Err(result.err().expect("matched"));
        }
        if let Some(b) = beginning.take() {
            b.recycle();
        }
        let (
            head,
            Framed {
                framing,
                will_close,
            },
        ) = match result {
            Ok(v) => v,
            Err(e) => {
                wire.close("a response head could not be read");
                return Err(e);
            }
        };
        // A head ended by the close (docs/cut-responses.md): the connection is done.
        let will_close = will_close || wire.peer_closed();
        wire.response_started();
        drop(wire);
        let mut resp = Response(Some(spare::boxed(
            &SPARE_STATE,
            State::new(head, framing, Some(shared), will_close),
        )));
        if resp.body.is_done() {
            resp.finish();
        } else if let Framing::Chunked(_) = resp.body.framing {
            let shared = resp.wire.clone().unwrap();
            let mut wire = lock(&shared);
            if let Err(e) = resp.body.advance_buffered(&mut wire) {
                drop(wire);
                resp.fail(e.clone());
            } else if resp.body.is_done() {
                drop(wire);
                resp.finish();
            }
        }
        Ok(resp)
    }

    fn read_final_head(wire: &mut Wire, strict: bool, b: &mut Beginning) -> Result<(Head, Framed)> {
        let lenient_09 = !strict && wire.responses() == 0;
        let head_request = b.sent.map(|s| s.head).unwrap_or(false);
        loop {
            let head = b.reader.read(wire, lenient_09 && b.interim == 0)?;
            if head.version == 9 {
                // An HTTP/0.9 reply is all body, to the close; the answer to a HEAD has none,
                // and what was sent is never read as a next response.
                let framing = if head_request {
                    Framing::Done
                } else {
                    Framing::UntilClose
                };
                return Ok((
                    head,
                    Framed {
                        framing,
                        will_close: true,
                    },
                ));
            }
            if (100..200).contains(&head.status) && head.status != 101 {
                b.interim += 1;
                if b.interim > MAX_INTERIM {
                    return Err(Error::new(
                        ErrorKind::HttpException,
                        format!("more than {MAX_INTERIM} interim (1xx) responses"),
                    ));
                }
                head.recycle();
                continue;
            }
            let framed = framing_of(&head, head_request)?;
            return Ok((head, framed));
        }
    }

    /// The body ended: the connection is free for the next response, or closed when the
    /// response said so or sent bytes nobody asked for.
    fn finish(&mut self) {
        if let Some(shared) = self.wire.take() {
            if lock(&shared).end_response(self.will_close) {
                self.will_close = true;
            }
        }
    }

    /// The body failed: the connection can't be trusted any more.
    fn fail(&mut self, e: Error) {
        if let Some(shared) = self.wire.take() {
            lock(&shared).fail_response("a response body failed");
        }
        self.error = Some(Box::new(e));
    }

    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// 9, 10 or 11.
    pub fn version(&self) -> u8 {
        self.head.version
    }

    pub fn reason(&self) -> &[u8] {
        self.head.reason()
    }

    pub fn reason_cstr(&self) -> &CStr {
        self.head.reason_cstr()
    }

    /// The header fields in wire order.
    pub fn headers(&self) -> &Head {
        &self.head
    }

    /// The value of `name` (case-insensitive), repeated fields joined with ", ".
    pub fn getheader(&self, name: &[u8]) -> Option<&CStr> {
        let (first, more) = self.head.find(name)?;
        if !more {
            return self.head.field_cstr(first).map(|(_, v)| v);
        }
        let slots = self
            .joined
            .get_or_init(|| (0..self.head.len()).map(|_| OnceCell::new()).collect());
        Some(slots[first].get_or_init(|| {
            let parts: Vec<&[u8]> = self.head.values(name).collect();
            CString::new(parts.join(&b", "[..])).expect("header values hold no NUL")
        }))
    }

    /// Body bytes still to come when known (Content-Length), else None.
    pub fn length(&self) -> Option<u64> {
        self.body.remaining()
    }

    /// True once the body was read to its end (or failed, or the response was closed).
    pub fn isclosed(&self) -> bool {
        self.wire.is_none()
    }

    /// The server said the connection closes after this response.
    pub fn will_close(&self) -> bool {
        self.will_close
    }

    /// Makes the connection close once this response ends (the request's body was withheld).
    pub(crate) fn set_will_close(&mut self) {
        self.will_close = true;
    }

    /// Body bytes delivered so far.
    pub fn bytes_read(&self) -> u64 {
        self.body.received
    }

    /// The trailers of a chunked body, once it ended.
    pub fn trailers(&self) -> Option<&Head> {
        self.body.trailers.as_deref()
    }

    /// Reads the next body bytes into `buf`: at least one, or 0 at the end of the body.
    pub fn read_some(&mut self, buf: &mut [u8]) -> Result<usize> {
        // The state itself, so that its fields are borrowed apart.
        let st: &mut State = self;
        if let Some(e) = &st.error {
            return Err((**e).clone());
        }
        let Some(shared) = st.wire.as_ref() else {
            return Ok(0);
        };
        let mut wire = lock(shared);
        if wire.is_closed() {
            let e = Error::new(
                ErrorKind::NotConnected,
                format!(
                    "the connection was closed before the body ended ({} bytes read): {}",
                    st.body.received,
                    wire.closed_why()
                ),
            );
            drop(wire);
            self.fail(e.clone());
            return Err(e);
        }
        match st.body.read(&mut wire, buf) {
            Ok(n) => {
                if n > 0 {
                    wire.debug(DebugKind::DataIn, &buf[..n]);
                }
                if st.body.is_done() {
                    // As finish, under this lock.
                    if wire.end_response(st.will_close) {
                        st.will_close = true;
                    }
                    drop(wire);
                    st.wire = None;
                }
                Ok(n)
            }
            Err(e) if e.is_would_block() => {
                st.want = wire.want();
                Err(e)
            }
            Err(e) => {
                drop(wire);
                self.fail(e.clone());
                Err(e)
            }
        }
    }

    /// Non-blocking mode: after a read returned `WouldBlock`, what it waits for
    /// (WANT_READ/WANT_WRITE); else 0.
    pub fn want(&self) -> u8 {
        self.want
    }

    /// The descriptor of the connection the body comes from, while it is being read.
    pub fn fileno(&self) -> Option<i32> {
        let w = lock(self.wire.as_ref()?);
        if w.is_closed() {
            None
        } else {
            w.fd()
        }
    }

    /// Keeps `bytes` for the repeat of `call` (same `key`), and tells the connection, through
    /// the wire, that its calls are refused until then (docs/nonblocking.md, rule 2).
    fn keep(&mut self, call: KeptCall, key: (usize, usize), bytes: Vec<u8>) {
        self.hold(Some(call));
        self.kept = Some(Box::new(Kept { call, key, bytes }));
    }

    /// Records on the wire which call holds bytes (`None`: none any more).
    fn hold(&self, call: Option<KeptCall>) {
        if let Some(w) = &self.wire {
            lock(w).set_held_by(call.map(KeptCall::name));
        }
    }

    /// A readline or read_all that returned `WouldBlock` keeps bytes inside: only the same
    /// call, with the same buffer, may come next. Refuses any other (OpenSSL's "bad write
    /// retry"); gives the kept bytes to the right one.
    fn take_kept(&mut self, call: Option<(KeptCall, (usize, usize))>) -> Result<Vec<u8>> {
        let Some(k) = &self.kept else {
            return Ok(Vec::new());
        };
        if call == Some((k.call, k.key)) {
            self.hold(None);
            return Ok(self.kept.take().map(|k| k.bytes).unwrap_or_default());
        }
        let what = match call {
            Some((c, _)) if c == k.call => format!("{} with another buffer", c.name()),
            Some((c, _)) => c.name().to_string(),
            None => "read".to_string(),
        };
        Err(Error::new(
            ErrorKind::ImproperConnectionState,
            format!(
                "{what} called while a {} that returned WouldBlock holds {} bytes: repeat that \
                 {} with the same buffer and length first",
                k.call.name(),
                k.bytes.len(),
                k.call.name()
            ),
        ))
    }

    /// httplib's `read(amt)`: fills `buf` unless the body ends first. Returns the count and
    /// the outcome; on an error the count still says how many bytes were placed in `buf`.
    ///
    /// Non-blocking mode: returns as soon as some bytes came (`Ok` with a count > 0) and the
    /// next read would block; `WouldBlock` with 0 when none came.
    pub fn read_fill(&mut self, buf: &mut [u8]) -> (usize, Result<()>) {
        self.want = 0;
        if self.kept.is_some() {
            if let Err(e) = self.take_kept(None) {
                return (0, Err(e));
            }
        } else if self.wire.is_none() && self.error.is_none() {
            // The body ended: the read that says so (an event loop's last) does nothing else.
            return (0, Ok(()));
        }
        match fill_with(buf, |b| self.read_some(b)) {
            (n, Err(e)) if n > 0 && e.is_would_block() => {
                self.want = 0;
                (n, Ok(()))
            }
            r => r,
        }
    }

    /// Reads the rest of the body into `out`; on an error `out` still holds what arrived.
    pub fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.read_to_end_keyed(out, (out as *const Vec<u8> as usize, 0))
    }

    /// [`Response::read_to_end`] that, on `WouldBlock` (non-blocking mode), keeps what it
    /// read inside: the repeated call with the same `key` (the caller's out-parameters) gets
    /// it back in front of `out`, which must be empty then.
    pub fn read_to_end_keyed(&mut self, out: &mut Vec<u8>, key: (usize, usize)) -> Result<()> {
        self.want = 0;
        let kept = self.take_kept(Some((KeptCall::ReadAll, key)))?;
        if !kept.is_empty() {
            let mut kept = kept;
            kept.extend_from_slice(out);
            *out = kept;
        }
        let r = self.read_to_end_inner(out);
        if matches!(&r, Err(e) if e.is_would_block()) {
            self.keep(KeptCall::ReadAll, key, std::mem::take(out));
        }
        r
    }

    fn read_to_end_inner(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.read_some(&mut chunk)? {
                0 => return Ok(()),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// httplib's `readline(limit)`: reads body bytes up to and including the next `\n`, at
    /// most `buf.len()` of them; fewer without a `\n` only at the end of the body (0 once it
    /// ended). Never reads past the line.
    pub fn readline(&mut self, buf: &mut [u8]) -> Result<usize> {
        match self.readline_counted(buf) {
            (n, Ok(())) => Ok(n),
            (_, Err(e)) => Err(e),
        }
    }

    /// [`Response::readline`] giving the count also with an error (the bytes placed in
    /// `buf`). Non-blocking mode: a line not yet whole is `WouldBlock` with count 0, its bytes
    /// kept inside; the repeated call with the same buffer and length puts them back in front
    /// and goes on.
    pub fn readline_counted(&mut self, buf: &mut [u8]) -> (usize, Result<()>) {
        self.want = 0;
        let key = (buf.as_ptr() as usize, buf.len());
        let kept = match self.take_kept(Some((KeptCall::Readline, key))) {
            Ok(k) => k,
            Err(e) => return (0, Err(e)),
        };
        buf[..kept.len()].copy_from_slice(&kept);
        let mut total = kept.len();
        match self.readline_from(buf, &mut total) {
            Err(e) if e.is_would_block() => {
                if total > 0 {
                    self.keep(KeptCall::Readline, key, buf[..total].to_vec());
                }
                (0, Err(e))
            }
            r => (total, r),
        }
    }

    fn readline_from(&mut self, buf: &mut [u8], total: &mut usize) -> Result<()> {
        if buf[..*total].contains(&b'\n') {
            return Ok(());
        }
        while *total < buf.len() {
            let room = buf.len() - *total;
            // Body bytes already buffered for sure: take up to the line's end in one copy.
            let take = self.buffered_line_len(room).unwrap_or(1);
            let n = self.read_some(&mut buf[*total..*total + take.max(1)])?;
            if n == 0 {
                break;
            }
            *total += n;
            if buf[*total - n..*total].contains(&b'\n') {
                break;
            }
        }
        Ok(())
    }

    /// How many of the body bytes in the read buffer (those a read returns first, at most
    /// `max`) to take for a line: up to and including the first `\n`, else all of them. None
    /// when none are buffered, or a chunk boundary comes first.
    fn buffered_line_len(&self, max: usize) -> Option<usize> {
        let rem = match &self.body.framing {
            Framing::Length(rem) => *rem,
            Framing::Chunked(dec) => dec.data_left()?,
            Framing::UntilClose => u64::MAX,
            Framing::Done => return None,
        };
        let wire = lock(self.wire.as_ref()?);
        if wire.is_closed() {
            return None;
        }
        let avail = wire.available();
        let n = avail
            .len()
            .min(max)
            .min(usize::try_from(rem).unwrap_or(usize::MAX));
        let window = &avail[..n];
        let take = window.iter().position(|&b| b == b'\n').map_or(n, |i| i + 1);
        (take > 0).then_some(take)
    }

    /// Stops reading: an unfinished body closes the connection underneath.
    pub fn close(&mut self) {
        if self.wire.is_some() {
            self.fail(Error::new(
                ErrorKind::NotConnected,
                "the response was closed before its body ended",
            ));
        }
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        let Some(mut state) = self.0.take() else {
            return;
        };
        if let Some(shared) = state.wire.take() {
            lock(&shared).fail_response("a response was freed before its body ended");
        } else {
            std::mem::take(&mut state.head).recycle();
        }
        // The box, emptied, serves the thread's next response.
        *state = State::new(Head::default(), Framing::Done, None, false);
        spare::keep(&SPARE_STATE, state);
    }
}

impl std::io::Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_some(buf).map_err(std::io::Error::other)
    }
}

/// Fills `buf` from `read_some` (a reader that returns 0 at the end) unless the body ends
/// first: httplib's `read(amt)` over any body reader. Returns the count and the outcome; on an
/// error the count still says how many bytes were placed in `buf`.
pub(crate) fn fill_with(
    buf: &mut [u8],
    mut read_some: impl FnMut(&mut [u8]) -> Result<usize>,
) -> (usize, Result<()>) {
    let mut total = 0;
    while total < buf.len() {
        match read_some(&mut buf[total..]) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) => return (total, Err(e)),
        }
    }
    (total, Ok(()))
}
