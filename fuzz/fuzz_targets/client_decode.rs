//! Content decoding: a Content-Encoding value parsed, and the input decoded as a body coded
//! with a chain of codings chosen by the first byte, read with small caller buffers and a cap
//! from the input. Any outcome but a panic is fine; a decoder never gives more than the cap.
#![no_main]

use fuzzcommon::{connection, stream, Rng};
use httpclient::client::decode::{parse_codings, Coding, Decoder};
use libfuzzer_sys::fuzz_target;

const CODINGS: [Coding; 4] = [Coding::Gzip, Coding::Deflate, Coding::Br, Coding::Zstd];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    // A Content-Encoding value: the input up to its first newline.
    let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len().min(64));
    let _ = parse_codings(std::iter::once(&rest[..line_end]), 15);

    // One or two codings from the first byte's bits; the whole rest is the coded body.
    let mut chain = vec![CODINGS[usize::from(flags & 3)]];
    if flags & 4 != 0 {
        chain.push(CODINGS[usize::from((flags >> 3) & 3)]);
    }
    let cap = if flags & 0x20 != 0 { Some(u64::from(flags) * 97) } else { None };
    let mut input = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", rest.len()).into_bytes();
    input.extend_from_slice(rest);
    let split = (flags & 0x40 != 0).then_some((u64::from(flags), 7));
    let mut c = connection(stream(&input, split), true);
    if c.request(b"GET", b"/", None, &[]).is_err() {
        return;
    }
    let Ok(resp) = c.getresponse() else {
        return;
    };
    let mut raw = Some(resp);
    let mut dec = Decoder::new(&chain, cap);
    let mut sizes = Rng::new(u64::from(flags) + 3);
    let mut buf = [0u8; 300];
    let mut total = 0u64;
    // At most 64 MiB decoded per input: bombs are expected, the cap is what stops them.
    while total < 64 << 20 {
        let want = sizes.upto(buf.len());
        match dec.read(&mut raw, &mut buf[..want]) {
            Ok(0) => {
                // The end is final.
                assert_eq!(dec.read(&mut raw, &mut buf[..want]).ok(), Some(0));
                break;
            }
            Ok(n) => {
                assert!(n <= want);
                total += n as u64;
                if let Some(cap) = cap {
                    assert!(total <= cap, "{total} over the cap {cap}");
                }
            }
            Err(e) => {
                // The same error again, never a panic or data after it.
                assert_eq!(dec.read(&mut raw, &mut buf[..want]).err().map(|e| e.kind()), Some(e.kind()));
                break;
            }
        }
        assert!(raw.is_some(), "the response comes back after each read");
    }
});
