#!/usr/bin/env bash
# Checks with curl that every server hcservers.py starts answers as documented.
# Usage: tests/servers/selftest.sh     (starts its own servers through `hcservers.py run`)
# Exits non-zero and names each failed check. Needs: bash, curl, gzip, sha256sum, nginx, openssl.
set -u

here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${HC_SELFTEST_INNER:-}" ]; then
    HC_SELFTEST_INNER=1 exec python3 "$here/hcservers.py" run -- bash "$here/selftest.sh" "$@"
fi

failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok   $1"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1"; }
# expect NAME COMMAND...: the command must succeed
expect() { local n="$1"; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }
# expect_curl_fail NAME EXIT_CODES CURL_ARGS...: curl must fail with one of EXIT_CODES ("35|56")
expect_curl_fail() {
    local n="$1" want="$2"; shift 2
    curl -sS -o /dev/null "$@" 2>/tmp/hc-selftest-err.$$; local rc=$?
    if [[ "$rc" =~ ^($want)$ ]]; then ok "$n (curl exit $rc: $(head -1 /tmp/hc-selftest-err.$$ | head -c 160))"
    else bad "$n (curl exit $rc, wanted $want: $(head -1 /tmp/hc-selftest-err.$$ | head -c 300))"; fi
}
T="$(mktemp -d)"
trap 'rm -rf "$T" /tmp/hc-selftest-err.$$' EXIT
D="$HC_TEST_DOCROOT"
H="http://127.0.0.1:$HC_TEST_HTTP_PORT"
S="https://localhost:$HC_TEST_HTTPS_PORT"
CA=(--cacert "$HC_TEST_CA_FILE")

# --- plain nginx -----------------------------------------------------------------------
curl -sS -o "$T/small" "$H/small.txt"
expect "plain GET /small.txt" cmp -s "$T/small" "$D/small.txt"
curl -sS -o "$T/large" "$H/large.bin"
expect "plain GET /large.bin sha256" \
    test "$(sha256sum < "$T/large" | cut -d' ' -f1)" = "$HC_TEST_LARGE_SHA256"
expect "large size" test "$(stat -c %s "$T/large")" = "$HC_TEST_LARGE_SIZE"
expect "plain GET /empty.txt" test "$(curl -sS -w '%{http_code}:%{size_download}' -o /dev/null "$H/empty.txt")" = "200:0"
expect "keep-alive: 3 requests, 1 connection" test "$(curl -sS -o /dev/null -o /dev/null -o /dev/null \
    -w '%{num_connects}' "$H/small.txt" "$H/small.txt" "$H/small.txt" | tr -d '\n')" = "100"
expect "/headers" test "$(curl -sS -H 'X-Test: abc' -H 'Accept-Encoding: identity' "$H/headers")" \
    = "127.0.0.1:$HC_TEST_HTTP_PORT|identity|abc"
expect "/status/404" test "$(curl -sS -o /dev/null -w '%{http_code}' "$H/status/404")" = "404"
expect "/missing is 404" test "$(curl -sS -o /dev/null -w '%{http_code}' "$H/missing")" = "404"
expect "/close sends Connection: close" grep -qi '^connection: close' <(curl -sS -D - -o /dev/null "$H/close")
expect "HEAD /small.txt" grep -qi "^content-length: $(stat -c %s "$D/small.txt")" <(curl -sS -I "$H/small.txt")

curl -sS -D "$T/gz.h" -o "$T/gz.body" -H 'Accept-Encoding: gzip' "$H/gzip/text.txt"
expect "gzip: Transfer-Encoding: chunked" grep -qi '^transfer-encoding: chunked' "$T/gz.h"
expect "gzip: Content-Encoding: gzip" grep -qi '^content-encoding: gzip' "$T/gz.h"
expect "gzip: body gunzips to the file" cmp -s <(gzip -dc < "$T/gz.body") "$D/gzip/text.txt"
expect "gzip: identity without Accept-Encoding" \
    grep -qi '^content-length:' <(curl -sS -D - -o /dev/null "$H/gzip/text.txt")

if [ "$HC_TEST_ZSTD_STATIC" = 1 ]; then
    curl -sS -D "$T/zst.h" -o "$T/zst.body" "$H/zstd/words.txt"
    expect "zstd: Content-Encoding: zstd" grep -qi '^content-encoding: zstd' "$T/zst.h"
    expect "zstd: body decodes to the file" cmp -s <(zstd -dc < "$T/zst.body") "$D/words.txt"
