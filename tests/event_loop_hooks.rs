//! Event-loop hooks: the read block size, the source address and the socket's descriptor.

mod common;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use common::scripted::ScriptedServer;
use httpclient::transport::Transport;
use httpclient::{Connection, ErrorKind};

/// An in-memory server that answers with `reply` and records the size of every read asked.
struct Recording {
    reply: Vec<u8>,
    pos: usize,
    asked: Arc<Mutex<Vec<usize>>>,
}

impl Transport for Recording {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.asked.lock().unwrap().push(buf.len());
        let n = buf.len().min(self.reply.len() - self.pos);
        buf[..n].copy_from_slice(&self.reply[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
}

/// The sizes of the reads made to get a 40 000-byte body in 100-byte pieces.
fn read_sizes(blocksize: Option<usize>) -> Vec<usize> {
    let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n".to_vec();
    reply.resize(reply.len() + 40000, b'x');
    let asked = Arc::new(Mutex::new(Vec::new()));
    let mut c = Connection::new("example.test", 80).unwrap();
    let rec = asked.clone();
    c.set_transport_factory(Box::new(move |_| {
        Ok(Box::new(Recording {
            reply: reply.clone(),
            pos: 0,
            asked: rec.clone(),
        }) as Box<dyn Transport>)
    }));
    if let Some(n) = blocksize {
        c.set_blocksize(n).unwrap();
    }
    c.request(b"GET", b"/", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    let mut piece = [0u8; 100];
    let mut total = 0;
    loop {
        let n = r.read_some(&mut piece).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 40000);
    let v = asked.lock().unwrap().clone();
    v
}

#[test]
fn blocksize_sets_the_size_of_each_socket_read() {
    let small = read_sizes(Some(1024));
    assert!(small.iter().all(|&n| n <= 1024), "{small:?}");
    assert!(small.len() >= 40, "{} reads", small.len());
    let default = read_sizes(None);
    assert_eq!(default.iter().max(), Some(&(16 * 1024)), "{default:?}");
    let big = read_sizes(Some(64 * 1024));
    assert_eq!(big.first(), Some(&(64 * 1024)), "{big:?}");
    assert!(big.len() < default.len());
}

#[test]
fn blocksize_out_of_range_is_invalid_argument() {
    let mut c = Connection::new("example.test", 80).unwrap();
    for bad in [0, 1023, 1024 * 1024 + 1] {
        assert_eq!(
            c.set_blocksize(bad).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    c.set_blocksize(1024).unwrap();
    c.set_blocksize(1024 * 1024).unwrap();
}

#[test]
fn source_address_binds_the_local_end() {
    let peer = Arc::new(Mutex::new(None));
    let seen = peer.clone();
    let srv = ScriptedServer::start(move |conn, _| {
        *seen.lock().unwrap() = conn.peer_addr().ok();
        let _ = conn.read_request();
        let _ = std::io::Write::write_all(&mut **conn, b"HTTP/1.1 204 No Content\r\n\r\n");
    });
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_source_address(Some(SocketAddr::new("127.0.0.2".parse().unwrap(), 0)))
        .unwrap();
    assert_eq!(c.fileno(), None);
    c.request(b"GET", b"/", None, &[]).unwrap();
    assert!(c.fileno().is_some_and(|fd| fd >= 0));
    assert_eq!(c.getresponse().unwrap().status(), 204);
    srv.received_when_done(0);
    let got = peer.lock().unwrap().expect("peer address");
    assert_eq!(got.ip(), "127.0.0.2".parse::<IpAddr>().unwrap());
}
