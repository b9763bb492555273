/* The URL-level client's C face: every hc_client_*, hc_call_* export, hc_client_request,
 * hc_get and the hc_response additions, against the test servers (nginx plain and TLS, run
 * through tests/servers/hcservers.py), with the bad input each one must refuse.
 * hc-requires: hc_client_new hc_call_send hc_get hc_response_url hc_response_decoded */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc_check.h"

static uint16_t http_port, https_port;
static const char *ca_file, *docroot;

static void url_of(char *out, size_t cap, const char *scheme, uint16_t port, const char *path) {
  snprintf(out, cap, "%s://%s:%u%s", scheme, strcmp(scheme, "https") == 0 ? "localhost" : "127.0.0.1",
           (unsigned)port, path);
}

/* Reads the whole body of `resp` with small reads into a malloc'd buffer. */
static uint8_t *read_body(hc_response *resp, size_t *len) {
  size_t cap = 4096, n = 0, got = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (cap - n < 1000) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
    CHECK_OK(hc_response_read(resp, buf + n, 1000, &got));
    if (got == 0) break;
    n += got;
  }
  *len = n;
  return buf;
}

static void test_bad_arguments(void) {
  hc_client *c = NULL;
  hc_call *call = NULL;
  hc_response *r = NULL;
  CHECK_RC(hc_client_new(NULL), HC_ERR_INVALID_ARGUMENT);
  CHECK_OK(hc_client_new(&c));
  CHECK_RC(hc_client_set_max_redirects(NULL, 1), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_max_redirects(c, -1), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_redirect_flags(c, 4), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_accept_encoding(c, 16), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_max_decoded_size(NULL, 1), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_connect_timeout(c, NAN), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_timeout(c, NAN), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_total_timeout(c, NAN), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_pool_limits(c, 1, 1, NAN), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_proxy(c, "socks5://127.0.0.1:1080"), HC_ERR_PROXY);
  CHECK_RC(hc_client_set_proxy(c, "https://127.0.0.1:3128"), HC_ERR_PROXY);
  CHECK_RC(hc_client_set_proxy(c, "http://[::1"), HC_ERR_PROXY);
  CHECK_RC(hc_client_set_ca_file(c, "/nonexistent/ca.pem"), HC_ERR_OS);
  CHECK_RC(hc_client_set_ca_file(c, NULL), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_ca_path(c, "/nonexistent"), HC_ERR_OS);
  CHECK_RC(hc_client_set_client_cert(c, "/nonexistent.pem", NULL), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_verify(NULL, true), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_tls_session_cache(NULL, true), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_source_address(NULL, "127.0.0.1", 0), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_source_address(c, "not an address", 0), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_source_address(c, "127.0.0.1:80", 0), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_set_source_address(c, "", 0), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_close_idle(NULL), HC_ERR_INVALID_ARGUMENT);

  CHECK_RC(hc_call_new(c, "GET", NULL, &call), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_new(c, "GET", "http://exa mple.com/", &call), HC_ERR_INVALID_URL);
  CHECK_RC(hc_call_new(c, "GET", "http://example.com/a b", &call), HC_ERR_INVALID_URL);
  CHECK_RC(hc_call_new(c, "GET", "http://example.com/\r\nX: 1", &call), HC_ERR_INVALID_URL);
  CHECK_RC(hc_call_new(c, "GET", "http:///path", &call), HC_ERR_INVALID_URL);
  CHECK_RC(hc_call_new(c, "GET", "ftp://example.com/", &call), HC_ERR_INVALID_URL);
  CHECK_RC(hc_call_new(c, "GET", "example.com", &call), HC_ERR_INVALID_URL);
  CHECK_RC(hc_call_new(c, "G T", "http://example.com/", &call), HC_ERR_INVALID_ARGUMENT);
  CHECK(call == NULL);

  CHECK_OK(hc_call_new(c, "GET", "http://127.0.0.1:1/", &call));
  CHECK_RC(hc_call_add_header(call, "Bad Name", "v", 0), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_add_header(call, "X", "a\r\nb", 0), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_add_header(call, "X", "v", 2), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_set_body(call, NULL, 3), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_set_body_stream(call, NULL, NULL, -1), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_set_body_fd(call, -1), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_set_auth(call, "a:b", "pw", HC_AUTH_BASIC), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_set_auth(call, "a", "pw", 2), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_set_max_redirects(call, -3), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_set_total_timeout(call, NAN), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_call_send(call, NULL), HC_ERR_INVALID_ARGUMENT);
  /* Port 1 refuses: the call is spent all the same. */
  CHECK_RC(hc_call_send(call, &r), HC_ERR_CONNECTION_REFUSED);
  CHECK(r == NULL);
  CHECK_RC(hc_call_send(call, &r), HC_ERR_IMPROPER_CONNECTION_STATE);
  CHECK_RC(hc_call_add_header(call, "X", "v", 0), HC_ERR_IMPROPER_CONNECTION_STATE);
  CHECK_RC(hc_call_set_body(call, (const uint8_t *)"x", 1), HC_ERR_IMPROPER_CONNECTION_STATE);
  CHECK_RC(hc_call_set_auth(call, "u", "p", HC_AUTH_BASIC), HC_ERR_IMPROPER_CONNECTION_STATE);
  CHECK_RC(hc_call_set_max_redirects(call, 1), HC_ERR_IMPROPER_CONNECTION_STATE);
  CHECK_RC(hc_call_set_total_timeout(call, 1), HC_ERR_IMPROPER_CONNECTION_STATE);
  CHECK_RC(hc_call_set_body_fd(call, 0), HC_ERR_IMPROPER_CONNECTION_STATE);
  hc_call_free(call);
  hc_call_free(NULL);

  CHECK_RC(hc_client_request(NULL, "GET", "http://x/", NULL, 0, NULL, 0, &r), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_client_request(c, "GET", "http://x/", NULL, 2, NULL, 0, &r), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_get(NULL, &r), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_get("http://127.0.0.1:1/", NULL), HC_ERR_INVALID_ARGUMENT);
  CHECK_RC(hc_get("nope://x/", &r), HC_ERR_INVALID_URL);

  CHECK(hc_response_url(NULL) == NULL);
  CHECK_INT(hc_response_redirect_count(NULL), -1);
  CHECK(hc_response_redirect_location(NULL) == NULL);
  CHECK(!hc_response_decoded(NULL));
  hc_client_free(c);
  hc_client_free(NULL);
}

