// cpp_get: fetch a URL path with the C++ face of httpclient (include/httpclient.hpp).
//
//   cpp_get HOST PORT [PATH] [--https CAFILE]
//
// Prints the status line and headers to stderr and the body to stdout. Exits 0 for a 2xx
// or 3xx status, 22 for 4xx/5xx, 1 when httpclient throws (the exception's class names the
// error, as in Python: Timeout, CertificateVerifyError, RemoteDisconnected ...).
#include <httpclient.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: cpp_get HOST PORT [PATH] [--https CAFILE]\n";
        return 2;
    }
    const std::string path = argc > 3 ? argv[3] : "/";
    const bool https = argc > 5 && std::string(argv[4]) == "--https";
    try {
        httpclient::Connection c(argv[1], static_cast<uint16_t>(std::atoi(argv[2])), https);
        if (https) c.set_ca_file(argv[5]);
        c.set_timeout(30);
        c.request("GET", path);
        httpclient::Response r = c.getresponse();
        std::cerr << "HTTP/" << r.version() / 10 << "." << r.version() % 10 << " " << r.status()
                  << " " << r.reason() << "\n";
        for (const auto &[name, value] : r.getheaders()) std::cerr << name << ": " << value << "\n";
        char buf[16384];
        while (size_t n = r.read(buf, sizeof buf)) std::cout.write(buf, static_cast<std::streamsize>(n));
        return r.status() >= 400 ? 22 : 0;
    } catch (const httpclient::Error &e) {
        std::cerr << "cpp_get: " << e.what() << " (code " << e.code() << ")\n";
        return 1;
    }
}
