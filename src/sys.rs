//! The few places where Unix and Windows differ, each behind `cfg` and kept here so that the
//! rest of the crate reads the same on both. No `unsafe` here (the crate denies it outside
//! `ffi`); what needs it on Windows (a C runtime descriptor as a HANDLE) is in `ffi::sys`.

use std::io;
use std::net::TcpStream;

use crate::error::ErrorKind;

/// The socket's number as C sees it through `hc_connection_fileno`: the file descriptor on
/// Unix; on Windows the `SOCKET` handle. Windows handle values fit in 32 bits (so that 32- and
/// 64-bit processes can share them), and `(SOCKET)(int)-1` is `INVALID_SOCKET`, so an int
/// carries it; a value that would not fit gives None.
#[cfg(unix)]
pub fn socket_number(s: &TcpStream) -> Option<i32> {
    use std::os::fd::AsRawFd;
    Some(s.as_raw_fd())
}

#[cfg(windows)]
pub fn socket_number(s: &TcpStream) -> Option<i32> {
    use std::os::windows::io::AsRawSocket;
    i32::try_from(s.as_raw_socket()).ok()
}

/// Peeks at one byte without blocking: Ok(0) at end of stream, Ok(1) for a byte, an error of
/// kind WouldBlock when nothing is there.
#[cfg(unix)]
pub fn peek_nonblocking(s: &TcpStream) -> io::Result<usize> {
    let mut byte = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    socket2::SockRef::from(s).recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT)
}

/// Windows has no per-call MSG_DONTWAIT: the socket is made non-blocking for the peek and
/// blocking again after it (the connection's sockets are always blocking; their timeouts are
/// SO_RCVTIMEO/SO_SNDTIMEO). A socket that could not be put back says "closed" (an error
/// other than WouldBlock), so the connection is not reused.
#[cfg(windows)]
pub fn peek_nonblocking(s: &TcpStream) -> io::Result<usize> {
    s.set_nonblocking(true)?;
    let mut byte = [0u8; 1];
    let r = s.peek(&mut byte);
    s.set_nonblocking(false)?;
    r
}

/// Refuses, before anything looks it up, a path longer than the system can name. Windows: more
/// than 32767 UTF-16 units, the most any Windows path may have, is ERROR_FILENAME_EXCED_RANGE
/// (without this check a megabyte-long name resolved to the current directory under Wine, and
/// OpenSSL copies a file name onto the stack there). Unix: the system says ENAMETOOLONG itself.
pub fn check_path_length(path: &std::path::Path) -> io::Result<()> {
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        if path.as_os_str().encode_wide().count() > 32767 {
            return Err(io::Error::from_raw_os_error(206)); // ERROR_FILENAME_EXCED_RANGE
        }
    }
    let _ = path;
    Ok(())
}

/// The error "not a directory" (ENOTDIR; ERROR_DIRECTORY on Windows).
pub fn not_a_directory() -> io::Error {
    #[cfg(unix)]
    let code = libc::ENOTDIR;
    #[cfg(windows)]
    let code = 267; // ERROR_DIRECTORY: "The directory name is invalid."
    io::Error::from_raw_os_error(code)
}

/// The error kind of an OS error that std's `io::ErrorKind` leaves uncategorised but that
/// means the same as a categorised one elsewhere. None on Unix: there std's kinds are what
/// `Error::io` maps. On Windows std already maps WSAECONNREFUSED, WSAECONNRESET,
/// WSAECONNABORTED, WSAETIMEDOUT and WSAEWOULDBLOCK; this adds the WinSock codes that Linux
/// reports as EPIPE/ECONNRESET (WSAESHUTDOWN, WSAENETRESET) and the resolver's
/// (WSAHOST_NOT_FOUND, WSATRY_AGAIN, WSANO_RECOVERY, WSANO_DATA), so that C sees the same
/// `HC_ERR_*` on both.
pub fn os_error_kind(e: &io::Error) -> Option<ErrorKind> {
    #[cfg(windows)]
    {
        match e.raw_os_error() {
            Some(10052 | 10058) => return Some(ErrorKind::ConnectionReset),
            Some(11001..=11004) => return Some(ErrorKind::HostNotFound),
            _ => {}
        }
    }
    let _ = e;
    None
}

/// Adds the system's own root certificates to `store` where the system keeps them outside
/// OpenSSL's default locations, and returns how many it added. Unix: none (OpenSSL's default
/// paths are the system's store). Windows: the certificates of the "ROOT" system store of the
/// current user (which includes the machine's) that are trusted for server authentication, as
/// curl's CURLSSLOPT_NATIVE_CA and Python's ssl load them; read once per process.
#[cfg(not(windows))]
pub fn add_native_roots(_store: &mut openssl::x509::store::X509StoreBuilderRef) -> usize {
    0
}

#[cfg(windows)]
pub fn add_native_roots(store: &mut openssl::x509::store::X509StoreBuilderRef) -> usize {
    use openssl::x509::X509;
    use schannel::cert_context::ValidUses;
    use schannel::cert_store::CertStore;
    use std::sync::OnceLock;

    const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
    static ROOTS: OnceLock<Vec<X509>> = OnceLock::new();
    let roots = ROOTS.get_or_init(|| {
        let Ok(system) = CertStore::open_current_user("ROOT") else {
            return Vec::new();
        };
        system
            .certs()
            .filter(|c| match c.valid_uses() {
                Ok(ValidUses::All) => true,
                Ok(ValidUses::Oids(oids)) => oids.iter().any(|o| o == SERVER_AUTH),
                Err(_) => false,
            })
            .filter_map(|c| X509::from_der(c.to_der()).ok())
            .collect()
    });
    // A certificate OpenSSL's default paths gave already is not an error (OpenSSL 1.1.1+).
    roots
        .iter()
        .filter(|c| store.add_cert((*c).clone()).is_ok())
        .count()
}
