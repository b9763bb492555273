# The Windows build, included by CMakeLists.txt when WIN32 (cross-building on Linux with
# -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake). cargo can't cross-build the library with
# rustup's toolchain here, so scripts/build-windows.sh builds httpclient.dll, its import library
# libhttpclient.dll.a and libhttpclient.a; this file links the examples and the C tests against
# the DLL and, when Wine is there, runs them under Wine against the loopback test servers.
#
#   HC_WINDOWS_TARGET_DIR  cargo's target directory for the cross-build (default
#                          <source>/target/windows; the first build takes about 17 minutes)
#
# Which C tests run under Wine, and why the others don't, is in docs/windows.md.

set(HC_WINDOWS_TARGET_DIR "${CMAKE_CURRENT_SOURCE_DIR}/target/windows" CACHE PATH
    "cargo's target directory for the Windows cross-build")
# Programs and DLLs share one directory: Windows looks for a program's DLLs next to it.
set(HC_BIN_DIR "${CMAKE_CURRENT_BINARY_DIR}/bin")
set(HC_INCLUDE_DIR "${CMAKE_CURRENT_SOURCE_DIR}/include")
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${HC_BIN_DIR}")

add_custom_target(httpclient_dll ALL
  COMMAND ${CMAKE_COMMAND} -E env HC_SKIP_SETUP=1 "HC_WINDOWS_TARGET_DIR=${HC_WINDOWS_TARGET_DIR}"
          "HC_WINDOWS_OUT=${HC_BIN_DIR}" bash "${CMAKE_CURRENT_SOURCE_DIR}/scripts/build-windows.sh"
  WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
  BYPRODUCTS "${HC_BIN_DIR}/httpclient.dll" "${HC_BIN_DIR}/libhttpclient.dll.a"
             "${HC_BIN_DIR}/libhttpclient.a"
  COMMENT "scripts/build-windows.sh (httpclient.dll ${PROJECT_VERSION})"
  USES_TERMINAL
  VERBATIM)

add_library(httpclient_shared SHARED IMPORTED GLOBAL)
set_target_properties(httpclient_shared PROPERTIES
  IMPORTED_LOCATION "${HC_BIN_DIR}/httpclient.dll"
  IMPORTED_IMPLIB "${HC_BIN_DIR}/libhttpclient.dll.a"
  INTERFACE_INCLUDE_DIRECTORIES "${HC_INCLUDE_DIR}")
add_dependencies(httpclient_shared httpclient_dll)

# The static library carries Rust's standard library and OpenSSL; these are what they need
# from Windows (`--print native-static-libs` of the cross-build).
set(HC_WINDOWS_SYSTEM_LIBS ws2_32 crypt32 bcrypt advapi32 userenv ntdll kernel32 user32)
add_library(httpclient_static STATIC IMPORTED GLOBAL)
set_target_properties(httpclient_static PROPERTIES
  IMPORTED_LOCATION "${HC_BIN_DIR}/libhttpclient.a"
  INTERFACE_INCLUDE_DIRECTORIES "${HC_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${HC_WINDOWS_SYSTEM_LIBS}")
add_dependencies(httpclient_static httpclient_dll)

add_library(httpclient::httpclient ALIAS httpclient_shared)
add_library(httpclient::shared ALIAS httpclient_shared)
add_library(httpclient::static ALIAS httpclient_static)

find_package(Threads REQUIRED)
function(hc_c_program target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -pedantic)
  set_target_properties(${target} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
                                             NO_SYSTEM_FROM_IMPORTED ON)
  target_compile_definitions(${target} PRIVATE "HC_CARGO_VERSION=\"${HC_CARGO_VERSION}\""
                                               _POSIX_C_SOURCE=200809L)
  target_link_libraries(${target} PRIVATE httpclient::httpclient Threads::Threads ws2_32)
  # -static: winpthread and libgcc linked in, so a program needs no MinGW DLL beside it.
  target_link_options(${target} PRIVATE -static)
endfunction()

# --- Examples (the C++ one is not built for Windows yet: docs/windows.md). ------------------
set(HC_WINDOWS_EXAMPLES simple get post stepwise https_get poll_fileno tls_churn fetch hcget)
foreach(name IN LISTS HC_WINDOWS_EXAMPLES)
  add_executable(example_${name} "${CMAKE_CURRENT_SOURCE_DIR}/examples-c/${name}.c")
  hc_c_program(example_${name})
  set_target_properties(example_${name} PROPERTIES OUTPUT_NAME "${name}")
