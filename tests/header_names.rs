//! Every name the public header puts into a C program's namespace starts with `hc_`, `HC_` or
//! `HTTPCLIENT_`: macros, types, struct and enum tags, enumerators and functions. (Struct
//! fields and parameter names are scoped and may be anything.) A core constant that leaks into
//! include/httpclient.h, as `MIN_BLOCK` once did, fails here.

use std::fs;
use std::path::PathBuf;

const PREFIXES: &[&str] = &["hc_", "HC_", "HTTPCLIENT_"];

/// C keywords and the standard names the header may use without a prefix.
const ALLOWED: &[&str] = &[
    "typedef",
    "enum",
    "struct",
    "const",
    "void",
    "int",
    "char",
    "unsigned",
    "signed",
    "long",
    "short",
    "double",
    "float",
    "bool",
    "extern",
    "size_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "__cplusplus",
];

fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("/*") {
            let end = r.find("*/").map_or(r.len(), |e| e + 2);
            out.extend(r[..end].chars().filter(|&c| c == '\n'));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("//") {
            rest = &r[r.find('\n').unwrap_or(r.len())..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The names the header declares, each with its line number.
fn declared_names(header: &str) -> Vec<(usize, String)> {
    let text = strip_comments(header);
    let mut names = Vec::new();
    // What each open brace belongs to: an enum body (its enumerators are names), another body
    // (struct fields: scoped), or `extern "C"` (transparent).
    #[derive(PartialEq)]
    enum Block {
        Enum,
        Other,
        Extern,
    }
    let mut blocks: Vec<Block> = Vec::new();
    let mut parens = 0usize;
    let mut prev_words: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = line.trim_start();
        if let Some(directive) = trimmed.strip_prefix('#') {
            let mut words = directive.split_whitespace();
            // #include, #endif and #if declare nothing.
            if let Some("define" | "ifndef" | "ifdef" | "undef") = words.next() {
                let name: String = words
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push((line_no, name));
            }
            continue;
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_alphabetic() || c == b'_' {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = &line[start..i];
                let in_enum = blocks.last() == Some(&Block::Enum);
                let at_file_scope = blocks.iter().all(|b| *b == Block::Extern);
                if parens == 0 && (at_file_scope || in_enum) {
                    names.push((line_no, word.to_string()));
                }
                prev_words.push(word.to_string());
                continue;
            }
            match c {
                b'"' => {
                    // Only `extern "C"` has a string at file scope.
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += 1;
                    }
                }
                b'(' => parens += 1,
                b')' => parens = parens.saturating_sub(1),
                b'{' => {
                    let opener = prev_words
                        .iter()
                        .rev()
                        .find(|w| matches!(w.as_str(), "enum" | "struct" | "extern"));
                    blocks.push(match opener.map(String::as_str) {
                        Some("enum") => Block::Enum,
                        Some("extern") => Block::Extern,
                        _ => Block::Other,
                    });
                    prev_words.clear();
                }
                b'}' => {
                    blocks.pop();
                }
                b';' => prev_words.clear(),
                b'0'..=b'9' => {
                    while i < b.len() && b[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
    names
}

fn offenders(header: &str) -> Vec<String> {
    declared_names(header)
        .into_iter()
        .filter(|(_, name)| {
            !ALLOWED.contains(&name.as_str()) && !PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .map(|(line, name)| format!("line {line}: {name}"))
        .collect()
}

#[test]
fn every_name_in_the_header_is_prefixed() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/httpclient.h");
    let header = fs::read_to_string(&path).unwrap();
    let names = declared_names(&header);
    // The scan sees what it must: a macro, an enumerator, a typedef and a function.
    for expected in [
        "HC_READ_ABORT",
        "HC_ERR_INTERNAL",
        "hc_error",
        "hc_connection_new",
    ] {
        assert!(
            names.iter().any(|(_, n)| n == expected),
            "the scan missed {expected}"
        );
    }
    let bad = offenders(&header);
    assert!(
        bad.is_empty(),
        "unprefixed names in include/httpclient.h:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_catches_unprefixed_names() {
    let header = "#define MIN_BLOCK 1024\n\
                  typedef enum hc_e { HC_A = 0, B = 1 } hc_e;\n\
                  typedef struct hc_s { int field; } hc_s;\n\
                  #ifdef __cplusplus\nextern \"C\" {\n#endif\n\
                  int helper(const char *anything);\n\
                  hc_e hc_fine(size_t n);\n\
                  }\n";
    assert_eq!(
        offenders(header),
        ["line 1: MIN_BLOCK", "line 2: B", "line 7: helper"]
    );
}
