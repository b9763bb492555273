/*
 * httpclient as a C user writes it: hc_request + hc_getresponse + hc_response_read into one
 * reused buffer until it returns 0 bytes + hc_response_free, on one connection (opened
 * eagerly with hc_connection_connect).  With newconn, a fresh hc_connection per request,
 * freed (and so closed) after its response.
 */
#include <stdio.h>
#include <stdlib.h>

#include <httpclient.h>

#include "clients.h"

struct hcc {
    struct bench_opts o;
    hc_connection *conn;
    uint8_t *buf;
};

static int fail(const char *what, hc_error e)
{
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "httpclient: %s: %s (%d): %s\n", what, hc_error_name(e), e, msg);
    return -1;
}

static int hcc_connect(struct hcc *h)
{
    hc_error e = h->o.tls ? hc_https_connection_new("127.0.0.1", (uint16_t)h->o.port, &h->conn)
                          : hc_connection_new("127.0.0.1", (uint16_t)h->o.port, &h->conn);
    if (e != HC_OK)
        return fail("connection_new", e);
    /* No timeout, like the floor: a timeout costs syscalls per connection (non-blocking
       connect + poll, SO_RCVTIMEO/SO_SNDTIMEO); the client process has an alarm instead. */
    if (h->o.tls && (e = hc_connection_set_ca_file(h->conn, h->o.ca)) != HC_OK)
        return fail("set_ca_file", e);
    return 0;
}

static void *hcc_open(const struct bench_opts *o)
{
    struct hcc *h = calloc(1, sizeof *h);
    h->o = *o;
    /* One read buffer per process, as a caller would keep it (idle connections share it). */
    static uint8_t *shared_buf;
    if (!shared_buf)
        shared_buf = malloc(o->bufsz);
    h->buf = shared_buf;
    if (!o->newconn) {
        if (hcc_connect(h) != 0)
            return NULL;
        hc_error e = hc_connection_connect(h->conn);
        if (e != HC_OK) {
            fail("connect", e);
            return NULL;
        }
    }
    return h;
}

static int hcc_get(void *ctx, uint64_t *bytes)
{
    struct hcc *h = ctx;
    if (h->o.newconn && hcc_connect(h) != 0)
        return -1;
    hc_error e = hc_request(h->conn, "GET", "/", NULL, 0, NULL, 0);
    if (e != HC_OK)
        return fail("request", e);
    hc_response *r;
    if ((e = hc_getresponse(h->conn, &r)) != HC_OK)
        return fail("getresponse", e);
    if (hc_response_status(r) != 200) {
        fprintf(stderr, "httpclient: status %d\n", hc_response_status(r));
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
    if (h->o.newconn) {
        hc_connection_free(h->conn);
        h->conn = NULL;
    }
    return 0;
}

static void hcc_close(void *ctx)
{
    struct hcc *h = ctx;
    hc_connection_free(h->conn);
    free(h);
}

const struct client_ops httpclient_client = {"httpclient", hcc_open, hcc_get, hcc_close, NULL, NULL};
