/*
 * hcget: a small command-line fetcher on httpclient's URL-level client (hc_client), with
 * curl's familiar flags. docs/hcget.1 is its manual page (exit codes included):
 *
 *   hcget [options] URL
 *
 * Redirects are followed by default (-L is accepted and changes nothing; --no-location or
 * --max-redirs 0 turns it off): hc_client's redirect rules make that safe (only http and https,
 * no https -> http, credentials never carried to another origin), which is the reason curl
 * leaves it off. The body is written to stdout, or to FILE with -o; a progress bar goes to
 * stderr when stderr is a terminal and the body is over 4 MiB.
 */
#include <httpclient.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <io.h> /* _setmode */
#endif

#define MAX_HEADERS 64
#define PROGRESS_MIN (4u << 20)

/* Exit codes (curl's numbers where curl has one; docs/hcget.1 lists them). */
enum {
    EXIT_OK = 0,
    EXIT_ERROR = 1,           /* any other library error */
    EXIT_USAGE = 2,
    EXIT_BAD_URL = 3,
    EXIT_PROXY = 5,           /* the proxy: unreachable, 407, refused tunnel */
    EXIT_HOST_NOT_FOUND = 6,
    EXIT_CONNECT = 7,         /* connection refused or reset */
    EXIT_HTTP_ERROR = 22,     /* a 4xx or 5xx status */
    EXIT_WRITE = 23,          /* -o FILE can't be written */
    EXIT_TIMEOUT = 28,
    EXIT_TLS = 35,
    EXIT_TOO_MANY_REDIRECTS = 47,
    EXIT_CERTIFICATE = 60,
    EXIT_DECODING = 61,       /* a compressed body that does not decode, or over the cap */
};

static int exit_code_of(hc_error err) {
    if (hc_error_is(err, HC_ERR_INVALID_URL)) return EXIT_BAD_URL;
    if (hc_error_is(err, HC_ERR_PROXY)) return EXIT_PROXY;
    if (hc_error_is(err, HC_ERR_HOST_NOT_FOUND)) return EXIT_HOST_NOT_FOUND;
    if (hc_error_is(err, HC_ERR_CONNECTION_REFUSED) || hc_error_is(err, HC_ERR_CONNECTION_RESET))
        return EXIT_CONNECT;
    if (hc_error_is(err, HC_ERR_TIMEOUT)) return EXIT_TIMEOUT;
    if (hc_error_is(err, HC_ERR_CERTIFICATE_VERIFY)) return EXIT_CERTIFICATE;
    if (hc_error_is(err, HC_ERR_TLS)) return EXIT_TLS;
    if (hc_error_is(err, HC_ERR_TOO_MANY_REDIRECTS)) return EXIT_TOO_MANY_REDIRECTS;
    if (hc_error_is(err, HC_ERR_CONTENT_DECODING)) return EXIT_DECODING;
    return EXIT_ERROR;
}

struct opts {
    const char *method, *data, *url, *out, *write_out;
    const char *cacert, *capath, *cert, *key, *proxy, *noproxy, *user;
    int include, head, verbose, insecure, silent, compressed, max_redirs;
    double timeout, connect_timeout, max_time;
    hc_header headers[MAX_HEADERS];
    char *header_copies[MAX_HEADERS];
    size_t n_headers;
};

/* What -w can show. */
struct outcome {
    int status, redirects, exit_code;
    unsigned long long size;
    double time_total, time_head;
    const char *url, *redirect_url, *content_type;
    char errmsg[512];
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void) {
    fprintf(stderr,
            "usage: hcget [options] URL\n"
            "  -X METHOD            request method (default GET; POST with -d)\n"
            "  -H 'Name: value'     add a request header (repeatable)\n"
            "  -d DATA | -d @FILE   send DATA (or FILE's bytes) as the body\n"
            "  -I, --head           HEAD; print the status line and headers\n"
            "  -i, --include        print the status line and headers before the body\n"
            "  -o, --output FILE    write the body to FILE instead of stdout\n"
            "  -w, --write-out FMT  print FMT after the transfer (%%{http_code}, %%{url_effective},\n"
            "                       %%{num_redirects}, %%{redirect_url}, %%{size_download},\n"
            "                       %%{content_type}, %%{time_total}, %%{time_starttransfer},\n"
            "                       %%{exitcode}, %%{errormsg}; \\n \\t \\r)\n"
            "  -L, --location       follow redirects (the default)\n"
            "      --no-location    do not follow redirects\n"
            "      --max-redirs N   follow at most N redirects (default 10)\n"
            "      --compressed     ask for gzip, deflate, br, zstd and decode the body\n"
            "  -x, --proxy URL      use this proxy (http://[user:password@]host:port)\n"
            "      --noproxy LIST   hosts that bypass the proxy (no_proxy syntax)\n"
            "  -u, --user U:P       Basic credentials\n"
            "  -m, --max-time S     limit for the whole transfer, redirects included\n"
            "      --connect-timeout S   limit for each connection attempt\n"
            "      --timeout S      limit for each read and write\n"
            "  -k, --insecure       do not verify the server's certificate\n"
            "      --cacert FILE    trust the CA certificates of FILE\n"
            "      --capath DIR     trust the CA certificates of DIR\n"
            "      --cert FILE --key FILE   client certificate and key (PEM)\n"
            "  -s, --silent         no progress bar, no error message\n"
            "  -v, --verbose        show the request and the response head on stderr\n");
    return EXIT_USAGE;
}

