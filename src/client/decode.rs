//! Content decoding between the body framing and the caller: gzip and deflate (flate2, feature
//! `gzip`), br (brotli-decompressor, feature `brotli`), zstd (ruzstd, feature `zstd`).
//!
//! A coded body is read through a chain of stages, one per coding, the last coding applied
//! first: raw body -> stage for the last coding -> ... -> stage for the first -> caller. Every
//! stage is a pull decoder: a read asks the stage above for at most what the caller's buffer
//! holds, so nothing is inflated ahead of the caller and memory stays bounded by the codecs'
//! windows (32 KiB for deflate, at most 16 MiB for brotli's standard window, at most 8 MiB for
//! zstd, RFC 9659) whatever the ratio.
//!
//! The raw response stays in the client's response between reads (its head is read from
//! there); for a read it is lent to the bottom of the chain through a slot.

// A build with no codec at all compiles this module to "nothing is ever decoded".
#![cfg_attr(
    not(any(feature = "gzip", feature = "brotli", feature = "zstd")),
    allow(unused_variables, unreachable_code, dead_code, clippy::bad_bit_mask)
)]

use std::io::{self, BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};

use super::{ENCODING_BR, ENCODING_DEFLATE, ENCODING_GZIP, ENCODING_ZSTD};
use crate::error::{escape_bytes, Error, ErrorKind, Result};
use crate::request::trim;

/// The codings this build can decode, as an `HC_ENCODING_*` mask.
pub(crate) const SUPPORTED: u32 = {
    let mut m = 0;
    if cfg!(feature = "gzip") {
        m |= ENCODING_GZIP | ENCODING_DEFLATE;
    }
    if cfg!(feature = "brotli") {
        m |= ENCODING_BR;
    }
    if cfg!(feature = "zstd") {
        m |= ENCODING_ZSTD;
    }
    m
};

/// At most this many codings per response, counted over every Content-Encoding field.
pub(crate) const MAX_CODINGS: usize = 5;
/// The largest zstd window accepted (RFC 9659).
pub(crate) const MAX_ZSTD_WINDOW: u64 = 8 << 20;

/// One content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
    Br,
    Zstd,
    Identity,
}

impl Coding {
    fn parse(token: &[u8]) -> Option<Coding> {
        let t = token.to_ascii_lowercase();
        match &t[..] {
            b"gzip" | b"x-gzip" => Some(Coding::Gzip),
            b"deflate" => Some(Coding::Deflate),
            b"br" => Some(Coding::Br),
            b"zstd" => Some(Coding::Zstd),
            b"identity" => Some(Coding::Identity),
            _ => None,
        }
    }

    fn bit(self) -> u32 {
        match self {
            Coding::Gzip => ENCODING_GZIP,
            Coding::Deflate => ENCODING_DEFLATE,
            Coding::Br => ENCODING_BR,
            Coding::Zstd => ENCODING_ZSTD,
            Coding::Identity => 0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
            Coding::Identity => "identity",
        }
    }
}

/// What a response's Content-Encoding fields say.
#[derive(Debug, PartialEq, Eq)]
pub enum Codings {
    /// No coding (or identity only): the body is passed as is.
    None,
    /// Codings in the order they were applied; all of them decodable under `mask`.
    Decode(Vec<Coding>),
    /// A coding that is unknown or not offered: the body is passed raw.
    Raw,
}

/// Parses every Content-Encoding value (comma-separated lists, blanks trimmed, empty items
/// skipped): more than [`MAX_CODINGS`] codings is `TooManyEncodings`.
pub fn parse_codings<'a>(values: impl Iterator<Item = &'a [u8]>, mask: u32) -> Result<Codings> {
    let mut codings = Vec::new();
    let mut raw = false;
    let mut count = 0;
    for v in values {
        for item in v.split(|&b| b == b',') {
            let item = trim(item);
            if item.is_empty() {
                continue;
            }
            count += 1;
            if count > MAX_CODINGS {
                return Err(Error::new(
                    ErrorKind::TooManyEncodings,
                    format!("more than {MAX_CODINGS} content codings in the response"),
                ));
            }
            match Coding::parse(item) {
                Some(Coding::Identity) => {}
                Some(c) if c.bit() & mask & SUPPORTED != 0 => codings.push(c),
                _ => raw = true,
            }
        }
    }
    Ok(if raw {
        Codings::Raw
    } else if codings.is_empty() {
        Codings::None
    } else {
        Codings::Decode(codings)
    })
}

