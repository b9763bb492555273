#!/usr/bin/env bash
# The benchmark's one documented command (see bench/README.md):
#
#   bench/run.sh [--scale F] [--runs N] [--no-build] [--no-netns] [any other hcbench flag...]
#
# Builds the library (cargo, release) and the benchmark (CMake, release) into build-bench/,
# then runs every scenario: the driver starts hcbench_server itself (pinned to cpu 0) and runs
# each client in its own process (pinned to cpu 1), N interleaved runs each, and prints the
# table and the ratios.  Other flags go to hcbench as they are, e.g.
#   --scenarios small,bulk   --clients floor,libcurl   --strace DIR (syscalls per request)
#   --scenarios client-warm,client-tls-new,client-threads,client-gzip   (issue 11: hc_client)
# As root it runs in a private network namespace whose loopback steers receive processing
# (RPS) to the server's core: no TCP reordering under bulk load, no TIME_WAIT left by others,
# and a wide ephemeral port range for newconn (--no-netns: the host's loopback as it is).
#
#   bench/run.sh --many [--scale F] [--runs N] [--clients a,b] ...
#
# runs hcbench_many instead: one thread driving 10,000 keep-alive connections (x scale), 10
# GETs each, through httpclient's non-blocking mode, libcurl's multi interface and an epoll floor.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$root/build-bench"
scale=1
runs=5
do_build=1
netns=1
program=hcbench
server_cpu=0
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --no-netns) netns=0; shift ;;
    --many) program=hcbench_many; shift ;;
    --server-cpu) server_cpu="$2"; pass+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
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

if [ "$netns" = 1 ] && [ -z "${HCBENCH_IN_NETNS:-}" ]; then
  if unshare --net --mount true 2>/dev/null; then
    export HCBENCH_IN_NETNS=1
    exec unshare --net --mount "$0" --no-build $([ "$program" = hcbench_many ] && echo --many) --scale "$scale" --runs "$runs" "${pass[@]}"
  fi
  echo "note: cannot unshare a network namespace (not root?): using the host's loopback"
fi
if [ -n "${HCBENCH_IN_NETNS:-}" ]; then
  ip link set lo up
  mount -t sysfs sysfs /sys
  printf '%x' $((1 << server_cpu)) > /sys/class/net/lo/queues/rx-0/rps_cpus
  sysctl -q -w net.ipv4.ip_local_port_range="1024 65535"
  # hcbench_many opens 10,000 connections at once: room for all of them in the accept queue.
  sysctl -q -w net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
  echo "network: private namespace, loopback receive processing (RPS) on cpu $server_cpu"
fi

echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $(curl-config --version), $(openssl version | cut -d' ' -f1-2), httpclient $(grep -m1 '^version' "$root/Cargo.toml" 2>/dev/null | cut -d'"' -f2)"
exec "$build/$program" --scale "$scale" --runs "$runs" "${pass[@]}"
