//! Every exported C function is guarded: its body starts by calling `guard(` or
//! `guard_value(` (src/ffi/mod.rs), so no panic unwinds into C and every failure is recorded.
//!
//! Three lists are compared: the `#[no_mangle] pub extern "C" fn`s in `src/ffi/*.rs`, the
//! `hc_*` functions the header declares, and the `hc_*` symbols the built shared library
//! exports (`nm -D --defined-only`). A function exported without a guard, a symbol exported
//! from outside `src/ffi/`, or a header out of step with the sources fails this test.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The guard helpers an exported body may start with (see src/ffi/mod.rs).
const GUARDS: &[&str] = &["guard", "guard_value"];

struct Export {
    name: String,
    file: String,
    line: usize,
    first_statement: String,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Removes comments, keeping line breaks so line numbers stay right. String literals are kept
/// as they are; a `//` inside one (a URL) is not taken for a comment.
fn strip_comments(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        // A quote as a char literal ('"', b'"', '\"') opens no string.
        if let Some(lit) = ["'\"'", "'\\\"'"]
            .iter()
            .find(|l| src[i..].starts_with(**l))
        {
            out.push_str(lit);
            i += lit.len();
        } else if b[i] == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            out.push_str(&src[start..i]);
        } else if src[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if src[i..].starts_with("/*") {
            let end = src[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            out.extend(src[i..end].chars().filter(|&c| c == '\n'));
            i = end;
        } else {
            let c = src[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The `extern "C"` functions of one source file that are exported under their own name.
fn exports_in(file: &Path) -> Vec<Export> {
    let text = strip_comments(&fs::read_to_string(file).unwrap());
    let rel = file
        .strip_prefix(manifest_dir())
        .unwrap_or(file)
        .display()
        .to_string();
    let mut found = Vec::new();
    let mut search_from = 0;
    while let Some(pos) = text[search_from..].find("extern \"C\" fn ") {
        let at = search_from + pos;
        search_from = at + 1;
        // The attributes before the item decide whether it is exported unmangled.
        let item_start = text[..at].rfind([';', '}', '{']).map_or(0, |p| p + 1);
        let attrs = &text[item_start..at];
        let exported = attrs.contains("no_mangle") || attrs.contains("export_name");
        let name: String = text[at + "extern \"C\" fn ".len()..]
            .chars()
            .take_while(|&c| is_ident(c))
            .collect();
        if !exported {
            continue;
        }
        // The body starts at the first `{` after the signature (signatures hold no braces).
        let body_open = at + text[at..].find('{').expect("a function body");
        let first_statement: String = text[body_open + 1..]
            .trim_start()
            .chars()
            .take(80)
            .collect();
        found.push(Export {
            name,
            file: rel.clone(),
            line: text[..at].matches('\n').count() + 1,
            first_statement,
        });
    }
    found
}

fn starts_with_guard(statement: &str) -> bool {
    let s = statement
        .trim_start_matches("crate::ffi::")
        .trim_start_matches("super::");
    GUARDS.iter().any(|g| {
        s.strip_prefix(g).is_some_and(|rest| {
            let rest = rest.trim_start();
            // `guard(`, or with turbofish: `guard_value::<T>(`
            rest.starts_with('(') || rest.starts_with("::<")
        })
    })
}

fn source_exports() -> Vec<Export> {
    let dir = manifest_dir().join("src").join("ffi");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| exports_in(f)).collect()
}

/// Every `extern "C"` item anywhere in src/ outside src/ffi/ is a mistake: the C face lives in
/// one place.
fn exports_outside_ffi(dir: &Path, found: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "ffi") {
                exports_outside_ffi(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = strip_comments(&fs::read_to_string(&path).unwrap());
            if text.contains("extern \"C\"") || text.contains("no_mangle") {
                found.push(path.display().to_string());
            }
        }
    }
}

fn header_functions() -> BTreeSet<String> {
    let header = fs::read_to_string(manifest_dir().join("include").join("httpclient.h"))
        .expect("include/httpclient.h");
    let text = strip_comments(&header);
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("hc_") {
        if i > 0 && is_ident(text[..i].chars().next_back().unwrap()) {
            continue;
        }
        let name: String = text[i..].chars().take_while(|&c| is_ident(c)).collect();
        if text[i + name.len()..].trim_start().starts_with('(') {
            names.insert(name);
        }
    }
    names
}

/// The shared library of the profile this test was built with: target/<profile>/libhttpclient.so.
/// `cargo test` builds the library as an rlib only, so the cdylib is built here (a no-op when
/// it is fresh, e.g. after `cmake --build`).
fn shared_library() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/ffi_exports-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let target_dir = profile_dir.parent().expect("target/");
    let profile = profile_dir.file_name().unwrap().to_str().unwrap();
    let mut cargo = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cargo
        .current_dir(manifest_dir())
        .args(["build", "--lib", "--quiet", "--target-dir"])
        .arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            cargo.arg("--release");
        }
        other => {
            cargo.args(["--profile", other]);
        }
    }
    let status = cargo.status().expect("run cargo build --lib");
    assert!(status.success(), "cargo build --lib failed");
    let so = profile_dir.join("libhttpclient.so");
    assert!(so.exists(), "{} was not built", so.display());
    so
}

