/*
 * Non-blocking mode against real servers (nginx over HTTP and HTTPS, a CONNECT tunnel through
 * tinyproxy when there is one): the same requests on a blocking and on a non-blocking
 * connection, the non-blocking one driven with poll() on hc_connection_fileno /
 * hc_response_fileno for what hc_connection_want / hc_response_want ask, and the statuses and
 * bodies compared byte for byte. Content-Length and chunked bodies, read with
 * hc_response_read (small and large buffers), hc_response_readline and hc_response_read_all,
 * several requests on each keep-alive connection. Also the getters on NULL and in blocking
 * mode. (The rules for bad arguments and a mismatched repeated call are tested with the
 * library's own scripted servers in tests/nonblocking.rs.)
 *
 * hc-requires: hc_connection_set_blocking hc_connection_want hc_response_want hc_response_fileno hc_connection_timeout_ms
 */
#define _POSIX_C_SOURCE 200809L
#include "hc_check.h"

#include <poll.h>
#include <time.h>

#define LIMIT_MS 60000 /* one fetch gives up after this */

enum how { READ_SMALL, READ_LARGE, READLINE, READ_ALL };

struct result {
    int status;
    int chunked;
    unsigned char *body;
    size_t len, cap;
};

static long would_blocks; /* HC_ERR_WOULD_BLOCK seen, all connections */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* After HC_ERR_WOULD_BLOCK: poll `fd` for `want`, no longer than hc_connection_timeout_ms
   allows. Returns 1 to repeat the call, 0 when the fetch's time is up. */
static int wait_ready(hc_connection *c, int fd, int want, int64_t give_up) {
    int64_t left = give_up - now_ms(), t = hc_connection_timeout_ms(c);
    struct pollfd p;
    would_blocks++;
    CHECK_MSG(want > 0 && want <= (HC_WANT_READ | HC_WANT_WRITE), "want %d after HC_ERR_WOULD_BLOCK", want);
    CHECK_MSG(fd >= 0, "descriptor %d after HC_ERR_WOULD_BLOCK", fd);
    if (left <= 0 || fd < 0 || want <= 0)
        return 0;
    if (t >= 0 && t < left)
        left = t;
    p.fd = fd;
    p.events = (short)((want & HC_WANT_READ ? POLLIN : 0) | (want & HC_WANT_WRITE ? POLLOUT : 0));
    p.revents = 0;
    poll(&p, 1, (int)left);
    return 1;
}

static int wait_conn(hc_connection *c, int64_t give_up) {
    return wait_ready(c, hc_connection_fileno(c), hc_connection_want(c), give_up);
}

static int wait_resp(hc_connection *c, hc_response *r, int64_t give_up) {
    CHECK_INT(hc_response_fileno(r), hc_connection_fileno(c));
    return wait_ready(c, hc_response_fileno(r), hc_response_want(r), give_up);
}

static void append(struct result *res, const void *p, size_t n) {
    if (res->len + n > res->cap) {
        res->cap = (res->len + n) * 2;
        res->body = realloc(res->body, res->cap);
        if (!res->body)
            abort();
    }
    memcpy(res->body + res->len, p, n);
    res->len += n;
}

/* GET `path` on `c` (blocking or not: in blocking mode no call returns HC_ERR_WOULD_BLOCK)
   and read the body `how`. */
