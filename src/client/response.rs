//! A response from the client: the connection layer's response, what the client learned on
//! the way (final URL, redirects), and the pooled connection it came on, given back to the
//! pool as soon as the body has been read to its end.

use std::ffi::{CStr, CString};
use std::sync::Arc;
use std::time::Duration;

use super::decode::Decoder;
use super::pool::PoolKey;
use super::Shared;
use crate::connection::Connection;
use crate::error::Result;
use crate::response::head::Head;

/// The connection a response is read from, and where to give it back.
pub(crate) struct Home {
    pub shared: Arc<Shared>,
    pub key: Arc<PoolKey>,
    pub conn: Box<Connection>,
    /// The read/write timeout the connection's socket has, kept with it in the pool.
    pub io_timeout: Option<Duration>,
}

impl Home {
    /// Gives the connection back to the pool when it can carry another request.
    pub fn release(self, raw: &crate::Response) {
        if raw.isclosed() && !raw.will_close() && self.conn.fileno().is_some() {
            let limits = self.shared.limits();
            self.shared
                .pool
                .checkin(self.key, self.conn, self.io_timeout, &limits);
        }
    }
}

/// A response got through a [`super::Client`].
pub struct Response {
    /// Always Some, except while a decoder borrows it for a read.
    raw: Option<crate::Response>,
    home: Option<Home>,
    /// Shared with the call's target (made once per URL, not per response).
    url: Arc<CStr>,
    redirects: u32,
    redirect_location: Option<CString>,
    decoder: Option<Decoder>,
    /// Decoded bytes a `readline` produced past its line's end: `spill[spill_at..]` is handed
    /// out before anything else. At most one readline buffer's worth.
    spill: Vec<u8>,
    spill_at: usize,
    /// Bytes handed to the caller (decoded bytes when decoding).
    delivered: u64,
}

impl Response {
    pub(crate) fn new(
        raw: crate::Response,
        home: Home,
        url: Arc<CStr>,
        redirects: u32,
        redirect_location: Option<String>,
        decoder: Option<Decoder>,
    ) -> Response {
        let cs = |s: String| CString::new(s).unwrap_or_default();
        let mut r = Response {
            raw: Some(raw),
            home: Some(home),
            url,
            redirects,
            redirect_location: redirect_location.map(cs),
            decoder,
            spill: Vec::new(),
            spill_at: 0,
            delivered: 0,
        };
        r.check_end();
        r
    }

    /// The connection layer's response: status, reason, version, headers and trailers as
    /// received (Content-Encoding included).
    pub fn raw(&self) -> &crate::Response {
        self.raw
            .as_ref()
            .expect("the raw response is back after each read")
    }

    fn raw_mut(&mut self) -> &mut crate::Response {
        self.raw
            .as_mut()
            .expect("the raw response is back after each read")
    }

    pub fn status(&self) -> u16 {
        self.raw().status()
    }

    pub fn headers(&self) -> &Head {
        self.raw().headers()
    }

    pub fn getheader(&self, name: &[u8]) -> Option<&CStr> {
        self.raw().getheader(name)
    }

    /// The final URL (after redirects), userinfo removed.
    pub fn url(&self) -> &str {
        self.url.to_str().unwrap_or("")
    }

    pub fn url_cstr(&self) -> &CStr {
        &self.url
    }

    /// How many redirects were followed.
    pub fn redirect_count(&self) -> u32 {
        self.redirects
    }

    /// The resolved Location of a 3xx that was returned instead of followed.
    pub fn redirect_location(&self) -> Option<&str> {
        self.redirect_location
            .as_deref()
            .and_then(|c| c.to_str().ok())
    }

    pub fn redirect_location_cstr(&self) -> Option<&CStr> {
        self.redirect_location.as_deref()
    }

    /// True when the body is being decoded (gzip, deflate, br, zstd).
    pub fn decoded(&self) -> bool {
        self.decoder.is_some()
    }

    /// Body bytes still to come when known: None while decoding (the decoded length is not
    /// known), else as the connection layer says.
    pub fn length(&self) -> Option<u64> {
        if self.decoder.is_some() {
            return None;
        }
        self.raw().length()
    }

    /// True once the body was read to its end (or failed).
    pub fn isclosed(&self) -> bool {
        match &self.decoder {
            Some(d) => self.raw().isclosed() && d.is_done() && self.spilled().is_empty(),
            None => self.raw().isclosed(),
        }
    }

