/*
 * Non-blocking mode from C: hc_connection_set_blocking, hc_connection_want,
 * hc_connection_timeout_ms, hc_response_want and hc_response_fileno with good and bad
 * arguments; HC_ERR_WOULD_BLOCK from hc_getresponse and hc_response_read while the server
 * holds bytes back; a repeated call with another buffer refused; the 100-continue wait as a
 * time limit, not a wait. The "server" is a listening socket of this test: the whole exchange
 * runs in one thread.
 *
 * hc-requires: hc_connection_set_blocking hc_connection_want hc_connection_timeout_ms
 * hc-requires: hc_response_want hc_response_fileno
 */
#define _POSIX_C_SOURCE 200809L
#include "hc_check.h"

/* Waits (at most 10 s) until `fd` is ready for `want` (HC_WANT_READ/HC_WANT_WRITE bits). */
static int wait_fd(int fd, int want) {
    struct pollfd p = {fd, 0, 0};
    if (want & HC_WANT_READ) p.events |= POLLIN;
    if (want & HC_WANT_WRITE) p.events |= POLLOUT;
    return poll(&p, 1, 10000) == 1;
}

/* Reads from `fd` until the end of a request head; the head is stored in `buf`. */
static int read_head(int fd, char *buf, size_t cap) {
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t r = hc_sock_read(fd, buf + n, 1);
        if (r <= 0) return -1;
        n++;
        buf[n] = '\0';
        if (n >= 4 && strcmp(buf + n - 4, "\r\n\r\n") == 0) return 0;
    }
    return -1;
}

static int send_text(int fd, const char *s) {
    size_t n = strlen(s);
    return hc_sock_write(fd, s, n) == (ssize_t)n;
}

/* hc_getresponse until it is not HC_ERR_WOULD_BLOCK, polling as an event loop would. */
static hc_error getresponse_polled(hc_connection *c, hc_response **r) {
    hc_error rc;
    while ((rc = hc_getresponse(c, r)) == HC_ERR_WOULD_BLOCK) {
        if (!wait_fd(hc_connection_fileno(c), hc_connection_want(c))) return HC_ERR_TIMEOUT;
    }
    return rc;
}

static void test_bad_arguments(void) {
    CHECK_RC(hc_connection_set_blocking(NULL, false), HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_want(NULL) == -1);
    CHECK(hc_connection_timeout_ms(NULL) == -1);
    CHECK(hc_response_want(NULL) == -1);
    CHECK(hc_response_fileno(NULL) == -1);
    char msg[256];
    hc_last_error_message(msg, sizeof msg);
    CHECK_MSG(strstr(msg, "hc_response_fileno") != NULL, "message: %s", msg);
    CHECK(HC_WANT_READ == 1 && HC_WANT_WRITE == 2);
    CHECK(strcmp(hc_error_name(HC_ERR_WOULD_BLOCK), "BlockingIOError") == 0);
    CHECK(hc_error_is(HC_ERR_WOULD_BLOCK, HC_ERR_OS));
}

