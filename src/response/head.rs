//! The response head: status line and header fields, parsed line by line with httplib's
//! limits, under the parsing policy of the C contract.

use std::ffi::CStr;

use crate::debug::{DebugKind, DebugSink};
use crate::error::{escape_bytes, Error, ErrorKind, Result};
use crate::request::{trim, trim_bounds};
use crate::response::scan::{scan_line, LineScan, NONE};
use crate::spare;
use crate::wire::{Wire, MAX_LINE};

/// The most header lines in one head (httplib's `_MAXHEADERS`).
pub(crate) const MAX_HEADERS: usize = 100;
/// The most interim (1xx) responses skipped before a final one.
pub(crate) const MAX_INTERIM: usize = 32;

/// A parsed status line and its header fields. The strings live in one buffer, each followed
/// by a NUL so that the C face can hand them out without copying.
#[derive(Debug, Clone, Default)]
pub struct Head {
    pub version: u8,
    pub status: u16,
    store: Vec<u8>,
    reason: (u32, u32),
    fields: Vec<[u32; 4]>,
}

fn protocol_error(msg: String) -> Error {
    Error::new(ErrorKind::HttpException, msg)
}

/// Strips the line terminator (LF or CRLF).
fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Head {
    fn push_str(&mut self, s: &[u8]) -> (u32, u32) {
        let start = self.store.len() as u32;
        self.store.extend_from_slice(s);
        let end = self.store.len() as u32;
        self.store.push(0);
        (start, end)
    }

    /// Empties the head for another response, keeping its storage.
    fn reset(&mut self, version: u8, status: u16) {
        self.version = version;
        self.status = status;
        self.store.clear();
        self.fields.clear();
        self.reason = (0, 0);
    }

    /// Whether its storage is small enough to keep for the next response on a connection
    /// (a head that grew large is freed rather than kept).
    pub fn worth_keeping(&self) -> bool {
        self.store.capacity() <= 16 * 1024 && self.fields.capacity() <= 128
    }

    /// A head for the next response: the storage of the last one freed on this thread, or
    /// a new one.
    pub fn recycled() -> Head {
        spare::take(&SPARE_HEAD).unwrap_or_default()
    }

    /// Keeps this head's storage for the next response read on this thread, when it is not
    /// too large, in place of the one kept before: the last one used is the one in cache.
    pub fn recycle(self) {
        if self.worth_keeping() {
            spare::keep(&SPARE_HEAD, self);
        }
    }

    pub fn reason(&self) -> &[u8] {
        &self.store[self.reason.0 as usize..self.reason.1 as usize]
    }

    pub fn reason_cstr(&self) -> &CStr {
        cstr_at(&self.store, self.reason)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The field at `i` in wire order.
    pub fn field(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let f = self.fields.get(i)?;
        Some((
            &self.store[f[0] as usize..f[1] as usize],
            &self.store[f[2] as usize..f[3] as usize],
        ))
    }

    /// The field at `i` as NUL-terminated strings.
    pub fn field_cstr(&self, i: usize) -> Option<(&CStr, &CStr)> {
        let f = self.fields.get(i)?;
        Some((
            cstr_at(&self.store, (f[0], f[1])),
            cstr_at(&self.store, (f[2], f[3])),
        ))
    }

    /// The values of every field named `name` (case-insensitive), in wire order.
    pub fn values<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        (0..self.fields.len()).filter_map(move |i| {
            let (n, v) = self.field(i)?;
            n.eq_ignore_ascii_case(name).then_some(v)
        })
    }

    /// The index of the first field named `name`, and whether another follows.
    pub fn find(&self, name: &[u8]) -> Option<(usize, bool)> {
        let mut it = (0..self.fields.len()).filter(|&i| {
            self.field(i)
                .map(|(n, _)| n.eq_ignore_ascii_case(name))
                .unwrap_or(false)
        });
        let first = it.next()?;
        Some((first, it.next().is_some()))
    }

    /// Adds the field of `line` (a header or a trailer): its name is `line[..colon]`, its
    /// value `line[v0..v1]` (after the colon). The line is copied once, up to the value's end;
    /// a NUL replaces the colon and follows the value, so both read as C strings in place.
    fn push_field(&mut self, line: &[u8], colon: usize, (v0, v1): (usize, usize)) {
        let start = self.store.len();
        self.store.extend_from_slice(&line[..v1]);
        self.store.push(0);
        self.store[start + colon] = 0;
        let at = |i: usize| (start + i) as u32;
        self.fields.push([at(0), at(colon), at(v0), at(v1)]);
    }

    /// Appends an obsolete line fold to the last field's value, as one space.
    fn fold_into_last(&mut self, more: &[u8]) {
        let Some(last) = self.fields.last_mut() else {
            return;
        };
        // The last value is the last string in the store: drop its NUL, extend, re-add.
        debug_assert_eq!(last[3] as usize + 1, self.store.len());
        self.store.pop();
        if last[3] > last[2] && !more.is_empty() {
            self.store.push(b' ');
        }
        self.store.extend_from_slice(more);
        last[3] = self.store.len() as u32;
        self.store.push(0);
    }

    /// An empty head to hold the trailer fields of a chunked body.
    pub fn for_trailers() -> Head {
        let mut t = Head::default();
        t.reason = t.push_str(b"");
        t
    }

    /// A head for an HTTP/0.9 reply.
    pub fn http09() -> Head {
        let mut h = Head {
            version: 9,
            status: 200,
            ..Head::default()
        };
        h.reason = h.push_str(b"");
        h
    }
}

