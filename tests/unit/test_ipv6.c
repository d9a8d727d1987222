/* The IPv6 network layer on a virtual-clock stack whose Ethernet link is
 * this file: every frame the stack sends is captured here and read with this
 * file's own byte-level code (headers, extension headers, checksums), and
 * every frame it receives is built here byte by byte (not with
 * src/wire/ipv6.c), so the stack is checked against an independent reading
 * of RFC 8200, 4443, 4861, 4862 and 3810: duplicate address detection,
 * neighbor solicitation and the neighbor cache's states, router
 * advertisements and SLAAC lifetimes, echo, reassembly, extension header
 * errors, path MTU and fragmentation, MLD reports and queries, loopback and
 * the management API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "net/ip6.h"
#include "net/net.h"
#include "test_bytes.h"

#define S_US 1000000LL
#define TICK 100000LL

static const uint8_t MY_MAC[6] = {0x02, 0, 0, 0, 0, 0x0c};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER2_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t ROUTER_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};

/* fe80::1, fe80::fe, 2001:db8:1::/64, an off-link host 2001:db8:99::1. */
static const uint8_t PEER_LL[16] = {0xfe, 0x80, [15] = 1};
static const uint8_t ROUTER_LL[16] = {0xfe, 0x80, [15] = 0xfe};
static const uint8_t PREFIX[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
static const uint8_t FAR[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x99, [15] = 1};
static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 1};
static const uint8_t MANUAL[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x42};

/* ---- checksums, computed here (byte helpers: test_bytes.h) ---------------------------------- */

/* RFC 8200 8.1: source, destination, upper-layer length, zeros, next header. */
static uint16_t csum6(const uint8_t *src, const uint8_t *dst, uint8_t nh, const uint8_t *m,
                      size_t n)
{
    uint8_t ph[40] = {0};
    memcpy(ph, src, 16);
    memcpy(ph + 16, dst, 16);
    be32(ph + 32, (uint32_t)n);
    ph[39] = nh;
    return fold(sum16(sum16(0, ph, 40), m, n));
}

/* Modified EUI-64 (RFC 4291 appendix A). */
static void iid_of(const uint8_t mac[6], uint8_t out[8])
{
    out[0] = mac[0] ^ 0x02;
    out[1] = mac[1];
    out[2] = mac[2];
    out[3] = 0xff;
    out[4] = 0xfe;
    out[5] = mac[3];
    out[6] = mac[4];
    out[7] = mac[5];
}

static void my_ll(uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = 0xfe;
    out[1] = 0x80;
    iid_of(MY_MAC, out + 8);
}

static void my_slaac(uint8_t out[16])
{
    memcpy(out, PREFIX, 8);
    iid_of(MY_MAC, out + 8);
}

static void sol_node(const uint8_t a[16], uint8_t out[16])
{
    static const uint8_t base[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
    memcpy(out, base, 13);
    memcpy(out + 13, a + 13, 3);
}

static void mcast_mac(const uint8_t a[16], uint8_t mac[6])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, a + 12, 4);
}

/* ---- the link ---------------------------------------------------------------------------- */

struct frame {
    int64_t t;
    size_t len;
    uint8_t b[1600];
};

#define QMAX 256

static struct {
    struct z_stack *s;
    struct z_netif *nif;
    struct frame q[QMAX];
    int n;
} L;

static int link_output(struct z_netif *nif, struct z_pbuf *p)
{
    (void)nif;
    assert_true(p->len <= sizeof(L.q[0].b));
    if (L.n < QMAX) {
        struct frame *f = &L.q[L.n++];
        f->t = z_stack_now_us(L.s);
        f->len = p->len;
        memcpy(f->b, p->data, p->len);
    }
    z_pbuf_free(p);
    return 0;
}

static const struct z_netif_driver link_driver = {.kind = "test", .output = link_output};

static void link_create(bool up)
{
    memset(&L, 0, sizeof(L));
    struct z_stack_config cfg = {.name = "ipv6", .virtual_clock = true, .loopback = true};
    L.s = z_stack_create(&cfg);
    assert_non_null(L.s);
    z_stack_lock(L.s);
    L.nif = z_netif_add_locked(L.s, "eth", ZSOCK_IF_ETHERNET | ZSOCK_IF_BROADCAST, 1500, MY_MAC,
                               &link_driver, NULL);
    assert_non_null(L.nif);
    if (up) {
        z_netif_set_up_locked(L.nif, true);
    }
    z_stack_unlock(L.s);
}

static void link_destroy(void)
{
    z_stack_destroy(L.s);
    L.s = NULL;
}

static void run(int64_t us)
{
    for (int64_t t = 0; t < us; t += TICK) {
        z_stack_advance(L.s, TICK);
    }
}

/* Hand a frame to the stack as its driver would; false without a buffer. */
static bool try_inject(const uint8_t *frame, size_t len)
{
    struct z_pbuf *p = z_pbuf_alloc(&L.s->pool, 0, len);
    if (p == NULL) {
        return false;
    }
    memcpy(z_pbuf_put(p, len), frame, len);
    z_netif_input(L.nif, p);
    return true;
}

static void inject(const uint8_t *frame, size_t len)
{
    assert_true(try_inject(frame, len));
}

/* An Ethernet + IPv6 frame around payload pl (which starts with next header nh). */
static size_t ip6_frame(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, const uint8_t *src,
                        const uint8_t *dst, uint8_t nh, uint8_t hop, const uint8_t *pl, size_t plen)
{
    memcpy(f, edst, 6);
    memcpy(f + 6, esrc, 6);
    be16(f + 12, 0x86dd);
    uint8_t *ip = f + 14;
    be32(ip, 0x60000000u);
    be16(ip + 4, (uint32_t)plen);
    ip[6] = nh;
    ip[7] = hop;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, dst, 16);
    memcpy(ip + 40, pl, plen);
    return 14 + 40 + plen;
}

/* An ICMPv6 message: type, code, the 4 bytes after the checksum, body. */
static size_t icmp6_msg(uint8_t *m, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *body,
                        size_t blen, const uint8_t *src, const uint8_t *dst)
{
    m[0] = type;
    m[1] = code;
    be16(m + 2, 0);
    be32(m + 4, rest);
    memcpy(m + 8, body, blen);
    be16(m + 2, csum6(src, dst, 58, m, 8 + blen));
    return 8 + blen;
}

static void inject_icmp6(const uint8_t *edst, const uint8_t *esrc, const uint8_t *src,
                         const uint8_t *dst, uint8_t hop, uint8_t type, uint8_t code, uint32_t rest,
                         const uint8_t *body, size_t blen)
{
    static uint8_t m[4000], f[4100];
    size_t n = icmp6_msg(m, type, code, rest, body, blen, src, dst);
    inject(f, ip6_frame(f, edst, esrc, src, dst, 58, hop, m, n));
}

/* Unicast to our MAC. */
static void inject_icmp6_to_me(const uint8_t *esrc, const uint8_t *src, const uint8_t *dst,
                               uint8_t hop, uint8_t type, uint32_t rest, const uint8_t *body,
                               size_t blen)
{
    inject_icmp6(MY_MAC, esrc, src, dst, hop, type, 0, rest, body, blen);
}

/* ---- reading what the stack sent --------------------------------------------------------- */

struct pkt {
    int64_t t;
    uint8_t eth_dst[6], eth_src[6];
    uint8_t src[16], dst[16];
    uint8_t hop;
    bool router_alert; /* hop-by-hop header with a Router Alert option of value 0 */
    bool frag;
    uint16_t frag_off;
    bool frag_more;
    uint32_t frag_id;
    uint8_t proto; /* after hop-by-hop and fragment headers */
    size_t l4off;  /* from the IPv6 header */
    size_t len;    /* IPv6 packet length */
    uint8_t ip[1600];
    uint8_t *l4;
    size_t l4len;
};

/* Decode frame f; fails the test on anything malformed. ICMPv6 checksums
 * are verified here (not for non-first fragments). */
static void decode(const struct frame *f, struct pkt *o)
{
    memset(o, 0, sizeof(*o));
    assert_true(f->len >= 54);
    assert_memory_equal(f->b + 6, MY_MAC, 6);
    assert_int_equal(rd16(f->b + 12), 0x86dd);
    o->t = f->t;
    memcpy(o->eth_dst, f->b, 6);
    memcpy(o->eth_src, f->b + 6, 6);
    const uint8_t *ip = f->b + 14;
    assert_int_equal(ip[0] >> 4, 6);
    o->len = 40 + rd16(ip + 4);
    assert_true(14 + o->len <= f->len);
    memcpy(o->ip, ip, o->len);
    memcpy(o->src, ip + 8, 16);
    memcpy(o->dst, ip + 24, 16);
    o->hop = ip[7];
    uint8_t nh = ip[6];
    size_t off = 40;
    if (nh == 0) {
        const uint8_t *h = o->ip + off;
        size_t hl = 8 + 8 * (size_t)h[1];
        assert_true(off + hl <= o->len);
        for (size_t i = 2; i < hl;) {
            if (h[i] == 0) {
                i++;
                continue;
            }
            if (h[i] == 5 && h[i + 1] == 2 && rd16(h + i + 2) == 0) {
                o->router_alert = true;
            }
            i += 2 + h[i + 1];
        }
        nh = h[0];
        off += hl;
    }
    if (nh == 44) {
        const uint8_t *h = o->ip + off;
        o->frag = true;
        o->frag_off = (uint16_t)(rd16(h + 2) & 0xfff8);
        o->frag_more = (h[3] & 1) != 0;
        o->frag_id = rd32(h + 4);
        nh = h[0];
        off += 8;
    }
    o->proto = nh;
    o->l4off = off;
    o->l4 = o->ip + off;
    o->l4len = o->len - off;
    if (nh == 58 && (!o->frag || (o->frag_off == 0 && !o->frag_more))) {
        assert_true(o->l4len >= 8);
        assert_int_equal(csum6(o->src, o->dst, 58, o->l4, o->l4len), 0);
    }
}

