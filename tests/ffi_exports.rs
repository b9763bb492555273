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

#[derive(Clone)]
struct Function {
    name: String,
    exported: bool,
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

/// Every function with a body in one source file, exported or not.
fn functions_in(file: &Path) -> Vec<Function> {
    let text = strip_comments(&fs::read_to_string(file).unwrap());
    let rel = file
        .strip_prefix(manifest_dir())
        .unwrap_or(file)
        .display()
        .to_string();
    let mut found = Vec::new();
    for (at, _) in text.match_indices("fn ") {
        if at > 0 && is_ident(text[..at].chars().next_back().unwrap()) {
            continue;
        }
        let name: String = text[at + 3..]
            .chars()
            .take_while(|&c| is_ident(c))
            .collect();
        if name.is_empty() {
            continue;
        }
        // The body starts at the first `{` after the signature (signatures hold no braces); a
        // `;` first means a declaration without a body.
        let Some(open) = text[at..].find(['{', ';']).map(|p| at + p) else {
            continue;
        };
        if text.as_bytes()[open] == b';' {
            continue;
        }
        // The item's attributes and qualifiers: from the end of the previous item to `fn`.
        let item_start = text[..at].rfind([';', '}', '{']).map_or(0, |p| p + 1);
        let head = &text[item_start..at];
        let exported = head.contains("extern \"C\"")
            && (head.contains("no_mangle") || head.contains("export_name"));
        let first_statement: String = text[open + 1..].trim_start().chars().take(8000).collect();
        found.push(Function {
            name,
            exported,
            file: rel.clone(),
            line: text[..at].matches('\n').count() + 1,
            first_statement,
        });
    }
    found
}

/// The exported functions of one source file.
fn exports_in(file: &Path) -> Vec<Function> {
    functions_in(file)
        .into_iter()
        .filter(|f| f.exported)
        .collect()
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

/// Skips leading `const NAME: &str = "literal";` items (a function's name for its messages):
/// they run no code, so the guard may follow them.
fn skip_str_consts(mut body: &str) -> &str {
    loop {
        body = body.trim_start();
        let Some(rest) = body.strip_prefix("const ") else {
            return body;
        };
        let Some(end) = rest.find(';') else {
            return body;
        };
        let item = rest[..end].trim_end();
        let is_str_literal = item.split_once("= \"").is_some_and(|(decl, lit)| {
            decl.contains(": &str") && lit.ends_with('"') && !lit[..lit.len() - 1].contains('"')
        });
        if !is_str_literal {
            return body;
        }
        body = &rest[end + 1..];
    }
}

/// The arguments of the call `statement` starts with, if it starts with `name(`.
fn call_arguments<'a>(statement: &'a str, name: &str) -> Option<&'a str> {
    let rest = statement
        .strip_prefix(name)?
        .trim_start()
        .strip_prefix('(')?;
    let mut depth = 1;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&rest[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// A body is guarded when its first statement enters `guard`/`guard_value`, or calls a
/// non-exported helper of src/ffi whose own body is guarded (as `with_conn` is for the
/// setters). The arguments of such a call are evaluated before the helper's guard, so outside
/// closures (which the helper runs inside its guard) they must not hold `unsafe` code: plain
/// names and literals only.
fn is_guarded(statement: &str, helpers: &[Function], depth: usize) -> bool {
    let statement = skip_str_consts(statement);
    if starts_with_guard(statement) {
        return true;
    }
    if depth > 4 {
        return false;
    }
    let s = statement
        .trim_start_matches("crate::ffi::")
        .trim_start_matches("super::");
    let callee: String = s.chars().take_while(|&c| is_ident(c)).collect();
    let Some(args) = call_arguments(s, &callee) else {
        return false;
    };
    let defs: Vec<&Function> = helpers.iter().filter(|f| f.name == callee).collect();
    let eager_args = args.split('|').next().unwrap_or(args);
    !callee.is_empty()
        && !eager_args.contains("unsafe")
        && !defs.is_empty()
        && defs
            .iter()
            .all(|f| is_guarded(&f.first_statement, helpers, depth + 1))
}

fn ffi_sources() -> Vec<PathBuf> {
    let dir = manifest_dir().join("src").join("ffi");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

fn source_exports() -> Vec<Function> {
    ffi_sources().iter().flat_map(|f| exports_in(f)).collect()
}

fn ffi_helpers() -> Vec<Function> {
    ffi_sources()
        .iter()
        .flat_map(|f| functions_in(f))
        .filter(|f| !f.exported)
        .collect()
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
    let helpers = ffi_helpers();
    assert!(
        exports.iter().any(|e| e.name == "hc_last_error_message"),
        "the source scan found no exports; did the layout of src/ffi change?"
    );
    let unguarded: Vec<String> = exports
        .iter()
        .filter(|e| !is_guarded(&e.first_statement, &helpers, 0))
        .map(|e| {
            let first: String = e.first_statement.chars().take(80).collect();
            format!("{}:{}: {} starts with `{first}`", e.file, e.line, e.name)
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
        r#"
/// Doc.
#[no_mangle]
pub extern "C" fn hc_good(x: c_int) -> c_int {
    guard_value(0, || x)
}
// #[no_mangle] in a comment does not count
#[no_mangle]
pub unsafe extern "C" fn hc_bad(p: *const c_char) -> hc_error {
    let _ = p; guard(|| Ok(()))
}
#[no_mangle]
pub extern "C" fn hc_turbo() -> i32 {
    super::guard_value::<i32>(0, || 1)
}
fn guarded_helper(func: &str, p: *const u8) -> hc_error {
    guard(|| Ok(()))
}
fn unguarded_helper(p: *const u8) -> hc_error {
    0
}
#[no_mangle]
pub extern "C" fn hc_via_helper(p: *const u8) -> hc_error {
    guarded_helper("hc_via_helper", p)
}
#[no_mangle]
pub extern "C" fn hc_via_bad_helper(p: *const u8) -> hc_error {
    unguarded_helper(p)
}
#[no_mangle]
pub extern "C" fn hc_named(p: *const u8) -> hc_error {
    const F: &str = "hc_named";
    guarded_helper(F, p)
}
#[no_mangle]
pub extern "C" fn hc_code_before_guard(p: *const u8) -> hc_error {
    const F: &str = "x"; let v = unsafe { *p };
    guard(|| Ok(()))
}
#[no_mangle]
pub extern "C" fn hc_unsafe_argument(p: *const u8) -> hc_error {
    guarded_helper("x", unsafe { p.add(1) })
}
#[no_mangle]
pub extern "C" fn hc_closure(p: *const u8) -> hc_error {
    guarded_helper("x", p, |c| {
        let v = unsafe { *p };
        Ok(())
    })
}
extern "C" fn not_exported() {}
"#,
    )
    .unwrap();
    let all = functions_in(&file);
    fs::remove_dir_all(&dir).unwrap();
    let helpers: Vec<Function> = all.iter().filter(|f| !f.exported).cloned().collect();
    let verdicts: Vec<(&str, bool)> = all
        .iter()
        .filter(|f| f.exported)
        .map(|e| (e.name.as_str(), is_guarded(&e.first_statement, &helpers, 0)))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("hc_good", true),
            ("hc_bad", false),
            ("hc_turbo", true),
            ("hc_via_helper", true),
            ("hc_via_bad_helper", false),
            ("hc_named", true),
            ("hc_code_before_guard", false),
            ("hc_unsafe_argument", false),
            ("hc_closure", true),
        ]
    );
}
