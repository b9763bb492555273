/*
 * stepwise.c: a request built step by step, as httplib's putrequest / putheader /
 * endheaders / send / getresponse. The body is sent in two pieces after the headers, then
 * the response's headers are walked in wire order.
 *
 *   stepwise [http://host[:port]/path | host:port]     (default http://127.0.0.1:8080/)
 */
#include <httpclient.h>

#include <stdio.h>
#include <string.h>
#ifdef _WIN32
#include <fcntl.h> /* _O_BINARY */
#include <io.h>    /* _setmode */
#endif

static int fail(const char *what, hc_error err) {
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "stepwise: %s failed: %s (%s)\n", what, msg, hc_error_name(err));
    return 1;
}

#define TRY(call)                                                                          \
    do {                                                                                   \
        hc_error err_ = (call);                                                            \
        if (err_ != HC_OK) {                                                               \
            status = fail(#call, err_);                                                    \
            goto done;                                                                     \
        }                                                                                  \
    } while (0)

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
        fprintf(stderr, "usage: stepwise [http://host[:port]/path]\n");
        return 2;
    }
    memcpy(host, p, host_len);
    host[host_len] = '\0';

    const char *part1 = "first half, ", *part2 = "second half\n";
    char length[32];
    snprintf(length, sizeof length, "%zu", strlen(part1) + strlen(part2));

    int status = 1;
    hc_connection *conn = NULL;
    hc_response *resp = NULL;
    TRY(hc_connection_new(host, 0, &conn));
    /* flags 0: Host and Accept-Encoding: identity are added; nothing is sent yet. */
    TRY(hc_putrequest(conn, "PUT", path, 0));
    TRY(hc_putheader(conn, "Content-Type", "text/plain"));
    TRY(hc_putheader(conn, "Content-Length", length)); /* not added for us in this API */
    TRY(hc_endheaders(conn, (const uint8_t *)part1, strlen(part1))); /* connects, sends */
    TRY(hc_send(conn, (const uint8_t *)part2, strlen(part2)));
    TRY(hc_getresponse(conn, &resp));

    printf("HTTP/%s %d %s\n", hc_response_version(resp) == 10 ? "1.0" : "1.1",
           hc_response_status(resp), hc_response_reason(resp));
    for (size_t i = 0; i < hc_response_header_count(resp); i++) {
        const char *name, *value;
        TRY(hc_response_header(resp, i, &name, &value));
        printf("%s: %s\n", name, value);
    }
    printf("\n");
    uint8_t buf[4096];
    size_t n;
    for (;;) {
        TRY(hc_response_read(resp, buf, sizeof buf, &n));
        if (n == 0)
            break;
        fwrite(buf, 1, n, stdout);
    }
    status = 0;
done:
    hc_response_free(resp);
    hc_connection_free(conn);
    return status;
}
