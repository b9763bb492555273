//! A keep-alive test server that answers each request with bytes chosen by the test from the
//! parsed request, over plain TCP or TLS (the test PKI's localhost certificate), and records
//! every request. For the URL-level client's tests: redirects, credentials, pooling.
//!
//! ```ignore
//! let srv = Routed::start(|req| match req.target.as_str() {
//!     "/a" => b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n".to_vec(),
//!     _ => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
//! });
//! ```
//! A reply holding `Connection: close` closes the connection after it; an empty reply closes
//! it without answering.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub target: String,
    /// Names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which connection (0, 1, ...) carried it.
    pub conn: usize,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(&Req) -> Vec<u8> + Send + Sync;

pub struct Routed {
    port: u16,
    tls: bool,
    reqs: Arc<Mutex<Vec<Req>>>,
    conns: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

fn read_line(s: &mut dyn Stream) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        if s.read(&mut b)? == 0 {
            return Ok(if line.is_empty() {
                None
            } else {
                Some(String::from_utf8_lossy(&line).into())
            });
        }
        if b[0] == b'\n' {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(String::from_utf8_lossy(&line).into()));
        }
        line.push(b[0]);
        if line.len() > 1 << 20 {
            return Err(io::Error::other("line too long"));
        }
    }
}

fn read_req(s: &mut dyn Stream, conn: usize) -> io::Result<Option<Req>> {
    let Some(first) = read_line(s)? else {
        return Ok(None);
    };
    let mut parts = first.splitn(3, ' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let line = read_line(s)?.ok_or_else(|| io::Error::other("eof in head"))?;
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut req = Req {
        method,
        target,
        headers,
        body: Vec::new(),
        conn,
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let size = read_line(s)?.ok_or_else(|| io::Error::other("eof in chunk"))?;
            let n = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16)
                .map_err(|_| io::Error::other("bad chunk size"))?;
            if n == 0 {
                while !read_line(s)?.unwrap_or_default().is_empty() {}
                break;
            }
            let mut chunk = vec![0u8; n];
            s.read_exact(&mut chunk)?;
            req.body.extend_from_slice(&chunk);
            read_line(s)?;
        }
    } else if let Some(n) = req.header("content-length") {
        let n: usize = n.parse().map_err(|_| io::Error::other("bad length"))?;
        req.body = vec![0u8; n];
        s.read_exact(&mut req.body)?;
    }
    Ok(Some(req))
}

/// The TLS side of [`Routed::start_tls`]: the test PKI's localhost certificate.
pub fn acceptor() -> openssl::ssl::SslAcceptor {
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
    let dir = std::path::PathBuf::from(
        super::servers()
            .var("HC_TEST_PKI_DIR")
            .expect("HC_TEST_PKI_DIR"),
    );
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate_chain_file(dir.join("localhost.pem"))
        .unwrap();
    b.set_private_key_file(dir.join("localhost.key"), SslFiletype::PEM)
        .unwrap();
    b.build()
}

impl Routed {
    pub fn start(handler: impl Fn(&Req) -> Vec<u8> + Send + Sync + 'static) -> Routed {
        Self::start_with(false, Arc::new(handler))
    }

    /// Over TLS with the test PKI's localhost certificate (trust `servers().ca_file`).
    pub fn start_tls(handler: impl Fn(&Req) -> Vec<u8> + Send + Sync + 'static) -> Routed {
        Self::start_with(true, Arc::new(handler))
    }

    fn start_with(tls: bool, handler: Arc<Handler>) -> Routed {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let conns = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let acc = tls.then(acceptor);
        let (r2, c2, s2) = (reqs.clone(), conns.clone(), stop.clone());
        thread::spawn(move || {
            for tcp in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = tcp else { continue };
                let idx = c2.fetch_add(1, Ordering::SeqCst);
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(20)));
                let (handler, reqs, acc) = (handler.clone(), r2.clone(), acc.clone());
                thread::spawn(move || {
                    let mut s: Box<dyn Stream> = match acc {
                        Some(a) => match a.accept(tcp) {
                            Ok(s) => Box::new(s),
                            Err(_) => return,
                        },
                        None => Box::new(tcp),
                    };
                    serve(&mut *s, idx, &*handler, &reqs);
                });
            }
        });
        Routed {
            port,
            tls,
            reqs,
            conns,
            stop,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT{path}` (https for a TLS server).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Req> {
        self.reqs.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.conns.load(Ordering::SeqCst)
    }
}

fn serve(s: &mut dyn Stream, idx: usize, handler: &Handler, reqs: &Mutex<Vec<Req>>) {
    while let Ok(Some(req)) = read_req(s, idx) {
        let reply = handler(&req);
        reqs.lock().unwrap().push(req);
        if reply.is_empty() || s.write_all(&reply).is_err() {
            return;
        }
        let _ = s.flush();
        let text = String::from_utf8_lossy(&reply[..reply.len().min(4096)]).to_ascii_lowercase();
        if text.contains("\r\nconnection: close\r\n") {
            return;
        }
    }
}

impl Drop for Routed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A reply with a body and Content-Length.
pub fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A redirect with `status` to `location` and an empty body.
pub fn redirect(status: u16, location: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}
