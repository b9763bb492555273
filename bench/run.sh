#!/usr/bin/env bash
# The benchmark's one documented command (see bench/README.md):
#
#   bench/run.sh [--scale F] [--runs N] [--no-build] [any other hcbench flag...]
#
# Builds the library (cargo, release) and the benchmark (CMake, release) into build-bench/,
# then runs every scenario: the driver starts hcbench_server itself (pinned to cpu 0) and runs
# each client in its own process (pinned to cpu 1), N interleaved runs each, and prints the
# table and the ratios.  Other flags go to hcbench as they are, e.g.
#   --scenarios small,bulk   --clients floor,libcurl   --strace DIR (syscalls per request)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$root/build-bench"
scale=1
runs=5
do_build=1
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done

if [ "$do_build" = 1 ]; then
  if [ -f "$root/Cargo.toml" ]; then
    (cd "$root" && cargo build --release --quiet)
  fi
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release \
        -DHTTPCLIENT_LIB="$root/target/release/libhttpclient.so" \
        -DHTTPCLIENT_INCLUDE="$root/include" >/dev/null
  cmake --build "$build" -j 2 >/dev/null
fi

echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $(curl-config --version), $(openssl version | cut -d' ' -f1-2), httpclient $(grep -m1 '^version' "$root/Cargo.toml" 2>/dev/null | cut -d'"' -f2)"
exec "$build/hcbench" --scale "$scale" --runs "$runs" "${pass[@]}"
