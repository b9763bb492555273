//! TCP: resolve, try each address in turn, set TCP_NODELAY and the timeouts.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::Transport;
use crate::error::{Error, ErrorKind, Result};

/// What a TCP connect needs to know.
#[derive(Debug, Clone, Default)]
pub struct TcpOptions {
    /// Limit for each connect attempt; None: the system's.
    pub connect_timeout: Option<Duration>,
    /// Limit for each read and write; None: none.
    pub io_timeout: Option<Duration>,
    /// Local address to bind before connecting (port 0 picks one).
    pub source: Option<SocketAddr>,
}

/// Resolves `host` and connects to the first address that answers.
pub fn connect(host: &str, port: u16, opts: &TcpOptions) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|e| {
                Error::new(
                    ErrorKind::HostNotFound,
                    format!("could not resolve host {host:?}: {e}"),
                )
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::HostNotFound,
            format!("host {host:?} has no address"),
        ));
    }
    connect_addrs(host, &addrs, opts)
}

/// Connects to the first of `addrs` that answers, in order (`host` names them in messages).
pub fn connect_addrs(host: &str, addrs: &[SocketAddr], opts: &TcpOptions) -> Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        if let Some(src) = opts.source {
            if src.is_ipv4() != addr.is_ipv4() {
                continue;
            }
        }
        match connect_one(addr, opts) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(Error::io(&format!("connect to {addr}"), &e)),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::new(
            ErrorKind::Os,
            format!("no address of {host:?} matches the source address's family"),
        )
    }))
}

fn connect_one(addr: &SocketAddr, opts: &TcpOptions) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if let Some(src) = opts.source {
        socket.bind(&src.into())?;
    }
    match opts.connect_timeout {
        Some(t) => socket.connect_timeout(&(*addr).into(), t)?,
        None => socket.connect(&(*addr).into())?,
    }
    socket.set_tcp_nodelay(true)?;
    let stream: TcpStream = socket.into();
    // A new socket has no timeouts: set them only when there are some (two system calls).
    if opts.io_timeout.is_some() {
        stream.set_read_timeout(opts.io_timeout)?;
        stream.set_write_timeout(opts.io_timeout)?;
    }
    Ok(stream)
}

/// Looks at a socket without blocking: true if the peer closed it, reset it, or sent bytes
/// while no response was expected (either way the connection can't be reused).
pub fn closed_while_idle(stream: &TcpStream) -> bool {
    match crate::sys::peek_nonblocking(stream) {
        Ok(_) => true, // 0: closed; 1: unexpected bytes
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    }
}

/// A plain TCP transport.
pub struct TcpTransport(pub TcpStream);

impl Transport for TcpTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn closed_while_idle(&mut self) -> bool {
        closed_while_idle(&self.0)
    }
    fn set_io_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.0.set_read_timeout(t)?;
        self.0.set_write_timeout(t)
    }
    fn shutdown(&mut self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
    fn fd(&self) -> Option<i32> {
        crate::sys::socket_number(&self.0)
    }
    fn set_nonblocking(&mut self, on: bool) -> io::Result<()> {
        self.0.set_nonblocking(on)
    }
}
