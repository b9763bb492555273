//! What the fuzz targets share: an in-memory transport that serves the fuzz input in pieces,
//! and helpers that drive a `Connection` over it.

use std::io;
use std::sync::{Arc, Mutex};

use httpclient::transport::Transport;
use httpclient::Connection;

/// A tiny xorshift generator: the read splits and read sizes come from the input itself, so
/// every run of a given input is the same.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number in 1..=max.
    pub fn upto(&mut self, max: usize) -> usize {
        1 + (self.next_u64() % max as u64) as usize
    }
}

/// The server's bytes, shared by every transport a connection opens: a reopened connection
/// goes on where the closed one stopped.
pub struct Stream {
    data: Vec<u8>,
    pos: usize,
    /// Largest piece one read returns; 0: everything asked for.
    split: Option<Rng>,
    max_piece: usize,
}

pub type SharedStream = Arc<Mutex<Stream>>;

pub fn stream(data: &[u8], split: Option<(u64, usize)>) -> SharedStream {
    Arc::new(Mutex::new(Stream {
        data: data.to_vec(),
        pos: 0,
        split: split.map(|(seed, _)| Rng::new(seed)),
        max_piece: split.map(|(_, m)| m.max(1)).unwrap_or(0),
    }))
}

/// A transport reading from a [`Stream`]; writes are swallowed.
pub struct MemTransport {
    stream: SharedStream,
    shut: bool,
}

impl Transport for MemTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.shut || buf.is_empty() {
            return Ok(0);
        }
        let mut s = self.stream.lock().unwrap();
        let left = s.data.len() - s.pos;
        let mut n = left.min(buf.len());
        if s.max_piece > 0 {
            let max = s.max_piece;
            let piece = s.split.as_mut().unwrap().upto(max);
            n = n.min(piece);
        }
        let p = s.pos;
        buf[..n].copy_from_slice(&s.data[p..p + n]);
        s.pos += n;
        Ok(n)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.shut {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        Ok(buf.len())
    }
    fn shutdown(&mut self) {
        self.shut = true;
    }
}

/// A connection whose transports read from `stream`.
pub fn connection(stream: SharedStream, strict: bool) -> Connection {
    let mut c = Connection::new("fuzz.invalid", 80).unwrap();
    c.set_strict(strict).unwrap();
    c.set_transport_factory(Box::new(move |_| {
        Ok(Box::new(MemTransport {
            stream: stream.clone(),
            shut: false,
        }))
    }));
    c
}

/// Sends a request and reads its whole response, reading the body with caps from `caps`
/// (every cap between 1 and 70000 bytes). Checks what must always hold; panics otherwise.
/// Returns whether a response head was read.
pub fn exchange(c: &mut Connection, head: bool, caps: &mut Rng, input_len: usize) -> bool {
    let method: &[u8] = if head { b"HEAD" } else { b"GET" };
    if c.request(method, b"/", None, &[]).is_err() {
        return false;
    }
    let mut resp = match c.getresponse() {
        Ok(r) => r,
        Err(_) => return false,
    };
    // Everything the head hands out is usable.
    let _ = (resp.status(), resp.version(), resp.reason());
    for i in 0..resp.headers().len() {
        let (n, v) = resp.headers().field(i).unwrap();
        assert!(!n.contains(&0) && !v.contains(&0));
        let _ = resp.headers().field_cstr(i).unwrap();
        let _ = resp.getheader(n);
    }
    let declared = resp.length();
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 70000];
    loop {
        let cap = match caps.next_u64() % 4 {
            0 => 1,
            1 => caps.upto(16),
            2 => caps.upto(9000),
            _ => caps.upto(70000),
        };
        match resp.read_some(&mut buf[..cap]) {
            Ok(0) => break,
            Ok(n) => {
                assert!(n <= cap);
                total += n as u64;
                // A decoded body is never longer than the bytes that came in.
                assert!(total as usize <= input_len);
                if let Some(d) = declared {
                    assert!(total <= d, "read {total} of a {d}-byte body");
                }
            }
            Err(e) => {
                // An error repeats, and no byte comes after it.
                let again = resp.read_some(&mut buf[..cap]).unwrap_err();
                assert_eq!(again.kind(), e.kind());
                assert!(resp.isclosed());
                return true;
            }
        }
    }
    if let Some(d) = declared {
        assert_eq!(
            total, d,
            "a body that ended cleanly has its declared length"
        );
    }
    assert!(resp.isclosed());
    assert_eq!(resp.read_some(&mut buf[..1]).unwrap(), 0);
    true
}
