//! Body framing: Content-Length, chunked (with trailers), or until the server closes.
//! Never preallocates a declared length or chunk size; reads at most what the framing
//! announced, so bytes after the body stay in the buffer for the next response.

use crate::error::{Error, ErrorKind, Result};
use crate::response::chunked::ChunkedDecoder;
use crate::response::head::{FieldsParser, Head, Section, Status};
use crate::wire::{Wire, BUF_SIZE, MAX_LINE};

/// Reads at least this many bytes straight into the caller's buffer, bypassing ours.
const DIRECT_READ: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `n` body bytes still to come.
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
    Done,
}

pub struct Body {
    pub framing: Framing,
    /// Body bytes delivered so far (decoded).
    pub received: u64,
    /// The trailer fields of a chunked body, once they were all read.
    pub trailers: Option<Box<Head>>,
    /// The trailer section being read: its parser and the fields so far.
    trailer_section: Option<Box<(FieldsParser, Head)>>,
    /// An error met after data that was handed out in the same call: reported by the next
    /// read, so those bytes are not lost.
    deferred: Option<Box<Error>>,
}

fn incomplete(msg: String) -> Error {
    Error::new(ErrorKind::IncompleteRead, msg)
}

impl Body {
    pub fn new(framing: Framing) -> Body {
        Body {
            framing,
            received: 0,
            trailers: None,
            trailer_section: None,
            deferred: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.framing == Framing::Done
    }

    /// Copies buffered bytes or reads more, at most `limit` bytes, into `out`.
    /// Returns 0 only at the end of the stream.
    fn read_bounded(wire: &mut Wire, out: &mut [u8], limit: u64) -> Result<usize> {
        let want = (out.len() as u64).min(limit) as usize;
        if want == 0 {
            return Ok(0);
        }
        if wire.available().is_empty() {
            if want >= DIRECT_READ {
                return wire.read_raw(&mut out[..want]);
            }
            if wire.fill(BUF_SIZE)? == 0 {
                return Ok(0);
            }
        }
        let avail = wire.available();
        let n = avail.len().min(want);
        out[..n].copy_from_slice(&avail[..n]);
        wire.consume(n);
        Ok(n)
    }

    /// Reads the next body bytes into `out` (at least one unless the body ended, which is
    /// `Ok(0)`). An empty `out` reads nothing.
    pub fn read(&mut self, wire: &mut Wire, out: &mut [u8]) -> Result<usize> {
        if let Some(e) = self.deferred.take() {
            return Err(*e);
        }
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.framing {
                Framing::Done => return Ok(0),
                Framing::Length(rem) => {
                    let n = Self::read_bounded(wire, out, rem)?;
                    if n == 0 {
                        return Err(incomplete(format!(
                            "IncompleteRead({} bytes read, {} more expected)",
                            self.received, rem
                        )));
                    }
                    self.received += n as u64;
                    self.framing = match rem - n as u64 {
                        0 => Framing::Done,
                        r => Framing::Length(r),
                    };
                    return Ok(n);
                }
                Framing::UntilClose => {
                    let n = Self::read_bounded(wire, out, u64::MAX)?;
                    if n == 0 {
                        if wire.unclean_eof() {
                            return Err(incomplete(format!(
                                "IncompleteRead({} bytes read): the TLS stream ended without close_notify",
                                self.received
                            )));
                        }
                        self.framing = Framing::Done;
                        return Ok(0);
                    }
                    self.received += n as u64;
                    return Ok(n);
                }
                Framing::Chunked(dec) if dec.at_trailers() => {
                    self.read_trailer_section(wire, true)?
                }
                Framing::Chunked(_) if wire.available().is_empty() && out.len() >= DIRECT_READ => {
                    match self.read_chunked_direct(wire, out)? {
                        0 => continue,
                        n => return Ok(n),
                    }
                }
                Framing::Chunked(_) => {
                    if wire.available().is_empty() && wire.fill(BUF_SIZE)? == 0 {
                        return Err(self.chunked_cut_short());
                    }
                    let Framing::Chunked(dec) = &mut self.framing else {
                        unreachable!("matched above")
                    };
                    let d = dec.decode(wire.available(), out.len())?;
                    out[..d.data].copy_from_slice(&wire.available()[d.framing..d.consumed()]);
                    wire.consume(d.consumed());
                    if d.data > 0 {
                        self.received += d.data as u64;
                        // The end of the body is noticed as soon as its bytes are here; an
                        // error in them is kept for the next read, not lost with `out`.
                        if let Err(e) = self.advance_buffered(wire) {
                            self.deferred = Some(Box::new(e));
                        }
                        return Ok(d.data);
                    }
                }
            }
        }
    }

