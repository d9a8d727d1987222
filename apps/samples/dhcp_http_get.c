/* dhcp_http_get: put zsock on a TAP interface, get an address, a gateway
 * and a DNS server by DHCP, look a host up by name and fetch a page from it
 * over HTTP.
 *
 *   dhcp_http_get TAP HOST [PATH]
 *
 * Needs root (or CAP_NET_ADMIN) for the TAP device, and a DHCP server on the
 * other side of it (tests/interop/dhcp_http.sh sets one up with dnsmasq). */
#include <stdio.h>
#include <string.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

static int fetch(const char *host, const char *path)
{
    struct zsock_addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct zsock_addrinfo *res, *ai;
    char addr[INET6_ADDRSTRLEN];
    int fd = -1;

    int err = zsock_getaddrinfo(host, "http", &hints, &res);
    if (err != 0) {
        fprintf(stderr, "%s: %s\n", host, zsock_gai_strerror(err));
        return -1;
    }
    /* Try each address in the order getaddrinfo() gives them. */
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;
        zsock_inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
        fd = zsock_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            perror("connect");
            zsock_close(fd);
            fd = -1;
        }
    }
    zsock_freeaddrinfo(res);
    if (fd < 0) {
        return -1;
    }
    printf("connected to %s (%s)\n", host, addr);

    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
    if (zsock_send(fd, req, (size_t)n, 0) != n) {
        perror("send");
        zsock_close(fd);
        return -1;
    }
    char buf[4096];
    ssize_t got;
    while ((got = zsock_recv(fd, buf, sizeof(buf), 0)) > 0) {
        fwrite(buf, 1, (size_t)got, stdout);
    }
    zsock_close(fd);
    return got == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s TAP HOST [PATH]\n", argv[0]);
        return 2;
    }
    int ifindex = zsock_if_add_tap(argv[1]);
    if (ifindex < 0) {
        fprintf(stderr, "tap %s: %s\n", argv[1], strerror(-ifindex));
        return 1;
    }

    /* DHCP runs inside the stack; wait until it holds a lease. */
    struct zsock_dhcp4_lease lease;
    if (zsock_dhcp4_start(ifindex) < 0 || zsock_dhcp4_wait(ifindex, 30000) < 0 ||
        zsock_dhcp4_get(ifindex, &lease) < 0) {
        fprintf(stderr, "no DHCP lease\n");
        return 1;
    }
    char a[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
    printf("lease %s/%d router %s dns %s for %u s\n",
           zsock_inet_ntop(AF_INET, &lease.addr, a, sizeof(a)), lease.prefix_len,
           zsock_inet_ntop(AF_INET, &lease.router, r, sizeof(r)),
           zsock_inet_ntop(AF_INET, &lease.dns[0], d, sizeof(d)), (unsigned)lease.lease_s);

    int rc = fetch(argv[2], argc > 3 ? argv[3] : "/");
    zsock_dhcp4_stop(ifindex); /* hands the address back */
    return rc == 0 ? 0 : 1;
}
