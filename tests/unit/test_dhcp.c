/* The DHCPv4 client: the message parser and builder (src/wire/dhcp.c) on
 * hand-written bytes, and the client state machine on a virtual-clock stack
 * whose Ethernet link is this file: every frame the stack sends is captured
 * here, and a scripted server answers with replies encoded here byte by
 * byte (not with src/wire/dhcp.c), so the client is checked against an
 * independent reading of RFC 2131. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>
#ifdef CONFIG_DNS_RESOLVER
#include <zsock/dns.h>
#endif

#include "net/net.h"
#include "wire/dhcp.h"
#include "unit/test_bytes.h"
#include "unit/test_util.h"

#define SERVER_IP  0xc0000201u /* 192.0.2.1 */
#define SERVER2_IP 0xc0000202u /* 192.0.2.2 */
#define OFFER_IP   0xc0000232u /* 192.0.2.50 */
#define OFFER2_IP  0xc000023cu /* 192.0.2.60 */
#define ROUTER_IP  0xc00002feu /* 192.0.2.254 */
#define DNS1_IP    0xc0000235u /* 192.0.2.53 */
#define DNS2_IP    0x08080808u
#define BCAST      0xffffffffu
#define MAGIC      0x63825363u

#define S_US   1000000LL
#define TICK   100000LL    /* the stack's periodic work */
#define LEASE  1000        /* seconds, with T1 500 and T2 875 by default */
#define STATIC 0xc6336401u /* 198.51.100.1: an address configured by hand */

static const uint8_t CLIENT_MAC[6] = {0x02, 0, 0, 0, 0, 0x0c};

/* ---- what the client sent, read here -------------------------------------------------------- */

struct seen {
    int64_t t;
    uint8_t eth_dst[6];
    uint32_t ip_src, ip_dst;
    uint16_t sport, dport;
    size_t mlen;
    uint8_t m[1500]; /* the DHCP message */
};

/* Option `code` in the options field (the client never overloads): its
 * data, its length in *len; NULL if absent. Fails the test on a broken
 * option list or a missing end option. */
static const uint8_t *opt(const struct seen *s, uint8_t code, uint8_t *len)
{
    size_t i = 240;
    while (i < s->mlen) {
        uint8_t c = s->m[i];
        if (c == 0) {
            i++;
            continue;
        }
        if (c == 255) {
            return NULL;
        }
        assert_true(i + 2 <= s->mlen && i + 2 + s->m[i + 1] <= s->mlen);
        if (c == code) {
            *len = s->m[i + 1];
            return s->m + i + 2;
        }
        i += 2 + (size_t)s->m[i + 1];
    }
    fail_msg("no end option");
    return NULL;
}

static bool has_opt(const struct seen *s, uint8_t code)
{
    uint8_t l;
    return opt(s, code, &l) != NULL;
}

static uint32_t opt_u32(const struct seen *s, uint8_t code)
{
    uint8_t l = 0;
    const uint8_t *p = opt(s, code, &l);
    assert_non_null(p);
    assert_int_equal(l, 4);
    return rd32(p);
}

static int msg_type(const struct seen *s)
{
    uint8_t l = 0;
    const uint8_t *p = opt(s, 53, &l);
    assert_non_null(p);
    assert_int_equal(l, 1);
    return p[0];
}

static uint32_t xid_of(const struct seen *s)
{
    return rd32(s->m + 4);
}

static uint32_t secs_of(const struct seen *s)
{
    return rd16(s->m + 8);
}

static uint32_t flags_of(const struct seen *s)
{
    return rd16(s->m + 10);
}

static uint32_t ciaddr_of(const struct seen *s)
{
    return rd32(s->m + 12);
}

static size_t put_opt(uint8_t *p, uint8_t code, const void *data, size_t n)
{
    p[0] = code;
    p[1] = (uint8_t)n;
    memcpy(p + 2, data, n);
    return 2 + n;
}

static size_t put_opt32(uint8_t *p, uint8_t code, uint32_t v)
{
    uint8_t b[4];
    be32(b, v);
    return put_opt(p, code, b, 4);
}

#ifdef CONFIG_NET_DHCPV4

