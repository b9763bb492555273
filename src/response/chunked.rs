//! The chunked transfer coding (RFC 9112 §7.1), decoded by one state machine over whatever
//! bytes have arrived: every rule of chunked framing is in this file. The decoder takes any
//! slice, consumes every framing byte it is given (a chunk-size line may come one byte at a
//! time: its progress is kept here, nothing is reread), and says which bytes of the slice are
//! body data. The buffered path (bytes in the connection's buffer) and the in-place path
//! (bytes read straight into the caller's buffer, compacted there) both drive it, as will an
//! event loop. Model: curl's `lib/http_chunks.c`.
//!
//! The grammar: a chunk size is hex digits only (no sign, `0x` or `_`), then optional white
//! space, then an optional extension after `;` (ignored); the line ends in CRLF or a bare LF.
//! A NUL, or a CR that does not end the line, anywhere in it is an error, and so is a size
//! that overflows 64 bits or a line over `MAX_LINE` bytes. Each chunk's data is followed by
//! CRLF or LF. The last chunk (size 0) ends the data; the trailer section after it is read
//! by the head parser's `FieldsParser`.

use crate::error::{escape_bytes, Error, ErrorKind, Result};
use crate::wire::{line_too_long, MAX_LINE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The hex digits of a chunk size; `digits`: at least one was read.
    Size { digits: bool },
    /// White space after the digits.
    SizeSpace,
    /// A chunk extension after `;`, skipped.
    Extension,
    /// A CR ended the size line: LF must follow.
    SizeLf,
    /// This many data bytes of the current chunk are still to come (never 0).
    Data(u64),
    /// After a chunk's data: CR or LF.
    DataEnd,
    /// After a chunk's data and a CR: LF.
    DataLf,
    /// The last chunk's line was read: the trailer section follows.
    Trailers,
}

/// The decoder's progress through one chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkedDecoder {
    state: State,
    /// The chunk size read so far.
    size: u64,
    /// Bytes of the current size line so far, terminator included once it came.
    line_len: usize,
}

/// What one call of [`ChunkedDecoder::decode`] did with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// Framing bytes consumed from the front of the input.
    pub framing: usize,
    /// Body bytes that follow them in the input, also consumed: `input[framing..framing +
    /// data]`.
    pub data: usize,
}