static void test_get_and_redirect(void) {
  char url[256], want_url[256];
  size_t want_len = 0, got_len = 0;
  char *want;
  uint8_t *got;
  hc_response *r = NULL;
  char path[512];
  snprintf(path, sizeof path, "%s/small.txt", docroot);
  want = hc_slurp(path, &want_len);
  CHECK(want != NULL);

  url_of(url, sizeof url, "http", http_port, "/redirect");
  url_of(want_url, sizeof want_url, "http", http_port, "/small.txt");
  CHECK_OK(hc_get(url, &r));
  if (r != NULL) {
    CHECK_INT(hc_response_status(r), 200);
    CHECK_STR(hc_response_url(r), want_url);
    CHECK_INT(hc_response_redirect_count(r), 1);
    CHECK(hc_response_redirect_location(r) == NULL);
    CHECK(!hc_response_decoded(r));
    got = read_body(r, &got_len);
    CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);
    free(got);
    hc_response_free(r);
    r = NULL;
  }

  /* nginx gzips /gzip/text.txt when asked: the client asks and decodes. */
  {
    char tpath[512];
    size_t tlen = 0;
    char *text;
    snprintf(tpath, sizeof tpath, "%s/gzip/text.txt", docroot);
    text = hc_slurp(tpath, &tlen);
    url_of(url, sizeof url, "http", http_port, "/gzip/text.txt");
    CHECK_OK(hc_get(url, &r));
    if (r != NULL && text != NULL) {
      CHECK(hc_response_decoded(r));
      CHECK_INT(hc_response_length(r), -1);
      CHECK_STR(hc_response_getheader(r, "Content-Encoding"), "gzip");
      got = read_body(r, &got_len);
      CHECK(got_len == tlen && memcmp(got, text, tlen) == 0);
      CHECK_INT((long long)hc_response_bytes_read(r), (long long)tlen);
      free(got);
    }
    hc_response_free(r);
    r = NULL;
    free(text);
    url_of(url, sizeof url, "http", http_port, "/redirect");
  }

  /* Not following: the 302 and its resolved target. */
  {
    hc_client *c = NULL;
    hc_call *call = NULL;
    CHECK_OK(hc_client_new(&c));
    CHECK_OK(hc_client_set_max_redirects(c, 0));
    CHECK_OK(hc_call_new(c, "GET", url, &call));
    CHECK_OK(hc_call_send(call, &r));
    hc_call_free(call);
    if (r != NULL) {
      CHECK_INT(hc_response_status(r), 302);
      CHECK_INT(hc_response_redirect_count(r), 0);
      CHECK_STR(hc_response_redirect_location(r), want_url);
      hc_response_free(r);
      r = NULL;
    }
    hc_client_free(c);
  }

  /* A connection-level response answers the additions too. */
  {
    hc_connection *conn = NULL;
    CHECK_OK(hc_connection_new("127.0.0.1", http_port, &conn));
    CHECK_OK(hc_request(conn, "GET", "/small.txt", NULL, 0, NULL, 0));
    CHECK_OK(hc_getresponse(conn, &r));
    CHECK(hc_response_url(r) == NULL);
    CHECK_INT(hc_response_redirect_count(r), 0);
    CHECK(hc_response_redirect_location(r) == NULL);
    CHECK(!hc_response_decoded(r));
    hc_response_free(r);
    r = NULL;
    hc_connection_free(conn);
  }
  free(want);
}

