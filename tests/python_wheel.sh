#!/usr/bin/env bash
# The Python package as users get it: `python -m build` makes an sdist and, from it, a wheel
# that bundles libhttpclient; a fresh virtualenv installs the wheel; the binding's test suite
# runs against that install with nothing set (HC_TEST_WHEEL=1 makes it check that httpclient
# came from the virtualenv and loaded the bundled library).
#
#   tests/python_wheel.sh SOURCE_DIR [PYTHON]
# CARGO_TARGET_DIR (default SOURCE_DIR/target) lets cargo reuse the dependencies it built.
set -euo pipefail
src=$(cd "$1" && pwd)
python=${2:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/hc-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$python" -m venv "$work/venv"
py=$work/venv/bin/python
"$py" -m pip install -q --disable-pip-version-check build pytest
(cd "$src/bindings/python" &&
   CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$src/target} "$py" -m build --outdir "$work/dist" . \
     >"$work/build.log" 2>&1) || { tail -n 40 "$work/build.log" >&2; exit 1; }
ls "$work/dist"
wheel=$(ls "$work"/dist/httpclient-*-py3-none-*.whl)
listing=$("$py" -m zipfile -l "$wheel")
grep -q "httpclient/libhttpclient.so.0" <<<"$listing" ||
  { echo "python_wheel: $wheel does not bundle httpclient/libhttpclient.so.0" >&2; exit 1; }
"$py" -m pip install -q --disable-pip-version-check "$wheel"
cd "$work"  # so that neither the checkout nor its package is on sys.path
env -u HTTPCLIENT_LIB -u PYTHONPATH HC_TEST_WHEEL=1 \
  "$py" -c 'import httpclient; print("python_wheel: httpclient from", httpclient.__file__, "library", httpclient.library_path)'
env -u HTTPCLIENT_LIB -u PYTHONPATH HC_TEST_WHEEL=1 \
  "$py" -m pytest -q -p no:cacheprovider --rootdir "$work" "$src/bindings/python/tests"
