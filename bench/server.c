/*
 * hcbench_server: a cheap single-threaded epoll HTTP/1.1 server on 127.0.0.1 for the benchmark.
 *
 * Every request on a keep-alive connection gets the same canned response, precomputed at
 * start: a body of --body N bytes framed by Content-Length, or (with --chunked C) the same
 * N bytes in chunks of C bytes.  Large bodies are streamed from a static buffer, so a 1 GiB
 * body costs no memory.  Requests are delimited by "\r\n\r\n" (no request bodies); pipelined
 * requests are answered in order.
 *
 * With --gzip the body is N bytes of text-like data sent gzip-compressed
 * (Content-Encoding: gzip, Content-Length of the compressed form): one 1 MiB block is
 * compressed once at start, ending in a full flush, so its deflate bytes can be repeated
 * N / 1 MiB times inside one gzip member (then a final empty block and the trailer): a 1 GiB
 * decoded body costs the server a 1 MiB compression and no memory.
 *
 * Plain by default; --tls serves HTTPS through OpenSSL with a certificate read from
 * --cert/--key, or generated at start (a throw-away CA and a leaf for 127.0.0.1 / localhost
 * signed by it; the CA is written to --write-ca so clients can verify).  Without --resume
 * there is no session cache and no ticket; with it, OpenSSL's defaults (a server session
 * cache for TLS 1.2 session IDs, two TLS 1.3 tickets per handshake).
 *
 * On start it prints "PORT <n>\n" on stdout (and flushes) once it listens.  It exits on
 * SIGTERM/SIGINT, or when stdin reaches EOF with --stdin-exit (so it dies with its driver).
 * Each "S" read from stdin prints "HANDSHAKES full=F resumed=R\n" on stdout, the TLS
 * handshakes completed since the previous "S" (SSL_session_reused), and resets them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#define RBUF 8192
#define STREAM_UNIT (1u << 20) /* size of the static buffer large bodies are streamed from */
#define SMALL_LIMIT (256u * 1024u) /* responses up to this size are kept contiguous */

