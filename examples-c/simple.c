/* simple.c: GET a page over HTTP and print the status line and body.
 * Usage: simple [HOST [PATH]]   (default: example.org /) */
#include <stdio.h>
#include <httpclient.h>

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "example.org";
  const char *path = argc > 2 ? argv[2] : "/";
  hc_connection *conn = NULL;
  hc_response *resp = NULL;
  uint8_t buf[16384];
  size_t n = 0;
  char msg[512];

  hc_error err = hc_connection_new(host, 0, &conn); /* port 0: from host, else 80 */
  if (err == HC_OK) err = hc_request(conn, "GET", path, NULL, 0, NULL, 0);
  if (err == HC_OK) err = hc_getresponse(conn, &resp);
  if (err == HC_OK) fprintf(stderr, "%d %s\n", hc_response_status(resp), hc_response_reason(resp));
  /* hc_response_read gives HC_OK with n == 0 at the end of the body. */
  while (err == HC_OK && (err = hc_response_read(resp, buf, sizeof buf, &n)) == HC_OK && n > 0)
    fwrite(buf, 1, n, stdout);
  if (err != HC_OK) {
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "simple: %s (%s)\n", msg, hc_error_name(err));
  }
  hc_response_free(resp);   /* both are no-ops on NULL */
  hc_connection_free(conn);
  return err == HC_OK ? 0 : 1;
}
/* hc-requires: hc_connection_new hc_request hc_getresponse hc_response_read hc_response_free */
