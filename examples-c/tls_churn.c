/*
 * tls_churn: opens and closes many HTTPS connections and prints the process's RSS, to show
 * that OpenSSL state is freed with its connection. A measuring tool, not a timed test.
 *
 *   tls_churn [N]        (N: argument, else $HC_CHURN_N, else 10000)
 *
 * Talks to the nginx HTTPS port of tests/servers/hcservers.py: run it as
 *   python3 tests/servers/hcservers.py run -- ./tls_churn
 * Each round makes a new connection trusting HC_TEST_CA_FILE, does GET /small.txt, reads the
 * body and frees everything. RSS (VmRSS of /proc/self/status) is printed after a warm-up of
 * 100 rounds (one-time OpenSSL and allocator set-up) and then every N/10 rounds.
 * Exits 1 on the first failure.
 */
#include <httpclient.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static int fail(long round, const char *what, hc_error err) {
    char msg[1024];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "tls_churn: round %ld: %s: %s\n", round, what, msg);
    (void)err;
    return 1;
}

static int one_round(long round, uint16_t port, const char *ca) {
    hc_connection *c = NULL;
    hc_response *r = NULL;
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = 1;
    hc_error e;
    if ((e = hc_https_connection_new("localhost", port, &c)) != HC_OK) {
        fail(round, "new", e);
        goto out;
    }
    if ((e = hc_connection_set_timeout(c, 30)) != HC_OK ||
        (e = hc_connection_set_ca_file(c, ca)) != HC_OK) {
        fail(round, "options", e);
        goto out;
    }
    if ((e = hc_request(c, "GET", "/small.txt", NULL, 0, NULL, 0)) != HC_OK ||
        (e = hc_getresponse(c, &r)) != HC_OK || (e = hc_response_read_all(r, &body, &len)) != HC_OK) {
        fail(round, "GET", e);
        goto out;
    }
    if (hc_response_status(r) != 200 || len == 0) {
        fprintf(stderr, "tls_churn: round %ld: status %d, %zu bytes\n", round,
                hc_response_status(r), len);
        goto out;
    }
    rc = 0;
out:
    hc_buffer_free(body, len);
    hc_response_free(r);
    hc_connection_free(c);
    return rc;
}

int main(int argc, char **argv) {
    const char *n_text = argc > 1 ? argv[1] : getenv("HC_CHURN_N");
    long n = n_text && *n_text ? strtol(n_text, NULL, 10) : 10000;
    const char *port_text = getenv("HC_TEST_HTTPS_PORT");
    const char *ca = getenv("HC_TEST_CA_FILE");
    if (n < 1 || !port_text || !*port_text || !ca || !*ca) {
        fprintf(stderr, "usage: hcservers.py run -- tls_churn [N]  (N >= 1)\n");
        return 2;
    }
    uint16_t port = (uint16_t)atoi(port_text);
    long warmup = n < 100 ? n : 100;
    printf("RSS at start: %ld KiB\n", rss_kib());
    for (long i = 0; i < warmup; i++)
        if (one_round(i, port, ca))
            return 1;
    long base = rss_kib();
    printf("RSS after %ld warm-up connections: %ld KiB\n", warmup, base);
    long step = n / 10 > 0 ? n / 10 : 1;
    for (long i = 0; i < n; i++) {
        if (one_round(warmup + i, port, ca))
            return 1;
        if ((i + 1) % step == 0)
            printf("RSS after %ld more connections: %ld KiB\n", i + 1, rss_kib());
    }
    long last = rss_kib();
    printf("%ld connections: RSS %ld KiB -> %ld KiB (%+ld KiB)\n", n, base, last, last - base);
    return 0;
}
