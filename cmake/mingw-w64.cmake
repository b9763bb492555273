# CMake toolchain for the Windows build, cross-compiled on Linux with MinGW-w64 (x86_64):
#
#   scripts/build-windows.sh          # once: installs the toolchain, builds httpclient.dll
#   cmake -S . -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
#   cmake --build build-windows && ctest --test-dir build-windows
#
# CMakeLists.txt then takes cmake/windows.cmake: the DLL from scripts/build-windows.sh, the
# examples and C tests linked against it, and the tests run under Wine (wine64) when present.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(HC_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${HC_MINGW_TRIPLE}-gcc)
find_program(_hc_mingw_cxx ${HC_MINGW_TRIPLE}-g++)
if(_hc_mingw_cxx)
  set(CMAKE_CXX_COMPILER ${_hc_mingw_cxx})
endif()
set(CMAKE_RC_COMPILER ${HC_MINGW_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${HC_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Debian's wine64 package puts the loader here (the `wine` wrapper comes with the 32-bit part).
find_program(HC_WINE64 NAMES wine64 PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(HC_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${HC_WINE64}")
endif()
