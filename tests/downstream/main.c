/* A downstream program: built against an installed httpclient, with find_package() and with
 * pkg-config, to prove the installed tree is usable as is. */
#include <stdio.h>
#include <string.h>

#include <httpclient.h>

int main(void) {
  const char *v = hc_version();
  int ok = 1;
  printf("httpclient %s (header %s, 0x%06x)\n", v, HTTPCLIENT_VERSION, HTTPCLIENT_VERSION_NUMBER);
  ok &= strcmp(v, HTTPCLIENT_VERSION) == 0;
  ok &= HC_OK == 0;
  ok &= HC_ERR_INVALID_ARGUMENT == 300;
  ok &= HC_STATUS_NOT_FOUND == 404;
  ok &= HC_HTTPS_PORT == 443;
  ok &= strcmp(hc_status_reason(HC_STATUS_NOT_FOUND), "Not Found") == 0;
  ok &= hc_error_is(HC_ERR_CANNOT_SEND_REQUEST, HC_ERR_HTTP_EXCEPTION);
  ok &= !hc_error_is(HC_ERR_TIMEOUT, HC_ERR_HTTP_EXCEPTION);
  ok &= strcmp(hc_error_name(HC_ERR_TIMEOUT), "Timeout") == 0;
  if (!ok) {
    fprintf(stderr, "downstream: a check failed\n");
    return 1;
  }
  puts("downstream: ok");
  return 0;
}
