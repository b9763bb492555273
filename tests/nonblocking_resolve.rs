//! Name resolution in non-blocking mode under load (docs/nonblocking.md, "Name resolution"):
//! many connections to a host name opened at once by one loop all connect, while the
//! resolver's threads (named `hc-resolve`, counted in /proc/self/task) never outnumber the
//! library's cap; connections freed while their names wait in the queue or are being looked
//! up leave no descriptor and no thread behind, and the resolver still answers after them.
//! Every call returns without waiting. One test (ignored) measures what N names cost.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::event_loop::CALL_LIMIT;
use httpclient::transport::{WANT_READ, WANT_WRITE};
use httpclient::{Connection, ErrorKind};

/// The most resolver threads the library runs at once (docs/nonblocking.md; MAX_THREADS in
/// src/transport/resolver.rs).
const CAP: usize = 20;
/// How many connections the tests open at once: many times the cap, so that most names wait
/// in the queue.
const MANY: usize = 200;
const _: () = assert!(MANY >= 5 * CAP);
/// How long a test waits for anything at all.
const PATIENCE: Duration = Duration::from_secs(30);

/// The tests of this file count threads and descriptors of the whole process: one at a time.
fn alone() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The threads of this process named `name` (Linux: /proc/self/task/*/comm).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|c| c.trim_end() == name)
        .count()
}

/// The open descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// The address family of the socket `fd`.
fn family(fd: i32) -> i32 {
    // SAFETY: getsockname writes at most `len` bytes into the storage, which outlives it.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let r = libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len);
        assert_eq!(r, 0, "getsockname({fd})");
        i32::from(ss.ss_family)
    }
}

/// Counts the resolver's threads over and over on a thread of its own until dropped, keeping
/// the most it saw.
struct ThreadWatch {
    most: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl ThreadWatch {
    fn start() -> ThreadWatch {
        let most = Arc::new(AtomicUsize::new(threads_named("hc-resolve")));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (most.clone(), stop.clone());
        let handle = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                m.fetch_max(threads_named("hc-resolve"), Ordering::Relaxed);
            }
        });
        ThreadWatch {
            most,
            stop,
            handle: Some(handle),
        }
    }

    /// Counts once more from the caller's thread.
    fn sample(&self) {
        self.most
            .fetch_max(threads_named("hc-resolve"), Ordering::Relaxed);
    }

    /// The most resolver threads seen at once.
    fn most(&self) -> usize {
        self.most.load(Ordering::Relaxed)
    }
}

impl Drop for ThreadWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A listener on 127.0.0.1 whose connections are accepted and kept open by a thread, so that
/// any number of connects complete.
fn accepting_listener() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut kept = Vec::new();
        for s in l.incoming() {
            match s {
                Ok(s) => kept.push(s),
                Err(_) => return,
            }
        }
    });
    port
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Waits (at most `limit`) until `done` says so; false when it never did.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// What driving many openings to their end came to.
#[derive(Debug, Default)]
struct Opened {
    /// The longest single call.
    slowest: Duration,
    /// Each connection's first descriptor (the resolver's).
    first_fds: Vec<i32>,
}

/// Opens every connection of `conns` from one loop, as an event loop does: one call each, then
/// poll(2) on all the descriptors they wait on, and the call repeated on those that are ready.
/// `after_round` runs after each round of calls. Panics on any error other than WouldBlock.
fn open_all(conns: &mut [Connection], mut after_round: impl FnMut()) -> Opened {
    let mut opened = Opened::default();
    let mut pending: Vec<usize> = (0..conns.len()).collect();
    let mut ready: Vec<usize> = pending.clone();
    let mut open = vec![false; conns.len()];
    let end = Instant::now() + PATIENCE;
    let mut first = true;
    while !pending.is_empty() {
        assert!(
            Instant::now() < end,
            "{} connections still opening after {PATIENCE:?}",
            pending.len()
        );
        for &i in &ready {
            let c = &mut conns[i];
            let t = Instant::now();
            let r = c.connect();
            opened.slowest = opened.slowest.max(t.elapsed());
            match r {
                Ok(()) => open[i] = true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if first {
                        assert_eq!(c.want(), WANT_READ, "{e}");
                        opened
                            .first_fds
                            .push(c.fileno().expect("the resolver's descriptor"));
                    }
                }
                Err(e) => panic!("connection {i}: {e}"),
            }
        }
        first = false;
        after_round();
        pending.retain(|&i| !open[i]);
        let mut polls: Vec<libc::pollfd> = pending
            .iter()
            .map(|&i| {
                let want = conns[i].want();
                let mut events = 0;
                if want & WANT_READ != 0 {
                    events |= libc::POLLIN;
                }
                if want & WANT_WRITE != 0 {
                    events |= libc::POLLOUT;
                }
                libc::pollfd {
                    fd: conns[i].fileno().unwrap(),
                    events,
                    revents: 0,
                }
            })
            .collect();
        if polls.is_empty() {
            break;
        }
        // SAFETY: a valid array of pollfd, for the duration of the call.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 1000) };
        assert!(n >= 0, "poll: {}", std::io::Error::last_os_error());
        ready = pending
            .iter()
            .zip(&polls)
            .filter(|(_, p)| p.revents != 0)
            .map(|(&i, _)| i)
            .collect();
    }
    opened
}

/// `n` non-blocking connections to `localhost` at `port`, not yet started.
fn to_localhost(n: usize, port: u16) -> Vec<Connection> {
    (0..n)
        .map(|_| {
            let mut c = Connection::new("localhost", port).unwrap();
            c.set_blocking(false).unwrap();
            c
        })
        .collect()
}

#[test]
fn many_names_at_once_all_connect_and_the_resolver_threads_stay_under_the_cap() {
    let _one = alone();
    let port = accepting_listener();
    let mut conns = to_localhost(MANY, port);
    let watch = ThreadWatch::start();
    let opened = open_all(&mut conns, || watch.sample());
    watch.sample();

    // Every connection is open, each got its own resolver descriptor first (a socket of the
    // library's own), and no call waited.
    for (i, c) in conns.iter().enumerate() {
        let fd = c
            .fileno()
            .unwrap_or_else(|| panic!("connection {i} not open"));
        assert!([libc::AF_INET, libc::AF_INET6].contains(&family(fd)));
    }
    let mut fds = opened.first_fds.clone();
    assert_eq!(fds.len(), MANY);
    fds.sort_unstable();
    fds.dedup();
    assert_eq!(
        fds.len(),
        MANY,
        "two connections shared a resolver descriptor"
    );
    assert!(
        opened.slowest < CALL_LIMIT,
        "a call took {:?}",
        opened.slowest
    );
    assert!(
        watch.most() <= CAP,
        "{} resolver threads ran at once (the cap is {CAP})",
        watch.most()
    );
    assert!(watch.most() > 0, "no resolver thread was ever seen");
}

#[test]
fn connections_freed_while_their_names_wait_leave_no_descriptor_and_no_thread() {
    let _one = alone();
    // The resolver's threads of an earlier test are gone, and so are their descriptors.
    assert!(
        eventually(PATIENCE, || threads_named("hc-resolve") == 0),
        "resolver threads left from before"
    );
    let before = open_fds();
    let port = closed_port();
    let mut conns = to_localhost(MANY, port);
    for c in &mut conns {
        let e = c.connect().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
        assert_eq!(family(c.fileno().unwrap()), libc::AF_UNIX);
    }
    // Each connection holds its end of a pair; the far end is the resolver's.
    assert!(open_fds() >= before + MANY, "{} before", before);

    // Freed at once, most of them while their names wait for a thread: no call waits, and
    // only the names being looked up right now (at most one per thread) keep a descriptor.
    let mut slowest = Duration::ZERO;
    for c in conns.drain(..) {
        let t = Instant::now();
        drop(c);
        slowest = slowest.max(t.elapsed());
    }
    assert!(slowest < CALL_LIMIT, "a free took {slowest:?}");
    let right_after = open_fds();
    assert!(
        right_after <= before + CAP,
        "{right_after} descriptors open after the frees, {before} before: queued names kept theirs"
    );
    assert!(
        eventually(PATIENCE, || open_fds() <= before),
        "descriptors left behind: {} open, {before} before",
        open_fds()
    );

    // The resolver still answers after that.
    let port = accepting_listener();
    let mut again = to_localhost(3, port);
    open_all(&mut again, || {});
    for c in &again {
        assert!([libc::AF_INET, libc::AF_INET6].contains(&family(c.fileno().unwrap())));
    }
    drop(again);

    // Idle, the resolver's threads end by themselves.
    assert!(
        eventually(PATIENCE, || threads_named("hc-resolve") == 0),
        "{} resolver threads still running while idle",
        threads_named("hc-resolve")
    );
}

#[test]
fn connections_closed_while_many_names_resolve_open_again_from_the_start() {
    let _one = alone();
    let port = accepting_listener();
    let mut conns = to_localhost(MANY, port);
    for c in &mut conns {
        assert_eq!(c.connect().unwrap_err().kind(), ErrorKind::WouldBlock);
    }
    // The last ones came behind the others (their names queued, being looked up, or just
    // resolved): closed, they have no descriptor; opened again, they start over and connect.
    let mut last = conns.split_off(MANY - 10);
    for c in &mut last {
        let t = Instant::now();
        c.close();
        assert!(t.elapsed() < CALL_LIMIT, "close took {:?}", t.elapsed());
        assert_eq!(c.fileno(), None);
    }
    drop(conns);
    let opened = open_all(&mut last, || {});
    assert!(
        opened.slowest < CALL_LIMIT,
        "a call took {:?}",
        opened.slowest
    );
    for c in &last {
        assert!([libc::AF_INET, libc::AF_INET6].contains(&family(c.fileno().unwrap())));
    }
}

/// The CPU (user + system, every thread) this process has used so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// What resolving N names costs: N connections to `localhost` started at once, then waited on
/// until every resolver descriptor is readable (the names resolved); CPU of the whole process
/// and wall time, per name. `HC_RESOLVE_N` sets N (default 2000). Run with
/// `cargo test --release --test nonblocking_resolve -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_the_cost_of_resolving_many_names() {
    let _one = alone();
    let n: usize = std::env::var("HC_RESOLVE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let port = closed_port();
    let mut conns = to_localhost(n, port);
    // Warm up once (the first lookup reads nsswitch.conf and the hosts file).
    let mut warm = to_localhost(1, accepting_listener());
    open_all(&mut warm, || {});
    assert!(eventually(PATIENCE, || threads_named("hc-resolve") <= CAP));

    let (cpu0, wall0) = (cpu_time(), Instant::now());
    let mut polls: Vec<libc::pollfd> = conns
        .iter_mut()
        .map(|c| {
            assert_eq!(c.connect().unwrap_err().kind(), ErrorKind::WouldBlock);
            libc::pollfd {
                fd: c.fileno().unwrap(),
                events: libc::POLLIN,
                revents: 0,
            }
        })
        .collect();
    let mut most = threads_named("hc-resolve");
    let end = Instant::now() + PATIENCE;
    while !polls.is_empty() {
        assert!(Instant::now() < end, "{} names unresolved", polls.len());
        // SAFETY: a valid array of pollfd, for the duration of the call.
        let r = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 1000) };
        assert!(r >= 0);
        polls.retain(|p| p.revents == 0);
        most = most.max(threads_named("hc-resolve"));
    }
    let (cpu, wall) = (cpu_time() - cpu0, wall0.elapsed());
    // Every name did resolve: the next call goes on to the connect (refused here).
    for c in &mut conns {
        match c.connect() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => assert_eq!(c.want(), WANT_WRITE),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
            Ok(()) => panic!("connected to a closed port"),
        }
    }
    println!(
        "{n} names: wall {wall:?} ({:.1} us/name), CPU {cpu:?} ({:.1} us/name), \
         at most {most} resolver threads seen",
        wall.as_secs_f64() * 1e6 / n as f64,
        cpu.as_secs_f64() * 1e6 / n as f64,
    );
}
