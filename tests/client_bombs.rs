//! Decompression bombs made on the fly (docs/client.md, "Decompression"): a gzip, a brotli and
//! a zstd stream of zeros, up to 10 GiB each, generated as the client reads, must stop with
//! DecodedSizeExceeded at the cap while the resident memory stays flat.

#![cfg(all(feature = "gzip", feature = "brotli", feature = "zstd"))]

mod common;

use std::io::Write;
use std::time::Duration;

use common::scripted::ScriptedServer;
use httpclient::client::proxy::ProxyConfig;
use httpclient::client::Client;
use httpclient::ErrorKind;

fn client() -> Client {
    let c = Client::with_proxy_config(ProxyConfig::default()).unwrap();
    c.set_timeout(20.0).unwrap();
    c
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A coded stream of zeros without end, made on the fly from a repeated piece: `head` once,
/// then `piece` (1 MiB of zeros each) until the client goes away (10 GiB at most).
fn bomb_server(ce: &'static str, head: Vec<u8>, piece: Vec<u8>) -> ScriptedServer {
    ScriptedServer::start(move |conn, _| {
        let _ = conn.read_request();
        let hdr = format!("HTTP/1.1 200 OK\r\nContent-Encoding: {ce}\r\nConnection: close\r\n\r\n");
        if conn.write_all(hdr.as_bytes()).is_err() || conn.write_all(&head).is_err() {
            return;
        }
        for _ in 0..10 * 1024 {
            if conn.write_all(&piece).is_err() {
                return;
            }
        }
    })
}

fn gzip_bomb() -> (Vec<u8>, Vec<u8>) {
    use flate2::{Compress, Compression, FlushCompress};
    let mut z = Compress::new(Compression::fast(), false);
    let zeros = vec![0u8; 1 << 20];
    let piece = |z: &mut Compress| {
        let mut out = Vec::with_capacity(1 << 20);
        z.compress_vec(&zeros, &mut out, FlushCompress::Sync)
            .unwrap();
        assert!(out.len() < out.capacity());
        out
    };
    let first = piece(&mut z);
    let second = piece(&mut z);
    assert_eq!(second, piece(&mut z), "a repeatable deflate piece");
    let mut head = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    head.extend_from_slice(&first);
    (head, second)
}

fn brotli_bomb() -> (Vec<u8>, Vec<u8>) {
    let zeros = vec![0u8; 1 << 20];
    let mut w = brotli::CompressorWriter::new(Vec::new(), 4096, 1, 22);
    let take = |w: &mut brotli::CompressorWriter<Vec<u8>>| {
        w.write_all(&zeros).unwrap();
        w.flush().unwrap();
        std::mem::take(w.get_mut())
    };
    let first = take(&mut w);
    let second = take(&mut w);
    let third = take(&mut w);
    assert_eq!(second, third, "a repeatable brotli piece");
    (first, second)
}

fn zstd_bomb() -> (Vec<u8>, Vec<u8>) {
    let frame = zstd(&vec![0u8; 1 << 20]);
    (frame.clone(), frame)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Reads a bomb through the client with a cap of `cap` bytes: it must stop with
/// DecodedSizeExceeded right after the cap, and the resident memory must not grow with it.
fn defuse(name: &str, (head, piece): (Vec<u8>, Vec<u8>), ce: &'static str, cap: u64) {
    let srv = bomb_server(ce, head, piece);
    let c = client();
    c.set_max_decoded_size(cap).unwrap();
    let before = rss_kib();
    let mut peak = before;
    let mut r = c.get(&format!("http://127.0.0.1:{}/", srv.port())).unwrap();
    assert!(r.decoded());
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut reads = 0u64;
    let err = loop {
        match r.read_some(&mut buf) {
            Ok(0) => panic!("{name}: the bomb ended after {total} bytes"),
            Ok(n) => {
                assert!(buf[..n].iter().all(|&b| b == 0));
                total += n as u64;
            }
            Err(e) => break e,
        }
        reads += 1;
        if reads.is_multiple_of(64) {
            peak = peak.max(rss_kib());
        }
    };
    assert_eq!(err.kind(), ErrorKind::DecodedSizeExceeded, "{name}: {err}");
    assert!(
        total <= cap && total + buf.len() as u64 > cap,
        "{name}: {total}"
    );
    let grown_mib = (peak.saturating_sub(before)) / 1024;
    eprintln!(
        "{name}: {} MiB decoded, resident memory grew by {grown_mib} MiB",
        total >> 20
    );
    assert!(grown_mib < 48, "{name}: memory grew by {grown_mib} MiB");
    drop(r);
    std::thread::sleep(Duration::from_millis(50));
}

/// The cap: large enough that memory growing with the output would show, small enough for a
/// debug build (CI runs these in release too).
const BOMB_CAP: u64 = 256 << 20;

/// One test, the bombs one after the other: nothing else runs in this process meanwhile, so
/// its resident memory is the decoder's. HC_BOMB_CAP=bytes changes the cap (e.g. 1 GiB, the
/// default of the client, in a release build).
#[test]
fn gzip_brotli_and_zstd_bombs_stop_at_the_cap_with_flat_memory() {
    let cap = std::env::var("HC_BOMB_CAP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BOMB_CAP);
    defuse("gzip", gzip_bomb(), "gzip", cap);
    defuse("br", brotli_bomb(), "br", cap);
    defuse("zstd", zstd_bomb(), "zstd", cap);
}
