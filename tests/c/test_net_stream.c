/*
 * Streaming request bodies (hc_request_stream, hc_send_chunk) and Expect: 100-continue
 * (hc_connection_set_continue_timeout), against nginx's /echo and the Python echo server.
 * Run under `python3 tests/servers/hcservers.py run -- ./test_net_stream`.
 */
#include "hc_check.h"

/* A body source handing out `total` bytes ('a' + i % 26) in pieces of at most `step`. */
struct source {
    size_t total, sent, step, calls, abort_after, overflow;
};

static size_t read_cb(uint8_t *buf, size_t cap, void *userdata) {
    struct source *s = userdata;
    s->calls++;
    if (s->abort_after && s->calls > s->abort_after) return HC_READ_ABORT;
    if (s->overflow) return cap + 1;
    size_t n = s->total - s->sent;
    if (n > cap) n = cap;
    if (n > s->step) n = s->step;
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)('a' + (s->sent + i) % 26);
    s->sent += n;
    return n;
}

static int body_matches(const uint8_t *body, size_t len, size_t total) {
    if (len != total) return 0;
    for (size_t i = 0; i < len; i++)
        if (body[i] != (uint8_t)('a' + i % 26)) return 0;
    return 1;
}

static char *read_all(hc_connection *c, int *status, size_t *len) {
    hc_response *r = NULL;
    uint8_t *body = NULL;
    *status = -1;
    *len = 0;
    if (hc_getresponse(c, &r) != HC_OK) return NULL;
    *status = hc_response_status(r);
    if (hc_response_read_all(r, &body, len) != HC_OK) body = NULL;
    hc_response_free(r);
    return (char *)body;
}

static void test_stream_chunked_and_sized(unsigned short http) {
    hc_connection *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", http, &c) == HC_OK);
    hc_connection_set_timeout(c, 10);
    int status;
    size_t len;
    char *body;

    /* -1: chunked; 200 KiB in pieces of 7000 bytes, echoed back byte for byte. */
    struct source s = {200 * 1024, 0, 7000, 0, 0, 0};
    CHECK(hc_request_stream(c, "POST", "/echo", read_cb, &s, -1, NULL, 0) == HC_OK);
    body = read_all(c, &status, &len);
    CHECK(status == 200);
    CHECK(body && body_matches((uint8_t *)body, len, s.total));
    hc_buffer_free((uint8_t *)body, len);

    /* A known length on the same connection. */
    struct source k = {100000, 0, 100000, 0, 0, 0};
    CHECK(hc_request_stream(c, "PUT", "/echo", read_cb, &k, 100000, NULL, 0) == HC_OK);
    body = read_all(c, &status, &len);
    CHECK(status == 200);
    CHECK(body && body_matches((uint8_t *)body, len, k.total));
    hc_buffer_free((uint8_t *)body, len);

    /* A source shorter than the announced length. */
    struct source shortsrc = {10, 0, 10, 0, 0, 0};
    CHECK(hc_request_stream(c, "PUT", "/echo", read_cb, &shortsrc, 20, NULL, 0) ==
          HC_ERR_INCOMPLETE_READ);
    CHECK(hc_connection_fileno(c) == -1);
    hc_connection_free(c);
}

static void test_stream_abort_and_bad_arguments(unsigned short echo) {
    hc_connection *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", echo, &c) == HC_OK);
    hc_connection_set_timeout(c, 10);
    struct source s = {1000, 0, 100, 0, 2, 0};
    hc_error e = hc_request_stream(c, "POST", "/", read_cb, &s, -1, NULL, 0);
    CHECK(e == HC_ERR_ABORTED_BY_CALLBACK);
    CHECK(strcmp(hc_error_name(e), "AbortedByCallback") == 0);
    CHECK(hc_error_parent(e) == HC_OK);
    CHECK(s.calls == 3);
    CHECK(hc_connection_fileno(c) == -1); /* closed: a partial request went out */
    hc_response *r = NULL;
    CHECK(hc_getresponse(c, &r) == HC_ERR_RESPONSE_NOT_READY);

    struct source over = {10, 0, 10, 0, 0, 1};
    CHECK(hc_request_stream(c, "POST", "/", read_cb, &over, -1, NULL, 0) ==
          HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_request_stream(c, "POST", "/", NULL, NULL, -1, NULL, 0) == HC_ERR_INVALID_ARGUMENT);
    struct source ok = {5, 0, 5, 0, 0, 0};
    CHECK(hc_request_stream(c, "POST", "/", read_cb, &ok, -2, NULL, 0) ==
          HC_ERR_INVALID_ARGUMENT);
    CHECK(ok.calls == 0);

    /* The connection works again after the abort. */
    hc_header h[] = {{"X-Test", "after-abort"}};
    CHECK(hc_request_stream(c, "POST", "/", read_cb, &ok, 5, h, 1) == HC_OK);
    int status;
    size_t len;
    char *body = read_all(c, &status, &len);
    CHECK(status == 200);
    CHECK(body && strstr(body, "\"body\": \"abcde\"") != NULL);
    CHECK(body && strstr(body, "\"chunked\": false") != NULL);
    CHECK(body && strstr(body, "after-abort") != NULL);
    hc_buffer_free((uint8_t *)body, len);
    hc_connection_free(c);
}

