/* The socket options of the specification across every kind of socket
 * zsock creates: what each kind answers for SO_BINDTODEVICE, SO_PRIORITY,
 * SO_TXTIME, SO_TIMESTAMPING, the stack-wide reply switches and the modem
 * options (SOL_PDN, SOL_DFU: ENOPROTOOPT everywhere), so the support table
 * of the README is checked, kind by kind. Each option's effect is tested
 * where it is built (test_udp, test_txq, test_raw, test_packet...); here
 * the answers must be the documented ones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <zsock/config.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "unit/test_util.h"

/* What a kind of socket offers (the README's table). */
enum {
    F_BIND_DEV = 1 << 0, /* SO_BINDTODEVICE */
    F_PRIORITY = 1 << 1, /* SO_PRIORITY */
    F_TXTIME = 1 << 2,   /* SO_TXTIME (SCM_TXTIME) */
    F_TSTAMP = 1 << 3,   /* SO_TIMESTAMPING */
    F_STACK = 1 << 4,    /* SO_SILENCE_ALL, SO_IP_ECHO_REPLY... */
    F_SOCKS = 1 << 5,    /* SO_SOCKS5 */
};

struct kind {
    const char *name;
    int family, type, proto;
    bool pair; /* zsock_socketpair() */
    unsigned offers;
};

#define PRIO   (CONFIG_NET_TX_QUEUE ? F_PRIORITY : 0)
#define TXTIME (CONFIG_NET_TX_QUEUE ? F_TXTIME : 0)
#define TSTAMP (CONFIG_NET_SOCKETS_TIMESTAMPING ? F_TSTAMP : 0)
#ifdef CONFIG_NET_SOCKOPT_SILENCE
#define STACKOPT (CONFIG_NET_SOCKOPT_SILENCE ? F_STACK : 0)
#else
#define STACKOPT 0
#endif
#define SOCKS (CONFIG_NET_SOCKETS_SOCKS ? F_SOCKS : 0)

static const struct kind kinds[] = {
    {"udp4", AF_INET, SOCK_DGRAM, 0, false, F_BIND_DEV | PRIO | TXTIME | TSTAMP | STACKOPT},
    {"tcp4", AF_INET, SOCK_STREAM, 0, false, F_BIND_DEV | PRIO | STACKOPT | SOCKS},
#if CONFIG_NET_IPV6
    {"udp6", AF_INET6, SOCK_DGRAM, 0, false, F_BIND_DEV | PRIO | TXTIME | TSTAMP | STACKOPT},
    {"tcp6", AF_INET6, SOCK_STREAM, 0, false, F_BIND_DEV | PRIO | STACKOPT | SOCKS},
#endif
#if CONFIG_NET_SOCKETS_RAW
    {"raw4", AF_INET, SOCK_RAW, IPPROTO_ICMP, false, F_BIND_DEV | PRIO | STACKOPT},
#if CONFIG_NET_IPV6
    {"raw6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, false, F_BIND_DEV | PRIO | STACKOPT},
#endif
#endif
#if CONFIG_NET_SOCKETS_PACKET
    {"packet_raw", AF_PACKET, SOCK_RAW, 0, false, F_BIND_DEV | PRIO},
    {"packet_dgram", AF_PACKET, SOCK_DGRAM, 0, false, F_BIND_DEV | PRIO},
#endif
#ifdef CONFIG_NET_SOCKETS_SOCKOPT_TLS
    {"tls", AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2, false, F_BIND_DEV | PRIO | STACKOPT | SOCKS},
#endif
#ifdef CONFIG_NET_SOCKETS_ENABLE_DTLS
    {"dtls", AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2, false, F_BIND_DEV | PRIO | STACKOPT},
#endif
    {"pair_stream", AF_UNIX, SOCK_STREAM, 0, true, 0},
    {"pair_dgram", AF_UNIX, SOCK_DGRAM, 0, true, 0},
};

static int open_kind(const struct kind *k, int *other)
{
    *other = -1;
    if (k->pair) {
        int sv[2];
        assert_int_equal(zsock_socketpair(k->family, k->type, 0, sv), 0);
        *other = sv[1];
        return sv[0];
    }
    int fd = zsock_socket(k->family, k->type, k->proto);
    if (fd < 0) {
        fail_msg("%s: socket: %s", k->name, strerror(errno));
    }
    return fd;
}

/* rc must be 0 when the kind offers the option, -1/ENOPROTOOPT when not. */
static void expect_offer(const struct kind *k, const char *opt, int rc, bool offered)
{
    if (offered && rc != 0) {
        fail_msg("%s: %s: %s, expected success", k->name, opt, strerror(errno));
    }
    if (!offered && (rc != -1 || errno != ENOPROTOOPT)) {
        fail_msg("%s: %s: rc %d (%s), expected ENOPROTOOPT", k->name, opt, rc,
                 rc < 0 ? strerror(errno) : "no error");
    }
}

static void test_modem_options_everywhere(void **state)
{
    (void)state;
    static const int pdn[] = {SO_PDN_AF, SO_PDN_CONTEXT_ID, SO_PDN_STATE};
    static const int dfu[] = {SO_DFU_FW_VERSION, SO_DFU_RESOURCES,     SO_DFU_TIMEO,  SO_DFU_APPLY,
                              SO_DFU_REVERT,     SO_DFU_BACKUP_DELETE, SO_DFU_OFFSET, SO_DFU_ERROR};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        int other;
        int fd = open_kind(&kinds[i], &other);
        for (int lv = 0; lv < 2; lv++) {
            const int *names = lv == 0 ? pdn : dfu;
            size_t n = lv == 0 ? 3 : 8;
            for (size_t j = 0; j < n; j++) {
                int v = 1;
                socklen_t l = sizeof(v);
                int level = lv == 0 ? SOL_PDN : SOL_DFU;
                expect_offer(&kinds[i], "modem set", zsock_setsockopt(fd, level, names[j], &v, l),
                             false);
                expect_offer(&kinds[i], "modem get", zsock_getsockopt(fd, level, names[j], &v, &l),
                             false);
            }
        }
        zsock_close(fd);
        if (other >= 0) {
            zsock_close(other);
        }
    }
}

