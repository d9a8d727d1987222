/* SO_SOCKS5: the client side of RFC 1928 (method 0x00, no authentication;
 * CONNECT to an IPv4 or IPv6 address) run over a TCP socket's connection to
 * the proxy. The answers are read from the connection's receive buffer
 * exactly as long as they are, so whatever the proxy relays after its reply
 * stays there for the application. */
#include <errno.h>
#include <string.h>

#include "sockets/socks.h"

#if CONFIG_NET_SOCKETS_SOCKS

#include "net/tcp_pcb.h"
#include "sockets/inet.h"
#include "sockets/iov.h"
#include "wire/wire.h"

#define SOCKS_VER     5
#define METHOD_NONE   0x00
#define METHOD_REFUSE 0xff
#define CMD_CONNECT   1
#define ATYP_IPV4     1
#define ATYP_DOMAIN   3
#define ATYP_IPV6     4

static size_t family_len(int family)
{
#if CONFIG_NET_IPV6
    if (family == AF_INET6) {
        return sizeof(struct sockaddr_in6);
    }
#endif
    (void)family;
    return sizeof(struct sockaddr_in);
}

int z_socks_set(struct z_socks **sp, int family, const void *optval, socklen_t optlen)
{
    if (optlen == 0) {
        if (*sp != NULL) {
            z_free(*sp);
            *sp = NULL;
        }
        return 0;
    }
    struct z_ipep ep;
    if (optlen < family_len(family) || z_sockaddr_to_ep(optval, optlen, family, &ep) < 0) {
        return -EINVAL; /* short, or not the socket's family */
    }
    if (*sp == NULL && (*sp = z_calloc(1, sizeof(**sp))) == NULL) {
        return -ENOMEM;
    }
    memset(*sp, 0, sizeof(**sp));
    (*sp)->proxy = ep;
    return 0;
}

int z_socks_get(const struct z_socks *x, int family, void *optval, socklen_t *optlen)
{
    if (x == NULL) {
        *optlen = 0;
        return 0;
    }
    if (*optlen < family_len(family)) {
        return -EINVAL;
    }
    z_ep_to_sockaddr(&x->proxy, family, optval, optlen);
    return 0;
}

void z_socks_start(struct z_socks *x, const struct z_ipep *dest, int64_t timeo_us)
{
    x->dest = *dest;
    x->state = Z_SOCKS_TCP;
    x->have = 0;
    x->skip = 0;
    x->deadline = 0;
    x->timeo_us = timeo_us > 0 ? timeo_us : (int64_t)CONFIG_NET_SOCKETS_SOCKS_TIMEOUT * 1000;
}

/* RFC 1928 section 6's reply codes as the errno a plain connect would give
 * for the same event; codes it does not define are a protocol error. */
static int reply_errno(uint8_t rep)
{
    static const uint8_t map[] = {
        0,            /* succeeded */
        ECONNREFUSED, /* general SOCKS server failure */
        EACCES,       /* connection not allowed by ruleset */
        ENETUNREACH,  /* network unreachable */
        EHOSTUNREACH, /* host unreachable */
        ECONNREFUSED, /* connection refused */
        ETIMEDOUT,    /* TTL expired */
        EOPNOTSUPP,   /* command not supported */
        EAFNOSUPPORT, /* address type not supported */
    };
    return rep < sizeof(map) ? map[rep] : EPROTO;
}

static int64_t now_of(struct z_tcp_pcb *pcb)
{
    return z_stack_now_us(pcb->stack);
}

/* Reset the connection to the proxy with `err` for the socket to report.
 * What the proxy sent is dropped first, so none of it can reach the
 * application's reads. */
static void fail(struct z_socks *x, struct z_tcp_pcb *pcb, int err)
{
    struct z_tcp_conn *c = &pcb->conn;
    uint8_t scratch[64];
    while (z_tcp_readable(c) > 0) {
        struct iovec v = {scratch, sizeof(scratch)};
        struct z_iov_iter it;
        z_iov_iter_init(&it, &v, 1);
        if (z_tcp_recv(c, &it, sizeof(scratch), false, now_of(pcb)) == 0) {
            break;
        }
    }
    z_tcp_abort(c, now_of(pcb));
    c->error = err;
    x->state = Z_SOCKS_FAILED;
}

static bool send_all(struct z_tcp_pcb *pcb, const uint8_t *p, size_t len)
{
    struct iovec v = {(void *)p, len};
    struct z_iov_iter it;
    z_iov_iter_init(&it, &v, 1);
    return z_tcp_send(&pcb->conn, &it, len, now_of(pcb)) == (ssize_t)len;
}

/* Read up to `want` bytes into x->buf after what it holds. */
static void take(struct z_socks *x, struct z_tcp_pcb *pcb, size_t want)
{
    struct iovec v = {x->buf + x->have, want - x->have};
    struct z_iov_iter it;
    z_iov_iter_init(&it, &v, 1);
    x->have += (uint8_t)z_tcp_recv(&pcb->conn, &it, want - x->have, false, now_of(pcb));
}