static void test_send_chunk(unsigned short echo) {
    hc_connection *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", echo, &c) == HC_OK);
    hc_connection_set_timeout(c, 10);
    CHECK(hc_send_chunk(c, (const uint8_t *)"x", 1) == HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK(hc_putrequest(c, "POST", "/raw", 0) == HC_OK);
    CHECK(hc_putheader(c, "Transfer-Encoding", "chunked") == HC_OK);
    CHECK(hc_endheaders(c, NULL, 0) == HC_OK);
    CHECK(hc_send_chunk(c, (const uint8_t *)"hello ", 6) == HC_OK);
    CHECK(hc_send_chunk(c, (const uint8_t *)"chunks", 6) == HC_OK);
    CHECK(hc_send_chunk(c, NULL, 3) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_send_chunk(c, NULL, 0) == HC_OK);
    CHECK(hc_send_chunk(c, NULL, 0) == HC_ERR_IMPROPER_CONNECTION_STATE);
    int status;
    size_t len;
    char *body = read_all(c, &status, &len);
    CHECK(status == 200);
    CHECK(body && len == 12 && memcmp(body, "hello chunks", 12) == 0);
    hc_buffer_free((uint8_t *)body, len);
    hc_connection_free(c);
}

static void test_expect_continue(unsigned short echo) {
    hc_connection *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", echo, &c) == HC_OK);
    hc_connection_set_timeout(c, 10);
    CHECK(hc_connection_set_continue_timeout(c, 0.0 / 0.0) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_continue_timeout(NULL, 1) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_continue_timeout(c, 30) == HC_OK);
    if (getenv("DBG")) hc_connection_set_debuglevel(c, 2);
    hc_header h[] = {{"Expect", "100-continue"}};
    int status;
    size_t len;
    char *body;

    CHECK(hc_request(c, "POST", "/", (const uint8_t *)"payload", 7, h, 1) == HC_OK);
    body = read_all(c, &status, &len);
    CHECK(status == 200);
    CHECK(body && strstr(body, "\"expect_continue\": true") != NULL);
    CHECK(body && strstr(body, "\"body\": \"payload\"") != NULL);
    hc_buffer_free((uint8_t *)body, len);

    struct source s = {3000, 0, 1000, 0, 0, 0};
    CHECK(hc_request_stream(c, "POST", "/", read_cb, &s, -1, h, 1) == HC_OK);
    body = read_all(c, &status, &len);
    CHECK(status == 200);
    CHECK(body && strstr(body, "\"expect_continue\": true") != NULL);
    CHECK(body && strstr(body, "\"body_length\": 3000") != NULL);
    hc_buffer_free((uint8_t *)body, len);

    /* Refused: 417 comes back and the source is never read. */
    struct source refused = {10, 0, 10, 0, 0, 0};
    CHECK(hc_request_stream(c, "POST", "/expect-417", read_cb, &refused, 10, h, 1) == HC_OK);
    CHECK(refused.calls == 0);
    body = read_all(c, &status, &len);
    CHECK(status == 417);
    hc_buffer_free((uint8_t *)body, len);
    CHECK(hc_connection_fileno(c) == -1);
    hc_connection_free(c);
}

int main(void) {
    unsigned short http = hc_env_port("HC_TEST_HTTP_PORT");
    unsigned short echo = hc_env_port("HC_TEST_ECHO_PORT");
    test_stream_chunked_and_sized(http);
    test_stream_abort_and_bad_arguments(echo);
    test_send_chunk(echo);
    test_expect_continue(echo);
    return hc_check_done();
}