    /// Body bytes handed out so far (decoded bytes when decoding).
    pub fn bytes_read(&self) -> u64 {
        self.delivered
    }

    /// How many times the decoder was asked for bytes (0 when not decoding): a diagnostic for
    /// tests of the read paths' overhead, not part of the contract.
    #[doc(hidden)]
    pub fn decoder_reads(&self) -> u64 {
        self.decoder.as_ref().map_or(0, Decoder::reads)
    }

    /// Gives the connection back once the raw body is over.
    fn check_end(&mut self) {
        let Some(raw) = self.raw.as_ref() else { return };
        // The raw body is over: the connection can carry another request, whatever the
        // decoder still holds.
        if raw.isclosed() {
            if let Some(h) = self.home.take() {
                h.release(raw);
            }
        }
    }

    fn spilled(&self) -> &[u8] {
        &self.spill[self.spill_at..]
    }

    /// Hands out up to `buf.len()` spilled bytes, up to and including a `\n` when `line`.
    fn take_spilled(&mut self, buf: &mut [u8], line: bool) -> usize {
        let avail = &self.spill[self.spill_at..];
        let mut n = avail.len().min(buf.len());
        if line {
            if let Some(i) = avail[..n].iter().position(|&b| b == b'\n') {
                n = i + 1;
            }
        }
        buf[..n].copy_from_slice(&avail[..n]);
        self.spill_at += n;
        self.delivered += n as u64;
        n
    }

    /// Reads the next body bytes: at least one, or 0 at the end.
    pub fn read_some(&mut self, buf: &mut [u8]) -> Result<usize> {
        if !self.spilled().is_empty() {
            return Ok(self.take_spilled(buf, false));
        }
        let r = match &mut self.decoder {
            Some(d) => d.read(&mut self.raw, buf),
            None => self.raw_mut().read_some(buf),
        };
        match r {
            Ok(n) => {
                self.delivered += n as u64;
                self.check_end();
                Ok(n)
            }
            Err(e) => {
                // The connection can't be trusted: closed when dropped.
                self.raw_mut().close();
                self.home = None;
                Err(e)
            }
        }
    }

    /// Fills `buf` unless the body ends first; on an error the count says how many bytes were
    /// placed.
    pub fn read_fill(&mut self, buf: &mut [u8]) -> (usize, Result<()>) {
        crate::response::fill_with(buf, |b| self.read_some(b))
    }

    /// Reads the rest of the body into `out`; on an error `out` holds what arrived.
    pub fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match self.read_some(&mut chunk)? {
                0 => return Ok(()),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads up to and including the next `\n`, at most `buf.len()` bytes (fewer without a
    /// `\n` only at the end of the body).
    pub fn readline(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.decoder.is_none() {
            let before = self.raw().bytes_read();
            let r = self.raw_mut().readline(buf);
            self.delivered += self.raw().bytes_read() - before;
            match &r {
                Ok(_) => self.check_end(),
                Err(_) => {
                    self.raw_mut().close();
                    self.home = None;
                }
            }
            return r;
        }
        // Decoded bytes go straight into the caller's buffer, as many as it has room for (so
        // nothing is decoded ahead of the caller beyond one buffer), and what follows the
        // line's end is kept for the next read. A line within the cap is returned as when
        // this read byte by byte: a read never asks for more than the cap leaves, and the
        // read of the byte over it fails.
        let mut total = 0;
        while total < buf.len() {
            if !self.spilled().is_empty() {
                total += self.take_spilled(&mut buf[total..], true);
                if buf[total - 1] == b'\n' {
                    break;
                }
                continue;
            }
            let room = buf.len() - total;
            let want = match self.decoder.as_ref().and_then(Decoder::headroom) {
                Some(headroom) => usize::try_from(headroom)
                    .map_or(room, |h| room.min(h))
                    .max(1),
                None => room,
            };
            let n = self.read_some(&mut buf[total..total + want])?;
            if n == 0 {
                break;
            }
            let got = &buf[total..total + n];
            if let Some(i) = got.iter().position(|&b| b == b'\n') {
                self.spill.clear();
                self.spill.extend_from_slice(&got[i + 1..]);
                self.spill_at = 0;
                self.delivered -= (n - i - 1) as u64;
                total += i + 1;
                break;
            }
            total += n;
        }
        Ok(total)
    }

    /// Stops reading: an unfinished body closes its connection.
    pub fn close(&mut self) {
        self.raw_mut().close();
        self.home = None;
    }
}

impl std::io::Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_some(buf).map_err(std::io::Error::other)
    }
}
