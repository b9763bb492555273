//! TCP: resolve, try each address in turn, set TCP_NODELAY and the timeouts. In non-blocking
//! mode the same steps never wait: [`Resolver`] asks the system's resolver on a thread of the
//! resolver's pool, and [`Connecting`] connects a non-blocking socket to each address in turn.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::resolver::Resolver;
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
    let addrs = match literal_addrs(host, port) {
        Some(addrs) => addrs,
        None => resolved(host, (host, port).to_socket_addrs().map(Iterator::collect))?,
    };
    connect_addrs(host, &addrs, opts)
}

/// The address of an IP literal, which needs no resolving; None for a name.
pub fn literal_addrs(host: &str, port: u16) -> Option<Vec<SocketAddr>> {
    literal_addr(host, port).map(|a| vec![a])
}

/// [`literal_addrs`]'s one address.
pub fn literal_addr(host: &str, port: u16) -> Option<SocketAddr> {
    let ip = match dotted_quad(host) {
        Some(v4) => IpAddr::V4(v4),
        None => host.parse::<IpAddr>().ok()?,
    };
    Some(SocketAddr::new(ip, port))
}

/// An IPv4 address written as std reads one (four decimal numbers of 0 to 255, separated by
/// dots, without leading zeros), read without std's general parser, which costs several times
/// as much for every connection to an IPv4 literal; None for anything else (which std then
/// reads, or refuses).
fn dotted_quad(s: &str) -> Option<std::net::Ipv4Addr> {
    let b = s.as_bytes();
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut n = 0u16;
        while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit() && i - start < 3) {
            n = n * 10 + u16::from(d - b'0');
            i += 1;
        }
        if i == start || (i - start > 1 && b[start] == b'0') {
            return None;
        }
        *octet = u8::try_from(n).ok()?;
    }
    (i == b.len()).then_some(octets.into())
}

/// The addresses of `host` from the system's resolver, or why there are none.
pub(super) fn resolved(host: &str, r: io::Result<Vec<SocketAddr>>) -> Result<Vec<SocketAddr>> {
    let addrs = r.map_err(|e| {
        Error::new(
            ErrorKind::HostNotFound,
            format!("could not resolve host {host:?}: {e}"),
        )
    })?;
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::HostNotFound,
            format!("host {host:?} has no address"),
        ));
    }
    Ok(addrs)
}

/// Whether a connect from `source` skips `addr` (another address family).
fn other_family(source: Option<SocketAddr>, addr: &SocketAddr) -> bool {
    source.is_some_and(|src| src.is_ipv4() != addr.is_ipv4())
}

/// The error when every address was skipped for its family.
fn no_matching_family(host: &str) -> Error {
    Error::new(
        ErrorKind::Os,
        format!("no address of {host:?} matches the source address's family"),
    )
}

/// Connects to the first of `addrs` that answers, in order (`host` names them in messages).
pub fn connect_addrs(host: &str, addrs: &[SocketAddr], opts: &TcpOptions) -> Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        if other_family(opts.source, addr) {
            continue;
        }
        match connect_one(addr, opts) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(Error::io(&format!("connect to {addr}"), &e)),
        }
    }
    Err(last.unwrap_or_else(|| no_matching_family(host)))
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

// ----- non-blocking: name resolution off the caller's thread, connect without waiting -----

/// A connect that never waits: a non-blocking socket connecting to each address in turn,
/// skipping those of the other family than the source address's, as [`connect_addrs`] does.
pub struct Connecting {
    addrs: Addrs,
    /// The next address to try.
    next: usize,
    /// The socket whose connect is in progress, and its address.
    socket: Option<(Socket, SocketAddr)>,
    source: Option<SocketAddr>,
    /// Why the last address failed.
    last: Option<Error>,
    /// The descriptor waited on before the current one (the resolver's, the last address's
    /// socket), closed only once the next socket exists: a new descriptor never takes the
    /// number of the one it replaces, so an event loop that compares numbers sees the change
    /// (epoll forgets a closed descriptor by itself).
    retired: Option<Retired>,
}

/// The addresses a connect tries: an IP literal's one (nothing allocated), or the resolver's.
enum Addrs {
    One(SocketAddr),
    Resolved(Vec<SocketAddr>),
}

impl Addrs {
    fn get(&self, i: usize) -> Option<SocketAddr> {
        match self {
            Addrs::One(a) => (i == 0).then_some(*a),
            Addrs::Resolved(v) => v.get(i).copied(),
        }
    }
}

/// A descriptor kept open until the next one exists (see [`Connecting`]); only dropped.
#[allow(dead_code)]
enum Retired {
    Resolver(Resolver),
    Socket(Socket),
}

impl Connecting {
    /// A connect to the address of an IP literal, from `source` when given.
    pub fn new(addr: SocketAddr, source: Option<SocketAddr>) -> Connecting {
        Connecting::to(Addrs::One(addr), source)
    }

    fn to(addrs: Addrs, source: Option<SocketAddr>) -> Connecting {
        Connecting {
            addrs,
            next: 0,
            socket: None,
            source,
            last: None,
            retired: None,
        }
    }

    /// A connect to the addresses `resolver` found; its descriptor stays open until the first
    /// socket exists.
    pub fn after(
        resolver: Resolver,
        addrs: Vec<SocketAddr>,
        source: Option<SocketAddr>,
    ) -> Connecting {
        let mut c = Connecting::to(Addrs::Resolved(addrs), source);
        c.retired = Some(Retired::Resolver(resolver));
        c
    }

    /// The descriptor of the connect in progress (it becomes writable when the connect is
    /// over, either way).
    pub fn fd(&self) -> Option<i32> {
        let (socket, _) = self.socket.as_ref()?;
        socket_number(socket)
    }

