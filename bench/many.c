/*
 * hcbench_many: one thread drives many concurrent keep-alive connections (issue 12's
 * scenario; see README.md, "Many connections from one thread").
 *
 * Driver mode (the default): starts hcbench_server pinned to one core, then runs every client
 * N times, interleaved and rotated (A,B,C, B,C,A, C,A,B, ...: each client runs first, second
 * and last in a round equally often, so what a run leaves behind falls on every client alike),
 * each run in its own process (this program again, with --client) pinned to another core, and
 * prints medians with [min..max] and the ratios against issue 12's targets.
 *
 * Client mode (--client NAME): one measured run; prints one "RESULT ..." line.  The run opens
 * --conns connections at once from one thread and does --requests GETs on each; client CPU
 * (getrusage) and wall time cover the whole run, connects included; memory is the peak RSS
 * (VmHWM) over the run minus VmHWM after the library's one-time setup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "many.h"

static const struct many_client *all_clients[] = {
#ifdef HCBENCH_HAVE_NONBLOCKING
    &many_httpclient,
#endif
    &many_curl,
    &many_floor,
};
#define N_CLIENTS (sizeof all_clients / sizeof all_clients[0])
#define MAX_RUNS 51

double many_now(void)
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
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (cpu >= 0 && sched_setaffinity(0, sizeof set, &set) != 0)
        perror("hcbench_many: sched_setaffinity");
}

/* The descriptor limit must hold every connection (plus epoll, stdio, the library's own). */
static int raise_nofile(rlim_t need)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max < need && rl.rlim_max != RLIM_INFINITY) {
        rl.rlim_max = need; /* only root may raise the hard limit */
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "hcbench_many: cannot raise RLIMIT_NOFILE to %llu: %s\n",
                (unsigned long long)need, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_client(const char *name, struct many_opts *o)
{
    const struct many_client *c = NULL;
    for (size_t i = 0; i < N_CLIENTS; i++)
        if (!strcmp(all_clients[i]->name, name))
            c = all_clients[i];
    if (!c) {
        fprintf(stderr, "hcbench_many: unknown or unavailable client %s\n", name);
        return 2;
    }
    alarm((unsigned)o->limit_s + 60); /* the loops give up at limit_s; this is the backstop */
    if (raise_nofile((rlim_t)o->conns + 256) != 0 || c->init(o) != 0)
        return 1;
    long hwm0 = status_kb("VmHWM");
    struct many_totals t = {0, 0};
    double cpu0 = cpu_seconds(), t0 = many_now();
    if (c->run(o, &t) != 0)
        return 1;
    double t1 = many_now(), cpu1 = cpu_seconds();
    long hwm1 = status_kb("VmHWM");
    uint64_t want = (uint64_t)o->conns * (uint64_t)o->requests;
    if (t.responses != want || t.bytes != want * o->body) {
        fprintf(stderr, "hcbench_many: %s got %llu responses and %llu body bytes, expected %llu and %llu\n",
                name, (unsigned long long)t.responses, (unsigned long long)t.bytes,
                (unsigned long long)want, (unsigned long long)(want * o->body));
        return 1;
    }
    printf("RESULT cpu=%.6f wall=%.6f hwm_kb=%ld base_kb=%ld responses=%llu\n", cpu1 - cpu0, t1 - t0,
           hwm1, hwm0, (unsigned long long)t.responses);
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------------------ driver */

struct sample {
    double cpu_us, kib, wall;
    int ok;
};

static char self_exe[PATH_MAX], server_exe[PATH_MAX];

static pid_t spawn(const char *const *argv, int cpu, int *in_fd, int *out_fd)
{
    int out[2], in[2] = {-1, -1};
    if (pipe(out) || (in_fd && pipe(in)))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (cpu >= 0)
            pin(cpu);
        if (in_fd) {
            dup2(in[0], 0);
            close(in[0]);
            close(in[1]);
        }
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(argv[0], (char *const *)argv);
        perror("hcbench_many: exec");
        _exit(127);
    }
    close(out[1]);
    *out_fd = out[0];
    if (in_fd) {
        close(in[0]);
        *in_fd = in[1];
    }
    return pid;
}

static int run_one(const char *name, const struct many_opts *o, int cpu, struct sample *s)
{
    char port[16], conns[16], reqs[16], body[24], bufsz[24], limit[24];
    snprintf(port, sizeof port, "%d", o->port);
    snprintf(conns, sizeof conns, "%d", o->conns);
    snprintf(reqs, sizeof reqs, "%d", o->requests);
    snprintf(body, sizeof body, "%zu", o->body);
    snprintf(bufsz, sizeof bufsz, "%zu", o->bufsz);
    snprintf(limit, sizeof limit, "%g", o->limit_s);
    const char *argv[] = {self_exe, "--client", name, "--port", port, "--conns", conns,
                          "--requests", reqs, "--body", body, "--bufsize", bufsz,
                          "--limit", limit, NULL};
    int out;
    memset(s, 0, sizeof *s);
    pid_t pid = spawn(argv, cpu, NULL, &out);
    if (pid < 0)
        return -1;
    FILE *f = fdopen(out, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        double cpu_s, wall;
        long hwm, base;
        unsigned long long resp;
        if (sscanf(line, "RESULT cpu=%lf wall=%lf hwm_kb=%ld base_kb=%ld responses=%llu", &cpu_s,
                   &wall, &hwm, &base, &resp) == 5 && resp > 0) {
            s->cpu_us = cpu_s * 1e6 / (double)resp;
            s->kib = (double)(hwm - base) / (double)o->conns;
            s->wall = wall;
            s->ok = 1;
        }
    }
    if (f)
        fclose(f);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        s->ok = 0;
    return s->ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median [min..max] of the ok samples' field at offset off; returns the median (NAN: none). */
static double fmt_stat(char *buf, size_t cap, const struct sample *s, int n, size_t off, int prec)
{
    double v[MAX_RUNS];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (s[i].ok)
            v[k++] = *(const double *)((const char *)&s[i] + off);
    if (k == 0) {
        snprintf(buf, cap, "failed");
        return NAN;
    }
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    double med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    snprintf(buf, cap, "%.*f [%.*f..%.*f]", prec, med, prec, v[0], prec, v[k - 1]);
    return med;
}

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncmp(p, name, n))
            return 1;
        p = e ? e + 1 : p + l;
    }
    return !list;
}