static const uint8_t SERVER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t SERVER2_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint8_t BCAST_MAC[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t udp_csum(uint32_t src, uint32_t dst, const uint8_t *udp, size_t n)
{
    uint8_t ph[12];
    be32(ph, src);
    be32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = 17;
    be16(ph + 10, (uint32_t)n);
    return fold(sum16(sum16(0, ph, 12), udp, n));
}

/* ---- the link: frames out of the stack are captured, frames in are injected ---------------- */

struct frame {
    int64_t t;
    size_t len;
    uint8_t b[1600];
};

#define QMAX 512

static struct {
    struct z_stack *s;
    struct z_netif *nif;
    struct frame q[QMAX];
    int head, n;
    bool answer_arp;    /* answer every who-has but a probe or an announcement */
    uint32_t probe_tpa; /* target of the last ARP probe (sender 0.0.0.0) */
    int probes;
} L;

static int link_output(struct z_netif *nif, struct z_pbuf *p)
{
    (void)nif;
    if (L.n < QMAX && p->len <= sizeof(L.q[0].b)) {
        struct frame *f = &L.q[(L.head + L.n) % QMAX];
        f->t = z_stack_now_us(L.s);
        f->len = p->len;
        memcpy(f->b, p->data, p->len);
        L.n++;
    }
    z_pbuf_free(p);
    return 0;
}

static const struct z_netif_driver link_driver = {.kind = "test", .output = link_output};

static void inject(const uint8_t *frame, size_t len)
{
    struct z_pbuf *p = z_pbuf_alloc(&L.s->pool, 0, len);
    assert_non_null(p);
    memcpy(z_pbuf_put(p, len), frame, len);
    z_netif_input(L.nif, p);
}

static void link_up(void)
{
    memset(&L, 0, sizeof(L));
    struct z_stack_config cfg = {.name = "dhcp", .virtual_clock = true};
    L.s = z_stack_create(&cfg);
    assert_non_null(L.s);
    z_stack_lock(L.s);
    L.nif = z_netif_add_locked(L.s, "eth", ZSOCK_IF_ETHERNET | ZSOCK_IF_BROADCAST, 1500, CLIENT_MAC,
                               &link_driver, NULL);
    z_stack_unlock(L.s);
    assert_non_null(L.nif);
    L.answer_arp = true;
}

static void link_down(void)
{
    z_stack_destroy(L.s);
    L.s = NULL;
}

static int start_client(void)
{
    z_stack_lock(L.s);
    int rc = z_dhcp4_start_locked(L.nif);
    z_stack_unlock(L.s);
    return rc;
}

static int stop_client(void)
{
    z_stack_lock(L.s);
    int rc = z_dhcp4_stop_locked(L.nif);
    z_stack_unlock(L.s);
    return rc;
}

static struct zsock_dhcp4_lease lease_now(void)
{
    struct zsock_dhcp4_lease l;
    z_stack_lock(L.s);
    z_dhcp4_get_locked(L.nif, &l);
    z_stack_unlock(L.s);
    return l;
}

static int64_t now_us(void)
{
    return L.s->vnow_us;
}

/* The interface's IPv4 addresses and gateway, read under the lock. */
static int if_addrs(uint32_t *addrs, uint32_t *masks, uint32_t *gw)
{
    z_stack_lock(L.s);
    int n = L.nif->n_ipv4;
    for (int i = 0; i < n; i++) {
        addrs[i] = L.nif->ipv4[i].addr;
        masks[i] = L.nif->ipv4[i].mask;
    }
    *gw = L.nif->gateway;
    z_stack_unlock(L.s);
    return n;
}

static bool has_addr(uint32_t a)
{
    uint32_t addrs[4], masks[4], gw;
    int n = if_addrs(addrs, masks, &gw);
    for (int i = 0; i < n; i++) {
        if (addrs[i] == a) {
            return true;
        }
    }
    return false;
}

static struct zsock_net_stats stats(void)
{
    z_stack_lock(L.s);
    struct zsock_net_stats st = L.s->stats;
    z_stack_unlock(L.s);
    return st;
}

static void arp_reply(const uint8_t *from_mac, uint32_t from_ip, uint32_t to_ip)
{
    uint8_t f[60] = {0};
    memcpy(f, CLIENT_MAC, 6);
    memcpy(f + 6, from_mac, 6);
    be16(f + 12, 0x0806);
    be16(f + 14, 1);
    be16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    be16(f + 20, 2);
    memcpy(f + 22, from_mac, 6);
    be32(f + 28, from_ip);
    memcpy(f + 32, CLIENT_MAC, 6);
    be32(f + 38, to_ip);
    inject(f, sizeof(f));
}

/* Look at one captured frame: a DHCP message is checked (Ethernet, IPv4
 * and UDP headers, checksums) and returned in *out; ARP requests for the
 * servers are answered when L.answer_arp; probes are noted. */
static bool take_frame(const struct frame *f, struct seen *out)
{
    const uint8_t *b = f->b;
    assert_true(f->len >= 14);
    assert_memory_equal(b + 6, CLIENT_MAC, 6);
    uint32_t type = rd16(b + 12);
    if (type == 0x0806) {
        uint32_t op = rd16(b + 20), spa = rd32(b + 28), tpa = rd32(b + 38);
        if (op == 1 && spa == 0) {
            L.probe_tpa = tpa;
            L.probes++;
        } else if (op == 1 && L.answer_arp && spa != tpa) {
            /* Whoever the client looks for is there: the second server has
             * its own MAC, every other address (the server's or a gateway)
             * the first server's. */
            arp_reply(tpa == SERVER2_IP ? SERVER2_MAC : SERVER_MAC, tpa, spa);
        }
        return false;
    }
    if (type == 0x86dd) {
        return false; /* IPv6 autoconfiguration of the same link (DAD, MLD, RS) */
    }
    assert_int_equal(type, 0x0800);
    const uint8_t *ip = b + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    assert_int_equal(ip[0] >> 4, 4);
    assert_int_equal(fold(sum16(0, ip, ihl)), 0);
    assert_int_equal(ip[9], 17);
    size_t total = rd16(ip + 2);
    assert_true(14 + total <= f->len);
    const uint8_t *udp = ip + ihl;
    size_t ulen = rd16(udp + 4);
    assert_int_equal(ulen, total - ihl);
    out->t = f->t;
    memcpy(out->eth_dst, b, 6);
    out->ip_src = rd32(ip + 12);
    out->ip_dst = rd32(ip + 16);
    out->sport = (uint16_t)rd16(udp);
    out->dport = (uint16_t)rd16(udp + 2);
    assert_int_not_equal(rd16(udp + 6), 0); /* a checksum was computed */
    assert_int_equal(udp_csum(out->ip_src, out->ip_dst, udp, ulen), 0);
    out->mlen = ulen - 8;
    assert_true(out->mlen <= sizeof(out->m));
    memcpy(out->m, udp + 8, out->mlen);
    /* RFC 2131: a BOOTREQUEST from port 68 to 67, at least 300 bytes, the
     * cookie, Ethernet chaddr. */
    assert_int_equal(out->sport, 68);
    assert_int_equal(out->dport, 67);
    assert_true(out->mlen >= 300);
    assert_int_equal(out->m[0], 1);
    assert_int_equal(out->m[1], 1);
    assert_int_equal(out->m[2], 6);
    assert_memory_equal(out->m + 28, CLIENT_MAC, 6);
    assert_int_equal(rd32(out->m + 236), MAGIC);
    return true;
}

/* Run the clock (in ticks) until the client sends a DHCP message, at most
 * max_s seconds: true with it in *out. */
static bool wait_dhcp(struct seen *out, double max_s)
{
    int64_t end = now_us() + (int64_t)(max_s * S_US);
    for (;;) {
        while (L.n > 0) {
            struct frame *f = &L.q[L.head];
            L.head = (L.head + 1) % QMAX;
            L.n--;
            if (take_frame(f, out)) {
                return true;
            }
        }
        if (now_us() >= end) {
            return false;
        }
        z_stack_advance(L.s, TICK);
    }
}

static void expect_dhcp(struct seen *out, double max_s, int type)
{
    if (!wait_dhcp(out, max_s)) {
        fail_msg("no DHCP message within %.1f s", max_s);
    }
    assert_int_equal(msg_type(out), type);
}

/* Run the clock for `s` seconds; the client must stay silent (ARP aside). */
static void run_quiet(double s)
{
    struct seen m;
    if (wait_dhcp(&m, s)) {
        fail_msg("unexpected DHCP message type %d at %.1f s", msg_type(&m), m.t / 1e6);
    }
}

/* ---- the scripted server -------------------------------------------------------------------- */

struct reply {
    uint8_t type;
    uint32_t xid;
    uint32_t yiaddr;
    uint32_t server; /* option 54 and the IP source */
    bool no_server_id;
    const uint8_t *chaddr; /* NULL: the client's */
    const uint8_t *src_mac;
    uint8_t op;      /* 0: BOOTREPLY */
    uint8_t htype;   /* 0: Ethernet */
    uint32_t cookie; /* 0: the magic cookie */
    uint32_t mask;
    uint32_t router;
    uint32_t dns[3];
    int n_dns;
    uint32_t lease;  /* 0: none */
    uint32_t t1, t2; /* 0: none */
    const char *domain;
    bool unicast;   /* to yiaddr and the client's MAC, not broadcast */
    bool truncated; /* the last option claims more bytes than there are */
};

static void send_reply(const struct reply *r)
{
    uint8_t f[1024] = {0};
    uint8_t *m = f + 14 + 20 + 8;
    m[0] = r->op != 0 ? r->op : 2;
    m[1] = r->htype != 0 ? r->htype : 1;
    m[2] = 6;
    be32(m + 4, r->xid);
    be32(m + 16, r->yiaddr);
    be32(m + 20, r->server);
    memcpy(m + 28, r->chaddr != NULL ? r->chaddr : CLIENT_MAC, 6);
    be32(m + 236, r->cookie != 0 ? r->cookie : MAGIC);
    size_t i = 240;
    uint8_t t = r->type;
    i += put_opt(m + i, 53, &t, 1);
    if (!r->no_server_id) {
        i += put_opt32(m + i, 54, r->server);
    }
    if (r->lease != 0) {
        i += put_opt32(m + i, 51, r->lease);
    }
    if (r->t1 != 0) {
        i += put_opt32(m + i, 58, r->t1);
    }
    if (r->t2 != 0) {
        i += put_opt32(m + i, 59, r->t2);
    }
    if (r->mask != 0) {
        i += put_opt32(m + i, 1, r->mask);
    }
    if (r->router != 0) {
        i += put_opt32(m + i, 3, r->router);
    }
    if (r->n_dns > 0) {
        uint8_t d[12];
        for (int k = 0; k < r->n_dns; k++) {
            be32(d + 4 * k, r->dns[k]);
        }
        i += put_opt(m + i, 6, d, 4u * (unsigned)r->n_dns);
    }
    if (r->domain != NULL) {
        i += put_opt(m + i, 15, r->domain, strlen(r->domain));
    }
    size_t mlen;
    if (r->truncated) {
        m[i] = 12; /* a host name said to be 40 bytes long, with 3 left */
        m[i + 1] = 40;
        memcpy(m + i + 2, "abc", 3);
        mlen = i + 5;
    } else {
        m[i++] = 255;
        mlen = i < 300 ? 300 : i;
    }
    uint32_t dst = r->unicast ? r->yiaddr : BCAST;
    uint8_t *udp = f + 14 + 20;
    be16(udp, 67);
    be16(udp + 2, 68);
    be16(udp + 4, (uint32_t)(8 + mlen));
    be16(udp + 6, udp_csum(r->server, dst, udp, 8 + mlen));
    if (rd16(udp + 6) == 0) {
        be16(udp + 6, 0xffff);
    }
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    be16(ip + 2, (uint32_t)(20 + 8 + mlen));
    ip[8] = 64;
    ip[9] = 17;
    be32(ip + 12, r->server);
    be32(ip + 16, dst);
    be16(ip + 10, fold(sum16(0, ip, 20)));
    memcpy(f, r->unicast ? CLIENT_MAC : BCAST_MAC, 6);
    memcpy(f + 6, r->src_mac != NULL ? r->src_mac : SERVER_MAC, 6);
    be16(f + 12, 0x0800);
    inject(f, 14 + 20 + 8 + mlen);
}

/* The usual answer of SERVER_IP: OFFER_IP/24, router, two DNS servers, a
 * domain, LEASE seconds with T1 and T2 left to their defaults. */
static struct reply std_reply(uint8_t type, uint32_t xid)
{
    struct reply r = {
        .type = type,
        .xid = xid,
        .yiaddr = OFFER_IP,
        .server = SERVER_IP,
        .mask = 0xffffff00u,
        .router = ROUTER_IP,
        .dns = {DNS1_IP, DNS2_IP},
        .n_dns = 2,
        .lease = LEASE,
        .domain = "example.test",
    };
    return r;
}

/* Bring the link up, start the client and take its first DISCOVER. */
static void link_up_discover(struct seen *d)
{
    link_up();
    assert_int_equal(start_client(), 0);
    expect_dhcp(d, 1, 1);
}

/* DISCOVER, OFFER, REQUEST, ACK, and the second of ARP check: bound. The
 * REQUEST's send time is returned (the lease counts from it). */
static int64_t dora(void)
{
    struct seen d, q;
    assert_int_equal(start_client(), 0);
    expect_dhcp(&d, 1, 1);
    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    expect_dhcp(&q, 1, 3);
    r = std_reply(5, xid_of(&q));
    send_reply(&r);
    run_quiet(1.2); /* the ARP check: nobody answers */
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_BOUND);
    return q.t;
}

