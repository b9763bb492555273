/* One hc_client shared by 32 threads, each making 2,000 calls against nginx (a mix of a small
 * file, a 100 KiB file and a redirect), every body compared byte for byte with the file on
 * disk, while another thread changes the client's options and empties its pool. No lock
 * callbacks: the client is thread-safe by itself.
 *
 * Under valgrind (detected by its preload library) each thread makes 40 calls: the point there
 * is the memory check, not the volume. HC_THREAD_CALLS=N overrides the count.
 * hc-requires: hc_client_new hc_client_request hc_client_close_idle */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hc_check.h"

#define THREADS 32

static hc_client *client;
static char url_small[256], url_text[256], url_redirect[256];
static char *small, *text;
static size_t small_len, text_len;
static int calls_per_thread = 2000;
static volatile int stop_churn;

struct result {
  int ok, bad;
  char first_error[512];
};

static char *slurp(const char *dir, const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return hc_slurp(path, len);
}

/* One call; returns 0 when the status is 200 and the body is exactly `want`. */
static int one_call(const char *url, const char *want, size_t want_len, char *err, size_t cap) {
  hc_response *r = NULL;
  uint8_t buf[8192];
  size_t n = 0, off = 0;
  hc_error e = hc_client_request(client, "GET", url, NULL, 0, NULL, 0, &r);
  if (e != HC_OK) {
    hc_last_error_message(err, cap);
    return -1;
  }
  if (hc_response_status(r) != 200) {
    snprintf(err, cap, "status %d for %s", hc_response_status(r), url);
    hc_response_free(r);
    return -1;
  }
  while ((e = hc_response_read(r, buf, sizeof buf, &n)) == HC_OK && n > 0) {
    if (off + n > want_len || memcmp(buf, want + off, n) != 0) {
      snprintf(err, cap, "body of %s differs at byte %zu", url, off);
      hc_response_free(r);
      return -1;
    }
    off += n;
  }
  if (e != HC_OK) hc_last_error_message(err, cap);
  else if (off != want_len) snprintf(err, cap, "body of %s: %zu of %zu bytes", url, off, want_len);
  hc_response_free(r);
  return e == HC_OK && off == want_len ? 0 : -1;
}

static void *worker(void *arg) {
  struct result *res = arg;
  int i;
  for (i = 0; i < calls_per_thread; i++) {
    char err[512] = "";
    int rc;
    if (i % 50 == 7) rc = one_call(url_text, text, text_len, err, sizeof err);
    else if (i % 10 == 3) rc = one_call(url_redirect, small, small_len, err, sizeof err);
    else rc = one_call(url_small, small, small_len, err, sizeof err);
    if (rc == 0) {
      res->ok++;
    } else {
      if (res->bad++ == 0) snprintf(res->first_error, sizeof res->first_error, "%s", err);
    }
  }
  return NULL;
}

/* Changes options and empties the pool while the workers run. */
static void *churn(void *arg) {
  int i = 0;
  (void)arg;
  while (!stop_churn) {
    hc_client_set_timeout(client, (i & 1) ? 30.0 : 20.0);
    hc_client_set_pool_limits(client, (size_t)(2 + (i % 4)), 16, 30.0);
    if (i % 16 == 0) hc_client_close_idle(client);
    i++;
    {
      struct timespec ts = {0, 2000000};
      nanosleep(&ts, NULL);
    }
  }
  return NULL;
}

int main(void) {
  const char *docroot = hc_env("HC_TEST_DOCROOT");
  uint16_t port = hc_env_port("HC_TEST_HTTP_PORT");
  const char *preload = getenv("LD_PRELOAD");
  const char *override = getenv("HC_THREAD_CALLS");
  pthread_t th[THREADS], churner;
  struct result res[THREADS];
  int i, ok = 0, bad = 0;

  if (override != NULL && atoi(override) > 0) calls_per_thread = atoi(override);
  else if (preload != NULL && strstr(preload, "vgpreload") != NULL) calls_per_thread = 40;
  small = slurp(docroot, "small.txt", &small_len);
  text = slurp(docroot, "gzip/text.txt", &text_len);
  CHECK(small != NULL && text != NULL);
  if (small == NULL || text == NULL) return hc_check_done();
  snprintf(url_small, sizeof url_small, "http://127.0.0.1:%u/small.txt", (unsigned)port);
  snprintf(url_text, sizeof url_text, "http://127.0.0.1:%u/gzip/text.txt", (unsigned)port);
  snprintf(url_redirect, sizeof url_redirect, "http://127.0.0.1:%u/redirect", (unsigned)port);

  CHECK_OK(hc_client_new(&client));
  CHECK_OK(hc_client_set_timeout(client, 30.0));
  memset(res, 0, sizeof res);
  CHECK(pthread_create(&churner, NULL, churn, NULL) == 0);
  for (i = 0; i < THREADS; i++) CHECK(pthread_create(&th[i], NULL, worker, &res[i]) == 0);
  for (i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    ok += res[i].ok;
    bad += res[i].bad;
    if (res[i].bad) fprintf(stderr, "thread %d: %d failed, first: %s\n", i, res[i].bad, res[i].first_error);
  }
  stop_churn = 1;
  pthread_join(churner, NULL);
  fprintf(stderr, "%d threads x %d calls: %d ok, %d failed\n", THREADS, calls_per_thread, ok, bad);
  CHECK_INT(ok, THREADS * calls_per_thread);
  CHECK_INT(bad, 0);
  hc_client_free(client);
  free(small);
  free(text);
  return hc_check_done();
}
