//! The pool of idle connections, shared by every thread using a client.
//!
//! A connection is checked out by one call and belongs to it until its response body has been
//! read to the end (then it is checked back in) or it is dropped (then it is closed). The lock
//! is held only while the idle list is searched or changed: connections closed because they
//! expired or were evicted are dropped after it is released, since closing a TLS connection
//! writes a close_notify.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::transport::tls::TlsOptions;

/// What makes two connections interchangeable: a connection is reused only for a request whose
/// key is equal in every part, so none is ever reused under other TLS settings or another
/// proxy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub https: bool,
    /// The origin's host as the connection takes it (A-label; IPv6 in brackets), lowercased.
    pub host: String,
    pub port: u16,
    /// The proxy's `host:port` and its Proxy-Authorization value, when one is used.
    pub proxy: Option<(String, Option<String>)>,
    /// For https: verify, CA file, CA directory, client certificate and key.
    pub tls: Option<TlsKey>,
    pub source: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TlsKey {
    pub verify: bool,
    pub ca_file: Option<std::path::PathBuf>,
    pub ca_path: Option<std::path::PathBuf>,
    pub client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl TlsKey {
    pub fn of(opts: &TlsOptions) -> TlsKey {
        TlsKey {
            verify: opts.verify,
            ca_file: opts.ca_file.clone(),
            ca_path: opts.ca_path.clone(),
            client_cert: opts.client_cert.clone(),
        }
    }
}

/// The pool's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub idle_per_key: usize,
    pub idle_total: usize,
    /// None: idle connections never expire.
    pub idle_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle_per_key: 4,
            idle_total: 16,
            idle_timeout: Some(Duration::from_secs(30)),
        }
    }
}

struct Idle {
    key: Arc<PoolKey>,
    /// Boxed, as everywhere in the client: a connection is over a kilobyte, and moving it
    /// between the pool, a call and a response would copy it several times per request.
    conn: Box<Connection>,
    /// The read/write timeout its socket was last given (see [`Pool::checkout`]).
    io_timeout: Option<Duration>,
    since: Instant,
}

#[derive(Default)]
struct State {
    /// Least recently used first.
    idle: Vec<Idle>,
    /// Set when the client is freed: connections coming back are closed.
    closed: bool,
}

/// The idle connections of one client.
#[derive(Default)]
pub struct Pool {
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while the lock was held leaves a list that is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    /// Removes the expired connections, returning them to be dropped outside the lock.
    // The connections are boxed where they live; unboxing them to drop them would copy each.
    #[allow(clippy::vec_box)]
    fn expire(&mut self, now: Instant, timeout: Option<Duration>, out: &mut Vec<Box<Connection>>) {
        let Some(t) = timeout else { return };
        let mut i = 0;
        while i < self.idle.len() {
            if now.saturating_duration_since(self.idle[i].since) >= t {
                out.push(self.idle.remove(i).conn);
            } else {
                i += 1;
            }
        }
    }
}

impl Pool {
    /// Takes the most recently used idle connection for `key`, if any, with the read/write
    /// timeout it was checked in with: a call wanting the same one need not set it again (two
    /// system calls per request otherwise).
    pub fn checkout(
        &self,
        key: &Arc<PoolKey>,
        limits: &Limits,
    ) -> Option<(Box<Connection>, Option<Duration>)> {
        let mut dead = Vec::new();
        let found = {
            let mut st = lock(&self.state);
            st.expire(Instant::now(), limits.idle_timeout, &mut dead);
            // Arc's equality looks at the pointers first: a call's key is usually the very one
            // its connection was checked in with (see target.rs), so no strings are compared.
            let pos = st.idle.iter().rposition(|i| i.key == *key);
            pos.map(|p| {
                let i = st.idle.remove(p);
                (i.conn, i.io_timeout)
            })
        };
        drop(dead);
        found
    }

    /// Gives a connection back, evicting the least recently used beyond the limits;
    /// `io_timeout` is the read/write timeout its socket has.
    pub fn checkin(
        &self,
        key: Arc<PoolKey>,
        conn: Box<Connection>,
        io_timeout: Option<Duration>,
        limits: &Limits,
    ) {
        let mut dead = Vec::new();
        {
            let mut st = lock(&self.state);
            let now = Instant::now();
            st.expire(now, limits.idle_timeout, &mut dead);
            if st.closed || limits.idle_per_key == 0 || limits.idle_total == 0 {
                dead.push(conn);
            } else {
                let same = st.idle.iter().filter(|i| i.key == key).count();
                if same >= limits.idle_per_key {
                    let oldest = st.idle.iter().position(|i| i.key == key).unwrap();
                    dead.push(st.idle.remove(oldest).conn);
                }
                while st.idle.len() >= limits.idle_total {
                    dead.push(st.idle.remove(0).conn);
                }
                st.idle.push(Idle {
                    key,
                    conn,
                    io_timeout,
                    since: now,
                });
            }
        }
        drop(dead);
    }

    /// Closes every idle connection.
    pub fn close_idle(&self) {
        let dead: Vec<Idle> = std::mem::take(&mut lock(&self.state).idle);
        drop(dead);
    }

    /// Closes every idle connection and every one given back later.
    pub fn shut(&self) {
        let dead = {
            let mut st = lock(&self.state);
            st.closed = true;
            std::mem::take(&mut st.idle)
        };
        drop(dead);
    }

    /// How many idle connections there are (tests, statistics).
    pub fn idle_count(&self) -> usize {
        lock(&self.state).idle.len()
    }
}
