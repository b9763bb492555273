/*
 * hcbench: the benchmark driver and its clients (see README.md).
 *
 * Driver mode (the default): for each scenario it starts hcbench_server pinned to one core,
 * then runs every client N times, interleaved (A,B,C,A,B,C,...), each run in its own
 * process (this program again, with --client) pinned to another core, and prints the
 * medians with min and max, and the ratios httpclient/floor and httpclient/libcurl.
 *
 * Client mode (--client NAME): one measured run; prints one "RESULT ..." line.
 *
 * The client-* scenarios (issue 11) compare the URL-level hc_client with the bare connection,
 * libcurl and the floor; each scenario names the clients it runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clients.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static const struct client_ops *all_clients[] = {
#ifdef HCBENCH_HAVE_HTTPCLIENT
    &httpclient_client,
#endif
#ifdef HCBENCH_HAVE_HCCLIENT
    &hcclient_client,
#endif
    &curl_client,
    &floor_client,
};
#define N_CLIENTS (sizeof all_clients / sizeof all_clients[0])

enum mode { KEEP, NEWCONN, IDLE, THREADS };

struct scenario {
    const char *name;
    int tls;
    uint64_t body;
    uint64_t chunk;  /* 0: Content-Length */
    uint64_t count;  /* requests (KEEP, NEWCONN) or connections (IDLE) at scale 1 */
    enum mode mode;
    int per_gib;     /* CPU per GiB of body instead of per request */
    double target;   /* httpclient/floor CPU ratio target (0: none) */
    const char *what;
    /* The client-* scenarios: */
    const char *clients; /* the clients it runs (NULL: httpclient,libcurl,floor) */
    const char *base;    /* the target is hc_client/base */
    int resume;          /* TLS: the server issues session IDs and tickets; clients resume */
    int gzip;            /* the body is served gzip-compressed; `body` is the decoded size */
    int threads;         /* THREADS: this many threads share one client */
};

static const struct scenario scenarios[] = {
    {"small", 0, 1000, 0, 200000, KEEP, 0, 1.15, "1,000-byte bodies on one keep-alive connection", NULL, NULL, 0, 0, 0},
    {"small-tls", 1, 1000, 0, 100000, KEEP, 0, 1.15, "the same over TLS", NULL, NULL, 0, 0, 0},
    {"bulk", 0, 1ull << 30, 0, 1, KEEP, 1, 1.05, "one 1 GiB body (Content-Length)", NULL, NULL, 0, 0, 0},
    {"bulk-tls", 1, 1ull << 30, 0, 1, KEEP, 1, 1.05, "one 1 GiB body over TLS", NULL, NULL, 0, 0, 0},
    {"chunked", 0, 64ull << 20, 16384, 16, KEEP, 1, 1.10, "64 MiB bodies in 16 KiB chunks", NULL, NULL, 0, 0, 0},
    {"newconn", 0, 1000, 0, 20000, NEWCONN, 0, 1.10, "a new connection per request", NULL, NULL, 0, 0, 0},
    {"idle", 0, 1000, 0, 1000, IDLE, 0, 0, "idle open connections (after one request each)", NULL, NULL, 0, 0, 0},
    {"client-warm", 0, 1000, 0, 200000, KEEP, 0, 1.10, "hc_client: warm keep-alive GETs",
     "hc_client,httpclient,libcurl,floor", "httpclient", 0, 0, 0},
    {"client-tls-new", 1, 1000, 0, 5000, NEWCONN, 0, 0, "hc_client: HTTPS, a new connection per request, resumed",
     "hc_client,libcurl,floor", NULL, 1, 0, 0},
    {"client-threads", 0, 1000, 0, 128000, THREADS, 0, 0, "hc_client: 32 threads share one client",
     "hc_client,libcurl", NULL, 0, 0, 32},
    {"client-threads-tls", 1, 1000, 0, 64000, THREADS, 0, 0, "client-threads over HTTPS (server tickets on)",
     "hc_client,libcurl", NULL, 1, 0, 32},
    {"client-gzip", 0, 1ull << 30, 0, 1, KEEP, 1, 0, "hc_client: a 1 GiB body decoded from gzip",
     "hc_client,libcurl", NULL, 0, 1, 0},
};
#define N_SCEN (sizeof scenarios / sizeof scenarios[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* A /proc/self/status field in kB (VmHWM: peak RSS of this process image; VmRSS: now). */
static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return v;
}

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        perror("hcbench: sched_setaffinity");
}

