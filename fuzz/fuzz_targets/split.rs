//! The resumable parsers fed in random splits: the response head parser and the chunked
//! decoder must reach the same outcome with the input whole, one byte at a time, and in pieces
//! of random sizes (from 1 byte). The first byte seeds the sizes.
#![no_main]

#[path = "../../tests/common/resumable.rs"]
mod resumable;

use fuzzcommon::Rng;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (seed, input) = match data.split_first() {
        Some((f, r)) => (*f, r),
        None => (0, data),
    };
    let mut rng = Rng::new(u64::from(seed) + 3);
    let sizes: Vec<usize> = (0..32)
        .map(|i| if i % 4 == 3 { rng.upto(4096) } else { rng.upto(8) })
        .collect();
    resumable::check_splits(input, &sizes);
});