/// The raw response lent to the chain for one read, and what the chain's bottom saw.
#[derive(Default)]
struct Slot {
    resp: Option<crate::Response>,
    /// The transport or framing error that stopped the raw body.
    error: Option<Error>,
    /// Raw bytes read so far.
    bytes: u64,
    /// The raw body ended.
    eof: bool,
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

/// The bottom of the chain: reads the raw body from the response in the slot.
struct RawSource(Arc<Mutex<Slot>>);

impl Read for RawSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut slot = lock(&self.0);
        let Some(resp) = slot.resp.as_mut() else {
            return Err(io::Error::other("the response is not lent to the decoder"));
        };
        match resp.read_some(buf) {
            Ok(n) => {
                slot.bytes += n as u64;
                slot.eof |= n == 0 && !buf.is_empty();
                Ok(n)
            }
            Err(e) => {
                let msg = e.to_string();
                slot.error = Some(e);
                Err(io::Error::other(msg))
            }
        }
    }
}

type Src = Box<dyn BufRead + Send>;

fn buffered(r: impl Read + Send + 'static) -> Src {
    Box::new(BufReader::with_capacity(16 * 1024, r))
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// A zstd stream: one or more frames (skippable frames skipped), each with a window of at most
/// [`MAX_ZSTD_WINDOW`] and its checksum checked when it has one.
#[cfg(feature = "zstd")]
struct ZstdReader {
    src: Src,
    dec: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
}

#[cfg(feature = "zstd")]
impl ZstdReader {
    fn new(src: Src) -> ZstdReader {
        let mut dec = ruzstd::decoding::FrameDecoder::new();
        dec.set_max_window_size(MAX_ZSTD_WINDOW);
        ZstdReader {
            src,
            dec,
            in_frame: false,
        }
    }
}

#[cfg(feature = "zstd")]
impl Read for ZstdReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        use ruzstd::decoding::BlockDecodingStrategy;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                if self.dec.can_collect() == 0 && !self.dec.is_finished() {
                    self.dec
                        .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBlocks(1))
                        .map_err(|e| invalid(format!("zstd: {e}")))?;
                    continue;
                }
                let n = self.dec.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                if self.dec.is_finished() {
                    if let (Some(want), Some(got)) = (
                        self.dec.get_checksum_from_data(),
                        self.dec.get_calculated_checksum(),
                    ) {
                        if want != got {
                            return Err(invalid(format!(
                                "zstd: checksum mismatch ({got:#010x}, the frame says {want:#010x})"
                            )));
                        }
                    }
                    self.in_frame = false;
                }
                continue;
            }
            if self.src.fill_buf()?.is_empty() {
                return Ok(0);
            }
            match self.dec.reset(&mut self.src) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.src).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(invalid("zstd: a skippable frame was cut short".into()));
                    }
                }
                Err(FrameDecoderError::WindowSizeTooBig { requested, max }) => {
                    return Err(invalid(format!(
                        "zstd: a window of {requested} bytes is over the {max}-byte limit"
                    )))
                }
                Err(e) => return Err(invalid(format!("zstd: {e}"))),
            }
        }
    }
}

/// The decoder of one coding.
// One per stage, and each stage is boxed once per response: the variants' sizes don't matter.
#[allow(clippy::large_enum_variant)]
enum Codec {
    #[cfg(feature = "gzip")]
    Gzip(flate2::bufread::MultiGzDecoder<Src>),
    #[cfg(feature = "gzip")]
    Zlib(flate2::bufread::ZlibDecoder<Src>),
    #[cfg(feature = "gzip")]
    RawDeflate(flate2::bufread::DeflateDecoder<Src>),
    /// deflate before its first bytes were seen: zlib or raw.
    #[cfg(feature = "gzip")]
    DeflateUndecided(Option<Src>),
    #[cfg(feature = "brotli")]
    Br(brotli_decompressor::Decompressor<Src>),
    #[cfg(feature = "zstd")]
    Zstd(ZstdReader),
    /// A build without any codec has no decoder (and offers no coding).
    #[cfg(not(any(feature = "gzip", feature = "brotli", feature = "zstd")))]
    None(std::convert::Infallible),
}

