/* bcryptprimitives.dll for Wine 8, which lacks it: Rust's standard library on Windows imports
 * ProcessPrng from it for random numbers. RtlGenRandom (advapi32's SystemFunction036) gives
 * the same kind of bytes. Built with mingw-w64 by scripts/wine-tests.sh; never used on Windows,
 * which has its own. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
