/*
 * The C face of connections, requests and responses against the real test servers (run
 * under `python3 tests/servers/hcservers.py run -- test_net_api`, which sets HC_TEST_*):
 * every function of docs/connections.md (connections, requests and responses), on success and on
 * each error path a well-behaved server can reach.
 */
#include "hc_check.h"

#include <string.h>

static uint16_t http_port, https_port, mtls_port, py10_port;
static const char *ca_file, *docroot, *client_cert, *client_key;

/* The bytes of a docroot file (malloc'd, NUL-terminated). */
static char *docroot_file(const char *rel, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", docroot, rel);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    CHECK(size >= 0);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static hc_connection *connect_to(uint16_t port) {
    hc_connection *c = NULL;
    CHECK_OK(hc_connection_new("127.0.0.1", port, &c));
    CHECK_OK(hc_connection_set_timeout(c, 30));
    return c;
}

static hc_response *get(hc_connection *c, const char *url) {
    hc_response *r = NULL;
    CHECK_OK(hc_test_get(c, url, &r));
    CHECK(r != NULL);
    return r;
}

static void check_body_all(hc_response *r, const char *want, size_t want_len) {
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_OK(hc_response_read_all(r, &out, &len));
    CHECK(len == want_len);
    CHECK(memcmp(out, want, len) == 0);
    CHECK(out[len] == '\0');
    hc_buffer_free(out, len);
}

