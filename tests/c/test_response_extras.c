/*
 * Response extras: hc_response_readline, hc_response_bytes_read, hc_response_trailer_count,
 * hc_response_trailer and hc_response_gettrailer. The "server" is a listening socket of this
 * test that writes canned responses before they are read (one thread, loopback only).
 */
#define _POSIX_C_SOURCE 200809L
#include "hc_check.h"


static int lsn = -1;
static uint16_t port;

/* Sends a GET on a new connection, answers it with `reply`, returns the response. */
static hc_response *exchange(hc_connection **c, int *srv, const char *reply) {
    hc_response *r = NULL;
    *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", port, c) == HC_OK);
    hc_connection_set_timeout(*c, 10);
    CHECK(hc_request(*c, "GET", "/", NULL, 0, NULL, 0) == HC_OK);
    *srv = accept(lsn, NULL, NULL);
    CHECK(*srv >= 0);
    /* Read the request head, so that a close later is a clean FIN, not a reset. */
    char head[4096];
    size_t got = 0;
    while (got < 4 || memcmp(head + got - 4, "\r\n\r\n", 4) != 0) {
        if (got == sizeof head || hc_sock_read(*srv, head + got, 1) != 1) break;
        got++;
    }
    size_t len = strlen(reply);
    CHECK(hc_sock_write(*srv, reply, len) == (ssize_t)len);
    CHECK(hc_getresponse(*c, &r) == HC_OK);
    return r;
}

static int line_is(hc_response *r, size_t cap, const char *want) {
    uint8_t buf[256];
    size_t n = 12345;
    if (hc_response_readline(r, buf, cap, &n) != HC_OK) return 0;
    return n == strlen(want) && memcmp(buf, want, n) == 0;
}

static void test_readline_and_bytes_read(void) {
    hc_connection *c;
    int srv;
    hc_response *r = exchange(&c, &srv,
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "9\r\nevent: a\n\r\n8\r\ndata: 1\n\r\n7\r\n\nlong-l\r\n"
                              "5\r\nine\nx\r\n0\r\n\r\n");
    CHECK(hc_response_bytes_read(r) == 0);
    CHECK(line_is(r, 100, "event: a\n"));
    CHECK(hc_response_bytes_read(r) == 9);
    CHECK(line_is(r, 100, "data: 1\n"));
    CHECK(line_is(r, 100, "\n"));
    CHECK(line_is(r, 4, "long"));       /* the limit */
    CHECK(line_is(r, 100, "-line\n"));  /* across chunks */
    uint8_t one[4];
    size_t n = 0;
    CHECK(hc_response_read(r, one, sizeof one, &n) == HC_OK && n == 1 && one[0] == 'x');
    CHECK(line_is(r, 100, ""));         /* ended */
    CHECK(hc_response_isclosed(r));
    CHECK(hc_response_bytes_read(r) == 29);
    CHECK(hc_response_readline(r, NULL, 0, &n) == HC_OK && n == 0);
    CHECK(hc_response_readline(r, NULL, 5, &n) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_response_readline(r, one, 4, NULL) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_response_readline(NULL, one, 4, &n) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_response_bytes_read(NULL) == 0);
    CHECK(hc_response_trailer_count(r) == 0);
    hc_response_free(r);
    hc_connection_free(c);
    hc_sock_close(srv);
}

