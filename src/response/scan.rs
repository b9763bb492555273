//! One pass over a head line: where it ends and where its first colon, white space and
//! forbidden byte are.
//!
//! A header line is read once for all of these at once, 16 bytes at a time with SSE2 (part of
//! every x86_64 CPU; the intrinsics are `unsafe`, so that code is `ffi::simd`), instead of a
//! search for its end, a walk over its name and a second search of its value. Lines are
//! short, so calls into a general search routine cost more than the search itself. Other
//! architectures use [`scan_line_bytes`], the same scan a byte at a time; the tests hold the
//! two to the same answers.

/// No such byte before the line's end.
pub(crate) const NONE: usize = usize::MAX;

/// What a scan of a line found. Every position is an index into the scanned input and is
/// before the line's LF, or [`NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineScan {
    /// The index after the line's LF.
    pub end: usize,
    /// The first `:`.
    pub colon: usize,
    /// The first SP or HT.
    pub space: usize,
    /// The first NUL or CR.
    pub bad: usize,
}

impl LineScan {
    /// Nothing found yet: where a scan starts.
    pub(crate) const UNSEEN: LineScan = LineScan {
        end: NONE,
        colon: NONE,
        space: NONE,
        bad: NONE,
    };
}

/// Scans `input` for its first line; `None` when it holds no LF.
#[inline]
pub(crate) fn scan_line(input: &[u8]) -> Option<LineScan> {
    #[cfg(target_arch = "x86_64")]
    {
        crate::ffi::simd::scan_line_sse2(input)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scan_line_bytes(input)
    }
}

/// The byte-at-a-time scan: the reference, and the scan on architectures without SSE2.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) fn scan_line_bytes(input: &[u8]) -> Option<LineScan> {
    let mut s = LineScan::UNSEEN;
    for (i, &b) in input.iter().enumerate() {
        let slot = match b {
            b'\n' => {
                s.end = i + 1;
                return Some(s);
            }
            b':' => &mut s.colon,
            b' ' | b'\t' => &mut s.space,
            0 | b'\r' => &mut s.bad,
            _ => continue,
        };
        if *slot == NONE {
            *slot = i;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(input: &[u8]) -> Option<LineScan> {
        let a = scan_line(input);
        assert_eq!(
            a,
            scan_line_bytes(input),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        a
    }

    #[test]
    fn finds_the_end_and_the_first_of_each_class() {
        let s = both(b"Content-Type: a b\r\nNext: x\r\n").unwrap();
        assert_eq!((s.end, s.colon, s.space, s.bad), (19, 12, 13, 17), "{s:?}");
        assert_eq!(both(b"no end"), None);
        assert_eq!(both(b""), None);
        let s = both(b"\n").unwrap();
        assert_eq!((s.end, s.colon, s.space, s.bad), (1, NONE, NONE, NONE));
        // Nothing after the LF counts.
        let s = both(b"abc\n: \r\0").unwrap();
        assert_eq!((s.end, s.colon, s.space, s.bad), (4, NONE, NONE, NONE));
        // A NUL, across a block boundary.
        let mut line = vec![b'x'; 40];
        line[33] = 0;
        line[20] = b':';
        line.push(b'\n');
        let s = both(&line).unwrap();
        assert_eq!((s.end, s.colon, s.space, s.bad), (41, 20, NONE, 33));
    }

    #[test]
    fn the_two_scans_agree_on_every_position_and_length() {
        // Each special byte at each position of lines of 0 to 139 bytes, with and without
        // their LF, and bytes after it: every 16-byte block edge up to the ninth, and every
        // length of the short tail, get crossed.
        let specials = [b'\n', b':', b' ', b'\t', b'\r', 0, 0x80, 0xff];
        for len in 0..140 {
            for at in 0..len {
                for &b in &specials {
                    let mut line = vec![b'a'; len];
                    line[at] = b;
                    both(&line);
                    line.push(b'\n');
                    both(&line);
                    line.extend_from_slice(b"x:\t\r\0");
                    both(&line);
                }
            }
        }
        // Pseudo-random lines over a small alphabet, so that every class shows up often.
        let alphabet = b"ab:  \t\r\0\n";
        let mut x: u32 = 2463534242;
        for _ in 0..20_000 {
            let len = (x % 200) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    alphabet[(x % alphabet.len() as u32) as usize]
                })
                .collect();
            both(&line);
        }
    }
}
