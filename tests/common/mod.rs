//! Helpers shared by the integration tests (std only).
//!
//! - [`servers()`]: the real servers of `tests/servers/hcservers.py` (nginx plain/TLS/mTLS and
//!   one TLS port per bad certificate, a Python HTTP/1.0 server, a Python echo server,
//!   tinyproxy) with their test PKI. When `HC_TEST_HTTP_PORT` is set (the suite runs under
//!   `python3 tests/servers/hcservers.py run -- cargo test`), the `HC_TEST_*` environment is
//!   used as is; otherwise the first call starts `hcservers.py serve` for this test binary,
//!   and those servers exit by themselves when the test process ends. The docstring of
//!   hcservers.py lists every variable and URL path.
//! - [`scripted`]: an in-process TCP server that sends exact bytes and records what it got.
//! - [`event_loop`]: the loop of an event loop, for the tests of non-blocking mode.
//! - [`resumable`]: drives the head parser and the chunked decoder with input in pieces.
//!
//! Use from a test file with `mod common;`.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod event_loop;
pub mod resumable;
pub mod routed;
pub mod scripted;

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long `hcservers.py serve` may take to get every server listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The running test servers: ports on 127.0.0.1 and paths of the test PKI. Every field comes
/// from the `HC_TEST_*` variable of the same name (e.g. `https_expired_port` from
/// `HC_TEST_HTTPS_EXPIRED_PORT`); [`Servers::var`] gives any variable by name.
#[derive(Debug)]
pub struct Servers {
    /// nginx, plain HTTP/1.1.
    pub http_port: u16,
    /// nginx, plain, on `[::1]`; `None` when the machine has no IPv6 loopback.
    pub http6_port: Option<u16>,
    /// nginx, TLS, certificate valid for localhost / 127.0.0.1 / ::1 from the test CA.
    pub https_port: u16,
    /// nginx, `ssl_verify_client on`: 200 with the client DN with `client_cert`, else 400.
    pub mtls_port: u16,
    /// Python echo server behind TLS that fails the handshake without a trusted client cert.
    pub mtls_strict_port: u16,
    pub https_expired_port: u16,
    pub https_wronghost_port: u16,
    /// Certificate with only an IP:127.0.0.1 SAN: valid for "127.0.0.1", not "localhost".
    pub https_ipsan_port: u16,
    pub https_selfsigned_port: u16,
    pub https_untrusted_port: u16,
    /// Python HTTP/1.0 server: no Content-Length, body ends at close.
    pub py10_port: u16,
    /// Python HTTP/1.1 echo server: JSON description of each request.
    pub echo_port: u16,
    /// tinyproxy (CONNECT to any port); `None` when tinyproxy is not installed.
    pub proxy_port: Option<u16>,
    pub ca_file: PathBuf,
    /// The test CA in an `openssl rehash`ed directory.
    pub ca_dir: PathBuf,
    pub untrusted_ca_file: PathBuf,
    pub selfsigned_cert: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub untrusted_client_cert: PathBuf,
    pub untrusted_client_key: PathBuf,
    pub mismatched_key: PathBuf,
    pub docroot: PathBuf,
    /// Size and hex sha256 of `/large.bin`.
    pub large_size: u64,
    pub large_sha256: String,
    pub servers_dir: PathBuf,
    vars: HashMap<String, String>,
}

