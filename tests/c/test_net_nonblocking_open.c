/*
 * test_net_nonblocking_open: opening a connection in non-blocking mode from C, against the
 * servers of tests/servers/hcservers.py (run as `hcservers.py run -- ...`, which sets
 * HC_TEST_*): a host name resolved off the caller's thread, the descriptor changing from the
 * resolver's to the socket's, the TLS handshake with nginx and a GET whose body is the served
 * file, a refused connect, a certificate refused, and connections freed while resolving and in
 * the middle of the handshake, and settings refused while an opening is unfinished. CI runs it under AddressSanitizer and valgrind too: nothing may
 * leak or be used after it is freed.
 *
 * hc-requires: hc_connection_set_blocking hc_connection_want hc_response_want
 * hc-requires: hc_response_fileno
 */
#include "hc_check.h"

/* Waits (at most `ms`) until `fd` is ready for `want` (HC_WANT_READ/HC_WANT_WRITE bits). */
static int wait_fd(int fd, int want, int ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = 0;
    p.revents = 0;
    if (want & HC_WANT_READ) p.events |= POLLIN;
    if (want & HC_WANT_WRITE) p.events |= POLLOUT;
    return poll(&p, 1, ms) == 1;
}

/* What a loop saw while driving one call. */
struct seen {
    int waits;   /* HC_ERR_WOULD_BLOCK returns */
    int changes; /* times the descriptor differed from the one before */
};

/* Waits for what the connection's last HC_ERR_WOULD_BLOCK said, noting it in `s`. */
static int wait_conn(hc_connection *c, struct seen *s, int *last_fd) {
    int fd = hc_connection_fileno(c);
    int want = hc_connection_want(c);
    CHECK_MSG(fd >= 0 && (want & (HC_WANT_READ | HC_WANT_WRITE)) != 0, "fd %d want %d", fd,
              want);
    if (fd < 0) return 0;
    if (fd != *last_fd) s->changes++;
    *last_fd = fd;
    s->waits++;
    return wait_fd(fd, want, 10000);
}

static hc_error connect_polled(hc_connection *c, struct seen *s) {
    hc_error rc;
    int last = -1;
    while ((rc = hc_connection_connect(c)) == HC_ERR_WOULD_BLOCK)
        if (!wait_conn(c, s, &last)) return HC_ERR_TIMEOUT;
    return rc;
}

/* GET `path` with every call driven by poll: the status and the body (malloc'ed). */
static hc_error get_polled(hc_connection *c, const char *path, int *status, char **body,
                           size_t *len) {
    struct seen s = {0, 0};
    int last = -1;
    hc_error rc;
    hc_response *r = NULL;
    while ((rc = hc_request(c, "GET", path, NULL, 0, NULL, 0)) == HC_ERR_WOULD_BLOCK)
        if (!wait_conn(c, &s, &last)) return HC_ERR_TIMEOUT;
    if (rc != HC_OK) return rc;
    while ((rc = hc_getresponse(c, &r)) == HC_ERR_WOULD_BLOCK)
        if (!wait_conn(c, &s, &last)) return HC_ERR_TIMEOUT;
    if (rc != HC_OK) return rc;
    *status = hc_response_status(r);
    size_t cap = 1 << 16;
    *len = 0;
    *body = malloc(cap);
    for (;;) {
        size_t n = 0;
        if (*len == cap) {
            char *more = realloc(*body, cap * 2);
            if (!more) break;
            *body = more;
            cap *= 2;
        }
        rc = hc_response_read(r, (uint8_t *)*body + *len, cap - *len, &n);
        if (rc == HC_ERR_WOULD_BLOCK) {
            CHECK(n == 0);
            if (!wait_fd(hc_response_fileno(r), hc_response_want(r), 10000)) {
                rc = HC_ERR_TIMEOUT;
                break;
            }
            continue;
        }
        if (rc != HC_OK || n == 0) break;
        *len += n;
    }
    hc_response_free(r);
    return rc;
}

static hc_connection *https_trusting(const char *host, uint16_t port) {
    hc_connection *c = NULL;
    CHECK_OK(hc_https_connection_new(host, port, &c));
    if (!c) exit(EXIT_FAILURE);
    CHECK_OK(hc_connection_set_ca_file(c, hc_env("HC_TEST_CA_FILE")));
    CHECK_OK(hc_connection_set_blocking(c, false));
    return c;
}

/* A name: the first call waits for the resolver's descriptor; then the socket's, another one;
 * the TLS handshake; a GET whose body is the docroot's file. */
