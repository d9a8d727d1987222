/* Helpers shared by the samples (sample_common.h). */
#include "sample_common.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zsock/net_if.h>

int sample_add_credential(sec_tag_t tag, enum tls_credential_type type, const char *dir,
                          const char *name)
{
    char path[1024];
    if (dir != NULL) {
        snprintf(path, sizeof(path), "%s/%s", dir, name);
    } else {
        snprintf(path, sizeof(path), "%s", name);
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    /* Certificates and keys are small: 64 KiB is plenty. */
    size_t cap = 65536;
    char *buf = malloc(cap + 1);
    size_t len = buf != NULL ? fread(buf, 1, cap, f) : 0;
    fclose(f);
    if (len == 0) {
        fprintf(stderr, "%s: empty or unreadable\n", path);
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    if (strstr(buf, "-----BEGIN") != NULL) {
        len++; /* PEM: the NUL belongs to the credential */
    }
    int rc = tls_credential_add(tag, type, buf, len);
    free(buf); /* the store keeps its own copy */
    if (rc < 0) {
        fprintf(stderr, "tls_credential_add(%s): %s\n", path, strerror(-rc));
        return -1;
    }
    return 0;
}

const char *sample_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        zsock_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        zsock_inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
    }
    snprintf(buf, len, "%s port %d", host, port);
    return buf;
}

int sample_wait_ipv6_ready(int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        struct zsock_if_info ifs[8];
        int n = zsock_if_list(ifs, 8);
        bool tentative = false;
        for (int i = 0; i < n && i < 8; i++) {
            for (int a = 0; a < ifs[i].n_ipv6 && a < ZSOCK_IPV6_MAX_ADDRS; a++) {
                tentative |= ifs[i].ipv6_state[a] == ZSOCK_IPV6_TENTATIVE;
            }
        }
        if (!tentative) {
            return 0;
        }
        usleep(50000);
    }
    return -1;
}

int sample_unacked(int fd)
{
    int queued = 0;
    return zsock_ioctl(fd, FIONWRITE, &queued) == 0 ? queued : 0;
}

void sample_drain(int fd, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms && sample_unacked(fd) > 0; waited++) {
        usleep(1000);
    }
}
