//! Generates the C header from the sources in `src/ffi/` with cbindgen, plus the error-code
//! enum from the one table in src/error_codes.rs, and gives the shared library its SONAME.
//!
//! The header is written only to `$OUT_DIR/httpclient.h`; a build never touches the source
//! tree. The committed copy, include/httpclient.h, is compared with it by
//! `scripts/update-header.sh --check` (the ctest test `header.current` and CI) and replaced
//! by it with `scripts/update-header.sh` (or `cmake --build build --target update-header`).

use std::env;
use std::fs;
use std::path::PathBuf;

/// One row of src/error_codes.rs as the header needs it.
struct Code {
    c_name: &'static str,
    value: i32,
    doc: &'static [&'static str],
}

/// Reads the table of src/error_codes.rs (src/error.rs reads the same table into `ErrorKind`).
macro_rules! error_codes {
    ($(
        $(#[doc = $doc:literal])*
        $kind:ident = $value:literal, $c_name:ident, $name:literal,
            $(parent $parent:ident)? $(root)?, $description:literal;
    )*) => {
        const CODES: &[Code] = &[$(
            Code { c_name: stringify!($c_name), value: $value, doc: &[$($doc),*] },
        )*];
    };
}

include!("src/error_codes.rs");

/// Writes `lines` as a cbindgen-style doxygen comment indented by `indent`.
fn doc_comment(out: &mut String, indent: &str, lines: &[&str]) {
    out.push_str(&format!("{indent}/**\n"));
    for line in lines {
        let line = line.strip_prefix(' ').unwrap_or(line);
        out.push_str(format!("{indent} * {line}").trim_end());
        out.push('\n');
    }
    out.push_str(&format!("{indent} */\n"));
}

/// The C enum `hc_error_code`: HC_OK, then every code of the table in value order.
fn error_code_enum() -> String {
    let mut out = String::new();
    doc_comment(
        &mut out,
        "",
        &[" The values an `hc_error` takes. New codes may be appended; none is ever renumbered."],
    );
    out.push_str("typedef enum hc_error_code {\n");
    doc_comment(&mut out, "  ", &[" Success."]);
    out.push_str("  HC_OK = 0,\n");
    let mut last = 0;
    for code in CODES {
        assert!(
            code.value > last,
            "src/error_codes.rs: {} is out of value order",
            code.c_name
        );
        last = code.value;
        doc_comment(&mut out, "  ", code.doc);
        out.push_str(&format!("  {} = {},\n", code.c_name, code.value));
    }
    out.push_str("} hc_error_code;\n");
    out
}

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let version = env::var("CARGO_PKG_VERSION").expect("CARGO_PKG_VERSION");
    let major: u32 = env::var("CARGO_PKG_VERSION_MAJOR")
        .unwrap()
        .parse()
        .unwrap();
    let minor: u32 = env::var("CARGO_PKG_VERSION_MINOR")
        .unwrap()
        .parse()
        .unwrap();
    let patch: u32 = env::var("CARGO_PKG_VERSION_PATCH")
        .unwrap()
        .parse()
        .unwrap();

    // cargo gives a cdylib no SONAME of its own; C users link against libhttpclient.so.0.
    // A Windows DLL has no SONAME: it is found by its file name, httpclient.dll.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhttpclient.so.{major}");
    }

    // cbindgen reads the whole crate (a `pub const` anywhere under src/ reaches the header), so
    // any change under src/ regenerates it, not only one under src/ffi/.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=HC_SKIP_HEADER");

    if env::var_os("HC_SKIP_HEADER").is_some() {
        return;
    }

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml must parse");
    let version_block = format!(
        "/* The version of this header; hc_version() gives the library's at run time. */\n\
         #define HTTPCLIENT_VERSION \"{version}\"\n\
         #define HTTPCLIENT_VERSION_MAJOR {major}\n\
         #define HTTPCLIENT_VERSION_MINOR {minor}\n\
         #define HTTPCLIENT_VERSION_PATCH {patch}\n\
         /* 0xMMmmpp: one byte each for major, minor and patch. */\n\
         #define HTTPCLIENT_VERSION_NUMBER 0x{major:02x}{minor:02x}{patch:02x}\n"
    );
    let generated = format!("{version_block}\n{}", error_code_enum());
    config.after_includes = Some(match config.after_includes.take() {
        Some(existing) => format!("{existing}\n{generated}"),
        None => generated,
    });

    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed to generate httpclient.h");

    let mut out = Vec::new();
    bindings.write(&mut out);
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(out_dir.join("httpclient.h"), &out).expect("write OUT_DIR/httpclient.h");
}
