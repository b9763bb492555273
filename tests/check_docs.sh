#!/usr/bin/env bash
# The documentation stands on its own: no file of the repository points at a contract kept
# outside it, and every relative link of README.md and docs/*.md leads to a file that exists.
# Run from the source directory (a git checkout, or an unpacked source tree).
set -euo pipefail
status=0

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files --cached --others --exclude-standard)
else
  files=$(find . -type f -not -path './target/*' -not -path './build*' | sed 's|^\./||')
fi
# Spelled in pieces so that this script does not match itself.
outside="API[.]md|/work/sh""ared|[.][.]/sh""ared"
if hits=$(grep -nE "$outside" $files 2>/dev/null); then
  echo "check_docs: these lines point outside the repository; point at docs/ instead:" >&2
  echo "$hits" >&2
  status=1
fi

# Relative links: [text](path) and [text](path#anchor), not URLs.
for md in README.md docs/*.md bindings/python/README.md; do
  [[ -f $md ]] || continue
  dir=$(dirname "$md")
  while IFS= read -r target; do
    path=${target%%#*}
    [[ -z $path ]] && continue
    if [[ ! -e $dir/$path ]]; then
      echo "check_docs: $md links to $target, which does not exist" >&2
      status=1
    fi
  done < <(grep -oE '\]\([^)#][^) ]*\)' "$md" | sed -E 's/^\]\((.*)\)$/\1/' | grep -vE '^[a-z]+:')
done

((status == 0)) && echo "check_docs: no pointer outside the repository; every relative link resolves"
exit $status
