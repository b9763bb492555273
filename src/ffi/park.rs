//! Keeping a closed socket's descriptor number taken (docs/nonblocking.md, "The descriptor
//! changes"): an event loop that compares `hc_connection_fileno` with the number it registered
//! must never see a new socket under the old number.

/// Puts a placeholder (`/dev/null`, read-only, close-on-exec) on `fd`, closing in one step
/// what `fd` referred to (the socket: the system releases it, and epoll drops it from every
/// set) while the number stays taken. The owner of `fd` keeps it and closes the placeholder
/// when it would have closed the socket. Nothing happens when `/dev/null` can't be opened:
/// the socket then stays open (it was shut down) until its owner closes it.
///
/// `fd` must be an open descriptor owned by the caller (a transport or an opening of the
/// connection, alive while this runs).
#[cfg(unix)]
pub(crate) fn park(fd: i32) {
    use std::os::fd::AsRawFd;
    let Ok(null) = std::fs::File::open("/dev/null") else {
        return;
    };
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    // SAFETY: both descriptors are open: `null` is ours, `fd` the caller's, which stays its
    // owner (dup3 replaces what it refers to; the number stays valid and owned).
    unsafe {
        libc::dup3(null.as_raw_fd(), fd, libc::O_CLOEXEC);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    // SAFETY: as above; dup2 clears close-on-exec, which fcntl sets again.
    unsafe {
        if libc::dup2(null.as_raw_fd(), fd) == fd {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
}

/// Windows: a SOCKET handle can't be replaced in place; the shut-down socket keeps its handle
/// until its owner closes it.
#[cfg(not(unix))]
pub(crate) fn park(_fd: i32) {}
