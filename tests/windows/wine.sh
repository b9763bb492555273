#!/usr/bin/env bash
# Runs a Windows program under Wine for the test run (cmake/windows.cmake's tests):
#   tests/windows/wine.sh PROGRAM.exe ARGS...
# WINEPREFIX (set by ctest: <build>/wineprefix) is created on first use; Wine's debug chatter
# and its Mono/Gecko installers are off, and no display is used. The program's exit status is
# this script's.
set -euo pipefail
: "${WINEPREFIX:?set WINEPREFIX to the Wine prefix of the test run}"
export WINEPREFIX
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
unset DISPLAY WAYLAND_DISPLAY
exec "${HC_WINE64:-/usr/lib/wine/wine64}" "$@"