static int number(const char *s, double *out) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0') return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o) {
    o->max_redirs = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(s, l) ((!strcmp(a, s) || !strcmp(a, l)) && next && ++i)
#define FLAG(s, l) (!strcmp(a, s) || !strcmp(a, l))
        if (ARG("-X", "--request")) o->method = next;
        else if (ARG("-d", "--data")) o->data = next;
        else if (ARG("-o", "--output")) o->out = next;
        else if (ARG("-w", "--write-out")) o->write_out = next;
        else if (ARG("-x", "--proxy")) o->proxy = next;
        else if (ARG("--noproxy", "--noproxy")) o->noproxy = next;
        else if (ARG("-u", "--user")) o->user = next;
        else if (ARG("--cacert", "--cacert")) o->cacert = next;
        else if (ARG("--capath", "--capath")) o->capath = next;
        else if (ARG("--cert", "--cert")) o->cert = next;
        else if (ARG("--key", "--key")) o->key = next;
        else if (ARG("-m", "--max-time")) {
            if (number(next, &o->max_time)) return -1;
        } else if (ARG("--connect-timeout", "--connect-timeout")) {
            if (number(next, &o->connect_timeout)) return -1;
        } else if (ARG("--timeout", "--timeout")) {
            if (number(next, &o->timeout)) return -1;
        } else if (ARG("--max-redirs", "--max-redirs")) {
            double n;
            if (number(next, &n) || n < 0 || n > 1000000) return -1;
            o->max_redirs = (int)n;
        } else if (ARG("-H", "--header")) {
            char *copy = strdup(next);
            char *colon = copy ? strchr(copy, ':') : NULL;
            const char *value;
            if (!colon || o->n_headers == MAX_HEADERS) {
                free(copy);
                return -1;
            }
            *colon = '\0';
            value = colon + 1;
            while (*value == ' ' || *value == '\t') value++;
            o->header_copies[o->n_headers] = copy;
            o->headers[o->n_headers].name = copy;
            o->headers[o->n_headers].value = value;
            o->n_headers++;
        } else if (FLAG("-i", "--include")) o->include = 1;
        else if (FLAG("-I", "--head")) o->head = 1;
        else if (FLAG("-v", "--verbose")) o->verbose = 1;
        else if (FLAG("-k", "--insecure")) o->insecure = 1;
        else if (FLAG("-s", "--silent")) o->silent = 1;
        else if (FLAG("-L", "--location")) o->max_redirs = o->max_redirs ? o->max_redirs : 10;
        else if (FLAG("--no-location", "--no-location")) o->max_redirs = 0;
        else if (FLAG("--compressed", "--compressed")) o->compressed = 1;
        else if (a[0] != '-' && !o->url) o->url = a;
        else return -1;
#undef ARG
#undef FLAG
    }
    if (!o->url || (o->cert != NULL) != (o->key != NULL)) return -1;
    if (!o->method) o->method = o->head ? "HEAD" : o->data ? "POST" : "GET";
    return 0;
}

/* Sets the client's options; returns the error of the first that fails. */
static hc_error configure(hc_client *c, const struct opts *o, const char **what) {
    hc_error err = HC_OK;
#define TRY(expr, name) \
    if (err == HC_OK && (err = (expr)) != HC_OK) *what = name
    TRY(hc_client_set_max_redirects(c, o->max_redirs), "--max-redirs");
    TRY(hc_client_set_accept_encoding(c, o->compressed ? HC_ENCODING_ALL : 0), "--compressed");
    if (o->proxy) TRY(hc_client_set_proxy(c, o->proxy), "--proxy");
    if (o->noproxy) TRY(hc_client_set_no_proxy(c, o->noproxy), "--noproxy");
    if (o->timeout > 0) TRY(hc_client_set_timeout(c, o->timeout), "--timeout");
    if (o->connect_timeout > 0) TRY(hc_client_set_connect_timeout(c, o->connect_timeout), "--connect-timeout");
    if (o->max_time > 0) TRY(hc_client_set_total_timeout(c, o->max_time), "--max-time");
    if (o->cacert) TRY(hc_client_set_ca_file(c, o->cacert), "--cacert");
    if (o->capath) TRY(hc_client_set_ca_path(c, o->capath), "--capath");
    if (o->cert) TRY(hc_client_set_client_cert(c, o->cert, o->key), "--cert");
    if (o->insecure) TRY(hc_client_set_verify(c, false), "--insecure");
#undef TRY
    return err;
}