    /// Reads raw chunked bytes straight into `out` and removes the framing in place, so that
    /// one system call can carry many chunks. Bytes that are not chunk data of this body (the
    /// trailer section, a next response) go back into the connection's buffer. Returns the
    /// data bytes left at the front of `out`; 0 when only framing arrived.
    fn read_chunked_direct(&mut self, wire: &mut Wire, out: &mut [u8]) -> Result<usize> {
        let n = wire.read_raw(out)?;
        if n == 0 {
            return Err(self.chunked_cut_short());
        }
        let (mut r, mut w) = (0usize, 0usize);
        while let Framing::Chunked(dec) = &mut self.framing {
            if r == n || dec.at_trailers() {
                break;
            }
            match dec.decode(&out[r..n], usize::MAX) {
                Ok(d) => {
                    out.copy_within(r + d.framing..r + d.consumed(), w);
                    r += d.consumed();
                    w += d.data;
                    self.received += d.data as u64;
                }
                // Data already decoded into `out` is delivered first; the next read reports
                // the error.
                Err(e) if w > 0 => {
                    self.deferred = Some(Box::new(e));
                    return Ok(w);
                }
                Err(e) => return Err(e),
            }
        }
        if r < n {
            wire.unread(&out[r..n]);
        }
        match self.advance_buffered(wire) {
            Err(e) if w > 0 => self.deferred = Some(Box::new(e)),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        Ok(w)
    }

    /// The error for a chunked body whose stream ended early: how many bytes were read and,
    /// inside a chunk, how many more it announced (a chunked body announces no total).
    fn chunked_cut_short(&self) -> Error {
        let data_left = match &self.framing {
            Framing::Chunked(dec) => dec.data_left(),
            _ => None,
        };
        incomplete(match data_left {
            Some(rem) => format!(
                "IncompleteRead({} bytes read, {} more expected in the current chunk)",
                self.received, rem
            ),
            _ => format!(
                "IncompleteRead({} bytes read, more expected): the chunked body ended before its last chunk",
                self.received
            ),
        })
    }

    /// Processes the chunk framing (and trailer section) already buffered, without reading,
    /// so that the end of a body is noticed as soon as its bytes arrived.
    pub fn advance_buffered(&mut self, wire: &mut Wire) -> Result<()> {
        while let Framing::Chunked(dec) = &mut self.framing {
            if dec.at_trailers() {
                return self.read_trailer_section(wire, false);
            }
            if dec.data_left().is_some() || wire.available().is_empty() {
                return Ok(());
            }
            let d = dec.decode(wire.available(), 0)?;
            wire.consume(d.framing);
        }
        Ok(())
    }

    /// Reads the trailer section after the last chunk into `trailers` (reading more only when
    /// `may_read`), and ends the body when it ended. A section the server ends by closing
    /// after a whole line ends there (docs/cut-responses.md).
    fn read_trailer_section(&mut self, wire: &mut Wire, may_read: bool) -> Result<()> {
        let (parser, fields) = &mut **self.trailer_section.get_or_insert_with(|| {
            Box::new((FieldsParser::new(Section::Trailer), Head::for_trailers()))
        });
        loop {
            let debug = wire.debug_sink();
            match parser.parse(wire.available(), fields, debug.as_deref())? {
                Status::Complete(n) => {
                    wire.consume(n);
                    break;
                }
                Status::Partial(n) => {
                    wire.consume(n);
                    if !may_read {
                        return Ok(());
                    }
                    // Room for the longest line and its terminator.
                    if wire.fill(MAX_LINE + 1)? == 0 {
                        let received = self.received;
                        parser.end_of_stream(wire.available()).map_err(|e| {
                            // The body is complete and was handed out; the count says so.
                            incomplete(format!(
                                "IncompleteRead({received} bytes read, the whole body): {}",
                                e.message()
                            ))
                        })?;
                        break;
                    }
                }
            }
        }
        self.trailers = self.trailer_section.take().map(|t| Box::new(t.1));
        self.framing = Framing::Done;
        Ok(())
    }

    /// Body bytes still to come, when known.
    pub fn remaining(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            Framing::Done => Some(0),
            _ => None,
        }
    }
}
