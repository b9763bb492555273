/*
 * httpclient's non-blocking mode in the many-connections scenario, as docs/nonblocking.md
 * describes it: every connection in non-blocking mode (hc_connection_set_blocking(conn,
 * false)); the calls in httplib's order (connect, hc_request, hc_getresponse,
 * hc_response_read until it gives 0 bytes, hc_response_free), each repeated with the same
 * arguments after HC_ERR_WOULD_BLOCK once epoll reports the descriptor ready.  After every
 * HC_ERR_WOULD_BLOCK the registration follows hc_connection_fileno and
 * hc_connection_want / hc_response_want, and is changed only when they differ from what is
 * registered.  Once a request is written the loop waits for EPOLLIN before hc_getresponse,
 * as the floor waits before its read.  hc_connection_timeout_ms bounds the wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <httpclient.h>

#include "many.h"

enum step { CONNECT, REQUEST, RESPONSE, BODY, FINISHED };

struct hconn {
    hc_connection *conn;
    hc_response *resp;
    int fd;          /* the descriptor registered with epoll, -1 none */
    uint32_t events; /* its registered events */
    int done;        /* complete responses */
    uint8_t step;
    int64_t due_ms;  /* when hc_connection_timeout_ms asked to be called again; -1 none */
};

struct hloop {
    int ep;
    unsigned char *buf;
    const struct many_opts *o;
    struct many_totals *t;
    int timed; /* connections with a due time */
};

static int64_t now_ms(void)
{
    return (int64_t)(many_now() * 1000.0);
}

static int fail(const char *what, hc_error err)
{
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "httpclient: %s: %s (%s)\n", what, msg, hc_error_name(err));
    return -1;
}

/* Makes the epoll registration match fd and events; a descriptor the library replaced is
   dropped from the set (closing it already did, unless it was duplicated). */
static int watch(struct hloop *l, struct hconn *c, int fd, uint32_t events)
{
    if (fd == c->fd && events == c->events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (fd != c->fd && c->fd >= 0)
        epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL); /* EBADF when already closed: fine */
    int op = fd == c->fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->ep, op, fd, &ev) != 0 &&
        /* the same number for a new descriptor (MOD: not in the set), or the reverse */
        epoll_ctl(l->ep, op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
        perror("httpclient: epoll_ctl");
        return -1;
    }
    c->fd = fd;
    c->events = events;
    return 0;
}

/* After HC_ERR_WOULD_BLOCK: wait for what the call wants, on the connection's descriptor
   now, and no later than hc_connection_timeout_ms. */
static int wait_for(struct hloop *l, struct hconn *c, int want, uint32_t dflt)
{
    uint32_t events = (want & HC_WANT_READ ? EPOLLIN : 0u) | (want & HC_WANT_WRITE ? EPOLLOUT : 0u);
    int64_t t = hc_connection_timeout_ms(c->conn);
    int64_t due = t < 0 ? -1 : now_ms() + t;
    l->timed += (due >= 0) - (c->due_ms >= 0);
    c->due_ms = due;
    return watch(l, c, hc_connection_fileno(c->conn), events ? events : dflt);
}

/* Runs the connection's calls as far as they go without waiting. 1: all its requests done;
   0: waiting; -1: failed. */
static int advance(struct hloop *l, struct hconn *c)
{
    for (;;) {
        hc_error err = HC_OK;
        size_t n = 0;
        switch (c->step) {
        case CONNECT:
            err = hc_connection_connect(c->conn);
            if (err == HC_ERR_WOULD_BLOCK)
                return wait_for(l, c, hc_connection_want(c->conn), EPOLLOUT);
            if (err != HC_OK)
                return fail("connect", err);
            c->step = REQUEST;
            break;
        case REQUEST:
            err = hc_request(c->conn, "GET", "/", NULL, 0, NULL, 0);
            if (err == HC_ERR_WOULD_BLOCK)
                return wait_for(l, c, hc_connection_want(c->conn), EPOLLOUT);
            if (err != HC_OK)
                return fail("hc_request", err);
            c->step = RESPONSE;
            /* The request is out: the answer cannot be there yet, so wait for it. */
            return wait_for(l, c, HC_WANT_READ, EPOLLIN);
        case RESPONSE:
            err = hc_getresponse(c->conn, &c->resp);
            if (err == HC_ERR_WOULD_BLOCK)
                return wait_for(l, c, hc_connection_want(c->conn), EPOLLIN);
            if (err != HC_OK)
                return fail("hc_getresponse", err);
            if (hc_response_status(c->resp) != 200) {
                fprintf(stderr, "httpclient: status %d\n", hc_response_status(c->resp));
                return -1;
            }
            c->step = BODY;
            break;
        case BODY:
            err = hc_response_read(c->resp, l->buf, l->o->bufsz, &n);
            if (err == HC_ERR_WOULD_BLOCK)
                return wait_for(l, c, hc_response_want(c->resp), EPOLLIN);
            if (err != HC_OK)
                return fail("hc_response_read", err);
            l->t->bytes += n;
            if (n > 0)
                break;
            hc_response_free(c->resp);
            c->resp = NULL;
            l->t->responses++;
            if (++c->done == l->o->requests) {
                c->step = FINISHED;
                return 1;
            }
            c->step = REQUEST;
            break;
        default:
            return 1;
        }
    }
}

