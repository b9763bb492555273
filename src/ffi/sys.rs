//! The C face's platform differences: a C runtime file descriptor as a `File` (Unix: the
//! descriptor itself; Windows: the HANDLE behind it, from `_get_osfhandle`).

use std::ffi::c_int;
use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;

/// Borrows the caller's open descriptor `fd` (not negative) as a `File` that is never closed.
///
/// # Safety
/// `fd` must stay open, and not be used by anyone else, for as long as the `File` lives.
#[cfg(unix)]
pub(crate) unsafe fn borrow_fd(fd: c_int) -> io::Result<ManuallyDrop<File>> {
    use std::os::fd::FromRawFd;
    // SAFETY: the caller's open descriptor; ManuallyDrop keeps it open.
    Ok(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
}

/// On Windows a C descriptor is an index into the C runtime's table (msvcrt.dll's, the one
/// MinGW-w64 programs and this DLL use); `_get_osfhandle` gives the HANDLE it wraps. An fd
/// that is not open there is refused with ERROR_INVALID_HANDLE.
///
/// # Safety
/// As for Unix.
#[cfg(windows)]
pub(crate) unsafe fn borrow_fd(fd: c_int) -> io::Result<ManuallyDrop<File>> {
    use std::os::windows::io::{FromRawHandle, RawHandle};
    // SAFETY: _get_osfhandle only looks the descriptor up; -1 (or -2: no stream associated)
    // means it is not an open descriptor.
    let h = unsafe { libc::get_osfhandle(fd) };
    if h == -1 || h == -2 {
        return Err(io::Error::from_raw_os_error(6)); // ERROR_INVALID_HANDLE
    }
    // SAFETY: an open handle owned by the caller's descriptor; ManuallyDrop keeps it open.
    Ok(ManuallyDrop::new(unsafe {
        File::from_raw_handle(h as RawHandle)
    }))
}

/// The number of bytes left to read from `file` when it is a regular file (from its current
/// offset to its end), or None for a pipe, socket or device (read until end of file).
pub(crate) fn bytes_left(file: &mut File) -> io::Result<Option<u64>> {
    use std::io::Seek;
    let meta = match file.metadata() {
        Ok(m) => m,
        // Windows can't describe some handles (a console, some pipes): read them to the end.
        #[cfg(windows)]
        Err(_) => return Ok(None),
        #[cfg(not(windows))]
        Err(e) => return Err(e),
    };
    if meta.is_file() {
        let pos = file.stream_position().unwrap_or(0);
        Ok(Some(meta.len().saturating_sub(pos)))
    } else {
        Ok(None)
    }
}