endforeach()
# The same example linked with the static library: libhttpclient.a works on its own.
add_executable(example_simple_static "${CMAKE_CURRENT_SOURCE_DIR}/examples-c/simple.c")
target_compile_options(example_simple_static PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(example_simple_static PRIVATE httpclient::static)
set_target_properties(example_simple_static PROPERTIES OUTPUT_NAME "simple_static"
                      NO_SYSTEM_FROM_IMPORTED ON)

if(NOT HC_BUILD_TESTS)
  return()
endif()

# --- Tests under Wine. -------------------------------------------------------------------------
# The C tests that run on Windows (through tests/c/hc_sys.h); docs/windows.md says why the
# others don't.
set(HC_WINDOWS_C_TESTS test_constants test_errors test_local_api test_last_error test_deadline test_bad_input
    test_eventloop test_response_extras test_net_basic test_net_stream test_net_tunnel
    test_net_api test_net_tls test_net_client test_net_client_threads test_nonblocking
    test_net_nonblocking_open)
foreach(name IN LISTS HC_WINDOWS_C_TESTS)
  add_executable(${name} "${CMAKE_CURRENT_SOURCE_DIR}/tests/c/${name}.c")
  hc_c_program(${name})
endforeach()

# Wine 8 lacks bcryptprimitives.dll (ProcessPrng, which Rust's std imports): a test-only
# stand-in, built next to the test programs and never installed.
add_library(bcryptprimitives SHARED "${CMAKE_CURRENT_SOURCE_DIR}/tests/windows/bcryptprimitives.c"
            "${CMAKE_CURRENT_SOURCE_DIR}/tests/windows/bcryptprimitives.def")
set_target_properties(bcryptprimitives PROPERTIES PREFIX "" OUTPUT_NAME "bcryptprimitives"
                      RUNTIME_OUTPUT_DIRECTORY "${HC_BIN_DIR}")
target_link_libraries(bcryptprimitives PRIVATE bcrypt)

find_program(HC_WINE64 NAMES wine64 PATHS /usr/lib/wine)
if(NOT HC_WINE64)
  message(STATUS "wine64 not found: the Windows programs are built, not run")
  return()
endif()
enable_testing()
find_program(PYTHON3_EXECUTABLE python3)
set(HC_SERVERS "${CMAKE_CURRENT_SOURCE_DIR}/tests/servers/hcservers.py")
set(HC_WINE "${CMAKE_CURRENT_SOURCE_DIR}/tests/windows/wine.sh")
set(HC_WINE_ENV "WINEPREFIX=${CMAKE_CURRENT_BINARY_DIR}/wineprefix" "HC_WINE64=${HC_WINE64}")
# Wine 8 exits with status 0 after a crash (it starts its debugger, which prints this): a
# test whose output says so fails whatever its status.
set(HC_WINE_CRASH "wine: Unhandled|Unhandled exception|Unhandled page fault")

# The prefix is made once, before the tests (making it takes seconds; two at once would race).
add_test(NAME wine.prefix COMMAND ${HC_WINE} wineboot --init)
set_tests_properties(wine.prefix PROPERTIES FIXTURES_SETUP wine ENVIRONMENT "${HC_WINE_ENV}"
                     TIMEOUT 300 LABELS "windows")

foreach(name IN LISTS HC_WINDOWS_C_TESTS)
  if(name MATCHES "^test_net_")
    set(_wrap ${PYTHON3_EXECUTABLE} "${HC_SERVERS}" run --)
  else()
    set(_wrap "")
  endif()
  add_test(NAME wine.c.${name} COMMAND ${_wrap} ${HC_WINE} $<TARGET_FILE:${name}>)
  set_tests_properties(wine.c.${name} PROPERTIES LABELS "windows;c" FIXTURES_REQUIRED wine
                       ENVIRONMENT "${HC_WINE_ENV}" TIMEOUT 300
                       FAIL_REGULAR_EXPRESSION "${HC_WINE_CRASH}")
endforeach()

# The examples as on Linux (CMakeLists.txt), their output compared with the served files.
# simple.c is README's first example and writes in stdout's default text mode, where Windows
# turns LF into CRLF: its output is compared with the CRs taken out. The others set stdout to
# binary and are compared byte for byte (https_get with a binary file).
function(hc_wine_example name target script)
  add_test(NAME wine.example.${name} COMMAND ${PYTHON3_EXECUTABLE} "${HC_SERVERS}" run -- sh -c
           "set -e; ${script}" sh $<TARGET_FILE:${target}>)
  set_tests_properties(wine.example.${name} PROPERTIES LABELS "windows;example"
                       FIXTURES_REQUIRED wine TIMEOUT 300
                       ENVIRONMENT "${HC_WINE_ENV};HC_RUN=${HC_WINE}"
                       FAIL_REGULAR_EXPRESSION "${HC_WINE_CRASH}")
endfunction()
set(_small "\"$HC_TEST_DOCROOT/small.txt\"")
set(_large "\"$HC_TEST_DOCROOT/large.bin\"")
hc_wine_example(simple example_simple
  "$HC_RUN \"$1\" 127.0.0.1:$HC_TEST_HTTP_PORT /small.txt | tr -d '\\r' | cmp - ${_small}")
hc_wine_example(simple_static example_simple_static
  "$HC_RUN \"$1\" 127.0.0.1:$HC_TEST_HTTP_PORT /small.txt | tr -d '\\r' | cmp - ${_small}")
hc_wine_example(get example_get
  "$HC_RUN \"$1\" http://127.0.0.1:$HC_TEST_HTTP_PORT/large.bin | cmp - ${_large}")
hc_wine_example(post example_post
  "$HC_RUN \"$1\" http://127.0.0.1:$HC_TEST_HTTP_PORT/echo 'posted body' | grep -q 'posted body'")
hc_wine_example(stepwise example_stepwise
  "$HC_RUN \"$1\" http://127.0.0.1:$HC_TEST_ECHO_PORT/stepwise >/dev/null")
hc_wine_example(https_get example_https_get
  "$HC_RUN \"$1\" localhost $HC_TEST_HTTPS_PORT /large.bin \"$HC_TEST_CA_FILE\" | cmp - ${_large}")
hc_wine_example(poll_fileno example_poll_fileno
  "$HC_RUN \"$1\" 127.0.0.1 $HC_TEST_HTTP_PORT /large.bin | cmp - ${_large}")
hc_wine_example(tls_churn example_tls_churn "$HC_RUN \"$1\" 20")
# fetch and hcget write bodies to stdout in binary: an 8 MiB binary body and a decoded text
# body (LFs that text mode would turn into CRLFs) compared byte for byte.
hc_wine_example(fetch example_fetch
  "$HC_RUN \"$1\" http://127.0.0.1:$HC_TEST_HTTP_PORT/large.bin | cmp - ${_large}; $HC_RUN \"$1\" http://127.0.0.1:$HC_TEST_HTTP_PORT/gzip/text.txt | cmp - \"$HC_TEST_DOCROOT/gzip/text.txt\"")
hc_wine_example(hcget example_hcget
  "$HC_RUN \"$1\" --cacert \"$HC_TEST_CA_FILE\" https://localhost:$HC_TEST_HTTPS_PORT/large.bin | cmp - ${_large}; $HC_RUN \"$1\" --compressed http://127.0.0.1:$HC_TEST_HTTP_PORT/gzip/text.txt | cmp - \"$HC_TEST_DOCROOT/gzip/text.txt\"")

# The Windows certificate store is the default trust: https_get with no CA file fails to verify
# the test server while the test CA is not in the store, and succeeds once tests/windows/root_ca
# added it to the current user's ROOT store (the CA is new at each run of hcservers.py).
add_executable(root_ca "${CMAKE_CURRENT_SOURCE_DIR}/tests/windows/root_ca.c")
target_compile_options(root_ca PRIVATE -Wall -Wextra -Werror -pedantic)
set_target_properties(root_ca PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON)
target_link_libraries(root_ca PRIVATE crypt32)
add_test(NAME wine.native_ca COMMAND ${PYTHON3_EXECUTABLE} "${HC_SERVERS}" run -- sh -c
  "set -e; url=\"localhost $HC_TEST_HTTPS_PORT /large.bin\"
   if $HC_RUN \"$1\" $url >/dev/null 2>err.txt; then echo 'verified before the CA was in the store'; exit 1; fi
   grep CertificateVerifyError err.txt
   $HC_RUN \"$2\" add \"$HC_TEST_CA_FILE\"
   $HC_RUN \"$1\" $url | cmp - ${_large}
   echo 'verified with the CA from the Windows store'"
  sh $<TARGET_FILE:example_https_get> $<TARGET_FILE:root_ca>)
set_tests_properties(wine.native_ca PROPERTIES LABELS "windows;example" FIXTURES_REQUIRED wine
                     TIMEOUT 300 ENVIRONMENT "${HC_WINE_ENV};HC_RUN=${HC_WINE}"
                     WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
                     FAIL_REGULAR_EXPRESSION "${HC_WINE_CRASH}")

# A peer that resets the connection under a request gives HC_ERR_CONNECTION_RESET, as on Linux
# (WSAECONNRESET). tests/c/test_reset.c resets from its own socket, which Wine closes
# gracefully; here the peer is a Linux process.
add_test(NAME wine.reset COMMAND sh -c
  "set -e; rm -f reset_port.txt
   ${PYTHON3_EXECUTABLE} \"$0\" > reset_port.txt & pid=$!
   for i in 1 2 3 4 5 6 7 8 9 10; do [ -s reset_port.txt ] && break; sleep 0.5; done
   rc=0; $HC_RUN \"$1\" 127.0.0.1:$(cat reset_port.txt) / 2> reset_err.txt || rc=$?
   wait $pid; cat reset_err.txt
   [ $rc = 1 ] && grep -q '(ConnectionReset)' reset_err.txt"
  "${CMAKE_CURRENT_SOURCE_DIR}/tests/windows/reset_server.py" $<TARGET_FILE:example_simple>)
set_tests_properties(wine.reset PROPERTIES LABELS "windows;c" FIXTURES_REQUIRED wine TIMEOUT 120
                     ENVIRONMENT "${HC_WINE_ENV};HC_RUN=${HC_WINE}"
                     WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
                     FAIL_REGULAR_EXPRESSION "${HC_WINE_CRASH}")
