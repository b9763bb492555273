//! A whole response stream: several requests and responses on one connection (and the
//! connections it reopens), with read splits, request methods and body read sizes all
//! taken from the first 9 bytes of the input.
#![no_main]

use fuzzcommon::{connection, exchange, stream, Rng};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let flags = data[0];
    let seed = u64::from_le_bytes(data[1..9].try_into().unwrap());
    let rest = &data[9..];
    let max_piece = match flags >> 6 {
        0 => 0, // whole reads
        1 => 1, // one byte at a time
        2 => 7,
        _ => 4096,
    };
    let split = (max_piece > 0).then_some((seed, max_piece));
    let mut c = connection(stream(rest, split), flags & 1 == 0);
    let mut rng = Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    let requests = 1 + usize::from((flags >> 1) & 7);
    for _ in 0..requests {
        let head = rng.next_u64().is_multiple_of(5);
        exchange(&mut c, head, &mut rng, rest.len());
    }
});
