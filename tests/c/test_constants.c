/* Every name and value of the "Errors" and "Status codes and constants" sections of the C
 * contract, the reason phrases, and the version macros against Cargo.toml. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "hc_check.h"

#ifndef HC_CARGO_VERSION
#error "the build passes HC_CARGO_VERSION, the version read from Cargo.toml"
#endif

/* hc_error is an int-sized code (checked at compile time, C99 style). */
typedef char hc_error_is_int_sized[sizeof(hc_error) == sizeof(int) ? 1 : -1];

struct named { const char *name; int got; int want; };
#define N(name, value) { #name, (int)(name), value }

static const struct named status_constants[] = {
  /* Python 2.6 httplib's table, same names and values. */
  N(HC_STATUS_CONTINUE, 100),
  N(HC_STATUS_SWITCHING_PROTOCOLS, 101),
  N(HC_STATUS_PROCESSING, 102),
  N(HC_STATUS_OK, 200),
  N(HC_STATUS_CREATED, 201),
  N(HC_STATUS_ACCEPTED, 202),
  N(HC_STATUS_NON_AUTHORITATIVE_INFORMATION, 203),
  N(HC_STATUS_NO_CONTENT, 204),
  N(HC_STATUS_RESET_CONTENT, 205),
  N(HC_STATUS_PARTIAL_CONTENT, 206),
  N(HC_STATUS_MULTI_STATUS, 207),
  N(HC_STATUS_IM_USED, 226),
  N(HC_STATUS_MULTIPLE_CHOICES, 300),
  N(HC_STATUS_MOVED_PERMANENTLY, 301),
  N(HC_STATUS_FOUND, 302),
  N(HC_STATUS_SEE_OTHER, 303),
  N(HC_STATUS_NOT_MODIFIED, 304),
  N(HC_STATUS_USE_PROXY, 305),
  N(HC_STATUS_TEMPORARY_REDIRECT, 307),
  N(HC_STATUS_BAD_REQUEST, 400),
  N(HC_STATUS_UNAUTHORIZED, 401),
  N(HC_STATUS_PAYMENT_REQUIRED, 402),
  N(HC_STATUS_FORBIDDEN, 403),
  N(HC_STATUS_NOT_FOUND, 404),
  N(HC_STATUS_METHOD_NOT_ALLOWED, 405),
  N(HC_STATUS_NOT_ACCEPTABLE, 406),
  N(HC_STATUS_PROXY_AUTHENTICATION_REQUIRED, 407),
  N(HC_STATUS_REQUEST_TIMEOUT, 408),
  N(HC_STATUS_CONFLICT, 409),
  N(HC_STATUS_GONE, 410),
  N(HC_STATUS_LENGTH_REQUIRED, 411),
  N(HC_STATUS_PRECONDITION_FAILED, 412),
  N(HC_STATUS_REQUEST_ENTITY_TOO_LARGE, 413),
  N(HC_STATUS_REQUEST_URI_TOO_LONG, 414),
  N(HC_STATUS_UNSUPPORTED_MEDIA_TYPE, 415),
  N(HC_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, 416),
  N(HC_STATUS_EXPECTATION_FAILED, 417),
  N(HC_STATUS_UNPROCESSABLE_ENTITY, 422),
  N(HC_STATUS_LOCKED, 423),
  N(HC_STATUS_FAILED_DEPENDENCY, 424),
  N(HC_STATUS_UPGRADE_REQUIRED, 426),
  N(HC_STATUS_INTERNAL_SERVER_ERROR, 500),
  N(HC_STATUS_NOT_IMPLEMENTED, 501),
  N(HC_STATUS_BAD_GATEWAY, 502),
  N(HC_STATUS_SERVICE_UNAVAILABLE, 503),
  N(HC_STATUS_GATEWAY_TIMEOUT, 504),
  N(HC_STATUS_HTTP_VERSION_NOT_SUPPORTED, 505),
  N(HC_STATUS_INSUFFICIENT_STORAGE, 507),
  N(HC_STATUS_NOT_EXTENDED, 510),
  /* Additions registered since (names as in Python 3's http.HTTPStatus). */
  N(HC_STATUS_EARLY_HINTS, 103),
  N(HC_STATUS_ALREADY_REPORTED, 208),
  N(HC_STATUS_PERMANENT_REDIRECT, 308),
  N(HC_STATUS_MISDIRECTED_REQUEST, 421),
  N(HC_STATUS_TOO_EARLY, 425),
  N(HC_STATUS_PRECONDITION_REQUIRED, 428),
  N(HC_STATUS_TOO_MANY_REQUESTS, 429),
  N(HC_STATUS_REQUEST_HEADER_FIELDS_TOO_LARGE, 431),
  N(HC_STATUS_UNAVAILABLE_FOR_LEGAL_REASONS, 451),
  N(HC_STATUS_VARIANT_ALSO_NEGOTIATES, 506),
  N(HC_STATUS_LOOP_DETECTED, 508),
  N(HC_STATUS_NETWORK_AUTHENTICATION_REQUIRED, 511),
};