#endif /* CONFIG_NET_DHCPV4 */

/* ---- parser tests ---------------------------------------------------------------------------- */

/* A message skeleton: BOOTREPLY, cookie, options start at 240. */
static size_t skeleton(uint8_t *m, size_t cap)
{
    memset(m, 0, cap);
    m[0] = 2;
    m[1] = 1;
    m[2] = 6;
    be32(m + 4, 0x11223344);
    be32(m + 16, OFFER_IP);
    be32(m + 236, MAGIC);
    return 240;
}

static void test_parse_fixed_and_pad_end(void **state)
{
    (void)state;
    uint8_t m[400];
    size_t i = skeleton(m, sizeof(m));
    m[i++] = 0; /* pads before, between and after options */
    m[i++] = 0;
    uint8_t t = 2;
    i += put_opt(m + i, 53, &t, 1);
    m[i++] = 0;
    i += put_opt32(m + i, 54, SERVER_IP);
    i += put_opt(m + i, 200, "unknown", 7); /* ignored */
    i += put_opt(m + i, 51, "\x00\x01", 2); /* lease of the wrong size: ignored */
    m[i++] = 255;
    /* After end: padding, and bytes that would be a broken option. */
    m[i++] = 1;
    m[i++] = 200;
    struct z_dhcp_msg p;
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_int_equal(p.op, 2);
    assert_int_equal(p.xid, 0x11223344);
    assert_int_equal(p.yiaddr, OFFER_IP);
    assert_int_equal(p.msg_type, 2);
    assert_int_equal(p.server_id, SERVER_IP);
    assert_int_equal(p.have, Z_DHCP_HAVE_MSG_TYPE | Z_DHCP_HAVE_SERVER_ID);

    /* No end option at all: the options run to the end of the message. */
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 53, &t, 1);
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_int_equal(p.msg_type, 2);
    /* Just the header and cookie. */
    assert_int_equal(z_dhcp_parse(m, 240, &p), 0);
    assert_int_equal(p.have, 0);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    uint8_t m[400];
    struct z_dhcp_msg p;
    size_t i = skeleton(m, sizeof(m));
    assert_int_equal(z_dhcp_parse(m, 239, &p), -EBADMSG); /* shorter than the header */
    m[236] = 0;
    assert_int_equal(z_dhcp_parse(m, 300, &p), -EBADMSG); /* no cookie */
    i = skeleton(m, sizeof(m));
    m[0] = 3;
    assert_int_equal(z_dhcp_parse(m, 300, &p), -EBADMSG); /* op neither request nor reply */

    /* An option whose length runs past the end. */
    i = skeleton(m, sizeof(m));
    uint8_t t = 5;
    i += put_opt(m + i, 53, &t, 1);
    m[i++] = 6;
    m[i++] = 8;
    be32(m + i, DNS1_IP);
    i += 4;
    assert_int_equal(z_dhcp_parse(m, i, &p), -EBADMSG);
    /* An option code with no length byte. */
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 53, &t, 1);
    m[i++] = 54;
    assert_int_equal(z_dhcp_parse(m, i, &p), -EBADMSG);
    /* Overload of a bad value, of a bad length. */
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 52, "\x04", 1);
    assert_int_equal(z_dhcp_parse(m, i, &p), -EBADMSG);
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 52, "\x01\x01", 2);
    assert_int_equal(z_dhcp_parse(m, i, &p), -EBADMSG);
    /* Overload into a file field that holds a broken option. */
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 52, "\x01", 1);
    m[108] = 3;
    m[109] = 200; /* past the end of file (128 bytes) */
    assert_int_equal(z_dhcp_parse(m, i, &p), -EBADMSG);
    /* Without the overload option the same file field is a file name. */
    i = skeleton(m, sizeof(m));
    m[108] = 3;
    m[109] = 200;
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_int_equal(p.have, 0);
}

static void test_parse_overload_and_concatenation(void **state)
{
    (void)state;
    uint8_t m[400];
    size_t i = skeleton(m, sizeof(m));
    /* Options field: overload both, the first half of the DNS list, the
     * start of the domain. file: the rest of the DNS list, the router, more
     * of the domain. sname: the message type, the end of the domain. The
     * pieces join in the order options, file, sname (RFC 3396). */
    i += put_opt(m + i, 52, "\x03", 1);
    uint8_t d[12];
    be32(d, DNS1_IP);
    be32(d + 4, DNS2_IP);
    be32(d + 8, 0x01020304);
    i += put_opt(m + i, 6, d, 6); /* DNS1 and half of DNS2 */
    i += put_opt(m + i, 15, "ex", 2);
    m[i++] = 255;
    size_t f = 108;
    f += put_opt(m + f, 6, d + 6, 6); /* the rest of DNS2, and DNS3 */
    m[f++] = 0;
    f += put_opt32(m + f, 3, ROUTER_IP);
    f += put_opt(m + f, 15, "am", 2);
    m[f++] = 255;
    size_t s = 44;
    uint8_t t = 5;
    s += put_opt(m + s, 53, &t, 1);
    s += put_opt(m + s, 15, "ple.test", 8);
    s += put_opt(m + s, 52, "\x01", 1); /* overload outside the options field: ignored */
    m[s++] = 255;
    struct z_dhcp_msg p;
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_int_equal(p.msg_type, 5);
    assert_int_equal(p.n_dns, 3);
    assert_int_equal(p.dns[0], DNS1_IP);
    assert_int_equal(p.dns[1], DNS2_IP);
    assert_int_equal(p.dns[2], 0x01020304);
    assert_int_equal(p.router, ROUTER_IP);
    assert_string_equal(p.domain, "example.test");
    assert_int_equal(p.domain_len, 12);

    /* Only file overloaded: what sname holds is not read. */
    m[242] = 1;
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_false(p.have & Z_DHCP_HAVE_MSG_TYPE);
    assert_string_equal(p.domain, "exam");
    assert_int_equal(p.n_dns, 3);

    /* A message type split in two pieces is two bytes long: not a type. */
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 53, &t, 1);
    i += put_opt(m + i, 53, &t, 1);
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_false(p.have & Z_DHCP_HAVE_MSG_TYPE);

    /* Names stop at a NUL; more than three DNS servers keep three; a DNS
     * list of a length that is not a multiple of 4 is ignored; a router
     * list gives its first. */
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 12, "host\0junk", 9);
    uint8_t four[16];
    for (int k = 0; k < 4; k++) {
        be32(four + 4 * k, 0x0a000001u + (uint32_t)k);
    }
    i += put_opt(m + i, 6, four, 16);
    i += put_opt(m + i, 3, four, 8);
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_string_equal(p.host_name, "host");
    assert_int_equal(p.n_dns, 3);
    assert_int_equal(p.dns[2], 0x0a000003u);
    assert_int_equal(p.router, 0x0a000001u);
    i = skeleton(m, sizeof(m));
    i += put_opt(m + i, 6, four, 7);
    assert_int_equal(z_dhcp_parse(m, i, &p), 0);
    assert_false(p.have & Z_DHCP_HAVE_DNS);
}