thread_local! {
    /// The storage of the last response head freed on this thread, for the next one read on
    /// it: no allocation per request, and memory the thread touched last rather than
    /// storage kept per connection (an event loop with thousands of connections would find
    /// that out of cache on every request).
    static SPARE_HEAD: std::cell::Cell<Option<Head>> = const { std::cell::Cell::new(None) };
}

fn cstr_at(store: &[u8], (start, end): (u32, u32)) -> &CStr {
    CStr::from_bytes_with_nul(&store[start as usize..end as usize + 1])
        .expect("stored strings hold no NUL and end with one")
}

/// Parses a status line (terminator stripped) into version, status and reason.
pub fn parse_status_line(line: &[u8]) -> Result<(u8, u16, &[u8])> {
    // The usual shape, "HTTP/1.1 200 OK", read without a search. Anything else, every error
    // included, takes the general reading below, which gives the same result for this shape.
    if let [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor, b' ', d0 @ b'1'..=b'9', d1, d2, rest @ ..] =
        line
    {
        if minor.is_ascii_digit()
            && d1.is_ascii_digit()
            && d2.is_ascii_digit()
            && matches!(rest.first(), None | Some(b' ' | b'\t'))
            && !rest.iter().any(|&b| b == 0 || b == b'\r')
        {
            let code =
                u16::from(d0 - b'0') * 100 + u16::from(d1 - b'0') * 10 + u16::from(d2 - b'0');
            let version = if *minor == b'0' { 10 } else { 11 };
            return Ok((version, code, trim(rest)));
        }
    }
    let bad = |why: &str| {
        Error::new(
            ErrorKind::BadStatusLine,
            format!("{why}: {}", escape_bytes(line, 200)),
        )
    };
    if memchr::memchr2(0, b'\r', line).is_some() {
        return Err(bad("NUL or bare CR in status line"));
    }
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let rest = &line[line.iter().position(|b| !is_ws(b)).unwrap_or(line.len())..];
    let vend = rest.iter().position(is_ws).unwrap_or(rest.len());
    let version = &rest[..vend];
    if !version.starts_with(b"HTTP/") {
        return Err(bad("status line does not start with HTTP/"));
    }
    let v = match version {
        b"HTTP/1.0" => 10,
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => 11,
        _ => {
            return Err(Error::new(
                ErrorKind::UnknownProtocol,
                format!("unknown protocol version: {}", escape_bytes(version, 100)),
            ))
        }
    };
    let rest = &rest[vend..];
    let rest = &rest[rest.iter().position(|b| !is_ws(b)).unwrap_or(rest.len())..];
    let send = rest.iter().position(is_ws).unwrap_or(rest.len());
    let status = &rest[..send];
    if status.len() != 3 || !status.iter().all(u8::is_ascii_digit) {
        return Err(bad("status code is not three digits"));
    }
    let code = status
        .iter()
        .fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    if code < 100 {
        return Err(bad("status code below 100"));
    }
    let reason = trim(&rest[send..]);
    Ok((v, code, reason))
}

