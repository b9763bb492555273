//! Name resolution off the caller's thread, for non-blocking openings: the system's resolver
//! (getaddrinfo, as in blocking mode) asked by a small process-wide pool of threads, so that
//! an event loop opening ten thousand connections to host names does not start ten thousand
//! threads.
//!
//! - At most `MAX_THREADS` (20) threads, named `hc-resolve`, run at once; a name asked for
//!   while all of them are busy waits in a queue, first come first served, for the first one
//!   free. Twenty is what glibc's `getaddrinfo_a` and libcurl's threaded resolver
//!   (`CURLMOPT_RESOLVE_THREADS_MAX`) allow by default. A lookup of a name in the hosts file
//!   is CPU work (microseconds), for which more threads than cores gain nothing; a DNS query
//!   mostly waits on the network, and twenty waiting at once keep a loop's names flowing
//!   without one thread (and its stack) per connection.
//! - Threads are started when a name is queued and none is idle, and each ends after `IDLE`
//!   (10 ms) without work, so a program that resolves one name keeps no thread. glibc's
//!   `getaddrinfo_a` keeps an idle thread a second; a hundredth is enough here. What a kept
//!   thread saves is its start and end (about 20 µs of CPU), which adds up only when names
//!   come faster than a hundred a second (a quarter of a percent of a core then); a burst
//!   keeps the threads busy anyway. A thread still alive when the program exits, on the
//!   other hand, shows up in valgrind's leak check (glibc's resolver state of that thread)
//!   and in the way of a library being unloaded.
//! - Each connection still has its own descriptor: one end of a socket pair whose other end
//!   the pool closes when that connection's answer is in (end of stream: readable).
//! - A connection freed or closed while its name waits in the queue frees both ends of its
//!   pair at once, and its name is never looked up; freed while its name is being looked up,
//!   the thread finishes the lookup (getaddrinfo can't be interrupted), then drops the answer
//!   and the pair's other end.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The most threads resolving names at once, in the whole process.
pub(crate) const MAX_THREADS: usize = 20;
/// How long a thread of the pool stays without work before it ends.
pub(crate) const IDLE: Duration = Duration::from_millis(10);
/// The name of the pool's threads (what /proc/self/task/*/comm and debuggers show).
pub(crate) const THREAD_NAME: &str = "hc-resolve";

/// The end of the resolver's signal that the connection holds: it becomes readable (end of
/// stream) when its name is resolved. A socket pair, so that every event loop can watch it (a
/// pipe can't be polled on Windows).
#[cfg(unix)]
type Signal = std::os::unix::net::UnixStream;
#[cfg(not(unix))]
type Signal = std::net::TcpStream;

#[cfg(unix)]
fn signal_pair() -> io::Result<(Signal, Signal)> {
    Signal::pair()
}

/// Windows has no socketpair: two ends of a loopback TCP connection.
#[cfg(not(unix))]
fn signal_pair() -> io::Result<(Signal, Signal)> {
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
    let near = Signal::connect(listener.local_addr()?)?;
    let (far, _) = listener.accept()?;
    Ok((near, far))
}

#[cfg(unix)]
fn signal_number(s: &Signal) -> Option<i32> {
    use std::os::fd::AsRawFd;
    Some(s.as_raw_fd())
}

#[cfg(not(unix))]
fn signal_number(s: &Signal) -> Option<i32> {
    crate::sys::socket_number(s)
}

/// What a connection and the pool share about one name: the answer once it is in, and the
/// pool's end of the pair until then.
struct Slot {
    answer: Option<io::Result<Vec<SocketAddr>>>,
    /// Closed (dropped) when the answer is in: the connection's end becomes readable.
    far: Option<Signal>,
}

/// Locks `m`, whatever a thread that panicked holding it left (every value here stays
/// whole: a panic never happens between two writes that belong together).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A host name being resolved for a connection in non-blocking mode (see the module's doc):
/// queued for the pool, then looked up by one of its threads. Dropping it gives the name up.
pub struct Resolver {
    host: String,
    signal: Signal,
    /// The only strong reference while the name waits: the queue holds a weak one, so a
    /// resolver dropped before a thread takes its name frees the slot (and the pool's end of
    /// the pair) at once.
    slot: Arc<Mutex<Slot>>,
}