/* Builds the call: headers, body, credentials. *fd receives a file opened for -d @FILE. */
static hc_error build(hc_call *call, const struct opts *o, int *fd, const char **what) {
    hc_error err = HC_OK;
    for (size_t i = 0; err == HC_OK && i < o->n_headers; i++)
        if ((err = hc_call_add_header(call, o->headers[i].name, o->headers[i].value, 0)) != HC_OK)
            *what = "-H";
    if (err == HC_OK && o->data && o->data[0] == '@') {
        *fd = open(o->data + 1, O_RDONLY);
        if (*fd < 0) {
            fprintf(stderr, "hcget: -d %s: %s\n", o->data, strerror(errno));
            return HC_ERR_OS;
        }
        if ((err = hc_call_set_body_fd(call, *fd)) != HC_OK) *what = "-d";
    } else if (err == HC_OK && o->data) {
        if ((err = hc_call_set_body(call, (const uint8_t *)o->data, strlen(o->data))) != HC_OK)
            *what = "-d";
    }
    if (err == HC_OK && o->user) {
        char *copy = strdup(o->user);
        char *colon = copy ? strchr(copy, ':') : NULL;
        if (colon) *colon = '\0';
        if (copy) err = hc_call_set_auth(call, copy, colon ? colon + 1 : "", HC_AUTH_BASIC);
        else err = HC_ERR_OS;
        if (err != HC_OK) *what = "-u";
        free(copy);
    }
    return err;
}

static void print_head(FILE *to, hc_response *r) {
    int v = hc_response_version(r);
    fprintf(to, "HTTP/%s %d %s\r\n", v == 10 ? "1.0" : v == 9 ? "0.9" : "1.1",
            hc_response_status(r), hc_response_reason(r));
    for (size_t i = 0; i < hc_response_header_count(r); i++) {
        const char *name, *value;
        if (hc_response_header(r, i, &name, &value) == HC_OK) fprintf(to, "%s: %s\r\n", name, value);
    }
    fprintf(to, "\r\n");
}

/* A one-line progress bar on stderr, redrawn at most 10 times a second. */
struct progress {
    int on;
    long long total; /* -1: unknown */
    double start, last;
};

static void progress_draw(struct progress *p, unsigned long long done, int final) {
    double t = now();
    char bar[31];
    int filled;
    if (!p->on || (!final && t - p->last < 0.1)) return;
    p->last = t;
    filled = p->total > 0 ? (int)(30.0 * (double)done / (double)p->total) : (int)((done >> 20) % 31);
    if (filled > 30) filled = 30;
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, ' ', (size_t)(30 - filled));
    bar[30] = '\0';
    if (p->total > 0)
        fprintf(stderr, "\r[%s] %3d%% %8.1f MiB %7.1f MiB/s", bar, (int)(100.0 * (double)done / (double)p->total),
                (double)done / 1048576.0, (double)done / 1048576.0 / (t - p->start + 1e-9));
    else
        fprintf(stderr, "\r[%s] %8.1f MiB %7.1f MiB/s", bar, (double)done / 1048576.0,
                (double)done / 1048576.0 / (t - p->start + 1e-9));
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