impl Decoded {
    /// Input bytes consumed in all.
    pub fn consumed(&self) -> usize {
        self.framing + self.data
    }
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

fn protocol(msg: String) -> Error {
    Error::new(ErrorKind::HttpException, msg)
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size { digits: false },
            size: 0,
            line_len: 0,
        }
    }

    /// The last chunk was read: what follows is the trailer section.
    pub fn at_trailers(&self) -> bool {
        self.state == State::Trailers
    }

    /// Data bytes of the current chunk still to come, when inside one.
    pub fn data_left(&self) -> Option<u64> {
        match self.state {
            State::Data(n) => Some(n),
            _ => None,
        }
    }

    /// Decodes the front of `input`: consumes framing bytes until it reaches chunk data, the
    /// end of the input, or the end of the last chunk's line; then takes at most `max_data`
    /// data bytes (one run, never past the current chunk). Call again with the rest of the
    /// input (or more bytes) to go on; `max_data == 0` only moves through framing.
    ///
    /// An error is final: the body is broken (the data before it were valid).
    pub fn decode(&mut self, input: &[u8], max_data: usize) -> Result<Decoded> {
        let mut i = 0;
        // Where the current size line began in `input` (0 if it began in an earlier call).
        let mut line_start = 0;
        while i < input.len() {
            if let State::Data(rem) = self.state {
                let n = (rem.min((input.len() - i) as u64) as usize).min(max_data);
                self.state = match rem - n as u64 {
                    0 => State::DataEnd,
                    left => State::Data(left),
                };
                return Ok(Decoded {
                    framing: i,
                    data: n,
                });
            }
            if self.state == State::Trailers {
                break;
            }
            let b = input[i];
            i += 1;
            if matches!(self.state, State::DataEnd | State::DataLf) {
                self.state = match (self.state, b) {
                    (State::DataEnd, b'\r') => State::DataLf,
                    (_, b'\n') => {
                        line_start = i;
                        self.start_size_line()
                    }
                    _ => {
                        return Err(protocol(format!(
                            "chunk data not followed by a line ending: {}",
                            escape_bytes(&input[i - 1..input.len().min(i + 15)], 16)
                        )))
                    }
                };
                continue;
            }
            // A size line.
            self.line_len += 1;
            if self.line_len > MAX_LINE {
                return Err(line_too_long(MAX_LINE));
            }
            let bad = |why: &str| {
                protocol(format!(
                    "invalid chunk size line ({why}): {}",
                    escape_bytes(&input[line_start..i], 100)
                ))
            };
            self.state = match (self.state, b) {
                (_, b'\n') if self.state != State::Size { digits: false } => {
                    if self.size == 0 {
                        State::Trailers
                    } else {
                        State::Data(self.size)
                    }
                }
                (State::SizeLf, _) => return Err(bad("a CR not followed by LF")),
                (_, 0) => return Err(bad("a NUL")),
                (State::Size { digits: true } | State::SizeSpace | State::Extension, b'\r') => {
                    State::SizeLf
                }
                (State::Extension, _) => State::Extension,
                (State::Size { digits: true } | State::SizeSpace, b';') => State::Extension,
                (State::Size { digits: true } | State::SizeSpace, b' ' | b'\t') => State::SizeSpace,
                (State::Size { .. }, _) if b.is_ascii_hexdigit() => {
                    let d = u64::from((b as char).to_digit(16).expect("a hex digit"));
                    self.size = self
                        .size
                        .checked_mul(16)
                        .and_then(|n| n.checked_add(d))
                        .ok_or_else(|| {
                            protocol(format!(
                                "chunk size overflows 64 bits: {}",
                                escape_bytes(&input[line_start..i], 100)
                            ))
                        })?;
                    State::Size { digits: true }
                }
                (State::Size { digits: false }, _) => return Err(bad("no hex digits")),
                _ => return Err(bad("not a hex digit")),
            };
        }
        Ok(Decoded {
            framing: i,
            data: 0,
        })
    }

    fn start_size_line(&mut self) -> State {
        self.size = 0;
        self.line_len = 0;
        State::Size { digits: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes: the data, and whether the last chunk
    /// was reached.
    fn decode_all(input: &[u8], step: usize) -> Result<(Vec<u8>, bool)> {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < input.len() && !d.at_trailers() {
            let piece = &input[pos..input.len().min(pos + step)];
            let mut k = 0;
            while k < piece.len() && !d.at_trailers() {
                let r = d.decode(&piece[k..], 3)?;
                out.extend_from_slice(&piece[k + r.framing..k + r.consumed()]);
                k += r.consumed();
                if r.consumed() == 0 {
                    break;
                }
            }
            pos += k;
        }
        Ok((out, d.at_trailers()))
    }

    #[test]
    fn sizes_extensions_and_line_endings() {
        let body = b"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n1A;ext=1\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ\n\
                     0010 ;x\n0123456789abcdef\r\n0\r\n";
        for step in 1..body.len() {
            let (data, done) = decode_all(body, step).unwrap();
            assert!(done);
            assert_eq!(data.len(), 26 + 26 + 16, "step {step}");
        }
        let mut d = ChunkedDecoder::new();
        assert!(d.decode(b"ffffffffffffffff\r\n", 0).is_ok());
        assert_eq!(d.data_left(), Some(u64::MAX));
    }

    #[test]
    fn bad_size_lines() {
        for bad in [
            &b"\r\n"[..],
            b"\n",
            b"-1\r\n",
            b"+1\r\n",
            b"0x10\r\n",
            b"1_0\r\n",
            b" 10\r\n",
            b"g\r\n",
            b"10000000000000000\r\n",
            b"1\r\r\n",
            b"1\0\r\n",
            b"1;a\0\r\n",
            b"1;a\rb\n",
            b"1 0\r\n",
        ] {
            for step in [1, 2, bad.len()] {
                assert!(decode_all(bad, step).is_err(), "{bad:?} step {step}");
            }
        }
        let e = decode_all(b"3\r\nabcX\r\n", 1).unwrap_err();
        assert!(e.message().contains("not followed by a line ending"), "{e}");
    }

    #[test]
    fn a_size_line_over_the_limit_is_too_long() {
        let mut line = b"1;".to_vec();
        line.resize(MAX_LINE - 1, b'x');
        line.extend_from_slice(b"\r\n");
        let e = decode_all(&line, 4096).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LineTooLong);
        line.remove(2);
        assert!(decode_all(&line, 4096).is_ok());
    }
}
