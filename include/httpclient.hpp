/*
 * httpclient.hpp — a header-only C++17 face for httpclient (libhttpclient.so).
 *
 *   httpclient::Connection c("localhost", 8080);
 *   c.request("GET", "/");
 *   httpclient::Response r = c.getresponse();
 *   std::cout << r.status() << " " << r.reason() << "\n" << r.read();
 *
 *   httpclient::Client client;            // the URL-level client: pool, redirects, decoding
 *   std::cout << client.get("https://example.org/").read();
 *
 * - Handles are RAII: Connection and Response own their C handle (std::unique_ptr with the
 *   matching *_free as deleter); they move, they don't copy. A Response stays readable after
 *   its Connection is destroyed, as in C.
 * - Strings in are std::string_view (copied to NUL-terminated storage for the call); strings
 *   out are std::string_view into memory the Response (or Connection) owns, valid until that
 *   object is destroyed, as the C documentation says for each getter.
 * - Every failing C call throws an exception whose class mirrors its hc_error code, with the
 *   hierarchy of hc_error_parent (HTTPException > ImproperConnectionState >
 *   CannotSendRequest, OSError > TLSError > CertificateVerifyError, ...). All derive from
 *   httpclient::Error (a std::runtime_error) whose code() is the C code and what() the
 *   thread's hc_last_error_message.
 * - A Connection, its Responses, are used by one thread at a time (as in C).
 */
#ifndef HTTPCLIENT_HPP
#define HTTPCLIENT_HPP

#include <httpclient.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpclient {

/* ----- exceptions: one class per hc_error code, derived as hc_error_parent says ----- */

/** The root of every exception thrown here: the C code and the thread's message. */
class Error : public std::runtime_error {
  public:
    Error(int code, const std::string &message) : std::runtime_error(message), code_(code) {}
    /** The hc_error code (HC_ERR_*). */
    int code() const noexcept { return code_; }

  private:
    int code_;
};

#define HTTPCLIENT_EXCEPTION(name, parent)                                                     \
    class name : public parent {                                                               \
      public:                                                                                  \
        using parent::parent;                                                                  \
    };