/* Take the first captured frame that is IPv6 and satisfies `want`
 * (proto/type, or any when type < 0); earlier non-matching frames stay. */
static bool take(struct pkt *o, int proto, int type)
{
    for (int i = 0; i < L.n; i++) {
        if (rd16(L.q[i].b + 12) != 0x86dd) {
            continue;
        }
        struct pkt p;
        decode(&L.q[i], &p);
        if ((proto < 0 || p.proto == proto) &&
            (type < 0 || ((!p.frag || p.frag_off == 0) && p.l4len > 0 && p.l4[0] == type))) {
            if (o != NULL) {
                *o = p;
            }
            memmove(&L.q[i], &L.q[i + 1], (size_t)(L.n - i - 1) * sizeof(L.q[0]));
            L.n--;
            return true;
        }
    }
    return false;
}

static bool take_icmp(struct pkt *o, int type)
{
    return take(o, 58, type);
}

static int count_icmp(int type)
{
    int n = 0;
    for (int i = 0; i < L.n; i++) {
        if (rd16(L.q[i].b + 12) != 0x86dd) {
            continue;
        }
        struct pkt p;
        decode(&L.q[i], &p);
        if (p.proto == 58 && (!p.frag || p.frag_off == 0) && p.l4[0] == type) {
            n++;
        }
    }
    return n;
}

static void clear_frames(void)
{
    L.n = 0;
}

/* ---- the stack's state, read under its lock ---------------------------------------------- */

static struct zsock_if_info info(void)
{
    struct zsock_if_info i;
    memset(&i, 0, sizeof(i));
    z_stack_lock(L.s);
    z_ipv6_if_info_locked(L.nif, &i);
    z_stack_unlock(L.s);
    return i;
}

/* State of address a (0: absent); origin in *origin if not NULL. */
static int addr_state(const uint8_t a[16], int *origin)
{
    struct zsock_if_info i = info();
    for (int k = 0; k < i.n_ipv6; k++) {
        if (memcmp(&i.ipv6[k], a, 16) == 0) {
            if (origin != NULL) {
                *origin = i.ipv6_origin[k];
            }
            return i.ipv6_state[k];
        }
    }
    return 0;
}

static int nc_state(const uint8_t ip[16], uint8_t mac[6])
{
    z_stack_lock(L.s);
    struct z_nd_entry *e = z_nd_find(L.nif, ip);
    int st = e != NULL ? e->state : Z_ND_FREE;
    if (e != NULL && mac != NULL) {
        memcpy(mac, e->mac, 6);
    }
    z_stack_unlock(L.s);
    return st;
}

static struct zsock_net_stats stats(void)
{
    z_stack_lock(L.s);
    struct zsock_net_stats st = L.s->stats;
    z_stack_unlock(L.s);
    return st;
}

static int add_manual(const uint8_t a[16], int plen)
{
    z_stack_lock(L.s);
    int rc = z_ipv6_add_addr_locked(L.nif, a, plen, ZSOCK_IPV6_ORIGIN_MANUAL, Z_ND_INFINITE,
                                    Z_ND_INFINITE);
    z_stack_unlock(L.s);
    return rc;
}

/* ---- ND messages built here ---------------------------------------------------------------- */

static size_t lla_opt(uint8_t *o, uint8_t type, const uint8_t mac[6])
{
    o[0] = type;
    o[1] = 1;
    memcpy(o + 2, mac, 6);
    return 8;
}

/* An NS (type 135, option 1: source link-layer address) or NA (type 136,
 * option 2: target link-layer address) for target, the option left out
 * when lla is NULL; to the multicast MAC of a multicast dst, else to ours. */
static void inject_nd(uint8_t type, const uint8_t *esrc, const uint8_t *src, const uint8_t *dst,
                      uint32_t flags, const uint8_t *target, const uint8_t *lla)
{
    uint8_t body[32];
    memcpy(body, target, 16);
    size_t n = 16;
    if (lla != NULL) {
        n += lla_opt(body + n, type == 135 ? 1 : 2, lla);
    }
    uint8_t edst[6];
    if (dst[0] == 0xff) {
        mcast_mac(dst, edst);
    } else {
        memcpy(edst, MY_MAC, 6);
    }
    inject_icmp6(edst, esrc, src, dst, 255, type, 0, flags, body, n);
}

static void inject_ns(const uint8_t *esrc, const uint8_t *src, const uint8_t *dst,
                      const uint8_t *target, const uint8_t *slla)
{
    inject_nd(135, esrc, src, dst, 0, target, slla);
}

#define NA_R 0x80000000u
#define NA_S 0x40000000u
#define NA_O 0x20000000u

static void inject_na(const uint8_t *esrc, const uint8_t *src, const uint8_t *dst, uint32_t flags,
                      const uint8_t *target, const uint8_t *tlla)
{
    inject_nd(136, esrc, src, dst, flags, target, tlla);
}

struct ra_opts {
    uint8_t cur_hop;
    uint16_t lifetime;
    uint32_t reachable_ms, retrans_ms;
    uint32_t mtu; /* 0: no option */
    bool prefix;  /* a PIO for PREFIX/64 */
    uint8_t pflags;
    uint32_t valid, preferred;
};

static void inject_ra(const struct ra_opts *r)
{
    uint8_t body[128];
    size_t n = 0;
    be32(body, r->reachable_ms);
    be32(body + 4, r->retrans_ms);
    n = 8;
    n += lla_opt(body + n, 1, ROUTER_MAC);
    if (r->mtu != 0) {
        body[n] = 5;
        body[n + 1] = 1;
        be16(body + n + 2, 0);
        be32(body + n + 4, r->mtu);
        n += 8;
    }
    if (r->prefix) {
        uint8_t *o = body + n;
        memset(o, 0, 32);
        o[0] = 3;
        o[1] = 4;
        o[2] = 64;
        o[3] = r->pflags;
        be32(o + 4, r->valid);
        be32(o + 8, r->preferred);
        memcpy(o + 16, PREFIX, 16);
        n += 32;
    }
    uint32_t rest = (uint32_t)r->cur_hop << 24 | (uint32_t)r->lifetime;
    uint8_t edst[6];
    mcast_mac(ALL_NODES, edst);
    inject_icmp6(edst, ROUTER_MAC, ROUTER_LL, ALL_NODES, 255, 134, 0, rest, body, n);
}

/* Up, DAD of the link-local address passed, frames cleared. */
static void link_ready(void)
{
    link_create(true);
    run(S_US + 2 * TICK);
    uint8_t ll[16];
    my_ll(ll);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_PREFERRED);
    clear_frames();
}

/* Echo request from (esrc, src) to dst with a payload of n bytes. */
static void inject_echo(const uint8_t *esrc, const uint8_t *src, const uint8_t *dst, uint16_t id,
                        uint16_t seq, size_t n)
{
    static uint8_t body[4000];
    for (size_t i = 0; i < n; i++) {
        body[i] = (uint8_t)(i * 7 + seq);
    }
    inject_icmp6_to_me(esrc, src, dst, 64, 128, (uint32_t)id << 16 | seq, body, n);
}

static void check_echo_reply(const struct pkt *p, uint16_t id, uint16_t seq, size_t n)
{
    assert_int_equal(p->l4[0], 129);
    assert_int_equal(p->l4[1], 0);
    assert_int_equal(rd32(p->l4 + 4), (uint32_t)id << 16 | seq);
    assert_int_equal(p->l4len, 8 + n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p->l4[8 + i], (uint8_t)(i * 7 + seq));
    }
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_link_local_dad(void **state)
{
    (void)state;
    link_create(true);
    uint8_t ll[16], sn[16], mac[6];
    my_ll(ll);
    sol_node(ll, sn);
    int origin = 0;
    assert_int_equal(addr_state(ll, &origin), ZSOCK_IPV6_TENTATIVE);
    assert_int_equal(origin, ZSOCK_IPV6_ORIGIN_LINK_LOCAL);

    /* The DAD probe: from ::, to the solicited-node group, target ll, no option. */
    struct pkt p;
    assert_true(take_icmp(&p, 135));
    mcast_mac(sn, mac);
    assert_memory_equal(p.eth_dst, mac, 6);
    assert_true(z_ipv6_is_unspecified(p.src));
    assert_memory_equal(p.dst, sn, 16);
    assert_int_equal(p.hop, 255);
    assert_int_equal(p.l4len, 24);
    assert_memory_equal(p.l4 + 8, ll, 16);
    assert_false(take_icmp(NULL, 135)); /* one probe */

    /* Tentative: an echo request to it is not answered. */
    inject_echo(PEER_MAC, PEER_LL, ll, 1, 1, 8);
    assert_int_equal(count_icmp(129), 0);

    run(S_US - 2 * TICK);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_TENTATIVE);
    run(3 * TICK);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_PREFERRED);
    assert_int_equal(stats().icmp6.dad_ok, 1);

    /* The router solicitation follows, from the link-local address with our MAC. */
    assert_true(take_icmp(&p, 133));
    assert_memory_equal(p.src, ll, 16);
    static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};
    assert_memory_equal(p.dst, all_routers, 16);
    assert_int_equal(p.hop, 255);
    assert_int_equal(p.l4len, 16);
    assert_int_equal(p.l4[8], 1);
    assert_int_equal(p.l4[9], 1);
    assert_memory_equal(p.l4 + 10, MY_MAC, 6);
    /* Two more, four seconds apart, then none. */
    run(4 * S_US);
    assert_true(take_icmp(NULL, 133));
    run(4 * S_US);
    assert_true(take_icmp(NULL, 133));
    run(8 * S_US);
    assert_false(take_icmp(NULL, 133));
    assert_int_equal(stats().icmp6.rs_tx, 3);
    link_destroy();
}

