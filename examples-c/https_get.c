/*
 * https_get: fetch one URL path over HTTPS and print the body.
 *
 *   https_get HOST PORT PATH [CA_FILE]
 *
 * The server's certificate is verified against the system's trust store (or CA_FILE alone,
 * when given) and its name against HOST. Exits 0 on a 2xx/3xx status, 22 on 4xx/5xx, 1 on an
 * error (printed with the library's message), 2 on bad usage.
 */
#include <httpclient.h>

#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
#include <fcntl.h> /* _O_BINARY */
#include <io.h>    /* _setmode */
#endif

static int fail(const char *what, hc_error err) {
    char msg[1024];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "https_get: %s failed (%s): %s\n", what, hc_error_name(err), msg);
    return 1;
}

int main(int argc, char **argv) {
#ifdef _WIN32
    _setmode(_fileno(stdout), _O_BINARY); /* the body as received: no LF -> CRLF */
#endif
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: https_get HOST PORT PATH [CA_FILE]\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[2], &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "https_get: bad port %s\n", argv[2]);
        return 2;
    }

    int status = 1;
    hc_connection *conn = NULL;
    hc_response *resp = NULL;
    hc_error err = hc_https_connection_new(argv[1], (uint16_t)port, &conn);
    if (err != HC_OK) {
        status = fail("hc_https_connection_new", err);
        goto out;
    }
    if ((err = hc_connection_set_timeout(conn, 30.0)) != HC_OK) {
        status = fail("hc_connection_set_timeout", err);
        goto out;
    }
    if (argc == 5 && (err = hc_connection_set_ca_file(conn, argv[4])) != HC_OK) {
        status = fail("hc_connection_set_ca_file", err);
        goto out;
    }
    if ((err = hc_request(conn, "GET", argv[3], NULL, 0, NULL, 0)) != HC_OK) {
        status = fail("hc_request", err);
        goto out;
    }
    if ((err = hc_getresponse(conn, &resp)) != HC_OK) {
        status = fail("hc_getresponse", err);
        goto out;
    }
    uint8_t buf[16384];
    size_t n;
    for (;;) {
        if ((err = hc_response_read(resp, buf, sizeof buf, &n)) != HC_OK) {
            status = fail("hc_response_read", err);
            goto out;
        }
        if (n == 0)
            break;
        if (fwrite(buf, 1, n, stdout) != n) {
            perror("https_get: stdout");
            goto out;
        }
    }
    if (fflush(stdout) != 0) {
        perror("https_get: stdout");
        goto out;
    }
    status = hc_response_status(resp) >= 400 ? 22 : 0;
out:
    hc_response_free(resp);
    hc_connection_free(conn);
    return status;
}
