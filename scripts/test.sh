#!/usr/bin/env bash
# Builds everything and runs every test (C tests, cargo test, header check, install and
# downstream builds) through ctest.
#
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L c
#
# HC_BUILD_DIR (default build) picks the build directory, HC_CMAKE_ARGS adds cmake options,
# e.g. HC_CMAKE_ARGS="-DHC_SANITIZE=ON" HC_BUILD_DIR=build-asan scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${HC_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup.sh  # installs what is missing (cmake, nginx ...); quick when all is there

# shellcheck disable=SC2086  # HC_CMAKE_ARGS is a list of options
cmake -S . -B "$build" ${HC_CMAKE_ARGS:-}
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