static void test_dad_duplicate(void **state)
{
    (void)state;
    link_create(true);
    uint8_t ll[16];
    my_ll(ll);
    /* Our own probe coming back (same MAC) is not a conflict. */
    uint8_t sn[16];
    sol_node(ll, sn);
    static const uint8_t any[16] = {0};
    inject_ns(MY_MAC, any, sn, ll, NULL);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_TENTATIVE);
    /* Another node defends it. */
    inject_na(PEER_MAC, PEER_LL, ALL_NODES, NA_O, ll, PEER_MAC);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_DUPLICATE);
    run(2 * S_US);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_DUPLICATE);
    assert_int_equal(stats().icmp6.dad_fail, 1);
    assert_int_equal(stats().icmp6.dad_ok, 0);
    clear_frames();
    inject_echo(PEER_MAC, PEER_LL, ll, 1, 1, 8);
    assert_int_equal(count_icmp(129), 0);
    /* And it is not defended either. */
    inject_ns(PEER_MAC, PEER_LL, sn, ll, PEER_MAC);
    assert_int_equal(count_icmp(136), 0);

    /* RFC 4862 5.4.5: the MAC-derived identifier is another node's, so IPv6
     * stops on the interface: nothing goes out, nothing comes in. */
    assert_true(info().flags & ZSOCK_IF_IPV6_DISABLED);
    clear_frames();
    assert_int_equal(add_manual(MANUAL, 64), 0);
    run(2 * S_US);
    assert_int_equal(L.n, 0);
    uint64_t dropped = stats().ipv6.drop_disabled;
    assert_true(dropped > 0); /* the manual address's probe */
    inject_echo(PEER_MAC, PEER_LL, MANUAL, 1, 2, 8);
    assert_int_equal(stats().ipv6.drop_disabled, dropped + 1);
    assert_int_equal(L.n, 0);

    /* Down and up: tried again; nobody defends it this time. */
    z_stack_lock(L.s);
    z_netif_set_up_locked(L.nif, false);
    z_netif_set_up_locked(L.nif, true);
    z_stack_unlock(L.s);
    assert_false(info().flags & ZSOCK_IF_IPV6_DISABLED);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_TENTATIVE);
    run(S_US + 2 * TICK);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_PREFERRED);
    assert_int_equal(addr_state(MANUAL, NULL), ZSOCK_IPV6_PREFERRED);
    link_destroy();
}

static void test_dad_duplicate_manual(void **state)
{
    (void)state;
    link_ready();
    static const uint8_t any[16] = {0};
    uint8_t sn[16];
    /* A manual address whose probe meets another node's probe (NS from ::):
     * that address only is lost. */
    assert_int_equal(add_manual(MANUAL, 64), 0);
    assert_int_equal(addr_state(MANUAL, NULL), ZSOCK_IPV6_TENTATIVE);
    sol_node(MANUAL, sn);
    inject_ns(PEER_MAC, any, sn, MANUAL, NULL);
    assert_int_equal(addr_state(MANUAL, NULL), ZSOCK_IPV6_DUPLICATE);
    assert_false(info().flags & ZSOCK_IF_IPV6_DISABLED);
    /* A unicast-sourced NS for a tentative address is only ignored. */
    static const uint8_t M2[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x43};
    assert_int_equal(add_manual(M2, 64), 0);
    sol_node(M2, sn);
    inject_ns(PEER_MAC, PEER_LL, sn, M2, PEER_MAC);
    run(S_US + 2 * TICK);
    assert_int_equal(addr_state(M2, NULL), ZSOCK_IPV6_PREFERRED);
    assert_int_equal(stats().icmp6.dad_fail, 1);
    link_destroy();
}

/* A new MAC: the link-local address made from the old one is replaced. */
static void test_mac_change(void **state)
{
    (void)state;
    link_ready();
    uint8_t old_ll[16];
    my_ll(old_ll);
    static const uint8_t NEW_MAC[6] = {0x02, 0, 0, 0, 0, 0x0d};
    z_stack_lock(L.s);
    memcpy(L.nif->mac, NEW_MAC, 6);
    z_ipv6_mac_changed_locked(L.nif);
    z_stack_unlock(L.s);
    assert_int_equal(addr_state(old_ll, NULL), 0);
    uint8_t new_ll[16] = {0xfe, 0x80};
    iid_of(NEW_MAC, new_ll + 8);
    assert_int_equal(addr_state(new_ll, NULL), ZSOCK_IPV6_TENTATIVE);
    /* Its DAD probe, from the new MAC (decode() expects the usual one). */
    bool probed = false;
    for (int i = 0; i < L.n; i++) {
        const uint8_t *f = L.q[i].b;
        probed |= memcmp(f + 6, NEW_MAC, 6) == 0 && f[14 + 6] == 58 && f[14 + 40] == 135 &&
                  memcmp(f + 14 + 48, new_ll, 16) == 0;
    }
    assert_true(probed);
    run(S_US + 2 * TICK);
    assert_int_equal(addr_state(new_ll, NULL), ZSOCK_IPV6_PREFERRED);
    z_stack_lock(L.s);
    memcpy(L.nif->mac, MY_MAC, 6);
    z_stack_unlock(L.s);
    link_destroy();
}

static void test_ns_answered(void **state)
{
    (void)state;
    link_ready();
    uint8_t ll[16], sn[16];
    my_ll(ll);
    sol_node(ll, sn);
    inject_ns(PEER_MAC, PEER_LL, sn, ll, PEER_MAC);
    struct pkt p;
    assert_true(take_icmp(&p, 136));
    /* Unicast to the soliciting node, at the MAC its SLLA gave. */
    assert_memory_equal(p.eth_dst, PEER_MAC, 6);
    assert_memory_equal(p.src, ll, 16);
    assert_memory_equal(p.dst, PEER_LL, 16);
    assert_int_equal(p.hop, 255);
    assert_int_equal(p.l4len, 32);
    assert_int_equal(p.l4[4] & 0xe0, 0x60); /* R 0, S 1, O 1 */
    assert_memory_equal(p.l4 + 8, ll, 16);
    assert_int_equal(p.l4[24], 2); /* TLLA */
    assert_int_equal(p.l4[25], 1);
    assert_memory_equal(p.l4 + 26, MY_MAC, 6);
    /* The solicitation created a STALE entry, which the answer moved to DELAY. */
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_DELAY);

    /* A DAD probe for our address: defended to all nodes, S clear. */
    static const uint8_t any[16] = {0};
    inject_ns(PEER2_MAC, any, sn, ll, NULL);
    assert_true(take_icmp(&p, 136));
    uint8_t mac[6];
    mcast_mac(ALL_NODES, mac);
    assert_memory_equal(p.eth_dst, mac, 6);
    assert_memory_equal(p.dst, ALL_NODES, 16);
    assert_int_equal(p.l4[4] & 0xe0, 0x20);

    /* Not ours, a bad hop limit, a bad checksum: no answer. */
    static const uint8_t other[16] = {0xfe, 0x80, [15] = 0x77};
    inject_ns(PEER_MAC, PEER_LL, sn, other, PEER_MAC);
    uint8_t body[24];
    memcpy(body, ll, 16);
    lla_opt(body + 16, 1, PEER_MAC);
    uint8_t edst[6];
    mcast_mac(sn, edst);
    uint64_t bad = stats().icmp6.drop_malformed;
    inject_icmp6(edst, PEER_MAC, PEER_LL, sn, 64, 135, 0, 0, body, 24);
    uint8_t m[64], f[128];
    size_t n = icmp6_msg(m, 135, 0, 0, body, 24, PEER_LL, sn);
    m[2] ^= 1;
    inject(f, ip6_frame(f, edst, PEER_MAC, PEER_LL, sn, 58, 255, m, n));
    assert_int_equal(stats().icmp6.drop_malformed, bad + 2);
    assert_int_equal(count_icmp(136), 0);
    link_destroy();
}

