/*
 * libcurl's easy API with one reused handle: a write callback that discards, the server's
 * CA for verification (peer and host), the same buffer size as the other clients.  With
 * newconn it forbids connection reuse, so each request opens (and closes) its own.
 */
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "clients.h"

struct curlc {
    CURL *h;
    uint64_t got;
};

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    ((struct curlc *)ud)->got += size * n;
    return size * n;
}

static void *curl_open(const struct bench_opts *o)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    struct curlc *c = calloc(1, sizeof *c);
    c->h = curl_easy_init();
    if (!c->h)
        return NULL;
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/", o->tls ? "https" : "http", o->port);
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_PROXY, "");
    curl_easy_setopt(c->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 600L);
    /* The same read size as the others; idle connections keep curl's default (16 KiB),
       since curl allocates this buffer per handle. */
    if (!o->idle && curl_easy_setopt(c->h, CURLOPT_BUFFERSIZE, (long)o->bufsz) != CURLE_OK)
        curl_easy_setopt(c->h, CURLOPT_BUFFERSIZE, 512L * 1024);
    if (o->tls) {
        curl_easy_setopt(c->h, CURLOPT_CAINFO, o->ca);
        curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (o->newconn)
        curl_easy_setopt(c->h, CURLOPT_FORBID_REUSE, 1L);
    return c;
}

static int curl_get(void *ctx, uint64_t *bytes)
{
    struct curlc *c = ctx;
    c->got = 0;
    CURLcode rc = curl_easy_perform(c->h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "libcurl: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "libcurl: status %ld\n", status);
        return -1;
    }
    *bytes += c->got;
    return 0;
}

static void curl_close(void *ctx)
{
    struct curlc *c = ctx;
    curl_easy_cleanup(c->h);
    free(c);
}

const struct client_ops curl_client = {"libcurl", curl_open, curl_get, curl_close};