static void usage(void)
{
    fprintf(stderr, "usage: hcbench_many [--scale F] [--runs N] [--clients a,b] [--conns N] [--requests N]\n"
                    "                    [--server PATH] [--server-cpu N] [--client-cpu N] [--limit SECONDS]\n"
                    "                    [--verbose]\n"
                    "clients:");
    for (size_t i = 0; i < N_CLIENTS; i++)
        fprintf(stderr, " %s", all_clients[i]->name);
    fprintf(stderr, "\n");
    exit(2);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    const char *client = NULL, *client_list = NULL;
    double scale = 1.0;
    int runs = 5, server_cpu = 0, client_cpu = 1, verbose = 0;
    struct many_opts o = {.conns = 10000, .requests = 10, .body = 1000, .bufsz = 64 * 1024, .limit_s = 300};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
        if (ARG("--client"))
            client = v;
        else if (ARG("--port"))
            o.port = atoi(v);
        else if (ARG("--conns"))
            o.conns = atoi(v);
        else if (ARG("--requests"))
            o.requests = atoi(v);
        else if (ARG("--body"))
            o.body = (size_t)strtoull(v, NULL, 10);
        else if (ARG("--bufsize"))
            o.bufsz = (size_t)strtoull(v, NULL, 10);
        else if (ARG("--limit"))
            o.limit_s = atof(v);
        else if (ARG("--scale"))
            scale = atof(v);
        else if (ARG("--runs"))
            runs = atoi(v);
        else if (ARG("--clients"))
            client_list = v;
        else if (ARG("--server"))
            snprintf(server_exe, sizeof server_exe, "%s", v);
        else if (ARG("--server-cpu"))
            server_cpu = atoi(v);
        else if (ARG("--client-cpu"))
            client_cpu = atoi(v);
        else if (!strcmp(a, "--verbose"))
            verbose = 1;
        else
            usage();
#undef ARG
    }
    if (o.conns < 1 || o.requests < 1 || o.bufsz < 4096 || !(o.limit_s > 0))
        usage();
    if (client)
        return run_client(client, &o);

    if (runs < 1 || runs > MAX_RUNS || !(scale > 0))
        usage();
    o.conns = (int)llround(o.conns * scale);
    if (o.conns < 10)
        o.conns = 10;
    ssize_t l = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (l <= 0)
        return 1;
    self_exe[l] = 0;
    if (!server_exe[0]) {
        snprintf(server_exe, sizeof server_exe, "%s", self_exe);
        char *slash = strrchr(server_exe, '/');
        snprintf(slash + 1, sizeof server_exe - (size_t)(slash + 1 - server_exe), "hcbench_server");
    }
    const struct many_client *cl[N_CLIENTS];
    size_t ncl = 0;
    for (size_t i = 0; i < N_CLIENTS; i++)
        if (in_list(client_list, all_clients[i]->name))
            cl[ncl++] = all_clients[i];
#ifndef HCBENCH_HAVE_NONBLOCKING
    printf("note: built without httpclient's non-blocking mode (httpclient.h lacks "
           "hc_connection_set_blocking): libcurl and floor only\n");