static const struct named error_constants[] = {
  N(HC_OK, 0),
  N(HC_ERR_HTTP_EXCEPTION, 1),
  N(HC_ERR_NOT_CONNECTED, 2),
  N(HC_ERR_INVALID_URL, 3),
  N(HC_ERR_UNKNOWN_PROTOCOL, 4),
  N(HC_ERR_UNKNOWN_TRANSFER_ENCODING, 5),
  N(HC_ERR_UNIMPLEMENTED_FILE_MODE, 6),
  N(HC_ERR_INCOMPLETE_READ, 7),
  N(HC_ERR_IMPROPER_CONNECTION_STATE, 8),
  N(HC_ERR_CANNOT_SEND_REQUEST, 9),
  N(HC_ERR_CANNOT_SEND_HEADER, 10),
  N(HC_ERR_RESPONSE_NOT_READY, 11),
  N(HC_ERR_BAD_STATUS_LINE, 12),
  N(HC_ERR_LINE_TOO_LONG, 13),
  N(HC_ERR_REMOTE_DISCONNECTED, 14),
  N(HC_ERR_TOO_MANY_HEADERS, 15),
  N(HC_ERR_OS, 100),
  N(HC_ERR_TIMEOUT, 101),
  N(HC_ERR_CONNECTION_REFUSED, 102),
  N(HC_ERR_CONNECTION_RESET, 103),
  N(HC_ERR_HOST_NOT_FOUND, 104),
  N(HC_ERR_TLS, 200),
  N(HC_ERR_CERTIFICATE_VERIFY, 201),
  N(HC_ERR_INVALID_ARGUMENT, 300),
  N(HC_ERR_INTERNAL, 900),
};

struct reason { int status; const char *reason; };