/* The client's messages as RFC 2131 table 5 has them. */
static void test_build_client_forms(void **state)
{
    (void)state;
    struct seen s;
    struct z_dhcp_client_msg c = {
        .xid = 0xabcdef01,
        .secs = 7,
        .ciaddr = OFFER_IP,
        .requested_ip = OFFER2_IP,
        .server_id = SERVER_IP,
        .max_size = 1500,
        .host_name = "zhost",
    };
    memcpy(c.mac, CLIENT_MAC, 6);
    struct {
        enum z_dhcp_client_kind kind;
        int type;
        bool bcast, ciaddr, req_ip, server, asks;
    } forms[] = {
        {Z_DHCP_BUILD_DISCOVER, 1, true, false, true, false, true},
        {Z_DHCP_BUILD_REQUEST_SELECTING, 3, true, false, true, true, true},
        {Z_DHCP_BUILD_REQUEST_RENEWING, 3, false, true, false, false, true},
        {Z_DHCP_BUILD_REQUEST_REBINDING, 3, false, true, false, false, true},
        {Z_DHCP_BUILD_DECLINE, 4, false, false, true, true, false},
        {Z_DHCP_BUILD_RELEASE, 7, false, true, false, true, false},
    };
    for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
        c.kind = forms[k].kind;
        int n = z_dhcp_build_client(s.m, sizeof(s.m), &c);
        assert_int_equal(n, 300);
        s.mlen = (size_t)n;
        assert_int_equal(s.m[0], 1);
        assert_int_equal(s.m[1], 1);
        assert_int_equal(s.m[2], 6);
        assert_int_equal(xid_of(&s), 0xabcdef01);
        assert_memory_equal(s.m + 28, CLIENT_MAC, 6);
        assert_int_equal(rd32(s.m + 236), MAGIC);
        assert_int_equal(msg_type(&s), forms[k].type);
        assert_int_equal(flags_of(&s), forms[k].bcast ? 0x8000 : 0);
        assert_int_equal(ciaddr_of(&s), forms[k].ciaddr ? OFFER_IP : 0);
        assert_int_equal(rd32(s.m + 16), 0); /* yiaddr */
        assert_int_equal(has_opt(&s, 50), forms[k].req_ip);
        if (forms[k].req_ip) {
            assert_int_equal(opt_u32(&s, 50), OFFER2_IP);
        }
        assert_int_equal(has_opt(&s, 54), forms[k].server);
        if (forms[k].server) {
            assert_int_equal(opt_u32(&s, 54), SERVER_IP);
        }
        assert_int_equal(has_opt(&s, 55), forms[k].asks);
        assert_int_equal(has_opt(&s, 57), forms[k].asks);
        assert_int_equal(has_opt(&s, 12), forms[k].asks);
        assert_int_equal(secs_of(&s), forms[k].asks ? 7 : 0);
        uint8_t l = 0;
        const uint8_t *id = opt(&s, 61, &l);
        assert_non_null(id);
        assert_int_equal(l, 7);
        assert_int_equal(id[0], 1);
        assert_memory_equal(id + 1, CLIENT_MAC, 6);
        if (forms[k].asks) {
            const uint8_t *h = opt(&s, 12, &l);
            assert_int_equal(l, 5);
            assert_memory_equal(h, "zhost", 5);
            const uint8_t *ms = opt(&s, 57, &l);
            assert_int_equal(l, 2);
            assert_int_equal(rd16(ms), 1500);
            const uint8_t *pl = opt(&s, 55, &l);
            assert_non_null(memchr(pl, 1, l));
            assert_non_null(memchr(pl, 3, l));
            assert_non_null(memchr(pl, 6, l));
        }
    }
    /* DISCOVER asks for an address only when given one. */
    c.kind = Z_DHCP_BUILD_DISCOVER;
    c.requested_ip = 0;
    s.mlen = (size_t)z_dhcp_build_client(s.m, sizeof(s.m), &c);
    assert_false(has_opt(&s, 50));
    /* Errors. */
    assert_int_equal(z_dhcp_build_client(s.m, 299, &c), -ENOSPC);
    c.max_size = 575;
    assert_int_equal(z_dhcp_build_client(s.m, sizeof(s.m), &c), -EINVAL);
    c.max_size = 0;
    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[79] = '\0';
    c.host_name = longname;
    assert_int_equal(z_dhcp_build_client(s.m, sizeof(s.m), &c), -EINVAL);
    longname[63] = '\0';
    s.mlen = (size_t)z_dhcp_build_client(s.m, sizeof(s.m), &c);
    assert_true(s.mlen > 300); /* no padding needed */
    uint8_t l = 0;
    assert_non_null(opt(&s, 12, &l));
    assert_int_equal(l, 63);
    assert_false(has_opt(&s, 57));
    c.kind = (enum z_dhcp_client_kind)42;
    assert_int_equal(z_dhcp_build_client(s.m, sizeof(s.m), &c), -EINVAL);
}

