//! The response head parser: status line, headers, 1xx skipping and framing decisions, fed
//! whole through a connection. The first byte picks strict or lenient parsing and whether
//! the request was HEAD.
#![no_main]

use fuzzcommon::{connection, exchange, stream, Rng};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (flags, rest) = match data.split_first() {
        Some((f, r)) => (*f, r),
        None => (0, data),
    };
    let mut c = connection(stream(rest, None), flags & 1 == 0);
    let mut caps = Rng::new(u64::from(flags) + 1);
    exchange(&mut c, flags & 2 != 0, &mut caps, rest.len());
});
