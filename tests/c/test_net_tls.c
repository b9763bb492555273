/*
 * test_net_tls: every TLS option and error path of the C API, against the servers of
 * tests/servers/hcservers.py (run as `hcservers.py run -- test_net_tls`, which sets HC_TEST_*).
 *
 * Covers hc_https_connection_new, hc_connection_set_ca_file / _ca_path / _client_cert /
 * _verify, the codes of each failure and that hc_last_error_message carries OpenSSL's reason.
 * Prints "N passed, M failed" and exits non-zero on any failure.
 */
#include "hc_check.h"


static char last_msg[2048];

static const char *msg(void) {
    hc_last_error_message(last_msg, sizeof last_msg);
    return last_msg;
}

/* The bytes of a docroot file (malloc'ed, NUL-terminated). */
static char *docroot_file(const char *rel, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", hc_env("HC_TEST_DOCROOT"), rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    char *buf = malloc(1 << 20);
    if (!buf) {
        fclose(f);
        exit(2);
    }
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static hc_connection *https_conn(const char *host, uint16_t port) {
    hc_connection *c = NULL;
    hc_error e = hc_https_connection_new(host, port, &c);
    if (e != HC_OK || !c) {
        fprintf(stderr, "hc_https_connection_new(%s, %u): %d %s\n", host, port, e, msg());
        exit(2);
    }
    hc_connection_set_timeout(c, 30);
    return c;
}

static hc_connection *trusting(const char *host, uint16_t port) {
    hc_connection *c = https_conn(host, port);
    hc_error e = hc_connection_set_ca_file(c, hc_env("HC_TEST_CA_FILE"));
    if (e != HC_OK) {
        fprintf(stderr, "set_ca_file: %d %s\n", e, msg());
        exit(2);
    }
    return c;
}

/*
 * GET `path`: returns the first error (HC_OK when all went well); *status and the body
 * (freed by the caller with hc_buffer_free, *body NULL when none) on success.
 */
static hc_error get(hc_connection *c, const char *path, int *status, uint8_t **body,
                    size_t *body_len) {
    hc_response *r = NULL;
    *body = NULL;
    *body_len = 0;
    *status = -1;
    hc_error e = hc_request(c, "GET", path, NULL, 0, NULL, 0);
    if (e != HC_OK)
        return e;
    if ((e = hc_getresponse(c, &r)) != HC_OK)
        return e;
    *status = hc_response_status(r);
    e = hc_response_read_all(r, body, body_len);
    hc_response_free(r);
    return e;
}

/* GET /small.txt must answer 200 with the docroot's small.txt. */
static void check_small(hc_connection *c, const char *what) {
    size_t want_len;
    char *want = docroot_file("small.txt", &want_len);
    int status;
    uint8_t *body;
    size_t len;
    hc_error e = get(c, "/small.txt", &status, &body, &len);
    CHECK_MSG(e == HC_OK, "%s: %s", what, msg());
    CHECK_MSG(status == 200, "%s: status %d", what, status);
    CHECK_MSG(e == HC_OK && len == want_len && memcmp(body, want, len) == 0, "%s: body differs",
              what);
    hc_buffer_free(body, len);
    free(want);
}

/* The GET (or the connect) must fail with `code` and a message containing `needle`. */
static void check_get_fails(hc_connection *c, hc_error code, const char *needle,
                            const char *what) {
    int status;
    uint8_t *body;
    size_t len;
    hc_error e = get(c, "/small.txt", &status, &body, &len);
    if (e == HC_OK)
        hc_buffer_free(body, len);
    msg();
    CHECK_MSG(e == code, "%s: got %d (%s), want %d: %s", what, e, hc_error_name(e), code, last_msg);
    CHECK_MSG(strstr(last_msg, needle) != NULL, "%s: %s not in %s", what, needle, last_msg);
}

static void test_valid_with_ca_file(void) {
    hc_connection *c = trusting("localhost", hc_env_port("HC_TEST_HTTPS_PORT"));
    check_small(c, "ca_file");
    hc_connection_free(c);
}

static void test_valid_with_ca_path(void) {
    hc_connection *c = https_conn("localhost", hc_env_port("HC_TEST_HTTPS_PORT"));
    CHECK_MSG(hc_connection_set_ca_path(c, hc_env("HC_TEST_CA_DIR")) == HC_OK, "%s", msg());
    check_small(c, "ca_path");
    hc_connection_free(c);
}

static void test_host_port_form(void) {
    char hostport[64];
    snprintf(hostport, sizeof hostport, "localhost:%s", hc_env("HC_TEST_HTTPS_PORT"));
    hc_connection *c = trusting(hostport, 0);
    check_small(c, "host:port");
    hc_connection_free(c);
}

static void test_default_store_rejects_test_ca(void) {
    hc_connection *c = https_conn("localhost", hc_env_port("HC_TEST_HTTPS_PORT"));
    hc_error e = hc_connection_connect(c);
    msg();
    CHECK_MSG(e == HC_ERR_CERTIFICATE_VERIFY, "got %d: %s", e, last_msg);
    CHECK_MSG(hc_error_is(e, HC_ERR_TLS) && hc_error_is(e, HC_ERR_OS), "hierarchy");
    CHECK_MSG(strstr(last_msg, "unable to get local issuer certificate") != NULL, "%s", last_msg);
    CHECK_MSG(strncmp(last_msg, "CertificateVerifyError: ", 24) == 0, "%s", last_msg);
    hc_connection_free(c);
}

struct bad_cert {
    const char *port_var;
    const char *host;
    const char *reason;
};

static const struct bad_cert BAD[] = {
    {"HC_TEST_HTTPS_EXPIRED_PORT", "localhost", "certificate has expired"},
    {"HC_TEST_HTTPS_WRONGHOST_PORT", "localhost", "hostname mismatch"},
    {"HC_TEST_HTTPS_WRONGHOST_PORT", "127.0.0.1", "IP address mismatch"},
    {"HC_TEST_HTTPS_IPSAN_PORT", "localhost", "hostname mismatch"},
    {"HC_TEST_HTTPS_SELFSIGNED_PORT", "localhost", "self-signed certificate"},
    {"HC_TEST_HTTPS_UNTRUSTED_PORT", "localhost", "unable to get local issuer certificate"},
};

static void test_bad_certificates_fail_with_reason(void) {
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        hc_connection *c = trusting(BAD[i].host, hc_env_port(BAD[i].port_var));
        check_get_fails(c, HC_ERR_CERTIFICATE_VERIFY, BAD[i].reason, BAD[i].port_var);
        hc_connection_free(c);
    }
}

