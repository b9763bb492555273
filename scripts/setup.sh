#!/usr/bin/env bash
# Installs what building and testing httpclient needs and is missing; does nothing (quickly)
# when everything is there. scripts/demo.sh, scripts/test.sh and .ci/run call it first, so a
# fresh Debian/Ubuntu machine with only Rust, a C compiler, git and python3 needs nothing
# installed by hand. This file holds the one list of system packages: add new ones here.
#
#   scripts/setup.sh            install what is missing (apt-get, through sudo when not root)
#   scripts/setup.sh --check    only say what is missing; exit 1 if anything is
#   scripts/setup.sh --list     print the system package list
#   scripts/setup.sh --windows  also what the Windows DLL and its test run under Wine need
#
# HC_SKIP_SETUP=1 makes it return at once (a machine set up some other way).
set -euo pipefail

# One line per reason, so a package's purpose is written once.
packages=(
  cmake pkg-config libssl-dev gcc g++ make  # the build (cargo builds openssl-sys against libssl-dev)
  binutils                                  # nm and readelf: the export and SONAME checks
  git ca-certificates                       # fetching crates
  openssl                                   # tests/servers/hc_pki.py makes the test certificates
  python3 python3-venv                      # the test servers; the wheel test's fresh virtualenv
  nginx-light tinyproxy squid               # real peers of the network tests (squid: proxy auth)
  libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static  # nginx's brotli (decoding interop)
  zstd brotli                               # real encoders for the static .zst/.br files nginx serves
  libcurl4-openssl-dev                      # bench/: libcurl, compared in the same run
  zlib1g-dev                                # bench/: the gzip-serving server of client-gzip
  libuv1-dev                                # examples-c/uv_get.c: a libuv event loop (uv_poll_t)
  valgrind                                  # the valgrind test label
  man-db                                    # man -w: the test of the installed man pages
  clang llvm                                # fuzzing (cargo-fuzz's libFuzzer)
)
# With --windows only (scripts/build-windows.sh, scripts/test-windows.sh).
windows_packages=(
  rustc-web cargo-web rust-web-src          # Debian's Rust: builds std for x86_64-pc-windows-gnu
  gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64  # the Windows linker and C compiler
  wine64                                    # runs the Windows examples and C tests
)

case ${1:-} in
  --list) printf '%s\n' "${packages[@]}"; exit 0 ;;
  --check) check_only=1 ;;
  --windows) check_only=; packages+=("${windows_packages[@]}") ;;
  "") check_only= ;;
  *) echo "usage: scripts/setup.sh [--check|--list|--windows]" >&2; exit 2 ;;
esac
[[ ${HC_SKIP_SETUP:-} == 1 ]] && exit 0

if [[ $(id -u) == 0 ]]; then sudo=(); else sudo=(sudo); fi
missing=()
need() { missing+=("$@"); }

# --- System packages: one dpkg-query for all of them. -----------------------------------------
have_dpkg=
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  have_dpkg=1
  # Prints "<name> <status>" for the known ones; unknown names go to stderr.
  declare -A state=()
  while read -r name status; do state[$name]=$status; done < <(
    dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${packages[@]}" python3-pytest \
      2>/dev/null || true)
  for p in "${packages[@]}"; do
    [[ ${state[$p]:-} == ii* ]] || need "$p"
  done
  # pytest for the Python binding's suite: Debian's python3 takes it from apt (pip refuses to
  # install into an externally managed Python); another python3 (pyenv, a venv) from PyPI.
  if ! python3 -c 'import pytest' 2>/dev/null; then
    if [[ $(python3 -c 'import sys; print(sys.prefix)' 2>/dev/null) == /usr ]]; then
      [[ ${state[python3-pytest]:-} == ii* ]] || need python3-pytest
    else
      pip_pytest=1
    fi
  fi
else
  # Not Debian: check the commands and say what to install; the package names differ.
  for c in cmake pkg-config cc c++ make nm readelf openssl python3 nginx tinyproxy squid valgrind; do
    command -v "$c" >/dev/null || need "$c"
  done
  python3 -c 'import pytest' 2>/dev/null || pip_pytest=1
fi

# --- Rust components: rustfmt and clippy (CI checks formatting and lints). ---------------------
components=()
if command -v rustup >/dev/null; then
  installed=$(rustup component list --installed 2>/dev/null || true)
  for c in rustfmt clippy; do
    grep -q "^$c" <<<"$installed" || components+=("$c")
  done
elif ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing: install Rust (1.88 or later) from https://rustup.rs first" >&2
  exit 1
fi

if ((${#missing[@]} == 0 && ${#components[@]} == 0)) && [[ -z ${pip_pytest:-} ]]; then
  [[ -n $check_only ]] && echo "setup: everything is installed"
  exit 0
fi

if [[ -n $check_only ]]; then
  ((${#missing[@]})) && echo "setup: missing system packages: ${missing[*]}"
  ((${#components[@]})) && echo "setup: missing rustup components: ${components[*]}"
  [[ -n ${pip_pytest:-} ]] && echo "setup: missing Python module: pytest"
  exit 1
fi

if ((${#missing[@]})); then
  if [[ -z $have_dpkg ]]; then
    echo "setup: not a Debian-like system; install the equivalents of: ${missing[*]}" >&2
    echo "       (or set HC_SKIP_SETUP=1 when they are installed some other way)" >&2
    exit 1
  fi
  if ((${#sudo[@]})) && ! command -v sudo >/dev/null; then
    echo "setup: missing ${missing[*]}, and not root without sudo: run as root" \
         "apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  # nginx-light's package starts a system nginx on port 80; the tests run their own.
  if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null &&
     systemctl is-active --quiet nginx 2>/dev/null; then
    "${sudo[@]}" systemctl stop nginx || true
  fi
fi

if ((${#components[@]})); then
  echo "setup: rustup component add ${components[*]}"
  rustup component add "${components[@]}"
fi

if [[ -n ${pip_pytest:-} ]]; then
  echo "setup: python3 -m pip install pytest"
  python3 -m pip install -q pytest
fi
