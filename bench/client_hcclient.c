/*
 * httpclient's URL-level client as a C user writes it: one hc_client, hc_client_request(c,
 * "GET", url, ...) + hc_response_read into one reused buffer until it gives 0 bytes +
 * hc_response_free.  The pool keeps the connection warm between calls; no proxy (like
 * libcurl's CURLOPT_PROXY ""); TLS verifies against the test CA.  Its defaults are kept
 * otherwise (the Accept-Encoding of four codings, redirects, the pool's checks): the cost
 * measured is the layer as a caller gets it.
 *  - newconn: pool limits 0, so every call opens a new connection; the TLS session cache
 *    (on by default) resumes each handshake with the session or ticket of an earlier one,
 *    unless resume is off (hc_client_set_tls_session_cache(c, false)).
 *  - gzip: no decoded-size cap (the default cap, 1 GiB, is the size of the scenario's body).
 *  - threads: one hc_client shared by every thread, each with its own read buffer; the pool
 *    keeps up to `threads` idle connections to the server (its default is 4 per host).
 */
#include <stdio.h>
#include <stdlib.h>

#include <httpclient.h>

#include "clients.h"

struct hcl {
    struct bench_opts o;
    hc_client *client;
    char url[64];
    uint8_t *buf;
    int shared; /* a per-thread context: client is not ours to free */
};

static int fail(const char *what, hc_error e)
{
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "hc_client: %s: %s (%d): %s\n", what, hc_error_name(e), e, msg);
    return -1;
}

static void *hcl_open(const struct bench_opts *o)
{
    struct hcl *h = calloc(1, sizeof *h);
    hc_error e;
    if (!h)
        return NULL;
    h->o = *o;
    snprintf(h->url, sizeof h->url, "%s://127.0.0.1:%d/", o->tls ? "https" : "http", o->port);
    if ((e = hc_client_new(&h->client)) != HC_OK) {
        fail("client_new", e);
        return NULL;
    }
    if ((e = hc_client_set_proxy(h->client, "")) != HC_OK) {
        fail("set_proxy", e);
        return NULL;
    }
    if (o->tls && (e = hc_client_set_ca_file(h->client, o->ca)) != HC_OK) {
        fail("set_ca_file", e);
        return NULL;
    }
    if (o->newconn && (e = hc_client_set_pool_limits(h->client, 0, 0, 30.0)) != HC_OK) {
        fail("set_pool_limits", e);
        return NULL;
    }
    if (o->newconn && !o->resume && (e = hc_client_set_tls_session_cache(h->client, false)) != HC_OK) {
        fail("set_tls_session_cache", e);
        return NULL;
    }
    if (o->threads > 0) {
        size_t n = (size_t)o->threads;
        if ((e = hc_client_set_pool_limits(h->client, n, n, 30.0)) != HC_OK) {
            fail("set_pool_limits", e);
            return NULL;
        }
    }
    if (o->gzip && (e = hc_client_set_max_decoded_size(h->client, 0)) != HC_OK) {
        fail("set_max_decoded_size", e);
        return NULL;
    }
    if (o->threads == 0 && !(h->buf = malloc(o->bufsz)))
        return NULL;
    return h;
}

static int hcl_get(void *ctx, uint64_t *bytes)
{
    struct hcl *h = ctx;
    hc_response *r;
    hc_error e = hc_client_request(h->client, "GET", h->url, NULL, 0, NULL, 0, &r);
    if (e != HC_OK)
        return fail("client_request", e);
    if (hc_response_status(r) != 200) {
        fprintf(stderr, "hc_client: status %d\n", hc_response_status(r));
        hc_response_free(r);
        return -1;
    }
    if (h->o.gzip && !hc_response_decoded(r)) {
        fprintf(stderr, "hc_client: the gzip body is not being decoded\n");
        hc_response_free(r);
        return -1;
    }
    for (;;) {
        size_t n = 0;
        if ((e = hc_response_read(r, h->buf, h->o.bufsz, &n)) != HC_OK) {
            hc_response_free(r);
            return fail("response_read", e);
        }
        if (n == 0)
            break;
        *bytes += n;
    }
    hc_response_free(r);
    return 0;
}

static void hcl_close(void *ctx)
{
    struct hcl *h = ctx;
    if (!h->shared)
        hc_client_free(h->client);
    free(h->buf);
    free(h);
}

static void *hcl_thread_open(void *shared)
{
    struct hcl *s = shared, *h = malloc(sizeof *h);
    if (!h)
        return NULL;
    *h = *s;
    h->shared = 1;
    if (!(h->buf = malloc(s->o.bufsz))) {
        free(h);
        return NULL;
    }
    return h;
}

const struct client_ops hcclient_client = {"hc_client", hcl_open, hcl_get, hcl_close,
                                           hcl_thread_open, hcl_close};
