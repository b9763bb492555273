/*
 * Non-blocking mode from C: after a response with "Connection: close" the next request opens
 * a new socket, and hc_connection_fileno gives another number than the one before
 * (docs/nonblocking.md, "The descriptor changes"), also after hc_connection_close; freeing
 * the connection gives back every descriptor (Linux: counted in /proc/self/fd). The "server"
 * is a listening socket of this test: the whole exchange runs in one thread.
 *
 * hc-requires: hc_connection_set_blocking hc_connection_want hc_response_want
 * hc-requires: hc_response_fileno
 */
#define _POSIX_C_SOURCE 200809L
#include "hc_check.h"

#ifdef __linux__
#include <dirent.h>

/* The open descriptors of the process. */
static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}
#endif

/* Waits (at most 10 s) until `fd` is ready for `want` (HC_WANT_READ/HC_WANT_WRITE bits). */
static int wait_fd(int fd, int want) {
    struct pollfd p = {fd, 0, 0};
    if (want & HC_WANT_READ) p.events |= POLLIN;
    if (want & HC_WANT_WRITE) p.events |= POLLOUT;
    return fd >= 0 && poll(&p, 1, 10000) == 1;
}

/* Reads from `fd` until the end of a request head. */
static int read_head(int fd) {
    char buf[4096];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = hc_sock_read(fd, buf + n, 1);
        if (r <= 0) return -1;
        n++;
        if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0) return 0;
    }
    return -1;
}

/* One GET of "/" answered by the test as the server, with `reply`; the server's end is
   closed after the reply when `close_after`, else returned in *srv_out. Returns the
   descriptor number the request went out on. */
static int get(hc_connection *c, int lsn, const char *reply, int close_after, int *srv_out) {
    hc_error rc;
    /* The connect completes against the backlog; the request fits in the socket buffer. */
    while ((rc = hc_request(c, "GET", "/", NULL, 0, NULL, 0)) == HC_ERR_WOULD_BLOCK)
        CHECK(wait_fd(hc_connection_fileno(c), hc_connection_want(c)));
    CHECK_OK(rc);
    int fd = hc_connection_fileno(c);
    CHECK(fd >= 0);
    int srv = (int)accept(lsn, NULL, NULL);
    CHECK(srv >= 0);
    CHECK(read_head(srv) == 0);
    size_t len = strlen(reply);
    CHECK(hc_sock_write(srv, reply, len) == (ssize_t)len);
    if (close_after)
        hc_sock_close(srv);
    else
        *srv_out = srv;
    hc_response *r = NULL;
    while ((rc = hc_getresponse(c, &r)) == HC_ERR_WOULD_BLOCK)
        CHECK(wait_fd(hc_connection_fileno(c), hc_connection_want(c)));
    CHECK_OK(rc);
    if (rc != HC_OK) return fd;
    CHECK(hc_response_status(r) == 200);
    uint8_t buf[64];
    size_t n = 0, got = 0;
    while ((rc = hc_response_read(r, buf + got, sizeof buf - got, &n)) == HC_OK && n > 0)
        got += n;
    while (rc == HC_ERR_WOULD_BLOCK) {
        CHECK(wait_fd(hc_response_fileno(r), hc_response_want(r)));
        while ((rc = hc_response_read(r, buf + got, sizeof buf - got, &n)) == HC_OK && n > 0)
            got += n;
    }
    CHECK_OK(rc);
    CHECK(got == 2 && memcmp(buf, "ok", 2) == 0);
    hc_response_free(r);
    return fd;
}

static const char closing[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
static const char keep_alive[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

int main(void) {
    uint16_t port = 0;
    int lsn = hc_listen_loopback(&port);
#ifdef __linux__
    int start = open_fds();
#endif
    hc_connection *c = NULL;
    CHECK_OK(hc_connection_new("127.0.0.1", port, &c));
    CHECK_OK(hc_connection_set_blocking(c, false));

    /* Each response closes the connection: every request goes out on a new descriptor, under
       another number than the one before it. */
    int last = -1;
    for (int i = 0; i < 3; i++) {
        int fd = get(c, lsn, closing, 1, NULL);
        CHECK_MSG(fd != last, "request %d: descriptor %d again", i, fd);
        CHECK(hc_connection_fileno(c) == -1); /* closed after the response */
#ifdef __linux__
        /* At most the one descriptor kept for the number. */
        CHECK_MSG(open_fds() <= start + 1, "%d descriptors open, %d at the start", open_fds(),
                  start);
#endif
        last = fd;
    }

    /* hc_connection_close between keep-alive requests: the same. */
    int srv = -1;
    last = get(c, lsn, keep_alive, 0, &srv);
    CHECK(hc_connection_fileno(c) == last); /* kept alive */
    hc_connection_close(c);
    CHECK(hc_connection_fileno(c) == -1);
    hc_sock_close(srv);
    int fd = get(c, lsn, keep_alive, 0, &srv);
    CHECK_MSG(fd != last, "descriptor %d again after hc_connection_close", fd);
    hc_sock_close(srv);

    hc_connection_free(c);
#ifdef __linux__
    CHECK_MSG(open_fds() == start, "%d descriptors open after hc_connection_free, %d at the start",
              open_fds(), start);
#endif
    hc_sock_close(lsn);
    return hc_check_done();
}