int main(void) {
    test_bad_arguments();

    uint16_t port = 0;
    int lsn = hc_listen_loopback(&port);
    hc_connection *c = NULL;
    CHECK_OK(hc_connection_new("127.0.0.1", port, &c));
    CHECK(hc_connection_want(c) == 0);
    CHECK(hc_connection_timeout_ms(c) == -1);
    CHECK_OK(hc_connection_set_blocking(c, false));
    CHECK_OK(hc_connection_set_blocking(c, false)); /* again: no change */

    /* An IP literal: the connect completes against the backlog (or says what it waits for). */
    hc_error rc;
    while ((rc = hc_connection_connect(c)) == HC_ERR_WOULD_BLOCK)
        CHECK(wait_fd(hc_connection_fileno(c), hc_connection_want(c)));
    CHECK_OK(rc);
    int srv = accept(lsn, NULL, NULL);
    CHECK(srv >= 0);
    int fd = hc_connection_fileno(c);
    CHECK(fd >= 0);

    /* A small request goes out in one call. */
    char head[4096];
    CHECK_OK(hc_request(c, "GET", "/a", NULL, 0, NULL, 0));
    CHECK(read_head(srv, head, sizeof head) == 0);
    CHECK(strncmp(head, "GET /a HTTP/1.1\r\n", 17) == 0);

    /* Nothing came: hc_getresponse would block, wanting READ, and leaves *resp alone. */
    hc_response *r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_WOULD_BLOCK);
    CHECK(r == NULL);
    CHECK(hc_connection_want(c) == HC_WANT_READ);
    CHECK(hc_connection_timeout_ms(c) == -1);
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    CHECK_MSG(strstr(msg, "BlockingIOError") != NULL, "message: %s", msg);

    /* Half a head: still WOULD_BLOCK; the rest: the response. */
    CHECK(send_text(srv, "HTTP/1.1 200 OK\r\nContent-Le"));
    CHECK(wait_fd(fd, HC_WANT_READ));
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_WOULD_BLOCK);
    CHECK(send_text(srv, "ngth: 5\r\nX-Y: z\r\n\r\nhel"));
    CHECK_OK(getresponse_polled(c, &r));
    CHECK(hc_connection_want(c) == 0);
    CHECK(hc_response_status(r) == 200);
    CHECK_STR(hc_response_getheader(r, "X-Y"), "z");
    CHECK(hc_response_fileno(r) == fd);
    CHECK(hc_response_want(r) == 0);

    /* read gives what came, then WOULD_BLOCK with n == 0, then the rest, then the end. */
    uint8_t buf[100];
    size_t n = 99;
    CHECK_OK(hc_response_read(r, buf, sizeof buf, &n));
    CHECK(n == 3 && memcmp(buf, "hel", 3) == 0);
    n = 99;
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_ERR_WOULD_BLOCK);
    CHECK(n == 0);
    CHECK(hc_response_want(r) == HC_WANT_READ);
    CHECK_RC(hc_response_read(r, buf, sizeof buf, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(send_text(srv, "lo"));
    CHECK(wait_fd(hc_response_fileno(r), hc_response_want(r)));
    CHECK_OK(hc_response_read(r, buf, sizeof buf, &n));
    CHECK(n == 2 && memcmp(buf, "lo", 2) == 0);
    CHECK(hc_response_want(r) == 0);
    CHECK_OK(hc_response_read(r, buf, sizeof buf, &n));
    CHECK(n == 0);
    CHECK(hc_response_fileno(r) == -1); /* the body ended */
    hc_response_free(r);
    r = NULL;

    /* readline keeps a partial line inside; another buffer is refused. */
    CHECK_OK(hc_request(c, "GET", "/b", NULL, 0, NULL, 0));
    CHECK(read_head(srv, head, sizeof head) == 0);
    CHECK(send_text(srv, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nab"));
    CHECK_OK(getresponse_polled(c, &r));
    uint8_t line[32], other[32];
    while ((rc = hc_response_readline(r, line, sizeof line, &n)) == HC_ERR_WOULD_BLOCK &&
           hc_response_bytes_read(r) < 2)
        CHECK(wait_fd(hc_response_fileno(r), hc_response_want(r)));
    CHECK_RC(rc, HC_ERR_WOULD_BLOCK);
    CHECK(n == 0);
    CHECK_RC(hc_response_readline(r, other, sizeof other, &n), HC_ERR_IMPROPER_CONNECTION_STATE);
    hc_last_error_message(msg, sizeof msg);
    CHECK_MSG(strstr(msg, "same buffer") != NULL, "message: %s", msg);
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_ERR_IMPROPER_CONNECTION_STATE);
    /* The connection's calls too, while the readline holds "ab"; its getters stay open. */
    CHECK_RC(hc_connection_set_timeout(c, 1), HC_ERR_IMPROPER_CONNECTION_STATE);
    hc_last_error_message(msg, sizeof msg);
    CHECK_MSG(strstr(msg, "set_timeout called while a response's readline that returned "
                          "WouldBlock holds the bytes it read") != NULL,
              "message: %s", msg);
    CHECK_RC(hc_request(c, "GET", "/x", NULL, 0, NULL, 0), HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK(hc_connection_fileno(c) == hc_response_fileno(r));
    CHECK(hc_connection_timeout_ms(c) == -1);
    CHECK(send_text(srv, "c\nrest"));
    while ((rc = hc_response_readline(r, line, sizeof line, &n)) == HC_ERR_WOULD_BLOCK)
        CHECK(wait_fd(hc_response_fileno(r), hc_response_want(r)));
    CHECK_OK(rc);
    CHECK(n == 4 && memcmp(line, "abc\n", 4) == 0);
    CHECK_OK(hc_connection_set_debuglevel(c, 0)); /* the repeat ended the hold */
    uint8_t *all = NULL;
    size_t all_len = 0;
    while ((rc = hc_response_read_all(r, &all, &all_len)) == HC_ERR_WOULD_BLOCK)
        CHECK(wait_fd(hc_response_fileno(r), hc_response_want(r)));
    CHECK_OK(rc);
    CHECK(all_len == 4 && memcmp(all, "rest", 4) == 0);
    hc_buffer_free(all, all_len);
    hc_response_free(r);
    r = NULL;

    /* 100-continue with a deadline: the wait is a time limit reported by timeout_ms; a
       repeat with another body is refused; 100 Continue lets the body go. */
    CHECK_OK(hc_connection_set_continue_timeout(c, 30));
    CHECK_OK(hc_connection_set_deadline(c, 60));
    static const char body[] = "0123456789";
    static const char body2[] = "0123456789";
    hc_header expect[] = {{"Expect", "100-continue"}};
    CHECK_RC(hc_request(c, "PUT", "/c", (const uint8_t *)body, 10, expect, 1),
             HC_ERR_WOULD_BLOCK);
    CHECK(hc_connection_want(c) == HC_WANT_READ);
    int64_t ms = hc_connection_timeout_ms(c);
    CHECK_MSG(ms > 0 && ms <= 30000, "timeout_ms %lld", (long long)ms);
    CHECK_RC(hc_request(c, "PUT", "/c", (const uint8_t *)body2, 10, expect, 1),
             HC_ERR_IMPROPER_CONNECTION_STATE);
    hc_last_error_message(msg, sizeof msg);
    CHECK_MSG(strstr(msg, "repeat that request with the same arguments") != NULL, "message: %s",
              msg);
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_IMPROPER_CONNECTION_STATE);
    /* The setters too: nothing the unfinished request goes on with may change under it. */
    CHECK_RC(hc_connection_set_continue_timeout(c, 0), HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK_RC(hc_connection_set_deadline(c, 1), HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK_RC(hc_connection_set_timeout(c, 1), HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK_RC(hc_connection_set_strict(c, false), HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK_RC(hc_connection_set_debuglevel(c, 1), HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK_RC(hc_connection_set_blocksize(c, 4096), HC_ERR_IMPROPER_CONNECTION_STATE);
    hc_last_error_message(msg, sizeof msg);
    CHECK_MSG(strstr(msg, "set_blocksize called while a request that returned WouldBlock") !=
                  NULL,
              "message: %s", msg);
    CHECK(read_head(srv, head, sizeof head) == 0);
    CHECK(strstr(head, "Expect: 100-continue\r\n") != NULL);
    CHECK(send_text(srv, "HTTP/1.1 100 Continue\r\n\r\n"));
    while ((rc = hc_request(c, "PUT", "/c", (const uint8_t *)body, 10, expect, 1)) ==
           HC_ERR_WOULD_BLOCK)
        CHECK(wait_fd(hc_connection_fileno(c), hc_connection_want(c)));
    CHECK_OK(rc);
    char got[16] = "";
    size_t have = 0;
    while (have < 10) {
        ssize_t k = hc_sock_read(srv, got + have, 10 - have);
        if (k <= 0) break;
        have += (size_t)k;
    }
    CHECK(have == 10 && memcmp(got, body, 10) == 0);
    /* The request is out; its deadline still counts. */
    ms = hc_connection_timeout_ms(c);
    CHECK_MSG(ms > 0 && ms <= 60000, "timeout_ms %lld", (long long)ms);
    CHECK(send_text(srv, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
    CHECK_OK(getresponse_polled(c, &r));
    CHECK(hc_response_status(r) == 201);
    CHECK(hc_response_fileno(r) == -1); /* no body */
    hc_response_free(r);
    r = NULL;
    CHECK(hc_connection_timeout_ms(c) == -1);

    /* hc_request_fd: a 2 MiB file to a server that reads only between the repeats; the file
       is read as the socket takes bytes, and every byte arrives once. */
    {
        enum { SIZE = 2 << 20 };
        static uint8_t data[SIZE];
        for (size_t i = 0; i < SIZE; i++) data[i] = (uint8_t)(i % 251);
        int tfd = hc_temp_fd();
        CHECK(tfd >= 0 && hc_fd_write(tfd, data, SIZE) == SIZE);
        CHECK(hc_fd_seek(tfd, 0, SEEK_SET) == 0);
        static uint8_t recvd[SIZE + 4096];
        /* A small send buffer (no autotuning): the file can't all fit in the kernel at once. */
        int small = 32 * 1024;
        CHECK(setsockopt(hc_connection_fileno(c), SOL_SOCKET, SO_SNDBUF, (const char *)&small,
                         sizeof small) == 0);
        size_t have_all = 0;
        int blocks = 0;
        while ((rc = hc_request_fd(c, "PUT", "/f", tfd, NULL, 0)) == HC_ERR_WOULD_BLOCK) {
            blocks++;
            CHECK(hc_connection_want(c) == HC_WANT_WRITE);
            /* The server reads what is there, then the client goes on. */
            struct pollfd sp = {srv, POLLIN, 0};
            while (have_all < sizeof recvd && poll(&sp, 1, 0) == 1) {
                ssize_t k = hc_sock_read(srv, recvd + have_all, sizeof recvd - have_all);
                if (k <= 0) break;
                have_all += (size_t)k;
            }
            CHECK(wait_fd(hc_connection_fileno(c), hc_connection_want(c)));
        }
        CHECK_OK(rc);
        CHECK_MSG(blocks > 0, "hc_request_fd never returned WOULD_BLOCK");
        size_t head_len = 0;
        for (;;) {
            for (size_t i = 3; i < have_all && head_len == 0; i++)
                if (memcmp(recvd + i - 3, "\r\n\r\n", 4) == 0) head_len = i + 1;
            if (head_len && have_all >= head_len + SIZE) break;
            ssize_t k = hc_sock_read(srv, recvd + have_all, sizeof recvd - have_all);
            if (k <= 0) break;
            have_all += (size_t)k;
        }
        CHECK(head_len > 0 && strncmp((char *)recvd, "PUT /f HTTP/1.1\r\n", 17) == 0);
        CHECK(have_all == head_len + SIZE);
        CHECK(memcmp(recvd + head_len, data, SIZE) == 0);
        hc_fd_close(tfd);
        CHECK(send_text(srv, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        CHECK_OK(getresponse_polled(c, &r));
        CHECK(hc_response_status(r) == 200);
        hc_response_free(r);
        r = NULL;
    }

    /* Back to blocking mode: the same connection, calls that wait. */
    CHECK_OK(hc_connection_set_blocking(c, true));
    CHECK_OK(hc_request(c, "GET", "/d", NULL, 0, NULL, 0));
    CHECK(read_head(srv, head, sizeof head) == 0);
    CHECK(send_text(srv, "HTTP/1.1 204 No Content\r\n\r\n"));
    CHECK_OK(hc_getresponse(c, &r));
    CHECK(hc_response_status(r) == 204);
    hc_response_free(r);

    hc_connection_free(c);
    hc_sock_close(srv);
    hc_sock_close(lsn);
    return hc_check_done();
}
