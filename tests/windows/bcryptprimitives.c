/*
 * A test-only stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks. Rust's standard
 * library (1.78 and later) takes its random numbers from ProcessPrng there, so without it no
 * Rust DLL loads under Wine 8. Real Windows (8.1 and later) has the DLL: this one is built for
 * the Wine test run only (cmake/windows.cmake puts it next to the test programs) and is never
 * shipped. It forwards to BCryptGenRandom with the system's preferred generator.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