static void test_verify_false_connects_to_bad_certificates(void) {
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        hc_connection *c = trusting(BAD[i].host, hc_env_port(BAD[i].port_var));
        CHECK_MSG(hc_connection_set_verify(c, false) == HC_OK, "%s", msg());
        check_small(c, BAD[i].port_var);
        hc_connection_free(c);
    }
}

static void test_ip_san_for_ip_literal(void) {
    hc_connection *c = trusting("127.0.0.1", hc_env_port("HC_TEST_HTTPS_IPSAN_PORT"));
    check_small(c, "ipsan 127.0.0.1");
    hc_connection_free(c);
}

static void test_self_signed_trusted_on_purpose(void) {
    hc_connection *c = https_conn("localhost", hc_env_port("HC_TEST_HTTPS_SELFSIGNED_PORT"));
    CHECK_MSG(hc_connection_set_ca_file(c, hc_env("HC_TEST_SELFSIGNED_CERT")) == HC_OK, "%s",
              msg());
    check_small(c, "selfsigned trusted");
    hc_connection_free(c);
}

static void test_client_cert_nginx(void) {
    hc_connection *c = trusting("localhost", hc_env_port("HC_TEST_MTLS_PORT"));
    CHECK_MSG(hc_connection_set_client_cert(c, hc_env("HC_TEST_CLIENT_CERT"),
                                            hc_env("HC_TEST_CLIENT_KEY")) == HC_OK,
              "%s", msg());
    hc_response *r = NULL;
    CHECK_MSG(hc_request(c, "GET", "/whoami", NULL, 0, NULL, 0) == HC_OK, "%s", msg());
    CHECK_MSG(hc_getresponse(c, &r) == HC_OK, "%s", msg());
    if (r) {
        const char *v = hc_response_getheader(r, "X-Client-Verify");
        CHECK_MSG(hc_response_status(r) == 200, "status %d", hc_response_status(r));
        CHECK_MSG(v && strcmp(v, "SUCCESS") == 0, "X-Client-Verify %s", v ? v : "(none)");
        hc_response_free(r);
    }
    hc_connection_free(c);

    /* Without a certificate nginx completes the handshake and answers 400. */
    c = trusting("localhost", hc_env_port("HC_TEST_MTLS_PORT"));
    int status;
    uint8_t *body;
    size_t len;
    CHECK_MSG(get(c, "/whoami", &status, &body, &len) == HC_OK, "%s", msg());
    CHECK_MSG(status == 400, "status %d", status);
    hc_buffer_free(body, len);
    hc_connection_free(c);
}