fi
if [ "$HC_TEST_NGINX_BROTLI" = 1 ]; then
    for p in br/words.txt br-static/words.txt; do
        curl -sS -D "$T/br.h" -o "$T/br.body" -H 'Accept-Encoding: br' "$H/$p"
        expect "$p: Content-Encoding: br" grep -qi '^content-encoding: br' "$T/br.h"
        expect "$p: body decodes to the file" cmp -s <(brotli -dc < "$T/br.body") "$D/words.txt"
    done
fi

head -c 300000 /dev/urandom > "$T/post"
expect "nginx /echo POST" cmp -s <(curl -sS --data-binary @"$T/post" "$H/echo") "$T/post"
expect "nginx /echo chunked POST" cmp -s \
    <(curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$T/post" "$H/echo") "$T/post"

if [ "$HC_TEST_IPV6" = 1 ]; then
    expect "IPv6 [::1] GET /small.txt" cmp -s <(curl -sS -g "http://[::1]:$HC_TEST_HTTP6_PORT/small.txt") "$D/small.txt"
else
    expect "no IPv6: HC_TEST_HTTP6_PORT empty" test -z "$HC_TEST_HTTP6_PORT"
fi

# --- TLS ---------------------------------------------------------------------------------
expect "HTTPS --cacert GET /small.txt" cmp -s <(curl -sS "${CA[@]}" "$S/small.txt") "$D/small.txt"
expect "HTTPS --capath" cmp -s <(curl -sS --capath "$HC_TEST_CA_DIR" "$S/small.txt") "$D/small.txt"
expect "HTTPS via 127.0.0.1 (IP SAN)" cmp -s \
    <(curl -sS "${CA[@]}" "https://127.0.0.1:$HC_TEST_HTTPS_PORT/small.txt") "$D/small.txt"
expect "HTTPS large.bin sha256" test "$(curl -sS "${CA[@]}" "$S/large.bin" | sha256sum | cut -d' ' -f1)" = "$HC_TEST_LARGE_SHA256"
expect "HTTPS TLS 1.2 accepted" cmp -s <(curl -sS --tls-max 1.2 "${CA[@]}" "$S/small.txt") "$D/small.txt"
expect_curl_fail "HTTPS TLS 1.1 refused" 35 --tlsv1.1 --tls-max 1.1 "${CA[@]}" "$S/small.txt"
expect_curl_fail "HTTPS without the CA fails" 60 "$S/small.txt"
expect_curl_fail "expired cert fails" 60 "${CA[@]}" "https://localhost:$HC_TEST_HTTPS_EXPIRED_PORT/small.txt"
expect_curl_fail "wronghost cert fails" 60 "${CA[@]}" "https://localhost:$HC_TEST_HTTPS_WRONGHOST_PORT/small.txt"
expect_curl_fail "selfsigned cert fails" 60 "${CA[@]}" "https://localhost:$HC_TEST_HTTPS_SELFSIGNED_PORT/small.txt"
expect_curl_fail "untrusted-CA cert fails" 60 "${CA[@]}" "https://localhost:$HC_TEST_HTTPS_UNTRUSTED_PORT/small.txt"
expect_curl_fail "ipsan cert fails for localhost" 60 "${CA[@]}" "https://localhost:$HC_TEST_HTTPS_IPSAN_PORT/small.txt"
expect "ipsan cert valid for 127.0.0.1" cmp -s \
    <(curl -sS "${CA[@]}" "https://127.0.0.1:$HC_TEST_HTTPS_IPSAN_PORT/small.txt") "$D/small.txt"
expect "expired cert connects with -k" cmp -s \
    <(curl -sS -k "https://localhost:$HC_TEST_HTTPS_EXPIRED_PORT/small.txt") "$D/small.txt"
expect "selfsigned trusted explicitly" cmp -s <(curl -sS --cacert "$HC_TEST_SELFSIGNED_CERT" \
    "https://localhost:$HC_TEST_HTTPS_SELFSIGNED_PORT/small.txt") "$D/small.txt"
expect "untrusted trusted via its CA" cmp -s <(curl -sS --cacert "$HC_TEST_UNTRUSTED_CA_FILE" \
    "https://localhost:$HC_TEST_HTTPS_UNTRUSTED_PORT/small.txt") "$D/small.txt"

M="https://localhost:$HC_TEST_MTLS_PORT"
expect "mTLS without client cert -> 400" test "$(curl -sS "${CA[@]}" -o /dev/null -w '%{http_code}' "$M/")" = 400
expect "mTLS with untrusted client cert -> 400" test "$(curl -sS "${CA[@]}" -o /dev/null -w '%{http_code}' \
    --cert "$HC_TEST_UNTRUSTED_CLIENT_CERT" --key "$HC_TEST_UNTRUSTED_CLIENT_KEY" "$M/")" = 400
expect "mTLS with client cert -> 200 + DN" test "$(curl -sS "${CA[@]}" --cert "$HC_TEST_CLIENT_CERT" \
    --key "$HC_TEST_CLIENT_KEY" "$M/")" = "CN=httpclient test client,OU=tests,O=httpclient"
expect "mTLS X-Client-DN on files" grep -qi '^x-client-dn: CN=httpclient test client' <(curl -sS "${CA[@]}" \
    --cert "$HC_TEST_CLIENT_CERT" --key "$HC_TEST_CLIENT_KEY" -D - -o /dev/null "$M/small.txt")
expect_curl_fail "mismatched key refused by curl" 58 "${CA[@]}" --cert "$HC_TEST_CLIENT_CERT" \
    --key "$HC_TEST_MISMATCHED_KEY" "$M/"
MS="https://localhost:$HC_TEST_MTLS_STRICT_PORT"
# TLS 1.3: the server's alert comes after curl's handshake; curl fails sending or receiving.
expect_curl_fail "strict mTLS without client cert fails in TLS" "35|55|56" "${CA[@]}" "$MS/"
expect "strict mTLS with client cert -> 200" grep -q '"method": "GET"' <(curl -sS "${CA[@]}" \
    --cert "$HC_TEST_CLIENT_CERT" --key "$HC_TEST_CLIENT_KEY" "$MS/x")

# --- Python HTTP/1.0 server ----------------------------------------------------------------
P="http://127.0.0.1:$HC_TEST_PY10_PORT"
curl -sS -D "$T/p10.h" -o "$T/p10.body" "$P/small.txt"
expect "HTTP/1.0 server: status line HTTP/1.0" grep -q '^HTTP/1.0 200' "$T/p10.h"
expect "HTTP/1.0 server: no Content-Length" bash -c "! grep -qi '^content-length' '$T/p10.h'"
expect "HTTP/1.0 server: body" cmp -s "$T/p10.body" "$D/small.txt"
expect "HTTP/1.0 server: large.bin" test "$(curl -sS "$P/large.bin" | sha256sum | cut -d' ' -f1)" = "$HC_TEST_LARGE_SHA256"
expect "HTTP/1.0 server: 404" test "$(curl -sS -o /dev/null -w '%{http_code}' "$P/nope")" = 404

# --- Python echo server ------------------------------------------------------------------------
E="http://127.0.0.1:$HC_TEST_ECHO_PORT"
curl -sS -X PUT -H 'X-Test: 1' --data-binary 'hello echo' "$E/some/path?q=1" > "$T/echo.json"
expect "echo: JSON fields" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["method"] == "PUT" and j["path"] == "/some/path?q=1", j
assert j["body"] == "hello echo" and j["body_length"] == 10 and not j["chunked"], j
assert ["X-Test", "1"] in j["headers"], j
' "$T/echo.json"
curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$T/post" "$E/" > "$T/echo2.json"
expect "echo: chunked POST" python3 -c '
import json, sys, hashlib
j = json.load(open(sys.argv[1]))
assert j["chunked"] and j["body_length"] == 300000, j
assert j["body_sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
' "$T/echo2.json" "$T/post"
expect "echo: Expect: 100-continue" grep -q '"expect_continue": true' <(curl -sS \
    -H 'Expect: 100-continue' --data-binary @"$T/post" "$E/")
expect "echo: /expect-417" test "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' \
    --data-binary @"$T/post" "$E/expect-417")" = 417
expect "echo: /raw" cmp -s <(curl -sS --data-binary @"$T/post" "$E/raw") "$T/post"
expect "echo: keep-alive" test "$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects}' "$E/a" "$E/b" | tr -d '\n')" = "10"

# --- proxy ---------------------------------------------------------------------------------------
if [ -n "$HC_TEST_PROXY_PORT" ]; then
    X=(-x "http://127.0.0.1:$HC_TEST_PROXY_PORT")
    expect "proxy: CONNECT to HTTPS" cmp -s <(curl -sS "${X[@]}" "${CA[@]}" "$S/small.txt") "$D/small.txt"
    expect "proxy: CONNECT tunnel to plain HTTP" cmp -s <(curl -sS -p "${X[@]}" "$H/small.txt") "$D/small.txt"
    expect "proxy: forward GET" cmp -s <(curl -sS "${X[@]}" "$H/small.txt") "$D/small.txt"
else
    echo "skip proxy checks (tinyproxy not installed)"
fi

echo "selftest: $checks checks, $failures failed"
[ "$failures" = 0 ]
