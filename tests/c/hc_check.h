/*
 * The one check harness of the C tests (tests/c/test_*.c).
 *
 * Every check counts and the test goes on after a failure, so one run reports every failure.
 * A failure prints file:line, the expression and this thread's hc_last_error_message().
 *
 *   CHECK(cond)             cond is true
 *   CHECK_MSG(cond, fmt..)  the same, with a printf-style context line on failure
 *   CHECK_RC(expr, code)    expr returns the error code `code` (names got and expected)
 *   CHECK_OK(expr)          CHECK_RC(expr, HC_OK)
 *   CHECK_INT(got, want)    two integers are equal (prints both)
 *   CHECK_STR(got, want)    two strings are equal; a NULL `want` means got must be NULL
 *
 * main() ends with `return hc_check_done();`, which prints the closing line
 * "N passed, M failed" alone on stdout and returns the exit status (0 only when M is 0).
 *
 * Helpers: hc_env(name) / hc_env_port(name) read the HC_TEST_* variables that
 * tests/servers/hcservers.py exports; a missing variable is a failure (exit 1), never a skip,
 * because these tests always run under hcservers.py. hc_listen_loopback() opens a listening
 * socket on 127.0.0.1 for tests that play the server themselves; hc_test_get() sends a GET and
 * reads its response head. hc_sys.h has what differs on
 * Windows (sockets, descriptors, pipes, temporary files).
 *
 * Checks are counted in plain ints: make them from one thread at a time.
 */
#ifndef HC_CHECK_H
#define HC_CHECK_H

#include <httpclient.h>

#include "hc_sys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hc_checks_passed, hc_checks_failed;

/* Prints where and what failed, an optional context line and this thread's last error. */
static inline void hc_check_vfail(const char *file, int line, const char *what, const char *fmt,
                                  va_list ap) {
    char msg[1024];
    size_t n = hc_last_error_message(msg, sizeof msg);
    hc_checks_failed++;
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
    if (fmt != NULL) {
        fputs("  ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    fprintf(stderr, "  last error: %s\n", n ? msg : "(none)");
}

/* Records one check: `ok` passes; otherwise prints `what` and, when fmt is not NULL, the
 * formatted context. */
static inline void hc_check_record(int ok, const char *file, int line, const char *what,
                                   const char *fmt, ...) {
    va_list ap;
    if (ok) {
        hc_checks_passed++;
        return;
    }
    va_start(ap, fmt);
    hc_check_vfail(file, line, what, fmt, ap);
    va_end(ap);
}

static inline void hc_check_rc(int got, int want, const char *file, int line, const char *expr,
                               const char *want_expr) {
    hc_check_record(got == want, file, line, expr, "returned %d (%s), expected %s = %d (%s)", got,
                    hc_error_name(got), want_expr, want, hc_error_name(want));
}

static inline void hc_check_int(long long got, long long want, const char *file, int line,
                                const char *expr) {
    hc_check_record(got == want, file, line, expr, "got %lld, want %lld", got, want);
}

static inline void hc_check_str(const char *got, const char *want, const char *file, int line,
                                const char *expr) {
    int ok = want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;
    hc_check_record(ok, file, line, expr, "got \"%s\", want \"%s\"", got ? got : "(null)",
                    want ? want : "(null)");
}

#define CHECK(cond) hc_check_record((cond) != 0, __FILE__, __LINE__, #cond, NULL)
#define CHECK_MSG(cond, ...) hc_check_record((cond) != 0, __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_RC(expr, code) hc_check_rc((int)(expr), (int)(code), __FILE__, __LINE__, #expr, #code)
#define CHECK_OK(expr) CHECK_RC(expr, HC_OK)
#define CHECK_INT(got, want) \
    hc_check_int((long long)(got), (long long)(want), __FILE__, __LINE__, #got " == " #want)
#define CHECK_STR(got, want) hc_check_str((got), (want), __FILE__, __LINE__, #got " == " #want)

/* Prints "N passed, M failed" alone on a line; returns main's exit status. */
static inline int hc_check_done(void) {
    fflush(stderr);
    printf("%d passed, %d failed\n", hc_checks_passed, hc_checks_failed);
    fflush(stdout);
    return hc_checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The value of the environment variable `name`; exits 1 when it is unset or empty (the test
 * was not run under tests/servers/hcservers.py, or a server it needs is missing). */
static inline const char *hc_env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr,
                "%s is not set: run this test under `python3 tests/servers/hcservers.py run --`"
                " (ctest does); failing, not skipping\n",
                name);
        exit(EXIT_FAILURE);
    }
    return v;
}

/* The port in the environment variable `name`; exits 1 when it is missing or not a port. */
static inline uint16_t hc_env_port(const char *name) {
    const char *v = hc_env(name);
    char *end = NULL;
    long p = strtol(v, &end, 10);
    if (*end != '\0' || p < 1 || p > 65535) {
        fprintf(stderr, "%s=%s is not a port\n", name, v);
        exit(EXIT_FAILURE);
    }
    return (uint16_t)p;
}

/* GET `path` on `conn` (hc_request, then hc_getresponse into *resp): the first failure's code. */
static inline hc_error hc_test_get(hc_connection *conn, const char *path, hc_response **resp) {
    hc_error e = hc_request(conn, "GET", path, NULL, 0, NULL, 0);
    return e != HC_OK ? e : hc_getresponse(conn, resp);
}

/* The whole file at `path` in a malloc'd buffer (one spare byte at the end), its size in
 * *len; NULL when it can't be read. The caller frees it. */
static inline char *hc_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  buf = malloc((size_t)n + 1);
  if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* A socket listening on 127.0.0.1 at a free port (stored in *port); exits 1 on failure. */
static inline int hc_listen_loopback(uint16_t *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    hc_sockets_init();
    int fd = (int)socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("hc_listen_loopback");
        exit(EXIT_FAILURE);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

#endif