static void fetch(hc_connection *c, const char *path, const hc_header *hdrs, size_t n_hdrs,
                  enum how how, struct result *res) {
    static uint8_t line[256]; /* readline's buffer: the same one for a repeated call */
    int64_t give_up = now_ms() + LIMIT_MS;
    hc_response *r = NULL;
    hc_error err;
    const char *te;
    memset(res, 0, sizeof *res);
    res->status = -1;
    while ((err = hc_request(c, "GET", path, NULL, 0, hdrs, n_hdrs)) == HC_ERR_WOULD_BLOCK &&
           wait_conn(c, give_up))
        ;
    CHECK_MSG(err == HC_OK, "hc_request %s: %s", path, hc_error_name(err));
    if (err != HC_OK)
        return;
    while ((err = hc_getresponse(c, &r)) == HC_ERR_WOULD_BLOCK && wait_conn(c, give_up))
        ;
    CHECK_MSG(err == HC_OK, "hc_getresponse %s: %s", path, hc_error_name(err));
    if (err != HC_OK)
        return;
    res->status = hc_response_status(r);
    te = hc_response_getheader(r, "Transfer-Encoding");
    res->chunked = te != NULL && strstr(te, "chunked") != NULL;
    for (;;) {
        size_t n = 0;
        if (how == READ_ALL) {
            uint8_t *all = NULL;
            err = hc_response_read_all(r, &all, &n);
            if (err == HC_OK) {
                append(res, all, n);
                hc_buffer_free(all, n);
                break;
            }
        } else if (how == READLINE) {
            err = hc_response_readline(r, line, sizeof line, &n);
            if (err == HC_OK && n == 0)
                break;
            if (err == HC_OK)
                append(res, line, n);
        } else {
            uint8_t buf[65536];
            err = hc_response_read(r, buf, how == READ_SMALL ? 1000 : sizeof buf, &n);
            if (err == HC_OK && n == 0)
                break;
            if (err == HC_OK)
                append(res, buf, n);
            if (err == HC_ERR_WOULD_BLOCK)
                CHECK_INT(n, 0);
        }
        if (err == HC_OK)
            continue;
        if (err != HC_ERR_WOULD_BLOCK || !wait_resp(c, r, give_up))
            break;
    }
    CHECK_MSG(err == HC_OK, "reading %s: %s", path, hc_error_name(err));
    CHECK(hc_response_isclosed(r));
    CHECK_INT(hc_response_fileno(r), -1); /* the body ended */
    hc_response_free(r);
}

/* The same request on both connections; the results must be the same bytes. */
static void same(hc_connection *blocking, hc_connection *nonblocking, const char *path,
                 const hc_header *hdrs, size_t n_hdrs, enum how how, int want_status, int want_chunked) {
    struct result a, b;
    fetch(blocking, path, hdrs, n_hdrs, how, &a);
    fetch(nonblocking, path, hdrs, n_hdrs, how, &b);
    CHECK_MSG(a.status == want_status && b.status == want_status, "%s: status %d (blocking) and %d, want %d",
              path, a.status, b.status, want_status);
    CHECK_MSG(a.chunked == want_chunked && b.chunked == want_chunked, "%s: chunked %d and %d, want %d", path,
              a.chunked, b.chunked, want_chunked);
    CHECK_MSG(a.len == b.len && (a.len == 0 || memcmp(a.body, b.body, a.len) == 0),
              "%s (read %d): %zu bytes blocking, %zu non-blocking, or different bytes", path, (int)how,
              a.len, b.len);
    CHECK_MSG(a.len > 0 || want_status == 200, "%s: an empty error page", path);
    free(a.body);
    free(b.body);
}

/* Checks one body against a file of the served document root. */
static void same_as_file(hc_connection *c, const char *path, const char *file, enum how how) {
    struct result res;
    size_t n = 0;
    char full[4096];
    unsigned char *want;
    snprintf(full, sizeof full, "%s/%s", hc_env("HC_TEST_DOCROOT"), file);
    want = (unsigned char *)hc_slurp(full, &n);
    CHECK_MSG(want != NULL, "cannot read %s", full);
    fetch(c, path, NULL, 0, how, &res);
    CHECK_INT(res.status, 200);
    CHECK_MSG(want != NULL && res.len == n && (n == 0 || memcmp(res.body, want, n) == 0),
              "%s: %zu bytes, the file has %zu", path, res.len, n);
    free(res.body);
    free(want);
}

/* The sequence of requests every pair of connections goes through, keep-alive. */
static void sequence(hc_connection *b, hc_connection *nb) {
    hc_header gzip = {"Accept-Encoding", "gzip"};
    same(b, nb, "/small.txt", NULL, 0, READ_LARGE, 200, 0);
    same(b, nb, "/large.bin", NULL, 0, READ_SMALL, 200, 0);
    same(b, nb, "/gzip/text.txt", &gzip, 1, READ_SMALL, 200, 1); /* nginx: chunked gzip */
    same(b, nb, "/words.txt", NULL, 0, READLINE, 200, 0);
    same(b, nb, "/gzip/text.txt", &gzip, 1, READLINE, 200, 1);
    same(b, nb, "/large.bin", NULL, 0, READ_ALL, 200, 0);
    same(b, nb, "/gzip/text.txt", &gzip, 1, READ_ALL, 200, 1);
    same(b, nb, "/empty.txt", NULL, 0, READ_LARGE, 200, 0);
    same(b, nb, "/status/404", NULL, 0, READ_LARGE, 404, 0);
    same_as_file(nb, "/large.bin", "large.bin", READ_LARGE);
}

