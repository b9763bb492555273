//! The chunked body decoder: a fixed head, then the input as a chunked body, read with caps
//! and read splits taken from the first byte.
#![no_main]

use fuzzcommon::{connection, exchange, stream, Rng};
use libfuzzer_sys::fuzz_target;

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let (flags, body) = match data.split_first() {
        Some((f, r)) => (*f, r),
        None => (0, data),
    };
    let mut input = HEAD.to_vec();
    input.extend_from_slice(body);
    let split = (flags & 0x80 != 0).then_some((u64::from(flags), usize::from(flags & 0x3f) + 1));
    let mut c = connection(stream(&input, split), true);
    let mut caps = Rng::new(u64::from(flags) + 7);
    // Twice: a body that ended cleanly leaves the connection to the next response.
    if exchange(&mut c, false, &mut caps, body.len()) {
        exchange(&mut c, false, &mut caps, body.len());
    }
});