static void raise_nofile(void)
{
    struct rlimit rl = {65536, 65536};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ------------------------------------------------------------------ client mode */

static const struct client_ops *find_client(const char *name)
{
    for (size_t i = 0; i < N_CLIENTS; i++)
        if (!strcmp(all_clients[i]->name, name) ||
            (!strcmp(name, "curl") && !strcmp(all_clients[i]->name, "libcurl")))
            return all_clients[i];
    return NULL;
}

struct thread_arg {
    const struct client_ops *c;
    void *shared;
    uint64_t warmup, count, bytes;
    int rc;
    pthread_barrier_t *ready, *done;
};

/* One of the THREADS scenario's threads: its own context, warm-up, then (between the two
   barriers the driver thread measures across) its share of the requests. */
static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    void *t = a->c->thread_open(a->shared);
    a->rc = t ? 0 : -1;
    for (uint64_t i = 0; a->rc == 0 && i < a->warmup; i++)
        a->rc = a->c->get(t, &a->bytes);
    a->bytes = 0;
    pthread_barrier_wait(a->ready);
    for (uint64_t i = 0; a->rc == 0 && i < a->count; i++)
        a->rc = a->c->get(t, &a->bytes);
    pthread_barrier_wait(a->done);
    if (t)
        a->c->thread_close(t);
    return NULL;
}

