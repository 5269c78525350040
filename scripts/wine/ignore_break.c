/* A process that ignores Ctrl-Break and Ctrl-C, for the tests of stopping a tree: it prints
 * "ignoring <pid>" and sleeps until it is ended. With an argument it first starts itself again
 * (without one), so that a tree of two such processes is made. Built with mingw-w64 by
 * scripts/wine-tests.sh. */
#include <stdio.h>
#include <windows.h>

static BOOL WINAPI ignore(DWORD event)
{
    (void)event;
    return TRUE;
}

int main(int argc, char **argv)
{
    SetConsoleCtrlHandler(ignore, TRUE);
    if (argc > 1) {
        char self[MAX_PATH];
        STARTUPINFOA si = { sizeof si };
        PROCESS_INFORMATION pi;
        GetModuleFileNameA(NULL, self, sizeof self);
        if (CreateProcessA(self, NULL, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
            CloseHandle(pi.hThread);
            CloseHandle(pi.hProcess);
        }
    }
    printf("ignoring %lu\n", GetCurrentProcessId());
    fflush(stdout);
    for (;;)
        Sleep(1000);
}