static void nonblocking(hc_connection *c) {
    CHECK_OK(hc_connection_set_blocking(c, false));
}

static void null_and_blocking_getters(void) {
    hc_connection *c = NULL;
    CHECK_RC(hc_connection_set_blocking(NULL, false), HC_ERR_INVALID_ARGUMENT);
    CHECK_INT(hc_connection_want(NULL), -1);
    CHECK_INT(hc_response_want(NULL), -1);
    CHECK_INT(hc_response_fileno(NULL), -1);
    CHECK_INT(hc_connection_timeout_ms(NULL), -1);
    /* A new connection, blocking or not: nothing wanted, nothing timed. */
    CHECK_OK(hc_connection_new("127.0.0.1", hc_env_port("HC_TEST_HTTP_PORT"), &c));
    CHECK_INT(hc_connection_want(c), 0);
    CHECK_INT(hc_connection_timeout_ms(c), -1);
    CHECK_OK(hc_connection_set_blocking(c, false));
    CHECK_INT(hc_connection_want(c), 0);
    CHECK_INT(hc_connection_timeout_ms(c), -1);
    CHECK_OK(hc_connection_set_blocking(c, true));
    hc_connection_free(c);
}

int main(void) {
    uint16_t http = hc_env_port("HC_TEST_HTTP_PORT"), https = hc_env_port("HC_TEST_HTTPS_PORT");
    const char *ca = hc_env("HC_TEST_CA_FILE"), *proxy = getenv("HC_TEST_PROXY_PORT");
    hc_connection *b = NULL, *nb = NULL;
    long before;

    null_and_blocking_getters();

    /* Plain HTTP to an IP literal. */
    CHECK_OK(hc_connection_new("127.0.0.1", http, &b));
    CHECK_OK(hc_connection_new("127.0.0.1", http, &nb));
    CHECK_OK(hc_connection_set_timeout(b, 30));
    nonblocking(nb);
    before = would_blocks;
    sequence(b, nb);
    CHECK_MSG(would_blocks > before, "plain: no call returned HC_ERR_WOULD_BLOCK");
    CHECK_INT(hc_connection_want(b), 0);
    hc_connection_free(b);
    hc_connection_free(nb);

    /* HTTPS to a host name: resolved off this thread, then the handshake without waiting. */
    CHECK_OK(hc_https_connection_new("localhost", https, &b));
    CHECK_OK(hc_https_connection_new("localhost", https, &nb));
    CHECK_OK(hc_connection_set_ca_file(b, ca));
    CHECK_OK(hc_connection_set_ca_file(nb, ca));
    CHECK_OK(hc_connection_set_timeout(b, 30));
    nonblocking(nb);
    before = would_blocks;
    sequence(b, nb);
    CHECK_MSG(would_blocks > before, "https: no call returned HC_ERR_WOULD_BLOCK");
    hc_connection_free(b);
    hc_connection_free(nb);

    /* HTTPS through a CONNECT tunnel (tinyproxy), when the servers have one. */
    if (proxy != NULL && *proxy != '\0') {
        uint16_t pport = hc_env_port("HC_TEST_PROXY_PORT");
        CHECK_OK(hc_https_connection_new("127.0.0.1", pport, &b));
        CHECK_OK(hc_https_connection_new("127.0.0.1", pport, &nb));
        CHECK_OK(hc_connection_set_tunnel(b, "localhost", https, NULL, 0));
        CHECK_OK(hc_connection_set_tunnel(nb, "localhost", https, NULL, 0));
        CHECK_OK(hc_connection_set_ca_file(b, ca));
        CHECK_OK(hc_connection_set_ca_file(nb, ca));
        CHECK_OK(hc_connection_set_timeout(b, 30));
        nonblocking(nb);
        before = would_blocks;
        sequence(b, nb);
        CHECK_MSG(would_blocks > before, "tunnel: no call returned HC_ERR_WOULD_BLOCK");
        CHECK_INT(hc_connection_tunnel_status(nb), 200);
        hc_connection_free(b);
        hc_connection_free(nb);
    } else {
        printf("note: HC_TEST_PROXY_PORT is empty (no tinyproxy): the tunnel part did not run\n");
    }
    return hc_check_done();
}
