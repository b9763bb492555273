//! Body framing: Content-Length, chunked (with trailers), or until the server closes.
//! Never preallocates a declared length or chunk size; reads at most what the framing
//! announced, so bytes after the body stay in the buffer for the next response.

use crate::error::{escape_bytes, Error, ErrorKind, Result};
use crate::response::head::{read_trailers, Head};
use crate::wire::{Line, Wire, BUF_SIZE, MAX_LINE};

/// Reads at least this many bytes straight into the caller's buffer, bypassing ours.
const DIRECT_READ: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `n` body bytes still to come.
    Length(u64),
    Chunked(Chunk),
    UntilClose,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// `n` bytes of the current chunk still to come.
    Data(u64),
    /// Expecting the line ending after a chunk's data.
    DataEnd,
}

pub struct Body {
    pub framing: Framing,
    /// Body bytes delivered so far (decoded).
    pub received: u64,
    /// The declared Content-Length, for messages.
    pub declared: Option<u64>,
    pub trailers: Option<Head>,
}

fn incomplete(msg: String) -> Error {
    Error::new(ErrorKind::IncompleteRead, msg)
}

fn protocol(msg: String) -> Error {
    Error::new(ErrorKind::HttpException, msg)
}

/// Parses a chunk-size line: hex digits only (no sign, `0x` or `_`), then optional white
/// space and extensions after `;`, which are ignored. Overflow is an error.
pub fn parse_chunk_size(line: &[u8]) -> Result<u64> {
    let bad = || {
        protocol(format!(
            "invalid chunk size line: {}",
            escape_bytes(line, 100)
        ))
    };
    let l = line.strip_suffix(b"\n").ok_or_else(bad)?;
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    if l.contains(&b'\r') || l.contains(&0) {
        return Err(bad());
    }
    let size_part = match l.iter().position(|&b| b == b';') {
        Some(i) => &l[..i],
        None => l,
    };
    let mut digits = size_part;
    while let [rest @ .., b' ' | b'\t'] = digits {
        digits = rest;
    }
    if digits.is_empty() {
        return Err(bad());
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = (b as char).to_digit(16).ok_or_else(bad)?;
        n = n
            .checked_mul(16)
            .and_then(|n| n.checked_add(u64::from(d)))
            .ok_or_else(|| {
                protocol(format!(
                    "chunk size overflows 64 bits: {}",
                    escape_bytes(line, 100)
                ))
            })?;
    }
    Ok(n)
}

impl Body {
    pub fn new(framing: Framing, declared: Option<u64>) -> Body {
        Body {
            framing,
            received: 0,
            declared,
            trailers: None,
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
                        if wire.unclean_eof {
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
                Framing::Chunked(_) if wire.available().is_empty() && out.len() >= DIRECT_READ => {
                    match self.read_chunked_direct(wire, out)? {
                        0 => continue,
                        n => return Ok(n),
                    }
                }
                Framing::Chunked(Chunk::Data(rem)) => {
                    let n = Self::read_bounded(wire, out, rem)?;
                    if n == 0 {
                        return Err(self.chunked_cut_short());
                    }
                    self.received += n as u64;
                    self.framing = match rem - n as u64 {
                        0 => Framing::Chunked(Chunk::DataEnd),
                        r => Framing::Chunked(Chunk::Data(r)),
                    };
                    if rem == n as u64 {
                        // A bad boundary after this chunk must not lose the bytes already
                        // placed in `out`: the state stays put, so the next read reports it.
                        let _ = self.advance_buffered(wire);
                    }
                    return Ok(n);
                }
                Framing::Chunked(_) => self.chunk_boundary(wire, true)?,
            }
        }
    }

    /// Reads raw chunked bytes straight into `out` and removes the framing in place, so that
    /// one system call can carry many chunks. Bytes that are not chunk data of this body (a
    /// boundary line cut in two, the last chunk and its trailers, a next response) go back
    /// into the connection's buffer for the ordinary path. Returns the data bytes left at the
    /// front of `out`; 0 when only framing arrived.
    fn read_chunked_direct(&mut self, wire: &mut Wire, out: &mut [u8]) -> Result<usize> {
        let n = wire.read_raw(out)?;
        if n == 0 {
            return Err(self.chunked_cut_short());
        }
        let (mut r, mut w) = (0usize, 0usize);
        while r < n {
            match self.framing {
                Framing::Chunked(Chunk::Data(rem)) => {
                    let k = (rem.min((n - r) as u64)) as usize;
                    out.copy_within(r..r + k, w);
                    r += k;
                    w += k;
                    self.received += k as u64;
                    self.framing = match rem - k as u64 {
                        0 => Framing::Chunked(Chunk::DataEnd),
                        left => Framing::Chunked(Chunk::Data(left)),
                    };
                }
                Framing::Chunked(state) => {
                    let Some(i) = out[r..n].iter().position(|&b| b == b'\n') else {
                        break;
                    };
                    let line = &out[r..r + i + 1];
                    let step = if state == Chunk::DataEnd {
                        if line != b"\r\n" && line != b"\n" {
                            Err(protocol(format!(
                                "chunk data not followed by a line ending: {}",
                                escape_bytes(line, 100)
                            )))
                        } else {
                            Ok(Framing::Chunked(Chunk::Size))
                        }
                    } else {
                        parse_chunk_size(line).map(|size| match size {
                            // The last chunk and its trailers take the ordinary path.
                            0 => Framing::Done,
                            size => Framing::Chunked(Chunk::Data(size)),
                        })
                    };
                    match step {
                        Ok(Framing::Done) => break,
                        Ok(next) => self.framing = next,
                        // Data already decoded into `out` is delivered first: the bad line
                        // goes back to the buffer and the next read reports it.
                        Err(_) if w > 0 => break,
                        Err(e) => return Err(e),
                    }
                    r += i + 1;
                }
                _ => break,
            }
        }
        if r < n {
            wire.unread(&out[r..n]);
        }
        if w > 0 {
            // As in `read`: an error here is reported by the next read, not lost with `w`.
            let _ = self.advance_buffered(wire);
        } else {
            self.advance_buffered(wire)?;
        }
        Ok(w)
    }