static void test_neighbor_cache(void **state)
{
    (void)state;
    link_ready();
    uint8_t ll[16], psn[16], mac[6];
    my_ll(ll);
    sol_node(PEER_LL, psn);

    /* An echo from an unknown neighbor: its reply waits for resolution. */
    inject_echo(PEER_MAC, PEER_LL, ll, 7, 1, 16);
    inject_echo(PEER_MAC, PEER_LL, ll, 7, 2, 16);
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_INCOMPLETE);
    assert_int_equal(count_icmp(129), 0);
    struct pkt p;
    assert_true(take_icmp(&p, 135));
    mcast_mac(psn, mac);
    assert_memory_equal(p.eth_dst, mac, 6);
    assert_memory_equal(p.src, ll, 16);
    assert_memory_equal(p.dst, psn, 16);
    assert_memory_equal(p.l4 + 8, PEER_LL, 16);
    assert_int_equal(p.l4[24], 1); /* SLLA */
    assert_memory_equal(p.l4 + 26, MY_MAC, 6);
    assert_false(take_icmp(NULL, 135)); /* one solicitation for both packets */

    /* Solicited answer: REACHABLE, both replies flushed to its MAC. */
    inject_na(PEER_MAC, PEER_LL, ll, NA_S, PEER_LL, PEER_MAC);
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_REACHABLE);
    assert_true(take_icmp(&p, 129));
    assert_memory_equal(p.eth_dst, PEER_MAC, 6);
    check_echo_reply(&p, 7, 1, 16);
    assert_true(take_icmp(&p, 129));
    check_echo_reply(&p, 7, 2, 16);

    /* Without O, a different address only makes the entry STALE. */
    inject_na(PEER2_MAC, PEER_LL, ll, 0, PEER_LL, PEER2_MAC);
    assert_int_equal(nc_state(PEER_LL, mac), Z_ND_STALE);
    assert_memory_equal(mac, PEER_MAC, 6);
    /* An unsolicited override: the new address, STALE. */
    inject_na(PEER2_MAC, PEER_LL, ALL_NODES, NA_O, PEER_LL, PEER2_MAC);
    assert_int_equal(nc_state(PEER_LL, mac), Z_ND_STALE);
    assert_memory_equal(mac, PEER2_MAC, 6);

    /* Using a STALE entry: DELAY, sent at once to the cached address. */
    clear_frames();
    inject_echo(PEER2_MAC, PEER_LL, ll, 7, 3, 4);
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_DELAY);
    assert_true(take_icmp(&p, 129));
    assert_memory_equal(p.eth_dst, PEER2_MAC, 6);
    /* Five seconds without confirmation: PROBE, unicast solicitations. */
    run(5 * S_US + TICK);
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_PROBE);
    assert_true(take_icmp(&p, 135));
    assert_memory_equal(p.eth_dst, PEER2_MAC, 6);
    assert_memory_equal(p.dst, PEER_LL, 16);
    run(S_US);
    assert_true(take_icmp(&p, 135));
    assert_memory_equal(p.dst, PEER_LL, 16);
    run(S_US);
    assert_true(take_icmp(&p, 135));
    assert_memory_equal(p.dst, PEER_LL, 16);
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_PROBE);
    run(S_US);
    assert_false(take_icmp(NULL, 135)); /* three probes, then the entry is gone */
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_FREE);

    /* A solicited answer while probing makes it REACHABLE again; reachable
     * time (at most 1.5 x 30 s) later it is STALE. */
    inject_echo(PEER_MAC, PEER_LL, ll, 7, 4, 4);
    inject_na(PEER_MAC, PEER_LL, ll, NA_S | NA_O, PEER_LL, PEER_MAC);
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_REACHABLE);
    run(46 * S_US);
    assert_int_equal(nc_state(PEER_LL, NULL), Z_ND_STALE);

    /* Nobody answers: three multicast solicitations a second apart, then the
     * queued packets are dropped and counted. */
    clear_frames();
    static const uint8_t GHOST[16] = {0xfe, 0x80, [15] = 0x66};
    inject_echo(PEER_MAC, GHOST, ll, 8, 1, 4);
    inject_echo(PEER_MAC, GHOST, ll, 8, 2, 4);
    inject_echo(PEER_MAC, GHOST, ll, 8, 3, 4);
    uint64_t unresolved = stats().icmp6.nd_unresolved;
    run(3 * S_US + TICK);
    assert_int_equal(count_icmp(135), 3);
    assert_int_equal(nc_state(GHOST, NULL), Z_ND_FREE);
    int queued = CONFIG_NET_ARP_QUEUE < 3 ? CONFIG_NET_ARP_QUEUE : 3;
    assert_int_equal(stats().icmp6.nd_unresolved, unresolved + (uint64_t)queued);
    assert_int_equal(count_icmp(129), 0);

    /* An advertisement nobody asked for creates nothing. */
    static const uint8_t STRANGER[16] = {0xfe, 0x80, [15] = 0x55};
    inject_na(PEER_MAC, STRANGER, ALL_NODES, NA_O, STRANGER, PEER_MAC);
    assert_int_equal(nc_state(STRANGER, NULL), Z_ND_FREE);
    link_destroy();
}

static int64_t slaac_valid_left(void)
{
    uint8_t a[16];
    my_slaac(a);
    z_stack_lock(L.s);
    struct z_ip6_addr *x = z_ip6_find_addr(L.nif, a);
    int64_t left = x == NULL ? -1 : x->valid_until - z_stack_now_us(L.s);
    z_stack_unlock(L.s);
    return left;
}

static void test_ra_slaac(void **state)
{
    (void)state;
    link_ready();
    uint8_t ll[16], ga[16];
    my_ll(ll);
    my_slaac(ga);
    struct ra_opts ra = {.cur_hop = 77,
                         .lifetime = 1800,
                         .mtu = 1400,
                         .prefix = true,
                         .pflags = 0xc0,
                         .valid = 30,
                         .preferred = 10};
    inject_ra(&ra);
    assert_int_equal(stats().icmp6.ra_rx, 1);
    int origin = 0;
    assert_int_equal(addr_state(ga, &origin), ZSOCK_IPV6_TENTATIVE);
    assert_int_equal(origin, ZSOCK_IPV6_ORIGIN_SLAAC);
    struct pkt p;
    assert_true(take_icmp(&p, 135)); /* its DAD probe */
    assert_true(z_ipv6_is_unspecified(p.src));
    assert_memory_equal(p.l4 + 8, ga, 16);
    struct zsock_if_info i = info();
    assert_memory_equal(&i.ipv6_router, ROUTER_LL, 16);
    assert_int_equal(nc_state(ROUTER_LL, NULL), Z_ND_STALE);
    run(S_US + TICK);
    assert_int_equal(addr_state(ga, NULL), ZSOCK_IPV6_PREFERRED);
    /* No more router solicitations once a router spoke. */
    clear_frames();
    run(10 * S_US);
    assert_int_equal(count_icmp(133), 0);

    /* An off-link host's echo to the SLAAC address: answered through the
     * router, from that address, with the RA's hop limit. */
    inject_echo(ROUTER_MAC, FAR, ga, 9, 1, 32);
    assert_true(take_icmp(&p, 129));
    assert_memory_equal(p.eth_dst, ROUTER_MAC, 6);
    assert_memory_equal(p.src, ga, 16);
    assert_memory_equal(p.dst, FAR, 16);
    assert_int_equal(p.hop, 77);
    check_echo_reply(&p, 9, 1, 32);
    /* The RA's MTU (1400) applies: a 1400-byte echo comes back in fragments. */
    inject_echo(ROUTER_MAC, FAR, ga, 9, 2, 1400);
    assert_true(take(&p, 58, -1));
    assert_true(p.frag);
    assert_true(p.len <= 1400);
    clear_frames();

    /* Preferred lifetime (10 s) over: DEPRECATED; valid (30 s): gone. */
    run(10 * S_US);
    assert_int_equal(addr_state(ga, NULL), ZSOCK_IPV6_DEPRECATED);
    run(10 * S_US);
    assert_int_equal(addr_state(ga, NULL), 0);

    /* The two-hour rule (RFC 4862 5.5.3 e). */
    ra.valid = 3000;
    ra.preferred = 3000;
    inject_ra(&ra); /* formed again: DAD first */
    assert_int_equal(addr_state(ga, NULL), ZSOCK_IPV6_TENTATIVE);
    run(S_US + 2 * TICK);
    assert_int_equal(addr_state(ga, NULL), ZSOCK_IPV6_PREFERRED);
    int64_t left = slaac_valid_left();
    assert_true(left > 2990 * S_US && left < 3000 * S_US);
    ra.valid = 60; /* remaining <= 2 h: ignored */
    inject_ra(&ra);
    assert_int_equal(slaac_valid_left(), left);
    ra.valid = 10000; /* longer: taken */
    ra.preferred = 100;
    inject_ra(&ra);
    assert_int_equal(slaac_valid_left(), 10000 * S_US);
    ra.valid = 60; /* remaining > 2 h: cut to 2 h, not to 60 s */
    ra.preferred = 60;
    inject_ra(&ra);
    assert_int_equal(slaac_valid_left(), 7200 * S_US);
    ra.valid = 8000; /* more than 2 h: taken as is */
    ra.preferred = 60;
    inject_ra(&ra);
    assert_int_equal(slaac_valid_left(), 8000 * S_US);

    /* Router lifetime 0: no longer a default router; off-link is unreachable. */
    ra.lifetime = 0;
    inject_ra(&ra);
    i = info();
    assert_true(z_ipv6_is_unspecified(i.ipv6_router.s6_addr));
    uint64_t no_route = stats().ipv6.no_route;
    clear_frames();
    inject_echo(ROUTER_MAC, FAR, ga, 9, 3, 8);
    assert_int_equal(count_icmp(129), 0);
    assert_int_equal(stats().ipv6.no_route, no_route + 1);

    /* An RA from a global source or with a bad hop limit is not taken. */
    uint64_t rx = stats().icmp6.ra_rx;
    uint8_t body[8] = {0};
    uint8_t edst[6];
    mcast_mac(ALL_NODES, edst);
    inject_icmp6(edst, ROUTER_MAC, FAR, ALL_NODES, 255, 134, 0, 64u << 24 | 1800, body, 8);
    inject_icmp6(edst, ROUTER_MAC, ROUTER_LL, ALL_NODES, 254, 134, 0, 64u << 24 | 1800, body, 8);
    assert_int_equal(stats().icmp6.ra_rx, rx);
    i = info();
    assert_true(z_ipv6_is_unspecified(i.ipv6_router.s6_addr));
    link_destroy();
}

