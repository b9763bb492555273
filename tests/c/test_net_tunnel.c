/*
 * Proxy tunnels: hc_connection_set_tunnel, hc_connection_tunnel_status and
 * hc_connection_tunnel_header through tinyproxy (HC_TEST_PROXY_PORT) to nginx.
 * Run under `python3 tests/servers/hcservers.py run -- ./test_net_tunnel`.
 */
#include "hc_check.h"

static char *get(hc_connection *c, const char *path, int *status, size_t *len) {
    hc_response *r = NULL;
    uint8_t *body = NULL;
    *status = -1;
    *len = 0;
    if (hc_request(c, "GET", path, NULL, 0, NULL, 0) != HC_OK) return NULL;
    if (hc_getresponse(c, &r) != HC_OK) return NULL;
    *status = hc_response_status(r);
    if (hc_response_read_all(r, &body, len) != HC_OK) body = NULL;
    hc_response_free(r);
    return (char *)body;
}

int main(void) {
    unsigned short proxy = hc_env_port("HC_TEST_PROXY_PORT");
    unsigned short http = hc_env_port("HC_TEST_HTTP_PORT");
    unsigned short https = hc_env_port("HC_TEST_HTTPS_PORT");
    const char *ca = hc_env("HC_TEST_CA_FILE");
    int status;
    size_t len;
    char *body;
    char want[64];

    /* Plain HTTP through the tunnel: Host names the origin. */
    hc_connection *c = NULL;
    CHECK(hc_connection_new("127.0.0.1", proxy, &c) == HC_OK);
    hc_connection_set_timeout(c, 10);
    CHECK(hc_connection_tunnel_status(c) == -1);
    hc_header ph[] = {{"Proxy-Authorization", "Basic dXNlcjpwYXNz"}};
    CHECK(hc_connection_set_tunnel(c, "127.0.0.1", http, ph, 1) == HC_OK);
    body = get(c, "/headers", &status, &len);
    CHECK(status == 200);
    snprintf(want, sizeof want, "127.0.0.1:%u|identity|", http);
    CHECK(body && strcmp(body, want) == 0);
    hc_buffer_free((uint8_t *)body, len);
    CHECK(hc_connection_tunnel_status(c) == 200);
    CHECK(hc_connection_tunnel_header(c, "X-None") == NULL);
    CHECK(hc_connection_tunnel_header(NULL, "X-None") == NULL);
    CHECK(hc_connection_tunnel_header(c, NULL) == NULL);
    /* Not while open. */
    CHECK(hc_connection_set_tunnel(c, "127.0.0.1", http, NULL, 0) ==
          HC_ERR_IMPROPER_CONNECTION_STATE);
    CHECK(hc_connection_set_tunnel(c, "127.0.0.1", http, NULL, 1) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_tunnel(c, NULL, 0, NULL, 0) == HC_ERR_IMPROPER_CONNECTION_STATE);
    hc_connection_close(c);
    hc_header bad[] = {{"Proxy-Authorization", "x\r\nEvil: 1"}};
    CHECK(hc_connection_set_tunnel(c, "127.0.0.1", http, bad, 1) == HC_ERR_INVALID_ARGUMENT);
    CHECK(hc_connection_set_tunnel(c, "bad host", http, NULL, 0) == HC_ERR_INVALID_URL);

    /* A tunnel the proxy can't open (nobody listens on port 1): TUNNEL_FAILED. */
    CHECK(hc_connection_set_tunnel(c, "127.0.0.1", 1, NULL, 0) == HC_OK);
    hc_error e = hc_connection_connect(c);
    CHECK(e == HC_ERR_TUNNEL_FAILED);
    CHECK(hc_error_is(e, HC_ERR_OS));
    CHECK(strcmp(hc_error_name(e), "TunnelFailed") == 0);
    CHECK(hc_connection_tunnel_status(c) >= 400);
    char msg[512];
    hc_last_error_message(msg, sizeof msg);
    CHECK(strstr(msg, "Tunnel connection failed: ") != NULL);

    /* NULL host removes the tunnel: requests go to the proxy itself again. */
    CHECK(hc_connection_set_tunnel(c, NULL, 0, NULL, 0) == HC_OK);
    CHECK(hc_connection_tunnel_status(c) == -1);
    hc_connection_free(c);

    /* HTTPS inside the tunnel, verified against the origin's name. */
    CHECK(hc_https_connection_new("127.0.0.1", proxy, &c) == HC_OK);
    hc_connection_set_timeout(c, 10);
    CHECK(hc_connection_set_ca_file(c, ca) == HC_OK);
    CHECK(hc_connection_set_tunnel(c, "localhost", https, NULL, 0) == HC_OK);
    body = get(c, "/headers", &status, &len);
    CHECK(status == 200);
    snprintf(want, sizeof want, "localhost:%u|identity|", https);
    CHECK(body && strcmp(body, want) == 0);
    hc_buffer_free((uint8_t *)body, len);
    hc_connection_free(c);

    return hc_check_done();
}
