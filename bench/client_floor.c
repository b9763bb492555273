/*
 * The floor: what a GET costs with nothing but the system calls it must make.  A blocking
 * socket, one write of a prebuilt request, reads into one buffer, minimal parsing of the
 * status line, Content-Length or chunked framing.  Over TLS the same through SSL_write and
 * SSL_read (with read-ahead, so a small response is one read(2)); with resume and a new
 * connection per request, each handshake offers the newest session (or TLS 1.3 ticket) the
 * previous connections got (OpenSSL's new-session callback, SSL_set_session).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clients.h"

struct floor {
    struct bench_opts o;
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    SSL_SESSION *sess; /* resume: the newest session, offered at the next handshake */
    char req[128];
    size_t req_len;
    unsigned char *buf;
    size_t len; /* bytes in buf: the start of the next response, if any */
};

static int floor_connect(struct floor *f)
{
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->fd < 0) {
        perror("floor: socket");
        return -1;
    }
    int one = 1;
    setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* No socket timeouts (two more syscalls per connection): the client process has an alarm. */
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->o.port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(f->fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        perror("floor: connect");
        close(f->fd);
        f->fd = -1;
        return -1;
    }
    f->len = 0;
    if (f->ctx) {
        f->ssl = SSL_new(f->ctx);
        SSL_set_fd(f->ssl, f->fd);
        SSL_set_app_data(f->ssl, f);
        SSL_set1_host(f->ssl, "127.0.0.1");
        if (f->sess)
            SSL_set_session(f->ssl, f->sess);
        if (SSL_connect(f->ssl) != 1) {
            fprintf(stderr, "floor: TLS handshake failed\n");
            ERR_print_errors_fp(stderr);
            return -1;
        }
    }
    return 0;
}