    /// The descriptor it holds: the connect in progress, else the one kept until the next
    /// exists (after every address failed: the last one's socket).
    pub fn held_fd(&self) -> Option<i32> {
        self.fd().or_else(|| match self.retired.as_ref()? {
            Retired::Resolver(r) => r.fd(),
            Retired::Socket(s) => socket_number(s),
        })
    }

    /// Goes as far as it can without waiting: the connected stream (non-blocking, with
    /// TCP_NODELAY), None while a connect is in progress (wait for the socket to become
    /// writable), or the error of the last address when none answered. `host` names the
    /// addresses' host in messages.
    pub fn advance(&mut self, host: &str) -> Result<Option<TcpStream>> {
        loop {
            if let Some((socket, addr)) = &self.socket {
                let addr = *addr;
                let status = connect_status(socket, &addr);
                match status {
                    Ok(false) => return Ok(None),
                    Ok(true) => {
                        let (socket, _) = self.socket.take().expect("checked above");
                        return connected(socket, &addr).map(Some);
                    }
                    Err(e) => {
                        let (socket, _) = self.socket.take().expect("checked above");
                        self.retired = Some(Retired::Socket(socket));
                        self.last = Some(Error::io(&format!("connect to {addr}"), &e));
                    }
                }
            }
            let Some(addr) = self.addrs.get(self.next) else {
                return Err(self.last.take().unwrap_or_else(|| no_matching_family(host)));
            };
            self.next += 1;
            if other_family(self.source, &addr) {
                continue;
            }
            match self.start(&addr) {
                Ok(Some(socket)) => return connected(socket, &addr).map(Some),
                Ok(None) => return Ok(None),
                Err(e) => self.last = Some(Error::io(&format!("connect to {addr}"), &e)),
            }
        }
    }

    /// Starts connecting to `addr`: the socket when connected at once, None when the connect
    /// is in progress (the socket is kept).
    fn start(&mut self, addr: &SocketAddr) -> io::Result<Option<Socket>> {
        // Linux creates the socket non-blocking (SOCK_NONBLOCK): no fcntl calls after it.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let socket = Socket::new(
            Domain::for_address(*addr),
            Type::STREAM.nonblocking(),
            Some(Protocol::TCP),
        )?;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let socket = {
            let s = Socket::new(
                Domain::for_address(*addr),
                Type::STREAM,
                Some(Protocol::TCP),
            )?;
            s.set_nonblocking(true)?;
            s
        };
        self.retired = None;
        if let Some(src) = self.source {
            socket.bind(&src.into())?;
        }
        match socket.connect(&(*addr).into()) {
            Ok(()) => Ok(Some(socket)),
            Err(e) if in_progress(&e) => {
                self.socket = Some((socket, *addr));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(unix)]
fn socket_number(s: &Socket) -> Option<i32> {
    use std::os::fd::AsRawFd;
    Some(s.as_raw_fd())
}

/// As [`crate::sys::socket_number`]: the SOCKET handle, when it fits an int.
#[cfg(windows)]
fn socket_number(s: &Socket) -> Option<i32> {
    use std::os::windows::io::AsRawSocket;
    i32::try_from(s.as_raw_socket()).ok()
}

/// Where the connect in progress on `socket` stands: Ok(true) connected, Ok(false) still in
/// progress, or why it failed. Linux answers with one system call, a second connect(2) to the
/// same address: 0 or EISCONN once connected, EALREADY while in progress, else the connect's
/// own error (the socket's pending error, taken).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn connect_status(socket: &Socket, addr: &SocketAddr) -> io::Result<bool> {
    match socket.connect(&(*addr).into()) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EISCONN) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EALREADY) || in_progress(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Elsewhere: the socket's pending error (SO_ERROR), then whether it has a peer.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn connect_status(socket: &Socket, _addr: &SocketAddr) -> io::Result<bool> {
    match socket.take_error() {
        Ok(Some(e)) | Err(e) => Err(e),
        Ok(None) => match socket.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        },
    }
}

/// The stream of a connected non-blocking socket.
fn connected(socket: Socket, addr: &SocketAddr) -> Result<TcpStream> {
    socket
        .set_tcp_nodelay(true)
        .map_err(|e| Error::io(&format!("connect to {addr}"), &e))?;
    Ok(socket.into())
}

/// A non-blocking connect that goes on in the background.
fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick IPv4 reader reads what std reads, and refuses what it refuses.
    #[test]
    fn dotted_quad_agrees_with_std() {
        let mut cases: Vec<String> = [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.00",
            "1.2.3.0",
            "1..3.4",
            ".1.2.3",
            "1.2.3.4.",
            "1.2.3.+4",
            "1.2.3.-4",
            "1.2.3.1000",
            "1.2.3.4 ",
            "1.2.3.4:80",
            "::1",
            "::ffff:1.2.3.4",
            "localhost",
            "",
            "١.٢.٣.٤",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for a in [
            "0", "9", "10", "99", "100", "199", "249", "250", "255", "256", "299", "999",
        ] {
            cases.push(format!("{a}.1.{a}.2"));
            cases.push(format!("3.{a}.4.{a}"));
        }
        for s in &cases {
            // The same answer as std's, not only a subset of it: IPv4 literals never take
            // the slow path.
            assert_eq!(dotted_quad(s), s.parse().ok(), "{s:?}");
            assert_eq!(
                literal_addr(s, 80).map(|a| a.ip()),
                s.parse::<IpAddr>().ok(),
                "{s:?}"
            );
        }
        assert_eq!(dotted_quad("10.20.30.40"), Some([10, 20, 30, 40].into()));
    }
}