static int run_client(const char *name, enum mode mode, struct bench_opts *o, uint64_t count,
                      uint64_t warmup, uint64_t expect_body)
{
    const struct client_ops *c = find_client(name);
    if (!c) {
        fprintf(stderr, "hcbench: unknown or unavailable client %s\n", name);
        return 2;
    }
    alarm(1800); /* a hung server or client never blocks the run for good */
    raise_nofile();
    uint64_t bytes = 0, done = 0;
    double cpu0, cpu1, t0, t1;
    double idle_kb = 0;
    if (mode == KEEP) {
        o->newconn = 0;
        void *ctx = c->open(o);
        if (!ctx)
            return 1;
        for (uint64_t i = 0; i < warmup; i++)
            if (c->get(ctx, &bytes) != 0)
                return 1;
        bytes = 0;
        cpu0 = cpu_seconds();
        t0 = now();
        for (; done < count; done++)
            if (c->get(ctx, &bytes) != 0)
                return 1;
        t1 = now();
        cpu1 = cpu_seconds();
        c->close(ctx);
    } else if (mode == NEWCONN) {
        o->newconn = 1;
        void *ctx = c->open(o);
        if (!ctx)
            return 1;
        for (uint64_t i = 0; i < warmup; i++)
            if (c->get(ctx, &bytes) != 0)
                return 1;
        bytes = 0;
        cpu0 = cpu_seconds();
        t0 = now();
        for (; done < count; done++)
            if (c->get(ctx, &bytes) != 0)
                return 1;
        t1 = now();
        cpu1 = cpu_seconds();
        c->close(ctx);
    } else if (mode == THREADS) {
        int nt = o->threads;
        if (nt < 1 || !c->thread_open) {
            fprintf(stderr, "hcbench: %s has no threads scenario\n", name);
            return 2;
        }
        void *shared = c->open(o);
        if (!shared)
            return 1;
        pthread_barrier_t ready, fin;
        pthread_barrier_init(&ready, NULL, (unsigned)nt + 1);
        pthread_barrier_init(&fin, NULL, (unsigned)nt + 1);
        pthread_t *th = calloc((size_t)nt, sizeof *th);
        struct thread_arg *args = calloc((size_t)nt, sizeof *args);
        for (int i = 0; i < nt; i++) {
            args[i] = (struct thread_arg){c, shared, warmup / (uint64_t)nt ? warmup / (uint64_t)nt : 1,
                                          count / (uint64_t)nt, 0, 0, &ready, &fin};
            if (pthread_create(&th[i], NULL, thread_main, &args[i]) != 0) {
                perror("hcbench: pthread_create");
                return 1;
            }
        }
        pthread_barrier_wait(&ready);
        cpu0 = cpu_seconds();
        t0 = now();
        pthread_barrier_wait(&fin);
        t1 = now();
        cpu1 = cpu_seconds();
        for (int i = 0; i < nt; i++) {
            pthread_join(th[i], NULL);
            if (args[i].rc != 0)
                return 1;
            bytes += args[i].bytes;
            done += args[i].count;
        }
        c->close(shared);
        free(th);
        free(args);
        count = done;
    } else {
        o->newconn = 0;
        o->idle = 1;
        void **ctxs = calloc(count, sizeof *ctxs);
        /* One connection first, so libraries' one-time setup is not counted per connection. */
        void *first = c->open(o);
        if (!first || c->get(first, &bytes) != 0)
            return 1;
        bytes = 0;
        long rss0 = status_kb("VmRSS");
        cpu0 = cpu_seconds();
        t0 = now();
        for (; done < count; done++) {
            ctxs[done] = c->open(o);
            if (!ctxs[done] || c->get(ctxs[done], &bytes) != 0)
                return 1;
        }
        t1 = now();
        cpu1 = cpu_seconds();
        long rss1 = status_kb("VmRSS");
        idle_kb = (double)(rss1 - rss0) / (double)count;
        for (uint64_t i = 0; i < count; i++)
            c->close(ctxs[i]);
        c->close(first);
        free(ctxs);
    }
    if (bytes != expect_body * count) {
        fprintf(stderr, "hcbench: %s got %llu body bytes, expected %llu\n", name,
                (unsigned long long)bytes, (unsigned long long)(expect_body * count));
        return 1;
    }
    printf("RESULT cpu=%.6f wall=%.6f hwm_kb=%ld requests=%llu bytes=%llu idle_kb=%.3f\n",
           cpu1 - cpu0, t1 - t0, status_kb("VmHWM"), (unsigned long long)done,
           (unsigned long long)bytes, idle_kb);
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------------------ driver mode */

struct server {
    pid_t pid;
    int stdin_fd;
    int port;
    FILE *out; /* its stdout: "PORT n", then a "HANDSHAKES ..." line per "S" written to it */
};

static char self_exe[PATH_MAX];
static char server_exe[PATH_MAX];
static char ca_path[PATH_MAX];
static const char *strace_dir; /* --strace DIR: run clients under strace -c -f, count syscalls */

static int start_server(struct server *s, const struct scenario *sc, uint64_t body, int cpu)
{
    int out[2], in[2];
    if (pipe(out) || pipe(in))
        return -1;
    char bodys[32], chunks[32];
    snprintf(bodys, sizeof bodys, "%llu", (unsigned long long)body);
    snprintf(chunks, sizeof chunks, "%llu", (unsigned long long)sc->chunk);
    const char *argv[16];
    int a = 0;
    argv[a++] = server_exe;
    argv[a++] = "--stdin-exit";
    argv[a++] = "--body";
    argv[a++] = bodys;
    if (sc->chunk) {
        argv[a++] = "--chunked";
        argv[a++] = chunks;
    }
    if (sc->tls) {
        argv[a++] = "--tls";
        argv[a++] = "--write-ca";
        argv[a++] = ca_path;
    }
    if (sc->resume)
        argv[a++] = "--resume";
    if (sc->gzip)
        argv[a++] = "--gzip";
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        pin(cpu);
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execv(server_exe, (char *const *)argv);
        perror("hcbench: exec hcbench_server");
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[64];
    s->pid = pid;
    s->stdin_fd = in[1];
    s->port = 0;
    if (f && fgets(line, sizeof line, f))
        sscanf(line, "PORT %d", &s->port);
    s->out = f;
    return s->port > 0 ? 0 : -1;
}

/* The TLS handshakes the server completed since the last call (full and resumed). */
static int server_handshakes(struct server *s, long *full, long *resumed)
{
    char line[128];
    *full = *resumed = -1;
    if (write(s->stdin_fd, "S", 1) != 1 || !s->out || !fgets(line, sizeof line, s->out))
        return -1;
    return sscanf(line, "HANDSHAKES full=%ld resumed=%ld", full, resumed) == 2 ? 0 : -1;
}

static void stop_server(struct server *s)
{
    if (s->out)
        fclose(s->out);
    close(s->stdin_fd);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

struct sample {
    double cpu, wall, rss_mib, idle_kb;
    long hs_full, hs_resumed; /* TLS handshakes the server saw during the run (warm-up included) */
    int ok;
};

/* Prints the syscalls per request from an `strace -c` summary (setup included, so large
   counts give the per-request figure). */
static void print_syscalls(const char *path, const char *scen, const char *client, uint64_t requests)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[256], top[1024] = "";
    double total = 0;
    size_t tl = 0;
    while (fgets(line, sizeof line, f)) {
        double pct, secs;
        unsigned long usecs, calls, errs;
        char name[64];
        int n = sscanf(line, "%lf %lf %lu %lu %lu %63s", &pct, &secs, &usecs, &calls, &errs, name);
        if (n != 6) {
            n = sscanf(line, "%lf %lf %lu %lu %63s", &pct, &secs, &usecs, &calls, name);
            if (n != 5)
                continue;
        }
        if (!strcmp(name, "total")) {
            total = (double)calls;
            continue;
        }
        double per = (double)calls / (double)requests;
        if (per >= 0.01 && tl < sizeof top - 64)
            tl += (size_t)snprintf(top + tl, sizeof top - tl, " %s=%.2f", name, per);
    }
    fclose(f);
    printf("\n  syscalls/request %-10s %-10s %.2f:%s", scen, client, total / (double)requests, top);
}

static int spawn_client(const char *name, const struct scenario *sc, int port, uint64_t body,
                        uint64_t count, uint64_t warmup, size_t bufsz, int cpu, struct sample *out)
{
    int p[2];
    if (pipe(p))
        return -1;
    char ports[16], bodys[32], counts[32], warms[32], bufs[32], modes[16];
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(bodys, sizeof bodys, "%llu", (unsigned long long)body);
    snprintf(counts, sizeof counts, "%llu", (unsigned long long)count);
    snprintf(warms, sizeof warms, "%llu", (unsigned long long)warmup);
    snprintf(bufs, sizeof bufs, "%zu", bufsz);
    snprintf(modes, sizeof modes, "%s",
             sc->mode == KEEP ? "keep" : sc->mode == NEWCONN ? "newconn" : sc->mode == IDLE ? "idle" : "threads");
    char threads[16];
    snprintf(threads, sizeof threads, "%d", sc->threads);
    const char *argv[32];
    int a = 0;
    char trace_path[PATH_MAX];
    snprintf(trace_path, sizeof trace_path, "%s/%s-%s.txt", strace_dir ? strace_dir : ".", sc->name, name);
    if (strace_dir) {
        argv[a++] = "strace";
        argv[a++] = "-f";
        argv[a++] = "-c";
        argv[a++] = "-o";
        argv[a++] = trace_path;
    }
    argv[a++] = self_exe;
    argv[a++] = "--client";
    argv[a++] = name;
    argv[a++] = "--mode";
    argv[a++] = modes;
    argv[a++] = "--port";
    argv[a++] = ports;
    argv[a++] = "--expect-body";
    argv[a++] = bodys;
    argv[a++] = "--count";
    argv[a++] = counts;
    argv[a++] = "--warmup";
    argv[a++] = warms;
    argv[a++] = "--bufsize";
    argv[a++] = bufs;
    if (sc->tls) {
        argv[a++] = "--tls";
        argv[a++] = "--ca";
        argv[a++] = ca_path;
    }
    if (sc->resume)
        argv[a++] = "--resume";
    if (sc->gzip)
        argv[a++] = "--gzip";
    if (sc->threads) {
        argv[a++] = "--threads";
        argv[a++] = threads;
    }
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        pin(cpu);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], (char *const *)argv);
        perror("hcbench: exec");
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char line[512];
    memset(out, 0, sizeof *out);
    while (f && fgets(line, sizeof line, f)) {
        long hwm;
        unsigned long long req, bytes;
        if (sscanf(line, "RESULT cpu=%lf wall=%lf hwm_kb=%ld requests=%llu bytes=%llu idle_kb=%lf",
                   &out->cpu, &out->wall, &hwm, &req, &bytes, &out->idle_kb) == 6) {
            out->rss_mib = (double)hwm / 1024.0;
            out->ok = 1;
        }
    }
    if (f)
        fclose(f);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        out->ok = 0;
    if (strace_dir && out->ok)
        print_syscalls(trace_path, sc->name, name, count + warmup);
    return out->ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct stat3 {
    double med, min, max;
    int n;
};