fn library_symbols(so: &Path) -> BTreeSet<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(so)
        .output()
        .expect("run nm (binutils) to list the library's exports");
    assert!(out.status.success(), "nm failed on {}", so.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| s.starts_with("hc_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_export_starts_with_a_guard() {
    let exports = source_exports();
    assert!(
        exports.iter().any(|e| e.name == "hc_last_error_message"),
        "the source scan found no exports; did the layout of src/ffi change?"
    );
    let unguarded: Vec<String> = exports
        .iter()
        .filter(|e| !starts_with_guard(&e.first_statement))
        .map(|e| {
            format!(
                "{}:{}: {} starts with `{}`",
                e.file, e.line, e.name, e.first_statement
            )
        })
        .collect();
    assert!(
        unguarded.is_empty(),
        "exported functions whose body does not start with guard(..) or guard_value(..):\n{}",
        unguarded.join("\n")
    );
    let mut names = BTreeSet::new();
    for e in &exports {
        assert!(
            e.name.starts_with("hc_"),
            "{}:{}: export `{}` lacks the hc_ prefix",
            e.file,
            e.line,
            e.name
        );
        assert!(names.insert(e.name.clone()), "{} is exported twice", e.name);
    }
}

#[test]
fn nothing_is_exported_outside_src_ffi() {
    let mut found = Vec::new();
    exports_outside_ffi(&manifest_dir().join("src"), &mut found);
    assert!(
        found.is_empty(),
        "extern \"C\" / no_mangle outside src/ffi/: {found:?}"
    );
}

#[test]
fn the_header_declares_exactly_the_exports() {
    let source: BTreeSet<String> = source_exports().into_iter().map(|e| e.name).collect();
    let header = header_functions();
    let missing_in_source: Vec<_> = header.difference(&source).collect();
    let missing_in_header: Vec<_> = source.difference(&header).collect();
    assert!(
        missing_in_source.is_empty(),
        "declared in the header but not defined in src/ffi: {missing_in_source:?}"
    );
    assert!(
        missing_in_header.is_empty(),
        "exported from src/ffi but not in include/httpclient.h (rebuild to regenerate it): {missing_in_header:?}"
    );
}

#[test]
fn the_library_exports_exactly_the_guarded_functions() {
    let so = shared_library();
    let symbols = library_symbols(&so);
    let source: BTreeSet<String> = source_exports().into_iter().map(|e| e.name).collect();
    let unknown: Vec<_> = symbols.difference(&source).collect();
    let absent: Vec<_> = source.difference(&symbols).collect();
    assert!(
        unknown.is_empty(),
        "{} exports hc_ symbols that no guarded source function defines: {unknown:?}",
        so.display()
    );
    assert!(
        absent.is_empty(),
        "{} lacks the exports {absent:?}",
        so.display()
    );
}

#[test]
fn the_checker_rejects_an_unguarded_export() {
    let dir = std::env::temp_dir().join(format!("hc-ffi-exports-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.rs");
    fs::write(
        &file,
        "/// Doc.\n#[no_mangle]\npub extern \"C\" fn hc_good(x: c_int) -> c_int {\n    guard_value(0, || x)\n}\n\
         // #[no_mangle] in a comment does not count\n\
         #[no_mangle]\npub unsafe extern \"C\" fn hc_bad(p: *const c_char) -> hc_error {\n    let _ = p; guard(|| Ok(()))\n}\n\
         #[no_mangle]\npub extern \"C\" fn hc_turbo() -> i32 {\n    super::guard_value::<i32>(0, || 1)\n}\n\
         extern \"C\" fn not_exported() {}\n",
    )
    .unwrap();
    let found = exports_in(&file);
    fs::remove_dir_all(&dir).unwrap();
    let verdicts: Vec<(String, bool)> = found
        .iter()
        .map(|e| (e.name.clone(), starts_with_guard(&e.first_statement)))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("hc_good".to_string(), true),
            ("hc_bad".to_string(), false),
            ("hc_turbo".to_string(), true),
        ]
    );
}
