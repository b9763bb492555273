/* hc_connection_set_deadline against a server that trickles its answer one byte at a time,
 * each byte well inside the read timeout: without a deadline the request takes as long as
 * the server likes; with one it fails with HC_ERR_TIMEOUT. The server is a child process
 * forked from this test, on a loopback socket. Prints "N passed, 0 failed". */
/* hc-requires: hc_connection_set_deadline */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fork, kill, sockets, nanosleep under -std=c99 */
#endif
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hc_check.h"

static const char REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* The child: for each of `conns` connections, read the request head, then send REPLY one
 * byte every `gap_ms` milliseconds (stopping if the client goes away). */
static void serve(int lfd, int conns, long gap_ms) {
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < conns; i++) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) _exit(1);
        char buf[4096];
        size_t got = 0;
        while (got < sizeof buf - 1) {
            ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
            if (n <= 0) break;
            got += (size_t)n;
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n")) break;
        }
        for (size_t k = 0; k < sizeof REPLY - 1; k++) {
            if (write(c, REPLY + k, 1) != 1) break;
            sleep_ms(gap_ms);
        }
        close(c);
    }
    _exit(0);
}

/* Forks a trickling server; returns its port and sets *pid. */
static int start_server(int conns, long gap_ms, pid_t *pid) {
    uint16_t port;
    int lfd = hc_listen_loopback(&port);
    fflush(NULL);
    *pid = fork();
    if (*pid < 0) {
        perror("fork");
        exit(2);
    }
    if (*pid == 0) serve(lfd, conns, gap_ms);
    close(lfd);
    return port;
}

static void stop_server(pid_t pid) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

int main(void) {
    /* Bad arguments. */
    CHECK(hc_connection_set_deadline(NULL, 1.0) == HC_ERR_INVALID_ARGUMENT);
    hc_connection *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", 9, &c) == HC_OK);
    CHECK(hc_connection_set_deadline(c, 0.0 / 0.0) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_deadline(c, 1e300) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_deadline(c, 0.0) == HC_OK);
    CHECK(hc_connection_set_deadline(c, -5.0) == HC_OK);
    hc_connection_free(c);

    /* 41 bytes, 20 ms apart: about 0.8 s, never 2 s without a byte. */
    pid_t pid;
    int port = start_server(2, 20, &pid);

    /* Without a deadline the trickle is answered in full: the timeout alone can't stop it. */
    c = NULL;
    CHECK(hc_connection_new("127.0.0.1", (uint16_t)port, &c) == HC_OK);
    CHECK(hc_connection_set_timeout(c, 2.0) == HC_OK);
    hc_response *r = NULL;
    CHECK(hc_test_get(c, "/", &r) == HC_OK);
    if (r) {
        CHECK(hc_response_status(r) == 200);
        uint8_t *body = NULL;
        size_t blen = 0;
        CHECK(hc_response_read_all(r, &body, &blen) == HC_OK);
        CHECK(blen == 2 && body && memcmp(body, "ok", 2) == 0);
        hc_buffer_free(body, blen);
        hc_response_free(r);
    }
    hc_connection_free(c);

    /* With a deadline of 0.3 s the same trickle fails with HC_ERR_TIMEOUT. */
    c = NULL;
    CHECK(hc_connection_new("127.0.0.1", (uint16_t)port, &c) == HC_OK);
    CHECK(hc_connection_set_timeout(c, 2.0) == HC_OK);
    CHECK(hc_connection_set_deadline(c, 0.3) == HC_OK);
    r = NULL;
    hc_error e = hc_test_get(c, "/", &r);
    CHECK(e == HC_ERR_TIMEOUT);
    CHECK(r == NULL);
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    CHECK(strstr(msg, "deadline") != NULL);
    hc_response_free(r);
    hc_connection_free(c);
    stop_server(pid);

    return hc_check_done();
}