static const struct reason reasons[] = {
  /* Python 2.6 httplib.responses, word for word. */
  {100, "Continue"}, {101, "Switching Protocols"},
  {200, "OK"}, {201, "Created"}, {202, "Accepted"}, {203, "Non-Authoritative Information"},
  {204, "No Content"}, {205, "Reset Content"}, {206, "Partial Content"},
  {300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"},
  {304, "Not Modified"}, {305, "Use Proxy"}, {306, "(Unused)"}, {307, "Temporary Redirect"},
  {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"},
  {404, "Not Found"}, {405, "Method Not Allowed"}, {406, "Not Acceptable"},
  {407, "Proxy Authentication Required"}, {408, "Request Timeout"}, {409, "Conflict"},
  {410, "Gone"}, {411, "Length Required"}, {412, "Precondition Failed"},
  {413, "Request Entity Too Large"}, {414, "Request-URI Too Long"},
  {415, "Unsupported Media Type"}, {416, "Requested Range Not Satisfiable"},
  {417, "Expectation Failed"},
  {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
  {503, "Service Unavailable"}, {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
  /* Every other registered code: the RFC 9110 / IANA registry name. */
  {102, "Processing"}, {103, "Early Hints"}, {207, "Multi-Status"}, {208, "Already Reported"},
  {226, "IM Used"}, {308, "Permanent Redirect"}, {421, "Misdirected Request"},
  {422, "Unprocessable Content"}, {423, "Locked"}, {424, "Failed Dependency"},
  {425, "Too Early"}, {426, "Upgrade Required"}, {428, "Precondition Required"},
  {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
  {451, "Unavailable For Legal Reasons"}, {506, "Variant Also Negotiates"},
  {507, "Insufficient Storage"}, {508, "Loop Detected"}, {510, "Not Extended"},
  {511, "Network Authentication Required"},
};

static void test_named(const struct named *t, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    CHECK_MSG(t[i].got == t[i].want, "%s == %d, want %d", t[i].name, t[i].got, t[i].want);
  }
}

static void test_status_constants(void) {
  size_t i;
  test_named(status_constants, sizeof status_constants / sizeof status_constants[0]);
  /* Every status constant has a reason phrase. */
  for (i = 0; i < sizeof status_constants / sizeof status_constants[0]; i++) {
    CHECK_MSG(hc_status_reason(status_constants[i].want) != NULL, "hc_status_reason(%s) is NULL",
              status_constants[i].name);
  }
  CHECK_INT(HC_HTTP_PORT, 80);
  CHECK_INT(HC_HTTPS_PORT, 443);
}

static void test_reasons(void) {
  size_t i;
  static const int unknown[] = {0, -1, 999, 299, 600, 1000, 99, 418 + 1000, INT_MAX, INT_MIN};
  for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
    const char *got = hc_status_reason(reasons[i].status);
    CHECK_MSG(got != NULL && strcmp(got, reasons[i].reason) == 0,
              "hc_status_reason(%d) == \"%s\", want \"%s\"", reasons[i].status,
              got ? got : "(null)", reasons[i].reason);
  }
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    CHECK_MSG(hc_status_reason(unknown[i]) == NULL, "hc_status_reason(%d) is not NULL",
              unknown[i]);
  }
  /* The same static string every time. */
  CHECK(hc_status_reason(404) == hc_status_reason(404));
}

static void test_version(void) {
  int major = -1, minor = -1, patch = -1;
  char rebuilt[64];
  CHECK(hc_version() != NULL);
  CHECK_STR(hc_version(), HTTPCLIENT_VERSION);
  CHECK_STR(HTTPCLIENT_VERSION, HC_CARGO_VERSION);
  CHECK_INT(sscanf(HC_CARGO_VERSION, "%d.%d.%d", &major, &minor, &patch), 3);
  CHECK_INT(HTTPCLIENT_VERSION_MAJOR, major);
  CHECK_INT(HTTPCLIENT_VERSION_MINOR, minor);
  CHECK_INT(HTTPCLIENT_VERSION_PATCH, patch);
  CHECK_INT(HTTPCLIENT_VERSION_NUMBER,
            (HTTPCLIENT_VERSION_MAJOR << 16) | (HTTPCLIENT_VERSION_MINOR << 8) |
                HTTPCLIENT_VERSION_PATCH);
  snprintf(rebuilt, sizeof rebuilt, "%d.%d.%d", HTTPCLIENT_VERSION_MAJOR,
           HTTPCLIENT_VERSION_MINOR, HTTPCLIENT_VERSION_PATCH);
  CHECK_STR(rebuilt, HTTPCLIENT_VERSION);
#if HTTPCLIENT_VERSION_NUMBER < 0x000100
#error "HTTPCLIENT_VERSION_NUMBER must be usable in #if"
#endif
}

int main(void) {
  test_named(error_constants, sizeof error_constants / sizeof error_constants[0]);
  test_status_constants();
  test_reasons();
  test_version();
  return hc_check_done();
}