    /// The error for a chunked body whose stream ended early: how many bytes were read and,
    /// inside a chunk, how many more it announced (a chunked body announces no total).
    fn chunked_cut_short(&self) -> Error {
        incomplete(match self.framing {
            Framing::Chunked(Chunk::Data(rem)) => format!(
                "IncompleteRead({} bytes read, {} more expected in the current chunk)",
                self.received, rem
            ),
            _ => format!(
                "IncompleteRead({} bytes read, more expected): the chunked body ended before its last chunk",
                self.received
            ),
        })
    }

    /// Processes chunk boundaries that are already buffered, without reading, so that the
    /// end of a body is noticed as soon as its bytes arrived.
    pub fn advance_buffered(&mut self, wire: &mut Wire) -> Result<()> {
        while matches!(self.framing, Framing::Chunked(Chunk::Size | Chunk::DataEnd)) {
            if wire.buffered_line(MAX_LINE).is_none() {
                return Ok(());
            }
            if self.framing == Framing::Chunked(Chunk::Size) {
                // The last chunk ends the body only with its trailers: finish it here only
                // when they are empty and already here.
                let (s, e) = wire.buffered_line(MAX_LINE).unwrap();
                let size = parse_chunk_size(wire.slice(s, e))?;
                if size == 0 {
                    let after = &wire.available()[e - s..];
                    if !(after.starts_with(b"\r\n") || after.starts_with(b"\n")) {
                        return Ok(());
                    }
                }
            }
            self.chunk_boundary(wire, false)?;
        }
        Ok(())
    }

    /// Handles one boundary line: a chunk size (and, for the last chunk, the trailers) or the
    /// line ending after chunk data.
    fn chunk_boundary(&mut self, wire: &mut Wire, may_read: bool) -> Result<()> {
        let (s, e) = if may_read {
            match wire.line(MAX_LINE)? {
                Line::Complete(s, e) => (s, e),
                Line::Eof(..) => return Err(self.chunked_cut_short()),
            }
        } else {
            match wire.buffered_line(MAX_LINE) {
                Some(r) => r,
                None => return Ok(()),
            }
        };
        match self.framing {
            Framing::Chunked(Chunk::DataEnd) => {
                let l = wire.slice(s, e);
                if l != b"\r\n" && l != b"\n" {
                    return Err(protocol(format!(
                        "chunk data not followed by a line ending: {}",
                        escape_bytes(l, 100)
                    )));
                }
                wire.consume_to(e);
                self.framing = Framing::Chunked(Chunk::Size);
            }
            Framing::Chunked(Chunk::Size) => {
                let size = parse_chunk_size(wire.slice(s, e))?;
                wire.consume_to(e);
                if size == 0 {
                    let received = self.received;
                    let trailers = read_trailers(wire).map_err(|e| match e.kind() {
                        // The body is complete and was handed out; the count says so.
                        ErrorKind::IncompleteRead => incomplete(format!(
                            "IncompleteRead({received} bytes read, the whole body): {}",
                            e.message()
                        )),
                        _ => e,
                    })?;
                    self.trailers = Some(trailers);
                    self.framing = Framing::Done;
                } else {
                    self.framing = Framing::Chunked(Chunk::Data(size));
                }
            }
            _ => unreachable!("chunk_boundary outside a boundary"),
        }
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

#[cfg(test)]
mod tests {
    use super::parse_chunk_size;

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a\r\n").unwrap(), 26);
        assert_eq!(parse_chunk_size(b"1A;ext=1\r\n").unwrap(), 26);
        assert_eq!(parse_chunk_size(b"0010 ;x\n").unwrap(), 16);
        assert_eq!(parse_chunk_size(b"ffffffffffffffff\r\n").unwrap(), u64::MAX);
        for bad in [
            &b"\r\n"[..],
            b"-1\r\n",
            b"+1\r\n",
            b"0x10\r\n",
            b"1_0\r\n",
            b" 10\r\n",
            b"g\r\n",
            b"10000000000000000\r\n",
            b"1\r\r\n",
            b"1\0\r\n",
            b"1",
        ] {
            assert!(parse_chunk_size(bad).is_err(), "{bad:?}");
        }
    }
}