struct stream_state {
  const char *data;
  size_t left;
};

static size_t stream_cb(uint8_t *buf, size_t cap, void *userdata) {
  struct stream_state *s = userdata;
  size_t n = s->left < cap ? s->left : cap;
  if (n > 5) n = 5; /* several pieces */
  memcpy(buf, s->data, n);
  s->data += n;
  s->left -= n;
  return n;
}

static void expect_echo(hc_response *r, const char *want) {
  size_t n = 0;
  uint8_t *got;
  if (r == NULL) return;
  CHECK_INT(hc_response_status(r), 200);
  got = read_body(r, &n);
  CHECK_MSG(n == strlen(want) && memcmp(got, want, n) == 0, "echo: %.*s", (int)n, (char *)got);
  free(got);
  hc_response_free(r);
}

static void test_bodies_and_options(void) {
  char url[256];
  hc_client *c = NULL;
  hc_call *call = NULL;
  hc_response *r = NULL;
  struct stream_state st = {"streamed through a callback", 27};
  hc_header hs[1] = {{"X-Test", "one"}};
  FILE *tmp;

  CHECK_OK(hc_client_new(&c));
  CHECK_OK(hc_client_set_redirect_flags(c, HC_REDIRECT_ALLOW_DOWNGRADE | HC_REDIRECT_KEEP_CREDENTIALS));
  CHECK_OK(hc_client_set_redirect_flags(c, 0));
  CHECK_OK(hc_client_set_accept_encoding(c, HC_ENCODING_ALL));
  CHECK_OK(hc_client_set_accept_encoding(c, HC_ENCODING_GZIP | HC_ENCODING_DEFLATE | HC_ENCODING_BR | HC_ENCODING_ZSTD));
  CHECK_OK(hc_client_set_max_decoded_size(c, 0));
  CHECK_OK(hc_client_set_max_decoded_size(c, 1u << 30));
  CHECK_OK(hc_client_set_proxy(c, "http://user:pw@127.0.0.1:3128"));
  CHECK_OK(hc_client_set_proxy(c, ""));
  CHECK_OK(hc_client_set_proxy(c, NULL));
  CHECK_OK(hc_client_set_no_proxy(c, "*"));
  CHECK_OK(hc_client_set_no_proxy(c, NULL));
  CHECK_OK(hc_client_set_no_proxy(c, "localhost, 127.0.0.1"));
  CHECK_OK(hc_client_set_connect_timeout(c, 10));
  CHECK_OK(hc_client_set_timeout(c, 30));
  CHECK_OK(hc_client_set_total_timeout(c, 60));
  CHECK_OK(hc_client_set_ca_file(c, ca_file));
  CHECK_OK(hc_client_set_verify(c, true));
  CHECK_OK(hc_client_set_tls_session_cache(c, true));
  CHECK_OK(hc_client_set_pool_limits(c, 2, 8, 5.0));
  CHECK_OK(hc_client_set_source_address(c, "::1", 0));
  CHECK_OK(hc_client_set_source_address(c, NULL, 0));
  CHECK_OK(hc_client_set_source_address(c, "127.0.0.1", 0)); /* every request below */

  url_of(url, sizeof url, "http", http_port, "/echo");
  CHECK_OK(hc_call_new(c, "POST", url, &call));
  CHECK_OK(hc_call_add_header(call, "X-Secret", "s", HC_HEADER_SENSITIVE));
  CHECK_OK(hc_call_set_auth(call, "user", "pw", HC_AUTH_BASIC));
  CHECK_OK(hc_call_set_max_redirects(call, 2));
  CHECK_OK(hc_call_set_total_timeout(call, 30));
  CHECK_OK(hc_call_set_body(call, (const uint8_t *)"in memory", 9));
  CHECK_OK(hc_call_send(call, &r));
  hc_call_free(call);
  expect_echo(r, "in memory");

  CHECK_OK(hc_call_new(c, "PUT", url, &call));
  CHECK_OK(hc_call_set_body_stream(call, stream_cb, &st, -1));
  r = NULL;
  CHECK_OK(hc_call_send(call, &r));
  hc_call_free(call);
  expect_echo(r, "streamed through a callback");

  tmp = tmpfile();
  CHECK(tmp != NULL);
  if (tmp != NULL) {
    fputs("skip|from a file", tmp);
    fflush(tmp);
    CHECK(lseek(fileno(tmp), 5, SEEK_SET) == 5);
    CHECK_OK(hc_call_new(c, "POST", url, &call));
    CHECK_OK(hc_call_set_body_fd(call, fileno(tmp)));
    r = NULL;
    CHECK_OK(hc_call_send(call, &r));
    hc_call_free(call);
    expect_echo(r, "from a file");
    fclose(tmp);
  }

  r = NULL;
  CHECK_OK(hc_client_request(c, "POST", url, hs, 1, (const uint8_t *)"one-liner", 9, &r));
  expect_echo(r, "one-liner");

  /* HTTPS through the pool, twice: the second reuses the connection. */
  url_of(url, sizeof url, "https", https_port, "/small.txt");
  r = NULL;
  CHECK_OK(hc_client_request(c, "GET", url, NULL, 0, NULL, 0, &r));
  if (r != NULL) {
    CHECK_INT(hc_response_status(r), 200);
    hc_response_free(r);
  }
  CHECK_OK(hc_client_close_idle(c));
  hc_client_free(c);
}

/* A response outlives its client. */
static void test_response_outlives_client(void) {
  char url[256];
  hc_client *c = NULL;
  hc_response *r = NULL;
  uint8_t *body;
  size_t n = 0;
  CHECK_OK(hc_client_new(&c));
  url_of(url, sizeof url, "http", http_port, "/large.bin");
  CHECK_OK(hc_client_request(c, "GET", url, NULL, 0, NULL, 0, &r));
  hc_client_free(c);
  if (r != NULL) {
    body = read_body(r, &n);
    CHECK_INT((long long)n, 8 * 1024 * 1024);
    free(body);
    hc_response_free(r);
  }
}

int main(void) {
  http_port = hc_env_port("HC_TEST_HTTP_PORT");
  https_port = hc_env_port("HC_TEST_HTTPS_PORT");
  ca_file = hc_env("HC_TEST_CA_FILE");
  docroot = hc_env("HC_TEST_DOCROOT");
  test_bad_arguments();
  test_get_and_redirect();
  test_bodies_and_options();
  test_response_outlives_client();
  return hc_check_done();
}
