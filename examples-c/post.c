/*
 * post.c: a POST with a body and a header; prints the status and the response body.
 * httpclient adds Host, Accept-Encoding: identity and Content-Length by itself.
 *
 *   post [http://host[:port]/path | host:port] [body]   (default http://127.0.0.1:8080/,
 *                                                        body "name=httpclient&lang=c")
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
    fprintf(stderr, "post: %s failed: %s (%s)\n", what, msg, hc_error_name(err));
    return 1;
}

int main(int argc, char **argv) {
#ifdef _WIN32
    _setmode(_fileno(stdout), _O_BINARY); /* the body as received: no LF -> CRLF */
#endif
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8080/";
    const char *body = argc > 2 ? argv[2] : "name=httpclient&lang=c";
    char host[256];
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    size_t host_len = strcspn(p, "/");
    const char *path = p[host_len] ? p + host_len : "/";
    if (host_len == 0 || host_len >= sizeof host) {
        fprintf(stderr, "usage: post [http://host[:port]/path] [body]\n");
        return 2;
    }
    memcpy(host, p, host_len);
    host[host_len] = '\0';

    int status = 1;
    hc_connection *conn = NULL;
    hc_response *resp = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    hc_header headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
    };
    hc_error err = hc_connection_new(host, 0, &conn);
    if (err != HC_OK) {
        status = fail("hc_connection_new", err);
        goto done;
    }
    if ((err = hc_connection_set_timeout(conn, 10.0)) != HC_OK) {
        status = fail("hc_connection_set_timeout", err);
        goto done;
    }
    err = hc_request(conn, "POST", path, (const uint8_t *)body, strlen(body), headers,
                     sizeof headers / sizeof headers[0]);
    if (err != HC_OK) {
        status = fail("hc_request", err);
        goto done;
    }
    if ((err = hc_getresponse(conn, &resp)) != HC_OK) {
        status = fail("hc_getresponse", err);
        goto done;
    }
    /* The whole body at once; the buffer is ours to free with hc_buffer_free. */
    if ((err = hc_response_read_all(resp, &out, &out_len)) != HC_OK) {
        status = fail("hc_response_read_all", err);
        goto done;
    }
    printf("%d %s\n", hc_response_status(resp), hc_response_reason(resp));
    fwrite(out, 1, out_len, stdout);
    status = 0;
done:
    hc_buffer_free(out, out_len);
    hc_response_free(resp);
    hc_connection_free(conn);
    return status;
}
