/*
 * A tiny test harness for the C tests: CHECK(cond) and CHECK_RC(expr, code) print file:line
 * and the thread's last error message on failure and exit non-zero; DONE() prints the
 * closing "N passed, 0 failed" line that CI reads.
 */
#ifndef HC_CHECK_H
#define HC_CHECK_H

#include <httpclient.h>

#include <stdio.h>
#include <stdlib.h>

static int hc_checks_passed;

static void hc_check_fail(const char *file, int line, const char *what) {
    char msg[1024];
    size_t n = hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s:%d: CHECK failed: %s\n  last error: %s\n", file, line, what,
            n ? msg : "(none)");
    fprintf(stderr, "%d passed, 1 failed\n", hc_checks_passed);
    exit(1);
}

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (cond)                                                                         \
            hc_checks_passed++;                                                           \
        else                                                                              \
            hc_check_fail(__FILE__, __LINE__, #cond);                                     \
    } while (0)

#define CHECK_RC(expr, code)                                                              \
    do {                                                                                  \
        hc_error rc_ = (expr);                                                            \
        if (rc_ == (code)) {                                                              \
            hc_checks_passed++;                                                           \
        } else {                                                                          \
            char what_[512];                                                              \
            snprintf(what_, sizeof what_, "%s returned %d (%s), expected %s", #expr, rc_, \
                     hc_error_name(rc_), #code);                                          \
            hc_check_fail(__FILE__, __LINE__, what_);                                     \
        }                                                                                 \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, HC_OK)

#define DONE()                                                                            \
    do {                                                                                  \
        printf("%d passed, 0 failed\n", hc_checks_passed);                                \
        return 0;                                                                         \
    } while (0)

#endif
