//! Drives the resumable parsers (the response head parser and the chunked decoder) the way a
//! connection does, with the input arriving in pieces of any size: the unconsumed bytes stay in
//! a buffer, the next piece is appended, and the parser goes on. Fed whole or one byte at a
//! time, a parser must reach the same outcome. Used by tests/resumable_parsers.rs and by the
//! fuzz target `split` (fuzz/fuzz_targets/split.rs includes this file).

use httpclient::response::chunked::ChunkedDecoder;
use httpclient::response::head::{Head, HeadParser, Status};
use httpclient::ErrorKind;

/// What parsing a response head came to.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadOutcome {
    /// The head ended after `consumed` bytes.
    Complete {
        consumed: usize,
        version: u8,
        status: u16,
        reason: Vec<u8>,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// The parser refused the bytes.
    Refused(ErrorKind),
    /// The input ended first; what the end of the stream then means.
    Ended(Result<(), ErrorKind>),
}

/// Parses `input` as a response head arriving in pieces of `next_size()` bytes (at least 1).
pub fn head_in_pieces(input: &[u8], next_size: &mut dyn FnMut() -> usize) -> HeadOutcome {
    let mut parser = HeadParser::new();
    let mut head = Head::default();
    let mut buf: Vec<u8> = Vec::new();
    let (mut fed, mut consumed) = (0, 0);
    loop {
        match parser.parse(&buf, &mut head, None) {
            Err(e) => return HeadOutcome::Refused(e.kind()),
            Ok(Status::Complete(n)) => {
                assert!(n <= buf.len());
                return HeadOutcome::Complete {
                    consumed: consumed + n,
                    version: head.version,
                    status: head.status,
                    reason: head.reason().to_vec(),
                    fields: (0..head.len())
                        .map(|i| {
                            let (n, v) = head.field(i).unwrap();
                            (n.to_vec(), v.to_vec())
                        })
                        .collect(),
                };
            }
            Ok(Status::Partial(n)) => {
                assert!(n <= buf.len());
                buf.drain(..n);
                consumed += n;
                if fed == input.len() {
                    return HeadOutcome::Ended(
                        parser.end_of_stream(&buf, "peer").map_err(|e| e.kind()),
                    );
                }
                let k = next_size().clamp(1, input.len() - fed);
                buf.extend_from_slice(&input[fed..fed + k]);
                fed += k;
            }
        }
    }
}

/// What decoding a chunked body came to.
#[derive(Debug, PartialEq, Eq)]
pub enum ChunkedOutcome {
    /// The last chunk's line ended after `consumed` bytes.
    LastChunk { consumed: usize },
    /// The decoder refused the bytes.
    Refused(ErrorKind),
    /// The input ended first.
    NeedMore,
}

/// Decodes `input` as a chunked body arriving in pieces of `next_size()` bytes, handing out
/// at most `next_size()` data bytes per call: the data and the outcome.
pub fn chunked_in_pieces(
    input: &[u8],
    next_size: &mut dyn FnMut() -> usize,
) -> (Vec<u8>, ChunkedOutcome) {
    let mut dec = ChunkedDecoder::new();
    let mut data = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let piece = &input[pos..input.len().min(pos + next_size().max(1))];
        let mut k = 0;
        while k < piece.len() {
            if dec.at_trailers() {
                return (data, ChunkedOutcome::LastChunk { consumed: pos + k });
            }
            let d = match dec.decode(&piece[k..], next_size().max(1)) {
                Ok(d) => d,
                Err(e) => return (data, ChunkedOutcome::Refused(e.kind())),
            };
            assert!(d.consumed() <= piece.len() - k);
            assert!(d.consumed() > 0 || dec.at_trailers(), "no progress");
            data.extend_from_slice(&piece[k + d.framing..k + d.consumed()]);
            k += d.consumed();
        }
        pos += k;
    }
    if dec.at_trailers() {
        return (data, ChunkedOutcome::LastChunk { consumed: pos });
    }
    (data, ChunkedOutcome::NeedMore)
}

/// Checks that `input` gives the same outcome whole, one byte at a time, and in pieces of
/// the sizes `sizes` yields (cycled).
pub fn check_splits(input: &[u8], sizes: &[usize]) {
    let mut whole = || usize::MAX;
    let mut one = || 1;
    let mut i = 0;
    let mut varied = || {
        i += 1;
        sizes.get(i % sizes.len().max(1)).copied().unwrap_or(1)
    };
    let expected = head_in_pieces(input, &mut whole);
    assert_eq!(
        head_in_pieces(input, &mut one),
        expected,
        "head, byte by byte"
    );
    assert_eq!(
        head_in_pieces(input, &mut varied),
        expected,
        "head, in pieces"
    );
    let expected = chunked_in_pieces(input, &mut whole);
    assert_eq!(
        chunked_in_pieces(input, &mut one),
        expected,
        "chunked, byte by byte"
    );
    assert_eq!(
        chunked_in_pieces(input, &mut varied),
        expected,
        "chunked, in pieces"
    );
}
