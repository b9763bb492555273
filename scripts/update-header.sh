#!/usr/bin/env bash
# Regenerates include/httpclient.h, the committed C header, from the sources.
#
#   scripts/update-header.sh                 replace include/httpclient.h with the generated one
#   scripts/update-header.sh --check         fail (and show the diff) when they differ
#   scripts/update-header.sh [--check] --release    any further arguments go to `cargo build`
#
# build.rs writes the header only under cargo's OUT_DIR (cbindgen over src/ffi/ plus the
# error-code enum of src/error_codes.rs); this script asks cargo where that is. The ctest test
# `header.current` and CI run the --check form; a developer who changed src/ffi/ or the error
# table runs the plain form (or `cmake --build build --target update-header`) and commits the
# result.
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
if [[ ${1:-} == --check ]]; then check=true; shift; fi
cargo=${CARGO:-cargo}

json=$("$cargo" build --lib --message-format=json "$@")
out_dir=$(printf '%s\n' "$json" | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "build-script-executed" and "httpclient" in m.get("package_id", ""):
        print(m["out_dir"])
')
generated="$out_dir/httpclient.h"
if [[ -z $out_dir || ! -f $generated ]]; then
  echo "update-header: cargo did not report build.rs's OUT_DIR/httpclient.h" >&2
  exit 1
fi

if $check; then
  if ! diff -u include/httpclient.h "$generated"; then
    echo "update-header: include/httpclient.h is stale; run scripts/update-header.sh and commit it" >&2
    exit 1
  fi
  echo "update-header: include/httpclient.h is current"
elif cmp -s "$generated" include/httpclient.h; then
  echo "update-header: include/httpclient.h already current"
else
  cp "$generated" include/httpclient.h
  echo "update-header: include/httpclient.h updated from $generated"
fi
