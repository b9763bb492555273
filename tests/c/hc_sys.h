/*
 * The C tests' portability layer: what POSIX and Windows (MinGW-w64; CI runs the Windows
 * build under Wine) spell differently, for the tests that run on both. hc_check.h includes it.
 *
 *   hc_sockets_init()            WSAStartup once on Windows; nothing on POSIX
 *   hc_sock_read/write/close     read(), write(), close() of a socket (recv, send, closesocket)
 *   poll(), struct pollfd        on Windows WSAPoll (sockets only)
 *   hc_pipe(p)                   pipe(); on Windows _pipe() in binary mode
 *   hc_temp_fd()                 a read-write descriptor of a temporary file, gone once closed
 *   hc_fd_write/seek/close       write(), lseek(), close() of a C descriptor
 *   hc_sleep_ms(ms)              sleeps (nanosleep; Sleep)
 *   HC_ENOENT_TEXT, HC_ENOTDIR_TEXT   what an error message says for a missing path and for a
 *                                file where a directory was expected (strerror; the Windows
 *                                system message: ERROR_PATH_NOT_FOUND, ERROR_DIRECTORY)
 *
 * A socket is kept in an int on both: Windows socket handles fit in one, and INVALID_SOCKET
 * becomes -1.
 */
#ifndef HC_SYS_H
#define HC_SYS_H

#ifdef _WIN32

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* WSAPoll, inet_ntop */
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <sys/types.h>

static inline void hc_sockets_init(void) {
    static int started;
    WSADATA data;
    if (!started && WSAStartup(MAKEWORD(2, 2), &data) == 0) started = 1;
}
#define hc_sock_read(s, buf, n) recv((SOCKET)(s), (char *)(buf), (int)(n), 0)
#define hc_sock_write(s, buf, n) send((SOCKET)(s), (const char *)(buf), (int)(n), 0)
#define hc_sock_close(s) closesocket((SOCKET)(s))
#define poll(fds, n, ms) WSAPoll((fds), (ULONG)(n), (ms))

static inline int hc_pipe(int p[2]) { return _pipe(p, 4096, _O_BINARY); }

static inline int hc_temp_fd(void) {
    char dir[MAX_PATH], path[MAX_PATH];
    if (GetTempPathA(sizeof dir, dir) == 0 || GetTempFileNameA(dir, "hc", 0, path) == 0)
        return -1;
    return _open(path, _O_RDWR | _O_BINARY | _O_TRUNC | _O_TEMPORARY, _S_IREAD | _S_IWRITE);
}
#define hc_fd_write(fd, buf, n) _write((fd), (buf), (unsigned)(n))
#define hc_fd_seek(fd, off, whence) _lseek((fd), (off), (whence))
#define hc_fd_close(fd) _close(fd)
#define hc_sleep_ms(ms) Sleep((DWORD)(ms))
#define HC_ENOENT_TEXT "(os error 3)"
#define HC_ENOTDIR_TEXT "(os error 267)"

#else /* POSIX */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline void hc_sockets_init(void) {}
#define hc_sock_read(s, buf, n) read((s), (buf), (n))
#define hc_sock_write(s, buf, n) write((s), (buf), (n))
#define hc_sock_close(s) close(s)

static inline int hc_pipe(int p[2]) { return pipe(p); }

static inline int hc_temp_fd(void) {
    char path[] = "/tmp/hc-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) unlink(path);
    return fd;
}
#define hc_fd_write(fd, buf, n) write((fd), (buf), (n))
#define hc_fd_seek(fd, off, whence) lseek((fd), (off), (whence))
#define hc_fd_close(fd) close(fd)

#define HC_ENOENT_TEXT "No such file"
#define HC_ENOTDIR_TEXT "Not a directory"

static inline void hc_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

#endif
#endif
