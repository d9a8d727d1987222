/* Installed-library check: a program built only from the installed headers
 * and `pkg-config --cflags --libs zsock` echoes data through a socketpair,
 * waiting with zsock_poll(). */
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    int sv[2];
    if (zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("zsock_socketpair");
        return 1;
    }
    const char msg[] = "ping through an installed zsock";
    char buf[64];
    if (zsock_send(sv[0], msg, sizeof(msg), 0) != (ssize_t)sizeof(msg)) {
        return 1;
    }
    struct zsock_pollfd pfd = {.fd = sv[1], .events = ZSOCK_POLLIN};
    if (zsock_poll(&pfd, 1, 1000) != 1 || !(pfd.revents & ZSOCK_POLLIN)) {
        fprintf(stderr, "poll did not report the data\n");
        return 1;
    }
    ssize_t n = zsock_recv(sv[1], buf, sizeof(buf), 0);
    if (n != (ssize_t)sizeof(msg) || zsock_send(sv[1], buf, (size_t)n, 0) != n) {
        return 1;
    }
    pfd.fd = sv[0];
    if (zsock_poll(&pfd, 1, 1000) != 1 || zsock_recv(sv[0], buf, sizeof(buf), 0) != n ||
        memcmp(buf, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "echo mismatch\n");
        return 1;
    }
    /* The credential API links too. */
    if (tls_credential_add(1, TLS_CREDENTIAL_PSK, "k", 1) != 0 ||
        tls_credential_delete(1, TLS_CREDENTIAL_PSK) != 0) {
        return 1;
    }
    zsock_close(sv[0]);
    zsock_close(sv[1]);
    printf("installed zsock: echo through poll OK\n");
    return 0;
}
