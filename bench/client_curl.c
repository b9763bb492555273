/*
 * libcurl's easy API with one reused handle: a write callback that discards, the server's
 * CA for verification (peer and host), the same buffer size as the other clients.  With
 * newconn it forbids connection reuse, so each request opens (and closes) its own; its
 * session cache (CURLOPT_SSL_SESSIONID_CACHE, on by default) resumes TLS unless resume is
 * off.  gzip: CURLOPT_ACCEPT_ENCODING "gzip" (the write callback gets decoded bytes).
 * threads: one easy handle per thread, all attached to one share handle that shares the
 * connection cache and the TLS sessions (CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_SSL_SESSION),
 * with lock callbacks over one pthread mutex per lock_data, as libcurl requires.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "clients.h"

struct curlc {
    CURL *h;
    uint64_t got;
    struct bench_opts o;
    CURLSH *share;                             /* threads: the shared one (NULL otherwise) */
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
    int is_thread;
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)h;
    (void)access;
    pthread_mutex_lock(&((struct curlc *)ud)->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    (void)h;
    pthread_mutex_unlock(&((struct curlc *)ud)->locks[data]);
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    ((struct curlc *)ud)->got += size * n;
    return size * n;
}

/* A configured easy handle writing into c. */
static CURL *easy_new(struct curlc *c, const struct bench_opts *o)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    c->h = h;
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
    if (o->newconn && o->tls && !o->resume)
        curl_easy_setopt(c->h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (o->gzip && curl_easy_setopt(c->h, CURLOPT_ACCEPT_ENCODING, "gzip") != CURLE_OK) {
        fprintf(stderr, "libcurl: CURLOPT_ACCEPT_ENCODING: built without zlib?\n");
        return NULL;
    }
    return h;
}

static void *curl_open(const struct bench_opts *o)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    struct curlc *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = *o;
    if (o->threads > 0) {
        /* The share handle; each thread's easy handle is made by curl_thread_open. */
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_init(&c->locks[i], NULL);
        c->share = curl_share_init();
        if (!c->share || curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
            curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
            curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
            fprintf(stderr, "libcurl: share handle setup failed\n");
            return NULL;
        }
        return c;
    }
    if (!easy_new(c, o))
        return NULL;
    return c;
}

static void *curl_thread_open(void *shared)
{
    struct curlc *s = shared, *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = s->o;
    c->is_thread = 1;
    if (!easy_new(c, &s->o))
        return NULL;
    curl_easy_setopt(c->h, CURLOPT_SHARE, s->share);
    /* Room in the shared connection cache for every thread's connection (default 5). */
    curl_easy_setopt(c->h, CURLOPT_MAXCONNECTS, (long)s->o.threads);
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
    if (c->h)
        curl_easy_cleanup(c->h);
    if (c->share) {
        curl_share_cleanup(c->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&c->locks[i]);
    }
    free(c);
}

const struct client_ops curl_client = {"libcurl", curl_open, curl_get, curl_close,
                                       curl_thread_open, curl_close};
