#!/usr/bin/env bash
# Installs the build into a scratch prefix and checks the reference documentation there, as a
# user finds it: `man hc_request` (through man -M), a page for every function the installed
# header declares, httpclient(3), hcget(1), pages that groff renders without a warning, the
# HTML, and the contract's pages under share/doc/httpclient.
#
#   tests/check_man.sh BUILD_DIR [CMAKE]
set -euo pipefail
build=$1
cmake=${2:-cmake}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/hc-man.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
fail() { echo "check_man: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$prefix" >/dev/null
mandir=$prefix/share/man
docdir=$prefix/share/doc/httpclient

# man finds the page by name, as `man hc_request` does once the prefix is on MANPATH.
page=$(man -M "$mandir" -w hc_request) || fail "man -M $mandir -w hc_request found nothing"
[[ $page == "$mandir/man3/hc_request.3"* ]] || fail "man -w hc_request gave $page"
text=$(MANPAGER=cat MANWIDTH=100 man -M "$mandir" hc_request 2>&1)
for want in "hc_request - sends a whole request" "#include <httpclient.h>" \
            "hc_error hc_request(struct hc_connection *conn" "RETURN VALUE" \
            "HC_ERR_CANNOT_SEND_REQUEST" "SEE ALSO" "hc_getresponse(3)" "httpclient(3)"; do
  grep -qF -- "$want" <<<"$text" || fail "man hc_request lacks \"$want\":"$'\n'"$text"
done

# Every function of the installed header has a page, listed in httpclient(3) and the HTML.
mapfile -t functions < <(sed -nE 's/^[A-Za-z][A-Za-z0-9_ *]*[ *](hc_[a-z0-9_]+)\(.*/\1/p' \
                           "$prefix/include/httpclient.h" | sort -u)
((${#functions[@]} > 40)) || fail "only ${#functions[@]} functions found in the installed header"
declare -A declared=()
for f in "${functions[@]}"; do declared[$f]=1; done
overview=$(MANPAGER=cat MANWIDTH=200 man -M "$mandir" 3 httpclient 2>&1)
for f in "${functions[@]}"; do
  [[ -f $mandir/man3/$f.3 ]] || fail "no man page for $f"
  grep -qF "$f(3)" <<<"$overview" || fail "httpclient(3) does not list $f"
  grep -qF "id=\"$f\"" "$docdir/html/index.html" || fail "html/index.html has no section for $f"
done
for f in "$mandir"/man3/*.3; do
  name=$(basename "$f" .3)
  [[ $name == httpclient || -n ${declared[$name]:-} ]] ||
    fail "man page $name.3 has no function in the header"
  warnings=$(groff -man -ww -z "$f" 2>&1) || fail "groff failed on $f: $warnings"
  [[ -z $warnings ]] || fail "groff warns about $f: $warnings"
done

# hcget(1), beside the command-line client installed in bin/.
page=$(man -M "$mandir" -w hcget) || fail "man -M $mandir -w hcget found nothing"
[[ $page == "$mandir/man1/hcget.1"* ]] || fail "man -w hcget gave $page"
text=$(MANPAGER=cat MANWIDTH=100 man -M "$mandir" 1 hcget 2>&1)
grep -qF -- "--compressed" <<<"$text" || fail "man hcget lacks --compressed:"$'\n'"$text"
warnings=$(groff -man -ww -z "$mandir/man1/hcget.1" 2>&1) || fail "groff failed on hcget.1"
[[ -z $warnings ]] || fail "groff warns about hcget.1: $warnings"

for md in conventions errors connections parsing bad-input; do
  [[ -f $docdir/$md.md ]] || fail "$docdir/$md.md is not installed"
done
echo "check_man: ${#functions[@]} function pages, httpclient(3) and hcget(1) installed, found by" \
     "man, clean; HTML and docs/*.md in share/doc/httpclient"