HTTPCLIENT_EXCEPTION(HTTPException, Error)                        /* HC_ERR_HTTP_EXCEPTION */
HTTPCLIENT_EXCEPTION(NotConnected, HTTPException)                 /* HC_ERR_NOT_CONNECTED */
HTTPCLIENT_EXCEPTION(InvalidURL, HTTPException)                   /* HC_ERR_INVALID_URL */
HTTPCLIENT_EXCEPTION(UnknownProtocol, HTTPException)              /* HC_ERR_UNKNOWN_PROTOCOL */
HTTPCLIENT_EXCEPTION(UnknownTransferEncoding, HTTPException)      /* ..._TRANSFER_ENCODING */
HTTPCLIENT_EXCEPTION(UnimplementedFileMode, HTTPException)        /* ..._FILE_MODE */
HTTPCLIENT_EXCEPTION(IncompleteRead, HTTPException)               /* HC_ERR_INCOMPLETE_READ */
HTTPCLIENT_EXCEPTION(ImproperConnectionState, HTTPException)      /* ..._CONNECTION_STATE */
HTTPCLIENT_EXCEPTION(CannotSendRequest, ImproperConnectionState)  /* ..._CANNOT_SEND_REQUEST */
HTTPCLIENT_EXCEPTION(CannotSendHeader, ImproperConnectionState)   /* ..._CANNOT_SEND_HEADER */
HTTPCLIENT_EXCEPTION(ResponseNotReady, ImproperConnectionState)   /* ..._RESPONSE_NOT_READY */
HTTPCLIENT_EXCEPTION(BadStatusLine, HTTPException)                /* HC_ERR_BAD_STATUS_LINE */
HTTPCLIENT_EXCEPTION(LineTooLong, HTTPException)                  /* HC_ERR_LINE_TOO_LONG */
HTTPCLIENT_EXCEPTION(RemoteDisconnected, BadStatusLine)           /* ..._REMOTE_DISCONNECTED */
HTTPCLIENT_EXCEPTION(TooManyHeaders, HTTPException)               /* HC_ERR_TOO_MANY_HEADERS */
HTTPCLIENT_EXCEPTION(OSError, Error)                              /* HC_ERR_OS */
HTTPCLIENT_EXCEPTION(Timeout, OSError)                            /* HC_ERR_TIMEOUT */
HTTPCLIENT_EXCEPTION(ConnectionRefused, OSError)                  /* ..._CONNECTION_REFUSED */
HTTPCLIENT_EXCEPTION(ConnectionReset, OSError)                    /* HC_ERR_CONNECTION_RESET */
HTTPCLIENT_EXCEPTION(HostNotFound, OSError)                       /* HC_ERR_HOST_NOT_FOUND */
HTTPCLIENT_EXCEPTION(ProxyError, OSError)                         /* HC_ERR_PROXY */
HTTPCLIENT_EXCEPTION(TunnelFailed, ProxyError)                    /* HC_ERR_TUNNEL_FAILED */
HTTPCLIENT_EXCEPTION(ProxyAuthRequired, ProxyError)               /* ..._PROXY_AUTH_REQUIRED */
HTTPCLIENT_EXCEPTION(BlockingIOError, OSError)                    /* HC_ERR_WOULD_BLOCK */
HTTPCLIENT_EXCEPTION(TLSError, OSError)                           /* HC_ERR_TLS */
HTTPCLIENT_EXCEPTION(CertificateVerifyError, TLSError)            /* ..._CERTIFICATE_VERIFY */
HTTPCLIENT_EXCEPTION(InvalidArgument, Error)                      /* HC_ERR_INVALID_ARGUMENT */
HTTPCLIENT_EXCEPTION(AbortedByCallback, Error)                    /* ..._ABORTED_BY_CALLBACK */
HTTPCLIENT_EXCEPTION(InternalError, Error)                        /* HC_ERR_INTERNAL */
HTTPCLIENT_EXCEPTION(RedirectError, Error)                        /* HC_ERR_REDIRECT */
HTTPCLIENT_EXCEPTION(TooManyRedirects, RedirectError)             /* ..._TOO_MANY_REDIRECTS */
HTTPCLIENT_EXCEPTION(RedirectRefused, RedirectError)              /* ..._REDIRECT_REFUSED */
HTTPCLIENT_EXCEPTION(BadLocation, RedirectError)                  /* HC_ERR_BAD_LOCATION */
HTTPCLIENT_EXCEPTION(ContentDecodingError, HTTPException)         /* ..._CONTENT_DECODING */
HTTPCLIENT_EXCEPTION(TooManyEncodings, ContentDecodingError)      /* ..._TOO_MANY_ENCODINGS */
HTTPCLIENT_EXCEPTION(DecodedSizeExceeded, ContentDecodingError)   /* ..._DECODED_SIZE_EXCEEDED */

#undef HTTPCLIENT_EXCEPTION

/** The calling thread's message for its last failure. */
inline std::string last_error_message() {
    char small[512];
    size_t n = hc_last_error_message(small, sizeof small);
    if (n < sizeof small) return std::string(small, n);
    std::string big(n + 1, '\0');
    hc_last_error_message(big.data(), big.size());
    big.resize(n);
    return big;
}