static void test_echo(void **state)
{
    (void)state;
    link_ready();
    uint8_t ll[16];
    my_ll(ll);
    /* Resolve the peer first so replies go out at once. */
    inject_na(PEER_MAC, PEER_LL, ALL_NODES, NA_O, PEER_LL, PEER_MAC);
    inject_echo(PEER_MAC, PEER_LL, ll, 0x1234, 1, 0);
    struct pkt p;
    if (!take_icmp(&p, 129)) {
        /* The unsolicited NA created nothing: resolve through the NS. */
        inject_na(PEER_MAC, PEER_LL, ll, NA_S, PEER_LL, PEER_MAC);
        assert_true(take_icmp(&p, 129));
    }
    check_echo_reply(&p, 0x1234, 1, 0);
    assert_memory_equal(p.src, ll, 16);
    assert_int_equal(p.hop, 64);
    inject_echo(PEER_MAC, PEER_LL, ll, 0x1234, 2, 1000);
    assert_true(take_icmp(&p, 129));
    check_echo_reply(&p, 0x1234, 2, 1000);
    /* To all nodes: answered from our unicast address. */
    uint8_t body[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t edst[6];
    mcast_mac(ALL_NODES, edst);
    inject_icmp6(edst, PEER_MAC, PEER_LL, ALL_NODES, 64, 128, 0, 0x00050001, body, 8);
    assert_true(take_icmp(&p, 129));
    assert_memory_equal(p.src, ll, 16);
    /* Switched off as for IPv4. */
    z_stack_lock(L.s);
    L.s->echo_reply6 = false;
    z_stack_unlock(L.s);
    inject_echo(PEER_MAC, PEER_LL, ll, 0x1234, 3, 8);
    assert_int_equal(count_icmp(129), 0);
    assert_int_equal(stats().icmp6.echo_rx, 4);
    link_destroy();
}

/* The largest echo payload the tests use: 3000 bytes, or with the embedded
 * limits (no buffer heap) one whose datagram still fits a pool buffer but
 * not a 1500-byte frame. */
static size_t big_payload(void)
{
    return z_pbuf_max_size(&L.s->pool) >= 4000 ? 3000 : 1480;
}

/* Fragments of an echo request of n payload bytes from PEER_LL: pieces
 * [off, off+len) of the ICMPv6 message, M set unless last. */
static uint8_t frag_msg[5000];
static size_t frag_msg_len;

static void frag_prepare(const uint8_t *dst, uint16_t seq, size_t n)
{
    static uint8_t body[4000];
    for (size_t i = 0; i < n; i++) {
        body[i] = (uint8_t)(i * 7 + seq);
    }
    frag_msg_len = icmp6_msg(frag_msg, 128, 0, 0x4242u << 16 | seq, body, n, PEER_LL, dst);
}

static void inject_frag(const uint8_t *dst, uint32_t id, size_t off, size_t len, bool more)
{
    uint8_t pl[1500];
    pl[0] = 58;
    pl[1] = 0;
    be16(pl + 2, (uint32_t)off | (more ? 1 : 0));
    be32(pl + 4, id);
    memcpy(pl + 8, frag_msg + off, len);
    uint8_t f[1600];
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, dst, 44, 64, pl, 8 + len));
}

/* Reassemble the stack's fragmented reply from the captured frames. */
static size_t collect_reply(uint8_t *out, uint32_t *mtu_seen)
{
    size_t total = 0;
    bool last = false;
    struct pkt p;
    *mtu_seen = 0;
    uint32_t id = 0;
    bool first = true;
    while (take(&p, 58, -1)) {
        if (!p.frag) {
            memcpy(out, p.l4, p.l4len);
            return p.l4len;
        }
        if (first) {
            id = p.frag_id;
            first = false;
        }
        assert_int_equal(p.frag_id, id);
        if (p.len > *mtu_seen) {
            *mtu_seen = (uint32_t)p.len;
        }
        if (p.frag_more) {
            assert_int_equal(p.l4len % 8, 0);
        } else {
            last = true;
        }
        memcpy(out + p.frag_off, p.l4, p.l4len);
        if (p.frag_off + p.l4len > total) {
            total = p.frag_off + p.l4len;
        }
    }
    assert_true(last);
    return total;
}

static void test_reassembly(void **state)
{
    (void)state;
    link_ready();
    uint8_t ll[16];
    my_ll(ll);
    inject_echo(PEER_MAC, PEER_LL, ll, 1, 1, 0);
    inject_na(PEER_MAC, PEER_LL, ll, NA_S, PEER_LL, PEER_MAC);
    clear_frames();
    static uint8_t reply[5000];
    uint32_t mtu;
    /* A datagram of B bytes, that needs fragments both ways yet fits this
     * configuration's buffers, in pieces of P. */
    const size_t B = big_payload();
    const size_t P = B > 2000 ? 1232 : 496;

    /* In order: B bytes in pieces of P, P, the rest. */
    frag_prepare(ll, 1, B);
    size_t n = frag_msg_len;
    inject_frag(ll, 100, 0, P, true);
    inject_frag(ll, 100, P, P, true);
    assert_int_equal(count_icmp(129), 0);
    inject_frag(ll, 100, 2 * P, n - 2 * P, false);
    assert_int_equal(stats().ipv6.reasm_ok, 1);
    size_t got = collect_reply(reply, &mtu);
    assert_int_equal(got, n);
    assert_int_equal(csum6(ll, PEER_LL, 58, reply, got), 0);
    assert_int_equal(reply[0], 129);
    assert_memory_equal(reply + 8, frag_msg + 8, n - 8);
    assert_true(mtu <= 1500);

    /* Out of order, with an exact duplicate. */
    frag_prepare(ll, 2, B);
    inject_frag(ll, 101, 2 * P, n - 2 * P, false);
    inject_frag(ll, 101, P, P, true);
    inject_frag(ll, 101, P, P, true);
    inject_frag(ll, 101, 0, P, true);
    assert_int_equal(stats().ipv6.reasm_ok, 2);
    got = collect_reply(reply, &mtu);
    assert_int_equal(got, n);
    assert_memory_equal(reply + 8, frag_msg + 8, n - 8);

    /* Overlap (RFC 5722): the whole datagram is dropped. */
    frag_prepare(ll, 3, B);
    uint64_t drops = stats().ipv6.reasm_drop;
    inject_frag(ll, 102, 0, P, true);
    inject_frag(ll, 102, P - 8, P, true);
    inject_frag(ll, 102, 2 * P - 8, n - 2 * P - 8, false);
    assert_int_equal(stats().ipv6.reasm_ok, 2);
    assert_true(stats().ipv6.reasm_drop > drops);
    assert_int_equal(count_icmp(129), 0);
    clear_frames();

    /* A missing middle: after 60 s, given up with Time Exceeded (code 1). */
    frag_prepare(ll, 4, B);
    inject_frag(ll, 103, 0, P, true);
    inject_frag(ll, 103, 2 * P, n - 2 * P, false);
    /* (The last fragment of the overlapping datagram started a slot of its
     * own, which times out too, without an error: it has no first fragment.) */
    run(59 * S_US);
    assert_int_equal(stats().ipv6.reasm_timeout, 0);
    run(2 * S_US);
    assert_int_equal(stats().ipv6.reasm_timeout, 2);
    assert_int_equal(count_icmp(3), 1);
    struct pkt p;
    assert_true(take_icmp(&p, 3));
    assert_int_equal(p.l4[1], 1);
    assert_memory_equal(p.dst, PEER_LL, 16);
    /* It quotes the first fragment: its IPv6 header, then the fragment header. */
    assert_int_equal(p.l4[8 + 6], 44);
    assert_memory_equal(p.l4 + 8 + 8, PEER_LL, 16);
    /* A fragment whose length is not a multiple of 8 with M set: Parameter
     * Problem code 0 pointing at the payload length. */
    frag_prepare(ll, 5, B);
    inject_frag(ll, 104, 0, 1001, true);
    assert_true(take_icmp(&p, 4));
    assert_int_equal(p.l4[1], 0);
    assert_int_equal(rd32(p.l4 + 4), 4);
    link_destroy();
}

