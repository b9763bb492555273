//! The read buffer: its usual size, its bytes consumed, and the buffers kept for reuse (the
//! spare one of each thread, and those lent to non-blocking connections).

use std::cell::Cell;

use super::{Wire, BUF_SIZE, MAX_BLOCK, MIN_BLOCK};
use crate::spare;

thread_local! {
    /// The read buffer of the last connection dropped on this thread, for the next one: a
    /// program that opens a connection per request does not allocate and zero 16 KiB each
    /// time.
    static SPARE_BUFFER: Cell<Option<Vec<u8>>> = const { Cell::new(None) };
}

/// The read buffer of a wire that borrows one only while bytes are buffered (a non-blocking
/// connection): an event loop with thousands of connections keeps a few buffers, in cache,
/// rather than one per connection, as a hand-written loop reads every socket into one buffer.
pub(crate) const LENT_BUFFER: usize = 4 * 1024;

/// The most lent buffers a thread keeps for the next borrower.
const LENT_KEPT: usize = 16;

thread_local! {
    /// Lent buffers given back on this thread, the last given back on top (still in cache).
    static LENT: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub(super) fn borrow_buffer() -> Vec<u8> {
    LENT.try_with(|l| l.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![0; LENT_BUFFER])
}

/// Gives a lent buffer back (one of another size, grown for a large response, is freed).
fn give_back(buf: Vec<u8>) {
    if buf.len() == LENT_BUFFER {
        let _ = LENT.try_with(|l| {
            let mut l = l.borrow_mut();
            if l.len() < LENT_KEPT {
                l.push(buf);
            }
        });
    }
}

pub(super) fn spare_buffer() -> Vec<u8> {
    spare::take(&SPARE_BUFFER)
        .filter(|b| b.len() == BUF_SIZE)
        .unwrap_or_else(|| vec![0; BUF_SIZE])
}

impl Drop for Wire {
    fn drop(&mut self) {
        if self.lends {
            self.give_back_buffer();
        } else if self.buf.len() == BUF_SIZE {
            spare::keep(&SPARE_BUFFER, std::mem::take(&mut self.buf));
        }
    }
}

impl Wire {
    /// Sets the read buffer's usual size (clamped to MIN_BLOCK..=MAX_BLOCK): at once when
    /// nothing is buffered, else once the buffered bytes are consumed (a smaller size), or
    /// when the buffer next fills (a larger one).
    pub fn set_block(&mut self, n: usize) {
        self.block = n.clamp(MIN_BLOCK, MAX_BLOCK);
        // A size of its own: the buffer is the wire's from now on.
        self.lends = false;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            self.buf.resize(self.block, 0);
            self.buf.shrink_to_fit();
        }
    }

    /// The bytes received and not yet consumed.
    pub fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    pub fn slice(&self, start: usize, end: usize) -> &[u8] {
        &self.buf[start..end]
    }

    pub fn consume(&mut self, n: usize) {
        debug_assert!(self.pos + n <= self.end);
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            if self.lends {
                self.give_back_buffer();
            } else if self.buf.len() > self.block {
                self.buf.truncate(self.block);
                self.buf.shrink_to_fit();
            }
        }
    }

    /// Puts bytes read past what a reader needed back in front of the buffer, which must be
    /// empty (they were read straight into a caller's buffer).
    pub fn unread(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.pos, self.end, "unread into a non-empty buffer");
        if bytes.len() > self.buf.len() {
            self.buf.resize(bytes.len(), 0);
        }
        self.buf[..bytes.len()].copy_from_slice(bytes);
        self.pos = 0;
        self.end = bytes.len();
    }

    /// Sets the start of unconsumed bytes to `pos` (a position returned by a line search).
    pub fn consume_to(&mut self, pos: usize) {
        let n = pos - self.pos;
        self.consume(n);
    }

    /// A lending wire's buffer, emptied, goes back to its thread.
    pub(super) fn give_back_buffer(&mut self) {
        give_back(std::mem::take(&mut self.buf));
    }
}