static void test_readline_cut_short(void) {
    hc_connection *c;
    int srv;
    hc_response *r = exchange(&c, &srv, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nab\ncd");
    hc_sock_close(srv);
    CHECK(line_is(r, 100, "ab\n"));
    uint8_t buf[100];
    size_t n = 99;
    CHECK(hc_response_readline(r, buf, sizeof buf, &n) == HC_ERR_INCOMPLETE_READ);
    CHECK(n == 2 && memcmp(buf, "cd", 2) == 0);
    CHECK(hc_response_bytes_read(r) == 5);
    hc_response_free(r);
    hc_connection_free(c);
}

static void test_trailers(void) {
    hc_connection *c;
    int srv;
    hc_response *r = exchange(&c, &srv,
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other: a b\r\n\r\n");
    const char *name = NULL, *value = NULL;
    uint8_t buf[16];
    size_t n;
    CHECK(hc_response_gettrailer(r, "X-Checksum") == NULL || hc_response_isclosed(r));
    do {
        CHECK(hc_response_read(r, buf, sizeof buf, &n) == HC_OK);
    } while (n > 0);
    CHECK(hc_response_trailer_count(r) == 2);
    CHECK(hc_response_trailer(r, 0, &name, &value) == HC_OK);
    CHECK(name && strcmp(name, "X-Checksum") == 0 && strcmp(value, "42") == 0);
    CHECK(hc_response_trailer(r, 1, &name, &value) == HC_OK);
    CHECK(name && strcmp(name, "X-Other") == 0 && strcmp(value, "a b") == 0);
    CHECK(hc_response_trailer(r, 2, &name, &value) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_response_trailer(r, 0, NULL, &value) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_response_trailer(NULL, 0, &name, &value) == HC_ERR_INVALID_ARGUMENT);
    const char *v = hc_response_gettrailer(r, "x-checksum");
    CHECK(v && strcmp(v, "42") == 0);
    CHECK(hc_response_gettrailer(r, "X-Missing") == NULL);
    CHECK(hc_response_gettrailer(r, NULL) == NULL);
    CHECK(hc_response_gettrailer(NULL, "X-Checksum") == NULL);
    CHECK(hc_response_getheader(r, "X-Checksum") == NULL); /* trailers are not headers */
    CHECK(hc_response_trailer_count(NULL) == 0);
    hc_response_free(r);
    hc_connection_free(c);
    hc_sock_close(srv);
}

/* A trailer section the server cuts by closing (docs/cut-responses.md): after a whole line
 * the body and the whole trailer lines are kept and the read ends with HC_OK; inside a line it
 * is HC_ERR_INCOMPLETE_READ, and hc_response_read_all still hands the body back. */
static void test_cut_trailers(void) {
    static const char *const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char reply[256];
    hc_connection *c;
    int srv;
    uint8_t *body = NULL;
    size_t len = 0;

    snprintf(reply, sizeof reply, "%s3\r\nabc\r\n0\r\n", chunked);
    hc_response *r = exchange(&c, &srv, reply);
    hc_sock_close(srv);
    CHECK(hc_response_read_all(r, &body, &len) == HC_OK);
    CHECK(body && len == 3 && memcmp(body, "abc", 3) == 0);
    CHECK(hc_response_trailer_count(r) == 0);
    hc_buffer_free(body, len);
    hc_response_free(r);
    hc_connection_free(c);

    /* The streaming path, with a whole trailer line before the close. */
    snprintf(reply, sizeof reply, "%s3\r\nabc\r\n0\r\nX-Sum: 1\r\n", chunked);
    r = exchange(&c, &srv, reply);
    hc_sock_close(srv);
    uint8_t buf[2];
    size_t n = 0, total = 0;
    hc_error rc;
    while ((rc = hc_response_read(r, buf, sizeof buf, &n)) == HC_OK && n > 0) total += n;
    CHECK_RC(rc, HC_OK);
    CHECK(total == 3);
    const char *v = hc_response_gettrailer(r, "X-Sum");
    CHECK(v && strcmp(v, "1") == 0);
    hc_response_free(r);
    hc_connection_free(c);

    snprintf(reply, sizeof reply, "%s3\r\nabc\r\n0\r\nX-Sum: 1", chunked);
    r = exchange(&c, &srv, reply);
    hc_sock_close(srv);
    body = NULL;
    CHECK_RC(hc_response_read_all(r, &body, &len), HC_ERR_INCOMPLETE_READ);
    CHECK(body && len == 3 && memcmp(body, "abc", 3) == 0);
    hc_buffer_free(body, len);
    hc_response_free(r);
    hc_connection_free(c);
}

int main(void) {
    lsn = hc_listen_loopback(&port);
    test_readline_and_bytes_read();
    test_readline_cut_short();
    test_trailers();
    test_cut_trailers();
    hc_sock_close(lsn);
    return hc_check_done();
}