static struct stat3 stats(const double *v, int n)
{
    struct stat3 s = {NAN, NAN, NAN, n};
    if (n == 0)
        return s;
    double t[256];
    memcpy(t, v, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    s.min = t[0];
    s.max = t[n - 1];
    s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    return s;
}

static void fmt3(char *buf, size_t cap, struct stat3 s, int prec)
{
    if (s.n == 0)
        snprintf(buf, cap, "failed");
    else
        snprintf(buf, cap, "%.*f [%.*f..%.*f]", prec, s.med, prec, s.min, prec, s.max);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: hcbench [--scale F] [--runs N] [--scenarios a,b,...] [--clients a,b,...]\n"
            "               [--server PATH] [--server-cpu N] [--client-cpu N] [--bufsize BYTES]\n"
            "               [--strace DIR]  (count syscalls per request; CPU figures then meaningless)\n"
            "scenarios:");
    for (size_t i = 0; i < N_SCEN; i++)
        fprintf(stderr, " %s", scenarios[i].name);
    fprintf(stderr, "\nclients:");
    for (size_t i = 0; i < N_CLIENTS; i++)
        fprintf(stderr, " %s", all_clients[i]->name);
    fprintf(stderr, "\n");
    exit(2);
}

static int in_list(const char *list, const char *name)
{
    if (!list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncmp(p, name, n))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* Whether scenario sc runs client c. */
static int runs_client(const struct scenario *sc, const struct client_ops *c)
{
    if (sc->mode == THREADS && !c->thread_open)
        return 0;
    return in_list(sc->clients ? sc->clients : "httpclient,libcurl,floor", c->name);
}

#define MAX_RUNS 101

/* The ratios line of a client-* scenario: hc_client's median CPU over each other client's
   (with the target where the scenario has one), and what else the scenario is about. */
static void print_client_ratios(const struct scenario *sc, const struct client_ops **cl, size_t ncl,
                                const double *med, const double *rssm, const double *wallm)
{
    int ih = -1;
    for (size_t ci = 0; ci < ncl; ci++)
        if (!strcmp(cl[ci]->name, "hc_client") && runs_client(sc, cl[ci]))
            ih = (int)ci;
    printf("%-18s", sc->name);
    if (ih < 0) {
        printf(" (no hc_client run)\n");
        return;
    }
    for (size_t ci = 0; ci < ncl; ci++) {
        if ((int)ci == ih || !runs_client(sc, cl[ci]))
            continue;
        double r = med[ih] / med[ci];
        printf(" hc_client/%s %.2f", cl[ci]->name, r);
        if (sc->base && sc->target > 0 && !strcmp(cl[ci]->name, sc->base))
            printf(" (target <= %.2f: %s)", sc->target, r <= sc->target ? "met" : "MISSED");
        if (sc->mode == THREADS) /* throughput: the same request count, so the inverse of wall time */
            printf(", req/s %.2f", wallm[ci] / wallm[ih]);
        if (sc->per_gib)
            printf(", peak RSS %+.1f MiB", rssm[ih] - rssm[ci]);
        printf("  ");
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    const char *client = NULL, *mode_s = "keep", *scen_list = NULL, *client_list = NULL;
    double scale = 1.0;
    int runs = 5, server_cpu = 0, client_cpu = 1;
    uint64_t count = 1000, warmup = 0, expect_body = 1000;
    struct bench_opts o = {.bufsz = 256 * 1024};
    server_exe[0] = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
        if (ARG("--client"))
            client = v;
        else if (ARG("--mode"))
            mode_s = v;
        else if (ARG("--port"))
            o.port = atoi(v);
        else if (!strcmp(a, "--tls"))
            o.tls = 1;
        else if (!strcmp(a, "--resume"))
            o.resume = 1;
        else if (!strcmp(a, "--gzip"))
            o.gzip = 1;
        else if (ARG("--threads"))
            o.threads = atoi(v);
        else if (ARG("--ca"))
            o.ca = v;
        else if (ARG("--count"))
            count = strtoull(v, NULL, 10);
        else if (ARG("--warmup"))
            warmup = strtoull(v, NULL, 10);
        else if (ARG("--expect-body"))
            expect_body = strtoull(v, NULL, 10);
        else if (ARG("--bufsize"))
            o.bufsz = (size_t)strtoull(v, NULL, 10);
        else if (ARG("--scale"))
            scale = atof(v);
        else if (ARG("--runs"))
            runs = atoi(v);
        else if (ARG("--scenarios"))
            scen_list = v;
        else if (ARG("--clients"))
            client_list = v;
        else if (ARG("--server"))
            snprintf(server_exe, sizeof server_exe, "%s", v);
        else if (ARG("--server-cpu"))
            server_cpu = atoi(v);
        else if (ARG("--strace"))
            strace_dir = v;
        else if (ARG("--client-cpu"))
            client_cpu = atoi(v);
        else
            usage();
#undef ARG
    }
    if (o.bufsz < 4096)
        o.bufsz = 4096;
    if (client) {
        enum mode m = !strcmp(mode_s, "newconn")   ? NEWCONN
                      : !strcmp(mode_s, "idle")    ? IDLE
                      : !strcmp(mode_s, "threads") ? THREADS
                                                   : KEEP;
        return run_client(client, m, &o, count, warmup, expect_body);
    }

    /* ---- driver ---- */
    if (runs < 1 || runs > MAX_RUNS || !(scale > 0))
        usage();
    ssize_t l = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (l <= 0)
        return 1;
    self_exe[l] = 0;
    if (!server_exe[0]) {
        snprintf(server_exe, sizeof server_exe, "%s", self_exe);
        char *slash = strrchr(server_exe, '/');
        snprintf(slash + 1, sizeof server_exe - (size_t)(slash + 1 - server_exe), "hcbench_server");
    }
    char tmpdir[] = "/tmp/hcbench.XXXXXX";
    if (!mkdtemp(tmpdir))
        return 1;
    snprintf(ca_path, sizeof ca_path, "%s/ca.pem", tmpdir);

    const struct client_ops *cl[N_CLIENTS];
    size_t ncl = 0;
    for (size_t i = 0; i < N_CLIENTS; i++)
        if (in_list(client_list, all_clients[i]->name))
            cl[ncl++] = all_clients[i];
#ifndef HCBENCH_HAVE_HTTPCLIENT
    printf("note: hcbench was built without httpclient (its header lacks the request API); "
           "floor and libcurl only\n");
#endif
    printf("hcbench: scale %g, %d runs per client (interleaved), server on cpu %d, clients on cpu %d,"
           " read buffer %zu bytes\n",
           scale, runs, server_cpu, client_cpu, o.bufsz);

    static struct sample res[N_SCEN][N_CLIENTS][MAX_RUNS];
    uint64_t s_count[N_SCEN], s_body[N_SCEN];
    int done_scen[N_SCEN] = {0};
    for (size_t si = 0; si < N_SCEN; si++) {
        const struct scenario *sc = &scenarios[si];
        if (!in_list(scen_list, sc->name))
            continue;
        /* Scale the count; when that falls below one, scale the body instead. */
        double c = (double)sc->count * scale;
        uint64_t body = sc->body;
        if (sc->mode == IDLE && c < 100)
            c = 100;
        if (c < 1) {
            double b = (double)sc->body * c;
            if (b < (1 << 20))
                b = 1 << 20;
            body = (uint64_t)b;
            if (sc->chunk)
                body -= body % sc->chunk;
            if (sc->gzip) /* the server repeats a block of 1 MiB decoded */
                body -= body % (1 << 20);
            c = 1;
        }
        if (sc->threads > 0) { /* the same share of requests for every thread */
            c = (double)(llround(c) / sc->threads) * sc->threads;
            if (c < sc->threads)
                c = sc->threads;
        }
        s_count[si] = (uint64_t)llround(c);
        s_body[si] = body;
        uint64_t warm = sc->per_gib ? 0 : (s_count[si] / 10 < 200 ? s_count[si] / 10 : 200);
        if (sc->mode == IDLE)
            warm = 0;
        if (sc->threads > 0 && warm < (uint64_t)sc->threads)
            warm = (uint64_t)sc->threads; /* at least one request per thread */
        struct server srv;
        if (start_server(&srv, sc, body, server_cpu) != 0) {
            fprintf(stderr, "hcbench: cannot start the server for %s\n", sc->name);
            return 1;
        }
        printf("%-10s %llu x %llu-byte bodies%s ", sc->name, (unsigned long long)s_count[si],
               (unsigned long long)body, sc->tls ? " (TLS)" : "");
        fflush(stdout);
        long hf, hr;
        for (int r = 0; r < runs; r++)
            for (size_t ci = 0; ci < ncl; ci++) {
                if (!runs_client(sc, cl[ci]))
                    continue;
                if (sc->tls)
                    server_handshakes(&srv, &hf, &hr); /* zeroes the server's counts */
                if (spawn_client(cl[ci]->name, sc, srv.port, body, s_count[si], warm, o.bufsz,
                                 client_cpu, &res[si][ci][r]) != 0)
                    fprintf(stderr, "\nhcbench: %s run %d of %s failed\n", cl[ci]->name, r + 1, sc->name);
                res[si][ci][r].hs_full = res[si][ci][r].hs_resumed = -1;
                if (sc->tls && server_handshakes(&srv, &hf, &hr) == 0) {
                    res[si][ci][r].hs_full = hf;
                    res[si][ci][r].hs_resumed = hr;
                }
                printf(".");
                fflush(stdout);
            }
        printf("\n");
        stop_server(&srv);
        done_scen[si] = 1;
    }
    unlink(ca_path);
    rmdir(tmpdir);

    /* ---- table ---- */
    printf("\nmedian [min..max] of %d interleaved runs, scale %g\n", runs, scale);
    printf("%-18s %-10s %-28s %-30s %-22s\n", "scenario", "client", "client CPU", "throughput",
           "peak RSS (MiB)");
    for (size_t si = 0; si < N_SCEN; si++) {
        if (!done_scen[si])
            continue;
        const struct scenario *sc = &scenarios[si];
        for (size_t ci = 0; ci < ncl; ci++) {
            if (!runs_client(sc, cl[ci]))
                continue;
            double cpu[MAX_RUNS], rate[MAX_RUNS], rss[MAX_RUNS], idle[MAX_RUNS], hsf[MAX_RUNS], hsr[MAX_RUNS];
            int n = 0, nh = 0;
            for (int r = 0; r < runs; r++) {
                struct sample *s = &res[si][ci][r];
                if (!s->ok)
                    continue;
                double gib = (double)s_body[si] * (double)s_count[si] / GIB;
                cpu[n] = sc->per_gib ? s->cpu / gib : s->cpu * 1e6 / (double)s_count[si];
                rate[n] = sc->per_gib ? (double)s_body[si] * (double)s_count[si] / s->wall / 1e9
                                      : (double)s_count[si] / s->wall;
                rss[n] = s->rss_mib;
                idle[n] = s->idle_kb;
                n++;
                if (s->hs_full >= 0) {
                    hsf[nh] = (double)s->hs_full;
                    hsr[nh++] = (double)s->hs_resumed;
                }
            }
            char a[64], b[64], d[64];
            struct stat3 sc_cpu = stats(cpu, n);
            fmt3(a, sizeof a, sc_cpu, sc->per_gib ? 3 : 1);
            fmt3(b, sizeof b, stats(rate, n), sc->per_gib ? 2 : 0);
            fmt3(d, sizeof d, stats(rss, n), 1);
            char ua[80], ub[80];
            snprintf(ua, sizeof ua, "%s %s", a, sc->per_gib ? "s/GiB" : "us/req");
            snprintf(ub, sizeof ub, "%s %s", b, sc->per_gib ? "GB/s" : (sc->mode == IDLE ? "conn/s" : "req/s"));
            printf("%-18s %-10s %-28s %-30s %-22s\n", sc->name, cl[ci]->name, ua, ub, d);
            if (sc->mode == IDLE) {
                fmt3(a, sizeof a, stats(idle, n), 1);
                printf("%-18s %-10s memory per idle connection: %s KiB\n", "", cl[ci]->name, a);
            }
            if (sc->resume && nh > 0) {
                fmt3(a, sizeof a, stats(hsf, nh), 0);
                fmt3(b, sizeof b, stats(hsr, nh), 0);
                printf("%-18s %-10s TLS handshakes per run (server, warm-up included): full %s, resumed %s\n",
                       "", cl[ci]->name, a, b);
            }
        }
    }

    /* ---- ratios ---- */
    int ih = -1, ic = -1, ifl = -1;
    for (size_t ci = 0; ci < ncl; ci++) {
        if (!strcmp(cl[ci]->name, "httpclient"))
            ih = (int)ci;
        else if (!strcmp(cl[ci]->name, "libcurl"))
            ic = (int)ci;
        else if (!strcmp(cl[ci]->name, "floor"))
            ifl = (int)ci;
    }
    printf("\nratios of median client CPU (targets from issues 6 and 11)\n");
    for (size_t si = 0; si < N_SCEN; si++) {
        if (!done_scen[si])
            continue;
        const struct scenario *sc = &scenarios[si];
        double med[N_CLIENTS], rssm[N_CLIENTS], idlem[N_CLIENTS], wallm[N_CLIENTS];
        for (size_t ci = 0; ci < ncl; ci++) {
            double v[MAX_RUNS], w[MAX_RUNS], x[MAX_RUNS], y[MAX_RUNS];
            int n = 0;
            for (int r = 0; r < runs; r++)
                if (res[si][ci][r].ok && runs_client(sc, cl[ci])) {
                    v[n] = res[si][ci][r].cpu;
                    w[n] = res[si][ci][r].rss_mib;
                    x[n] = res[si][ci][r].idle_kb;
                    y[n] = res[si][ci][r].wall;
                    n++;
                }
            med[ci] = stats(v, n).med;
            rssm[ci] = stats(w, n).med;
            idlem[ci] = stats(x, n).med;
            wallm[ci] = stats(y, n).med;
        }
        if (sc->clients) {
            print_client_ratios(sc, cl, ncl, med, rssm, wallm);
            continue;
        }
        if (ih < 0) {
            if (ic >= 0 && ifl >= 0 && sc->mode != IDLE)
                printf("%-18s libcurl/floor %.2f\n", sc->name, med[ic] / med[ifl]);
            continue;
        }
        if (sc->mode == IDLE) {
            printf("%-18s httpclient %.1f KiB per idle connection (target <= 40: %s)\n", sc->name,
                   idlem[ih], idlem[ih] <= 40 ? "met" : "MISSED");
            continue;
        }
        printf("%-18s httpclient/floor %.2f", sc->name, ifl >= 0 ? med[ih] / med[ifl] : NAN);
        if (sc->target > 0 && ifl >= 0)
            printf(" (target <= %.2f: %s)", sc->target, med[ih] / med[ifl] <= sc->target ? "met" : "MISSED");
        if (ic >= 0) {
            printf("   httpclient/libcurl %.2f", med[ih] / med[ic]);
            if (!strncmp(sc->name, "small", 5) && ifl >= 0) /* issue 6: the floor is >= 2.5x below libcurl */
                printf("   libcurl/floor %.2f", med[ic] / med[ifl]);
        }
        if (sc->per_gib && ifl >= 0)
            printf("   peak RSS httpclient-floor %+.1f MiB (target <= +2: %s)", rssm[ih] - rssm[ifl],
                   rssm[ih] - rssm[ifl] <= 2 ? "met" : "MISSED");
        printf("\n");
    }
    return 0;
}
