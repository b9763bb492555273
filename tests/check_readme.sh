#!/usr/bin/env bash
# README's C examples are programs the build compiles with -Werror: its first ```c block is
# examples-c/fetch.c, its second examples-c/simple.c. Fail when they drift apart. Run from the
# source directory.
set -euo pipefail
block() { awk -v want="$1" '/^```c$/ {n++; on = (n == want); next} on && /^```$/ {exit} on {print}' README.md; }
check() {
  local n=$1 file=$2 readme_block example
  readme_block=$(block "$n")
  example=$(grep -v 'hc-requires:' "$file")
  if [[ -z $readme_block ]]; then
    echo "check_readme: README.md has no C block number $n" >&2
    exit 1
  fi
  if ! diff -u <(printf '%s\n' "$example") <(printf '%s\n' "$readme_block"); then
    echo "check_readme: README.md's C example $n differs from $file (above)" >&2
    exit 1
  fi
  echo "check_readme: README.md's C example $n is $file"
}
check 1 examples-c/fetch.c
check 2 examples-c/simple.c