static void test_extension_errors(void **state)
{
    (void)state;
    link_ready();
    uint8_t ll[16];
    my_ll(ll);
    inject_echo(PEER_MAC, PEER_LL, ll, 1, 1, 0);
    inject_na(PEER_MAC, PEER_LL, ll, NA_S, PEER_LL, PEER_MAC);
    clear_frames();

    /* Routing header type 0 with segments left 1 (RFC 5095). */
    uint8_t pl[64] = {0};
    pl[0] = 59; /* no next header */
    pl[1] = 2;  /* 24 bytes: one address */
    pl[2] = 0;  /* type 0 */
    pl[3] = 1;  /* segments left */
    memcpy(pl + 8, FAR, 16);
    uint8_t f[200];
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 43, 64, pl, 24));
    struct pkt p;
    assert_true(take_icmp(&p, 4));
    assert_int_equal(p.l4[1], 0);
    assert_int_equal(rd32(p.l4 + 4), 42); /* the routing type byte */
    assert_memory_equal(p.dst, PEER_LL, 16);
    assert_memory_equal(p.src, ll, 16);
    assert_int_equal(p.l4[8] >> 4, 6); /* the offending packet is quoted */
    assert_int_equal(p.l4[8 + 6], 43);

    /* Segments left 0: skipped; the echo behind it is answered. */
    uint8_t echo[16];
    size_t en = icmp6_msg(echo, 128, 0, 0x00010002, (const uint8_t *)"abcdefgh", 8, PEER_LL, ll);
    pl[0] = 58;
    pl[3] = 0;
    memcpy(pl + 24, echo, en);
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 43, 64, pl, 24 + en));
    assert_true(take_icmp(&p, 129));

    /* An unknown next header: Parameter Problem code 1 at byte 6. */
    uint8_t junk[8] = {0};
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 253, 64, junk, 8));
    assert_true(take_icmp(&p, 4));
    assert_int_equal(p.l4[1], 1);
    assert_int_equal(rd32(p.l4 + 4), 6);
    assert_int_equal(stats().ipv6.drop_proto, 1);

    /* Destination option 0xc2 (action 11): code 2 at the option, not to multicast. */
    uint8_t dopt[16] = {59, 0, 0xc2, 4, 0, 0, 0, 0};
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 60, 64, dopt, 8));
    assert_true(take_icmp(&p, 4));
    assert_int_equal(p.l4[1], 2);
    assert_int_equal(rd32(p.l4 + 4), 42);
    uint8_t edst[6];
    mcast_mac(ALL_NODES, edst);
    inject(f, ip6_frame(f, edst, PEER_MAC, PEER_LL, ALL_NODES, 60, 64, dopt, 8));
    assert_int_equal(count_icmp(4), 0);

    /* UDP with a zero checksum is malformed over IPv6 (RFC 8200 8.1): no answer. */
    uint8_t udp[12] = {0, 53, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd'};
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 17, 64, udp, sizeof(udp)));
    assert_int_equal(stats().udp.drop_malformed, 1);
    assert_int_equal(L.n, 0);
    /* To a port nobody holds: Port Unreachable, quoting it. */
    be16(udp + 6, csum6(PEER_LL, ll, 17, udp, sizeof(udp)));
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 17, 64, udp, sizeof(udp)));
    assert_true(take_icmp(&p, 1));
    assert_int_equal(p.l4[1], 4);
    assert_int_equal(p.l4[8 + 6], 17);
    assert_int_equal(stats().udp.drop_no_port, 1);

    /* A multicast source or a bad version is malformed. */
    uint64_t bad = stats().ipv6.drop_malformed;
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, ALL_NODES, ll, 59, 64, junk, 0));
    size_t fl = ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 59, 64, junk, 0);
    f[14] = 0x40;
    inject(f, fl);
    assert_int_equal(stats().ipv6.drop_malformed, bad + 2);
    /* An error is never sent about an error. */
    uint8_t quote[48] = {0x60};
    quote[6] = 58;
    memcpy(quote + 8, ll, 16);
    memcpy(quote + 24, PEER_LL, 16);
    quote[40] = 1; /* the quoted message is itself an error */
    uint8_t m[100];
    size_t mn = icmp6_msg(m, 1, 0, 0, quote, 48, PEER_LL, ll);
    /* ... wrapped behind an unknown destination option of action 10 */
    uint8_t dopt2[8 + 100] = {58, 0, 0x82, 4, 0, 0, 0, 0};
    memcpy(dopt2 + 8, m, mn);
    inject(f, ip6_frame(f, MY_MAC, PEER_MAC, PEER_LL, ll, 60, 64, dopt2, 8 + mn));
    assert_int_equal(count_icmp(4), 0);
    link_destroy();
}

static void test_pmtu(void **state)
{
    (void)state;
    link_ready();
    uint8_t ga[16];
    my_slaac(ga);
    struct ra_opts ra = {.cur_hop = 64,
                         .lifetime = 1800,
                         .prefix = true,
                         .pflags = 0xc0,
                         .valid = Z_ND_INFINITE,
                         .preferred = Z_ND_INFINITE};
    inject_ra(&ra);
    run(S_US + 2 * TICK);
    assert_int_equal(addr_state(ga, NULL), ZSOCK_IPV6_PREFERRED);
    /* Resolve the router. */
    inject_echo(ROUTER_MAC, FAR, ga, 3, 1, 0);
    inject_na(ROUTER_MAC, ROUTER_LL, ga, NA_R | NA_S, ROUTER_LL, ROUTER_MAC);
    clear_frames();

    inject_echo(ROUTER_MAC, FAR, ga, 3, 2, 1400);
    struct pkt p;
    assert_true(take_icmp(&p, 129));
    assert_false(p.frag);
    assert_int_equal(p.len, 40 + 8 + 1400);

    /* The path beyond the router takes 1300 bytes. */
    uint8_t ptb[1240];
    memcpy(ptb, p.ip, sizeof(ptb));
    inject_icmp6_to_me(ROUTER_MAC, ROUTER_LL, ga, 64, 2, 1300, ptb, sizeof(ptb));
    assert_int_equal(stats().ipv6.pmtu_updates, 1);
    inject_echo(ROUTER_MAC, FAR, ga, 3, 3, 1400);
    static uint8_t reply[5000];
    uint32_t mtu;
    size_t got = collect_reply(reply, &mtu);
    assert_int_equal(got, 8 + 1400);
    assert_true(mtu <= 1300);
    assert_int_equal(csum6(ga, FAR, 58, reply, got), 0);

    /* Below 1280 counts as 1280 (RFC 8200 5). */
    inject_icmp6_to_me(ROUTER_MAC, ROUTER_LL, ga, 64, 2, 600, ptb, sizeof(ptb));
    inject_echo(ROUTER_MAC, FAR, ga, 3, 4, 1400);
    got = collect_reply(reply, &mtu);
    assert_int_equal(got, 8 + 1400);
    assert_int_equal(mtu, 1280);
    /* A Packet Too Big about a packet we did not send is ignored. */
    memcpy(ptb + 8, FAR, 16);
    uint64_t updates = stats().ipv6.pmtu_updates;
    inject_icmp6_to_me(ROUTER_MAC, ROUTER_LL, ga, 64, 2, 1280, ptb, sizeof(ptb));
    assert_int_equal(stats().ipv6.pmtu_updates, updates);
    link_destroy();
}

/* An MLDv2 report: the groups of its records (all without sources) in
 * out, their record types in types; returns the count. */
static int read_report(const struct pkt *p, uint8_t groups[][16], uint8_t *types)
{
    static const uint8_t mld_routers[16] = {0xff, 0x02, [15] = 0x16};
    assert_int_equal(p->hop, 1);
    assert_true(p->router_alert);
    assert_memory_equal(p->dst, mld_routers, 16);
    uint8_t mac[6];
    mcast_mac(mld_routers, mac);
    assert_memory_equal(p->eth_dst, mac, 6);
    assert_int_equal(p->l4[0], 143);
    int n = (int)rd16(p->l4 + 6);
    assert_int_equal(p->l4len, 8 + 20 * (size_t)n);
    for (int i = 0; i < n; i++) {
        const uint8_t *r = p->l4 + 8 + 20 * i;
        types[i] = r[0];
        assert_int_equal(r[1], 0);
        assert_int_equal(rd16(r + 2), 0);
        memcpy(groups[i], r + 4, 16);
    }
    return n;
}

static bool has_group(uint8_t groups[][16], int n, const uint8_t g[16])
{
    for (int i = 0; i < n; i++) {
        if (memcmp(groups[i], g, 16) == 0) {
            return true;
        }
    }
    return false;
}

static void inject_query(const uint8_t *group, uint16_t max_resp_ms)
{
    uint8_t pl[64] = {58, 0, 5, 2, 0, 0, 1, 0}; /* hop-by-hop: router alert, PadN */
    uint8_t body[20] = {0};
    memcpy(body, group, 16);
    body[16] = 2; /* QRV */
    body[17] = 125;
    const uint8_t *dst = z_ipv6_is_unspecified(group) ? ALL_NODES : group;
    size_t n = icmp6_msg(pl + 8, 130, 0, (uint32_t)max_resp_ms << 16, body, 20, ROUTER_LL, dst);
    uint8_t edst[6], f[200];
    mcast_mac(dst, edst);
    inject(f, ip6_frame(f, edst, ROUTER_MAC, ROUTER_LL, dst, 0, 1, pl, 8 + n));
}

