//! The SSE2 scan of a head line for the safe core (`response::scan`). It lives here because
//! calling `std::arch` intrinsics is `unsafe` and the crate keeps every `unsafe` in `ffi`.

#[cfg(target_arch = "x86_64")]
use crate::response::scan::{LineScan, NONE};

/// The first line of `input`, as `response::scan::scan_line_bytes` finds it, 16 bytes at a time.
#[cfg(target_arch = "x86_64")]
pub(crate) fn scan_line_sse2(input: &[u8]) -> Option<LineScan> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, so every intrinsic here is available on
    // every CPU this code runs on; the one load reads the 16 bytes of a local array.
    unsafe {
        let splat = |b: u8| _mm_set1_epi8(b as i8);
        let (lf, colon, sp, tab, cr, nul) = (
            splat(b'\n'),
            splat(b':'),
            splat(b' '),
            splat(b'\t'),
            splat(b'\r'),
            _mm_setzero_si128(),
        );
        let mut s = LineScan::UNSEEN;
        // Sets `slot`, if unset, to the first set bit of `mask` within `limit`, from `base`.
        let first = |slot: &mut usize, mask: i32, limit: u32, base: usize| {
            let m = (mask as u32) & limit;
            if *slot == NONE && m != 0 {
                *slot = base + m.trailing_zeros() as usize;
            }
        };
        let mut base = 0;
        while base < input.len() {
            let rest = &input[base..];
            // The bytes past the input's end are padding that matches nothing.
            let mut block = [b'a'; 16];
            match rest.get(..16) {
                Some(whole) => block.copy_from_slice(whole),
                None => block[..rest.len()].copy_from_slice(rest),
            }
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let m_lf = _mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)) as u32;
            // The bits of the bytes before the LF, or all 16.
            let limit = if m_lf == 0 {
                0xffff
            } else {
                (1u32 << m_lf.trailing_zeros()) - 1
            };
            let either =
                |a, b| _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, a), _mm_cmpeq_epi8(v, b)));
            first(
                &mut s.colon,
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, colon)),
                limit,
                base,
            );
            first(&mut s.space, either(sp, tab), limit, base);
            first(&mut s.bad, either(cr, nul), limit, base);
            if m_lf != 0 {
                s.end = base + m_lf.trailing_zeros() as usize + 1;
                return Some(s);
            }
            base += 16;
        }
        None
    }
}
