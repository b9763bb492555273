/*
 * poll_fileno: wait for a response with poll() on hc_connection_fileno() instead of
 * blocking inside httpclient, as an event loop would.
 *
 *   poll_fileno HOST PORT [PATH]      (prints the body to stdout, progress to stderr)
 *
 * The pattern:
 *   1. send the request (hc_request);
 *   2. poll() the descriptor for POLLIN (the event loop runs other work meanwhile);
 *   3. when it is readable, hc_getresponse and hc_response_read.
 * httpclient buffers what it read: after a read, more body bytes may already be in its
 * buffer while the socket shows nothing, so keep calling hc_response_read until the body
 * ends and poll() only when a read would wait on the network. With a timeout
 * (hc_connection_set_timeout) a read never blocks longer than that. The descriptor stays
 * the library's: never read from it or close it.
 */
#define _POSIX_C_SOURCE 200809L
#include <httpclient.h>

#ifdef _WIN32
/* On Windows hc_connection_fileno() gives the SOCKET: wait on it with WSAPoll(). */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600
#endif
#include <winsock2.h>
#define poll(fds, n, ms) WSAPoll((fds), (n), (ms))
#else
#include <poll.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
#include <fcntl.h> /* _O_BINARY */
#include <io.h>    /* _setmode */
#endif

static int fail(const char *what, hc_error err) {
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "poll_fileno: %s: %s\n", what, msg);
    (void)err;
    return 1;
}

int main(int argc, char **argv) {
#ifdef _WIN32
    _setmode(_fileno(stdout), _O_BINARY); /* the body as received: no LF -> CRLF */
#endif
    if (argc < 3) {
        fprintf(stderr, "usage: poll_fileno HOST PORT [PATH]\n");
        return 2;
    }
    const char *path = argc > 3 ? argv[3] : "/";
    hc_connection *c = NULL;
    hc_error e = hc_connection_new(argv[1], (uint16_t)atoi(argv[2]), &c);
    if (e != HC_OK) return fail("new", e);
    hc_connection_set_timeout(c, 30);
    if ((e = hc_request(c, "GET", path, NULL, 0, NULL, 0)) != HC_OK) return fail("request", e);

#ifdef _WIN32
    WSAPOLLFD p = {(SOCKET)hc_connection_fileno(c), POLLIN, 0};
#else
    struct pollfd p = {hc_connection_fileno(c), POLLIN, 0};
#endif
    int waits = 0;
    while (poll(&p, 1, 100) == 0) {
        waits++; /* the event loop would do other work here */
    }
    fprintf(stderr, "poll_fileno: readable after %d idle wait(s)\n", waits);

    hc_response *r = NULL;
    if ((e = hc_getresponse(c, &r)) != HC_OK) return fail("getresponse", e);
    fprintf(stderr, "poll_fileno: %d %s\n", hc_response_status(r), hc_response_reason(r));
    uint8_t buf[16384];
    size_t n;
    do {
        if ((e = hc_response_read(r, buf, sizeof buf, &n)) != HC_OK) return fail("read", e);
        fwrite(buf, 1, n, stdout);
    } while (n > 0);
    hc_response_free(r);
    hc_connection_free(c);
    return 0;
}