static void die(const char *what)
{
    fprintf(stderr, "hcbench_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void die_ssl(const char *what)
{
    fprintf(stderr, "hcbench_server: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ---- the canned response as a virtual byte stream ---- */

static char hdr[256];
static size_t hdr_len;
static uint64_t resp_len;     /* total bytes of one response */
static unsigned char *whole;  /* the whole response, when small enough */
/* large responses: [hdr][n_units * unit_len from unitbuf (period unitbuf_len)][tail] */
static unsigned char *unitbuf;
static size_t unitbuf_len;
static uint64_t units_len;
static unsigned char *tail;
static size_t tail_len;

static void keep_whole(void);

static void build_response(uint64_t body, uint64_t chunk)
{
    if (chunk == 0) {
        hdr_len = (size_t)snprintf(hdr, sizeof hdr,
                                   "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                   "Content-Length: %llu\r\n\r\n",
                                   (unsigned long long)body);
        unitbuf_len = body < STREAM_UNIT ? (size_t)body : STREAM_UNIT;
        if (unitbuf_len == 0)
            unitbuf_len = 1;
        unitbuf = malloc(unitbuf_len);
        if (!unitbuf)
            die("malloc");
        memset(unitbuf, 'x', unitbuf_len);
        units_len = body;
        tail = NULL;
        tail_len = 0;
    } else {
        hdr_len = (size_t)snprintf(hdr, sizeof hdr,
                                   "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n");
        char line[32];
        size_t line_len = (size_t)snprintf(line, sizeof line, "%llx\r\n", (unsigned long long)chunk);
        size_t unit = line_len + (size_t)chunk + 2;
        size_t per = STREAM_UNIT / unit ? STREAM_UNIT / unit : 1;
        uint64_t n_full = body / chunk;
        if (per > n_full && n_full > 0)
            per = (size_t)n_full;
        unitbuf_len = per * unit;
        unitbuf = malloc(unitbuf_len);
        if (!unitbuf)
            die("malloc");
        for (size_t i = 0; i < per; i++) {
            unsigned char *p = unitbuf + i * unit;
            memcpy(p, line, line_len);
            memset(p + line_len, 'x', (size_t)chunk);
            memcpy(p + line_len + chunk, "\r\n", 2);
        }
        units_len = n_full * unit;
        uint64_t rem = body % chunk;
        tail = malloc((size_t)rem + 64);
        if (!tail)
            die("malloc");
        tail_len = 0;
        if (rem) {
            tail_len += (size_t)sprintf((char *)tail, "%llx\r\n", (unsigned long long)rem);
            memset(tail + tail_len, 'x', (size_t)rem);
            tail_len += (size_t)rem;
            memcpy(tail + tail_len, "\r\n", 2);
            tail_len += 2;
        }
        memcpy(tail + tail_len, "0\r\n\r\n", 5);
        tail_len += 5;
    }
    keep_whole();
}

/* A response small enough is kept contiguous, so it goes out in one write. */
static void keep_whole(void)
{
    resp_len = hdr_len + units_len + tail_len;
    if (resp_len <= SMALL_LIMIT) {
        whole = malloc((size_t)resp_len);
        if (!whole)
            die("malloc");
        memcpy(whole, hdr, hdr_len);
        for (uint64_t o = 0; o < units_len; o += unitbuf_len) {
            size_t n = units_len - o < unitbuf_len ? (size_t)(units_len - o) : unitbuf_len;
            memcpy(whole + hdr_len + o, unitbuf, n);
        }
        if (tail_len)
            memcpy(whole + hdr_len + units_len, tail, tail_len);
    }
}

#define GZ_UNIT (1u << 20) /* decoded bytes per repeated deflate block (--gzip) */

/* 1 MiB of text-like data (log lines from a fixed pseudo-random sequence): it compresses
   about as well as ordinary text, unlike zeros or random bytes. */
static void make_text(unsigned char *p, size_t n)
{
    static const char *words[] = {"GET", "POST", "/api/v1/items", "/static/app.js", "/index.html",
                                  "/login", "worker", "cache", "miss", "hit", "upstream", "ok",
                                  "timeout", "retry", "user", "session"};
    uint32_t x = 12345;
    size_t o = 0;
    char line[160];
    while (o < n) {
        x = x * 1103515245u + 12345u;
        uint32_t y = x >> 8;
        int l = snprintf(line, sizeof line,
                         "2026-11-30T%02u:%02u:%02u.%03uZ %s %s %s status=%u bytes=%u id=%06x\n",
                         y % 24, (y >> 5) % 60, (y >> 11) % 60, (y >> 3) % 1000, words[y % 16],
                         words[(y >> 4) % 16], words[(y >> 9) % 16], 200 + (y >> 13) % 5 * 100,
                         (y >> 7) % 65536, y & 0xffffff);
        size_t take = (size_t)l < n - o ? (size_t)l : n - o;
        memcpy(p + o, line, take);
        o += take;
    }
}

/* Deflates `in` with a full flush at the end; returns the bytes written to out. */
static size_t deflate_flush(z_stream *z, unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    z->next_in = in;
    z->avail_in = (uInt)n;
    z->next_out = out;
    z->avail_out = (uInt)cap;
    if (deflate(z, Z_FULL_FLUSH) != Z_OK || z->avail_in != 0 || z->avail_out == 0) {
        fprintf(stderr, "hcbench_server: deflate failed\n");
        exit(1);
    }
    return cap - z->avail_out;
}

/* The --gzip response: [HTTP head + 10-byte gzip header][deflate unit x n][final block +
   CRC-32 + ISIZE].  After a full flush deflate starts afresh, so compressing the same block
   again gives the same bytes (checked here): the unit can be repeated. */
static void build_gzip_response(uint64_t body)
{
    uint64_t n = body / GZ_UNIT ? body / GZ_UNIT : 1;
    unsigned char *text = malloc(GZ_UNIT);
    size_t cap = compressBound(GZ_UNIT) + 64;
    unsigned char *a = malloc(cap), *b = malloc(cap), *c = malloc(cap);
    if (!text || !a || !b || !c)
        die("malloc");
    make_text(text, GZ_UNIT);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2");
    size_t la = deflate_flush(&z, text, GZ_UNIT, a, cap);
    size_t lb = deflate_flush(&z, text, GZ_UNIT, b, cap);
    size_t lc = deflate_flush(&z, text, GZ_UNIT, c, cap);
    deflateEnd(&z);
    if (la != lb + 10 || lb != lc || memcmp(a + 10, b, lb) || memcmp(b, c, lb)) {
        fprintf(stderr, "hcbench_server: deflate output after a full flush is not repeatable\n");
        exit(1);
    }
    uLong crc1 = crc32(0L, text, GZ_UNIT), crc = crc1;
    for (uint64_t i = 1; i < n; i++)
        crc = crc32_combine(crc, crc1, GZ_UNIT);
    uint64_t clen = 10 + n * lb + 2 + 8;
    hdr_len = (size_t)snprintf(hdr, sizeof hdr,
                               "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                               "Content-Encoding: gzip\r\nContent-Length: %llu\r\n\r\n",
                               (unsigned long long)clen);
    memcpy(hdr + hdr_len, a, 10);
    hdr_len += 10;
    unitbuf = b;
    unitbuf_len = lb;
    units_len = n * lb;
    uint32_t isize = (uint32_t)(n * GZ_UNIT);
    tail = malloc(16);
    if (!tail)
        die("malloc");
    tail[0] = 0x03; /* a final, empty block with fixed Huffman codes */
    tail[1] = 0x00;
    for (int i = 0; i < 4; i++) {
        tail[2 + i] = (unsigned char)(crc >> (8 * i));
        tail[6 + i] = (unsigned char)(isize >> (8 * i));
    }
    tail_len = 10;
    keep_whole();
    fprintf(stderr, "hcbench_server: gzip body: %llu decoded bytes in %llu (ratio %.2f)\n",
            (unsigned long long)(n * GZ_UNIT), (unsigned long long)clen,
            (double)(n * GZ_UNIT) / (double)clen);
    free(text);
    free(a);
    free(c);
}

/* The contiguous piece of the response starting at offset off. */
static const unsigned char *piece(uint64_t off, size_t *len)
{
    if (whole) {
        *len = (size_t)(resp_len - off);
        return whole + off;
    }
    if (off < hdr_len) {
        *len = hdr_len - (size_t)off;
        return (const unsigned char *)hdr + off;
    }
    off -= hdr_len;
    if (off < units_len) {
        uint64_t in = off % unitbuf_len;
        uint64_t left = units_len - off;
        size_t n = unitbuf_len - (size_t)in;
        if (left < n)
            n = (size_t)left;
        *len = n;
        return unitbuf + in;
    }
    off -= units_len;
    *len = tail_len - (size_t)off;
    return tail + off;
}

/* ---- TLS setup ---- */

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        die_ssl("EVP_EC_gen");
    return k;
}

static X509 *new_cert(EVP_PKEY *key, EVP_PKEY *signer_key, X509 *issuer, const char *cn, int ca)
{
    X509 *x = X509_new();
    static long serial = 1;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 7L * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    const char *exts[4][2] = {
        {"basicConstraints", ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
        {"keyUsage", ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment"},
        {"subjectAltName", ca ? NULL : "IP:127.0.0.1,DNS:localhost"},
        {"extendedKeyUsage", ca ? NULL : "serverAuth"},
    };
    for (int i = 0; i < 4; i++) {
        if (!exts[i][1])
            continue;
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        if (!e)
            die_ssl("X509V3_EXT_conf");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, signer_key, EVP_sha256()))
        die_ssl("X509_sign");
    return x;
}

static SSL_CTX *tls_setup(const char *cert, const char *key, const char *write_ca, int resume)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        die_ssl("SSL_CTX_new");
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (resume) {
        static const unsigned char sid_ctx[] = "hcbench";
        SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    if (cert) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1)
            die_ssl("loading --cert/--key");
        return ctx;
    }
    EVP_PKEY *ca_key = new_key();
    X509 *ca = new_cert(ca_key, ca_key, NULL, "hcbench test CA", 1);
    EVP_PKEY *leaf_key = new_key();
    X509 *leaf = new_cert(leaf_key, ca_key, ca, "127.0.0.1", 0);
    if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, leaf_key) != 1 ||
        SSL_CTX_add1_chain_cert(ctx, ca) != 1)
        die_ssl("installing generated certificate");
    if (write_ca) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", write_ca, (int)getpid());
        FILE *f = fopen(tmp, "w");
        if (!f || !PEM_write_X509(f, ca) || fclose(f) != 0)
            die("writing --write-ca");
        if (rename(tmp, write_ca) != 0)
            die("rename --write-ca");
    }
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
    return ctx;
}