static void write_out(const char *fmt, const struct outcome *oc) {
    for (const char *p = fmt; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            putchar(*p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p);
        } else if (*p == '%' && p[1] == '%') {
            putchar('%');
            p++;
        } else if (*p == '%' && p[1] == '{' && strchr(p, '}')) {
            const char *name = p + 2;
            size_t len = (size_t)(strchr(p, '}') - name);
#define IS(s) (len == strlen(s) && !strncmp(name, s, len))
            if (IS("http_code") || IS("response_code")) printf("%03d", oc->status > 0 ? oc->status : 0);
            else if (IS("url_effective")) fputs(oc->url ? oc->url : "", stdout);
            else if (IS("num_redirects")) printf("%d", oc->redirects);
            else if (IS("redirect_url")) fputs(oc->redirect_url ? oc->redirect_url : "", stdout);
            else if (IS("size_download")) printf("%llu", oc->size);
            else if (IS("content_type")) fputs(oc->content_type ? oc->content_type : "", stdout);
            else if (IS("time_total")) printf("%.6f", oc->time_total);
            else if (IS("time_starttransfer")) printf("%.6f", oc->time_head);
            else if (IS("exitcode")) printf("%d", oc->exit_code);
            else if (IS("errormsg")) fputs(oc->errmsg, stdout);
            else fwrite(p, 1, len + 3, stdout); /* unknown: printed as is */
#undef IS
            p = name + len;
        } else {
            putchar(*p);
        }
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    struct opts o;
    struct outcome oc;
    struct progress prog;
    hc_client *client = NULL;
    hc_call *call = NULL;
    hc_response *resp = NULL;
    FILE *out = stdout;
    int fd = -1, code = EXIT_OK;
    const char *what = "request";
    hc_error err;
    double t0 = now();

#ifdef _WIN32
    _setmode(_fileno(stdout), _O_BINARY); /* the body as received: no LF -> CRLF */
#endif
    memset(&o, 0, sizeof o);
    memset(&oc, 0, sizeof oc);
    memset(&prog, 0, sizeof prog);
    if (parse_args(argc, argv, &o) != 0) {
        code = usage();
        goto done;
    }
    if ((err = hc_client_new(&client)) != HC_OK) goto failed;
    if ((err = configure(client, &o, &what)) != HC_OK) goto failed;
    what = "URL";
    if ((err = hc_call_new(client, o.method, o.url, &call)) != HC_OK) goto failed;
    what = "request";
    if ((err = build(call, &o, &fd, &what)) != HC_OK) goto failed;
    if (o.verbose) fprintf(stderr, "> %s %s\n", o.method, o.url);
    what = o.url;
    if ((err = hc_call_send(call, &resp)) != HC_OK) goto failed;
    oc.time_head = now() - t0;
    oc.status = hc_response_status(resp);
    oc.redirects = hc_response_redirect_count(resp);
    oc.url = hc_response_url(resp);
    oc.redirect_url = hc_response_redirect_location(resp);
    oc.content_type = hc_response_getheader(resp, "Content-Type");
    if (o.verbose) {
        fprintf(stderr, "< %s after %d redirect(s)\n", oc.url, oc.redirects);
        print_head(stderr, resp);
    }
    if (o.out && !(out = fopen(o.out, "wb"))) {
        fprintf(stderr, "hcget: -o %s: %s\n", o.out, strerror(errno));
        out = stdout;
        code = EXIT_WRITE;
        goto done;
    }
    if (o.include || o.head) print_head(out, resp);
    prog.total = hc_response_length(resp);
    prog.start = prog.last = now();
    prog.on = !o.silent && isatty(STDERR_FILENO) &&
              (prog.total < 0 || prog.total >= (long long)PROGRESS_MIN);
    {
        uint8_t buf[65536];
        size_t n = 0;
        int shown = 0;
        while ((err = hc_response_read(resp, buf, sizeof buf, &n)) == HC_OK && n > 0) {
            if (fwrite(buf, 1, n, out) != n) {
                fprintf(stderr, "hcget: writing the body: %s\n", strerror(errno));
                code = EXIT_WRITE;
                goto done;
            }
            oc.size += n;
            /* Unknown length: a bar only once the body is over 4 MiB. */
            if (prog.on && (prog.total >= 0 || oc.size >= PROGRESS_MIN)) {
                progress_draw(&prog, oc.size, 0);
                shown = 1;
            }
        }
        if (shown) progress_draw(&prog, oc.size, 1);
        if (err != HC_OK) {
            what = "body";
            goto failed;
        }
    }
    if (fflush(out) != 0) {
        fprintf(stderr, "hcget: writing the body: %s\n", strerror(errno));
        code = EXIT_WRITE;
        goto done;
    }
    code = oc.status >= 400 ? EXIT_HTTP_ERROR : EXIT_OK;
    goto done;

failed:
    hc_last_error_message(oc.errmsg, sizeof oc.errmsg);
    if (!o.silent) fprintf(stderr, "hcget: %s: %s\n", what, oc.errmsg);
    code = exit_code_of(err);
done:
    oc.time_total = now() - t0;
    oc.exit_code = code;
    if (o.write_out && code != EXIT_USAGE) write_out(o.write_out, &oc);
    if (out != stdout) fclose(out);
    fflush(stdout);
    hc_response_free(resp);
    hc_call_free(call);
    hc_client_free(client);
    if (fd >= 0) close(fd);
    for (size_t i = 0; i < o.n_headers; i++) free(o.header_copies[i]);
    return code;
}
