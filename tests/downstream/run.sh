#!/usr/bin/env bash
# Installs a build tree into a scratch prefix and builds tests/downstream/main.c against it,
# once with find_package(httpclient) and once with pkg-config, then runs both.
#   run.sh BUILD_DIR C_COMPILER CMAKE
set -euo pipefail
build=$1 cc=$2 cmake=${3:-cmake}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hc-downstream.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

step() { printf '\n== %s\n' "$*"; }
die() { echo "downstream: $*" >&2; exit 1; }

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix"

version=$(sed -n 's/^version *= *"\([0-9.]*\)".*/\1/p' "$here/../../Cargo.toml" | head -n1)
major=${version%%.*}
libdir=$prefix/lib
[[ -d $libdir/pkgconfig ]] || libdir=$(dirname "$(find "$prefix" -name httpclient.pc | head -n1)")/..
libdir=$(cd "$libdir" && pwd)

step "installed files"
for f in "libhttpclient.so.$version" "libhttpclient.a" "pkgconfig/httpclient.pc" \
         cmake/httpclient/httpclientConfig.cmake cmake/httpclient/httpclientConfigVersion.cmake; do
  [[ -f $libdir/$f ]] || die "missing $libdir/$f"
done
[[ -f $prefix/include/httpclient.h ]] || die "missing include/httpclient.h"
[[ $(readlink "$libdir/libhttpclient.so.$major") == "libhttpclient.so.$version" ]] ||
  die "libhttpclient.so.$major is not a link to libhttpclient.so.$version"
[[ $(readlink "$libdir/libhttpclient.so") == "libhttpclient.so.$major" ]] ||
  die "libhttpclient.so is not a link to libhttpclient.so.$major"
soname=$(readelf -d "$libdir/libhttpclient.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == "libhttpclient.so.$major" ]] || die "SONAME is '$soname', want libhttpclient.so.$major"
echo "SONAME $soname"

step "bin/hcget"
[[ -x $prefix/bin/hcget ]] || die "missing bin/hcget"
# Its RUNPATH finds the library installed beside it (not the build tree's, not a system one).
loaded=$(env -u LD_LIBRARY_PATH ldd "$prefix/bin/hcget" |
         sed -n 's/.*libhttpclient\.so\.[0-9]* => \([^ ]*\).*/\1/p')
[[ -n $loaded && $(realpath "$loaded") == $(realpath "$libdir/libhttpclient.so.$major") ]] ||
  die "bin/hcget loads libhttpclient from '$loaded', not from $libdir"
help=$("$prefix/bin/hcget" --help 2>&1 || true)
grep -q '^usage: hcget' <<<"$help" || die "bin/hcget --help: $help"
echo "bin/hcget runs, with $loaded"

step "find_package(httpclient CONFIG REQUIRED)"
"$cmake" -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" -DHC_EXPECTED_VERSION="$version" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$work/cmake-build"
# The installed tree is not on the loader's path: the build tree's RUNPATH points at it.
"$work/cmake-build/downstream"
"$work/cmake-build/downstream_static"
readelf -d "$work/cmake-build/downstream" | grep -q "NEEDED.*\[libhttpclient.so.$major\]" ||
  die "the CMake-built program does not need libhttpclient.so.$major"
if readelf -d "$work/cmake-build/downstream_static" | grep -q "NEEDED.*libhttpclient"; then
  die "the static build still needs libhttpclient.so"
fi

step "pkg-config --cflags --libs httpclient"
export PKG_CONFIG_PATH=$libdir/pkgconfig
command -v pkg-config >/dev/null || die "pkg-config is not installed"
[[ $(pkg-config --modversion httpclient) == "$version" ]] || die "pkg-config --modversion is not $version"
# shellcheck disable=SC2046  # word splitting of pkg-config's output is intended
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/pc-downstream" "$here/main.c" \
  $(pkg-config --cflags --libs httpclient)
LD_LIBRARY_PATH=$libdir "$work/pc-downstream"

step "pkg-config --static (libhttpclient.a and Libs.private)"
static_libs=$(pkg-config --static --libs httpclient | sed "s#-lhttpclient#$libdir/libhttpclient.a#")
# shellcheck disable=SC2086,SC2046
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/pc-downstream-static" "$here/main.c" \
  $(pkg-config --cflags httpclient) $static_libs
"$work/pc-downstream-static"

echo
echo "downstream: find_package and pkg-config builds both work"