/// Which section of a message a [`FieldsParser`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The header fields after a status line.
    Header,
    /// The trailer fields after the last chunk of a chunked body.
    Trailer,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Header => "header",
            Section::Trailer => "trailer",
        }
    }

    fn max_bytes(self) -> usize {
        match self {
            Section::Header => usize::MAX,
            Section::Trailer => MAX_TRAILER_BYTES,
        }
    }
}

/// What a parser made of the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The section ended: this many bytes of the input were its own (the rest follows it).
    Complete(usize),
    /// More bytes are needed. This many bytes of the input were consumed (whole lines); the
    /// rest, a line not yet ended, must be given again, followed by what arrives next. The
    /// parser remembers how far it already searched that line, so nothing is scanned twice.
    Partial(usize),
}

/// Finds the end of the line starting at `input[0]`: the index after its LF. `scanned` bytes
/// of it were searched by an earlier call and hold no LF.
fn line_end(input: &[u8], scanned: &mut usize) -> Result<Option<usize>> {
    let from = (*scanned).min(input.len());
    let end = memchr::memchr(b'\n', &input[from..]).map(|i| from + i + 1);
    checked_line_end(end, input.len(), scanned)
}

/// The verdict on a line search over `len` bytes that found its end at `end` (the index after
/// its LF) or found none: a line (terminator included) longer than `MAX_LINE` is
/// `LineTooLong`, found as soon as that many bytes came without a LF. Records in `scanned`
/// how much of an unended line was searched.
fn checked_line_end(end: Option<usize>, len: usize, scanned: &mut usize) -> Result<Option<usize>> {
    match end {
        Some(end) => {
            *scanned = 0;
            if end > MAX_LINE {
                return Err(crate::wire::line_too_long(MAX_LINE));
            }
            Ok(Some(end))
        }
        None => {
            *scanned = len;
            if len >= MAX_LINE {
                return Err(crate::wire::line_too_long(MAX_LINE));
            }
            Ok(None)
        }
    }
}

/// Reads a section of field lines, up to the empty line that ends it, from whatever bytes
/// have arrived: one line at a time, each parsed once, whole; it stops at any byte and
/// resumes where it stopped (see [`Status`]).
///
/// A section the server ends by closing the connection right after a whole line (one ending
/// in LF) ends there, as if the empty line had come (curl and CPython do the same); the wire
/// then knows the peer closed, so the connection is never reused. A close inside a line is an
/// error: `HttpException` in the header, `IncompleteRead` in the trailer (the body before it
/// is complete and was handed out). docs/cut-responses.md states these rules.
#[derive(Debug, Clone)]
pub struct FieldsParser {
    section: Section,
    lines: usize,
    bytes: usize,
    scanned: usize,
}

impl FieldsParser {
    pub fn new(section: Section) -> FieldsParser {
        FieldsParser {
            section,
            lines: 0,
            bytes: 0,
            scanned: 0,
        }
    }

