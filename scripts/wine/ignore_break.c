/* A process that ignores Ctrl-Break and Ctrl-C, for the tests of stopping a tree: it prints
 * "ignoring <pid>" and sleeps until it is ended. `child` makes it first start itself again
 * (without an argument), so that a tree of two such processes is made; `listen` makes it listen
 * on a free TCP port of 127.0.0.1 and print "listening <port>". Built with mingw-w64 by
 * scripts/wine-tests.sh. */
#include <winsock2.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

static BOOL WINAPI ignore(DWORD event)
{
    (void)event;
    return TRUE;
}

static int listen_on_free_port(void)
{
    WSADATA wsa;
    struct sockaddr_in at;
    int len = sizeof at;
    SOCKET s;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
        return 1;
    s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    memset(&at, 0, sizeof at);
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET || bind(s, (struct sockaddr *)&at, sizeof at) != 0 || listen(s, 1) != 0
        || getsockname(s, (struct sockaddr *)&at, &len) != 0)
        return 1;
    printf("listening %u\n", ntohs(at.sin_port));
    return 0;
}

int main(int argc, char **argv)
{
    SetConsoleCtrlHandler(ignore, TRUE);
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        char self[MAX_PATH];
        STARTUPINFOA si = { sizeof si };
        PROCESS_INFORMATION pi;
        GetModuleFileNameA(NULL, self, sizeof self);
        if (CreateProcessA(self, NULL, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
            CloseHandle(pi.hThread);
            CloseHandle(pi.hProcess);
        }
    }
    if (argc > 1 && strcmp(argv[1], "listen") == 0 && listen_on_free_port() != 0) {
        printf("cannot listen: %d\n", WSAGetLastError());
        return 1;
    }
    printf("ignoring %lu\n", GetCurrentProcessId());
    fflush(stdout);
    for (;;)
        Sleep(1000);
}
