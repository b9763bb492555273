/* hc_connection_set_deadline against a server that trickles its answer one byte at a time,
 * each byte well inside the read timeout: without a deadline the request takes as long as
 * the server likes; with one it fails with HC_ERR_TIMEOUT. The server is a thread of this
 * test, on a loopback socket (so the test runs on Windows too). Prints "N passed, 0 failed". */
/* hc-requires: hc_connection_set_deadline */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* sockets, nanosleep under -std=c99 */
#endif
#include <pthread.h>
#include <signal.h>

#include "hc_check.h"

static const char REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

struct server {
    int lfd, conns;
    long gap_ms;
    pthread_t thread;
};

/* The server thread: for each of `conns` connections, read the request head, then send REPLY
 * one byte every `gap_ms` milliseconds (stopping if the client goes away). */
static void *serve(void *arg) {
    struct server *s = arg;
    for (int i = 0; i < s->conns; i++) {
        int c = (int)accept(s->lfd, NULL, NULL);
        if (c < 0) break;
        char buf[4096];
        size_t got = 0;
        while (got < sizeof buf - 1) {
            ssize_t n = hc_sock_read(c, buf + got, sizeof buf - 1 - got);
            if (n <= 0) break;
            got += (size_t)n;
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n")) break;
        }
        for (size_t k = 0; k < sizeof REPLY - 1; k++) {
            if (hc_sock_write(c, REPLY + k, 1) != 1) break;
            hc_sleep_ms(s->gap_ms);
        }
        hc_sock_close(c);
    }
    return NULL;
}

/* Starts a trickling server thread; returns its port. */
static int start_server(struct server *s, int conns, long gap_ms) {
    uint16_t port;
    s->lfd = hc_listen_loopback(&port);
    s->conns = conns;
    s->gap_ms = gap_ms;
    if (pthread_create(&s->thread, NULL, serve, s) != 0) {
        perror("pthread_create");
        exit(2);
    }
    return port;
}

/* Waits for the server to finish its connections, then closes its socket. */
static void stop_server(struct server *s) {
    pthread_join(s->thread, NULL);
    hc_sock_close(s->lfd);
}

int main(void) {
#ifdef SIGPIPE
    signal(SIGPIPE, SIG_IGN); /* the server writes to connections the client may have left */
#endif
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
    struct server srv;
    int port = start_server(&srv, 2, 20);

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
    stop_server(&srv);

    return hc_check_done();
}