/** Throws the exception of `code` with the thread's last message. */
[[noreturn]] inline void throw_error(int code) {
    const std::string m = last_error_message();
    switch (code) {
    case HC_ERR_HTTP_EXCEPTION: throw HTTPException(code, m);
    case HC_ERR_NOT_CONNECTED: throw NotConnected(code, m);
    case HC_ERR_INVALID_URL: throw InvalidURL(code, m);
    case HC_ERR_UNKNOWN_PROTOCOL: throw UnknownProtocol(code, m);
    case HC_ERR_UNKNOWN_TRANSFER_ENCODING: throw UnknownTransferEncoding(code, m);
    case HC_ERR_UNIMPLEMENTED_FILE_MODE: throw UnimplementedFileMode(code, m);
    case HC_ERR_INCOMPLETE_READ: throw IncompleteRead(code, m);
    case HC_ERR_IMPROPER_CONNECTION_STATE: throw ImproperConnectionState(code, m);
    case HC_ERR_CANNOT_SEND_REQUEST: throw CannotSendRequest(code, m);
    case HC_ERR_CANNOT_SEND_HEADER: throw CannotSendHeader(code, m);
    case HC_ERR_RESPONSE_NOT_READY: throw ResponseNotReady(code, m);
    case HC_ERR_BAD_STATUS_LINE: throw BadStatusLine(code, m);
    case HC_ERR_LINE_TOO_LONG: throw LineTooLong(code, m);
    case HC_ERR_REMOTE_DISCONNECTED: throw RemoteDisconnected(code, m);
    case HC_ERR_TOO_MANY_HEADERS: throw TooManyHeaders(code, m);
    case HC_ERR_OS: throw OSError(code, m);
    case HC_ERR_TIMEOUT: throw Timeout(code, m);
    case HC_ERR_CONNECTION_REFUSED: throw ConnectionRefused(code, m);
    case HC_ERR_CONNECTION_RESET: throw ConnectionReset(code, m);
    case HC_ERR_HOST_NOT_FOUND: throw HostNotFound(code, m);
    case HC_ERR_TUNNEL_FAILED: throw TunnelFailed(code, m);
    case HC_ERR_PROXY: throw ProxyError(code, m);
    case HC_ERR_PROXY_AUTH_REQUIRED: throw ProxyAuthRequired(code, m);
    case HC_ERR_WOULD_BLOCK: throw BlockingIOError(code, m);
    case HC_ERR_TLS: throw TLSError(code, m);
    case HC_ERR_CERTIFICATE_VERIFY: throw CertificateVerifyError(code, m);
    case HC_ERR_INVALID_ARGUMENT: throw InvalidArgument(code, m);
    case HC_ERR_ABORTED_BY_CALLBACK: throw AbortedByCallback(code, m);
    case HC_ERR_INTERNAL: throw InternalError(code, m);
    case HC_ERR_REDIRECT: throw RedirectError(code, m);
    case HC_ERR_TOO_MANY_REDIRECTS: throw TooManyRedirects(code, m);
    case HC_ERR_REDIRECT_REFUSED: throw RedirectRefused(code, m);
    case HC_ERR_BAD_LOCATION: throw BadLocation(code, m);
    case HC_ERR_CONTENT_DECODING: throw ContentDecodingError(code, m);
    case HC_ERR_TOO_MANY_ENCODINGS: throw TooManyEncodings(code, m);
    case HC_ERR_DECODED_SIZE_EXCEEDED: throw DecodedSizeExceeded(code, m);
    default:
        /* A code newer than this header: the nearest known ancestor's class. */
        if (hc_error_is(code, HC_ERR_HTTP_EXCEPTION)) throw HTTPException(code, m);
        if (hc_error_is(code, HC_ERR_OS)) throw OSError(code, m);
        throw Error(code, m);
    }
}

/** Throws unless `e` is HC_OK. */
inline void check(hc_error e) {
    if (e != HC_OK) throw_error(e);
}

/** A request header; both views are copied for the call. */
struct Header {
    std::string_view name;
    std::string_view value;
};

namespace detail {
struct ConnectionDeleter {
    void operator()(hc_connection *c) const noexcept { hc_connection_free(c); }
};
struct ResponseDeleter {
    void operator()(hc_response *r) const noexcept { hc_response_free(r); }
};
struct ClientDeleter {
    void operator()(hc_client *c) const noexcept { hc_client_free(c); }
};
struct CallDeleter {
    void operator()(hc_call *c) const noexcept { hc_call_free(c); }
};

/** NUL-terminated copies of headers, alive as long as this object. */
class CHeaders {
  public:
    explicit CHeaders(const std::vector<Header> &hs) {
        strings_.reserve(hs.size() * 2);
        for (const Header &h : hs) {
            strings_.emplace_back(h.name);
            strings_.emplace_back(h.value);
        }
        for (size_t i = 0; i < hs.size(); i++)
            c_.push_back(hc_header{strings_[2 * i].c_str(), strings_[2 * i + 1].c_str()});
    }
    const hc_header *data() const { return c_.empty() ? nullptr : c_.data(); }
    size_t size() const { return c_.size(); }

