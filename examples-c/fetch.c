/* fetch.c: GET a URL with hc_get (redirects followed, gzip/br/zstd decoded, proxies from the
 * environment) and write the body to stdout. Usage: fetch URL */
#include <stdio.h>
#include <httpclient.h>
#ifdef _WIN32
#include <fcntl.h> /* _O_BINARY */
#include <io.h>    /* _setmode */
#endif

int main(int argc, char **argv) {
  hc_response *resp = NULL;
  uint8_t buf[16384];
  size_t n = 0;
  char msg[512];
#ifdef _WIN32
  _setmode(_fileno(stdout), _O_BINARY); /* the body as received: no LF -> CRLF */
#endif
  hc_error err = hc_get(argc > 1 ? argv[1] : "http://example.org/", &resp);
  while (err == HC_OK && (err = hc_response_read(resp, buf, sizeof buf, &n)) == HC_OK && n > 0)
    fwrite(buf, 1, n, stdout);
  if (err != HC_OK) {
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "fetch: %s\n", msg);
  }
  hc_response_free(resp); /* a no-op on NULL */
  return err == HC_OK ? 0 : 1;
}