static void test_mld(void **state)
{
    (void)state;
    link_create(true);
    uint8_t ll[16], sn[16], msn[16];
    my_ll(ll);
    sol_node(ll, sn);
    /* Joining the link-local's solicited-node group: a report at once, from
     * :: (the address is tentative), change to exclude mode. */
    struct pkt p;
    uint8_t groups[16][16], types[16];
    assert_true(take(&p, 58, 143));
    assert_true(z_ipv6_is_unspecified(p.src));
    int n = read_report(&p, groups, types);
    assert_int_equal(n, 1);
    assert_memory_equal(groups[0], sn, 16);
    assert_int_equal(types[0], 4);
    /* ff02::1 is never reported. */
    while (take(&p, 58, 143)) {
        n = read_report(&p, groups, types);
        assert_false(has_group(groups, n, ALL_NODES));
    }
    /* The repetition a second later, from the link-local address by then. */
    run(S_US + 2 * TICK);
    assert_true(take(&p, 58, 143));
    assert_memory_equal(p.src, ll, 16);
    n = read_report(&p, groups, types);
    assert_true(has_group(groups, n, sn));
    while (take(&p, 58, 143)) {
    }
    run(3 * S_US);
    assert_false(take(NULL, 58, 143)); /* only two */

    /* A second address: its group joins too. */
    assert_int_equal(add_manual(MANUAL, 64), 0);
    sol_node(MANUAL, msn);
    assert_true(take(&p, 58, 143));
    n = read_report(&p, groups, types);
    assert_int_equal(n, 1);
    assert_memory_equal(groups[0], msn, 16);
    run(2 * S_US);
    clear_frames();

    /* A general query: one report of both groups within the delay. */
    static const uint8_t any[16] = {0};
    inject_query(any, 1000);
    assert_int_equal(stats().icmp6.mld_query_rx, 1);
    run(S_US + TICK);
    assert_true(take(&p, 58, 143));
    n = read_report(&p, groups, types);
    assert_int_equal(n, 2);
    assert_true(has_group(groups, n, sn));
    assert_true(has_group(groups, n, msn));
    assert_int_equal(types[0], 2); /* MODE_IS_EXCLUDE */
    assert_int_equal(types[1], 2);
    assert_false(take(NULL, 58, 143));

    /* A group-specific query: that group only. */
    inject_query(msn, 500);
    run(S_US);
    assert_true(take(&p, 58, 143));
    n = read_report(&p, groups, types);
    assert_int_equal(n, 1);
    assert_memory_equal(groups[0], msn, 16);
    assert_false(take(NULL, 58, 143));
    /* ... for a group we are not in: nothing. */
    static const uint8_t OTHER_G[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 0x99};
    inject_query(OTHER_G, 500);
    run(S_US);
    assert_false(take(NULL, 58, 143));

    /* Leaving: removing the address sends a change to include mode. */
    z_stack_lock(L.s);
    z_ipv6_del_addr_locked(L.nif, MANUAL);
    z_stack_unlock(L.s);
    assert_true(take(&p, 58, 143));
    n = read_report(&p, groups, types);
    assert_int_equal(n, 1);
    assert_memory_equal(groups[0], msn, 16);
    assert_int_equal(types[0], 3);

    /* The MAC filter: 33:33 frames only for groups we joined. */
    uint64_t dropped = L.nif->stats.rx_dropped;
    uint8_t emac[6], f[200], junk[8] = {0};
    mcast_mac(OTHER_G, emac);
    inject(f, ip6_frame(f, emac, PEER_MAC, PEER_LL, OTHER_G, 59, 1, junk, 0));
    assert_int_equal(L.nif->stats.rx_dropped, dropped + 1);
    mcast_mac(msn, emac); /* left */
    inject(f, ip6_frame(f, emac, PEER_MAC, PEER_LL, msn, 59, 1, junk, 0));
    assert_int_equal(L.nif->stats.rx_dropped, dropped + 2);
    mcast_mac(sn, emac);
    inject(f, ip6_frame(f, emac, PEER_MAC, PEER_LL, sn, 59, 1, junk, 0));
    assert_int_equal(L.nif->stats.rx_dropped, dropped + 2);
    link_destroy();
}

static void test_loopback_and_manual(void **state)
{
    (void)state;
    link_create(false);
    /* ::1 on loopback, usable at once. */
    z_stack_lock(L.s);
    struct z_netif *lo = z_netif_by_name_locked(L.s, "lo");
    assert_non_null(lo);
    struct zsock_if_info li;
    memset(&li, 0, sizeof(li));
    z_ipv6_if_info_locked(lo, &li);
    z_stack_unlock(L.s);
    assert_int_equal(li.n_ipv6, 1);
    static const uint8_t one[16] = {[15] = 1};
    assert_memory_equal(&li.ipv6[0], one, 16);
    assert_int_equal(li.ipv6_state[0], ZSOCK_IPV6_PREFERRED);
    assert_int_equal(li.ipv6_prefix_len[0], 128);

    /* A ping to ::1 goes around the loopback and is answered. */
    z_stack_lock(L.s);
    struct z_icmp6_hdr h = {.type = 128, .rest = 0x00010001};
    static const uint8_t any[16] = {0};
    assert_int_equal(z_icmp6_send_locked(L.s, 0, any, one, 0, &h, (const uint8_t *)"ping", 4), 0);
    z_stack_unlock(L.s);
    assert_int_equal(stats().icmp6.echo_rx, 1);
    assert_int_equal(stats().icmp6.echo_reply_rx, 1);
    /* To our own address on another interface: over loopback too, from it. */
    static const uint8_t LOCAL[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 7, [15] = 7};
    z_stack_lock(L.s);
    assert_int_equal(z_ipv6_add_addr_locked(lo, LOCAL, 64, ZSOCK_IPV6_ORIGIN_MANUAL, Z_ND_INFINITE,
                                            Z_ND_INFINITE),
                     0);
    uint8_t src[16];
    assert_int_equal(z_ipv6_select_source(lo, LOCAL, src), 0);
    assert_memory_equal(src, LOCAL, 16);
    assert_int_equal(z_icmp6_send_locked(L.s, 0, any, LOCAL, 0, &h, (const uint8_t *)"ping", 4), 0);
    z_stack_unlock(L.s);
    assert_int_equal(stats().icmp6.echo_reply_rx, 2);
    assert_int_equal(L.n, 0); /* nothing on the Ethernet link */

    /* A manual address on a down interface waits for DAD until up. */
    assert_int_equal(add_manual(MANUAL, 64), 0);
    assert_int_equal(add_manual(MANUAL, 64), -EEXIST);
    assert_int_equal(addr_state(MANUAL, NULL), ZSOCK_IPV6_TENTATIVE);
    assert_int_equal(L.n, 0);
    z_stack_lock(L.s);
    z_netif_set_up_locked(L.nif, true);
    z_stack_unlock(L.s);
    assert_int_equal(count_icmp(135), 2); /* the manual and the link-local address */
    run(S_US + 2 * TICK);
    assert_int_equal(addr_state(MANUAL, NULL), ZSOCK_IPV6_PREFERRED);
    /* Its prefix is on-link: an echo from a neighbor in it is answered directly. */
    static const uint8_t NB[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x99};
    clear_frames();
    inject_echo(PEER_MAC, NB, MANUAL, 5, 1, 4);
    struct pkt p;
    assert_true(take_icmp(&p, 135)); /* resolution of NB, from MANUAL (longest match) */
    assert_memory_equal(p.src, MANUAL, 16);
    inject_na(PEER_MAC, NB, MANUAL, NA_S, NB, PEER_MAC);
    assert_true(take_icmp(&p, 129));
    assert_memory_equal(p.src, MANUAL, 16);
    assert_memory_equal(p.eth_dst, PEER_MAC, 6);

    /* Slots: the link-local and four more. */
    uint8_t a[16];
    memcpy(a, MANUAL, 16);
    for (int i = 0; i < 3; i++) {
        a[14] = (uint8_t)(i + 1);
        assert_int_equal(add_manual(a, 64), 0);
    }
    a[14] = 9;
    assert_int_equal(add_manual(a, 64), -ENOSPC);
    z_stack_lock(L.s);
    assert_int_equal(z_ipv6_del_addr_locked(L.nif, a), -EADDRNOTAVAIL);
    assert_int_equal(z_ipv6_del_addr_locked(L.nif, MANUAL), 0);
    z_stack_unlock(L.s);
    assert_int_equal(add_manual(a, 64), 0);
    assert_int_equal(info().n_ipv6, ZSOCK_IPV6_MAX_ADDRS);

    /* Down and up again: DAD runs again for every address. */
    z_stack_lock(L.s);
    z_netif_set_up_locked(L.nif, false);
    z_netif_set_up_locked(L.nif, true);
    z_stack_unlock(L.s);
    uint8_t ll[16];
    my_ll(ll);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_TENTATIVE);
    run(S_US + 2 * TICK);
    assert_int_equal(addr_state(ll, NULL), ZSOCK_IPV6_PREFERRED);
    link_destroy();
}

