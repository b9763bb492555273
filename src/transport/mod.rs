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
