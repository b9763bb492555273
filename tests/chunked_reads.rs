//! Chunked bodies decoded through every read path: small reads through the connection's
//! buffer, and large reads that take many chunks straight into the caller's buffer and remove
//! the framing in place. The stream arrives in pieces of varied sizes, so every boundary (a
//! size line, a CRLF, the last chunk, the trailers, the next response) is cut somewhere.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use httpclient::transport::Transport;
use httpclient::Connection;

/// A transport that plays back `pieces` (one per read, cut to the reader's buffer), then
/// `second` once a second request was written, and records what was written.
struct Playback {
    pieces: VecDeque<Vec<u8>>,
    second: Option<Vec<u8>>,
    written: Arc<Mutex<Vec<u8>>>,
}

impl Transport for Playback {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pieces.is_empty() {
            let requests = self
                .written
                .lock()
                .unwrap()
                .windows(4)
                .filter(|w| w == b"\r\n\r\n")
                .count();
            if requests >= 2 {
                if let Some(second) = self.second.take() {
                    self.pieces.push_back(second);
                }
            }
        }
        let Some(mut piece) = self.pieces.pop_front() else {
            return Ok(0);
        };
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        if n < piece.len() {
            self.pieces.push_front(piece.split_off(n));
        }
        Ok(n)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
}

/// A small deterministic generator (no extra crates).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A chunked response carrying `body`, with chunk extensions, LF-only endings here and there,
/// and a trailer.
fn stream(body: &[u8], rng: &mut Lcg) -> Vec<u8> {
    let mut s = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut rest = body;
    while !rest.is_empty() {
        let size = (1 + rng.below(20_000) as usize).min(rest.len());
        let eol: &[u8] = if rng.below(5) == 0 { b"\n" } else { b"\r\n" };
        let ext: &[u8] = if rng.below(4) == 0 {
            b";name=value"
        } else {
            b""
        };
        s.extend_from_slice(format!("{size:X}").as_bytes());
        s.extend_from_slice(ext);
        s.extend_from_slice(eol);
        s.extend_from_slice(&rest[..size]);
        s.extend_from_slice(eol);
        rest = &rest[size..];
    }
    s.extend_from_slice(b"0\r\nX-Trailer: done\r\n\r\n");
    s
}

fn pieces(data: &[u8], rng: &mut Lcg) -> VecDeque<Vec<u8>> {
    let mut out = VecDeque::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = match rng.below(4) {
            0 => 1 + rng.below(8),
            1 => 1 + rng.below(300),
            2 => 1 + rng.below(20_000),
            _ => 1 + rng.below(200_000),
        } as usize;
        let n = n.min(rest.len());
        out.push_back(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

fn run(seed: u64, cap: usize) {
    let mut rng = Lcg(seed);
    let body: Vec<u8> = (0..(rng.below(400_000) as usize))
        .map(|_| rng.next() as u8)
        .collect();
    let wire = stream(&body, &mut rng);
    let mut playback = Some(Playback {
        pieces: pieces(&wire, &mut rng),
        second: Some(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext".to_vec()),
        written: Arc::default(),
    });
    let mut conn = Connection::new("example.test", 80).unwrap();
    conn.set_transport_factory(Box::new(move |_| {
        let t: Box<dyn Transport> = Box::new(playback.take().expect("one connection only"));
        Ok(t)
    }));
    conn.request(b"GET", b"/a", None, &[]).unwrap();
    let mut resp = conn.getresponse().unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; cap];
    loop {
        let (n, r) = resp.read_fill(&mut buf);
        r.unwrap_or_else(|e| panic!("seed {seed} cap {cap}: {e}"));
        got.extend_from_slice(&buf[..n]);
        if n < cap {
            break;
        }
    }
    assert_eq!(got.len(), body.len(), "seed {seed} cap {cap}");
    assert!(got == body, "seed {seed} cap {cap}: body differs");
    assert!(resp.isclosed());
    let t = resp.trailers().expect("trailers");
    assert_eq!(t.field(0), Some((&b"X-Trailer"[..], &b"done"[..])));
    // The connection carries the next response.
    conn.request(b"GET", b"/b", None, &[]).unwrap();
    let mut next = conn.getresponse().unwrap();
    let mut b = Vec::new();
    next.read_to_end(&mut b).unwrap();
    assert_eq!(b, b"next", "seed {seed} cap {cap}");
}

#[test]
fn chunked_bodies_decode_the_same_through_small_and_large_reads() {
    for seed in 1..=12 {
        for cap in [1, 7, 4096, 8192, 65536, 1 << 20] {
            run(seed, cap);
        }
    }
}