/* What parses is emitted again and parses back the same. */
static void test_emit_round_trip(void **state)
{
    (void)state;
    struct z_dhcp_msg a;
    memset(&a, 0, sizeof(a));
    a.op = 2;
    a.htype = 1;
    a.hlen = 6;
    a.xid = 99;
    a.yiaddr = OFFER_IP;
    a.msg_type = 5;
    a.server_id = SERVER_IP;
    a.subnet_mask = 0xffffff00u;
    a.router = ROUTER_IP;
    a.n_dns = 2;
    a.dns[0] = DNS1_IP;
    a.dns[1] = DNS2_IP;
    a.lease_s = 3600;
    a.t1_s = 1800;
    a.t2_s = 3000;
    a.domain_len = 4;
    memcpy(a.domain, "lan.", 5);
    a.have = Z_DHCP_HAVE_MSG_TYPE | Z_DHCP_HAVE_SERVER_ID | Z_DHCP_HAVE_SUBNET_MASK |
             Z_DHCP_HAVE_ROUTER | Z_DHCP_HAVE_DNS | Z_DHCP_HAVE_LEASE_TIME | Z_DHCP_HAVE_T1 |
             Z_DHCP_HAVE_T2 | Z_DHCP_HAVE_DOMAIN_NAME;
    uint8_t buf[600];
    int n = z_dhcp_emit(buf, sizeof(buf), &a);
    assert_int_equal(n, 300);
    struct z_dhcp_msg b;
    assert_int_equal(z_dhcp_parse(buf, (size_t)n, &b), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_int_equal(z_dhcp_emit(buf, 299, &a), -ENOSPC);
    a.n_dns = 4;
    assert_int_equal(z_dhcp_emit(buf, sizeof(buf), &a), -EINVAL);
}

#ifdef CONFIG_NET_DHCPV4

/* ---- the client ----------------------------------------------------------------------------- */

static void test_dora_configures(void **state)
{
    (void)state;
    link_up();
    assert_int_equal(start_client(), 0);
    struct seen d;
    expect_dhcp(&d, 0.5, 1);
    /* A DISCOVER from 0.0.0.0 to the limited broadcast, asking servers to
     * broadcast their answer (we cannot take unicast yet). */
    assert_memory_equal(d.eth_dst, BCAST_MAC, 6);
    assert_int_equal(d.ip_src, 0);
    assert_int_equal(d.ip_dst, BCAST);
    assert_int_equal(flags_of(&d), 0x8000);
    assert_int_equal(ciaddr_of(&d), 0);
    assert_false(has_opt(&d, 54));
    assert_false(has_opt(&d, 50));
    uint8_t l;
    const uint8_t *h = opt(&d, 12, &l);
    char host[64];
    assert_int_equal(zsock_gethostname(host, sizeof(host)), 0);
    assert_int_equal(l, strlen(host));
    assert_memory_equal(h, host, l);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_SELECTING);

    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    struct seen q;
    expect_dhcp(&q, 0.5, 3);
    /* REQUEST for the offer: same xid and secs, 50 and 54, broadcast. */
    assert_int_equal(xid_of(&q), xid_of(&d));
    assert_int_equal(secs_of(&q), secs_of(&d));
    assert_int_equal(opt_u32(&q, 50), OFFER_IP);
    assert_int_equal(opt_u32(&q, 54), SERVER_IP);
    assert_int_equal(ciaddr_of(&q), 0);
    assert_int_equal(q.ip_src, 0);
    assert_int_equal(q.ip_dst, BCAST);
    assert_int_equal(flags_of(&q), 0x8000);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_REQUESTING);

    r = std_reply(5, xid_of(&q));
    send_reply(&r);
    /* The ARP check of the address, then bound. */
    run_quiet(0.5);
    assert_int_equal(L.probes, 1);
    assert_int_equal(L.probe_tpa, OFFER_IP);
    assert_false(has_addr(OFFER_IP));
    run_quiet(0.7);
    struct zsock_dhcp4_lease ls = lease_now();
    assert_int_equal(ls.state, ZSOCK_DHCP4_BOUND);
    assert_int_equal(ntohl(ls.addr.s_addr), OFFER_IP);
    assert_int_equal(ls.prefix_len, 24);
    assert_int_equal(ntohl(ls.router.s_addr), ROUTER_IP);
    assert_int_equal(ntohl(ls.server.s_addr), SERVER_IP);
    assert_int_equal(ls.n_dns, 2);
    assert_int_equal(ntohl(ls.dns[0].s_addr), DNS1_IP);
    assert_int_equal(ntohl(ls.dns[1].s_addr), DNS2_IP);
    assert_int_equal(ls.lease_s, LEASE);
    assert_int_equal(ls.t1_s, LEASE / 2);
    assert_int_equal(ls.t2_s, LEASE * 7 / 8);
    assert_string_equal(ls.domain, "example.test");
    assert_int_equal(ls.renewals, 0);
    assert_true(ls.remaining_s <= LEASE && ls.remaining_s >= LEASE - 2);

    uint32_t addrs[4], masks[4], gw;
    assert_int_equal(if_addrs(addrs, masks, &gw), 1);
    assert_int_equal(addrs[0], OFFER_IP);
    assert_int_equal(masks[0], 0xffffff00u);
    assert_int_equal(gw, ROUTER_IP);
    struct zsock_net_stats st = stats();
    assert_int_equal(st.dhcp.offers, 1);
    assert_int_equal(st.dhcp.acks, 1);
    assert_int_equal(st.dhcp.tx, 2);
    assert_int_equal(st.dhcp.rx, 2);
    assert_int_equal(st.dhcp.drop_malformed + st.dhcp.drop_foreign, 0);
    /* Bound, it stays quiet until T1. */
    run_quiet(LEASE / 2 - 5);
    link_down();
}

/* T1: a REQUEST unicast to the server with ciaddr and neither 50 nor 54;
 * the ACK extends the lease from the time of that REQUEST. */
static void test_renew_at_t1(void **state)
{
    (void)state;
    link_up();
    int64_t t0 = dora();
    struct seen d;
    expect_dhcp(&d, LEASE, 3);
    int64_t t1 = d.t - t0;
    assert_true(t1 >= (LEASE / 2) * S_US && t1 <= (LEASE / 2) * S_US + TICK);
    assert_memory_equal(d.eth_dst, SERVER_MAC, 6); /* resolved by ARP */
    assert_int_equal(d.ip_src, OFFER_IP);
    assert_int_equal(d.ip_dst, SERVER_IP);
    assert_int_equal(ciaddr_of(&d), OFFER_IP);
    assert_int_equal(flags_of(&d), 0);
    assert_false(has_opt(&d, 50));
    assert_false(has_opt(&d, 54));
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_RENEWING);
    assert_true(has_addr(OFFER_IP)); /* still usable while renewing */

    struct reply r = std_reply(5, xid_of(&d));
    r.unicast = true;
    r.lease = 2000;
    r.t1 = 100;
    r.t2 = 200;
    send_reply(&r);
    struct zsock_dhcp4_lease l = lease_now();
    assert_int_equal(l.state, ZSOCK_DHCP4_BOUND);
    assert_int_equal(l.renewals, 1);
    assert_int_equal(l.lease_s, 2000);
    assert_int_equal(l.t1_s, 100);
    assert_int_equal(l.t2_s, 200);
    assert_true(l.remaining_s >= 1999 && l.remaining_s <= 2000);
    assert_true(has_addr(OFFER_IP));
    /* The next renewal comes at the new T1, 100 s after that REQUEST. */
    expect_dhcp(&d, 200, 3);
    assert_true(d.t - t0 - t1 >= 100 * S_US && d.t - t0 - t1 <= 100 * S_US + TICK);
    link_down();
}

/* Nobody answers at T1: retransmissions at half the time left to T2 (at
 * least 60 s), then at T2 a broadcast REQUEST; an ACK from another server
 * then rebinds. */
static void test_rebind_at_t2(void **state)
{
    (void)state;
    link_up();
    int64_t t0 = dora();
    /* (875 - 500) / 2 = 187.5 s after T1; then 93.75 s; then 60 s, since
     * half the rest (46.9 s) is less; then T2 comes before another 60 s. */
    const double expect_s[] = {500, 687.5, 781.25, 841.25};
    uint32_t xid = 0;
    struct seen d;
    for (int k = 0; k < 4; k++) {
        expect_dhcp(&d, LEASE, 3);
        double at = (double)(d.t - t0) / S_US;
        assert_true(at >= expect_s[k] && at <= expect_s[k] + 0.11);
        assert_int_equal(d.ip_dst, SERVER_IP);
        assert_int_equal(lease_now().state, ZSOCK_DHCP4_RENEWING);
        if (k == 0) {
            xid = xid_of(&d);
        }
        assert_int_equal(xid_of(&d), xid);
        assert_true(secs_of(&d) + 1 >= (uint32_t)(at - 500) && secs_of(&d) <= (uint32_t)(at - 500));
    }
    expect_dhcp(&d, LEASE, 3);
    double at = (double)(d.t - t0) / S_US;
    assert_true(at >= 875 && at <= 875.11);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_REBINDING);
    assert_memory_equal(d.eth_dst, BCAST_MAC, 6);
    assert_int_equal(d.ip_dst, BCAST);
    assert_int_equal(d.ip_src, OFFER_IP);
    assert_int_equal(ciaddr_of(&d), OFFER_IP);
    assert_false(has_opt(&d, 50));
    assert_false(has_opt(&d, 54));
    assert_int_not_equal(xid_of(&d), xid);
    /* A NAK from the old server for the renewing xid is not for this one. */
    struct reply r = std_reply(6, xid);
    send_reply(&r);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_REBINDING);
    assert_int_equal(stats().dhcp.drop_foreign, 1);
    /* Any server may answer now. */
    r = std_reply(5, xid_of(&d));
    r.server = SERVER2_IP;
    r.src_mac = SERVER2_MAC;
    r.router = 0;
    send_reply(&r);
    struct zsock_dhcp4_lease l = lease_now();
    assert_int_equal(l.state, ZSOCK_DHCP4_BOUND);
    assert_int_equal(ntohl(l.server.s_addr), SERVER2_IP);
    assert_int_equal(l.renewals, 1);
    assert_int_equal(l.router.s_addr, 0);
    uint32_t addrs[4], masks[4], gw;
    assert_int_equal(if_addrs(addrs, masks, &gw), 1);
    assert_int_equal(gw, 0); /* the new lease has no router: ours is gone */
    /* The next renewal goes to the new server. */
    expect_dhcp(&d, LEASE, 3);
    assert_int_equal(d.ip_dst, SERVER2_IP);
    assert_memory_equal(d.eth_dst, SERVER2_MAC, 6);
    link_down();
}