    /// Parses the lines of `input` into `head`; each line read is reported to `debug`.
    pub fn parse(
        &mut self,
        input: &[u8],
        head: &mut Head,
        debug: Option<&DebugSink>,
    ) -> Result<Status> {
        let what = self.section.name();
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            let Some(scan) = self.next_line(rest)? else {
                return Ok(Status::Partial(pos));
            };
            let end = scan.end;
            let raw = &rest[..end];
            pos += end;
            self.bytes += end;
            let line = strip_eol(raw);
            if line.is_empty() {
                return Ok(Status::Complete(pos));
            }
            if let Some(d) = debug {
                d.event(DebugKind::HeaderIn, raw);
            }
            self.lines += 1;
            if self.lines > MAX_HEADERS {
                return Err(Error::new(
                    ErrorKind::TooManyHeaders,
                    format!("got more than {MAX_HEADERS} {what} lines"),
                ));
            }
            let max_bytes = self.section.max_bytes();
            if self.bytes > max_bytes {
                return Err(protocol_error(format!(
                    "the {what} section is larger than {max_bytes} bytes"
                )));
            }
            add_field(line, &scan, head, what)?;
        }
    }

    /// Scans the next line of `rest`: `None` while its LF has not come. A line resumed after
    /// an earlier call is searched for its end past what was searched, then scanned whole once.
    fn next_line(&mut self, rest: &[u8]) -> Result<Option<LineScan>> {
        if self.scanned > 0 {
            let Some(end) = line_end(rest, &mut self.scanned)? else {
                return Ok(None);
            };
            return Ok(scan_line(&rest[..end]));
        }
        let scan = scan_line(rest);
        checked_line_end(scan.map(|s| s.end), rest.len(), &mut self.scanned)?;
        Ok(scan)
    }

    /// The stream ended; `rest` is what the last [`FieldsParser::parse`] left unconsumed.
    /// Nothing left: the section ended with the close after a whole line. A line cut short
    /// is an error.
    pub fn end_of_stream(&self, rest: &[u8]) -> Result<()> {
        if rest.is_empty() {
            return Ok(());
        }
        let msg = format!(
            "the server closed the connection inside a response {} line: {}",
            self.section.name(),
            escape_bytes(rest, 200)
        );
        Err(match self.section {
            Section::Header => protocol_error(msg),
            Section::Trailer => Error::new(ErrorKind::IncompleteRead, msg),
        })
    }
}

/// Adds one field line (terminator stripped, not empty) to `head`; `scan` is the scan of the
/// line with its terminator.
fn add_field(line: &[u8], scan: &LineScan, head: &mut Head, what: &str) -> Result<()> {
    // A NUL or a CR anywhere wins over every other fault.
    if scan.bad < line.len() {
        return Err(protocol_error(format!(
            "NUL or bare CR in a {what} line: {}",
            escape_bytes(line, 200)
        )));
    }
    if line[0] == b' ' || line[0] == b'\t' {
        // An obsolete fold continues the previous field; before any field it is skipped.
        head.fold_into_last(trim(line));
        return Ok(());
    }
    // A line without a colon is skipped; the fields after it still count.
    let colon = scan.colon;
    if colon == NONE {
        return Ok(());
    }
    if scan.space < colon {
        return Err(protocol_error(format!(
            "white space in a {what} field name: {}",
            escape_bytes(line, 200)
        )));
    }
    if colon > 0 {
        head.push_field(line, colon, trim_bounds(line, colon + 1));
    }
    Ok(())
}

/// Reads a response head, a status line and its header section, from whatever bytes have
/// arrived, as [`FieldsParser`] does: it stops at any byte and resumes without rereading.
#[derive(Debug, Clone)]
pub struct HeadParser {
    status_read: bool,
    scanned: usize,
    fields: FieldsParser,
}

impl Default for HeadParser {
    fn default() -> Self {
        HeadParser::new()
    }
}

impl HeadParser {
    pub fn new() -> HeadParser {
        HeadParser {
            status_read: false,
            scanned: 0,
            fields: FieldsParser::new(Section::Header),
        }
    }

