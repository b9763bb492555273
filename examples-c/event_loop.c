/*
 * event_loop: one thread, one epoll set, many connections in httpclient's non-blocking mode,
 * each doing several keep-alive GETs; every status and body is checked.
 *
 *   event_loop [--https CA_FILE] [--conns N] [--requests R] HOST PORT PATH EXPECTED_FILE
 *
 * Exits 0 when all N x R responses were 200 with the bytes of EXPECTED_FILE.
 *
 * The pattern (docs/nonblocking.md):
 *   - hc_connection_set_blocking(conn, false); then the same calls as in blocking mode, in
 *     the same order: hc_request, hc_getresponse, hc_response_read, hc_response_free.
 *   - A call that would wait returns HC_ERR_WOULD_BLOCK. Wait until the descriptor is ready
 *     for what hc_connection_want (hc_response_want for a read) says, READ and/or WRITE (TLS
 *     can want READ for a write), then repeat the same call with the same arguments.
 *   - Read hc_connection_fileno (hc_response_fileno for a read) after every
 *     HC_ERR_WOULD_BLOCK: the descriptor changes after name resolution and when the
 *     connection is opened again (the server closed it, with Connection: close or while
 *     idle). Re-register it when its number differs: a new descriptor never has the number
 *     of the one before it, so the number says it all.
 *   - hc_connection_timeout_ms says when to call again at the latest, even if nothing happens.
 * The descriptor stays the library's: never read from it or close it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <httpclient.h>

/* hc-requires: hc_connection_set_blocking hc_connection_want hc_response_want hc_response_fileno hc_connection_timeout_ms */

#define LIMIT_MS 60000 /* the whole run gives up after this */

enum step { REQUEST, RESPONSE, BODY, DONE };

struct job {
    hc_connection *conn;
    hc_response *resp;
    enum step step;
    int requests_done;
    int fd;          /* the descriptor registered with epoll, -1 none */
    uint32_t events; /* what it is registered for */
    int64_t due;     /* ms: hc_connection_timeout_ms's deadline, -1 none */
    unsigned char *body;
    size_t len, cap;
};

static const char *host, *path;
static int n_requests = 3;
static const unsigned char *expected;
static size_t expected_len;
static int ep;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const struct job *j, const char *what, hc_error err) {
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "event_loop: connection %p: %s: %s (%s)\n", (const void *)j, what, msg,
            hc_error_name(err));
    return -1;
}

/* Registers the job for `events` on descriptor `fd`, the connection's (or its response's)
   now: again only when the number or the events differ from what is registered. */
static int watch(struct job *j, int fd, uint32_t events) {
    struct epoll_event ev;
    if (fd == j->fd && events == j->events)
        return 0;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = j;
    if (fd != j->fd) {
        /* A new descriptor: the old one is closed already (and so out of the set), so this
           fails with EBADF or ENOENT, which is fine. */
        if (j->fd >= 0)
            epoll_ctl(ep, EPOLL_CTL_DEL, j->fd, NULL);
        j->fd = -1;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            perror("event_loop: EPOLL_CTL_ADD");
            return -1;
        }
    } else if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0) {
        perror("event_loop: EPOLL_CTL_MOD");
        return -1;
    }
    j->fd = fd;
    j->events = events;
    return 0;
}

/* After HC_ERR_WOULD_BLOCK: wait for what the call wants, on descriptor `fd`. */
static int wait_for(struct job *j, int fd, int want) {
    int64_t t = hc_connection_timeout_ms(j->conn);
    uint32_t events = 0;
    if (want & HC_WANT_READ)
        events |= EPOLLIN;
    if (want & HC_WANT_WRITE)
        events |= EPOLLOUT;
    j->due = t < 0 ? -1 : now_ms() + t;
    return watch(j, fd, events);
}

static int check_body(struct job *j) {
    int status = hc_response_status(j->resp);
    if (status != 200 || j->len != expected_len || (expected_len && memcmp(j->body, expected, expected_len) != 0)) {
        fprintf(stderr, "event_loop: %s%s: status %d, %zu body bytes, expected 200 and the %zu bytes of the file\n",
                host, path, status, j->len, expected_len);
        return -1;
    }
    return 0;
}

/* Makes as much progress as the job can without waiting.
   1: all its requests are done; 0: it waits for its descriptor; -1: it failed. */