/* Nobody answers at all: the lease runs out, address, gateway and lease
 * go, and the client discovers again, asking for its old address. */
static void test_expiry_starts_over(void **state)
{
    (void)state;
    link_up();
    int64_t t0 = dora();
    /* Renewing at 500, 687.5, 781.25, 841.25 s; rebinding at 875 s, then at
     * half the time left to expiry: 937.5 s, then 60 s later (997.5 s). */
    const double expect_s[] = {500, 687.5, 781.25, 841.25, 875, 937.5, 997.5};
    struct seen d;
    for (int k = 0; k < 7; k++) {
        expect_dhcp(&d, LEASE, 3);
        double at = (double)(d.t - t0) / S_US;
        assert_true(at >= expect_s[k] && at <= expect_s[k] + 0.11);
        assert_int_equal(d.ip_dst, k < 4 ? SERVER_IP : BCAST);
    }
    expect_dhcp(&d, LEASE, 1);
    double at = (double)(d.t - t0) / S_US;
    assert_true(at >= LEASE && at <= LEASE + 0.11);
    assert_int_equal(d.ip_src, 0);
    assert_int_equal(ciaddr_of(&d), 0);
    assert_int_equal(opt_u32(&d, 50), OFFER_IP); /* the old address, if still free */
    struct zsock_dhcp4_lease l = lease_now();
    assert_int_equal(l.state, ZSOCK_DHCP4_SELECTING);
    assert_int_equal(l.addr.s_addr, 0);
    uint32_t addrs[4], masks[4], gw;
    assert_int_equal(if_addrs(addrs, masks, &gw), 0);
    assert_int_equal(gw, 0);
    assert_int_equal(stats().dhcp.expired, 1);
    /* And it gets a lease again the usual way. */
    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    expect_dhcp(&d, 1, 3);
    r = std_reply(5, xid_of(&d));
    send_reply(&r);
    run_quiet(1.2);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_BOUND);
    assert_true(has_addr(OFFER_IP));
    link_down();
}

static void test_nak(void **state)
{
    (void)state;
    struct seen d, q;
    link_up_discover(&d);
    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    expect_dhcp(&q, 1, 3);
    /* A NAK from another server than the one asked is not for us. */
    r = std_reply(6, xid_of(&q));
    r.server = SERVER2_IP;
    send_reply(&r);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_REQUESTING);
    assert_int_equal(stats().dhcp.drop_foreign, 1);
    /* NAK while requesting: back to discovering after a short pause. */
    r = std_reply(6, xid_of(&q));
    int64_t t_nak = now_us();
    send_reply(&r);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_SELECTING);
    assert_int_equal(stats().dhcp.naks, 1);
    expect_dhcp(&d, 5, 1);
    assert_true(d.t - t_nak >= 2 * S_US && d.t - t_nak <= 2 * S_US + TICK);
    assert_int_not_equal(xid_of(&d), xid_of(&q));
    assert_false(has_opt(&d, 50));

    /* Bound, then a NAK to the renewal: the address goes at once. */
    r = std_reply(2, xid_of(&d));
    send_reply(&r);
    expect_dhcp(&q, 1, 3);
    r = std_reply(5, xid_of(&q));
    send_reply(&r);
    run_quiet(1.2);
    assert_true(has_addr(OFFER_IP));
    expect_dhcp(&d, LEASE, 3);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_RENEWING);
    r = std_reply(6, xid_of(&d));
    r.unicast = true;
    t_nak = now_us();
    send_reply(&r);
    assert_int_equal(stats().dhcp.naks, 2);
    assert_false(has_addr(OFFER_IP));
    uint32_t addrs[4], masks[4], gw;
    assert_int_equal(if_addrs(addrs, masks, &gw), 0);
    assert_int_equal(gw, 0);
    struct zsock_dhcp4_lease l = lease_now();
    assert_int_equal(l.state, ZSOCK_DHCP4_SELECTING);
    assert_int_equal(l.renewals, 0);
    expect_dhcp(&d, 5, 1);
    assert_true(d.t - t_nak >= 2 * S_US && d.t - t_nak <= 2 * S_US + TICK);
    assert_int_equal(d.ip_src, 0);
    assert_false(has_opt(&d, 50)); /* refused: not asked for again */
    link_down();
}

/* RFC 2131 4.1: retransmissions after 4, 8, 16, 32, 64, 64 s, each moved
 * by up to a second either way; the same xid; secs counting up. REQUESTs
 * back off the same way, and after the fifth the client starts over. */
static void test_backoff(void **state)
{
    (void)state;
    link_up();
    assert_int_equal(start_client(), 0);
    struct seen first, d;
    expect_dhcp(&first, 1, 1);
    const int gaps[] = {4, 8, 16, 32, 64, 64};
    int64_t prev = first.t;
    for (int k = 0; k < 6; k++) {
        expect_dhcp(&d, 70, 1);
        int64_t gap = d.t - prev;
        assert_true(gap >= (gaps[k] - 1) * S_US && gap <= (gaps[k] + 1) * S_US + TICK);
        assert_int_equal(xid_of(&d), xid_of(&first));
        assert_int_equal(secs_of(&d), (uint32_t)((d.t - first.t) / S_US));
        prev = d.t;
    }
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_SELECTING);
    /* An offer to the last one; then nobody answers the REQUESTs. */
    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    struct seen q;
    expect_dhcp(&q, 1, 3);
    assert_int_equal(secs_of(&q), secs_of(&d));
    prev = q.t;
    for (int k = 0; k < 4; k++) {
        expect_dhcp(&d, 70, 3);
        int64_t gap = d.t - prev;
        assert_true(gap >= (gaps[k] - 1) * S_US && gap <= (gaps[k] + 1) * S_US + TICK);
        assert_int_equal(xid_of(&d), xid_of(&q));
        assert_int_equal(opt_u32(&d, 50), OFFER_IP);
        prev = d.t;
    }
    expect_dhcp(&d, 70, 1);
    int64_t gap = d.t - prev;
    assert_true(gap >= 63 * S_US && gap <= 65 * S_US + TICK);
    assert_int_not_equal(xid_of(&d), xid_of(&q));
    assert_int_equal(secs_of(&d), 0);
    assert_int_equal(stats().dhcp.tx, 7 + 5 + 1);
    link_down();
}

/* Replies that are not for us, or broken, are dropped and counted; the
 * client goes on as if they never came. */
