#!/usr/bin/env bash
# `cargo cinstall` (cargo-c, how distributions package Rust C libraries) installs what
# `cmake --install` installs for a C user: the same file list under lib/ and include/ (the
# CMake package, hcget, the man pages and the docs are CMake's alone), the same SONAME, the same
# header, a .pc that gives the same flags; a program builds against it with pkg-config, shared
# and static, and runs.
#
#   tests/cinstall.sh BUILD_DIR SOURCE_DIR C_COMPILER [CMAKE]
# Exit 77 (ctest: skipped) when cargo-c is not installed, except under CI=true.
set -euo pipefail
build=$1 src=$(cd "$2" && pwd) cc=$3 cmake=${4:-cmake}
die() { echo "cinstall: $*" >&2; exit 1; }
if ! cargo cinstall --version >/dev/null 2>&1; then
  [[ ${CI:-} == true ]] && die "cargo-c is not installed (.ci/run installs it)"
  echo "cinstall: cargo-c is not installed (cargo install --locked cargo-c): skipped"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/hc-cinstall.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$cmake" --install "$build" --prefix "$work/cmake" >/dev/null
(cd "$src" && cargo cinstall --release --prefix "$work/cargo-c" --libdir lib --includedir include \
   >"$work/cinstall.log" 2>&1) || { tail -n 30 "$work/cinstall.log" >&2; die "cargo cinstall failed"; }

# The file lists: type and path, CMake's own extras left out.
list() {
  (cd "$1" && find . \( -type f -o -type l \) -printf '%y %P\n' | sort |
     grep -vE ' (lib/cmake/httpclient/|bin/hcget$|share/man/|share/doc/httpclient/)' || true)
}
if ! diff -u <(list "$work/cmake") <(list "$work/cargo-c"); then
  die "the two installs differ (above: - cmake --install, + cargo cinstall)"
fi
echo "same files:"; list "$work/cargo-c" | sed 's/^/  /'

# Each link ends at the same real file; the SONAME is the same.
for l in libhttpclient.so libhttpclient.so.0; do
  a=$(basename "$(readlink -f "$work/cmake/lib/$l")") b=$(basename "$(readlink -f "$work/cargo-c/lib/$l")")
  [[ $a == "$b" ]] || die "lib/$l leads to $a (cmake) but $b (cargo-c)"
done
soname() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
real=$(basename "$(readlink -f "$work/cmake/lib/libhttpclient.so")")
a=$(soname "$work/cmake/lib/$real") b=$(soname "$work/cargo-c/lib/$real")
[[ $a == "$b" && -n $a ]] || die "SONAME $a (cmake) vs $b (cargo-c)"
echo "same SONAME: $a"
cmp "$work/cmake/include/httpclient.h" "$work/cargo-c/include/httpclient.h" ||
  die "the installed headers differ"
echo "same header"

# pkg-config: the same version and flags (prefixes aside); the static flags may be listed
# differently but must link.
pc() { PKG_CONFIG_PATH=$1/lib/pkgconfig pkg-config "${@:2}" httpclient | sed "s|$1|PREFIX|g"; }
for q in --modversion --cflags --libs; do
  a=$(pc "$work/cmake" $q) b=$(pc "$work/cargo-c" $q)
  [[ $a == "$b" ]] || die "pkg-config $q: '$a' (cmake) vs '$b' (cargo-c)"
  echo "same pkg-config $q: $a"
done
echo "pkg-config --static --libs: cmake '$(pc "$work/cmake" --static --libs)'"
echo "                            cargo-c '$(pc "$work/cargo-c" --static --libs)'"

main=$src/tests/downstream/main.c
export PKG_CONFIG_PATH=$work/cargo-c/lib/pkgconfig
# shellcheck disable=SC2046  # word splitting of pkg-config's output is intended
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/shared" "$main" $(pkg-config --cflags --libs httpclient)
LD_LIBRARY_PATH=$work/cargo-c/lib "$work/shared"
static_libs=$(pkg-config --static --libs httpclient |
  sed "s#-lhttpclient#$work/cargo-c/lib/libhttpclient.a#")
# shellcheck disable=SC2046,SC2086
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/static" "$main" $(pkg-config --cflags httpclient) \
  $static_libs
"$work/static"
if readelf -d "$work/static" | grep -q "NEEDED.*libhttpclient"; then die "the static build needs libhttpclient.so"; fi
echo "cinstall: a program builds against cargo cinstall's install with pkg-config, shared and static"