static void finish(struct hloop *l, struct hconn *c)
{
    /* No EPOLL_CTL_DEL: hc_connection_free closes the descriptor, which takes it out of the
       epoll set, as the floor's close does. */
    c->fd = -1;
    l->timed -= c->due_ms >= 0;
    c->due_ms = -1;
    hc_response_free(c->resp);
    c->resp = NULL;
    hc_connection_free(c->conn);
    c->conn = NULL;
}

static int hc_init(const struct many_opts *o)
{
    (void)o;
    return hc_version() ? 0 : -1;
}

static int hc_run(const struct many_opts *o, struct many_totals *t)
{
    struct hloop l = {.ep = epoll_create1(EPOLL_CLOEXEC), .buf = malloc(o->bufsz), .o = o, .t = t};
    struct hconn *cs = calloc((size_t)o->conns, sizeof *cs);
    if (l.ep < 0 || !l.buf || !cs)
        return -1;
    int rc = -1, active = 0;
    for (int i = 0; i < o->conns; i++) {
        struct hconn *c = &cs[i];
        c->fd = -1;
        c->due_ms = -1;
        hc_error err = hc_connection_new("127.0.0.1", (uint16_t)o->port, &c->conn);
        if (err == HC_OK)
            err = hc_connection_set_blocking(c->conn, false);
        if (err != HC_OK) {
            fail("hc_connection_new/set_blocking", err);
            goto out;
        }
        active++;
        int r = advance(&l, c);
        if (r < 0)
            goto out;
        if (r == 1) {
            finish(&l, c);
            active--;
        }
    }
    struct epoll_event evs[512];
    double give_up = many_now() + o->limit_s;
    while (active > 0) {
        int tmo = 1000;
        int64_t now = now_ms();
        if (l.timed > 0) /* rare: a connection asked to be called back (scan them all) */
            for (int i = 0; i < o->conns; i++)
                if (cs[i].due_ms >= 0 && cs[i].due_ms - now < tmo)
                    tmo = cs[i].due_ms <= now ? 0 : (int)(cs[i].due_ms - now);
        int n = epoll_wait(l.ep, evs, 512, tmo);
        if (n < 0 && errno != EINTR) {
            perror("httpclient: epoll_wait");
            goto out;
        }
        if (many_now() > give_up) {
            fprintf(stderr, "httpclient: %d connections not done after %.0f s\n", active, o->limit_s);
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct hconn *c = evs[i].data.ptr;
            if (!c->conn)
                continue;
            int r = advance(&l, c);
            if (r < 0)
                goto out;
            if (r == 1) {
                finish(&l, c);
                active--;
            }
        }
        if (l.timed > 0) {
            now = now_ms();
            for (int i = 0; i < o->conns; i++) {
                struct hconn *c = &cs[i];
                if (!c->conn || c->due_ms < 0 || c->due_ms > now)
                    continue;
                int r = advance(&l, c);
                if (r < 0)
                    goto out;
                if (r == 1) {
                    finish(&l, c);
                    active--;
                }
            }
        }
    }
    rc = 0;
out:
    for (int i = 0; i < o->conns; i++)
        if (cs[i].conn)
            finish(&l, &cs[i]);
    free(cs);
    free(l.buf);
    close(l.ep);
    return rc;
}

const struct many_client many_httpclient = {"httpclient", hc_init, hc_run};