  private:
    std::vector<std::string> strings_;
    std::vector<hc_header> c_;
};

inline std::string_view view(const char *s) { return s ? std::string_view(s) : std::string_view(); }
} // namespace detail

/** An HTTP response (hc_response): status, headers, and the body read in pieces. */
class Response {
  public:
    /** Takes ownership of a handle from hc_getresponse. */
    explicit Response(hc_response *r) : h_(r) {}

    int status() const { return hc_response_status(h_.get()); }
    /** 10 or 11 (9 for HTTP/0.9 in lenient mode). */
    int version() const { return hc_response_version(h_.get()); }
    /** Valid while this Response lives. */
    std::string_view reason() const { return detail::view(hc_response_reason(h_.get())); }

    /** The header's value (repeated fields joined with ", "), valid while this Response
     *  lives; nullopt when absent. */
    std::optional<std::string_view> getheader(std::string_view name) const {
        const char *v = hc_response_getheader(h_.get(), std::string(name).c_str());
        if (!v) return std::nullopt;
        return std::string_view(v);
    }

    /** Every header field in wire order, views valid while this Response lives. */
    std::vector<std::pair<std::string_view, std::string_view>> getheaders() const {
        std::vector<std::pair<std::string_view, std::string_view>> out;
        size_t n = hc_response_header_count(h_.get());
        out.reserve(n);
        for (size_t i = 0; i < n; i++) {
            const char *name = nullptr, *value = nullptr;
            check(hc_response_header(h_.get(), i, &name, &value));
            out.emplace_back(name, value);
        }
        return out;
    }

    /** Fills `buf` with up to `cap` body bytes (fewer only at the end); 0 once it ended. */
    size_t read(void *buf, size_t cap) {
        size_t n = 0;
        check(hc_response_read(h_.get(), static_cast<uint8_t *>(buf), cap, &n));
        return n;
    }

    /** httplib's read(amt): up to `amt` bytes, fewer only at the end of the body. */
    std::string read(size_t amt) {
        std::string s(amt, '\0');
        s.resize(read(s.data(), amt));
        return s;
    }

    /** The rest of the body. */
    std::string read() {
        uint8_t *buf = nullptr;
        size_t len = 0;
        check(hc_response_read_all(h_.get(), &buf, &len));
        std::string s(reinterpret_cast<const char *>(buf), len);
        hc_buffer_free(buf, len);
        return s;
    }

    /** httplib's readline(limit): up to and including the next '\n', at most `limit`
     *  bytes; "" once the body ended. */
    std::string readline(size_t limit = 65536) {
        std::string s(limit, '\0');
        size_t n = 0;
        check(hc_response_readline(h_.get(), reinterpret_cast<uint8_t *>(s.data()), limit, &n));
        s.resize(n);
        return s;
    }

    bool isclosed() const { return hc_response_isclosed(h_.get()); }
    /** Bytes still to come when known, else -1. */
    int64_t length() const { return hc_response_length(h_.get()); }
    uint64_t bytes_read() const { return hc_response_bytes_read(h_.get()); }

    /** A trailer of a chunked body once it ended, valid while this Response lives. */
    std::optional<std::string_view> gettrailer(std::string_view name) const {
        const char *v = hc_response_gettrailer(h_.get(), std::string(name).c_str());
        if (!v) return std::nullopt;
        return std::string_view(v);
    }

    std::vector<std::pair<std::string_view, std::string_view>> trailers() const {
        std::vector<std::pair<std::string_view, std::string_view>> out;
        size_t n = hc_response_trailer_count(h_.get());
        for (size_t i = 0; i < n; i++) {
            const char *name = nullptr, *value = nullptr;
            check(hc_response_trailer(h_.get(), i, &name, &value));
            out.emplace_back(name, value);
        }
        return out;
    }

