#!/usr/bin/env bash
# Builds everything, then fetches a page with the hcget example.
#
#   scripts/demo.sh          start nginx on free loopback ports (HTTP, and HTTPS with the test
#                            CA) and fetch / from it over both
#   scripts/demo.sh URL      fetch URL instead (http:// or https://)
#
# HC_BUILD_DIR (default build) picks the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${HC_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup.sh  # installs what is missing (cmake, nginx ...); quick when all is there

echo "== building (cmake -S . -B $build && cmake --build $build)"
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
hcget=$build/examples-c/hcget
[[ $hcget == /* ]] || hcget=$PWD/$hcget  # the servers' wrapper may run it elsewhere
if [[ ! -x $hcget ]]; then
  echo "demo: $hcget was not built (examples-c/hcget.c is not in this checkout yet)" >&2
  exit 1
fi

if [[ $# -gt 0 ]]; then
  echo "== $hcget $*"
  exec "$hcget" "$@"
fi

if [[ ! -f tests/servers/hcservers.py ]]; then
  echo "demo: tests/servers/hcservers.py is not in this checkout yet; give a URL instead" >&2
  exit 1
fi
# hcservers.py starts the servers, exports HC_TEST_HTTP_PORT, HC_TEST_HTTPS_PORT and
# HC_TEST_CA_FILE to the command, and stops them when it exits.
exec python3 tests/servers/hcservers.py run -- bash -c '
  set -euo pipefail
  echo "== $0 http://127.0.0.1:$HC_TEST_HTTP_PORT/"
  "$0" "http://127.0.0.1:$HC_TEST_HTTP_PORT/"
  echo
  echo "== $0 --cacert $HC_TEST_CA_FILE https://localhost:$HC_TEST_HTTPS_PORT/"
  "$0" --cacert "$HC_TEST_CA_FILE" "https://localhost:$HC_TEST_HTTPS_PORT/"
' "$hcget"