static void test_bindtodevice_everywhere(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const struct kind *k = &kinds[i];
        bool on = k->offers & F_BIND_DEV;
        int other;
        int fd = open_kind(k, &other);
        expect_offer(k, "SO_BINDTODEVICE lo",
                     zsock_setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3), on);
        char name[IFNAMSIZ] = "x";
        socklen_t l = sizeof(name);
        expect_offer(k, "SO_BINDTODEVICE get",
                     zsock_getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &l), on);
        if (on) {
            assert_string_equal(name, "lo");
            expect_errno(zsock_setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "nosuch9", 8), ENODEV);
            assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0), 0);
            l = sizeof(name);
            assert_int_equal(zsock_getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &l), 0);
            assert_int_equal(l, 0); /* unbound: an empty name */
        }
        zsock_close(fd);
        if (other >= 0) {
            zsock_close(other);
        }
    }
}

static void test_packet_options_everywhere(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const struct kind *k = &kinds[i];
        int other;
        int fd = open_kind(k, &other);
        int v = 5;
        socklen_t l = sizeof(v);
        bool prio = k->offers & F_PRIORITY;
        expect_offer(k, "SO_PRIORITY set", zsock_setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, l),
                     prio);
        v = -1;
        expect_offer(k, "SO_PRIORITY get", zsock_getsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, &l),
                     prio);
        if (prio) {
            assert_int_equal(v, 5);
            v = 8;
            expect_errno(zsock_setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, sizeof(v)), EINVAL);
        }
        v = 1;
        expect_offer(k, "SO_TXTIME", zsock_setsockopt(fd, SOL_SOCKET, SO_TXTIME, &v, sizeof(v)),
                     k->offers & F_TXTIME);
        v = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
        expect_offer(k, "SO_TIMESTAMPING",
                     zsock_setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &v, sizeof(v)),
                     k->offers & F_TSTAMP);
        v = -1;
        l = sizeof(v);
        expect_offer(k, "SO_IP_ECHO_REPLY",
                     zsock_getsockopt(fd, IPPROTO_IP, SO_IP_ECHO_REPLY, &v, &l),
                     k->offers & F_STACK);
        if (k->offers & F_STACK) {
            assert_int_equal(v, 1); /* the stack answers pings unless told not to */
        }
        /* A proxy of the socket's family (nothing connects here). */
        struct sockaddr_storage px;
        memset(&px, 0, sizeof(px));
        socklen_t pl = sizeof(struct sockaddr_in);
        px.ss_family = AF_INET;
        if (k->family == AF_INET6) {
            px.ss_family = AF_INET6;
            pl = sizeof(struct sockaddr_in6);
        }
        ((struct sockaddr_in *)&px)->sin_port = htons(1080);
        expect_offer(k, "SO_SOCKS5", zsock_setsockopt(fd, SOL_SOCKET, SO_SOCKS5, &px, pl),
                     k->offers & F_SOCKS);
        zsock_close(fd);
        if (other >= 0) {
            zsock_close(other);
        }
    }
}

int main(void)
{
    assert_int_equal(zsock_net_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_modem_options_everywhere, fd_leak_setup,
                                        fd_leak_teardown),
        cmocka_unit_test_setup_teardown(test_bindtodevice_everywhere, fd_leak_setup,
                                        fd_leak_teardown),
        cmocka_unit_test_setup_teardown(test_packet_options_everywhere, fd_leak_setup,
                                        fd_leak_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