/* ---- connections ---- */

struct conn {
    int fd;
    SSL *ssl;
    int handshaken;
    uint64_t pending;  /* responses still to send, the first one partly sent */
    uint64_t off;      /* offset within the first pending response */
    size_t rlen;       /* bytes buffered of an incomplete request */
    int want_out;      /* EPOLLOUT registered */
    int eof;           /* peer closed its side */
    char rbuf[RBUF];
};

static int ep;
static SSL_CTX *ssl_ctx;
static volatile sig_atomic_t stop;
static unsigned long hs_full, hs_resumed; /* TLS handshakes since the last "S" on stdin */

static void on_signal(int s)
{
    (void)s;
    stop = 1;
}

static void conn_close(struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl)
        SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

static void set_events(struct conn *c, int out)
{
    if (out == c->want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

/* Counts the complete requests in rbuf, keeping the tail of an incomplete one. */
static int scan_requests(struct conn *c)
{
    size_t start = 0;
    for (;;) {
        char *p = memmem(c->rbuf + start, c->rlen - start, "\r\n\r\n", 4);
        if (!p)
            break;
        start = (size_t)(p - c->rbuf) + 4;
        c->pending++;
    }
    if (start) {
        memmove(c->rbuf, c->rbuf + start, c->rlen - start);
        c->rlen -= start;
    } else if (c->rlen == RBUF) {
        return -1; /* a request head larger than we accept */
    }
    return 0;
}

/* 1: progressed or done; 0: would block; -1: error */
static int do_tls_handshake(struct conn *c)
{
    int r = SSL_accept(c->ssl);
    if (r == 1) {
        c->handshaken = 1;
        if (SSL_session_reused(c->ssl))
            hs_resumed++;
        else
            hs_full++;
        return 1;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        set_events(c, 0);
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        set_events(c, 1);
        return 0;
    }
    return -1;
}

/* Reads what is available. Returns -1 to close. */
static int do_read(struct conn *c)
{
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t n;
        if (c->ssl) {
            int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(RBUF - c->rlen));
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return 0;
                if (e == SSL_ERROR_ZERO_RETURN) {
                    c->eof = 1;
                    return 0;
                }
                return -1;
            }
            n = r;
        } else {
            n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
            if (n < 0)
                return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
            if (n == 0) {
                c->eof = 1;
                return 0;
            }
        }
        c->rlen += (size_t)n;
        if (scan_requests(c) < 0)
            return -1;
        if (c->pending > 1024)
            return 0; /* enough queued; send before reading more */
        if (!c->ssl && c->rlen < RBUF && (size_t)n < RBUF / 2)
            return 0; /* a short read: the socket is most likely drained */
    }
    return 0;
}