static void floor_disconnect(struct floor *f)
{
    if (f->ssl) {
        /* No close_notify (no system call), yet a clean end for OpenSSL: SSL_free of a
           connection not shut down would mark its session not resumable. */
        SSL_set_shutdown(f->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(f->ssl);
        f->ssl = NULL;
    }
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

/* resume: keeps the newest session or ticket (TLS 1.3 tickets arrive after the handshake). */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct floor *f = SSL_get_app_data(ssl);
    SSL_SESSION_free(f->sess);
    f->sess = sess;
    return 1; /* the reference is ours */
}

static void *floor_open(const struct bench_opts *o)
{
    struct floor *f = calloc(1, sizeof *f);
    f->o = *o;
    f->fd = -1;
    /* One read buffer per process, as a caller would keep it (idle connections share it). */
    static unsigned char *shared_buf;
    if (!shared_buf)
        shared_buf = malloc(o->bufsz);
    f->buf = shared_buf;
    f->req_len = (size_t)snprintf(f->req, sizeof f->req,
                                  "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                  "Accept-Encoding: identity\r\n\r\n",
                                  o->port);
    if (o->tls) {
        f->ctx = SSL_CTX_new(TLS_client_method());
        if (SSL_CTX_load_verify_locations(f->ctx, o->ca, NULL) != 1) {
            fprintf(stderr, "floor: cannot load CA %s\n", o->ca ? o->ca : "(none)");
            return NULL;
        }
        SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_read_ahead(f->ctx, 1);
        if (o->resume) {
            SSL_CTX_set_session_cache_mode(f->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
            SSL_CTX_sess_set_new_cb(f->ctx, new_session);
        }
    }
    if (!o->newconn && floor_connect(f) != 0)
        return NULL;
    return f;
}

static ssize_t io_read(struct floor *f, void *p, size_t n)
{
    if (f->ssl) {
        int r = SSL_read(f->ssl, p, n > 0x7fffffff ? 0x7fffffff : (int)n);
        if (r > 0)
            return r;
        return SSL_get_error(f->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    for (;;) {
        ssize_t r = read(f->fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

static int io_write_all(struct floor *f, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t r;
        if (f->ssl) {
            int w = SSL_write(f->ssl, c, (int)n);
            r = w > 0 ? w : -1;
        } else {
            r = write(f->fd, c, n);
            if (r < 0 && errno == EINTR)
                continue;
        }
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Appends more bytes to buf. -1 on error or EOF. */
static int fill(struct floor *f)
{
    if (f->len == f->o.bufsz) {
        fprintf(stderr, "floor: buffer full\n");
        return -1;
    }
    ssize_t r = io_read(f, f->buf + f->len, f->o.bufsz - f->len);
    if (r <= 0) {
        fprintf(stderr, "floor: read: %s\n", r == 0 ? "EOF" : strerror(errno));
        return -1;
    }
    f->len += (size_t)r;
    return 0;
}

static void consume(struct floor *f, size_t pos)
{
    if (pos < f->len)
        memmove(f->buf, f->buf + pos, f->len - pos);
    f->len -= pos;
}

static int read_chunked(struct floor *f, size_t pos, uint64_t *bytes)
{
    enum { SIZE, DATA, DATA_END, TRAILER } st = SIZE;
    uint64_t remaining = 0;
    for (;;) {
        if (st == DATA) {
            size_t avail = f->len - pos;
            size_t take = avail < remaining ? avail : (size_t)remaining;
            pos += take;
            remaining -= take;
            *bytes += take;
            if (remaining == 0) {
                st = DATA_END;
                continue;
            }
            f->len = pos = 0;
            if (fill(f) != 0)
                return -1;
            continue;
        }
        unsigned char *nl = memchr(f->buf + pos, '\n', f->len - pos);
        if (!nl) {
            consume(f, pos);
            pos = 0;
            if (fill(f) != 0)
                return -1;
            continue;
        }
        size_t line_end = (size_t)(nl - f->buf) + 1;
        if (st == SIZE) {
            char *end;
            remaining = strtoull((const char *)f->buf + pos, &end, 16);
            if (end == (const char *)f->buf + pos) {
                fprintf(stderr, "floor: bad chunk size\n");
                return -1;
            }
            st = remaining ? DATA : TRAILER;
        } else if (st == DATA_END) {
            st = SIZE;
        } else { /* TRAILER: an empty line ends the body */
            if (line_end - pos <= 2) {
                consume(f, line_end);
                return 0;
            }
        }
        pos = line_end;
    }
}

static int floor_get(void *ctx, uint64_t *bytes)
{
    struct floor *f = ctx;
    if (f->o.newconn && floor_connect(f) != 0)
        return -1;
    if (io_write_all(f, f->req, f->req_len) != 0) {
        fprintf(stderr, "floor: write failed\n");
        return -1;
    }
    unsigned char *end;
    size_t scanned = 0;
    while (!(end = memmem(f->buf + scanned, f->len - scanned, "\r\n\r\n", 4))) {
        scanned = f->len > 3 ? f->len - 3 : 0;
        if (fill(f) != 0)
            return -1;
    }
    size_t hdr_end = (size_t)(end - f->buf) + 4;
    if (f->len < 12 || memcmp(f->buf, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "floor: unexpected status line\n");
        return -1;
    }
    /* Minimal header parsing: Content-Length, or chunked. */
    int64_t cl = -1;
    int chunked = 0;
    for (unsigned char *p = memchr(f->buf, '\n', hdr_end); p && p + 1 < f->buf + hdr_end;
         p = memchr(p + 1, '\n', (size_t)(f->buf + hdr_end - (p + 1)))) {
        const char *line = (const char *)p + 1;
        if (!strncasecmp(line, "content-length:", 15))
            cl = strtoll(line + 15, NULL, 10);
        else if (!strncasecmp(line, "transfer-encoding:", 18))
            chunked = 1;
    }
    if (chunked) {
        if (read_chunked(f, hdr_end, bytes) != 0)
            return -1;
    } else if (cl >= 0) {
        uint64_t have = f->len - hdr_end;
        if (have >= (uint64_t)cl) {
            *bytes += (uint64_t)cl;
            consume(f, hdr_end + (size_t)cl);
        } else {
            uint64_t remaining = (uint64_t)cl - have;
            *bytes += have;
            f->len = 0;
            while (remaining) {
                size_t want = remaining < f->o.bufsz ? (size_t)remaining : f->o.bufsz;
                ssize_t r = io_read(f, f->buf, want);
                if (r <= 0) {
                    fprintf(stderr, "floor: body read failed\n");
                    return -1;
                }
                remaining -= (uint64_t)r;
                *bytes += (uint64_t)r;
            }
        }
    } else {
        fprintf(stderr, "floor: no framing\n");
        return -1;
    }
    if (f->o.newconn)
        floor_disconnect(f);
    return 0;
}

static void floor_close(void *ctx)
{
    struct floor *f = ctx;
    floor_disconnect(f);
    SSL_SESSION_free(f->sess);
    if (f->ctx)
        SSL_CTX_free(f->ctx);
    free(f);
}

const struct client_ops floor_client = {"floor", floor_open, floor_get, floor_close, NULL, NULL};
