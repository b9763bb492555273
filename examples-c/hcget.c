/*
 * hcget: a small command-line fetcher built on httpclient.
 *
 *   hcget [-X METHOD] [-H 'Name: value']... [-d DATA] [-i] [-v] [-k] [--cacert FILE]
 *         [--timeout SECONDS] URL
 *
 * Prints the body to stdout (-i: the status line and headers first). Exits 0 for a 2xx or
 * 3xx status, 22 for 4xx/5xx (as curl -f does), 1 for a library error, 2 for bad usage.
 */
#include <httpclient.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 64

static int fail(const char *what, hc_error err) {
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "hcget: %s: %s (%d): %s\n", what, hc_error_name(err), err, msg);
    return 1;
}

static int usage(void) {
    fprintf(stderr, "usage: hcget [-X METHOD] [-H 'Name: value']... [-d DATA] [-i] [-v] [-k]\n"
                    "             [--cacert FILE] [--timeout SECONDS] URL\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *method = NULL, *data = NULL, *cacert = NULL, *url = NULL;
    int include = 0, verbose = 0, insecure = 0;
    double timeout = 0;
    hc_header headers[MAX_HEADERS];
    char *header_copies[MAX_HEADERS];
    size_t n_headers = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(a, "-X") && has_next) {
            method = argv[++i];
        } else if (!strcmp(a, "-d") && has_next) {
            data = argv[++i];
        } else if (!strcmp(a, "--cacert") && has_next) {
            cacert = argv[++i];
        } else if (!strcmp(a, "--timeout") && has_next) {
            timeout = atof(argv[++i]);
        } else if (!strcmp(a, "-H") && has_next) {
            char *copy = strdup(argv[++i]);
            char *colon = copy ? strchr(copy, ':') : NULL;
            if (!colon || n_headers == MAX_HEADERS) {
                free(copy);
                return usage();
            }
            *colon = '\0';
            const char *value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            header_copies[n_headers] = copy;
            headers[n_headers].name = copy;
            headers[n_headers].value = value;
            n_headers++;
        } else if (!strcmp(a, "-i")) {
            include = 1;
        } else if (!strcmp(a, "-v")) {
            verbose = 1;
        } else if (!strcmp(a, "-k")) {
            insecure = 1;
        } else if (a[0] != '-' && !url) {
            url = a;
        } else {
            return usage();
        }
    }
    if (!url)
        return usage();
    if (!method)
        method = data ? "POST" : "GET";

    /* Split URL into scheme, authority (host[:port]) and path. */
    int https;
    const char *rest;
    if (!strncmp(url, "http://", 7)) {
        https = 0;
        rest = url + 7;
    } else if (!strncmp(url, "https://", 8)) {
        https = 1;
        rest = url + 8;
    } else {
        fprintf(stderr, "hcget: only http:// and https:// URLs are supported\n");
        return 2;
    }
    size_t auth_len = strcspn(rest, "/?#");
    char *authority = malloc(auth_len + 1);
    if (!authority)
        return 1;
    memcpy(authority, rest, auth_len);
    authority[auth_len] = '\0';
    /* The path keeps its query ("http://h?q" asks for "/?q"); a fragment is never sent. */
    const char *after = rest + auth_len;
    size_t path_len = strcspn(after, "#");
    char *path = malloc(path_len + 2);
    if (!path) {
        free(authority);
        return 1;
    }
    size_t slash = after[0] != '/';
    path[0] = '/';
    memcpy(path + slash, after, path_len);
    path[path_len + slash] = '\0';

    int status = 1;
    hc_connection *conn = NULL;
    hc_response *resp = NULL;
    hc_error err = https ? hc_https_connection_new(authority, 0, &conn)
                         : hc_connection_new(authority, 0, &conn);
    if (err != HC_OK) {
        status = fail("connection", err);
        goto out;
    }
    if (timeout > 0 && (err = hc_connection_set_timeout(conn, timeout)) != HC_OK) {
        status = fail("timeout", err);
        goto out;
    }
    if (verbose && (err = hc_connection_set_debuglevel(conn, 1)) != HC_OK) {
        status = fail("debuglevel", err);
        goto out;
    }
    if (https && cacert && (err = hc_connection_set_ca_file(conn, cacert)) != HC_OK) {
        status = fail("--cacert", err);
        goto out;
    }
    if (https && insecure && (err = hc_connection_set_verify(conn, false)) != HC_OK) {
        status = fail("-k", err);
        goto out;
    }
    err = hc_request(conn, method, path, (const uint8_t *)data, data ? strlen(data) : 0,
                     headers, n_headers);
    if (err != HC_OK) {
        status = fail("request", err);
        goto out;
    }
    if ((err = hc_getresponse(conn, &resp)) != HC_OK) {
        status = fail("response", err);
        goto out;
    }
    if (include) {
        int v = hc_response_version(resp);
        printf("HTTP/%s %d %s\r\n", v == 10 ? "1.0" : v == 9 ? "0.9" : "1.1",
               hc_response_status(resp), hc_response_reason(resp));
        for (size_t i = 0; i < hc_response_header_count(resp); i++) {
            const char *name, *value;
            if (hc_response_header(resp, i, &name, &value) == HC_OK)
                printf("%s: %s\r\n", name, value);
        }
        printf("\r\n");
    }
    uint8_t buf[16384];
    size_t n;
    do {
        err = hc_response_read(resp, buf, sizeof buf, &n);
        fwrite(buf, 1, n, stdout);
    } while (err == HC_OK && n > 0);
    if (err != HC_OK) {
        status = fail("body", err);
        goto out;
    }
    status = hc_response_status(resp) >= 400 ? 22 : 0;
out:
    fflush(stdout);
    hc_response_free(resp);
    hc_connection_free(conn);
    free(authority);
    free(path);
    for (size_t i = 0; i < n_headers; i++)
        free(header_copies[i]);
    return status;
}
