/* A minimal assertion helper shared by the C tests: each failed check prints where and what,
 * and the test exits non-zero at the end, so one run reports every failure. */
#ifndef HC_TEST_H
#define HC_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hc_test_failures = 0;
static int hc_test_checks = 0;

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    hc_test_checks++;                                                                   \
    if (!(cond)) {                                                                      \
      hc_test_failures++;                                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
    }                                                                                   \
  } while (0)

#define CHECK_INT(got, want)                                                            \
  do {                                                                                  \
    long long hc_got_ = (long long)(got), hc_want_ = (long long)(want);                 \
    hc_test_checks++;                                                                   \
    if (hc_got_ != hc_want_) {                                                          \
      hc_test_failures++;                                                               \
      fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__, __LINE__, #got,       \
              hc_got_, hc_want_);                                                       \
    }                                                                                   \
  } while (0)

/* NULL `want` means the result must be NULL. */
#define CHECK_STR(got, want)                                                            \
  do {                                                                                  \
    const char *hc_got_ = (got), *hc_want_ = (want);                                    \
    hc_test_checks++;                                                                   \
    if (hc_want_ == NULL ? hc_got_ != NULL                                              \
                         : (hc_got_ == NULL || strcmp(hc_got_, hc_want_) != 0)) {       \
      hc_test_failures++;                                                               \
      fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got,   \
              hc_got_ ? hc_got_ : "(null)", hc_want_ ? hc_want_ : "(null)");            \
    }                                                                                   \
  } while (0)

static int hc_test_done(const char *name) {
  printf("%s: %d checks, %d failed\n", name, hc_test_checks, hc_test_failures);
  return hc_test_failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