static void test_foreign_and_malformed(void **state)
{
    (void)state;
    struct seen d;
    link_up_discover(&d);
    uint32_t xid = xid_of(&d);
    struct reply r;

    r = std_reply(2, xid + 1); /* another exchange */
    send_reply(&r);
    r = std_reply(2, xid);
    r.chaddr = OTHER_MAC; /* another client */
    send_reply(&r);
    r = std_reply(2, xid);
    r.op = 1; /* a request, not a reply */
    send_reply(&r);
    r = std_reply(2, xid);
    r.htype = 6; /* not Ethernet */
    send_reply(&r);
    r = std_reply(5, xid); /* an ACK while selecting */
    send_reply(&r);
    struct zsock_net_stats st = stats();
    assert_int_equal(st.dhcp.drop_foreign, 5);
    assert_int_equal(st.dhcp.drop_malformed, 0);

    r = std_reply(2, xid);
    r.no_server_id = true;
    send_reply(&r);
    r = std_reply(2, xid);
    r.truncated = true; /* an option runs past the end */
    send_reply(&r);
    r = std_reply(2, xid);
    r.cookie = 0x63825364; /* not DHCP */
    send_reply(&r);
    r = std_reply(2, xid);
    r.yiaddr = 0; /* no address offered */
    send_reply(&r);
    r = std_reply(2, xid);
    r.yiaddr = 0xe0000005u; /* a multicast address */
    send_reply(&r);
    r = std_reply(2, xid);
    r.yiaddr = 0xc00002ffu; /* the subnet's broadcast address */
    send_reply(&r);
    st = stats();
    assert_int_equal(st.dhcp.drop_foreign, 5);
    assert_int_equal(st.dhcp.drop_malformed, 6);
    assert_int_equal(st.dhcp.rx, 11);
    assert_int_equal(st.dhcp.offers, 0);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_SELECTING);
    run_quiet(2); /* nothing answered any of them */

    /* A good one is still taken. */
    r = std_reply(2, xid);
    send_reply(&r);
    expect_dhcp(&d, 1, 3);
    assert_int_equal(opt_u32(&d, 50), OFFER_IP);
    /* An ACK with no lease time is broken too. */
    r = std_reply(5, xid);
    r.lease = 0;
    send_reply(&r);
    assert_int_equal(stats().dhcp.drop_malformed, 7);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_REQUESTING);
    link_down();
}

/* Two offers: the first is taken, the second and an ACK from its server
 * are ignored. */
static void test_two_offers(void **state)
{
    (void)state;
    struct seen d, q;
    link_up_discover(&d);
    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    struct reply r2 = std_reply(2, xid_of(&d));
    r2.server = SERVER2_IP;
    r2.src_mac = SERVER2_MAC;
    r2.yiaddr = OFFER2_IP;
    send_reply(&r2);
    expect_dhcp(&q, 1, 3);
    assert_int_equal(opt_u32(&q, 50), OFFER_IP);
    assert_int_equal(opt_u32(&q, 54), SERVER_IP);
    assert_false(wait_dhcp(&q, 0)); /* one REQUEST only */
    assert_int_equal(stats().dhcp.offers, 1);
    assert_int_equal(stats().dhcp.drop_foreign, 1);
    r2.type = 5;
    send_reply(&r2);
    assert_int_equal(stats().dhcp.drop_foreign, 2);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_REQUESTING);
    r = std_reply(5, xid_of(&d));
    send_reply(&r);
    run_quiet(1.2);
    struct zsock_dhcp4_lease l = lease_now();
    assert_int_equal(l.state, ZSOCK_DHCP4_BOUND);
    assert_int_equal(ntohl(l.addr.s_addr), OFFER_IP);
    assert_false(has_addr(OFFER2_IP));
    link_down();
}

/* Replies unicast to the address being offered (a server that ignores
 * the broadcast flag) reach the client, which has no address yet. */
static void test_unicast_replies(void **state)
{
    (void)state;
    struct seen d;
    link_up_discover(&d);
    struct reply r = std_reply(2, xid_of(&d));
    r.unicast = true;
    send_reply(&r);
    expect_dhcp(&d, 1, 3);
    r = std_reply(5, xid_of(&d));
    r.unicast = true;
    send_reply(&r);
    run_quiet(1.2);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_BOUND);
    assert_true(has_addr(OFFER_IP));
    link_down();
}

/* No subnet mask: the class default (10/8); T1 and T2 as the server says. */
static void test_defaults_and_server_times(void **state)
{
    (void)state;
    struct seen d;
    link_up_discover(&d);
    struct reply r = std_reply(2, xid_of(&d));
    r.yiaddr = 0x0a010203u;
    r.server = 0x0a000001u;
    r.router = 0x0a0000feu;
    r.mask = 0;
    r.t1 = 30;
    r.t2 = 60;
    send_reply(&r);
    expect_dhcp(&d, 1, 3);
    r.type = 5;
    r.xid = xid_of(&d);
    send_reply(&r);
    run_quiet(1.2);
    struct zsock_dhcp4_lease l = lease_now();
    assert_int_equal(l.state, ZSOCK_DHCP4_BOUND);
    assert_int_equal(l.prefix_len, 8);
    assert_int_equal(l.t1_s, 30);
    assert_int_equal(l.t2_s, 60);
    uint32_t addrs[4], masks[4], gw;
    assert_int_equal(if_addrs(addrs, masks, &gw), 1);
    assert_int_equal(masks[0], 0xff000000u);
    expect_dhcp(&d, 40, 3);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_RENEWING);
    assert_int_equal(d.ip_dst, 0x0a000001u);
    link_down();
}

/* Somebody answers the ARP check: DECLINE, and a new DISCOVER no sooner
 * than ten seconds later. */
static void test_arp_conflict_declines(void **state)
{
    (void)state;
    struct seen d;
    link_up_discover(&d);
    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    expect_dhcp(&d, 1, 3);
    r = std_reply(5, xid_of(&d));
    send_reply(&r);
    run_quiet(0.3);
    assert_int_equal(L.probe_tpa, OFFER_IP);
    int64_t t_conflict = now_us();
    arp_reply(OTHER_MAC, OFFER_IP, 0);
    expect_dhcp(&d, 0.1, 4);
    assert_memory_equal(d.eth_dst, BCAST_MAC, 6);
    assert_int_equal(d.ip_src, 0);
    assert_int_equal(d.ip_dst, BCAST);
    assert_int_equal(ciaddr_of(&d), 0);
    assert_int_equal(opt_u32(&d, 50), OFFER_IP);
    assert_int_equal(opt_u32(&d, 54), SERVER_IP);
    assert_false(has_opt(&d, 55));
    assert_int_equal(stats().dhcp.declines, 1);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_SELECTING);
    run_quiet(1.5);
    assert_false(has_addr(OFFER_IP)); /* never configured */
    expect_dhcp(&d, 15, 1);
    assert_true(d.t - t_conflict >= 10 * S_US && d.t - t_conflict <= 10 * S_US + TICK);
    assert_false(has_opt(&d, 50));
    link_down();
}

/* Stopping a bound client sends a RELEASE to its server and removes what
 * the lease configured, and only that. */
static void test_stop_releases(void **state)
{
    (void)state;
    link_up();
    z_stack_lock(L.s);
    assert_int_equal(z_netif_add_ipv4_locked(L.nif, STATIC, 0xffffff00u), 0);
    z_stack_unlock(L.s);
    dora();
    assert_true(has_addr(OFFER_IP));
    assert_int_equal(stop_client(), 0);
    struct seen d;
    expect_dhcp(&d, 1, 7);
    assert_memory_equal(d.eth_dst, SERVER_MAC, 6);
    assert_int_equal(d.ip_src, OFFER_IP);
    assert_int_equal(d.ip_dst, SERVER_IP);
    assert_int_equal(ciaddr_of(&d), OFFER_IP);
    assert_int_equal(opt_u32(&d, 54), SERVER_IP);
    assert_false(has_opt(&d, 50));
    assert_false(has_opt(&d, 55));
    uint32_t addrs[4], masks[4], gw;
    assert_int_equal(if_addrs(addrs, masks, &gw), 1);
    assert_int_equal(addrs[0], STATIC);
    assert_int_equal(gw, 0);
    assert_int_equal(lease_now().state, ZSOCK_DHCP4_OFF);
    assert_int_equal(stop_client(), -EALREADY);
    run_quiet(LEASE);

    /* Stopped before any lease: nothing to release. */
    assert_int_equal(start_client(), 0);
    expect_dhcp(&d, 1, 1);
    assert_int_equal(d.ip_src, STATIC); /* the interface's own address */
    assert_int_equal(stop_client(), 0);
    run_quiet(100);
    assert_true(has_addr(STATIC));
    link_down();
}

struct waiter {
    pthread_t thread;
    int timeout_ms;
    int rc;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->rc = z_dhcp4_wait(L.s, L.nif->index, w->timeout_ms);
    return NULL;
}