/// True when the two bytes start a zlib stream (RFC 1950: CM 8, CINFO <= 7, FCHECK).
#[cfg(feature = "gzip")]
fn is_zlib_header(b: &[u8]) -> bool {
    b.len() >= 2
        && b[0] & 0x0f == 8
        && b[0] >> 4 <= 7
        && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

impl Codec {
    fn new(c: Coding, src: Src) -> Codec {
        match c {
            #[cfg(feature = "gzip")]
            Coding::Gzip => Codec::Gzip(flate2::bufread::MultiGzDecoder::new(src)),
            #[cfg(feature = "gzip")]
            Coding::Deflate => Codec::DeflateUndecided(Some(src)),
            #[cfg(feature = "brotli")]
            Coding::Br => Codec::Br(brotli_decompressor::Decompressor::new(src, 16 * 1024)),
            #[cfg(feature = "zstd")]
            Coding::Zstd => Codec::Zstd(ZstdReader::new(src)),
            _ => {
                drop(src);
                unreachable!("only supported codings reach Codec::new")
            }
        }
    }

    /// The source under the decoder, to check that nothing follows the end of its stream.
    fn source(&mut self) -> Option<&mut Src> {
        match self {
            #[cfg(feature = "gzip")]
            Codec::Gzip(d) => Some(d.get_mut()),
            #[cfg(feature = "gzip")]
            Codec::Zlib(d) => Some(d.get_mut()),
            #[cfg(feature = "gzip")]
            Codec::RawDeflate(d) => Some(d.get_mut()),
            #[cfg(feature = "gzip")]
            Codec::DeflateUndecided(s) => s.as_mut(),
            #[cfg(feature = "brotli")]
            Codec::Br(d) => Some(d.get_mut()),
            #[cfg(feature = "zstd")]
            Codec::Zstd(d) => Some(&mut d.src),
            #[cfg(not(any(feature = "gzip", feature = "brotli", feature = "zstd")))]
            Codec::None(n) => match *n {},
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            #[cfg(feature = "gzip")]
            Codec::Gzip(d) => d.read(buf),
            #[cfg(feature = "gzip")]
            Codec::Zlib(d) => d.read(buf),
            #[cfg(feature = "gzip")]
            Codec::RawDeflate(d) => d.read(buf),
            #[cfg(feature = "gzip")]
            Codec::DeflateUndecided(src) => {
                let mut src = src.take().expect("decided once");
                let mut head = Vec::with_capacity(2);
                while head.len() < 2 {
                    let avail = src.fill_buf()?;
                    if avail.is_empty() {
                        break;
                    }
                    let n = avail.len().min(2 - head.len());
                    head.extend_from_slice(&avail[..n]);
                    src.consume(n);
                }
                let zlib = is_zlib_header(&head);
                let joined = buffered(io::Cursor::new(head).chain(src));
                *self = if zlib {
                    Codec::Zlib(flate2::bufread::ZlibDecoder::new(joined))
                } else {
                    Codec::RawDeflate(flate2::bufread::DeflateDecoder::new(joined))
                };
                self.read(buf)
            }
            #[cfg(feature = "brotli")]
            Codec::Br(d) => d.read(buf),
            #[cfg(feature = "zstd")]
            Codec::Zstd(d) => d.read(buf),
            #[cfg(not(any(feature = "gzip", feature = "brotli", feature = "zstd")))]
            Codec::None(n) => match *n {},
        }
    }
}

/// One stage of the chain: a decoder that, once its stream ended, makes sure nothing follows.
/// The decoder is made at the first read (flate2's gzip decoder reads the header as it is
/// made, and the raw body can be read only during a read).
struct Stage {
    codec: Option<Codec>,
    source: Option<Src>,
    coding: Coding,
    done: bool,
}

impl Read for Stage {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let coding = self.coding;
        let codec = match &mut self.codec {
            Some(c) => c,
            None => {
                let src = self.source.take().expect("a stage has a codec or a source");
                self.codec.insert(Codec::new(coding, src))
            }
        };
        let n = codec.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                invalid(format!("the {} stream is truncated", self.coding.name()))
            } else {
                e
            }
        })?;
        if n == 0 {
            // A second read confirms the end: brotli reports input left in its own buffer only
            // then.
            if codec.read(buf)? != 0 {
                return Err(invalid(format!(
                    "data after the end of the {} stream",
                    coding.name()
                )));
            }
            if let Some(src) = codec.source() {
                let rest = src.fill_buf()?;
                if !rest.is_empty() {
                    return Err(invalid(format!(
                        "bytes after the end of the {} stream: \"{}\"",
                        self.coding.name(),
                        escape_bytes(rest, 16)
                    )));
                }
            }
            self.done = true;
        }
        Ok(n)
    }
}

