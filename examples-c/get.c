/*
 * get.c: the smallest complete httpclient program. A GET, every return checked, everything
 * freed, the body written to stdout.
 *
 *   get [http://host[:port]/path | host:port]     (default http://127.0.0.1:8080/)
 */
#include <httpclient.h>

#include <stdio.h>
#include <string.h>
#ifdef _WIN32
#include <fcntl.h> /* _O_BINARY */
#include <io.h>    /* _setmode */
#endif

int main(int argc, char **argv) {
#ifdef _WIN32
    _setmode(_fileno(stdout), _O_BINARY); /* the body as received: no LF -> CRLF */
#endif
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8080/";
    char host[256];
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    size_t host_len = strcspn(p, "/");
    const char *path = p[host_len] ? p + host_len : "/";
    if (host_len == 0 || host_len >= sizeof host) {
        fprintf(stderr, "usage: get [http://host[:port]/path]\n");
        return 2;
    }
    memcpy(host, p, host_len);
    host[host_len] = '\0';

    hc_connection *conn = NULL;
    hc_response *resp = NULL;
    uint8_t buf[16384];
    size_t n = 0;
    /* port 0: take it from "host:port", else 80. No I/O happens yet. */
    hc_error err = hc_connection_new(host, 0, &conn);
    if (err == HC_OK)
        err = hc_request(conn, "GET", path, NULL, 0, NULL, 0); /* connects, sends */
    if (err == HC_OK)
        err = hc_getresponse(conn, &resp); /* status line and headers */
    if (err == HC_OK) {
        fprintf(stderr, "%d %s\n", hc_response_status(resp), hc_response_reason(resp));
        /* HC_OK with n == 0 is the end of the body. */
        while ((err = hc_response_read(resp, buf, sizeof buf, &n)) == HC_OK && n > 0)
            fwrite(buf, 1, n, stdout);
    }
    if (err != HC_OK) {
        char msg[512];
        hc_last_error_message(msg, sizeof msg);
        fprintf(stderr, "get: %s (%s)\n", msg, hc_error_name(err));
    }
    hc_response_free(resp); /* NULL is fine */
    hc_connection_free(conn);
    return err == HC_OK ? 0 : 1;
}