static void await_answer(struct z_socks *x, uint8_t state)
{
    x->state = state;
    x->have = 0;
    x->deadline = z_deadline_after_us(x->timeo_us);
}

static int send_greeting(struct z_socks *x, struct z_tcp_pcb *pcb)
{
    static const uint8_t hello[] = {SOCKS_VER, 1, METHOD_NONE};
    if (!send_all(pcb, hello, sizeof(hello))) {
        return ENOMEM;
    }
    await_answer(x, Z_SOCKS_METHOD);
    return 0;
}

static int send_connect(struct z_socks *x, struct z_tcp_pcb *pcb)
{
    uint8_t req[4 + 16 + 2] = {SOCKS_VER, CMD_CONNECT, 0, ATYP_IPV4};
    size_t n = 4;
#if CONFIG_NET_IPV6
    if (x->dest.fam == Z_FAM6) {
        req[3] = ATYP_IPV6;
        memcpy(req + n, x->dest.a6, 16);
        n += 16;
    } else
#endif
    {
        z_put_be32(req + n, x->dest.a4);
        n += 4;
    }
    z_put_be16(req + n, x->dest.port);
    n += 2;
    if (!send_all(pcb, req, n)) {
        return ENOMEM;
    }
    await_answer(x, Z_SOCKS_REPLY);
    return 0;
}

/* The method the proxy chose: ours, or 0xff (it wants authentication). */
static int method_answer(struct z_socks *x, struct z_tcp_pcb *pcb)
{
    if (x->buf[0] != SOCKS_VER) {
        return EPROTO;
    }
    if (x->buf[1] == METHOD_REFUSE) {
        return EACCES;
    }
    if (x->buf[1] != METHOD_NONE) {
        return EPROTO; /* a method we never offered */
    }
    return send_connect(x, pcb);
}

/* VER REP RSV ATYP and the address's first byte of a success (VER and REP
 * are checked as soon as they arrive): the rest of BND.ADDR and BND.PORT
 * is left to skip. RSV is not checked (curl's client does not either). */
static int reply_answer(struct z_socks *x)
{
    switch (x->buf[3]) {
    case ATYP_IPV4:
        x->skip = 4 + 2 - 1;
        break;
    case ATYP_IPV6:
        x->skip = 16 + 2 - 1;
        break;
    case ATYP_DOMAIN:
        x->skip = (uint16_t)(x->buf[4] + 2);
        break;
    default:
        return EPROTO;
    }
    x->state = Z_SOCKS_BOUND;
    return 0;
}

/* One step with the bytes at hand: 0 when it can go no further for now,
 * 1 to be called again, or a positive errno. */
static int step(struct z_socks *x, struct z_tcp_pcb *pcb)
{
    struct z_tcp_conn *c = &pcb->conn;
    if (x->state == Z_SOCKS_TCP) {
        if (c->state == Z_TCP_SYN_SENT) {
            return 0;
        }
        if (c->state != Z_TCP_ESTABLISHED) {
            /* Refused, timed out, or closed at once: TCP's own error. */
            return c->error != 0 ? c->error : (c->rcv_fin ? ECONNRESET : ECONNREFUSED);
        }
        int e = send_greeting(x, pcb);
        return e != 0 ? e : 1;
    }
    if (x->state == Z_SOCKS_BOUND) {
        uint8_t scratch[64];
        struct iovec v = {scratch, x->skip < sizeof(scratch) ? x->skip : sizeof(scratch)};
        struct z_iov_iter it;
        z_iov_iter_init(&it, &v, 1);
        size_t got = z_tcp_recv(c, &it, v.iov_len, false, now_of(pcb));
        x->skip -= (uint16_t)got;
        if (x->skip == 0) {
            x->state = Z_SOCKS_DONE;
            return 0;
        }
        if (got > 0) {
            return 1;
        }
    } else {
        size_t want = x->state == Z_SOCKS_METHOD ? 2 : 5;
        take(x, pcb, want);
        if (x->state == Z_SOCKS_REPLY && x->have >= 2 &&
            (x->buf[0] != SOCKS_VER || x->buf[1] != 0)) {
            /* A failure is known by its code: the rest may never come. */
            return x->buf[0] != SOCKS_VER ? EPROTO : reply_errno(x->buf[1]);
        }
        if (x->have == want) {
            int e = x->state == Z_SOCKS_METHOD ? method_answer(x, pcb) : reply_answer(x);
            return e != 0 ? e : 1;
        }
    }
    if (c->error != 0) {
        return c->error; /* reset by the proxy */
    }
    if (c->rcv_fin || c->state == Z_TCP_CLOSED) {
        return ECONNRESET; /* closed before its answer was complete */
    }
    if (z_now_us() >= x->deadline) {
        return ETIMEDOUT;
    }
    return 0;
}

void z_socks_drive(struct z_socks *x, struct z_tcp_pcb *pcb)
{
    if (!z_socks_pending(x)) {
        return;
    }
    int r;
    while ((r = step(x, pcb)) == 1) {
    }
    if (r != 0) {
        fail(x, pcb, r);
    }
    z_tcp_pcb_timer_update(pcb);
}

#endif /* CONFIG_NET_SOCKETS_SOCKS */
