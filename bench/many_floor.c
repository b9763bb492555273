/*
 * The floor of the many-connections scenario: what one thread driving N keep-alive
 * connections costs with nothing but the system calls it must make.  Level-triggered epoll;
 * a non-blocking connect registered for EPOLLOUT, then one EPOLL_CTL_MOD to EPOLLIN for the
 * life of the connection; per request one write of a prebuilt request and reads into the one
 * shared buffer; minimal parsing (status line, Content-Length).  A head split across reads is
 * kept in a small buffer allocated only then.  A connection's state is a few words.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "many.h"

#define HEAD_MAX 4096

struct fconn {
    int fd;
    int done;           /* complete responses */
    uint32_t remaining; /* body bytes still to come; 0 while reading a head */
    uint16_t head_len;  /* bytes kept of a head split across reads */
    uint8_t connecting;
    char *head;         /* NULL unless a head was split */
};

static char req[128];
static size_t req_len;

static int floor_init(const struct many_opts *o)
{
    req_len = (size_t)snprintf(req, sizeof req,
                               "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept-Encoding: identity\r\n\r\n",
                               o->port);
    return 0;
}

static int open_one(int ep, const struct many_opts *o, struct fconn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("floor: socket");
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) != 0 && errno != EINPROGRESS) {
        perror("floor: connect");
        return -1;
    }
    c->connecting = 1;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        perror("floor: epoll_ctl ADD");
        return -1;
    }
    return 0;
}

static int send_request(struct fconn *c)
{
    ssize_t n = send(c->fd, req, req_len, MSG_NOSIGNAL);
    if (n != (ssize_t)req_len) { /* a 70-byte request always fits an empty send buffer */
        fprintf(stderr, "floor: send: %s\n", n < 0 ? strerror(errno) : "short");
        return -1;
    }
    return 0;
}

/* Parses a complete head in p[0..len): returns its length and sets *cl, or 0 when the head is
   not complete yet, or -1 on a bad head. */
static long parse_head(const char *p, size_t len, uint32_t *cl)
{
    const char *end = memmem(p, len, "\r\n\r\n", 4);
    if (!end)
        return len > HEAD_MAX ? -1 : 0;
    if (len < 12 || memcmp(p, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "floor: unexpected status line\n");
        return -1;
    }
    long cl_v = -1;
    for (const char *l = memchr(p, '\n', (size_t)(end - p)); l && l < end;
         l = memchr(l + 1, '\n', (size_t)(end - (l + 1)))) {
        if (!strncasecmp(l + 1, "content-length:", 15))
            cl_v = strtol(l + 16, NULL, 10);
    }
    if (cl_v < 0) {
        fprintf(stderr, "floor: no Content-Length\n");
        return -1;
    }
    *cl = (uint32_t)cl_v;
    return (long)(end - p) + 4;
}

/* The connection is readable: one read, then as much parsing as it allows.
   Returns 1 when the connection has done all its requests, 0 to go on, -1 on error. */
static int on_readable(struct fconn *c, const struct many_opts *o, unsigned char *buf,
                       struct many_totals *t)
{
    size_t have = 0;
    if (c->head_len) { /* continue a split head */
        memcpy(buf, c->head, c->head_len);
        have = c->head_len;
    }
    ssize_t n = read(c->fd, buf + have, o->bufsz - have);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return 0;
        fprintf(stderr, "floor: read: %s\n", n == 0 ? "EOF" : strerror(errno));
        return -1;
    }
    have += (size_t)n;
    size_t pos = 0;
    while (pos < have) {
        if (c->remaining == 0) {
            uint32_t cl = 0;
            long h = parse_head((const char *)buf + pos, have - pos, &cl);
            if (h < 0)
                return -1;
            if (h == 0) {
                if (!c->head && !(c->head = malloc(HEAD_MAX)))
                    return -1;
                memcpy(c->head, buf + pos, have - pos);
                c->head_len = (uint16_t)(have - pos);
                return 0;
            }
            pos += (size_t)h;
            c->remaining = cl;
            if (cl == 0)
                goto complete;
            continue;
        }
        size_t take = have - pos < c->remaining ? have - pos : c->remaining;
        pos += take;
        c->remaining -= (uint32_t)take;
        t->bytes += take;
        if (c->remaining)
            continue;
    complete:
        t->responses++;
        if (pos != have) {
            fprintf(stderr, "floor: bytes after the response\n");
            return -1;
        }
        if (++c->done == o->requests)
            return 1;
        if (send_request(c) != 0)
            return -1;
    }
    c->head_len = 0;
    return 0;
}

static int floor_run(const struct many_opts *o, struct many_totals *t)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct fconn *cs = calloc((size_t)o->conns, sizeof *cs);
    unsigned char *buf = malloc(o->bufsz);
    if (ep < 0 || !cs || !buf)
        return -1;
    int rc = -1, active = 0;
    for (int i = 0; i < o->conns; i++, active++)
        if (open_one(ep, o, &cs[i]) != 0)
            goto out;
    struct epoll_event evs[512];
    double give_up = many_now() + o->limit_s;
    while (active > 0) {
        int n = epoll_wait(ep, evs, 512, 1000);
        if (n < 0 && errno != EINTR) {
            perror("floor: epoll_wait");
            goto out;
        }
        if (many_now() > give_up) {
            fprintf(stderr, "floor: %d connections not done after %.0f s\n", active, o->limit_s);
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct fconn *c = evs[i].data.ptr;
            if (c->connecting) {
                /* Writable: connected (or failed, which the send reports). */
                c->connecting = 0;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                if (send_request(c) != 0 || epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
                    goto out;
                continue;
            }
            int r = on_readable(c, o, buf, t);
            if (r < 0)
                goto out;
            if (r == 1) {
                close(c->fd); /* also leaves the epoll set */
                c->fd = -1;
                active--;
            }
        }
    }
    rc = 0;
out:
    for (int i = 0; i < o->conns; i++) {
        if (cs[i].fd > 0)
            close(cs[i].fd);
        free(cs[i].head);
    }
    free(cs);
    free(buf);
    close(ep);
    return rc;
}

const struct many_client many_floor = {"floor", floor_init, floor_run};