/// Decodes one response body.
pub struct Decoder {
    slot: Arc<Mutex<Slot>>,
    top: Box<dyn Read + Send>,
    /// None: no cap.
    cap: Option<u64>,
    produced: u64,
    /// Calls of `read` (a measure of per-call overhead: see `Response::decoder_reads`).
    reads: u64,
    done: bool,
    /// The error that stopped decoding, returned again by every later read.
    error: Option<Error>,
}

impl Decoder {
    /// The `Accept-Encoding` value for `mask`, restricted to what this build decodes; None
    /// when nothing is left.
    pub fn accept_encoding(mask: u32) -> Option<String> {
        let m = mask & SUPPORTED;
        let names: Vec<&str> = [
            (ENCODING_GZIP, "gzip"),
            (ENCODING_DEFLATE, "deflate"),
            (ENCODING_BR, "br"),
            (ENCODING_ZSTD, "zstd"),
        ]
        .iter()
        .filter(|(bit, _)| m & bit != 0)
        .map(|(_, n)| *n)
        .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }

    /// The decoder a response needs, from its Content-Encoding and the mask the client
    /// offered; None when the body is passed as is (no coding, an unknown one, or a response
    /// that has no body to decode).
    pub fn for_response(
        raw: &crate::Response,
        head_request: bool,
        mask: u32,
        cap: Option<u64>,
    ) -> Result<Option<Decoder>> {
        let status = raw.status();
        if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
            return Ok(None);
        }
        match parse_codings(raw.headers().values(b"content-encoding"), mask)? {
            Codings::None | Codings::Raw => Ok(None),
            Codings::Decode(codings) => Ok(Some(Decoder::new(&codings, cap))),
        }
    }

    /// A decoder for a body coded with `codings` (in the order they were applied).
    pub fn new(codings: &[Coding], cap: Option<u64>) -> Decoder {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let stage = |c: Coding, src: Src| -> Box<dyn Read + Send> {
            Box::new(Stage {
                codec: None,
                source: Some(src),
                coding: c,
                done: false,
            })
        };
        let mut applied_last_first = codings.iter().rev();
        let last = *applied_last_first.next().expect("at least one coding");
        let mut top = stage(last, buffered(RawSource(slot.clone())));
        for &c in applied_last_first {
            top = stage(c, buffered(top));
        }
        Decoder {
            slot,
            top,
            cap,
            produced: 0,
            reads: 0,
            done: false,
            error: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// How many calls of `read` there were.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Decoded bytes that may still be produced without going over the cap; None: no cap.
    pub fn headroom(&self) -> Option<u64> {
        self.cap.map(|cap| cap.saturating_sub(self.produced))
    }

    /// Reads decoded bytes into `buf` (at least one, or 0 at the end), reading the raw body
    /// from `raw` as needed.
    pub fn read(&mut self, raw: &mut Option<crate::Response>, buf: &mut [u8]) -> Result<usize> {
        self.reads += 1;
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        // At most one byte over the cap is produced, to tell "exactly the cap" from "over".
        let want = match self.cap {
            Some(cap) => buf
                .len()
                .min(usize::try_from(cap - self.produced + 1).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        lock(&self.slot).resp = raw.take();
        let r = self.top.read(&mut buf[..want]);
        let (resp, transport_error, raw_bytes, raw_eof) = {
            let mut s = lock(&self.slot);
            (s.resp.take(), s.error.take(), s.bytes, s.eof)
        };
        *raw = resp;
        let result = match r {
            Ok(0) => {
                self.done = true;
                // The coded stream ended: the raw body must end there too.
                self.check_raw_ended(raw)
            }
            Ok(n) => {
                self.produced += n as u64;
                match self.cap {
                    Some(cap) if self.produced > cap => Err(Error::new(
                        ErrorKind::DecodedSizeExceeded,
                        format!("the decoded body is over the cap of {cap} bytes"),
                    )),
                    _ => Ok(n),
                }
            }
            Err(_) if transport_error.is_some() => Err(transport_error.unwrap()),
            // An empty body with a Content-Encoding: nothing to decode.
            Err(_) if raw_bytes == 0 && raw_eof => {
                self.done = true;
                Ok(0)
            }
            Err(e) => Err(Error::new(
                ErrorKind::ContentDecoding,
                format!("decoding the response body: {e}"),
            )),
        };
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    fn check_raw_ended(&mut self, raw: &mut Option<crate::Response>) -> Result<usize> {
        let Some(resp) = raw.as_mut() else {
            return Ok(0);
        };
        let mut probe = [0u8; 16];
        match resp.read_some(&mut probe)? {
            0 => Ok(0),
            n => Err(Error::new(
                ErrorKind::ContentDecoding,
                format!(
                    "bytes after the end of the coded body: \"{}\"",
                    escape_bytes(&probe[..n], 16)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_encoding_parsing() {
        let p = |vals: &[&str], mask| {
            parse_codings(vals.iter().map(|v| v.as_bytes()), mask).map_err(|e| e.kind())
        };
        assert_eq!(p(&[], 15), Ok(Codings::None));
        assert_eq!(p(&["identity"], 15), Ok(Codings::None));
        if SUPPORTED == 15 {
            assert_eq!(
                p(&["gzip, BR", " ,zstd"], 15),
                Ok(Codings::Decode(vec![
                    Coding::Gzip,
                    Coding::Br,
                    Coding::Zstd
                ]))
            );
            assert_eq!(p(&["x-gzip"], 15), Ok(Codings::Decode(vec![Coding::Gzip])));
        }
        assert_eq!(p(&["gzip, compress"], 15), Ok(Codings::Raw));
        assert_eq!(p(&["gzip"], ENCODING_BR), Ok(Codings::Raw));
        assert_eq!(
            p(&["gzip,gzip,gzip,gzip,gzip,gzip"], 15),
            Err(ErrorKind::TooManyEncodings)
        );
        assert_eq!(
            p(&["gzip,gzip,gzip", "gzip,gzip", "gzip"], 15),
            Err(ErrorKind::TooManyEncodings)
        );
        assert_eq!(
            p(&["gzip,gzip,gzip", "gzip,identity"], 15).map(|c| c != Codings::Raw),
            Ok(true)
        );
    }

    #[test]
    fn accept_encoding_values() {
        assert_eq!(Decoder::accept_encoding(0), None);
        if SUPPORTED == 15 {
            assert_eq!(
                Decoder::accept_encoding(15).as_deref(),
                Some("gzip, deflate, br, zstd")
            );
            assert_eq!(Decoder::accept_encoding(ENCODING_BR).as_deref(), Some("br"));
        }
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn zlib_header_check() {
        assert!(is_zlib_header(&[0x78, 0x9c]));
        assert!(is_zlib_header(&[0x78, 0x01]));
        assert!(!is_zlib_header(&[0x78, 0x9d]));
        assert!(!is_zlib_header(&[0xed, 0xc0]));
        assert!(!is_zlib_header(&[0x78]));
    }
}