    /** From hc_client: the final URL (after redirects, userinfo removed), valid while this
     *  Response lives; nullopt for a response of a Connection. */
    std::optional<std::string_view> url() const {
        const char *u = hc_response_url(h_.get());
        if (!u) return std::nullopt;
        return std::string_view(u);
    }
    /** From hc_client: how many redirects were followed. */
    int redirect_count() const { return hc_response_redirect_count(h_.get()); }
    /** From hc_client: the target of a 3xx returned instead of followed. */
    std::optional<std::string_view> redirect_location() const {
        const char *u = hc_response_redirect_location(h_.get());
        if (!u) return std::nullopt;
        return std::string_view(u);
    }
    /** From hc_client: the body is being decoded (gzip, deflate, br, zstd). */
    bool decoded() const { return hc_response_decoded(h_.get()); }

    /** The C handle, still owned by this object. */
    hc_response *get() const noexcept { return h_.get(); }

  private:
    std::unique_ptr<hc_response, detail::ResponseDeleter> h_;
};

/** An HTTP or HTTPS connection (hc_connection, httplib's HTTPConnection). */
class Connection {
  public:
    /** HTTP (or HTTPS when `https`) to `host` (port 0: from "host:port" or the default).
     *  No I/O happens until the first request or connect(). */
    explicit Connection(std::string_view host, uint16_t port = 0, bool https = false) {
        hc_connection *c = nullptr;
        const std::string h(host);
        check(https ? hc_https_connection_new(h.c_str(), port, &c)
                    : hc_connection_new(h.c_str(), port, &c));
        h_.reset(c);
    }

    static Connection https(std::string_view host, uint16_t port = 0) {
        return Connection(host, port, true);
    }

    void set_timeout(double seconds) { check(hc_connection_set_timeout(h_.get(), seconds)); }
    void set_ca_file(std::string_view pem) {
        check(hc_connection_set_ca_file(h_.get(), std::string(pem).c_str()));
    }
    void set_verify(bool verify) { check(hc_connection_set_verify(h_.get(), verify)); }
    void set_strict(bool strict) { check(hc_connection_set_strict(h_.get(), strict)); }
    void set_debuglevel(int level) { check(hc_connection_set_debuglevel(h_.get(), level)); }
    void set_continue_timeout(double seconds) {
        check(hc_connection_set_continue_timeout(h_.get(), seconds));
    }
    void set_blocksize(size_t size) { check(hc_connection_set_blocksize(h_.get(), size)); }
    void set_source_address(std::string_view ip, uint16_t port = 0) {
        check(hc_connection_set_source_address(h_.get(), std::string(ip).c_str(), port));
    }
    /** httplib's set_tunnel: this connection's host is the proxy. */
    void set_tunnel(std::string_view host, uint16_t port = 0,
                    const std::vector<Header> &headers = {}) {
        detail::CHeaders ch(headers);
        check(hc_connection_set_tunnel(h_.get(), std::string(host).c_str(), port, ch.data(),
                                       ch.size()));
    }
    /** The proxy's status for the last CONNECT, -1 if none. */
    int tunnel_status() const { return hc_connection_tunnel_status(h_.get()); }

    void connect() { check(hc_connection_connect(h_.get())); }
    void close() { check(hc_connection_close(h_.get())); }
    /** The socket's descriptor while open (for poll()), else -1; owned by the library. */
    int fileno() const { return hc_connection_fileno(h_.get()); }

    /** httplib's request(): `body` nullopt sends none. */
    void request(std::string_view method, std::string_view url,
                 std::optional<std::string_view> body = std::nullopt,
                 const std::vector<Header> &headers = {}) {
        detail::CHeaders ch(headers);
        const std::string m(method), u(url);
        const uint8_t *b = body ? reinterpret_cast<const uint8_t *>(body->data()) : nullptr;
        static const uint8_t empty = 0;
        if (body && body->empty()) b = &empty;
        check(hc_request(h_.get(), m.c_str(), u.c_str(), b, body ? body->size() : 0, ch.data(),
                         ch.size()));
    }