    /// Parses the bytes of `input` into `head` (emptied first, its storage kept, when the
    /// status line is read).
    pub fn parse(
        &mut self,
        input: &[u8],
        head: &mut Head,
        debug: Option<&DebugSink>,
    ) -> Result<Status> {
        let mut pos = 0;
        if !self.status_read {
            let Some(end) = line_end(input, &mut self.scanned)? else {
                return Ok(Status::Partial(0));
            };
            let raw = &input[..end];
            if let Some(d) = debug {
                d.event(DebugKind::HeaderIn, raw);
            }
            let (version, status, reason) = parse_status_line(strip_eol(raw))?;
            head.reset(version, status);
            head.store.reserve(end + 256);
            head.reason = head.push_str(reason);
            self.status_read = true;
            pos = end;
        }
        Ok(match self.fields.parse(&input[pos..], head, debug)? {
            Status::Complete(n) => Status::Complete(pos + n),
            Status::Partial(n) => Status::Partial(pos + n),
        })
    }

    /// The stream ended; `rest` is what the last [`HeadParser::parse`] left unconsumed.
    /// `peer` names the server in messages.
    pub fn end_of_stream(&self, rest: &[u8], peer: &str) -> Result<()> {
        if self.status_read {
            return self.fields.end_of_stream(rest);
        }
        if rest.is_empty() {
            return Err(Error::new(
                ErrorKind::RemoteDisconnected,
                format!("remote end closed connection without response ({peer})"),
            ));
        }
        Err(Error::new(
            ErrorKind::BadStatusLine,
            format!(
                "the server closed the connection inside the status line: {}",
                escape_bytes(rest, 200)
            ),
        ))
    }
}

/// Reads one status line and its headers. `lenient_09`: the first response on a fresh
/// connection in lenient mode, where a reply that does not start with "HTTP/" is HTTP/0.9.
pub fn read_head(wire: &mut Wire, lenient_09: bool) -> Result<Head> {
    HeadReader::new().read(wire, lenient_09)
}

/// A response head being read from a wire, kept between calls: a read that would block
/// (non-blocking mode) returns `WouldBlock`, and the next [`HeadReader::read`] goes on where
/// it stopped, with nothing reread.
#[derive(Debug, Default)]
pub struct HeadReader {
    parser: HeadParser,
    head: Option<Head>,
}

impl HeadReader {
    pub fn new() -> HeadReader {
        HeadReader::default()
    }

    /// Reads the head (see [`read_head`]); after an error other than `WouldBlock` the reader
    /// must not be used again.
    pub fn read(&mut self, wire: &mut Wire, lenient_09: bool) -> Result<Head> {
        if lenient_09 && !self.parser.status_read {
            // Enough bytes to tell "HTTP/" from anything else, or the end of the stream.
            while wire.available().len() < 5 && !wire.available().contains(&b'\n') {
                if wire.fill(MAX_LINE + 1)? == 0 {
                    break;
                }
            }
            let avail = wire.available();
            if !avail.is_empty() && !avail.starts_with(&b"HTTP/"[..avail.len().min(5)]) {
                return Ok(Head::http09());
            }
        }
        if self.head.is_none() {
            self.head = Some(Head::recycled());
        }
        loop {
            // Nothing buffered: nothing to parse (the parser keeps no bytes, only where it
            // stopped), so read first.
            if !wire.available().is_empty() {
                let debug = wire.debug_sink();
                let head = self.head.as_mut().expect("set above");
                match self
                    .parser
                    .parse(wire.available(), head, debug.as_deref())?
                {
                    Status::Complete(n) => {
                        wire.consume(n);
                        return Ok(self.take());
                    }
                    Status::Partial(n) => wire.consume(n),
                }
            }
            // Room for the longest line and its terminator.
            if wire.fill(MAX_LINE + 1)? == 0 {
                self.parser.end_of_stream(wire.available(), wire.peer())?;
                return Ok(self.take());
            }
        }
    }

    /// The head read, the reader ready for the next one.
    fn take(&mut self) -> Head {
        self.parser = HeadParser::new();
        self.head.take().unwrap_or_default()
    }
}

