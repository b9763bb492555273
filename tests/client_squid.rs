//! The URL-level client through squid, a real forward proxy with Basic proxy authentication
//! (docs/client.md, "Proxies"): absolute form for http, CONNECT for https, 407 for wrong
//! credentials, `%40` in the password. The test starts its own squid (installed by
//! scripts/setup.sh) on a free port with a scratch configuration, and stops it at the end.

mod common;

use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use httpclient::client::proxy::ProxyConfig;
use httpclient::client::Client;
use httpclient::ErrorKind;

/// The password has an `@`, written `%40` in the proxy URL.
const USER: &str = "hcuser";
const PASSWORD: &str = "p@ss";

struct Squid {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Squid {
    fn start() -> Squid {
        let bin = ["/usr/sbin/squid", "/usr/bin/squid"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("squid is not installed: scripts/setup.sh installs it");
        let auth = [
            "/usr/lib/squid/basic_ncsa_auth",
            "/usr/lib64/squid/basic_ncsa_auth",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("squid's basic_ncsa_auth helper");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("hc-squid-{}-{port}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        // squid drops root for its own user: the directory must be open to it.
        let _ = Command::new("chmod").arg("0777").arg(&dir).status();
        let hash = Command::new("openssl")
            .args(["passwd", "-apr1", PASSWORD])
            .output()
            .expect("openssl passwd");
        let hash = String::from_utf8(hash.stdout).unwrap();
        fs::write(dir.join("passwd"), format!("{USER}:{}\n", hash.trim())).unwrap();
        let conf = format!(
            "http_port 127.0.0.1:{port}\n\
             pid_filename {d}/squid.pid\n\
             cache_log {d}/cache.log\n\
             access_log {d}/access.log\n\
             coredump_dir {d}\n\
             cache deny all\n\
             shutdown_lifetime 0 seconds\n\
             visible_hostname hc-test-squid\n\
             auth_param basic program {auth} {d}/passwd\n\
             auth_param basic realm hc-test\n\
             acl authed proxy_auth REQUIRED\n\
             http_access allow authed\n\
             http_access deny all\n",
            d = dir.display()
        );
        let _ = Command::new("chmod")
            .arg("0644")
            .arg(dir.join("passwd"))
            .status();
        fs::write(dir.join("squid.conf"), conf).unwrap();
        let child = Command::new(bin)
            .args(["-N", "-f"])
            .arg(dir.join("squid.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start squid");
        let squid = Squid { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let mut log = String::new();
                let _ = fs::File::open(squid.dir.join("cache.log"))
                    .and_then(|mut f| f.read_to_string(&mut log));
                panic!("squid did not listen on {port} within 30 s: {log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        squid
    }

    fn client(&self, userinfo: &str) -> Client {
        let c = Client::with_proxy_config(ProxyConfig::default()).unwrap();
        c.set_timeout(20.0).unwrap();
        c.set_proxy(Some(&format!("http://{userinfo}127.0.0.1:{}", self.port)))
            .unwrap();
        c.set_ca_file(common::servers().ca_file.to_str().unwrap())
            .unwrap();
        c
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn body(r: &mut httpclient::client::Response) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// One test: squid starts once, and every case runs against it.
#[test]
fn through_squid_with_basic_proxy_auth() {
    let s = common::servers();
    let small = s.docroot_file("small.txt");
    let squid = Squid::start();
    let good = format!("{USER}:p%40ss@");
    let http = format!("http://127.0.0.1:{}/small.txt", s.http_port);
    let https = format!("https://localhost:{}/small.txt", s.https_port);

    let c = squid.client(&good);
    for _ in 0..2 {
        let mut r = c.get(&http).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(body(&mut r), small, "http through squid");
        let mut r = c.get(&https).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(body(&mut r), small, "https through squid's CONNECT");
    }
    // nginx does not gzip for a proxy by default (gzip_proxied off): the body is the file,
    // decoded or not.
    let mut r = c
        .get(&format!("http://127.0.0.1:{}/gzip/text.txt", s.http_port))
        .unwrap();
    assert_eq!(body(&mut r), s.docroot_file("gzip/text.txt"));

    for userinfo in ["", "hcuser:wrong@", "hcuser:p@"] {
        let c = squid.client(userinfo);
        for url in [&http, &https] {
            let e = c
                .get(url)
                .err()
                .unwrap_or_else(|| panic!("{userinfo} {url}: no 407"));
            assert_eq!(
                e.kind(),
                ErrorKind::ProxyAuthRequired,
                "{userinfo} {url}: {e}"
            );
        }
    }
}