    /** A request whose body comes from `source(uint8_t *buf, size_t cap) -> size_t` (0 at
     *  the end), chunked when `length` is -1. An exception thrown by `source` aborts the
     *  request (the connection is closed) and is rethrown here. */
    template <class Source>
    void request_stream(std::string_view method, std::string_view url, Source &&source,
                        int64_t length = -1, const std::vector<Header> &headers = {}) {
        struct Ctx {
            Source *src;
            std::exception_ptr error;
        } ctx{&source, nullptr};
        auto trampoline = [](uint8_t *buf, size_t cap, void *ud) -> size_t {
            Ctx *c = static_cast<Ctx *>(ud);
            try {
                return (*c->src)(buf, cap);
            } catch (...) {
                c->error = std::current_exception();
                return HC_READ_ABORT;
            }
        };
        detail::CHeaders ch(headers);
        const std::string m(method), u(url);
        hc_error e = hc_request_stream(h_.get(), m.c_str(), u.c_str(), trampoline, &ctx, length,
                                       ch.data(), ch.size());
        if (ctx.error) std::rethrow_exception(ctx.error);
        check(e);
    }

    /* The step-by-step API. */
    void putrequest(std::string_view method, std::string_view url, unsigned flags = 0) {
        check(hc_putrequest(h_.get(), std::string(method).c_str(), std::string(url).c_str(),
                            flags));
    }
    void putheader(std::string_view name, std::string_view value) {
        check(hc_putheader(h_.get(), std::string(name).c_str(), std::string(value).c_str()));
    }
    /** Sends the head, then `body` if given; nullopt with `Transfer-Encoding: chunked`
     *  leaves the body open for send_chunk(). */
    void endheaders(std::optional<std::string_view> body = std::nullopt) {
        static const uint8_t empty = 0;
        const uint8_t *b = nullptr;
        if (body) b = body->empty() ? &empty : reinterpret_cast<const uint8_t *>(body->data());
        check(hc_endheaders(h_.get(), b, body ? body->size() : 0));
    }
    void send(std::string_view data) {
        check(hc_send(h_.get(), reinterpret_cast<const uint8_t *>(data.data()), data.size()));
    }
    /** One chunk of a chunked body left open by endheaders(); "" ends it. */
    void send_chunk(std::string_view data) {
        check(hc_send_chunk(h_.get(), reinterpret_cast<const uint8_t *>(data.data()),
                            data.size()));
    }

    Response getresponse() {
        hc_response *r = nullptr;
        check(hc_getresponse(h_.get(), &r));
        return Response(r);
    }

    /** The C handle, still owned by this object. */
    hc_connection *get() const noexcept { return h_.get(); }

  private:
    std::unique_ptr<hc_connection, detail::ConnectionDeleter> h_;
};

/** One request of a Client, built step by step and sent once (hc_call). */
class Call {
  public:
    /** Takes ownership of a handle from hc_call_new. */
    explicit Call(hc_call *c) : h_(c) {}

    /** flags: HC_HEADER_SENSITIVE drops it once a redirect leaves the first origin. */
    Call &header(std::string_view name, std::string_view value, unsigned flags = 0) {
        check(hc_call_add_header(h_.get(), std::string(name).c_str(), std::string(value).c_str(),
                                 flags));
        return *this;
    }
    /** A body in memory (copied; sent again on a 307/308). */
    Call &body(std::string_view data) {
        check(hc_call_set_body(h_.get(), reinterpret_cast<const uint8_t *>(data.data()),
                               data.size()));
        return *this;
    }
    /** Basic credentials for the first origin. */
    Call &auth(std::string_view user, std::string_view password) {
        check(hc_call_set_auth(h_.get(), std::string(user).c_str(), std::string(password).c_str(),
                               HC_AUTH_BASIC));
        return *this;
    }
    Call &max_redirects(int max) {
        check(hc_call_set_max_redirects(h_.get(), max));
        return *this;
    }
    Call &total_timeout(double seconds) {
        check(hc_call_set_total_timeout(h_.get(), seconds));
        return *this;
    }
    /** Sends the call, following redirects; a call is sent once. */
    Response send() {
        hc_response *r = nullptr;
        check(hc_call_send(h_.get(), &r));
        return Response(r);
    }

    /** The C handle, still owned by this object. */
    hc_call *get() const noexcept { return h_.get(); }

  private:
    std::unique_ptr<hc_call, detail::CallDeleter> h_;
};

/** The URL-level client (hc_client): a pool of connections, a TLS session cache, redirects,
 *  decompression and proxies from the environment. Any number of threads may use one Client
 *  at once (as in C). Responses it hands out stay readable after it is destroyed. */
