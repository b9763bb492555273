/*
 * libcurl's multi interface in the many-connections scenario, as its documentation sets it up
 * for an event loop: curl_multi_socket_action driven by epoll, a socket callback that adds,
 * modifies and removes descriptors, a timer callback whose value is epoll_wait's timeout.
 * One easy handle per connection, reused for every request of that connection (removed from
 * the multi handle when done and added again, so its connection goes back to the cache and
 * is picked up again); no limit on connections per host or in total, a connection cache as
 * large as the number of connections; a write callback that counts and discards; curl's
 * default receive buffer (it allocates one per easy handle).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <curl/curl.h>

#include "many.h"

struct easy {
    CURL *h;
    int done;
};

struct loop {
    int ep;
    CURLM *m;
    long timeout_ms; /* from the timer callback: -1 none */
    struct many_totals *t;
};

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    ((struct loop *)ud)->t->bytes += size * n;
    return size * n;
}

/* CURLMOPT_SOCKETFUNCTION: mirror curl's wishes into the epoll set. sockp is non-NULL once
   the socket is in the set (curl_multi_assign); curl forgets it on CURL_POLL_REMOVE. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
    (void)e;
    struct loop *l = userp;
    static char in_set;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(l->ep, EPOLL_CTL_DEL, s, NULL); /* fails harmlessly if already closed */
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                                       (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = s};
    if (epoll_ctl(l->ep, sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0 &&
        epoll_ctl(l->ep, sockp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev) != 0) {
        perror("libcurl multi: epoll_ctl");
        return -1;
    }
    if (!sockp)
        curl_multi_assign(l->m, s, &in_set);
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    ((struct loop *)userp)->timeout_ms = timeout_ms;
    return 0;
}

static int curl_init(const struct many_opts *o)
{
    (void)o;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int curl_run(const struct many_opts *o, struct many_totals *t)
{
    struct loop l = {.ep = epoll_create1(EPOLL_CLOEXEC), .timeout_ms = -1, .t = t};
    CURLM *m = l.m = curl_multi_init();
    struct easy *es = calloc((size_t)o->conns, sizeof *es);
    if (l.ep < 0 || !m || !es)
        return -1;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &l);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, &l);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)o->conns);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", o->port);
    int rc = -1;
    for (int i = 0; i < o->conns; i++) {
        CURL *h = es[i].h = curl_easy_init();
        if (!h)
            goto out;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &l);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &es[i]);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        if (curl_multi_add_handle(m, h) != CURLM_OK)
            goto out;
    }
    int running = o->conns, active = o->conns;
    struct epoll_event evs[512];
    double give_up = many_now() + o->limit_s;
    while (active > 0) {
        long tmo = l.timeout_ms < 0 || l.timeout_ms > 1000 ? 1000 : l.timeout_ms;
        int n = epoll_wait(l.ep, evs, 512, (int)tmo);
        if (n < 0 && errno != EINTR) {
            perror("libcurl multi: epoll_wait");
            goto out;
        }
        if (many_now() > give_up) {
            fprintf(stderr, "libcurl multi: %d handles not done after %.0f s\n", active, o->limit_s);
            goto out;
        }
        if (n <= 0) {
            l.timeout_ms = -1;
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        for (int i = 0; i < n; i++) {
            int mask = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(m, evs[i].data.fd, mask, &running);
        }
        if (l.timeout_ms == 0) { /* curl wants to be called at once (e.g. after an add) */
            l.timeout_ms = -1;
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            CURLcode res = msg->data.result;
            struct easy *e = NULL;
            long status = 0;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&e);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (res != CURLE_OK || status != 200) {
                fprintf(stderr, "libcurl multi: %s, status %ld\n", curl_easy_strerror(res), status);
                goto out;
            }
            t->responses++;
            curl_multi_remove_handle(m, h);
            if (++e->done < o->requests) {
                if (curl_multi_add_handle(m, h) != CURLM_OK)
                    goto out;
            } else {
                active--;
            }
        }
    }
    rc = 0;
out:
    for (int i = 0; i < o->conns; i++)
        if (es[i].h) {
            curl_multi_remove_handle(m, es[i].h);
            curl_easy_cleanup(es[i].h);
        }
    curl_multi_cleanup(m);
    free(es);
    close(l.ep);
    return rc;
}

const struct many_client many_curl = {"libcurl", curl_init, curl_run};
