#!/usr/bin/env bash
# The Windows test run, on Linux: builds httpclient.dll (scripts/build-windows.sh), the examples
# and the C tests with MinGW-w64 (cmake/mingw-w64.cmake), and runs them under Wine against the
# loopback test servers of tests/servers/. .ci/run calls it; it prints each C test's
# "N passed, M failed" line and ctest's summary, and fails when any test fails.
#
#   scripts/test-windows.sh            (build directory build-windows/)
#
# HC_WINDOWS_TARGET_DIR (cargo's target directory for the cross-build) defaults to a cache
# outside the clone, ${XDG_CACHE_HOME:-~/.cache}/httpclient/windows-target, so that a new clone
# on the same machine does not pay the first build (about 17 minutes on 2 cores) again; an
# empty cache only means that build happens.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
export HC_WINDOWS_TARGET_DIR=${HC_WINDOWS_TARGET_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/httpclient/windows-target}
mkdir -p "$HC_WINDOWS_TARGET_DIR"

scripts/setup.sh --windows
start=$SECONDS
HC_SKIP_SETUP=1 scripts/build-windows.sh
echo "test-windows: scripts/build-windows.sh took $((SECONDS - start)) s"

cmake -S . -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake \
  "-DHC_WINDOWS_TARGET_DIR=$HC_WINDOWS_TARGET_DIR"
cmake --build build-windows -j "$jobs"
start=$SECONDS
status=0
# One at a time, and a failed test is run once more: in a CI run a Wine test once exited at
# start with no output at all (wine.c.test_net_basic, while the prefix's wineserver was
# starting beside another test), and passed on every rerun. A test that really fails, fails
# twice; ctest's summary still names it.
ctest --test-dir build-windows --output-on-failure -j 1 --repeat until-pass:2 -L windows ||
  status=$?
echo "test-windows: ctest took $((SECONDS - start)) s"

# Each C test's closing line, as the Linux run shows them.
log=build-windows/Testing/Temporary/LastTest.log
if [[ -f $log ]]; then
  awk '/^[0-9]+\/[0-9]+ Test: / {name=$3} /^[0-9]+ passed, [0-9]+ failed$/ {print "  " name ": " $0}' "$log"
fi
exit $status
