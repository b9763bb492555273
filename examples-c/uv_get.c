/*
 * uv_get: httpclient's non-blocking mode in a libuv loop, the way many C programs run: one
 * uv_poll_t on each connection's descriptor, one uv_timer_t for hc_connection_timeout_ms.
 * Several connections, several keep-alive GETs each; every status and body is checked.
 *
 *   uv_get [--https CA_FILE] [--conns N] [--requests R] HOST PORT PATH EXPECTED_FILE
 *
 * Exits 0 when all N x R responses were 200 with the bytes of EXPECTED_FILE.
 *
 * As in event_loop.c: the calls of blocking mode in the same order; after HC_ERR_WOULD_BLOCK
 * poll for what hc_connection_want / hc_response_want say and repeat the same call. When
 * hc_connection_fileno (hc_response_fileno for a read) gives another descriptor (after name
 * resolution, or a connection opened again after the server closed it), stop and close the
 * old uv_poll_t and start one on the new descriptor: libuv polls a descriptor, and the
 * library has closed the old one. A new descriptor never has the number of the one before it,
 * so the number says when.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <httpclient.h>

/* hc-requires: hc_connection_set_blocking hc_connection_want hc_response_want hc_response_fileno hc_connection_timeout_ms */

#define LIMIT_MS 60000 /* the whole run gives up after this */

enum step { REQUEST, RESPONSE, BODY, DONE };

struct job {
    hc_connection *conn;
    hc_response *resp;
    enum step step;
    int requests_done;
    uv_poll_t *poll; /* on the descriptor below, NULL none */
    int fd;
    int events;      /* UV_READABLE | UV_WRITABLE it polls for */
    uv_timer_t timer;
    unsigned char *body;
    size_t len, cap;
};

static const char *host, *path;
static int n_requests = 3, active, failed;
static unsigned char *expected;
static size_t expected_len;
static uv_loop_t *loop;

static void on_poll(uv_poll_t *p, int status, int events);
static void on_timer(uv_timer_t *t);

static void fail(const char *what, hc_error err) {
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "uv_get: %s: %s (%s)\n", what, msg, hc_error_name(err));
    failed = 1;
    uv_stop(loop);
}

static void free_handle(uv_handle_t *h) {
    free(h);
}

static void stop_poll(struct job *j) {
    if (j->poll) {
        uv_poll_stop(j->poll);
        uv_close((uv_handle_t *)j->poll, free_handle);
        j->poll = NULL;
    }
    j->fd = -1;
}

/* After HC_ERR_WOULD_BLOCK: poll descriptor `fd` (the connection's, or its response's, now)
   for what the call wants, and arm the timer with hc_connection_timeout_ms. */
static void wait_for(struct job *j, int fd, int want) {
    int events = (want & HC_WANT_READ ? UV_READABLE : 0) | (want & HC_WANT_WRITE ? UV_WRITABLE : 0);
    int64_t t = hc_connection_timeout_ms(j->conn);
    if (fd != j->fd) {
        stop_poll(j);
        j->poll = malloc(sizeof *j->poll);
        if (!j->poll || uv_poll_init(loop, j->poll, fd) != 0) {
            free(j->poll);
            j->poll = NULL;
            fprintf(stderr, "uv_get: cannot poll descriptor %d\n", fd);
            failed = 1;
            uv_stop(loop);
            return;
        }
        j->poll->data = j;
        j->fd = fd;
        j->events = 0;
    }
    if (events != j->events) {
        uv_poll_start(j->poll, events, on_poll);
        j->events = events;
    }
    if (t >= 0)
        uv_timer_start(&j->timer, on_timer, (uint64_t)t, 0);
    else
        uv_timer_stop(&j->timer);
}

static void finish(struct job *j) {
    stop_poll(j);
    uv_timer_stop(&j->timer);
    hc_response_free(j->resp);
    hc_connection_free(j->conn);
    j->resp = NULL;
    j->conn = NULL;
    if (--active == 0)
        uv_stop(loop);
}