static void test_get_and_headers(void) {
    size_t small_len;
    char *small = docroot_file("small.txt", &small_len);
    hc_connection *c = connect_to(http_port);
    CHECK(hc_connection_fileno(c) == -1);
    CHECK_OK(hc_connection_connect(c));
    int fd = hc_connection_fileno(c);
    CHECK(fd >= 0);

    hc_response *r = get(c, "/small.txt");
    CHECK(hc_response_status(r) == 200);
    CHECK(strcmp(hc_response_reason(r), "OK") == 0);
    CHECK(hc_response_version(r) == 11);
    CHECK(hc_response_length(r) == (int64_t)small_len);
    CHECK(!hc_response_isclosed(r));

    /* getheader: case-insensitive; NULL when absent or for a NULL name. */
    const char *ct = hc_response_getheader(r, "content-TYPE");
    CHECK(ct != NULL && strcmp(ct, "text/plain") == 0);
    CHECK(hc_response_getheader(r, "X-Not-There") == NULL);
    CHECK(hc_response_getheader(r, NULL) == NULL);

    /* Header iteration: every field, in wire order, and the same as getheader. */
    size_t count = hc_response_header_count(r);
    CHECK(count >= 3);
    int saw_length = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name = NULL, *value = NULL;
        CHECK_OK(hc_response_header(r, i, &name, &value));
        CHECK(name != NULL && value != NULL);
        if (strcmp(name, "Content-Length") == 0) {
            saw_length = 1;
            CHECK(strtoll(value, NULL, 10) == (long long)small_len);
        }
    }
    CHECK(saw_length);
    const char *name = "untouched", *value = "untouched";
    CHECK_RC(hc_response_header(r, count, &name, &value), HC_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(name, "untouched") == 0 && strcmp(value, "untouched") == 0);
    CHECK_RC(hc_response_header(r, 0, NULL, &value), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_header(r, 0, &name, NULL), HC_ERR_INVALID_ARGUMENT);

    /* Reads: cap 0 reads nothing; then small reads; then the end, again and again. */
    uint8_t buf[4096];
    size_t n = 99;
    CHECK_OK(hc_response_read(r, buf, 0, &n));
    CHECK(n == 0);
    CHECK_OK(hc_response_read(r, NULL, 0, &n));
    CHECK(n == 0);
    CHECK(!hc_response_isclosed(r));
    CHECK_RC(hc_response_read(r, NULL, 5, &n), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_read(r, buf, 5, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_OK(hc_response_read(r, buf, 5, &n));
    CHECK(n == 5 && memcmp(buf, small, 5) == 0);
    CHECK(hc_response_length(r) == (int64_t)small_len - 5);
    CHECK_OK(hc_response_read(r, buf, sizeof buf, &n));
    CHECK(n == small_len - 5 && memcmp(buf, small + 5, n) == 0);
    CHECK(hc_response_isclosed(r));
    CHECK(hc_response_length(r) == 0);
    CHECK_OK(hc_response_read(r, buf, sizeof buf, &n));
    CHECK(n == 0);
    CHECK_OK(hc_response_read(r, buf, sizeof buf, &n));
    CHECK(n == 0);
    /* read_all after the end: an empty buffer. */
    uint8_t *all = NULL;
    size_t all_len = 99;
    CHECK_OK(hc_response_read_all(r, &all, &all_len));
    CHECK(all != NULL && all_len == 0);
    hc_buffer_free(all, all_len);
    CHECK_RC(hc_response_read_all(r, NULL, &all_len), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_response_read_all(r, &all, NULL), HC_ERR_INVALID_ARGUMENT);
    hc_response_free(r);

    /* Keep-alive: the same socket carries the next request. */
    r = get(c, "/small.txt");
    check_body_all(r, small, small_len);
    CHECK(hc_connection_fileno(c) == fd);
    hc_response_free(r);

    /* Close, then the next request reopens by itself. */
    CHECK_OK(hc_connection_close(c));
    CHECK(hc_connection_fileno(c) == -1);
    r = get(c, "/small.txt");
    check_body_all(r, small, small_len);
    CHECK(hc_connection_fileno(c) >= 0);
    hc_response_free(r);
    hc_connection_free(c);
    free(small);
}

static void test_request_headers_and_bodies(void) {
    hc_connection *c = connect_to(http_port);
    char want[256];

    /* /headers answers "$host|$accept_encoding|$x_test". */
    hc_header h[] = {{"X-Test", "hello"}};
    hc_response *r = NULL;
    CHECK_OK(hc_request(c, "GET", "/headers", NULL, 0, h, 1));
    CHECK_OK(hc_getresponse(c, &r));
    snprintf(want, sizeof want, "127.0.0.1:%u|identity|hello", (unsigned)http_port);
    check_body_all(r, want, strlen(want));
    hc_response_free(r);

    hc_header over[] = {{"Host", "example.test"}, {"Accept-Encoding", "br"}};
    CHECK_OK(hc_request(c, "GET", "/headers", NULL, 0, over, 2));
    CHECK_OK(hc_getresponse(c, &r));
    check_body_all(r, "example.test|br|", strlen("example.test|br|"));
    hc_response_free(r);

    /* POST to /echo comes back byte for byte, NULs included. */
    const uint8_t body[] = {'a', 0, 'b', '\n', 0xff};
    hc_header ct[] = {{"Content-Type", "application/octet-stream"}};
    CHECK_OK(hc_request(c, "POST", "/echo", body, sizeof body, ct, 1));
    CHECK_OK(hc_getresponse(c, &r));
    CHECK(hc_response_status(r) == 200);
    check_body_all(r, (const char *)body, sizeof body);
    hc_response_free(r);

    /* Step by step: putrequest, putheader, endheaders with part of the body, send the rest. */
    CHECK_OK(hc_putrequest(c, "PUT", "/echo", 0));
    CHECK_OK(hc_putheader(c, "Content-Length", "11"));
    CHECK_OK(hc_endheaders(c, (const uint8_t *)"hello", 5));
    CHECK_OK(hc_send(c, (const uint8_t *)" world", 6));
    CHECK_RC(hc_send(c, NULL, 3), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putrequest(c, "GET", "/", 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_OK(hc_getresponse(c, &r));
    check_body_all(r, "hello world", 11);
    hc_response_free(r);

    /* Skip flags: no automatic Host / Accept-Encoding (nginx then sees its own defaults). */
    CHECK_OK(hc_putrequest(c, "GET", "/headers", HC_SKIP_HOST | HC_SKIP_ACCEPT_ENCODING));
    CHECK_OK(hc_putheader(c, "Host", "flagged"));
    CHECK_OK(hc_endheaders(c, NULL, 0));
    CHECK_OK(hc_getresponse(c, &r));
    check_body_all(r, "flagged||", strlen("flagged||"));
    hc_response_free(r);
    hc_connection_free(c);
}

static void test_request_fd(void) {
    int fd = hc_temp_fd();
    CHECK(fd >= 0);
    CHECK(hc_fd_write(fd, "skip:file body\n", 15) == 15);
    CHECK(hc_fd_seek(fd, 5, SEEK_SET) == 5);
    hc_connection *c = connect_to(http_port);
    hc_response *r = NULL;
    CHECK_OK(hc_request_fd(c, "POST", "/echo", fd, NULL, 0));
    CHECK_OK(hc_getresponse(c, &r));
    check_body_all(r, "file body\n", 10);
    hc_response_free(r);
    hc_fd_close(fd);

    int p[2];
    CHECK(hc_pipe(p) == 0);
    CHECK(hc_fd_write(p[1], "from a pipe", 11) == 11);
    hc_fd_close(p[1]);
    CHECK_OK(hc_request_fd(c, "POST", "/echo", p[0], NULL, 0));
    CHECK_OK(hc_getresponse(c, &r));
    check_body_all(r, "from a pipe", 11);
    hc_response_free(r);
    hc_fd_close(p[0]);

    /* A descriptor that is not open (closed just now; on Windows one the C runtime does not
     * know): HC_ERR_OS, nothing sent, and the connection still works. */
    int gone = hc_temp_fd();
    CHECK(gone >= 0);
    hc_fd_close(gone);
    CHECK_RC(hc_request_fd(c, "POST", "/echo", gone, NULL, 0), HC_ERR_OS);
    CHECK_RC(hc_request_fd(c, "POST", "/echo", 99999, NULL, 0), HC_ERR_OS);
    CHECK_OK(hc_request(c, "POST", "/echo", (const uint8_t *)"after", 5, NULL, 0));
    CHECK_OK(hc_getresponse(c, &r));
    check_body_all(r, "after", 5);
    hc_response_free(r);
    hc_connection_free(c);
}

static void test_no_body_and_404(void) {
    hc_connection *c = connect_to(http_port);
    hc_response *r = NULL;
    CHECK_OK(hc_request(c, "HEAD", "/small.txt", NULL, 0, NULL, 0));
    CHECK_OK(hc_getresponse(c, &r));
    CHECK(hc_response_status(r) == 200);
    CHECK(hc_response_getheader(r, "Content-Length") != NULL);
    CHECK(hc_response_isclosed(r));
    CHECK(hc_response_length(r) == 0);
    uint8_t buf[16];
    size_t n = 99;
    CHECK_OK(hc_response_read(r, buf, sizeof buf, &n));
    CHECK(n == 0);
    hc_response_free(r);

    r = get(c, "/status/204");
    CHECK(hc_response_status(r) == 204);
    CHECK(hc_response_isclosed(r));
    hc_response_free(r);

    r = get(c, "/status/404");
    CHECK(hc_response_status(r) == 404);
    CHECK(strcmp(hc_response_reason(r), "Not Found") == 0);
    CHECK(strcmp(hc_status_reason(hc_response_status(r)), "Not Found") == 0);
    uint8_t *all = NULL;
    size_t len = 0;
    CHECK_OK(hc_response_read_all(r, &all, &len));
    CHECK(len > 0 && strstr((const char *)all, "404") != NULL);
    hc_buffer_free(all, len);
    hc_response_free(r);

    /* Chunked (gzip): length unknown, body ends cleanly. */
    hc_header gz[] = {{"Accept-Encoding", "gzip"}};
    CHECK_OK(hc_request(c, "GET", "/gzip/text.txt", NULL, 0, gz, 1));
    CHECK_OK(hc_getresponse(c, &r));
    CHECK(strcmp(hc_response_getheader(r, "Transfer-Encoding"), "chunked") == 0);
    CHECK(hc_response_length(r) == -1);
    CHECK_OK(hc_response_read_all(r, &all, &len));
    CHECK(len > 2 && all[0] == 0x1f && all[1] == 0x8b);
    hc_buffer_free(all, len);
    CHECK(hc_response_isclosed(r));
    hc_response_free(r);
    hc_connection_free(c);
}

static void test_state_errors_with_a_server(void) {
    size_t small_len;
    char *small = docroot_file("small.txt", &small_len);
    hc_connection *c = connect_to(http_port);
    hc_response *r1 = NULL, *r2 = NULL;
    hc_response *sentinel = (hc_response *)&sentinel;

    CHECK_OK(hc_request(c, "GET", "/small.txt", NULL, 0, NULL, 0));
    CHECK_RC(hc_request(c, "GET", "/small.txt", NULL, 0, NULL, 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_OK(hc_getresponse(c, &r1));
    /* Pipelining: the next request may go out, its response waits for the first's end. */
    CHECK_OK(hc_request(c, "GET", "/small.txt", NULL, 0, NULL, 0));
    r2 = sentinel;
    CHECK_RC(hc_getresponse(c, &r2), HC_ERR_RESPONSE_NOT_READY);
    CHECK(r2 == sentinel);
    check_body_all(r1, small, small_len);
    CHECK_OK(hc_getresponse(c, &r2));
    check_body_all(r2, small, small_len);
    hc_response_free(r1);
    hc_response_free(r2);

    /* A response freed before its end closes the connection; the next request reopens. */
    r1 = get(c, "/large.bin");
    uint8_t buf[100];
    size_t n;
    CHECK_OK(hc_response_read(r1, buf, sizeof buf, &n));
    CHECK(n == sizeof buf);
    hc_response_free(r1);
    CHECK(hc_connection_fileno(c) == -1);
    r1 = get(c, "/small.txt");
    check_body_all(r1, small, small_len);
    hc_response_free(r1);

    /* A response stays readable after its connection is freed. */
    r1 = get(c, "/small.txt");
    hc_connection_free(c);
    check_body_all(r1, small, small_len);
    hc_response_free(r1);

    /* Connection: close from the server: the response ends, the next request reopens. */
    c = connect_to(http_port);
    r1 = get(c, "/close");
    check_body_all(r1, "closing\n", 8);
    hc_response_free(r1);
    r1 = get(c, "/small.txt");
    check_body_all(r1, small, small_len);
    hc_response_free(r1);
    hc_connection_free(c);
    free(small);
}

static void test_http10_until_close(void) {
    size_t small_len;
    char *small = docroot_file("small.txt", &small_len);
    hc_connection *c = connect_to(py10_port);
    CHECK_OK(hc_connection_set_strict(c, true));
    for (int i = 0; i < 2; i++) {
        hc_response *r = get(c, "/small.txt");
        CHECK(hc_response_version(r) == 10);
        CHECK(hc_response_length(r) == -1);
        CHECK(hc_response_getheader(r, "Content-Length") == NULL);
        check_body_all(r, small, small_len);
        CHECK(hc_response_isclosed(r));
        hc_response_free(r);
    }
    hc_connection_free(c);
    free(small);
}

static void test_connect_errors(void) {
    /* Port 1 on loopback (tcpmux) is refused unless something unusual runs there. */
    hc_connection *c = connect_to(1);
    hc_error rc = hc_connection_connect(c);
    CHECK(rc == HC_ERR_CONNECTION_REFUSED);
    CHECK(hc_error_is(rc, HC_ERR_OS));
    char msg[512];
    CHECK(hc_last_error_message(msg, sizeof msg) > 0);
    CHECK(strstr(msg, "127.0.0.1:1") != NULL);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 0), HC_ERR_CONNECTION_REFUSED);
    hc_connection_free(c);

    c = connect_to(http_port);
    CHECK_OK(hc_connection_set_connect_timeout(c, 5));
    hc_response *r = get(c, "/empty.txt");
    CHECK(hc_response_length(r) == 0);
    CHECK(hc_response_isclosed(r));
    hc_response_free(r);
    hc_connection_free(c);
}

struct events {
    int text, header_in, header_out, data_in, data_out;
    char first_out[64];
};

static void on_debug(hc_debug_kind kind, const uint8_t *data, size_t len, void *userdata) {
    struct events *e = userdata;
    switch (kind) {
    case HC_DEBUG_TEXT: e->text++; break;
    case HC_DEBUG_HEADER_IN: e->header_in++; break;
    case HC_DEBUG_HEADER_OUT:
        if (!e->header_out++) {
            size_t k = len < sizeof e->first_out - 1 ? len : sizeof e->first_out - 1;
            memcpy(e->first_out, data, k);
            e->first_out[k] = '\0';
        }
        break;
    case HC_DEBUG_DATA_IN: e->data_in++; break;
    case HC_DEBUG_DATA_OUT: e->data_out++; break;
    }
}

static void test_debug(void) {
    struct events ev;
    memset(&ev, 0, sizeof ev);
    hc_connection *c = connect_to(http_port);
    CHECK_OK(hc_connection_set_debug_callback(c, on_debug, &ev));
    CHECK_OK(hc_connection_set_debuglevel(c, 1));
    hc_response *r = NULL;
    CHECK_OK(hc_request(c, "POST", "/echo", (const uint8_t *)"dbg", 3, NULL, 0));
    CHECK_OK(hc_getresponse(c, &r));
    check_body_all(r, "dbg", 3);
    hc_response_free(r);
    CHECK(ev.text >= 1);
    CHECK(ev.header_out == 1);
    CHECK(strncmp(ev.first_out, "POST /echo HTTP/1.1\r\n", 21) == 0);
    CHECK(ev.data_out == 1);
    CHECK(ev.header_in >= 2);
    CHECK(ev.data_in >= 1);
    /* Removing the callback stops the events. */
    CHECK_OK(hc_connection_set_debug_callback(c, NULL, NULL));
    CHECK_OK(hc_connection_set_debuglevel(c, 0));
    int before = ev.header_out;
    r = get(c, "/small.txt");
    hc_response_free(r);
    CHECK(ev.header_out == before);
    hc_connection_free(c);
}

static void test_https(void) {
    size_t small_len;
    char *small = docroot_file("small.txt", &small_len);
    hc_connection *c = NULL;
    CHECK_OK(hc_https_connection_new("localhost", https_port, &c));
    CHECK_OK(hc_connection_set_ca_file(c, ca_file));
    hc_response *r = get(c, "/small.txt");
    CHECK(hc_response_status(r) == 200);
    check_body_all(r, small, small_len);
    hc_response_free(r);
    hc_connection_free(c);

    /* Without the test CA the certificate is not trusted. */
    CHECK_OK(hc_https_connection_new("localhost", https_port, &c));
    CHECK_RC(hc_connection_connect(c), HC_ERR_CERTIFICATE_VERIFY);
    CHECK_OK(hc_connection_set_verify(c, false));
    r = get(c, "/small.txt");
    check_body_all(r, small, small_len);
    hc_response_free(r);
    hc_connection_free(c);

    /* A client certificate for the mTLS port. */
    CHECK_OK(hc_https_connection_new("localhost", mtls_port, &c));
    CHECK_OK(hc_connection_set_ca_file(c, ca_file));
    CHECK_OK(hc_connection_set_client_cert(c, client_cert, client_key));
    r = get(c, "/whoami");
    CHECK(hc_response_status(r) == 200);
    CHECK(hc_response_getheader(r, "X-Client-Verify") != NULL);
    CHECK(strcmp(hc_response_getheader(r, "X-Client-Verify"), "SUCCESS") == 0);
    hc_response_free(r);
    hc_connection_free(c);
    free(small);
}

int main(void) {
    http_port = hc_env_port("HC_TEST_HTTP_PORT");
    https_port = hc_env_port("HC_TEST_HTTPS_PORT");
    mtls_port = hc_env_port("HC_TEST_MTLS_PORT");
    py10_port = hc_env_port("HC_TEST_PY10_PORT");
    ca_file = hc_env("HC_TEST_CA_FILE");
    docroot = hc_env("HC_TEST_DOCROOT");
    client_cert = hc_env("HC_TEST_CLIENT_CERT");
    client_key = hc_env("HC_TEST_CLIENT_KEY");

    test_get_and_headers();
    test_request_headers_and_bodies();
    test_request_fd();
    test_no_body_and_404();
    test_state_errors_with_a_server();
    test_http10_until_close();
    test_connect_errors();
    test_debug();
    test_https();
    return hc_check_done();
}