#endif
    char bodys[24];
    snprintf(bodys, sizeof bodys, "%zu", o.body);
    const char *sargv[] = {server_exe, "--stdin-exit", "--body", bodys, NULL};
    int srv_in, srv_out;
    pid_t srv = spawn(sargv, server_cpu, &srv_in, &srv_out);
    FILE *sf = srv > 0 ? fdopen(srv_out, "r") : NULL;
    char line[64];
    if (!sf || !fgets(line, sizeof line, sf) || sscanf(line, "PORT %d", &o.port) != 1) {
        fprintf(stderr, "hcbench_many: cannot start %s\n", server_exe);
        return 1;
    }
    fclose(sf);
    printf("hcbench_many: %d connections x %d GETs of %zu-byte bodies from one thread, %d runs per "
           "client (interleaved, order rotated each round), server on cpu %d, clients on cpu %d\n",
           o.conns, o.requests, o.body, runs, server_cpu, client_cpu);
    static struct sample res[N_CLIENTS][MAX_RUNS];
    for (int r = 0; r < runs; r++)
        for (size_t k = 0; k < ncl; k++) {
            /* Rotated: round r starts with client r mod ncl. A run leaves the machine changed
               for the next one (10,000 sockets in TIME_WAIT, caches, clock speed); in a fixed
               order the same client would always follow the same one. */
            size_t ci = (k + (size_t)r) % ncl;
            if (run_one(cl[ci]->name, &o, client_cpu, &res[ci][r]) != 0)
                fprintf(stderr, "\nhcbench_many: %s run %d failed\n", cl[ci]->name, r + 1);
            if (verbose)
                printf("round %d, position %zu: %-10s %.2f us per request, %.2f s\n", r + 1, k + 1,
                       cl[ci]->name, res[ci][r].cpu_us, res[ci][r].wall);
            else
                printf(".");
            fflush(stdout);
        }
    printf("\n");
    close(srv_in);
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);

    printf("\nmedian [min..max] of %d interleaved runs: %d connections x %d requests\n", runs,
           o.conns, o.requests);
    printf("%-11s %-26s %-30s %-22s\n", "client", "CPU per request (us)", "peak RSS per connection (KiB)",
           "wall (s)");
    double cpu_med[N_CLIENTS], kib_med[N_CLIENTS];
    int ih = -1, ic = -1, ifl = -1;
    for (size_t ci = 0; ci < ncl; ci++) {
        char a[64], b[64], c[64];
        cpu_med[ci] = fmt_stat(a, sizeof a, res[ci], runs, offsetof(struct sample, cpu_us), 2);
        kib_med[ci] = fmt_stat(b, sizeof b, res[ci], runs, offsetof(struct sample, kib), 2);
        fmt_stat(c, sizeof c, res[ci], runs, offsetof(struct sample, wall), 2);
        printf("%-11s %-26s %-30s %-22s\n", cl[ci]->name, a, b, c);
        if (!strcmp(cl[ci]->name, "httpclient"))
            ih = (int)ci;
        else if (!strcmp(cl[ci]->name, "libcurl"))
            ic = (int)ci;
        else if (!strcmp(cl[ci]->name, "floor"))
            ifl = (int)ci;
    }
    printf("\nratios of median CPU per request (targets from issue 12)\n");
    if (ic >= 0 && ifl >= 0)
        printf("libcurl/floor %.2f\n", cpu_med[ic] / cpu_med[ifl]);
    if (ih >= 0 && ic >= 0)
        printf("httpclient/libcurl %.2f (target <= 0.5: %s)\n", cpu_med[ih] / cpu_med[ic],
               cpu_med[ih] / cpu_med[ic] <= 0.5 ? "met" : "MISSED");
    if (ih >= 0 && ifl >= 0)
        printf("httpclient/floor %.2f (target <= 1.2: %s)\n", cpu_med[ih] / cpu_med[ifl],
               cpu_med[ih] / cpu_med[ifl] <= 1.2 ? "met" : "MISSED");
    if (ih >= 0 && ifl >= 0) {
        /* The same ratio run by run: each httpclient run against the floor run of its round.
           Host noise that lasts a round moves both; its spread shows how far one ratio goes. */
        struct sample paired[MAX_RUNS];
        int k = 0;
        for (int r = 0; r < runs; r++)
            if (res[ih][r].ok && res[ifl][r].ok && res[ifl][r].cpu_us > 0) {
                paired[k] = res[ih][r];
                paired[k++].cpu_us = res[ih][r].cpu_us / res[ifl][r].cpu_us;
            }
        char a[64];
        fmt_stat(a, sizeof a, paired, k, offsetof(struct sample, cpu_us), 2);
        printf("httpclient/floor run by run (each round's pair): %s\n", a);
    }
    if (ih >= 0)
        printf("httpclient peak RSS per connection %.1f KiB (target <= 20 per idle connection: %s)\n",
               kib_med[ih], kib_med[ih] <= 20 ? "met" : "MISSED");
    return 0;
}
