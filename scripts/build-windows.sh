#!/usr/bin/env bash
# Builds the Windows DLL (x86_64, MinGW-w64) from this tree on a Debian/Ubuntu machine, with no
# Windows host and no rustup target download:
#
#   scripts/build-windows.sh            -> dist/windows/{httpclient.dll, libhttpclient.dll.a,
#                                          libhttpclient.a, httpclient.h, httpclient.pc}
#
# How: Debian's rustc-web/cargo-web (1.96) with rust-web-src (the standard library's sources)
# build std for x86_64-pc-windows-gnu themselves (-Zbuild-std, allowed by RUSTC_BOOTSTRAP=1);
# gcc-mingw-w64-x86-64 links and compiles C; the `vendored` feature builds OpenSSL 3 from
# source (the openssl-src crate) and links it in statically, so the DLL needs only Windows'
# own DLLs. rustup's cargo/rustc come first on PATH, so Debian's are named explicitly.
#
# The first build takes about 17 minutes on 2 cores (std and OpenSSL from source); rebuilds
# take seconds. Environment:
#   HC_WINDOWS_TARGET_DIR  cargo's target directory (default target/windows); CI points it at
#                          a cache outside the clone when one exists
#   HC_WINDOWS_OUT         where the artefacts go (default dist/windows)
#   HC_WINDOWS_PROFILE     release (default) or debug
#   HC_SKIP_SETUP=1        do not install missing packages (scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=x86_64-pc-windows-gnu
profile=${HC_WINDOWS_PROFILE:-release}
target_dir=${HC_WINDOWS_TARGET_DIR:-$root/target/windows}
out=${HC_WINDOWS_OUT:-$root/dist/windows}

# --- Packages: scripts/setup.sh --windows installs what is missing (nothing when all is there).
scripts/setup.sh --windows

# Debian's toolchain, not rustup's (rustup here has no Windows standard library).
export RUSTC=/usr/bin/rustc
cargo=/usr/bin/cargo
for f in "$RUSTC" "$cargo" /usr/bin/x86_64-w64-mingw32-gcc; do
  [[ -x $f ]] || { echo "build-windows: $f is missing: run scripts/setup.sh --windows" >&2; exit 1; }
done
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export RANLIB_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ranlib
export CARGO_TARGET_DIR=$target_dir
# rustup's RUSTUP_TOOLCHAIN/RUSTC_WRAPPER settings must not leak into Debian's cargo.
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER

profile_flag=()
[[ $profile == release ]] && profile_flag=(--release)
echo "build-windows: $("$RUSTC" --version); target dir $target_dir"
start=$SECONDS
"$cargo" build "${profile_flag[@]}" --lib --features vendored --target "$target" \
  -Zbuild-std=std,panic_unwind
echo "build-windows: cargo build took $((SECONDS - start)) s"

built=$target_dir/$target/$profile
# The header cbindgen made for Windows is the committed one, byte for byte.
header=$(ls -t "$target_dir"/$profile/build/httpclient-*/out/httpclient.h \
  "$target_dir/$target/$profile"/build/httpclient-*/out/httpclient.h 2>/dev/null | head -n1 || true)
if [[ -n $header ]] && ! cmp -s "$header" include/httpclient.h; then
  echo "build-windows: $header differs from include/httpclient.h: run scripts/update-header.sh" >&2
  exit 1
fi
mkdir -p "$out"
x86_64-w64-mingw32-strip --strip-unneeded -o "$out/httpclient.dll" "$built/httpclient.dll"
cp "$built/libhttpclient.dll.a" "$built/libhttpclient.a" "$out/"
cp include/httpclient.h "$out/"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
cat >"$out/httpclient.pc" <<PC
prefix=\${pcfiledir}
libdir=\${prefix}
includedir=\${prefix}

Name: httpclient
Description: HTTP/1.1 and HTTPS client with a C ABI (Windows DLL, MinGW-w64)
Version: $version
Libs: -L\${libdir} -lhttpclient
Libs.private: -lws2_32 -lcrypt32 -luserenv -lntdll -lbcrypt -ladvapi32 -lkernel32
Cflags: -I\${includedir}
PC
ls -l "$out"