class Client {
  public:
    Client() {
        hc_client *c = nullptr;
        check(hc_client_new(&c));
        h_.reset(c);
    }

    void set_max_redirects(int max) { check(hc_client_set_max_redirects(h_.get(), max)); }
    void set_redirect_flags(unsigned flags) { check(hc_client_set_redirect_flags(h_.get(), flags)); }
    void set_accept_encoding(unsigned mask) { check(hc_client_set_accept_encoding(h_.get(), mask)); }
    void set_max_decoded_size(uint64_t bytes) {
        check(hc_client_set_max_decoded_size(h_.get(), bytes));
    }
    /** nullopt: from the environment; "": none; else a proxy URL. */
    void set_proxy(std::optional<std::string_view> url) {
        const std::string u(url.value_or(""));
        check(hc_client_set_proxy(h_.get(), url ? u.c_str() : nullptr));
    }
    void set_no_proxy(std::optional<std::string_view> list) {
        const std::string l(list.value_or(""));
        check(hc_client_set_no_proxy(h_.get(), list ? l.c_str() : nullptr));
    }
    void set_connect_timeout(double s) { check(hc_client_set_connect_timeout(h_.get(), s)); }
    void set_timeout(double s) { check(hc_client_set_timeout(h_.get(), s)); }
    void set_total_timeout(double s) { check(hc_client_set_total_timeout(h_.get(), s)); }
    void set_ca_file(std::string_view pem) {
        check(hc_client_set_ca_file(h_.get(), std::string(pem).c_str()));
    }
    void set_ca_path(std::string_view dir) {
        check(hc_client_set_ca_path(h_.get(), std::string(dir).c_str()));
    }
    void set_client_cert(std::string_view cert, std::string_view key) {
        check(hc_client_set_client_cert(h_.get(), std::string(cert).c_str(),
                                        std::string(key).c_str()));
    }
    void set_verify(bool verify) { check(hc_client_set_verify(h_.get(), verify)); }
    void set_tls_session_cache(bool on) { check(hc_client_set_tls_session_cache(h_.get(), on)); }
    /** The local address new connections are bound to; std::nullopt: any (the default). */
    void set_source_address(std::optional<std::string_view> ip, uint16_t port = 0) {
        check(hc_client_set_source_address(h_.get(), ip ? std::string(*ip).c_str() : nullptr,
                                           port));
    }
    void set_pool_limits(size_t idle_per_key, size_t idle_total, double idle_timeout_s) {
        check(hc_client_set_pool_limits(h_.get(), idle_per_key, idle_total, idle_timeout_s));
    }
    void close_idle() { check(hc_client_close_idle(h_.get())); }

    /** A call to build step by step. */
    Call call(std::string_view method, std::string_view url) {
        hc_call *c = nullptr;
        check(hc_call_new(h_.get(), std::string(method).c_str(), std::string(url).c_str(), &c));
        return Call(c);
    }

    /** One call in one go: `body` nullopt sends none. */
    Response request(std::string_view method, std::string_view url,
                     const std::vector<Header> &headers = {},
                     std::optional<std::string_view> body = std::nullopt) {
        detail::CHeaders ch(headers);
        hc_response *r = nullptr;
        static const uint8_t empty = 0;
        const uint8_t *b = nullptr;
        if (body) b = body->empty() ? &empty : reinterpret_cast<const uint8_t *>(body->data());
        check(hc_client_request(h_.get(), std::string(method).c_str(), std::string(url).c_str(),
                                ch.data(), ch.size(), b, body ? body->size() : 0, &r));
        return Response(r);
    }

    Response get(std::string_view url) { return request("GET", url); }

    /** The C handle, still owned by this object. */
    hc_client *get_handle() const noexcept { return h_.get(); }

  private:
    std::unique_ptr<hc_client, detail::ClientDeleter> h_;
};

/** GET `url` with the process-wide default client (hc_get). */
inline Response get(std::string_view url) {
    hc_response *r = nullptr;
    check(hc_get(std::string(url).c_str(), &r));
    return Response(r);
}

} // namespace httpclient

#endif /* HTTPCLIENT_HPP */
