#!/usr/bin/env bash
# Fails when the committed include/httpclient.h is not what cbindgen generates from the sources.
#   check_header.sh CARGO PROFILE_FLAGS SHIPPED_COPY
# Run from the source directory. build.rs regenerates the header on every build; in a git
# checkout the regenerated file is compared with the committed one, otherwise with the copy
# taken at configure time (the header as it was shipped) via build.rs's $OUT_DIR/httpclient.h.
set -euo pipefail
cargo=$1 profile_flags=$2 shipped=$3

# shellcheck disable=SC2086  # profile_flags is empty or --release
json=$("$cargo" build --lib $profile_flags --message-format=json 2>/dev/null)
out_dir=$(printf '%s\n' "$json" | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "build-script-executed" and m.get("package_id", "").find("httpclient") >= 0:
        print(m["out_dir"])
')
generated="$out_dir/httpclient.h"
if [[ -z $out_dir || ! -f $generated ]]; then
  echo "check_header: cargo did not report build.rs's OUT_DIR/httpclient.h" >&2
  exit 1
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && git ls-files --error-unmatch include/httpclient.h >/dev/null 2>&1; then
  if ! cmp -s "$generated" include/httpclient.h; then
    echo "check_header: include/httpclient.h differs from the generated $generated" >&2
    exit 1
  fi
  if ! git diff --exit-code -- include/httpclient.h; then
    echo "check_header: the committed include/httpclient.h is stale; commit the regenerated one" >&2
    exit 1
  fi
  echo "check_header: include/httpclient.h is current (git)"
else
  if ! diff -u "$shipped" "$generated"; then
    echo "check_header: the shipped include/httpclient.h is stale" >&2
    exit 1
  fi
  echo "check_header: include/httpclient.h is current (no git: compared with the shipped copy)"
fi