static void test_api(void **state)
{
    (void)state;
    struct in6_addr a;
    int plen = 0;
    assert_int_equal(zsock_parse_ipv6_prefix("2001:db8::1/48", &a, &plen), 0);
    assert_int_equal(plen, 48);
    assert_int_equal(a.s6_addr[0], 0x20);
    assert_int_equal(a.s6_addr[15], 1);
    assert_int_equal(zsock_parse_ipv6_prefix("fe80::2", &a, &plen), 0);
    assert_int_equal(plen, 64);
    assert_int_equal(zsock_parse_ipv6_prefix("2001:db8::1/129", &a, &plen), -EINVAL);
    assert_int_equal(zsock_parse_ipv6_prefix("2001:db8::1/", &a, &plen), -EINVAL);
    assert_int_equal(zsock_parse_ipv6_prefix("10.0.0.1", &a, &plen), -EINVAL);

    /* The default stack: ::1 on lo, listed. */
    int lo = zsock_if_nametoindex("lo");
    assert_true(lo > 0);
    struct zsock_if_info infos[8];
    int n = zsock_if_list(infos, 8);
    assert_true(n >= 1);
    const struct zsock_if_info *li = NULL;
    for (int i = 0; i < n && i < 8; i++) {
        if (infos[i].index == lo) {
            li = &infos[i];
        }
    }
    assert_non_null(li);
    assert_int_equal(li->n_ipv6, 1);
    assert_int_equal(li->ipv6[0].s6_addr[15], 1);
    assert_int_equal(li->ipv6_origin[0], ZSOCK_IPV6_ORIGIN_MANUAL);

    assert_int_equal(zsock_parse_ipv6_prefix("2001:db8:5::5/64", &a, &plen), 0);
    assert_int_equal(zsock_if_add_ipv6(lo, &a, plen), 0);
    assert_int_equal(zsock_if_add_ipv6(lo, &a, plen), -EEXIST);
    assert_int_equal(zsock_if_add_ipv6(lo, &a, 0), -EINVAL);
    assert_int_equal(zsock_if_add_ipv6(9999, &a, 64), -ENODEV);
    struct in6_addr bad;
    assert_int_equal(zsock_parse_ipv6_prefix("ff02::1", &bad, &plen), 0);
    assert_int_equal(zsock_if_add_ipv6(lo, &bad, 64), -EINVAL);
    n = zsock_if_list(infos, 8);
    for (int i = 0; i < n && i < 8; i++) {
        if (infos[i].index == lo) {
            assert_int_equal(infos[i].n_ipv6, 2);
            assert_int_equal(infos[i].ipv6_state[1], ZSOCK_IPV6_PREFERRED);
            assert_int_equal(infos[i].ipv6_prefix_len[1], 64);
        }
    }
    assert_int_equal(zsock_if_del_ipv6(lo, &a), 0);
    assert_int_equal(zsock_if_del_ipv6(lo, &a), -EADDRNOTAVAIL);
    struct in6_addr r;
    assert_int_equal(zsock_if_ipv6_router(lo, &r), 0);
    assert_true(z_ipv6_is_unspecified(r.s6_addr));
    struct zsock_net_stats st;
    assert_int_equal(zsock_net_stats(&st), 0);
}

static uint64_t rng = 0x1234567;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33) % n;
}

static uint32_t pbufs_in_use(void)
{
    struct z_pbuf_stats st;
    z_pbuf_pool_stats(&L.s->pool, &st);
    return st.in_use;
}

/* Damaged and truncated versions of every kind of frame the stack parses:
 * nothing crashes (run it under ASan), nothing is leaked once the timers
 * have run, and the stack still answers afterwards. */
static void test_random_input(void **state)
{
    (void)state;
    link_ready();
    uint8_t ll[16], sn[16], ga[16];
    my_ll(ll);
    sol_node(ll, sn);
    my_slaac(ga);
    uint32_t base = pbufs_in_use();
    /* Record one frame of each kind by injecting it and keeping its bytes. */
    static uint8_t samples[8][1600];
    static size_t sample_len[8];
    int ns = 0;
    uint8_t f[1600], m[1600], pl[1600];
    uint8_t nsbody[24];
    memcpy(nsbody, ll, 16);
    lla_opt(nsbody + 16, 1, PEER_MAC);
    uint8_t edst[6];
    mcast_mac(sn, edst);
    size_t n = icmp6_msg(m, 135, 0, 0, nsbody, 24, PEER_LL, sn);
    sample_len[ns] = ip6_frame(samples[ns], edst, PEER_MAC, PEER_LL, sn, 58, 255, m, n);
    ns++;
    uint8_t nabody[24];
    memcpy(nabody, PEER_LL, 16);
    lla_opt(nabody + 16, 2, PEER_MAC);
    n = icmp6_msg(m, 136, 0, NA_S | NA_O, nabody, 24, PEER_LL, ll);
    sample_len[ns] = ip6_frame(samples[ns], MY_MAC, PEER_MAC, PEER_LL, ll, 58, 255, m, n);
    ns++;
    uint8_t rabody[48] = {0};
    lla_opt(rabody + 8, 1, ROUTER_MAC);
    rabody[16] = 3;
    rabody[17] = 4;
    rabody[18] = 64;
    rabody[19] = 0xc0;
    be32(rabody + 20, 100);
    be32(rabody + 24, 50);
    memcpy(rabody + 32, PREFIX, 16);
    n = icmp6_msg(m, 134, 0, 64u << 24 | 600, rabody, 48, ROUTER_LL, ALL_NODES);
    mcast_mac(ALL_NODES, edst);
    sample_len[ns] = ip6_frame(samples[ns], edst, ROUTER_MAC, ROUTER_LL, ALL_NODES, 58, 255, m, n);
    ns++;
    uint8_t echo[200];
    for (int i = 0; i < 200; i++) {
        echo[i] = (uint8_t)i;
    }
    n = icmp6_msg(m, 128, 0, 0x00010001, echo, 200, PEER_LL, ll);
    sample_len[ns] = ip6_frame(samples[ns], MY_MAC, PEER_MAC, PEER_LL, ll, 58, 64, m, n);
    ns++;
    /* A first and a last fragment (with a hop-by-hop header in front). */
    memset(pl, 0, sizeof(pl));
    pl[0] = 44;
    pl[2] = 1; /* PadN filling the 8 bytes */
    pl[3] = 4;
    pl[8] = 58;
    be16(pl + 10, 1);
    be32(pl + 12, 77);
    memcpy(pl + 16, m, 200);
    sample_len[ns] = ip6_frame(samples[ns], MY_MAC, PEER_MAC, PEER_LL, ll, 0, 64, pl, 216);
    ns++;
    be16(pl + 10, 200);
    sample_len[ns] = ip6_frame(samples[ns], MY_MAC, PEER_MAC, PEER_LL, ll, 0, 64, pl, 216);
    ns++;
    /* An MLD query and a routing header. */
    uint8_t qb[20] = {0};
    memcpy(qb, sn, 16);
    uint8_t q[64] = {58, 0, 5, 2, 0, 0, 1, 0};
    n = icmp6_msg(q + 8, 130, 0, 1000u << 16, qb, 20, ROUTER_LL, sn);
    mcast_mac(sn, edst);
    sample_len[ns] = ip6_frame(samples[ns], edst, ROUTER_MAC, ROUTER_LL, sn, 0, 1, q, 8 + n);
    ns++;
    uint8_t rh[24] = {58, 2, 0, 1};
    memcpy(rh + 8, FAR, 16);
    sample_len[ns] = ip6_frame(samples[ns], MY_MAC, PEER_MAC, PEER_LL, ll, 43, 64, rh, 24);
    ns++;

    for (int round = 0; round < 20000; round++) {
        int k = (int)rnd((uint32_t)ns);
        size_t len = sample_len[k];
        memcpy(f, samples[k], len);
        int flips = (int)rnd(4);
        for (int i = 0; i < flips; i++) {
            /* Mostly the headers: the Ethernet header's type and addresses stay. */
            size_t at = 14 + rnd((uint32_t)(len - 14 < 120 ? len - 14 : 120));
            f[at] = (uint8_t)rnd(256);
        }
        if (rnd(4) == 0) {
            len = 14 + rnd((uint32_t)(len - 14 + 1));
        }
        /* A small pool may be held by reassembly for a while: that is a
         * drop, as on a driver. */
        (void)try_inject(f, len);
        if (round % 500 == 0) {
            z_stack_advance(L.s, TICK);
        }
    }
    /* Let every timer run out: reassembly (60 s), the neighbor cache,
     * addresses from forged RAs (valid at most 100 s unless lifetimes were
     * damaged: those keep no buffers). */
    run(70 * S_US);
    z_stack_lock(L.s);
    z_nd_flush_locked(L.nif);
    z_stack_unlock(L.s);
    assert_int_equal(pbufs_in_use(), base);
    /* Still a working host. */
    clear_frames();
    inject_echo(PEER_MAC, PEER_LL, ll, 0x77, 1, 8);
    inject_na(PEER_MAC, PEER_LL, ll, NA_S, PEER_LL, PEER_MAC);
    struct pkt p;
    assert_true(take_icmp(&p, 129));
    check_echo_reply(&p, 0x77, 1, 8);
    link_destroy();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_local_dad),
        cmocka_unit_test(test_dad_duplicate),
        cmocka_unit_test(test_dad_duplicate_manual),
        cmocka_unit_test(test_mac_change),
        cmocka_unit_test(test_ns_answered),
        cmocka_unit_test(test_neighbor_cache),
        cmocka_unit_test(test_ra_slaac),
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_reassembly),
        cmocka_unit_test(test_extension_errors),
        cmocka_unit_test(test_pmtu),
        cmocka_unit_test(test_mld),
        cmocka_unit_test(test_loopback_and_manual),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
