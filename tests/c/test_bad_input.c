/* Bad input from the caller: every exported function of httpclient.h
 * called with NULL for each pointer, empty strings, 1 MiB strings, invalid UTF-8, ports out
 * of range, calls in the wrong order, a response used after its connection was freed, and
 * reads past the end of a body. Each must return its documented code (docs/bad-input.md
 * has the table) and never crash. A small HTTP server in threads of this test (one per
 * connection, so it runs on Windows too) answers the requests that need one. Prints
 * "N passed, 0 failed". */
/* hc-requires: hc_connection_set_deadline */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* sockets, nanosleep under -std=c99 */
#endif
#include <limits.h>
#include <pthread.h>
#include <signal.h>

#include "hc_check.h"

/* ----- a tiny HTTP/1.1 server in threads ----- */

static const char OK_REPLY[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello";
static const char SHORT_REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";

struct conn {
    int fd;
    char rbuf[65536];
    size_t rpos, rend;
};

/* The next byte from the connection, buffered; -1 at the end. */
static int next_byte(struct conn *k) {
    if (k->rpos == k->rend) {
        ssize_t n = hc_sock_read(k->fd, k->rbuf, sizeof k->rbuf);
        if (n <= 0) return -1;
        k->rpos = 0;
        k->rend = (size_t)n;
    }
    return (unsigned char)k->rbuf[k->rpos++];
}

/* Serves one connection: for each request (head up to the empty line, then a Content-Length
 * body skipped), OK_REPLY, or SHORT_REPLY and a close for the path /short. */
static void serve_requests(struct conn *k) {
    int c = k->fd;
    for (;;) {
        char head[8192];
        size_t hl = 0;
        char last[4] = {0, 0, 0, 0};
        for (;;) {
            int b = next_byte(k);
            if (b < 0) return;
            char ch = (char)b;
            if (hl < sizeof head - 1) head[hl++] = ch;
            memmove(last, last + 1, 3);
            last[3] = ch;
            if (memcmp(last, "\r\n\r\n", 4) == 0) break;
        }
        head[hl] = 0;
        for (char *p = head; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        char *cl = strstr(head, "\ncontent-length:");
        long body = cl ? strtol(cl + 16, NULL, 10) : 0;
        for (long i = 0; i < body; i++)
            if (next_byte(k) < 0) return;
        if (strstr(head, " /short ")) {
            (void)hc_sock_write(c, SHORT_REPLY, sizeof SHORT_REPLY - 1);
            return;
        }
        if (hc_sock_write(c, OK_REPLY, sizeof OK_REPLY - 1) < 0) return;
    }
}

static void *serve_conn(void *arg) {
    struct conn *k = arg;
    serve_requests(k);
    hc_sock_close(k->fd);
    free(k);
    return NULL;
}

/* Accepts connections for the life of the process, each served by its own thread. */
static void *accept_loop(void *arg) {
    int lfd = *(int *)arg;
    for (;;) {
        int c = (int)accept(lfd, NULL, NULL);
        if (c < 0) continue;
        struct conn *k = calloc(1, sizeof *k);
        pthread_t t;
        if (k == NULL) {
            hc_sock_close(c);
            continue;
        }
        k->fd = c;
        if (pthread_create(&t, NULL, serve_conn, k) != 0) {
            hc_sock_close(c);
            free(k);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

static int listen_fd;

/* Starts the server; it runs until the process exits. */
static int start_server(void) {
    uint16_t port;
    pthread_t t;
    listen_fd = hc_listen_loopback(&port);
    if (pthread_create(&t, NULL, accept_loop, &listen_fd) != 0) {
        perror("pthread_create");
        exit(2);
    }
    pthread_detach(t);
    return port;
}

static int port;

static hc_connection *new_conn(void) {
    hc_connection *c = NULL;
    if (hc_connection_new("127.0.0.1", (uint16_t)port, &c) != HC_OK) {
        fprintf(stderr, "hc_connection_new failed\n");
        exit(2);
    }
    hc_connection_set_timeout(c, 10.0);
    return c;
}

static hc_connection *new_https(void) {
    hc_connection *c = NULL;
    if (hc_https_connection_new("127.0.0.1", (uint16_t)port, &c) != HC_OK) {
        fprintf(stderr, "hc_https_connection_new failed\n");
        exit(2);
    }
    return c;
}

/* GET path; returns the response (NULL on failure). */
static hc_response *get(hc_connection *c, const char *path) {
    hc_response *r = NULL;
    return hc_test_get(c, path, &r) == HC_OK ? r : NULL;
}

static int body_is(hc_response *r, const char *want) {
    uint8_t *b = NULL;
    size_t n = 0;
    if (hc_response_read_all(r, &b, &n) != HC_OK) return 0;
    int ok = n == strlen(want) && memcmp(b, want, n) == 0;
    hc_buffer_free(b, n);
    return ok;
}

static char *big; /* 1 MiB of 'a' */

static void null_pointers(void) {
    hc_connection *c = NULL;
    CHECK_RC(hc_connection_new(NULL, 80, &c), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_new("127.0.0.1", 80, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_https_connection_new(NULL, 443, &c), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_https_connection_new("127.0.0.1", 443, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(c == NULL); /* untouched on failure */
    hc_connection_free(NULL);

    CHECK_RC(hc_connection_set_timeout(NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_connect_timeout(NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_deadline(NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_strict(NULL, true), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_debuglevel(NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_debug_callback(NULL, NULL, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_ca_file(NULL, "x"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_ca_path(NULL, "x"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_client_cert(NULL, "x", "y"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_verify(NULL, true), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_source_address(NULL, "127.0.0.1", 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_connect(NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_close(NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_fileno(NULL) == -1);
    CHECK_RC(hc_connection_set_blocking(NULL, false), HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_want(NULL) == -1);
    CHECK(hc_connection_timeout_ms(NULL) == -1);

    hc_connection *s = new_https();
    CHECK_RC(hc_connection_set_ca_file(s, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_ca_path(s, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_client_cert(s, NULL, "k"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_client_cert(s, "c", NULL), HC_ERR_INVALID_ARGUMENT);
    hc_connection_free(s);

    c = new_conn();
    /* NULL callback and NULL ip are documented as "remove the setting". */
    CHECK_RC(hc_connection_set_debug_callback(c, NULL, NULL), HC_OK);
    CHECK_RC(hc_connection_set_source_address(c, NULL, 0), HC_OK);

    hc_header h_null_name[1] = {{NULL, "v"}};
    hc_header h_null_value[1] = {{"X-A", NULL}};
    CHECK_RC(hc_request(NULL, "GET", "/", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, NULL, "/", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "GET", NULL, NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "POST", "/", NULL, 5, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, h_null_name, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, h_null_value, 1), HC_ERR_INVALID_ARGUMENT);

    CHECK_RC(hc_request_fd(NULL, "PUT", "/", 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request_fd(c, NULL, "/", 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request_fd(c, "PUT", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request_fd(c, "PUT", "/", -1, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request_fd(c, "PUT", "/", 0, NULL, 1), HC_ERR_INVALID_ARGUMENT);

    CHECK_RC(hc_putrequest(NULL, "GET", "/", 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putrequest(c, NULL, "/", 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putrequest(c, "GET", NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(NULL, "X-A", "v"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putrequest(c, "POST", "/", 0), HC_OK);
    CHECK_RC(hc_putheader(c, NULL, "v"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(c, "X-A", NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_endheaders(NULL, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_endheaders(c, NULL, 3), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_send(NULL, (const uint8_t *)"x", 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_send(c, NULL, 3), HC_ERR_INVALID_ARGUMENT);
    /* The refused calls left the request being built intact: finish it. */
    CHECK_RC(hc_putheader(c, "Content-Length", "2"), HC_OK);
    CHECK_RC(hc_endheaders(c, (const uint8_t *)"hi", 2), HC_OK);
    hc_response *r = NULL;
    CHECK_RC(hc_getresponse(NULL, &r), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_getresponse(c, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(r != NULL);

    /* Responses. */
    CHECK(hc_response_status(NULL) == -1);
    CHECK(hc_response_reason(NULL) == NULL);
    CHECK(hc_response_version(NULL) == -1);
    uint8_t buf[16];
    size_t n = 77;
    CHECK_RC(hc_response_read(NULL, buf, sizeof buf, &n), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_read(r, NULL, 5, &n), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_read(r, buf, sizeof buf, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(n == 77);
    uint8_t *all = NULL;
    size_t all_len = 0;
    CHECK_RC(hc_response_read_all(NULL, &all, &all_len), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_read_all(r, NULL, &all_len), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_read_all(r, &all, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(all == NULL);
    hc_buffer_free(NULL, 0);
    hc_buffer_free(NULL, 12345);
    CHECK(hc_response_getheader(NULL, "x-test") == NULL);
    CHECK(hc_response_getheader(r, NULL) == NULL);
    CHECK(hc_response_header_count(NULL) == 0);
    const char *hn = NULL, *hv = NULL;
    CHECK_RC(hc_response_header(NULL, 0, &hn, &hv), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_header(r, 0, NULL, &hv), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_header(r, 0, &hn, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(hn == NULL && hv == NULL);
    CHECK(hc_response_length(NULL) == -1);
    CHECK(hc_response_isclosed(NULL));
    CHECK(hc_response_want(NULL) == -1);
    CHECK(hc_response_fileno(NULL) == -1);
    hc_response_free(NULL);
    /* The refused calls changed nothing: the body is all there. */
    CHECK(body_is(r, "hello"));
    hc_response_free(r);

    /* Getters that take no handle. */
    CHECK(hc_version() != NULL);
    char m[8] = "xxxxxxx";
    size_t full = hc_last_error_message(NULL, 100);
    CHECK(full > 0);
    CHECK(hc_last_error_message(m, 0) == full && m[0] == 'x');
    CHECK(hc_last_error_message(m, sizeof m) == full && strlen(m) == sizeof m - 1);
    hc_connection_free(c);
}

static void empty_strings(void) {
    hc_connection *c = NULL;
    CHECK_RC(hc_connection_new("", 80, &c), HC_ERR_INVALID_URL);
    CHECK_RC(hc_https_connection_new("", 443, &c), HC_ERR_INVALID_URL);
    CHECK_RC(hc_connection_new(":8080", 0, &c), HC_ERR_INVALID_URL);
    CHECK_RC(hc_connection_new("[]", 0, &c), HC_ERR_INVALID_URL);
    CHECK(c == NULL);

    hc_connection *s = new_https();
    CHECK_RC(hc_connection_set_ca_file(s, ""), HC_ERR_OS);
    CHECK_RC(hc_connection_set_ca_path(s, ""), HC_ERR_OS);
    CHECK_RC(hc_connection_set_client_cert(s, "", ""), HC_ERR_OS);
    hc_connection_free(s);

    c = new_conn();
    CHECK_RC(hc_connection_set_source_address(c, "", 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "", "/", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    hc_header h_empty_name[1] = {{"", "v"}};
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, h_empty_name, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putrequest(c, "", "/", 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request_fd(c, "", "/", 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    /* An empty URL is "/", as in httplib; an empty header value is a valid value. */
    CHECK_RC(hc_putrequest(c, "GET", "", 0), HC_OK);
    CHECK_RC(hc_putheader(c, "", "v"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(c, "X-Empty", ""), HC_OK);
    CHECK_RC(hc_endheaders(c, (const uint8_t *)"", 0), HC_OK);
    CHECK_RC(hc_send(c, (const uint8_t *)"", 0), HC_OK);
    hc_response *r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(hc_response_getheader(r, "") == NULL);
    CHECK(body_is(r, "hello"));
    hc_response_free(r);
    CHECK(hc_status_reason(0) == NULL);
    CHECK(strcmp(hc_error_name(HC_OK), "OK") == 0);
    hc_connection_free(c);
}

static void one_mib_strings(void) {
    hc_connection *c = NULL;
    /* No I/O at creation: a 1 MiB host is only a long name. */
    CHECK_RC(hc_connection_new(big, 80, &c), HC_OK);
    hc_connection_free(c);
    c = NULL;

    hc_connection *s = new_https();
    CHECK_RC(hc_connection_set_ca_file(s, big), HC_ERR_OS); /* ENAMETOOLONG */
    CHECK_RC(hc_connection_set_ca_path(s, big), HC_ERR_OS);
    CHECK_RC(hc_connection_set_client_cert(s, big, big), HC_ERR_OS);
    hc_connection_free(s);

    c = new_conn();
    CHECK_RC(hc_connection_set_source_address(c, big, 0), HC_ERR_INVALID_ARGUMENT);
    /* A 1 MiB URL, method, header value and body all go out and get their answer. */
    char *url = malloc((1u << 20) + 2);
    url[0] = '/';
    memcpy(url + 1, big, (1u << 20) + 1);
    hc_response *r = get(c, url);
    CHECK(r != NULL && body_is(r, "hello"));
    hc_response_free(r);

    CHECK_RC(hc_request(c, big, "/", NULL, 0, NULL, 0), HC_OK);
    r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(r != NULL && body_is(r, "hello"));
    hc_response_free(r);

    hc_header h_big[1] = {{"X-Big", big}};
    CHECK_RC(hc_request(c, "POST", url, (const uint8_t *)big, 1u << 20, h_big, 1), HC_OK);
    r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(r != NULL && body_is(r, "hello"));
    CHECK(hc_response_getheader(r, big) == NULL);
    hc_response_free(r);

    CHECK_RC(hc_putrequest(c, "GET", url, 0), HC_OK);
    CHECK_RC(hc_putheader(c, big, big), HC_OK);
    CHECK_RC(hc_endheaders(c, NULL, 0), HC_OK);
    r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(r != NULL && body_is(r, "hello"));
    hc_response_free(r);
    free(url);
    hc_connection_free(c);
}

static void invalid_utf8(void) {
    hc_connection *c = NULL;
    CHECK_RC(hc_connection_new("\xff\xfe", 80, &c), HC_ERR_INVALID_URL);
    CHECK_RC(hc_https_connection_new("h\xc3", 443, &c), HC_ERR_INVALID_URL);
    CHECK(c == NULL);
    /* An internationalised name is taken (as its IDNA A-label); one that fails IDNA
     * processing is not. */
    CHECK_RC(hc_connection_new("-b\xc3\xbc" "cher.example", 80, &c), HC_ERR_INVALID_URL);
    CHECK_RC(hc_https_connection_new("b\xc3\xbc_cher.example", 443, &c), HC_ERR_INVALID_URL);
    CHECK(c == NULL);
    CHECK_RC(hc_https_connection_new("b\xc3\xbc" "cher.example", 0, &c), HC_OK);
    hc_connection_free(c);
    c = NULL;

    hc_connection *s = new_https();
    /* Paths are strings of the contract: UTF-8. */
    CHECK_RC(hc_connection_set_ca_file(s, "/nonexistent/\xff"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_ca_path(s, "/nonexistent/\xff"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_client_cert(s, "/nonexistent/\xff", "/nonexistent/\xfe"),
             HC_ERR_INVALID_ARGUMENT);
    hc_connection_free(s);

    c = new_conn();
    CHECK_RC(hc_connection_set_source_address(c, "127.0.0.\xff", 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "G\xc3T", "/", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    hc_header h_bad_name[1] = {{"X-\xff", "v"}};
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, h_bad_name, 1), HC_ERR_INVALID_ARGUMENT);
    /* A request line is ASCII: a URL holding bytes 0x80-0xFF is refused with nothing sent
     * (the caller percent-encodes them). A header value may hold them: it is sent as is. */
    CHECK_RC(hc_request(c, "GET", "/\xff\xfe", NULL, 0, NULL, 0), HC_ERR_INVALID_URL);
    CHECK_RC(hc_request(c, "GET", "/caf\xc3\xa9", NULL, 0, NULL, 0), HC_ERR_INVALID_URL);
    CHECK_RC(hc_putrequest(c, "GET", "/caf\xc3\xa9", 0), HC_ERR_INVALID_URL);
    hc_header h_bin_value[1] = {{"X-Bin", "\xff\xfe"}};
    CHECK_RC(hc_request(c, "GET", "/caf%C3%A9", NULL, 0, h_bin_value, 1), HC_OK);
    hc_response *r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(hc_response_getheader(r, "x-\xff") == NULL);
    CHECK(body_is(r, "hello"));
    hc_response_free(r);
    CHECK_RC(hc_putrequest(c, "GET", "/", 0), HC_OK);
    CHECK_RC(hc_putheader(c, "\xc3\xa9", "v"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(c, "X-Ok", "caf\xc3\xa9 \xff"), HC_OK);
    CHECK_RC(hc_endheaders(c, NULL, 0), HC_OK);
    r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(body_is(r, "hello"));
    hc_response_free(r);
    hc_connection_free(c);
}

static void ports_out_of_range(void) {
    const char *bad[] = {"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999999999",
                         "127.0.0.1:-1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:+80",
                         "[::1]:65536", "[::1]:", "[::1]x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hc_connection *c = NULL;
        CHECK_RC(hc_connection_new(bad[i], 0, &c), HC_ERR_INVALID_URL);
        CHECK_RC(hc_https_connection_new(bad[i], 0, &c), HC_ERR_INVALID_URL);
        CHECK(c == NULL);
    }
    /* port 0 with no port in the host: the scheme's default; 65535 is a port. */
    hc_connection *c = NULL;
    CHECK_RC(hc_connection_new("127.0.0.1", 0, &c), HC_OK);
    hc_connection_free(c);
    c = NULL;
    CHECK_RC(hc_connection_new("127.0.0.1:65535", 0, &c), HC_OK);
    hc_connection_free(c);
    c = NULL;
    /* Leading zeros are digits (as in CPython), up to 10 digits; the range still holds. */
    CHECK_RC(hc_connection_new("127.0.0.1:065535", 0, &c), HC_OK);
    hc_connection_free(c);
    c = NULL;
    CHECK_RC(hc_connection_new("[::1]:0000000080", 0, &c), HC_OK);
    hc_connection_free(c);
    c = NULL;
    CHECK_RC(hc_connection_new("127.0.0.1:00000000080", 0, &c), HC_ERR_INVALID_URL);
    CHECK_RC(hc_connection_new("127.0.0.1:0065536", 0, &c), HC_ERR_INVALID_URL);
    CHECK_RC(hc_connection_new("127.0.0.1:0000", 0, &c), HC_ERR_INVALID_URL);
    CHECK(c == NULL);
    CHECK_RC(hc_connection_new("127.0.0.1", 65535, &c), HC_OK);
    CHECK_RC(hc_connection_set_source_address(c, "127.0.0.1", 65535), HC_OK);
    CHECK_RC(hc_connection_set_source_address(c, "127.0.0.1:80", 0), HC_ERR_INVALID_ARGUMENT);
    hc_connection_free(c);
    /* Codes out of range for the code functions. */
    CHECK(hc_status_reason(-1) == NULL);
    CHECK(hc_status_reason(99) == NULL);
    CHECK(hc_status_reason(1000) == NULL);
    CHECK(hc_status_reason(INT_MIN) == NULL);
    CHECK(hc_status_reason(INT_MAX) == NULL);
    CHECK(strcmp(hc_error_name(-1), "Unknown") == 0);
    CHECK(strcmp(hc_error_name(INT_MAX), "Unknown") == 0);
    CHECK(strcmp(hc_strerror(INT_MIN), "unknown error code") == 0);
    CHECK(hc_error_parent(-1) == HC_OK);
    CHECK(hc_error_parent(INT_MAX) == HC_OK);
    CHECK(!hc_error_is(-1, HC_ERR_HTTP_EXCEPTION));
    CHECK(hc_error_is(-1, -1));
    CHECK(!hc_error_is(HC_ERR_TIMEOUT, -1));
    /* Bad numbers for the time options. */
    c = new_conn();
    CHECK_RC(hc_connection_set_timeout(c, 0.0 / 0.0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_timeout(c, 1e300), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_connect_timeout(c, 0.0 / 0.0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_deadline(c, 1e300), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_timeout(c, -1.0), HC_OK);
    CHECK_RC(hc_connection_set_debuglevel(c, INT_MIN), HC_OK);
    CHECK_RC(hc_connection_set_debuglevel(c, 0), HC_OK);
    hc_connection_free(c);
}

static void wrong_order(void) {
    hc_connection *c = new_conn();
    hc_response *r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_RESPONSE_NOT_READY);
    CHECK_RC(hc_putheader(c, "X-A", "v"), HC_ERR_CANNOT_SEND_HEADER);
    CHECK_RC(hc_endheaders(c, NULL, 0), HC_ERR_CANNOT_SEND_HEADER);
    CHECK(hc_connection_fileno(c) == -1);
    CHECK_RC(hc_connection_close(c), HC_OK);
    CHECK_RC(hc_connection_close(c), HC_OK);

    /* Building a request. */
    CHECK_RC(hc_putrequest(c, "GET", "/", 0), HC_OK);
    CHECK_RC(hc_putrequest(c, "GET", "/", 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_RC(hc_request_fd(c, "PUT", "/", 0, NULL, 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_RC(hc_send(c, (const uint8_t *)"x", 1), HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_RESPONSE_NOT_READY);
    CHECK_RC(hc_endheaders(c, NULL, 0), HC_OK);

    /* Sent, response not got yet. */
    CHECK_RC(hc_putrequest(c, "GET", "/", 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_RC(hc_putheader(c, "X-A", "v"), HC_ERR_CANNOT_SEND_HEADER);
    CHECK_RC(hc_endheaders(c, NULL, 0), HC_ERR_CANNOT_SEND_HEADER);
    CHECK(hc_connection_fileno(c) >= 0);
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    hc_response *r1 = r;

    /* Got; the next request may go out before r1 is read, but its response waits. */
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_RESPONSE_NOT_READY);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 0), HC_OK);
    r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_RESPONSE_NOT_READY);
    CHECK(r == NULL);
    CHECK(body_is(r1, "hello"));
    CHECK_RC(hc_getresponse(c, &r), HC_OK);
    CHECK(body_is(r, "hello"));
    hc_response_free(r);
    hc_response_free(r1);

    /* HTTPS-only options on an HTTP connection. */
    CHECK_RC(hc_connection_set_ca_file(c, "/etc/hosts"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_ca_path(c, "/etc"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_client_cert(c, "/etc/hosts", "/etc/hosts"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_verify(c, false), HC_ERR_INVALID_ARGUMENT);

    /* Closing the connection under a request sent: nothing to get. */
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 0), HC_OK);
    CHECK_RC(hc_connection_close(c), HC_OK);
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_RESPONSE_NOT_READY);

    /* Closing the connection under a response being read. */
    r = get(c, "/");
    CHECK(r != NULL);
    CHECK_RC(hc_connection_close(c), HC_OK);
    uint8_t buf[8];
    size_t n = 99;
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_ERR_NOT_CONNECTED);
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_ERR_NOT_CONNECTED);
    CHECK(hc_response_isclosed(r));
    hc_response_free(r);

    /* The connection still works after all that. */
    r = get(c, "/");
    CHECK(r != NULL && body_is(r, "hello"));
    hc_response_free(r);
    hc_connection_free(c);
}

static void response_after_connection_freed(void) {
    hc_connection *c = new_conn();
    hc_response *r = get(c, "/");
    CHECK(r != NULL);
    hc_connection_free(c);
    CHECK(hc_response_status(r) == 200);
    CHECK(strcmp(hc_response_reason(r), "OK") == 0);
    CHECK(hc_response_version(r) == 11);
    CHECK(hc_response_header_count(r) == 2);
    CHECK(strcmp(hc_response_getheader(r, "x-test"), "yes") == 0);
    CHECK(hc_response_length(r) == 5);
    CHECK(!hc_response_isclosed(r));
    CHECK(hc_response_fileno(r) >= 0); /* the response keeps the socket */
    uint8_t buf[3];
    size_t n = 0;
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_OK);
    CHECK(n == 3 && memcmp(buf, "hel", 3) == 0);
    CHECK(body_is(r, "lo"));
    CHECK(hc_response_isclosed(r));
    CHECK(hc_response_fileno(r) == -1);
    CHECK(hc_response_want(r) == 0);
    hc_response_free(r);

    /* Freed before any read, and freed before the connection. */
    c = new_conn();
    r = get(c, "/");
    CHECK(r != NULL);
    hc_response_free(r);
    r = get(c, "/"); /* reopens: the freed response closed the connection */
    CHECK(r != NULL && body_is(r, "hello"));
    hc_connection_free(c);
    hc_response_free(r);
}

static void reads_past_the_end(void) {
    hc_connection *c = new_conn();
    hc_response *r = get(c, "/");
    CHECK(r != NULL);
    uint8_t buf[64];
    size_t n = 99;
    CHECK_RC(hc_response_read(r, buf, 0, &n), HC_OK); /* cap 0 reads nothing */
    CHECK(n == 0);
    CHECK_RC(hc_response_read(r, NULL, 0, &n), HC_OK);
    CHECK(n == 0);
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_OK);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    for (int i = 0; i < 3; i++) {
        n = 99;
        CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_OK);
        CHECK(n == 0);
    }
    uint8_t *all = NULL;
    size_t len = 99;
    CHECK_RC(hc_response_read_all(r, &all, &len), HC_OK);
    CHECK(all != NULL && len == 0 && all[0] == 0);
    hc_buffer_free(all, len);
    CHECK(hc_response_length(r) == 0);
    CHECK(hc_response_isclosed(r));
    const char *hn = NULL, *hv = NULL;
    CHECK_RC(hc_response_header(r, 2, &hn, &hv), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_header(r, (size_t)-1, &hn, &hv), HC_ERR_INVALID_ARGUMENT);
    CHECK(hn == NULL && hv == NULL);
    CHECK_RC(hc_response_header(r, 1, &hn, &hv), HC_OK);
    CHECK(strcmp(hn, "X-Test") == 0 && strcmp(hv, "yes") == 0);
    hc_response_free(r);

    /* A body cut short: the error, then the same error on every later read. */
    r = get(c, "/short");
    CHECK(r != NULL);
    n = 0;
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_ERR_INCOMPLETE_READ);
    CHECK(n == 3 && memcmp(buf, "abc", 3) == 0);
    n = 99;
    CHECK_RC(hc_response_read(r, buf, sizeof buf, &n), HC_ERR_INCOMPLETE_READ);
    CHECK(n == 0);
    all = NULL;
    CHECK_RC(hc_response_read_all(r, &all, &len), HC_ERR_INCOMPLETE_READ);
    CHECK(all != NULL && len == 0);
    hc_buffer_free(all, len);
    hc_response_free(r);
    hc_connection_free(c);
}

int main(void) {
#ifdef SIGPIPE
    signal(SIGPIPE, SIG_IGN);
#endif
    port = start_server();
    big = malloc((1u << 20) + 1);
    memset(big, 'a', 1u << 20);
    big[1u << 20] = 0;

    null_pointers();
    empty_strings();
    one_mib_strings();
    invalid_utf8();
    ports_out_of_range();
    wrong_order();
    response_after_connection_freed();
    reads_past_the_end();

    free(big);
    return hc_check_done();
}