impl Resolver {
    /// Starts resolving `host` (a name, not an IP literal) for `port`: queues it for the
    /// pool, starting a thread when none is free and fewer than `MAX_THREADS` (20) run.
    pub fn start(host: &str, port: u16) -> Result<Resolver> {
        let fail = |e: io::Error| Error::io(&format!("starting to resolve host {host:?}"), &e);
        let (signal, far) = signal_pair().map_err(fail)?;
        let slot = Arc::new(Mutex::new(Slot {
            answer: None,
            far: Some(far),
        }));
        let job = Job {
            host: host.to_owned(),
            port,
            slot: Arc::downgrade(&slot),
        };
        queue(job).map_err(fail)?;
        Ok(Resolver {
            host: host.to_owned(),
            signal,
            slot,
        })
    }

    /// The name being resolved.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The descriptor that becomes readable when the answer is in.
    pub fn fd(&self) -> Option<i32> {
        signal_number(&self.signal)
    }

    /// The addresses, once resolved (None while the name waits or is being looked up), or
    /// why there are none.
    pub fn poll(&mut self) -> Option<Result<Vec<SocketAddr>>> {
        let r = lock(&self.slot).answer.take()?;
        Some(super::tcp::resolved(&self.host, r))
    }
}

/// A name waiting in the queue.
struct Job {
    host: String,
    port: u16,
    /// Gone when the connection gave the name up before a thread took it.
    slot: Weak<Mutex<Slot>>,
}

impl Job {
    /// Looks the name up and leaves the answer for the connection, unless the connection is
    /// gone already.
    fn run(self) {
        let Some(slot) = self.slot.upgrade() else {
            return;
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            (self.host.as_str(), self.port)
                .to_socket_addrs()
                .map(Iterator::collect)
        }))
        .unwrap_or_else(|_| Err(io::Error::other("the system's resolver failed")));
        let far = {
            let mut s = lock(&slot);
            s.answer = Some(r);
            s.far.take()
        };
        // The end of the stream is the signal: nothing is written, so a connection already
        // gone can't make this fail (or raise SIGPIPE).
        drop(far);
    }
}

/// The pool: the names waiting, and how many threads run and how many of those wait for
/// work.
struct Pool {
    /// The process the counts belong to: a child made by fork() has none of its parent's
    /// threads, and starts counting again (the names its parent queued are looked up by
    /// its own threads).
    pid: u32,
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    pid: 0,
    queue: VecDeque::new(),
    threads: 0,
    idle: 0,
});
/// Signalled when a name is queued and a thread is idle.
static WORK: Condvar = Condvar::new();

/// Queues `job`, and wakes an idle thread or starts one for it. An error only when no thread
/// runs and none could be started.
fn queue(job: Job) -> io::Result<()> {
    let mut pool = lock(&POOL);
    let pid = std::process::id();
    if pool.pid != pid {
        pool.pid = pid;
        pool.threads = 0;
        pool.idle = 0;
    }
    pool.queue.push_back(job);
    if pool.idle > 0 {
        WORK.notify_one();
    }
    // Started under the lock, so that the count never runs ahead of the threads: a name is
    // never left queued with no thread to take it.
    if pool.queue.len() > pool.idle && pool.threads < MAX_THREADS {
        match std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(work)
        {
            Ok(_) => pool.threads += 1,
            Err(e) if pool.threads == 0 => {
                pool.queue.pop_back();
                return Err(e);
            }
            // The threads that run take the name in turn.
            Err(_) => {}
        }
    }
    Ok(())
}

/// A thread of the pool: takes the names in the order they came until none has come for
/// [`IDLE`], then ends.
fn work() {
    let mut pool = lock(&POOL);
    loop {
        if let Some(job) = pool.queue.pop_front() {
            drop(pool);
            job.run();
            pool = lock(&POOL);
            continue;
        }
        pool.idle += 1;
        let until = Instant::now() + IDLE;
        while pool.queue.is_empty() {
            let now = Instant::now();
            if now >= until {
                break;
            }
            pool = WORK
                .wait_timeout(pool, until - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        pool.idle -= 1;
        if pool.queue.is_empty() {
            pool.threads -= 1;
            if pool.threads == 0 {
                // The last one out gives back what a burst of names made the queue grow to.
                pool.queue.shrink_to_fit();
            }
            return;
        }
    }
}
