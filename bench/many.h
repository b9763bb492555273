/* hcbench_many: one thread driving many concurrent keep-alive connections (see README.md,
 * "Many connections from one thread").  The three clients behind one interface. */
#ifndef HCBENCH_MANY_H
#define HCBENCH_MANY_H

#include <stddef.h>
#include <stdint.h>

struct many_opts {
    int port;
    int conns;        /* concurrent connections, all opened at the start */
    int requests;     /* GETs per connection, one after the other on the same connection */
    size_t body;      /* expected body bytes of every response */
    size_t bufsz;     /* the caller's one read buffer, shared by all connections */
    double limit_s;   /* the run gives up (fails) after this many seconds */
};

struct many_totals {
    uint64_t responses; /* complete responses with status 200 */
    uint64_t bytes;     /* body bytes received */
};

struct many_client {
    const char *name;
    /* One-time setup of the library (done before the memory baseline). 0 or -1. */
    int (*init)(const struct many_opts *o);
    /* The measured run: opens o->conns connections and does o->requests GETs on each, all
       from this one thread; returns 0, or -1 after printing why. */
    int (*run)(const struct many_opts *o, struct many_totals *t);
};

extern const struct many_client many_floor;
extern const struct many_client many_curl;
#ifdef HCBENCH_HAVE_NONBLOCKING
extern const struct many_client many_httpclient;
#endif

/* Monotonic seconds, for the clients' bounded loops. */
double many_now(void);

#endif
