//! Content decoding (gzip, deflate, br, zstd) between the body framing and the caller.
//!
//! Not built yet: no coding is offered, so no response is decoded.

use crate::error::Result;

/// The codings this build can decode, as an `HC_ENCODING_*` mask.
pub(crate) const SUPPORTED: u32 = 0;

/// Decodes one response body.
pub struct Decoder {
    done: bool,
}

impl Decoder {
    /// The `Accept-Encoding` value for `mask` (restricted to what is supported), or None.
    pub fn accept_encoding(mask: u32) -> Option<String> {
        let _ = mask & SUPPORTED;
        None
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn read(&mut self, raw: &mut crate::Response, buf: &mut [u8]) -> Result<usize> {
        let n = raw.read_some(buf)?;
        self.done = n == 0;
        Ok(n)
    }
}

impl Decoder {
    /// The decoder a response needs, from its Content-Encoding; None: the body is passed raw.
    pub fn for_response(raw: &crate::Response, cap: Option<u64>) -> Result<Option<Decoder>> {
        let _ = (raw, cap);
        Ok(None)
    }
}