/* Makes as much progress as the job can without waiting. */
static void drive(struct job *j) {
    unsigned char buf[16384];
    for (;;) {
        hc_error err;
        size_t n = 0;
        switch (j->step) {
        case REQUEST:
            err = hc_request(j->conn, "GET", path, NULL, 0, NULL, 0);
            if (err == HC_ERR_WOULD_BLOCK) {
                wait_for(j, hc_connection_fileno(j->conn), hc_connection_want(j->conn));
                return;
            }
            if (err != HC_OK) {
                fail("hc_request", err);
                return;
            }
            j->step = RESPONSE;
            break;
        case RESPONSE:
            err = hc_getresponse(j->conn, &j->resp);
            if (err == HC_ERR_WOULD_BLOCK) {
                wait_for(j, hc_connection_fileno(j->conn), hc_connection_want(j->conn));
                return;
            }
            if (err != HC_OK) {
                fail("hc_getresponse", err);
                return;
            }
            j->len = 0;
            j->step = BODY;
            break;
        case BODY:
            err = hc_response_read(j->resp, buf, sizeof buf, &n);
            if (err == HC_ERR_WOULD_BLOCK) {
                /* After Connection: close the response has the descriptor, the connection
                   none (-1). */
                wait_for(j, hc_response_fileno(j->resp), hc_response_want(j->resp));
                return;
            }
            if (err != HC_OK) {
                fail("hc_response_read", err);
                return;
            }
            if (n > 0) {
                if (j->len + n > j->cap) {
                    unsigned char *p = realloc(j->body, (j->len + n) * 2);
                    if (!p) {
                        fail("realloc", HC_ERR_INTERNAL);
                        return;
                    }
                    j->body = p;
                    j->cap = (j->len + n) * 2;
                }
                memcpy(j->body + j->len, buf, n);
                j->len += n;
                break;
            }
            if (hc_response_status(j->resp) != 200 || j->len != expected_len ||
                (expected_len && memcmp(j->body, expected, expected_len) != 0)) {
                fprintf(stderr, "uv_get: %s%s: status %d, %zu body bytes; expected 200 and %zu\n", host,
                        path, hc_response_status(j->resp), j->len, expected_len);
                failed = 1;
                uv_stop(loop);
                return;
            }
            hc_response_free(j->resp);
            j->resp = NULL;
            j->step = ++j->requests_done == n_requests ? DONE : REQUEST;
            break;
        case DONE:
            finish(j);
            return;
        }
    }
}

static void on_poll(uv_poll_t *p, int status, int events) {
    struct job *j = p->data;
    (void)events;
    (void)status; /* an error shows in the repeated call, with the library's message */
    if (j->conn)
        drive(j);
}

static void on_timer(uv_timer_t *t) {
    struct job *j = t->data;
    if (j->conn)
        drive(j);
}

static void on_limit(uv_timer_t *t) {
    (void)t;
    fprintf(stderr, "uv_get: %d connections still busy after %d ms\n", active, LIMIT_MS);
    failed = 1;
    uv_stop(loop);
}

static unsigned char *slurp(const char *file, size_t *len) {
    FILE *f = fopen(file, "rb");
    unsigned char *p = NULL;
    long size;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)size + 1)) != NULL && fread(p, 1, (size_t)size, f) == (size_t)size)
        *len = (size_t)size;
    else {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

int main(int argc, char **argv) {
    const char *ca = NULL;
    int n_conns = 8, i;
    struct job *jobs;
    uv_timer_t limit;
    while (argc > 2 && argv[1][0] == '-') {
        if (!strcmp(argv[1], "--https"))
            ca = argv[2];
        else if (!strcmp(argv[1], "--conns"))
            n_conns = atoi(argv[2]);
        else if (!strcmp(argv[1], "--requests"))
            n_requests = atoi(argv[2]);
        else
            break;
        argc -= 2;
        argv += 2;
    }
    if (argc != 5 || n_conns < 1 || n_requests < 1) {
        fprintf(stderr, "usage: uv_get [--https CA_FILE] [--conns N] [--requests R] HOST PORT PATH EXPECTED_FILE\n");
        return 2;
    }
    host = argv[1];
    path = argv[3];
    expected = slurp(argv[4], &expected_len);
    if (!expected) {
        fprintf(stderr, "uv_get: cannot read %s\n", argv[4]);
        return 2;
    }
    loop = uv_default_loop();
    jobs = calloc((size_t)n_conns, sizeof *jobs);
    if (!jobs)
        return 1;
    uv_timer_init(loop, &limit);
    uv_timer_start(&limit, on_limit, LIMIT_MS, 0);
    uv_unref((uv_handle_t *)&limit); /* the loop ends when the connections are done */

    for (i = 0; i < n_conns && !failed; i++) {
        struct job *j = &jobs[i];
        hc_error err;
        j->fd = -1;
        uv_timer_init(loop, &j->timer);
        j->timer.data = j;
        err = ca ? hc_https_connection_new(host, (uint16_t)atoi(argv[2]), &j->conn)
                 : hc_connection_new(host, (uint16_t)atoi(argv[2]), &j->conn);
        if (err == HC_OK && ca)
            err = hc_connection_set_ca_file(j->conn, ca);
        if (err == HC_OK)
            err = hc_connection_set_blocking(j->conn, false);
        if (err != HC_OK) {
            fail("setting up", err);
            break;
        }
        active++;
        drive(j);
    }
    if (!failed)
        uv_run(loop, UV_RUN_DEFAULT);

    /* Close every handle and let the loop run their close callbacks. */
    for (i = 0; i < n_conns; i++) {
        struct job *j = &jobs[i];
        stop_poll(j);
        if (j->timer.loop)
            uv_close((uv_handle_t *)&j->timer, NULL);
        hc_response_free(j->resp);
        hc_connection_free(j->conn);
        free(j->body);
    }
    uv_close((uv_handle_t *)&limit, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    free(jobs);
    free(expected);
    if (uv_loop_close(loop) != 0)
        fprintf(stderr, "uv_get: handles left open\n");
    if (!failed)
        printf("uv_get: %d connections x %d requests: all 200 with the expected %zu bytes\n", n_conns,
               n_requests, expected_len);
    return failed;
}
