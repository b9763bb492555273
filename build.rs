//! Generates `include/httpclient.h` from the sources in `src/ffi/` with cbindgen, and gives the
//! shared library its SONAME.
//!
//! The header is committed. CI rebuilds and runs `git diff --exit-code include/httpclient.h`,
//! so a stale committed header fails the run. The header is written only when its content
//! changed, so that C builds that depend on it are not needlessly redone.

use std::env;
use std::fs;
use std::path::PathBuf;

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

    println!("cargo:rerun-if-changed=src/ffi");
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
    config.after_includes = Some(match config.after_includes.take() {
        Some(existing) => format!("{existing}\n{version_block}"),
        None => version_block,
    });

    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed to generate include/httpclient.h");

    let mut out = Vec::new();
    bindings.write(&mut out);
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(out_dir.join("httpclient.h"), &out).expect("write OUT_DIR/httpclient.h");

    let header = crate_dir.join("include").join("httpclient.h");
    if fs::read(&header).ok().as_deref() != Some(&out[..]) {
        fs::create_dir_all(header.parent().unwrap()).expect("create include/");
        fs::write(&header, &out).expect("write include/httpclient.h");
    }
}
