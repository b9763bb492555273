/*
 * A peer that resets the connection while a response is awaited (it closes its socket with the
 * request unread, which makes the system send RST instead of FIN), and
 * a peer that is not listening: the same codes on every system, HC_ERR_CONNECTION_RESET and
 * HC_ERR_CONNECTION_REFUSED (ECONNRESET/ECONNREFUSED; WSAECONNRESET/WSAECONNREFUSED on
 * Windows). The "server" is a socket of this test. Wine closes such a socket gracefully, so
 * under Wine the reset comes from tests/windows/reset_server.py instead (ctest wine.reset).
 * Prints "N passed, 0 failed".
 */
#define _POSIX_C_SOURCE 200809L
#include "hc_check.h"

int main(void) {
    uint16_t port = 0;
    int lsn = hc_listen_loopback(&port);

    hc_connection *c = NULL;
    CHECK_OK(hc_connection_new("127.0.0.1", port, &c));
    CHECK_OK(hc_connection_set_timeout(c, 10));
    CHECK_OK(hc_request(c, "GET", "/reset", NULL, 0, NULL, 0));
    int srv = (int)accept(lsn, NULL, NULL);
    CHECK(srv >= 0);
    /* Wait until the request is there, then close without reading it: RST. */
    struct pollfd p = {srv, POLLIN, 0};
    CHECK(poll(&p, 1, 10000) == 1);
    hc_sock_close(srv);

    hc_response *r = NULL;
    CHECK_RC(hc_getresponse(c, &r), HC_ERR_CONNECTION_RESET);
    CHECK(r == NULL);
    char msg[512];
    CHECK(hc_last_error_message(msg, sizeof msg) > 0);
    hc_connection_free(c);

    /* Nobody listens on the port any more: refused. */
    hc_sock_close(lsn);
    c = NULL;
    CHECK_OK(hc_connection_new("127.0.0.1", port, &c));
    CHECK_RC(hc_connection_connect(c), HC_ERR_CONNECTION_REFUSED);
    hc_connection_free(c);
    return hc_check_done();
}
