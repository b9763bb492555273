#!/usr/bin/env bash
# The README's first C example is examples-c/simple.c, which the build compiles with -Werror:
# fail when the two drift apart. Run from the source directory.
set -euo pipefail
readme_block=$(awk '/^```c$/ {on=1; next} on && /^```$/ {exit} on {print}' README.md)
example=$(grep -v 'hc-requires:' examples-c/simple.c)
if [[ -z $readme_block ]]; then
  echo "check_readme: README.md has no \`\`\`c block" >&2
  exit 1
fi
if ! diff -u <(printf '%s\n' "$example") <(printf '%s\n' "$readme_block"); then
  echo "check_readme: README.md's first C example differs from examples-c/simple.c (above)" >&2
  exit 1
fi
echo "check_readme: README.md's first C example is examples-c/simple.c"
