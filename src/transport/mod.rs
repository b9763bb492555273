//! The byte streams a connection runs over: TCP (with timeouts, IPv6 and IPv4) and TLS on
//! top of it. Tests and fuzzers may bring their own [`Transport`].

pub mod resolver;
pub mod tcp;
pub mod tls;

use std::io;
use std::time::Duration;

/// What a call that returned `WouldBlock` waits for: the descriptor becoming readable
/// (`HC_WANT_READ`) ...
pub const WANT_READ: u8 = 1;
/// ... or writable (`HC_WANT_WRITE`). Both bits may be set.
pub const WANT_WRITE: u8 = 2;

/// A bidirectional byte stream under a connection.
///
/// `read` returns `Ok(0)` for a clean end of stream, and an error of kind
/// [`io::ErrorKind::UnexpectedEof`] for an end that the protocol says was not clean (a TLS
/// stream closed without close_notify).
pub trait Transport: Send {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;

    /// Writes all of `buf`.
    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Whether the peer closed the stream (or sent bytes nobody asked for) while it was idle,
    /// checked without blocking. A stream that can't tell says false.
    fn closed_while_idle(&mut self) -> bool {
        false
    }

    /// Sets the limit of each later read and write; None blocks without limit.
    fn set_io_timeout(&mut self, _timeout: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    /// Closes the stream (both directions), ignoring errors.
    fn shutdown(&mut self) {}

    /// The socket's file descriptor, if there is one.
    fn fd(&self) -> Option<i32> {
        None
    }

    /// What the last read or write that failed with [`io::ErrorKind::WouldBlock`] waits for
    /// ([`WANT_READ`], [`WANT_WRITE`]); 0 means the direction of that call itself (a read
    /// waits to read, a write to write). TLS differs: a write can wait to read.
    fn want(&self) -> u8 {
        0
    }

    /// Puts the stream in non-blocking mode (reads and writes that would wait fail with
    /// [`io::ErrorKind::WouldBlock`]) or back. A stream that can't says Ok and stays as it is.
    fn set_nonblocking(&mut self, _on: bool) -> io::Result<()> {
        Ok(())
    }
}

/// The stream a wire runs over: plain TCP kept inline, so that its descriptor sits with the
/// wire's other per-request fields (an event loop with thousands of connections would find a
/// separate box out of cache on every request); TLS and test transports boxed.
pub enum Stream {
    Tcp(tcp::TcpTransport),
    Boxed(Box<dyn Transport>),
}

impl From<tcp::TcpTransport> for Stream {
    fn from(t: tcp::TcpTransport) -> Stream {
        Stream::Tcp(t)
    }
}

impl From<Box<dyn Transport>> for Stream {
    fn from(b: Box<dyn Transport>) -> Stream {
        Stream::Boxed(b)
    }
}

impl Transport for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(t) => t.read(buf),
            Stream::Boxed(b) => b.read(buf),
        }
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(t) => t.write(buf),
            Stream::Boxed(b) => b.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(t) => t.write_all(buf),
            Stream::Boxed(b) => b.write_all(buf),
        }
    }
    fn closed_while_idle(&mut self) -> bool {
        match self {
            Stream::Tcp(t) => t.closed_while_idle(),
            Stream::Boxed(b) => b.closed_while_idle(),
        }
    }
    fn set_io_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(t) => t.set_io_timeout(timeout),
            Stream::Boxed(b) => b.set_io_timeout(timeout),
        }
    }
    fn shutdown(&mut self) {
        match self {
            Stream::Tcp(t) => t.shutdown(),
            Stream::Boxed(b) => b.shutdown(),
        }
    }
    fn fd(&self) -> Option<i32> {
        match self {
            Stream::Tcp(t) => t.fd(),
            Stream::Boxed(b) => b.fd(),
        }
    }
    fn want(&self) -> u8 {
        match self {
            Stream::Tcp(t) => t.want(),
            Stream::Boxed(b) => b.want(),
        }
    }
    fn set_nonblocking(&mut self, on: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(t) => t.set_nonblocking(on),
            Stream::Boxed(b) => b.set_nonblocking(on),
        }
    }
}