impl Servers {
    /// Any `HC_TEST_*` variable by its full name; `None` if absent or empty.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// The bytes of a docroot file, e.g. `docroot_file("small.txt")`: what the servers send.
    pub fn docroot_file(&self, relative: &str) -> Vec<u8> {
        let path = self.docroot.join(relative);
        fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    fn from_vars(vars: HashMap<String, String>) -> Result<Servers, String> {
        let get = |k: &str| -> Result<String, String> {
            vars.get(&format!("HC_TEST_{k}"))
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| format!("HC_TEST_{k} is missing from the test server environment"))
        };
        let port = |k: &str| -> Result<u16, String> {
            let v = get(k)?;
            v.parse()
                .map_err(|_| format!("HC_TEST_{k}={v:?} is not a port"))
        };
        let opt_port = |k: &str| port(k).ok();
        let path = |k: &str| get(k).map(PathBuf::from);
        Ok(Servers {
            http_port: port("HTTP_PORT")?,
            http6_port: opt_port("HTTP6_PORT"),
            https_port: port("HTTPS_PORT")?,
            mtls_port: port("MTLS_PORT")?,
            mtls_strict_port: port("MTLS_STRICT_PORT")?,
            https_expired_port: port("HTTPS_EXPIRED_PORT")?,
            https_wronghost_port: port("HTTPS_WRONGHOST_PORT")?,
            https_ipsan_port: port("HTTPS_IPSAN_PORT")?,
            https_selfsigned_port: port("HTTPS_SELFSIGNED_PORT")?,
            https_untrusted_port: port("HTTPS_UNTRUSTED_PORT")?,
            py10_port: port("PY10_PORT")?,
            echo_port: port("ECHO_PORT")?,
            proxy_port: opt_port("PROXY_PORT"),
            ca_file: path("CA_FILE")?,
            ca_dir: path("CA_DIR")?,
            untrusted_ca_file: path("UNTRUSTED_CA_FILE")?,
            selfsigned_cert: path("SELFSIGNED_CERT")?,
            client_cert: path("CLIENT_CERT")?,
            client_key: path("CLIENT_KEY")?,
            untrusted_client_cert: path("UNTRUSTED_CLIENT_CERT")?,
            untrusted_client_key: path("UNTRUSTED_CLIENT_KEY")?,
            mismatched_key: path("MISMATCHED_KEY")?,
            docroot: path("DOCROOT")?,
            large_size: get("LARGE_SIZE")?
                .parse()
                .map_err(|_| "HC_TEST_LARGE_SIZE is not a number".to_string())?,
            large_sha256: get("LARGE_SHA256")?,
            servers_dir: path("SERVERS_DIR")?,
            vars,
        })
    }
}

/// The test servers, started at most once per test binary (see the module docs).
///
/// Panics (in every test that calls it) if the servers cannot be started, with the output of
/// hcservers.py.
pub fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Result<Servers, String>> = OnceLock::new();
    let result = SERVERS.get_or_init(|| {
        let from_env = std::env::var("HC_TEST_HTTP_PORT").is_ok_and(|v| !v.is_empty());
        let vars = if from_env {
            Ok(std::env::vars()
                .filter(|(k, _)| k.starts_with("HC_TEST_"))
                .collect())
        } else {
            spawn_servers()
        };
        vars.and_then(Servers::from_vars)
    });
    match result {
        Ok(servers) => servers,
        Err(e) => panic!("test servers unavailable: {e}"),
    }
}

/// Runs `hcservers.py serve --parent-pid <us>` and waits for its env file.
fn spawn_servers() -> Result<HashMap<String, String>, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servers/hcservers.py");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let stem = format!("hcservers-{}-{nanos}", std::process::id());
    let env_file = std::env::temp_dir().join(format!("{stem}.env"));
    let err_file = std::env::temp_dir().join(format!("{stem}.stderr"));
    let stderr = fs::File::create(&err_file).map_err(|e| format!("{}: {e}", err_file.display()))?;
    let mut child = Command::new("python3")
        .arg(&script)
        .arg("serve")
        .arg("--env-file")
        .arg(&env_file)
        .arg("--parent-pid")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run python3 {}: {e}", script.display()))?;
    // The server keeps writing to the (unlinked) file; we only need it until now.
    let take_stderr = || {
        let text = fs::read_to_string(&err_file).unwrap_or_default();
        let _ = fs::remove_file(&err_file);
        text
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        // hcservers.py renames the complete file into place, so it is never seen half-written.
        if let Ok(text) = fs::read_to_string(&env_file) {
            take_stderr();
            return Ok(parse_env(&text));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "hcservers.py exited with {status}:\n{}",
                take_stderr()
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "hcservers.py not ready after {START_TIMEOUT:?}:\n{}",
                take_stderr()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Parses `KEY=VALUE` lines (values may contain `=`; blank lines are skipped).
pub fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect()
}

/// The error of a call that must fail.
/// Reads a request head from `r` byte by byte, up to and including its blank line, so that
/// nothing after it is consumed. Returns what was read; a head cut by the end of the stream or
/// an error comes back without its final `\r\n\r\n`.
pub fn read_head(r: &mut impl std::io::Read) -> Vec<u8> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match r.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => break,
        }
    }
    head
}

pub fn err<T>(r: httpclient::Result<T>) -> httpclient::Error {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}
