/* hc_last_error_message after a real failure: snprintf-style copying and per-thread isolation.
 * hc-requires: hc_connection_new hc_connection_free */
#include <pthread.h>
#include <string.h>

#include "hc_check.h"

#define PREFIX "InvalidArgument: "

static hc_connection *const SENTINEL = (hc_connection *)&hc_checks_passed;

static void fail_with_null_host(void) {
  hc_connection *c = SENTINEL;
  CHECK_INT(hc_connection_new(NULL, 80, &c), HC_ERR_INVALID_ARGUMENT);
  CHECK(c == SENTINEL); /* out-parameter untouched on failure */
}

static void test_copying(void) {
  char full[512], small[8], one[1];
  size_t len;

  fail_with_null_host();
  len = hc_last_error_message(NULL, 0);
  CHECK(len > strlen(PREFIX));

  /* A big enough buffer gets the whole message and its NUL. */
  memset(full, 'x', sizeof full);
  CHECK_INT(hc_last_error_message(full, sizeof full), len);
  CHECK_INT(strlen(full), len);
  CHECK(strncmp(full, PREFIX, strlen(PREFIX)) == 0);
  CHECK(strchr(full, '\n') == NULL);

  /* NULL buffer and cap 0 write nothing and still give the full length. */
  CHECK_INT(hc_last_error_message(NULL, 0), len);
  CHECK_INT(hc_last_error_message(NULL, 64), len);
  memset(small, 'x', sizeof small);
  CHECK_INT(hc_last_error_message(small, 0), len);
  CHECK(small[0] == 'x');

  /* cap 1: just the NUL. */
  one[0] = 'x';
  CHECK_INT(hc_last_error_message(one, 1), len);
  CHECK(one[0] == '\0');

  /* A small buffer: cap - 1 bytes of the message, then NUL, nothing past cap. */
  {
    char guarded[sizeof small + 4];
    memset(guarded, 'x', sizeof guarded);
    CHECK_INT(hc_last_error_message(guarded, sizeof small), len);
    CHECK(memcmp(guarded, full, sizeof small - 1) == 0);
    CHECK(guarded[sizeof small - 1] == '\0');
    CHECK(guarded[sizeof small] == 'x');
  }

  /* Exactly len + 1 fits; len truncates the last byte. */
  {
    char exact[512];
    CHECK_INT(hc_last_error_message(exact, len + 1), len);
    CHECK_STR(exact, full);
    CHECK_INT(hc_last_error_message(exact, len), len);
    CHECK_INT(strlen(exact), len - 1);
  }

  /* Reading does not clear it; a success does not clear it either (as errno). */
  CHECK_INT(hc_last_error_message(NULL, 0), len);
  CHECK(hc_error_is(HC_OK, HC_OK));
  CHECK_INT(hc_last_error_message(NULL, 0), len);
}

struct thread_result { size_t before; size_t after; char msg[512]; int code; };

static void *other_thread(void *arg) {
  struct thread_result *r = arg;
  hc_connection *c = NULL;
  r->before = hc_last_error_message(NULL, 0);
  /* A different failure on this thread. */
  r->code = hc_connection_new("bad host", 80, &c);
  r->after = hc_last_error_message(r->msg, sizeof r->msg);
  if (r->code == HC_OK) hc_connection_free(c);
  return NULL;
}

static void test_threads(void) {
  pthread_t t;
  struct thread_result r;
  char mine[512], again[512];

  fail_with_null_host();
  hc_last_error_message(mine, sizeof mine);

  memset(&r, 0, sizeof r);
  CHECK_INT(pthread_create(&t, NULL, other_thread, &r), 0);
  CHECK_INT(pthread_join(t, NULL), 0);

  /* The new thread saw none of this thread's failure... */
  CHECK_INT(r.before, 0);
  /* ...had its own... */
  CHECK_INT(r.code, HC_ERR_INVALID_URL);
  CHECK(r.after > 0);
  CHECK(strncmp(r.msg, "InvalidURL: ", 12) == 0);
  /* ...and this thread's message is unchanged by it. */
  hc_last_error_message(again, sizeof again);
  CHECK_STR(again, mine);
}

int main(void) {
  hc_connection_free(NULL); /* a no-op */
  test_copying();
  test_threads();
  return hc_check_done();
}