static void test_https_by_name(void) {
    hc_connection *c = https_trusting("localhost", hc_env_port("HC_TEST_HTTPS_PORT"));
    CHECK_RC(hc_connection_connect(c), HC_ERR_WOULD_BLOCK);
    CHECK_INT(hc_connection_want(c), HC_WANT_READ);
    int resolver_fd = hc_connection_fileno(c);
    CHECK(resolver_fd >= 0);
    CHECK(wait_fd(resolver_fd, HC_WANT_READ, 10000));

    struct seen s = {0, 0};
    CHECK_OK(connect_polled(c, &s));
    int fd = hc_connection_fileno(c);
    CHECK(fd >= 0 && fd != resolver_fd);
    CHECK_MSG(s.waits > 0, "the handshake never waited (%d waits)", s.waits);

    char path[4096];
    snprintf(path, sizeof path, "%s/small.txt", hc_env("HC_TEST_DOCROOT"));
    size_t want_len = 0;
    char *want = hc_slurp(path, &want_len);
    CHECK(want != NULL);
    for (int i = 0; i < 2; i++) {
        int status = 0;
        char *body = NULL;
        size_t len = 0;
        CHECK_OK(get_polled(c, "/small.txt", &status, &body, &len));
        CHECK_INT(status, 200);
        CHECK(want && body && len == want_len && memcmp(body, want, len) == 0);
        free(body);
    }
    CHECK_INT(hc_connection_fileno(c), fd); /* kept alive */
    free(want);
    hc_connection_free(c);
}

static void test_refused(void) {
    uint16_t port = 0;
    int lsn = hc_listen_loopback(&port);
    hc_sock_close(lsn);
    hc_connection *c = NULL;
    CHECK_OK(hc_connection_new("127.0.0.1", port, &c));
    CHECK_OK(hc_connection_set_blocking(c, false));
    struct seen s = {0, 0};
    CHECK_RC(connect_polled(c, &s), HC_ERR_CONNECTION_REFUSED);
    CHECK_INT(hc_connection_fileno(c), -1);
    hc_connection_free(c);
}

static void test_certificate_refused(void) {
    hc_connection *c = https_trusting("localhost", hc_env_port("HC_TEST_HTTPS_WRONGHOST_PORT"));
    struct seen s = {0, 0};
    CHECK_RC(connect_polled(c, &s), HC_ERR_CERTIFICATE_VERIFY);
    hc_connection_free(c);
}

/* Freed while the name is being resolved: the resolver's thread finishes alone. */
static void test_free_while_resolving(void) {
    for (int i = 0; i < 5; i++) {
        hc_connection *c = NULL;
        CHECK_OK(hc_connection_new("localhost", 9, &c));
        CHECK_OK(hc_connection_set_blocking(c, false));
        CHECK_RC(hc_connection_connect(c), HC_ERR_WOULD_BLOCK);
        CHECK(hc_connection_fileno(c) >= 0);
        hc_connection_free(c);
    }
}

/* While the name is being resolved, the settings the opening reads as it goes (the source
 * address for each address tried, the TLS options at the handshake) are refused; after close
 * they may change again. */
static void test_settings_refused_while_opening(void) {
    hc_connection *c = https_trusting("localhost", 9);
    CHECK_RC(hc_connection_connect(c), HC_ERR_WOULD_BLOCK);
    CHECK_RC(hc_connection_set_source_address(c, "127.0.0.1", 0),
             HC_ERR_IMPROPER_CONNECTION_STATE);
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    CHECK_MSG(strstr(msg, "the source address") != NULL, "message: %s", msg);
    CHECK_RC(hc_connection_set_verify(c, false), HC_ERR_IMPROPER_CONNECTION_STATE);
    hc_connection_close(c);
    CHECK_OK(hc_connection_set_source_address(c, "127.0.0.1", 0));
    CHECK_OK(hc_connection_set_verify(c, true));
    hc_connection_free(c);
}

/* Freed while the handshake waits for a server that never answers: the TLS session and the
 * socket go with it. */
static void test_free_mid_handshake(void) {
    uint16_t port = 0;
    int lsn = hc_listen_loopback(&port);
    hc_connection *c = https_trusting("127.0.0.1", port);
    hc_error rc;
    int rounds = 0;
    /* The TCP connect completes against the backlog; then the ClientHello goes out and the
     * handshake waits to read. */
    while ((rc = hc_connection_connect(c)) == HC_ERR_WOULD_BLOCK &&
           hc_connection_want(c) != HC_WANT_READ && rounds++ < 100)
        wait_fd(hc_connection_fileno(c), hc_connection_want(c), 1000);
    CHECK_RC(rc, HC_ERR_WOULD_BLOCK);
    CHECK_INT(hc_connection_want(c), HC_WANT_READ);
    hc_connection_free(c);
    hc_sock_close(lsn);
}

int main(void) {
    hc_sockets_init();
    test_https_by_name();
    test_refused();
    test_certificate_refused();
    test_free_while_resolving();
    test_settings_refused_while_opening();
    test_free_mid_handshake();
    /* Give the resolver threads of the freed connections time to end before the leak check
     * at exit (a lookup of localhost takes microseconds). */
    hc_sleep_ms(200);
    return hc_check_done();
}
