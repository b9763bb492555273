//! The response head parser and the chunked decoder stop at any byte and resume: every input
//! of the fuzz seed corpus (fuzz/seeds/head and fuzz/seeds/chunked), and a few hostile ones,
//! give the same outcome fed whole, one byte at a time, and in pieces of varied sizes.

mod common;

use common::resumable::{check_splits, chunked_in_pieces, head_in_pieces, ChunkedOutcome};
use httpclient::ErrorKind;

fn seeds(dir: &str) -> Vec<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(dir);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!out.is_empty(), "no seeds in {}", path.display());
    out.sort();
    out
}

const SIZES: &[usize] = &[3, 1, 7, 2, 64, 5, 1, 1, 300, 11];

#[test]
fn every_seed_parses_the_same_whole_and_in_pieces() {
    for dir in ["head", "chunked", "stream"] {
        for seed in seeds(dir) {
            // The fuzz targets take their first byte as flags.
            let input = seed.get(1..).unwrap_or(&[]);
            check_splits(input, SIZES);
            if dir == "chunked" {
                let mut body = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                body.extend_from_slice(input);
                check_splits(&body, SIZES);
            }
        }
    }
}

#[test]
fn hostile_inputs_parse_the_same_whole_and_in_pieces() {
    let long = {
        let mut l = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        l.resize(70_000, b'a');
        l.extend_from_slice(b"\r\n\r\n");
        l
    };
    for input in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"[..],
        b"HTTP/1.1 200 OK\nA: 1\n folded\nB:2\n\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: x\0y\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: clo",
        b"HTTP/1.1 200",
        b"",
        b"ICY 200 OK\r\n\r\n",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"5;x=y\r\nhello\n3 \t;\r\nabc\r\n0\r\n",
        b"5\r\nhelloX",
        b"1\r\r\n",
        b"10000000000000000\r\n",
        &long,
    ] {
        check_splits(input, SIZES);
    }
}

#[test]
fn a_head_fed_byte_by_byte_is_read_once() {
    let input = b"HTTP/1.1 404 Not Found\r\nA: 1\r\nB: 2\r\n\r\nbody";
    let mut one = || 1;
    match head_in_pieces(input, &mut one) {
        common::resumable::HeadOutcome::Complete {
            consumed,
            status,
            fields,
            ..
        } => {
            assert_eq!(consumed, input.len() - 4);
            assert_eq!(status, 404);
            assert_eq!(fields.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_chunked_body_fed_byte_by_byte_decodes() {
    let input = b"5\r\nhello\r\n6;ext\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    let mut one = || 1;
    let (data, outcome) = chunked_in_pieces(input, &mut one);
    assert_eq!(data, b"hello world");
    assert_eq!(outcome, ChunkedOutcome::LastChunk { consumed: 28 });
    let (_, outcome) = chunked_in_pieces(b"5\r\nhelloX", &mut one);
    assert_eq!(outcome, ChunkedOutcome::Refused(ErrorKind::HttpException));
}
