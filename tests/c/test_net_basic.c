/* GET a file over HTTP and HTTPS from the test servers (run through tests/servers/hcservers.py,
 * which exports HC_TEST_HTTP_PORT, HC_TEST_HTTPS_PORT, HC_TEST_CA_FILE, HC_TEST_DOCROOT), and
 * check the status, a header and the body against the file on disk. Also the build's proof
 * that the net-test wrapper is wired up.
 * hc-requires: hc_https_connection_new hc_connection_set_ca_file hc_response_read_all */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_check.h"

static void report(const char *what, hc_error err) {
  char msg[512];
  hc_last_error_message(msg, sizeof msg);
  fprintf(stderr, "%s: %s (%s)\n", what, hc_error_name(err), msg);
}

static void get_small(hc_connection *conn, const char *want, size_t want_len) {
  hc_response *resp = NULL;
  uint8_t *body = NULL;
  size_t body_len = 0;
  char len_text[32];
  hc_error err = hc_request(conn, "GET", "/small.txt", NULL, 0, NULL, 0);
  if (err != HC_OK) {
    report("hc_request", err);
    CHECK_INT(err, HC_OK);
    return;
  }
  err = hc_getresponse(conn, &resp);
  if (err != HC_OK) {
    report("hc_getresponse", err);
    CHECK_INT(err, HC_OK);
    return;
  }
  CHECK_INT(hc_response_status(resp), 200);
  CHECK_STR(hc_response_reason(resp), "OK");
  CHECK_INT(hc_response_version(resp), 11);
  snprintf(len_text, sizeof len_text, "%zu", want_len);
  CHECK_STR(hc_response_getheader(resp, "content-length"), len_text);
  err = hc_response_read_all(resp, &body, &body_len);
  if (err != HC_OK) report("hc_response_read_all", err);
  CHECK_INT(err, HC_OK);
  CHECK_INT(body_len, want_len);
  CHECK(body != NULL && body_len == want_len && memcmp(body, want, want_len) == 0);
  hc_buffer_free(body, body_len);
  hc_response_free(resp);
}

int main(void) {
  char path[4096];
  size_t want_len = 0;
  char *want;
  hc_connection *conn = NULL;
  hc_error err;
  int round;

  snprintf(path, sizeof path, "%s/small.txt", hc_env("HC_TEST_DOCROOT"));
  want = hc_slurp(path, &want_len);
  if (want == NULL) {
    perror(path);
    return EXIT_FAILURE;
  }

  /* HTTP, twice on one connection (keep-alive). */
  err = hc_connection_new("127.0.0.1", hc_env_port("HC_TEST_HTTP_PORT"), &conn);
  CHECK_INT(err, HC_OK);
  if (err == HC_OK) {
    for (round = 0; round < 2; round++) get_small(conn, want, want_len);
    hc_connection_free(conn);
  }

  /* HTTPS, verified against the test CA. */
  conn = NULL;
  err = hc_https_connection_new("localhost", hc_env_port("HC_TEST_HTTPS_PORT"), &conn);
  CHECK_INT(err, HC_OK);
  if (err == HC_OK) {
    err = hc_connection_set_ca_file(conn, hc_env("HC_TEST_CA_FILE"));
    CHECK_INT(err, HC_OK);
    for (round = 0; round < 2; round++) get_small(conn, want, want_len);
    hc_connection_free(conn);
  }

  free(want);
  return hc_check_done();
}
