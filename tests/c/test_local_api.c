/*
 * The C face of connections, requests and responses where no server is needed: argument
 * checks (NULL -> HC_ERR_INVALID_ARGUMENT with out-params untouched), host parsing, the state
 * machine, refusal of injected control characters, the error table and messages.
 */
#include "hc_check.h"

#include <string.h>

static hc_connection *new_conn(const char *host, uint16_t port) {
    hc_connection *c = NULL;
    CHECK_OK(hc_connection_new(host, port, &c));
    CHECK(c != NULL);
    return c;
}

static void last_error_contains(const char *needle) {
    char msg[1024];
    size_t n = hc_last_error_message(msg, sizeof msg);
    CHECK(n > 0);
    if (!strstr(msg, needle)) {
        fprintf(stderr, "last error %s does not contain %s\n", msg, needle);
        CHECK(strstr(msg, needle) != NULL);
    }
}

static void test_connection_new(void) {
    hc_connection *sentinel = (hc_connection *)&sentinel;
    hc_connection *c = sentinel;

    CHECK_RC(hc_connection_new(NULL, 80, &c), HC_ERR_INVALID_ARGUMENT);
    CHECK(c == sentinel);
    last_error_contains("host");
    CHECK_RC(hc_connection_new("h", 80, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_https_connection_new(NULL, 443, &c), HC_ERR_INVALID_ARGUMENT);
    CHECK(c == sentinel);
    CHECK_RC(hc_https_connection_new("h", 443, NULL), HC_ERR_INVALID_ARGUMENT);

    const char *bad[] = {"",       "h:",      "h:x",    "h:0",  "h:65536", "h:-1",
                         "[::1]:", "[::1]x",  "[::1",   "a b",  "u@h",     "h\r\nX: y",
                         "h\t",    "[zz]:80", "h:8 0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = sentinel;
        CHECK_RC(hc_connection_new(bad[i], 0, &c), HC_ERR_INVALID_URL);
        CHECK(c == sentinel);
        CHECK_RC(hc_https_connection_new(bad[i], 0, &c), HC_ERR_INVALID_URL);
        CHECK(c == sentinel);
    }

    const char *good[] = {"example.com", "example.com:8080", "127.0.0.1:1", "[::1]",
                          "[::1]:65535", "localhost"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        c = NULL;
        CHECK_OK(hc_connection_new(good[i], 0, &c));
        CHECK(c != NULL);
        /* Nothing is opened yet. */
        CHECK(hc_connection_fileno(c) == -1);
        hc_connection_free(c);
        c = NULL;
        CHECK_OK(hc_https_connection_new(good[i], 0, &c));
        hc_connection_free(c);
    }
    hc_connection_free(NULL); /* a no-op */
}

static void test_options(void) {
    hc_connection *c = new_conn("127.0.0.1", 9);
    CHECK_OK(hc_connection_set_timeout(c, 2.5));
    CHECK_OK(hc_connection_set_timeout(c, 0));
    CHECK_OK(hc_connection_set_timeout(c, -1));
    CHECK_OK(hc_connection_set_connect_timeout(c, 1.0));
    CHECK_OK(hc_connection_set_strict(c, false));
    CHECK_OK(hc_connection_set_strict(c, true));
    CHECK_OK(hc_connection_set_debuglevel(c, 0));
    CHECK_OK(hc_connection_set_debug_callback(c, NULL, NULL));
    /* TLS options on a plain connection are refused. */
    CHECK_RC(hc_connection_set_ca_file(c, "/nonexistent.pem"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_verify(c, false), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_client_cert(c, "a", "b"), HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_fileno(c) == -1);
    /* Closing a connection that never opened is fine. */
    CHECK_OK(hc_connection_close(c));
    hc_connection_free(c);

    CHECK_RC(hc_connection_set_timeout(NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_connect_timeout(NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_strict(NULL, true), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_debuglevel(NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_debug_callback(NULL, NULL, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_ca_file(NULL, "x"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_client_cert(NULL, "x", "y"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_set_verify(NULL, true), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_connect(NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_connection_close(NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_fileno(NULL) == -1);

    hc_connection *s = NULL;
    CHECK_OK(hc_https_connection_new("localhost", 0, &s));
    CHECK_RC(hc_connection_set_ca_file(s, NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK_OK(hc_connection_set_verify(s, false));
    CHECK_OK(hc_connection_set_verify(s, true));
    CHECK(hc_connection_set_ca_file(s, "/nonexistent/ca.pem") != HC_OK);
    hc_connection_free(s);
}

static void test_state_machine(void) {
    hc_connection *c = new_conn("127.0.0.1", 9);
    hc_response *sentinel = (hc_response *)&sentinel;
    hc_response *r = sentinel;

    CHECK_RC(hc_getresponse(c, &r), HC_ERR_RESPONSE_NOT_READY);
    CHECK(r == sentinel);
    CHECK(hc_error_is(HC_ERR_RESPONSE_NOT_READY, HC_ERR_IMPROPER_CONNECTION_STATE));
    CHECK_RC(hc_putheader(c, "X", "y"), HC_ERR_CANNOT_SEND_HEADER);
    CHECK_RC(hc_endheaders(c, NULL, 0), HC_ERR_CANNOT_SEND_HEADER);

    CHECK_OK(hc_putrequest(c, "GET", "/", 0));
    CHECK_RC(hc_putrequest(c, "GET", "/", 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 0), HC_ERR_CANNOT_SEND_REQUEST);
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_RESPONSE_NOT_READY);
    CHECK(r == sentinel);
    CHECK_OK(hc_putheader(c, "X-Ok", "v\tw"));
    CHECK_RC(hc_putheader(c, "X-Bad", "v\r\nEvil: 1"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(c, "X Bad", "v"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(c, NULL, "v"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(c, "X", NULL), HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_error_is(hc_send(c, (const uint8_t *)"x", 1), HC_ERR_IMPROPER_CONNECTION_STATE));
    CHECK_RC(hc_endheaders(c, NULL, 5), HC_ERR_INVALID_ARGUMENT);
    /* hc_connection_close resets the state machine: a new request may be started. */
    CHECK_OK(hc_connection_close(c));
    CHECK_OK(hc_putrequest(c, "GET", "/", HC_SKIP_HOST | HC_SKIP_ACCEPT_ENCODING));
    hc_connection_free(c);

    CHECK_RC(hc_putrequest(NULL, "GET", "/", 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_putheader(NULL, "a", "b"), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_endheaders(NULL, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_send(NULL, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_getresponse(NULL, &r), HC_ERR_INVALID_ARGUMENT);
    c = new_conn("127.0.0.1", 9);
    CHECK_RC(hc_getresponse(c, NULL), HC_ERR_INVALID_ARGUMENT);
    hc_connection_free(c);
}

/* Refused arguments are refused before any connect: port 9 (discard) on loopback would
 * otherwise give a connect error, not these codes. */
static void test_injection_refused(void) {
    hc_connection *c = new_conn("127.0.0.1", 9);
    const char *bad_urls[] = {"/a\r\nX: y", "/a\nb", "/a b", "/\x7f", "/\t", "/\x01"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        CHECK_RC(hc_request(c, "GET", bad_urls[i], NULL, 0, NULL, 0), HC_ERR_INVALID_URL);
        CHECK_RC(hc_putrequest(c, "GET", bad_urls[i], 0), HC_ERR_INVALID_URL);
        CHECK_RC(hc_request_fd(c, "PUT", bad_urls[i], 0, NULL, 0), HC_ERR_INVALID_URL);
    }
    last_error_contains("URL");
    const char *bad_methods[] = {"GET\r\n", "G\nET", "GET /", "", "G(T"};
    for (size_t i = 0; i < sizeof bad_methods / sizeof bad_methods[0]; i++) {
        CHECK_RC(hc_request(c, bad_methods[i], "/", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
        CHECK_RC(hc_putrequest(c, bad_methods[i], "/", 0), HC_ERR_INVALID_ARGUMENT);
    }
    hc_header bad_headers[][1] = {
        {{"X-A\r\nEvil", "1"}}, {{"X-A", "1\r\nEvil: 1"}}, {{"X-A", "1\nEvil: 1"}},
        {{"X-A", "a\rb"}},      {{"", "1"}},               {{"X:A", "1"}},
        {{NULL, "1"}},          {{"X", NULL}},
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        CHECK_RC(hc_request(c, "GET", "/", NULL, 0, bad_headers[i], 1), HC_ERR_INVALID_ARGUMENT);
    }
    hc_header both[] = {{"Content-Length", "1"}, {"Transfer-Encoding", "chunked"}};
    CHECK_RC(hc_request(c, "POST", "/", (const uint8_t *)"x", 1, both, 2),
             HC_ERR_INVALID_ARGUMENT);
    last_error_contains("Content-Length");
    CHECK_RC(hc_request(c, "GET", "/", NULL, 0, NULL, 1), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "GET", "/", NULL, 3, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, NULL, "/", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(c, "GET", NULL, NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request(NULL, "GET", "/", NULL, 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request_fd(c, "PUT", "/", -1, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    CHECK_RC(hc_request_fd(NULL, "PUT", "/", 0, NULL, 0), HC_ERR_INVALID_ARGUMENT);
    /* Still nothing opened. */
    CHECK(hc_connection_fileno(c) == -1);
    hc_connection_free(c);
}

static void test_unknown_host(void) {
    hc_connection *c = new_conn("no-such-host.invalid", 80);
    CHECK_RC(hc_connection_connect(c), HC_ERR_HOST_NOT_FOUND);
    CHECK(hc_error_is(HC_ERR_HOST_NOT_FOUND, HC_ERR_OS));
    hc_connection_free(c);
}

static void test_null_responses(void) {
    uint8_t buf[4] = {1, 2, 3, 4};
    size_t n = 77;
    uint8_t *out = (uint8_t *)buf;
    size_t out_len = 77;
    const char *name = "untouched", *value = "untouched";
    CHECK(hc_response_status(NULL) == -1);
    CHECK(hc_response_reason(NULL) == NULL);
    CHECK(hc_response_version(NULL) == -1);
    CHECK_RC(hc_response_read(NULL, buf, sizeof buf, &n), HC_ERR_INVALID_ARGUMENT);
    CHECK(n == 77);
    CHECK_RC(hc_response_read_all(NULL, &out, &out_len), HC_ERR_INVALID_ARGUMENT);
    CHECK(out == buf && out_len == 77);
    CHECK(hc_response_getheader(NULL, "x") == NULL);
    CHECK(hc_response_header_count(NULL) == 0);
    CHECK_RC(hc_response_header(NULL, 0, &name, &value), HC_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(name, "untouched") == 0 && strcmp(value, "untouched") == 0);
    CHECK(hc_response_length(NULL) == -1);
    CHECK(hc_response_isclosed(NULL));
    hc_response_free(NULL);
    hc_buffer_free(NULL, 0);
}

static void test_errors_and_constants(void) {
    CHECK(strcmp(hc_error_name(HC_ERR_CANNOT_SEND_REQUEST), "CannotSendRequest") == 0);
    CHECK(strcmp(hc_error_name(HC_ERR_INVALID_URL), "InvalidURL") == 0);
    CHECK(strcmp(hc_error_name(12345), "Unknown") == 0);
    CHECK(hc_strerror(HC_ERR_TIMEOUT) != NULL && hc_strerror(HC_ERR_TIMEOUT)[0] != '\0');
    CHECK(hc_error_parent(HC_ERR_REMOTE_DISCONNECTED) == HC_ERR_BAD_STATUS_LINE);
    CHECK(hc_error_parent(HC_ERR_TIMEOUT) == HC_ERR_OS);
    CHECK(hc_error_parent(HC_ERR_HTTP_EXCEPTION) == HC_OK);
    CHECK(hc_error_is(HC_ERR_REMOTE_DISCONNECTED, HC_ERR_HTTP_EXCEPTION));
    CHECK(!hc_error_is(HC_ERR_TIMEOUT, HC_ERR_HTTP_EXCEPTION));
    CHECK(strcmp(hc_status_reason(404), "Not Found") == 0);
    CHECK(hc_status_reason(299) == NULL);
    CHECK(HC_HTTP_PORT == 80 && HC_HTTPS_PORT == 443);

    /* hc_last_error_message: snprintf-style. */
    hc_connection *c = NULL;
    CHECK_RC(hc_connection_new("h:x", 0, &c), HC_ERR_INVALID_URL);
    char big[512], small[8];
    size_t full = hc_last_error_message(big, sizeof big);
    CHECK(full > 0 && full == strlen(big));
    CHECK(strstr(big, "InvalidURL") != NULL);
    CHECK(strstr(big, "port") != NULL);
    memset(small, 'Z', sizeof small);
    CHECK(hc_last_error_message(small, sizeof small) == full);
    CHECK(small[7] == '\0' && strncmp(small, big, 7) == 0);
    CHECK(hc_last_error_message(NULL, 0) == full);
}

int main(void) {
    test_connection_new();
    test_options();
    test_state_machine();
    test_injection_refused();
    test_unknown_host();
    test_null_responses();
    test_errors_and_constants();
    return hc_check_done();
}