static int drive(struct job *j) {
    unsigned char buf[16384];
    for (;;) {
        hc_error err;
        size_t n = 0;
        switch (j->step) {
        case REQUEST:
            /* After a response that closed the connection, this opens a new one. */
            err = hc_request(j->conn, "GET", path, NULL, 0, NULL, 0);
            if (err == HC_ERR_WOULD_BLOCK)
                return wait_for(j, hc_connection_fileno(j->conn), hc_connection_want(j->conn));
            if (err != HC_OK)
                return fail(j, "hc_request", err);
            j->step = RESPONSE;
            break;
        case RESPONSE:
            err = hc_getresponse(j->conn, &j->resp);
            if (err == HC_ERR_WOULD_BLOCK)
                return wait_for(j, hc_connection_fileno(j->conn), hc_connection_want(j->conn));
            if (err != HC_OK)
                return fail(j, "hc_getresponse", err);
            j->len = 0;
            j->step = BODY;
            break;
        case BODY:
            /* Bytes as soon as there are any; HC_OK with n == 0 at the end of the body. */
            err = hc_response_read(j->resp, buf, sizeof buf, &n);
            if (err == HC_ERR_WOULD_BLOCK)
                /* The response's descriptor: after a head that says Connection: close the
                   connection has handed it over (hc_connection_fileno is -1). */
                return wait_for(j, hc_response_fileno(j->resp), hc_response_want(j->resp));
            if (err != HC_OK)
                return fail(j, "hc_response_read", err);
            if (n > 0) {
                if (j->len + n > j->cap) {
                    size_t cap = (j->len + n) * 2;
                    unsigned char *p = realloc(j->body, cap);
                    if (!p)
                        return -1;
                    j->body = p;
                    j->cap = cap;
                }
                memcpy(j->body + j->len, buf, n);
                j->len += n;
                break;
            }
            if (check_body(j) != 0)
                return -1;
            hc_response_free(j->resp);
            j->resp = NULL;
            /* The connection stays open (keep-alive) for the next request. */
            j->step = ++j->requests_done == n_requests ? DONE : REQUEST;
            break;
        case DONE:
            return 1;
        }
    }
}

static void job_free(struct job *j) {
    if (j->fd >= 0)
        epoll_ctl(ep, EPOLL_CTL_DEL, j->fd, NULL);
    j->fd = -1;
    hc_response_free(j->resp);
    hc_connection_free(j->conn);
    j->resp = NULL;
    j->conn = NULL;
    free(j->body);
    j->body = NULL;
}

/* Drives a job that is ready; frees it when it is done. */
static int step(struct job *j, int *active) {
    int r = j->conn ? drive(j) : 0;
    if (r == 1) {
        job_free(j);
        (*active)--;
    }
    return r < 0 ? -1 : 0;
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
    int n_conns = 8, i, active = 0, rc = 1;
    struct job *jobs;
    int64_t give_up;
    unsigned char *exp_buf;
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
        fprintf(stderr, "usage: event_loop [--https CA_FILE] [--conns N] [--requests R] HOST PORT PATH EXPECTED_FILE\n");
        return 2;
    }
    host = argv[1];
    path = argv[3];
    exp_buf = slurp(argv[4], &expected_len);
    expected = exp_buf;
    if (!expected) {
        fprintf(stderr, "event_loop: cannot read %s\n", argv[4]);
        return 2;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    jobs = calloc((size_t)n_conns, sizeof *jobs);
    if (ep < 0 || !jobs)
        return 1;

    /* Every connection starts at once: its first hc_request connects (and, with a host
       name, resolves off this thread) without waiting. */
    for (i = 0; i < n_conns; i++) {
        struct job *j = &jobs[i];
        hc_error err;
        j->fd = -1;
        j->due = -1;
        err = ca ? hc_https_connection_new(host, (uint16_t)atoi(argv[2]), &j->conn)
                 : hc_connection_new(host, (uint16_t)atoi(argv[2]), &j->conn);
        if (err == HC_OK && ca)
            err = hc_connection_set_ca_file(j->conn, ca);
        if (err == HC_OK)
            err = hc_connection_set_blocking(j->conn, false);
        if (err != HC_OK) {
            fail(j, "setting up", err);
            goto out;
        }
        active++;
        if (step(j, &active) < 0)
            goto out;
    }

    give_up = now_ms() + LIMIT_MS;
    while (active > 0) {
        struct epoll_event evs[64];
        int64_t now = now_ms(), wait = give_up - now;
        int n;
        if (wait <= 0) {
            fprintf(stderr, "event_loop: %d connections still busy after %d ms\n", active, LIMIT_MS);
            goto out;
        }
        for (i = 0; i < n_conns; i++) /* the earliest hc_connection_timeout_ms */
            if (jobs[i].conn && jobs[i].due >= 0 && jobs[i].due - now < wait)
                wait = jobs[i].due > now ? jobs[i].due - now : 0;
        n = epoll_wait(ep, evs, 64, (int)wait);
        if (n < 0 && errno != EINTR) {
            perror("event_loop: epoll_wait");
            goto out;
        }
        for (i = 0; i < n; i++) /* ready descriptors */
            if (step(evs[i].data.ptr, &active) < 0)
                goto out;
        now = now_ms();
        for (i = 0; i < n_conns; i++) /* and timeouts that expired */
            if (jobs[i].conn && jobs[i].due >= 0 && jobs[i].due <= now && step(&jobs[i], &active) < 0)
                goto out;
    }
    printf("event_loop: %d connections x %d requests: all 200 with the expected %zu bytes\n",
           n_conns, n_requests, expected_len);
    rc = 0;
out:
    for (i = 0; i < n_conns; i++)
        job_free(&jobs[i]);
    free(jobs);
    free(exp_buf);
    close(ep);
    return rc;
}
