/* The error model: names, descriptions, the hierarchy and its answers for bad input. The
 * last-error message after a real failure is in test_last_error.c. */
#include <limits.h>
#include <string.h>

#include "hc_check.h"

struct code_row { int code; const char *name; int parent; };

/* docs/errors.md's table: code, Python name, direct parent (HC_OK for a root). */
static const struct code_row table[] = {
  {HC_ERR_HTTP_EXCEPTION, "HTTPException", HC_OK},
  {HC_ERR_NOT_CONNECTED, "NotConnected", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_INVALID_URL, "InvalidURL", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_UNKNOWN_PROTOCOL, "UnknownProtocol", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_UNKNOWN_TRANSFER_ENCODING, "UnknownTransferEncoding", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_UNIMPLEMENTED_FILE_MODE, "UnimplementedFileMode", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_INCOMPLETE_READ, "IncompleteRead", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_IMPROPER_CONNECTION_STATE, "ImproperConnectionState", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_CANNOT_SEND_REQUEST, "CannotSendRequest", HC_ERR_IMPROPER_CONNECTION_STATE},
  {HC_ERR_CANNOT_SEND_HEADER, "CannotSendHeader", HC_ERR_IMPROPER_CONNECTION_STATE},
  {HC_ERR_RESPONSE_NOT_READY, "ResponseNotReady", HC_ERR_IMPROPER_CONNECTION_STATE},
  {HC_ERR_BAD_STATUS_LINE, "BadStatusLine", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_LINE_TOO_LONG, "LineTooLong", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_REMOTE_DISCONNECTED, "RemoteDisconnected", HC_ERR_BAD_STATUS_LINE},
  {HC_ERR_TOO_MANY_HEADERS, "TooManyHeaders", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_OS, "OSError", HC_OK},
  {HC_ERR_TIMEOUT, "Timeout", HC_ERR_OS},
  {HC_ERR_CONNECTION_REFUSED, "ConnectionRefused", HC_ERR_OS},
  {HC_ERR_CONNECTION_RESET, "ConnectionReset", HC_ERR_OS},
  {HC_ERR_HOST_NOT_FOUND, "HostNotFound", HC_ERR_OS},
  {HC_ERR_TLS, "TLSError", HC_ERR_OS},
  {HC_ERR_CERTIFICATE_VERIFY, "CertificateVerifyError", HC_ERR_TLS},
  {HC_ERR_INVALID_ARGUMENT, "InvalidArgument", HC_OK},
  {HC_ERR_INTERNAL, "InternalError", HC_OK},
  /* Added with proxy tunnels and streamed request bodies. */
  {HC_ERR_TUNNEL_FAILED, "TunnelFailed", HC_ERR_PROXY},
  {HC_ERR_ABORTED_BY_CALLBACK, "AbortedByCallback", HC_OK},
  /* The URL-level client (docs/client.md). */
  {HC_ERR_PROXY, "ProxyError", HC_ERR_OS},
  {HC_ERR_PROXY_AUTH_REQUIRED, "ProxyAuthRequired", HC_ERR_PROXY},
  {HC_ERR_WOULD_BLOCK, "BlockingIOError", HC_ERR_OS},
  {HC_ERR_REDIRECT, "RedirectError", HC_OK},
  {HC_ERR_TOO_MANY_REDIRECTS, "TooManyRedirects", HC_ERR_REDIRECT},
  {HC_ERR_REDIRECT_REFUSED, "RedirectRefused", HC_ERR_REDIRECT},
  {HC_ERR_BAD_LOCATION, "BadLocation", HC_ERR_REDIRECT},
  {HC_ERR_CONTENT_DECODING, "ContentDecodingError", HC_ERR_HTTP_EXCEPTION},
  {HC_ERR_TOO_MANY_ENCODINGS, "TooManyEncodings", HC_ERR_CONTENT_DECODING},
  {HC_ERR_DECODED_SIZE_EXCEEDED, "DecodedSizeExceeded", HC_ERR_CONTENT_DECODING},
};
#define N_CODES (sizeof table / sizeof table[0])

static const int unknown_codes[] = {-1, -2, -100, 16, 99, 150, 199, 202, 299, 301, 401, 499, 504,
                                    509, 513, 899, 901, 1000, 65536, 1 << 24, INT_MAX, INT_MIN, INT_MIN + 1};
#define N_UNKNOWN (sizeof unknown_codes / sizeof unknown_codes[0])

/* The reference answer for hc_error_is, from the table above. */
static int ref_is(int code, int ancestor) {
  size_t i;
  int depth = 0;
  if (code == ancestor) return 1;
  while (code != HC_OK && depth++ < 16) {
    int parent = HC_OK;
    for (i = 0; i < N_CODES; i++)
      if (table[i].code == code) parent = table[i].parent;
    if (parent == HC_OK) return 0;
    if (parent == ancestor) return 1;
    code = parent;
  }
  return 0;
}

