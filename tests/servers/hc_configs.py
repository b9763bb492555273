"""Configuration templates of the hcservers test servers (nginx, tinyproxy).

Placeholders are filled by hcservers.py with str.format (hence the doubled braces).
"""

COMMON_CONF = """\
root {docroot};
index index.html;
location / {{ }}
location /gzip/ {{
    gzip on;
    gzip_types text/plain;
    gzip_min_length 0;
}}
location = /echo {{
    proxy_pass http://127.0.0.1:{echo_port}/raw;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
}}
location /zstd/ {{
    # Pre-compressed static files (made by the zstd command-line tool at start-up): nginx has
    # no zstd module, so the coding is said by configuration, as sites serving .zst do.
    types {{ }}
    default_type text/plain;
    try_files $uri.zst =404;
    add_header Content-Encoding zstd;
    add_header Vary Accept-Encoding;
}}
location = /headers {{
    default_type text/plain;
    return 200 "$http_host|$http_accept_encoding|$http_x_test";
}}
location = /status/404 {{ return 404; }}
location = /status/204 {{ return 204; }}
location = /status/500 {{ return 500; }}
location = /redirect {{ return 302 /small.txt; }}
location = /session_reused {{ default_type text/plain; return 200 "$ssl_session_reused"; }}
location /small-upload/ {{ client_max_body_size 1m; }}
location = /__hcservers_probe {{ return 200 "{token}"; }}
location = /close {{
    keepalive_timeout 0;
    default_type text/plain;
    return 200 "closing\\n";
}}
"""

NGINX_CONF = """\
{user}
{load_modules}worker_processes 2;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/nginx-tmp/body;
    proxy_temp_path {d}/nginx-tmp/proxy;
    fastcgi_temp_path {d}/nginx-tmp/fastcgi;
    uwsgi_temp_path {d}/nginx-tmp/uwsgi;
    scgi_temp_path {d}/nginx-tmp/scgi;
    types {{ text/html html; text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    client_max_body_size 0;
    sendfile on;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;

    server {{
        listen 127.0.0.1:{http};
        {listen6}
        include {d}/common.conf;
    }}
    server {{
        listen 127.0.0.1:{https} ssl;
        ssl_certificate {pki}/localhost.pem;
        ssl_certificate_key {pki}/localhost.key;
        include {d}/common.conf;
    }}
    server {{
        listen 127.0.0.1:{mtls} ssl;
        ssl_certificate {pki}/localhost.pem;
        ssl_certificate_key {pki}/localhost.key;
        ssl_verify_client on;
        ssl_client_certificate {pki}/ca.pem;
        ssl_verify_depth 2;
        add_header X-Client-DN $ssl_client_s_dn always;
        add_header X-Client-Verify $ssl_client_verify always;
        location = / {{ default_type text/plain; return 200 "$ssl_client_s_dn\\n"; }}
        location = /whoami {{ default_type text/plain; return 200 "$ssl_client_s_dn\\n"; }}
        include {d}/common.conf;
    }}
{bad_servers}
}}
"""

BAD_SERVER = """\
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {pki}/{name}.pem;
        ssl_certificate_key {pki}/{name}.key;
        include {d}/common.conf;
    }}
"""

TINYPROXY_CONF = """\
Port {port}
Listen 127.0.0.1
Timeout 600
Allow 127.0.0.1
MaxClients 200
LogFile "{d}/tinyproxy.log"
LogLevel Warning
PidFile "{d}/tinyproxy.pid"
DisableViaHeader Yes
"""

# Only when Debian's libnginx-mod-http-brotli-filter and -static are installed (hcservers.py
# loads them with load_module and includes this in common.conf).
BROTLI_CONF = """\
location /br/ {{
    brotli on;
    brotli_types text/plain;
    brotli_min_length 0;
}}
location /br-static/ {{
    brotli_static on;
}}
"""
