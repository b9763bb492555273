// The C++ face (include/httpclient.hpp): RAII handles, string_view in and out, exceptions
// mirroring the error hierarchy, request_stream with a lambda, the URL-level Client. The "server" is a listening
// socket of this test, answering before each response is read (one thread, loopback only).
#include <httpclient.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

static int failures = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

// Runs `f`, expecting it to throw `E` (checked by catching the base `Base` too).
template <class E, class F> static bool throws(F f) {
    try {
        f();
    } catch (const E &) {
        return true;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        return false;
    }
    return false;
}

namespace {
struct Server {
    int lsn = -1;
    uint16_t port = 0;
    Server() {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        lsn = socket(AF_INET, SOCK_STREAM, 0);
        if (lsn < 0 || bind(lsn, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
            listen(lsn, 8) != 0 || getsockname(lsn, reinterpret_cast<sockaddr *>(&a), &len) != 0)
            throw std::runtime_error("listen");
        port = ntohs(a.sin_port);
    }
    ~Server() { close(lsn); }
    int accept_one() const { return accept(lsn, nullptr, nullptr); }
};

// Reads one request (head, then a Content-Length or chunked body) byte by byte.
std::string read_request(int fd) {
    std::string s;
    char c;
    while (s.size() < 4 || s.compare(s.size() - 4, 4, "\r\n\r\n") != 0) {
        if (read(fd, &c, 1) != 1) return s;
        s += c;
    }
    if (s.find("chunked") != std::string::npos) {
        while (s.size() < 5 || s.compare(s.size() - 5, 5, "0\r\n\r\n") != 0) {
            if (read(fd, &c, 1) != 1) return s;
            s += c;
        }
    } else if (auto p = s.find("Content-Length: "); p != std::string::npos) {
        size_t n = std::stoul(s.substr(p + 16));
        for (size_t i = 0; i < n && read(fd, &c, 1) == 1; i++) s += c;
    }
    return s;
}

void reply(int fd, const std::string &r) {
    if (write(fd, r.data(), r.size()) != static_cast<ssize_t>(r.size())) std::perror("write");
}
} // namespace

static void test_get_headers_and_body(const Server &srv) {
    httpclient::Connection c("127.0.0.1", srv.port);
    c.set_timeout(10);
    CHECK(c.fileno() == -1);
    c.request("GET", "/path", std::nullopt, {{"X-Test", std::string_view("yes")}});
    int fd = srv.accept_one();
    std::string req = read_request(fd);
    CHECK(req.rfind("GET /path HTTP/1.1\r\n", 0) == 0);
    CHECK(req.find("\r\nX-Test: yes\r\n") != std::string::npos);
    reply(fd, "HTTP/1.1 200 Fine\r\nContent-Length: 12\r\nX-A: 1\r\nX-A: 2\r\n\r\nline 1\nrest.");
    httpclient::Response r = c.getresponse();
    CHECK(r.status() == 200);
    CHECK(r.version() == 11);
    CHECK(r.reason() == "Fine");
    CHECK(r.getheader("x-a") == std::optional<std::string_view>("1, 2"));
    CHECK(!r.getheader("missing"));
    auto hs = r.getheaders();
    CHECK(hs.size() == 3 && hs[0].first == "Content-Length" && hs[2].second == "2");
    CHECK(r.length() == 12);
    CHECK(r.readline() == "line 1\n");
    CHECK(r.bytes_read() == 7);
    CHECK(r.read(2) == "re");
    CHECK(r.read() == "st.");
    CHECK(r.isclosed());
    CHECK(r.readline().empty());

    // A response outlives its connection object's moves; state errors are typed.
    CHECK(throws<httpclient::ResponseNotReady>([&] { c.getresponse(); }));
    CHECK(throws<httpclient::ImproperConnectionState>([&] { c.getresponse(); }));
    CHECK(throws<httpclient::HTTPException>([&] { c.getresponse(); }));
    c.putrequest("GET", "/");
    CHECK(throws<httpclient::CannotSendRequest>([&] { c.request("GET", "/"); }));
    c.close();
    close(fd);
}

static void test_errors_carry_code_and_message(const Server &srv) {
    CHECK(throws<httpclient::InvalidURL>([] { httpclient::Connection bad("a b", 80); }));
    try {
        httpclient::Connection bad("a b", 80);
    } catch (const httpclient::Error &e) {
        CHECK(e.code() == HC_ERR_INVALID_URL);
        CHECK(std::string(e.what()).rfind("InvalidURL: ", 0) == 0);
    }
    httpclient::Connection c("127.0.0.1", srv.port);
    c.set_timeout(10);
    CHECK(throws<httpclient::InvalidArgument>([&] { c.set_blocksize(1); }));
    CHECK(throws<httpclient::InvalidArgument>([&] { c.set_verify(false); })); // plain HTTP
    c.request("GET", "/");
    int fd = srv.accept_one();
    read_request(fd);
    close(fd); // no status line: RemoteDisconnected, a BadStatusLine
    CHECK(throws<httpclient::BadStatusLine>([&] { c.getresponse(); }));
}

static void test_stream_lambda_and_abort(const Server &srv) {
    httpclient::Connection c("127.0.0.1", srv.port);
    c.set_timeout(10);
    int calls = 0;
    c.request_stream("POST", "/up", [&](uint8_t *buf, size_t cap) -> size_t {
        if (++calls > 2 || cap < 3) return 0;
        std::memcpy(buf, "abc", 3);
        return 3;
    });
    int fd = srv.accept_one();
    std::string req = read_request(fd);
    CHECK(req.find("Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\nabc\r\n0\r\n\r\n") !=
          std::string::npos);
    reply(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    CHECK(c.getresponse().status() == 204);

    // An exception from the source aborts the request and comes back to the caller.
    struct Stop : std::runtime_error {
        Stop() : std::runtime_error("stop") {}
    };
    CHECK(throws<Stop>([&] {
        c.request_stream("POST", "/up", [](uint8_t *, size_t) -> size_t { throw Stop(); }, 10);
    }));
    CHECK(c.fileno() == -1); // it went out on the kept-alive connection, now closed
    close(fd);

    // Chunks by hand.
    c.putrequest("POST", "/chunks");
    c.putheader("Transfer-Encoding", "chunked");
    c.endheaders();
    c.send_chunk("hello");
    c.send_chunk("");
    fd = srv.accept_one();
    req = read_request(fd);
    CHECK(req.find("\r\n\r\n5\r\nhello\r\n0\r\n\r\n") != std::string::npos);
    reply(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 9\r\n\r\n");
    httpclient::Response r = c.getresponse();
    CHECK(r.read() == "ok");
    CHECK(r.gettrailer("x-t") == std::optional<std::string_view>("9"));
    CHECK(r.trailers().size() == 1);
    close(fd);
}

// The URL-level client: a server thread answers one keep-alive connection in order.
static void test_client(const Server &srv) {
    std::thread server([&] {
        int fd = srv.accept_one();
        read_request(fd); // GET /a
        reply(fd, "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n");
        std::string req = read_request(fd); // GET /b on the same connection
        CHECK(req.rfind("GET /b HTTP/1.1\r\n", 0) == 0);
        CHECK(req.find("Authorization: Basic dTpw\r\n") != std::string::npos);
        reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        read_request(fd); // POST /c
        reply(fd, "HTTP/1.1 302 Found\r\nLocation: /d\r\nContent-Length: 0\r\n\r\n");
        read_request(fd); // GET /loop
        reply(fd, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
        read_request(fd);
        reply(fd, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
        close(fd);
    });
    const std::string base = "http://127.0.0.1:" + std::to_string(srv.port);
    httpclient::Client client;
    client.set_proxy(""); // whatever the environment says
    client.set_timeout(10);
    CHECK(throws<httpclient::InvalidArgument>([&] { client.set_source_address("nowhere"); }));
    client.set_source_address(std::nullopt);
    client.set_source_address("127.0.0.1"); // the requests below come from it
    httpclient::Response r = client.call("GET", base + "/a").auth("u", "p").send();
    CHECK(r.status() == 200);
    CHECK(r.redirect_count() == 1);
    CHECK(r.url() == std::optional<std::string_view>(base + "/b"));
    CHECK(!r.decoded());
    CHECK(r.read() == "hello");
    client.set_max_redirects(0);
    httpclient::Response r2 = client.request("POST", base + "/c", {{"X-T", "1"}}, "data");
    CHECK(r2.status() == 302);
    CHECK(r2.redirect_location() == std::optional<std::string_view>(base + "/d"));
    client.set_max_redirects(10);
    CHECK(throws<httpclient::TooManyRedirects>(
        [&] { client.call("GET", base + "/loop").max_redirects(1).send(); }));
    server.join();
    CHECK(throws<httpclient::InvalidURL>([&] { client.get("ftp://x/"); }));
    CHECK(throws<httpclient::RedirectError>([&] { httpclient::throw_error(HC_ERR_BAD_LOCATION); }));
    CHECK(throws<httpclient::ProxyError>([&] { httpclient::throw_error(HC_ERR_TUNNEL_FAILED); }));
    CHECK(throws<httpclient::ContentDecodingError>(
        [&] { httpclient::throw_error(HC_ERR_DECODED_SIZE_EXCEEDED); }));
    CHECK(throws<httpclient::ProxyError>([&] { client.set_proxy("socks5://x:1"); }));
}

int main() {
    Server srv;
    test_get_headers_and_body(srv);
    test_errors_carry_code_and_message(srv);
    test_stream_lambda_and_abort(srv);
    test_client(srv);
    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("ok\n");
    return 0;
}