static void waiter_start(struct waiter *w)
{
    w->timeout_ms = -1; /* a missed wake-up hangs the test (CTest's timeout fails it) */
    w->rc = 1;
    assert_int_equal(pthread_create(&w->thread, NULL, waiter_main, w), 0);
    sleep_ms(50); /* most likely waiting by now; the result is the same if not */
}

/* zsock_dhcp4_wait's core: woken by the lease, by a stop, by the removal
 * of the interface. */
static void test_wait(void **state)
{
    (void)state;
    link_up();
    int idx = L.nif->index;
    assert_int_equal(z_dhcp4_wait(L.s, idx, 0), -EALREADY);
    assert_int_equal(z_dhcp4_wait(L.s, idx + 1, 0), -ENODEV);
    assert_int_equal(start_client(), 0);
    assert_int_equal(z_dhcp4_wait(L.s, idx, 0), -ETIMEDOUT);
    assert_int_equal(z_dhcp4_wait(L.s, idx, 20), -ETIMEDOUT);
    struct waiter w;
    waiter_start(&w);
    struct seen d;
    expect_dhcp(&d, 1, 1);
    struct reply r = std_reply(2, xid_of(&d));
    send_reply(&r);
    expect_dhcp(&d, 1, 3);
    r = std_reply(5, xid_of(&d));
    send_reply(&r);
    run_quiet(1.2);
    pthread_join(w.thread, NULL);
    assert_int_equal(w.rc, 0);
    assert_int_equal(z_dhcp4_wait(L.s, idx, 0), 0);
    assert_int_equal(stop_client(), 0);

    assert_int_equal(start_client(), 0);
    waiter_start(&w);
    assert_int_equal(stop_client(), 0);
    pthread_join(w.thread, NULL);
    assert_int_equal(w.rc, -EALREADY);

    assert_int_equal(start_client(), 0);
    waiter_start(&w);
    z_stack_lock(L.s);
    z_netif_remove_locked(L.nif);
    z_stack_unlock(L.s);
    pthread_join(w.thread, NULL);
    assert_int_equal(w.rc, -ENODEV);
    link_down();
}

/* An interface removed under a bound client, and a stack destroyed with
 * one running: nothing leaks, nothing is used after it is freed (ASan). */
static void test_teardown_while_running(void **state)
{
    (void)state;
    link_up();
    dora();
    z_stack_lock(L.s);
    z_netif_remove_locked(L.nif);
    z_stack_unlock(L.s);
    z_stack_advance(L.s, TICK);
    link_down();
    link_up();
    assert_int_equal(start_client(), 0);
    link_down();
}

#ifdef CONFIG_DNS_RESOLVER
static bool dns_has(const char *want)
{
    char list[8][ZSOCK_DNS_SERVER_TEXT];
    int n = zsock_dns_get_servers(list, 8);
    for (int i = 0; i < n && i < 8; i++) {
        if (strcmp(list[i], want) == 0) {
            return true;
        }
    }
    return false;
}
#endif

/* The lease's DNS servers go to the resolver and leave with the lease. */
static void test_dns_handoff(void **state)
{
    (void)state;
#ifdef CONFIG_DNS_RESOLVER
    if (getenv("ZSOCK_DNS") != NULL) {
        skip();
    }
    link_up();
    /* Only the stack the resolver uses hands servers over: pretend this is it. */
    L.s->is_default = true;
    dora();
    assert_true(dns_has("192.0.2.53:53"));
    assert_true(dns_has("8.8.8.8:53"));
    assert_int_equal(stop_client(), 0);
    assert_false(dns_has("192.0.2.53:53"));
    /* Another stack's lease is not the resolver's business. */
    link_down();
    link_up();
    dora();
    assert_false(dns_has("192.0.2.53:53"));
    link_down();
#else
    skip();
#endif
}

/* The public calls on the default stack: their error codes. */
static void test_api_errors(void **state)
{
    (void)state;
    struct zsock_dhcp4_lease l;
    assert_int_equal(zsock_dhcp4_start(1), -ENOTSUP); /* loopback */
    assert_int_equal(zsock_dhcp4_start(4242), -ENODEV);
    assert_int_equal(zsock_dhcp4_stop(4242), -ENODEV);
    assert_int_equal(zsock_dhcp4_get(4242, &l), -ENODEV);
    assert_int_equal(zsock_dhcp4_wait(4242, 0), -ENODEV);
    assert_int_equal(zsock_dhcp4_get(1, NULL), -EINVAL);
    assert_int_equal(zsock_dhcp4_get(1, &l), 0);
    assert_int_equal(l.state, ZSOCK_DHCP4_OFF);
    assert_int_equal(zsock_dhcp4_stop(1), -EALREADY);
    assert_int_equal(zsock_dhcp4_wait(1, 10), -EALREADY);

    /* A frame pipe whose peer is absent: an Ethernet interface nobody answers on. */
    char a[64], b[64];
    snprintf(a, sizeof(a), "/tmp/zsock-dhcp-test-a-%d", (int)getpid());
    snprintf(b, sizeof(b), "/tmp/zsock-dhcp-test-b-%d", (int)getpid());
    unlink(a);
    int idx = zsock_if_add_pipe(a, b);
    assert_true(idx > 1);
    assert_int_equal(zsock_dhcp4_start(idx), 0);
    assert_int_equal(zsock_dhcp4_start(idx), -EALREADY);
    assert_int_equal(zsock_dhcp4_get(idx, &l), 0);
    assert_int_equal(l.state, ZSOCK_DHCP4_SELECTING);
    assert_int_equal(zsock_dhcp4_wait(idx, 50), -ETIMEDOUT);
    struct zsock_net_stats st;
    assert_int_equal(zsock_net_stats(&st), 0);
    assert_true(st.dhcp.tx >= 1);
    assert_int_equal(zsock_dhcp4_stop(idx), 0);
    assert_int_equal(zsock_dhcp4_stop(idx), -EALREADY);
    assert_int_equal(zsock_dhcp4_wait(idx, 0), -EALREADY);
    assert_int_equal(zsock_dhcp4_get(idx, &l), 0);
    assert_int_equal(l.state, ZSOCK_DHCP4_OFF);
    assert_int_equal(zsock_if_remove(idx), 0);
    assert_int_equal(zsock_dhcp4_start(idx), -ENODEV);
    unlink(a);
}

#else  /* !CONFIG_NET_DHCPV4 */

/* Built without the client: the calls say so. */
static void test_api_without_client(void **state)
{
    (void)state;
    struct zsock_dhcp4_lease l;
    assert_int_equal(zsock_dhcp4_start(1), -ENOTSUP);
    assert_int_equal(zsock_dhcp4_stop(1), -ENOTSUP);
    assert_int_equal(zsock_dhcp4_wait(1, 0), -ENOTSUP);
    assert_int_equal(zsock_dhcp4_get(1, &l), 0);
    assert_int_equal(l.state, ZSOCK_DHCP4_OFF);
    assert_int_equal(zsock_dhcp4_get(4242, &l), -ENODEV);
}
#endif /* CONFIG_NET_DHCPV4 */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fixed_and_pad_end),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_overload_and_concatenation),
        cmocka_unit_test(test_build_client_forms),
        cmocka_unit_test(test_emit_round_trip),
#ifdef CONFIG_NET_DHCPV4
        cmocka_unit_test(test_dora_configures),
        cmocka_unit_test(test_renew_at_t1),
        cmocka_unit_test(test_rebind_at_t2),
        cmocka_unit_test(test_expiry_starts_over),
        cmocka_unit_test(test_nak),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_foreign_and_malformed),
        cmocka_unit_test(test_two_offers),
        cmocka_unit_test(test_unicast_replies),
        cmocka_unit_test(test_defaults_and_server_times),
        cmocka_unit_test(test_arp_conflict_declines),
        cmocka_unit_test(test_stop_releases),
        cmocka_unit_test(test_wait),
        cmocka_unit_test(test_teardown_while_running),
        cmocka_unit_test(test_dns_handoff),
        cmocka_unit_test(test_api_errors),
#else
        cmocka_unit_test(test_api_without_client),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
