/* hcbench: the clients behind one interface. */
#ifndef HCBENCH_CLIENTS_H
#define HCBENCH_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

struct bench_opts {
    int port;
    int tls;
    const char *ca;   /* PEM file with the server's CA (TLS) */
    size_t bufsz;     /* the one reused read buffer, the same size for every client */
    int newconn;      /* a new connection for every request */
    int idle;         /* many connections kept open (the idle scenario) */
    int resume;       /* newconn over TLS: resume sessions (each client's own session cache) */
    int gzip;         /* ask for gzip and decode it (the body counted is the decoded one) */
    int threads;      /* > 0: thread_open is called this many times, each from its own thread */
};

struct client_ops {
    const char *name;
    /* Sets up a client (one connection, opened eagerly where the API allows). NULL: failed. */
    void *(*open)(const struct bench_opts *o);
    /* One GET / with the whole body read and discarded; adds the body bytes to *bytes.
       Returns 0, or -1 after printing why. */
    int (*get)(void *ctx, uint64_t *bytes);
    void (*close)(void *ctx);
    /* Threads (optional; NULL: the client has no threads scenario).  thread_open makes the
       per-thread context from open's shared one, in the thread that uses it; get is then
       called with it; thread_close ends it, before close ends the shared one. */
    void *(*thread_open)(void *shared);
    void (*thread_close)(void *tctx);
};

extern const struct client_ops floor_client;
extern const struct client_ops curl_client;
#ifdef HCBENCH_HAVE_HTTPCLIENT
extern const struct client_ops httpclient_client;
#endif
#ifdef HCBENCH_HAVE_HCCLIENT
extern const struct client_ops hcclient_client;
#endif

#endif