static void test_known_codes(void) {
  size_t i, j;
  for (i = 0; i < N_CODES; i++) {
    const char *desc = hc_strerror(table[i].code);
    CHECK_STR(hc_error_name(table[i].code), table[i].name);
    CHECK_INT(hc_error_parent(table[i].code), table[i].parent);
    CHECK(desc != NULL && desc[0] != '\0');
    CHECK(desc != NULL && strcmp(desc, "unknown error code") != 0);
    CHECK(desc != NULL && strchr(desc, '\n') == NULL);
    /* Static strings: the same pointer each call. */
    CHECK(hc_error_name(table[i].code) == hc_error_name(table[i].code));
    CHECK(hc_strerror(table[i].code) == desc);
    for (j = 0; j < N_CODES; j++) {
      int want = ref_is(table[i].code, table[j].code);
      CHECK_MSG((int)hc_error_is(table[i].code, table[j].code) == want,
                "hc_error_is(%s, %s) != %d", table[i].name, table[j].name, want);
    }
    /* A known code descends from no unknown code, and is not HC_OK. */
    CHECK(!hc_error_is(table[i].code, HC_OK));
    CHECK(!hc_error_is(HC_OK, table[i].code));
    for (j = 0; j < N_UNKNOWN; j++) {
      CHECK(!hc_error_is(table[i].code, unknown_codes[j]));
      CHECK(!hc_error_is(unknown_codes[j], table[i].code));
    }
  }
  /* Distinct names. */
  for (i = 0; i < N_CODES; i++)
    for (j = i + 1; j < N_CODES; j++)
      CHECK(strcmp(table[i].name, table[j].name) != 0);
}

static void test_the_documented_examples(void) {
  CHECK(hc_error_is(HC_ERR_CANNOT_SEND_REQUEST, HC_ERR_HTTP_EXCEPTION));
  CHECK(!hc_error_is(HC_ERR_TIMEOUT, HC_ERR_HTTP_EXCEPTION));
  CHECK(hc_error_is(HC_ERR_TIMEOUT, HC_ERR_OS));
  CHECK(hc_error_is(HC_ERR_CERTIFICATE_VERIFY, HC_ERR_OS));
  CHECK(hc_error_is(HC_ERR_REMOTE_DISCONNECTED, HC_ERR_BAD_STATUS_LINE));
  CHECK(hc_error_is(HC_ERR_REMOTE_DISCONNECTED, HC_ERR_HTTP_EXCEPTION));
  CHECK(!hc_error_is(HC_ERR_BAD_STATUS_LINE, HC_ERR_REMOTE_DISCONNECTED));
  CHECK(!hc_error_is(HC_ERR_INVALID_ARGUMENT, HC_ERR_HTTP_EXCEPTION));
  CHECK(!hc_error_is(HC_ERR_INTERNAL, HC_ERR_OS));
  CHECK_INT(hc_error_parent(HC_ERR_CANNOT_SEND_REQUEST), HC_ERR_IMPROPER_CONNECTION_STATE);
  CHECK_STR(hc_error_name(HC_ERR_CANNOT_SEND_REQUEST), "CannotSendRequest");
  CHECK_STR(hc_strerror(HC_ERR_TIMEOUT), "timed out");
}

static void test_ok_and_unknown(void) {
  size_t i;
  CHECK_STR(hc_error_name(HC_OK), "OK");
  CHECK_STR(hc_strerror(HC_OK), "success");
  CHECK_INT(hc_error_parent(HC_OK), HC_OK);
  CHECK(hc_error_is(HC_OK, HC_OK));
  for (i = 0; i < N_UNKNOWN; i++) {
    int c = unknown_codes[i];
    CHECK_STR(hc_error_name(c), "Unknown");
    CHECK_STR(hc_strerror(c), "unknown error code");
    CHECK_INT(hc_error_parent(c), HC_OK);
    CHECK(hc_error_is(c, c)); /* documented: x is x, for every x */
    CHECK(!hc_error_is(c, HC_OK));
    CHECK(!hc_error_is(HC_OK, c));
    CHECK(!hc_error_is(c, HC_ERR_HTTP_EXCEPTION));
    CHECK(!hc_error_is(c, HC_ERR_OS));
  }
}

static void test_last_error_without_failure(void) {
  /* No failure yet on this thread: length 0, an empty string when there is room. */
  char buf[8];
  memset(buf, 'x', sizeof buf);
  CHECK_INT(hc_last_error_message(NULL, 0), 0);
  CHECK_INT(hc_last_error_message(NULL, 100), 0);
  CHECK_INT(hc_last_error_message(buf, 0), 0);
  CHECK(buf[0] == 'x');
  CHECK_INT(hc_last_error_message(buf, sizeof buf), 0);
  CHECK(buf[0] == '\0');
  CHECK(buf[1] == 'x');
  memset(buf, 'x', sizeof buf);
  CHECK_INT(hc_last_error_message(buf, 1), 0);
  CHECK(buf[0] == '\0');
  CHECK(buf[1] == 'x');
}

int main(void) {
  test_last_error_without_failure(); /* first: nothing has failed on this thread yet */
  test_known_codes();
  test_the_documented_examples();
  test_ok_and_unknown();
  return hc_check_done();
}
