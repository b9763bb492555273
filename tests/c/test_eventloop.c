/*
 * Event-loop hooks: hc_connection_set_source_address (the server sees 127.0.0.2),
 * hc_connection_fileno with poll() (readable only once the server answered), and
 * hc_connection_set_blocksize. The "server" is a listening socket of this test, so the whole
 * exchange runs in one thread, on loopback, with no external server.
 */
#define _POSIX_C_SOURCE 200809L
#include "hc_check.h"

/* Reads from `fd` until the end of a request head. */
static int read_head(int fd) {
    char buf[4096];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = hc_sock_read(fd, buf + n, 1);
        if (r <= 0) return -1;
        n++;
        buf[n] = '\0';
        if (n >= 4 && strcmp(buf + n - 4, "\r\n\r\n") == 0) return 0;
    }
    return -1;
}

int main(void) {
    uint16_t port = 0;
    int lsn = hc_listen_loopback(&port);
    CHECK(lsn >= 0);
    if (lsn < 0) return 1;

    hc_connection *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", port, &c) == HC_OK);
    CHECK(hc_connection_set_timeout(c, 10) == HC_OK);
    CHECK(hc_connection_set_source_address(c, "not-an-ip", 0) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_source_address(NULL, "127.0.0.2", 0) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_source_address(c, "127.0.0.2", 0) == HC_OK);
    CHECK(hc_connection_set_blocksize(c, 1023) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_blocksize(c, 1024 * 1024 + 1) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_blocksize(NULL, 4096) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_blocksize(c, 1024) == HC_OK);
    CHECK(hc_connection_fileno(c) == -1);
    CHECK(hc_connection_fileno(NULL) == -1);

    /* The connect completes against the backlog; accept() then shows the peer. */
    CHECK(hc_connection_connect(c) == HC_OK);
    int fd = hc_connection_fileno(c);
    CHECK(fd >= 0);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int srv = accept(lsn, (struct sockaddr *)&peer, &plen);
    CHECK(srv >= 0);
    char ip[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    CHECK(strcmp(ip, "127.0.0.2") == 0);

    CHECK(hc_request(c, "GET", "/", NULL, 0, NULL, 0) == HC_OK);
    CHECK(read_head(srv) == 0);

    /* Nothing to read yet: poll() times out. */
    struct pollfd p = {fd, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0);

    /* A body longer than the block size, in two writes. */
    static char reply[8192];
    size_t body = 3000;
    int hl = snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", body);
    memset(reply + hl, 'z', body);
    CHECK(hc_sock_write(srv, reply, (size_t)hl + body) == (ssize_t)((size_t)hl + body));
    p.revents = 0;
    CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN));

    hc_response *r = NULL;
    CHECK(hc_getresponse(c, &r) == HC_OK);
    CHECK(hc_response_status(r) == 200);
    uint8_t buf[100];
    size_t got = 0, n = 0, stray = 0;
    do {
        CHECK(hc_response_read(r, buf, sizeof buf, &n) == HC_OK);
        for (size_t i = 0; i < n; i++)
            if (buf[i] != 'z') stray++;
        got += n;
    } while (n > 0 && got < 100000);
    CHECK(got == body);
    CHECK(stray == 0); /* every body byte is the 'z' written */
    hc_response_free(r);

    hc_connection_free(c);
    hc_sock_close(srv);
    hc_sock_close(lsn);
    return hc_check_done();
}