static void test_client_cert_strict(void) {
    uint16_t port = hc_env_port("HC_TEST_MTLS_STRICT_PORT");
    hc_connection *c = trusting("localhost", port);
    CHECK_MSG(hc_connection_set_client_cert(c, hc_env("HC_TEST_CLIENT_CERT"),
                                            hc_env("HC_TEST_CLIENT_KEY")) == HC_OK,
              "%s", msg());
    int status;
    uint8_t *body;
    size_t len;
    CHECK_MSG(get(c, "/hello", &status, &body, &len) == HC_OK, "%s", msg());
    CHECK_MSG(status == 200, "status %d", status);
    CHECK_MSG(body && strstr((char *)body, "/hello") != NULL, "body %s", body ? (char *)body : "");
    hc_buffer_free(body, len);
    hc_connection_free(c);

    c = trusting("localhost", port);
    check_get_fails(c, HC_ERR_TLS, "alert certificate required", "strict without cert");
    hc_connection_free(c);

    c = trusting("localhost", port);
    CHECK_MSG(hc_connection_set_client_cert(c, hc_env("HC_TEST_UNTRUSTED_CLIENT_CERT"),
                                            hc_env("HC_TEST_UNTRUSTED_CLIENT_KEY")) == HC_OK,
              "%s", msg());
    check_get_fails(c, HC_ERR_TLS, "alert unknown ca", "strict with untrusted cert");
    hc_connection_free(c);
}

static void test_option_errors(void) {
    hc_connection *c = https_conn("localhost", hc_env_port("HC_TEST_HTTPS_PORT"));
    hc_error e;

    e = hc_connection_set_client_cert(c, hc_env("HC_TEST_CLIENT_CERT"),
                                      hc_env("HC_TEST_MISMATCHED_KEY"));
    msg();
    CHECK_MSG(e == HC_ERR_TLS, "mismatched key: %d %s", e, last_msg);
    CHECK_MSG(strstr(last_msg, "does not match") && strstr(last_msg, "key values mismatch"), "%s",
              last_msg);

    e = hc_connection_set_ca_file(c, "/nonexistent/ca.pem");
    msg();
    CHECK_MSG(e == HC_ERR_OS, "missing CA file: %d %s", e, last_msg);
    CHECK_MSG(strstr(last_msg, "/nonexistent/ca.pem") && strstr(last_msg, HC_ENOENT_TEXT), "%s",
              last_msg);

    e = hc_connection_set_ca_path(c, "/nonexistent/ca-dir");
    CHECK_MSG(e == HC_ERR_OS, "missing CA dir: %d %s", e, msg());
    e = hc_connection_set_ca_path(c, hc_env("HC_TEST_CA_FILE"));
    msg();
    CHECK_MSG(e == HC_ERR_OS, "CA dir that is a file: %d %s", e, last_msg);
    CHECK_MSG(strstr(last_msg, HC_ENOTDIR_TEXT) != NULL, "%s", last_msg);

    e = hc_connection_set_client_cert(c, "/nonexistent/client.pem", hc_env("HC_TEST_CLIENT_KEY"));
    CHECK_MSG(e == HC_ERR_OS, "missing client cert: %d %s", e, msg());
    e = hc_connection_set_client_cert(c, hc_env("HC_TEST_CLIENT_CERT"), "/nonexistent/client.key");
    CHECK_MSG(e == HC_ERR_OS, "missing client key: %d %s", e, msg());

    char not_pem[4096];
    snprintf(not_pem, sizeof not_pem, "%s/small.txt", hc_env("HC_TEST_DOCROOT"));
    e = hc_connection_set_ca_file(c, not_pem);
    CHECK_MSG(e == HC_ERR_TLS, "non-PEM CA file: %d %s", e, msg());

    CHECK_MSG(hc_connection_set_ca_file(c, NULL) == HC_ERR_INVALID_ARGUMENT, "NULL path");
    CHECK_MSG(hc_connection_set_ca_path(c, NULL) == HC_ERR_INVALID_ARGUMENT, "NULL dir");
    CHECK_MSG(hc_connection_set_client_cert(c, NULL, hc_env("HC_TEST_CLIENT_KEY")) ==
                  HC_ERR_INVALID_ARGUMENT,
              "NULL cert");
    CHECK_MSG(hc_connection_set_client_cert(c, hc_env("HC_TEST_CLIENT_CERT"), NULL) ==
                  HC_ERR_INVALID_ARGUMENT,
              "NULL key");
    CHECK_MSG(hc_connection_set_ca_file(NULL, hc_env("HC_TEST_CA_FILE")) == HC_ERR_INVALID_ARGUMENT,
              "NULL conn");
    CHECK_MSG(hc_connection_set_verify(NULL, false) == HC_ERR_INVALID_ARGUMENT, "NULL conn");

    /* None of the refused settings took effect: with the CA file set it still works. */
    CHECK_MSG(hc_connection_set_ca_file(c, hc_env("HC_TEST_CA_FILE")) == HC_OK, "%s", msg());
    check_small(c, "after refused options");
    hc_connection_free(c);
}