/// The most bytes of a trailer section.
pub(crate) const MAX_TRAILER_BYTES: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lines_and_their_errors() {
        let parse = |line: &[u8]| {
            let mut h = Head::for_trailers();
            let scan = scan_line(&[line, b"\r\n"].concat()).unwrap();
            add_field(line, &scan, &mut h, "header").map(|()| {
                (0..h.len())
                    .map(|i| {
                        let (n, v) = h.field(i).unwrap();
                        (n.to_vec(), v.to_vec())
                    })
                    .collect::<Vec<_>>()
            })
        };
        let one = |n: &[u8], v: &[u8]| vec![(n.to_vec(), v.to_vec())];
        assert_eq!(parse(b"Name: v a l \t").unwrap(), one(b"Name", b"v a l"));
        assert_eq!(parse(b"Name:").unwrap(), one(b"Name", b""));
        assert_eq!(parse(b"A:b:c").unwrap(), one(b"A", b"b:c"));
        // Skipped: no colon, an empty name.
        assert!(parse(b"no colon here").unwrap().is_empty());
        assert!(parse(b": v").unwrap().is_empty());
        let msg = |line: &[u8]| parse(line).unwrap_err().message().to_string();
        // A NUL or CR anywhere wins over white space in the name.
        assert!(msg(b"Na me: v\0").contains("NUL or bare CR"));
        assert!(msg(b"Na\rme: v").contains("NUL or bare CR"));
        assert!(msg(b"no colon\0").contains("NUL or bare CR"));
        assert!(msg(b"Name: v\rw").contains("NUL or bare CR"));
        assert!(msg(b" folded\0").contains("NUL or bare CR"));
        assert!(msg(b"Na me: v").contains("white space in a header field name"));
        assert!(msg(b"Name\t: v").contains("white space in a header field name"));
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_status_line(b"HTTP/1.1 200 OK").unwrap(),
            (11, 200, &b"OK"[..])
        );
        assert_eq!(
            parse_status_line(b"HTTP/1.0 404").unwrap(),
            (10, 404, &b""[..])
        );
        assert_eq!(parse_status_line(b"HTTP/1.1 200 ").unwrap().2, b"");
        assert_eq!(
            parse_status_line(b"HTTP/1.2 200 x y").unwrap(),
            (11, 200, &b"x y"[..])
        );
        assert_eq!(parse_status_line(b"HTTP/1.1 999 z").unwrap().1, 999);
        // The usual shape's short cut and the general reading agree at their edges.
        assert_eq!(
            parse_status_line(b"HTTP/1.1 200\tOK \t").unwrap(),
            (11, 200, &b"OK"[..])
        );
        assert_eq!(
            parse_status_line(b"HTTP/1.1  200 OK").unwrap(),
            (11, 200, &b"OK"[..])
        );
        assert_eq!(
            parse_status_line(b" HTTP/1.0 100").unwrap(),
            (10, 100, &b""[..])
        );
        assert_eq!(parse_status_line(b"HTTP/1.9 204 a\tb").unwrap().2, b"a\tb");
        let k = |l: &[u8]| parse_status_line(l).unwrap_err().kind();
        assert_eq!(k(b"HTTP/2.0 200 OK"), ErrorKind::UnknownProtocol);
        assert_eq!(k(b"HTTP/1.10 200 OK"), ErrorKind::UnknownProtocol);
        assert_eq!(k(b"HTTP/0.9 200 OK"), ErrorKind::UnknownProtocol);
        assert_eq!(k(b"ICY 200 OK"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.1 20 OK"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.1 2000 OK"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.1 099 OK"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.1 -20 OK"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.1 200 O\0K"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.1 200 O\rK"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.1 200OK"), ErrorKind::BadStatusLine);
        assert_eq!(k(b"HTTP/1.x 200 OK"), ErrorKind::UnknownProtocol);
        assert_eq!(k(b""), ErrorKind::BadStatusLine);
    }
}