/* Writes pending responses. Returns -1 to close. */
static int do_write(struct conn *c)
{
    while (c->pending) {
        size_t len;
        const unsigned char *p = piece(c->off, &len);
        if (len > (1u << 30))
            len = 1u << 30;
        ssize_t n;
        if (c->ssl) {
            int r = SSL_write(c->ssl, p, (int)len);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    set_events(c, 1);
                    return 0;
                }
                return -1;
            }
            n = r;
        } else {
            n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN) {
                    set_events(c, 1);
                    return 0;
                }
                if (errno == EINTR)
                    continue;
                return -1;
            }
        }
        c->off += (uint64_t)n;
        if (c->off == resp_len) {
            c->off = 0;
            c->pending--;
        }
    }
    set_events(c, 0);
    return 0;
}

static void handle(struct conn *c, uint32_t events)
{
    if (c->ssl && !c->handshaken) {
        int r = do_tls_handshake(c);
        if (r < 0) {
            conn_close(c);
            return;
        }
        if (r == 0)
            return;
        set_events(c, 0);
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && do_read(c) < 0) {
        conn_close(c);
        return;
    }
    if (do_write(c) < 0) {
        conn_close(c);
        return;
    }
    if (c->eof && c->pending == 0)
        conn_close(c);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: hcbench_server [--port P] [--body N] [--chunked C | --gzip] [--tls [--cert F"
            " --key F] [--write-ca F] [--resume]] [--stdin-exit]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, use_tls = 0, stdin_exit = 0, resume = 0, gzip = 0;
    uint64_t body = 1000, chunk = 0;
    const char *cert = NULL, *key = NULL, *write_ca = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--port") && v) {
            port = atoi(v);
            i++;
        } else if (!strcmp(a, "--body") && v) {
            body = strtoull(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--chunked") && v) {
            chunk = strtoull(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--cert") && v) {
            cert = v;
            i++;
        } else if (!strcmp(a, "--key") && v) {
            key = v;
            i++;
        } else if (!strcmp(a, "--write-ca") && v) {
            write_ca = v;
            i++;
        } else if (!strcmp(a, "--tls")) {
            use_tls = 1;
        } else if (!strcmp(a, "--resume")) {
            resume = 1;
        } else if (!strcmp(a, "--gzip")) {
            gzip = 1;
        } else if (!strcmp(a, "--stdin-exit")) {
            stdin_exit = 1;
        } else {
            usage();
        }
    }
    struct rlimit rl = {65536, 65536};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (gzip)
        build_gzip_response(body);
    else
        build_response(body, chunk);
    if (use_tls)
        ssl_ctx = tls_setup(cert, key, write_ca, resume);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ls < 0)
        die("socket");
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr *)&sin, sizeof sin) != 0)
        die("bind");
    if (listen(ls, 65535) != 0) /* the kernel caps it at net.core.somaxconn */
        die("listen");
    socklen_t sl = sizeof sin;
    getsockname(ls, (struct sockaddr *)&sin, &sl);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    static char listen_tag, stdin_tag;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    if (stdin_exit) {
        struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &stdin_tag};
        epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);
    }
    printf("PORT %d\n", ntohs(sin.sin_port));
    fflush(stdout);

    struct epoll_event evs[256];
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, 1000);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &listen_tag) {
                for (int k = 0; k < 256; k++) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *c = calloc(1, sizeof *c);
                    if (!c)
                        die("calloc");
                    c->fd = fd;
                    if (ssl_ctx) {
                        c->ssl = SSL_new(ssl_ctx);
                        SSL_set_fd(c->ssl, fd);
                    }
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
            } else if (tag == &stdin_tag) {
                char b[64];
                ssize_t got = read(0, b, sizeof b);
                if (got <= 0)
                    stop = 1;
                for (ssize_t k = 0; k < got; k++)
                    if (b[k] == 'S') {
                        printf("HANDSHAKES full=%lu resumed=%lu\n", hs_full, hs_resumed);
                        fflush(stdout);
                        hs_full = hs_resumed = 0;
                    }
            } else {
                handle(tag, evs[i].events);
            }
        }
    }
    return 0;
}