static void test_tls_options_on_plain_connection(void) {
    hc_connection *c = NULL;
    CHECK_MSG(hc_connection_new("localhost", hc_env_port("HC_TEST_HTTP_PORT"), &c) == HC_OK, "%s",
              msg());
    hc_error e = hc_connection_set_ca_file(c, hc_env("HC_TEST_CA_FILE"));
    msg();
    CHECK_MSG(e == HC_ERR_INVALID_ARGUMENT, "ca_file: %d %s", e, last_msg);
    CHECK_MSG(strstr(last_msg, "HTTPS") != NULL, "%s", last_msg);
    CHECK_MSG(hc_connection_set_ca_path(c, hc_env("HC_TEST_CA_DIR")) == HC_ERR_INVALID_ARGUMENT,
              "ca_path");
    CHECK_MSG(hc_connection_set_client_cert(c, hc_env("HC_TEST_CLIENT_CERT"),
                                            hc_env("HC_TEST_CLIENT_KEY")) ==
                  HC_ERR_INVALID_ARGUMENT,
              "client_cert");
    CHECK_MSG(hc_connection_set_verify(c, false) == HC_ERR_INVALID_ARGUMENT, "verify");
    check_small(c, "plain after refused TLS options");
    hc_connection_free(c);
}

static void test_handshake_timeout(void) {
    /* A listener that never accepts: the kernel completes the TCP handshake, nobody speaks. */
    uint16_t port;
    int fd = hc_listen_loopback(&port);
    hc_connection *c = trusting("localhost", port);
    CHECK_MSG(hc_connection_set_timeout(c, 0.5) == HC_OK, "%s", msg());
    hc_error e = hc_connection_connect(c);
    msg();
    CHECK_MSG(e == HC_ERR_TIMEOUT, "got %d: %s", e, last_msg);
    CHECK_MSG(strstr(last_msg, "TLS handshake") != NULL, "%s", last_msg);
    hc_connection_free(c);
    hc_sock_close(fd);
}

static int connects;

static void count_connects(enum hc_debug_kind kind, const uint8_t *data, size_t len, void *ud) {
    (void)ud;
    if (kind == HC_DEBUG_TEXT && len >= 12 && memcmp(data, "connected to", 12) == 0)
        connects++;
}

static void test_keep_alive_over_tls(void) {
    hc_connection *c = trusting("localhost", hc_env_port("HC_TEST_HTTPS_PORT"));
    connects = 0;
    CHECK_MSG(hc_connection_set_debug_callback(c, count_connects, NULL) == HC_OK, "%s", msg());
    for (int i = 0; i < 20; i++)
        check_small(c, "keep-alive");
    CHECK_MSG(connects == 1, "%d connections", connects);
    hc_connection_free(c);
}

int main(void) {
    test_valid_with_ca_file();
    test_valid_with_ca_path();
    test_host_port_form();
    test_default_store_rejects_test_ca();
    test_bad_certificates_fail_with_reason();
    test_verify_false_connects_to_bad_certificates();
    test_ip_san_for_ip_literal();
    test_self_signed_trusted_on_purpose();
    test_client_cert_nginx();
    test_client_cert_strict();
    test_option_errors();
    test_tls_options_on_plain_connection();
    test_handshake_timeout();
    test_keep_alive_over_tls();
    return hc_check_done();
}
