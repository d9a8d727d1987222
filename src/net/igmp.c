/* IGMP (RFC 3376, with RFC 2236 compatibility): the IPv4 groups an
 * interface has joined, with a reference per socket membership; reports
 * when a group is joined (twice, a second apart) and left, answers to
 * queries after a random delay within their maximum response time, and v2
 * messages while a v1 or v2 querier has been heard in the last 260 s
 * (Older Version Querier Present Timeout). Reports carry TTL 1 and the
 * Router Alert option. Everything runs under the core lock. */
#include "net/net.h"

#include <errno.h>
#include <string.h>

#define IGMP_UNSOLICITED    2                 /* Robustness Variable */
#define IGMP_UNSOLICITED_US 1000000LL         /* Unsolicited Report Interval */
#define IGMP_V2_PRESENT_US  (260LL * 1000000) /* 2 * 125 s + 10 s */
#define IGMP_IP_HLEN        24                /* with Router Alert */

struct z_igmp_group {
    uint32_t addr;
    uint16_t refs;       /* 0: free slot */
    uint8_t unsolicited; /* join reports still to send */
    int64_t next_report;
    int64_t respond_at; /* answer to a query; INT64_MAX: none */
};

struct z_igmp_if {
    struct z_igmp_group groups[CONFIG_NET_IGMP_GROUPS];
    int64_t v2_until;   /* an older querier was heard until then */
    int64_t general_at; /* answer to a general query; INT64_MAX: none */
};

static int64_t random_upto(int64_t max_us)
{
    uint32_t r;
    z_entropy(&r, sizeof(r));
    return max_us > 0 ? (int64_t)(r % (uint64_t)max_us) : 0;
}

static bool v2_mode(const struct z_igmp_if *g, int64_t now)
{
    return now < g->v2_until;
}

/* Send an IGMP message (msg, len) to dst from the interface's address. */
static void send_igmp(struct z_netif *nif, uint32_t dst, const uint8_t *msg, size_t len)
{
    struct z_stack *s = nif->stack;
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, IGMP_IP_HLEN + len);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return;
    }
    uint8_t *b = z_pbuf_put(p, IGMP_IP_HLEN + len);
    memset(b, 0, IGMP_IP_HLEN);
    b[0] = 0x40 | IGMP_IP_HLEN / 4;
    b[1] = 0xc0; /* internetwork control, as other hosts send it */
    z_put_be16(b + 2, (uint16_t)(IGMP_IP_HLEN + len));
    z_put_be16(b + 4, s->ip_id++);
    b[8] = 1; /* TTL: never beyond the link */
    b[9] = Z_IPPROTO_IGMP;
    z_put_be32(b + 12, nif->n_ipv4 > 0 ? nif->ipv4[0].addr : 0);
    z_put_be32(b + 16, dst);
    b[20] = 0x94; /* Router Alert (RFC 2113), value 0 */
    b[21] = 4;
    z_put_be16(b + 10, z_csum_finish(z_csum_add(0, b, IGMP_IP_HLEN)));
    memcpy(b + IGMP_IP_HLEN, msg, len);
    s->stats.igmp.tx++;
    z_arp_output_locked(nif, dst, p);
}

/* Report groups (n of them; v3: one message with a record of `type` each). */
static void report(struct z_netif *nif, uint8_t type, const uint32_t *groups, int n)
{
    uint8_t msg[8 + CONFIG_NET_IGMP_GROUPS * Z_IGMP_V3_RECORD_SIZE];
    if (n == 0) {
        return;
    }
    if (v2_mode(nif->igmp, z_stack_now_us(nif->stack))) {
        for (int i = 0; i < n; i++) {
            bool leave = type == Z_IGMP_TO_INCLUDE;
            size_t len = z_igmp_v2_emit(msg, sizeof(msg),
                                        leave ? Z_IGMP_V2_LEAVE : Z_IGMP_V2_REPORT, groups[i]);
            send_igmp(nif, leave ? Z_IGMP_ALL_ROUTERS : groups[i], msg, len);
        }
        return;
    }
    size_t len = z_igmp_v3_report_emit(msg, sizeof(msg), type, groups, n);
    send_igmp(nif, Z_IGMP_V3_ROUTERS, msg, len);
}

static struct z_igmp_group *find(struct z_igmp_if *g, uint32_t addr)
{
    for (int i = 0; g != NULL && i < CONFIG_NET_IGMP_GROUPS; i++) {
        if (g->groups[i].refs > 0 && g->groups[i].addr == addr) {
            return &g->groups[i];
        }
    }
    return NULL;
}

int z_igmp_join_locked(struct z_netif *nif, uint32_t group)
{
    if (!z_ipv4_is_multicast(group)) {
        return -EINVAL;
    }
    if (nif->igmp == NULL) {
        nif->igmp = z_calloc(1, sizeof(*nif->igmp));
        if (nif->igmp == NULL) {
            return -ENOMEM;
        }
        nif->igmp->general_at = INT64_MAX;
    }
    struct z_igmp_group *e = find(nif->igmp, group);
    if (e != NULL) {
        e->refs++;
        return 0;
    }
    for (int i = 0; i < CONFIG_NET_IGMP_GROUPS && e == NULL; i++) {
        if (nif->igmp->groups[i].refs == 0) {
            e = &nif->igmp->groups[i];
        }
    }
    if (e == NULL) {
        return -ENOBUFS;
    }
    memset(e, 0, sizeof(*e));
    e->addr = group;
    e->refs = 1;
    e->respond_at = INT64_MAX;
    /* 224.0.0.1 is never reported (RFC 3376 6); on other links there is no one to tell. */
    if (group != Z_IGMP_ALL_HOSTS && (nif->flags & ZSOCK_IF_ETHERNET)) {
        e->unsolicited = IGMP_UNSOLICITED;
        e->next_report = z_stack_now_us(nif->stack);
        if (nif->flags & ZSOCK_IF_UP) {
            report(nif, Z_IGMP_TO_EXCLUDE, &group, 1);
            e->unsolicited--;
            e->next_report += IGMP_UNSOLICITED_US;
        }
    }
    return 0;
}

int z_igmp_leave_locked(struct z_netif *nif, uint32_t group)
{
    struct z_igmp_group *e = find(nif->igmp, group);
    if (e == NULL) {
        return -EADDRNOTAVAIL;
    }
    if (--e->refs == 0 && group != Z_IGMP_ALL_HOSTS && (nif->flags & ZSOCK_IF_ETHERNET) &&
        (nif->flags & ZSOCK_IF_UP)) {
        report(nif, Z_IGMP_TO_INCLUDE, &group, 1);
    }
    return 0;
}

bool z_igmp_is_member(const struct z_netif *nif, uint32_t group)
{
    return group == Z_IGMP_ALL_HOSTS || find(nif->igmp, group) != NULL;
}

bool z_igmp_mac_wanted(const struct z_netif *nif, const uint8_t mac[Z_ETH_ALEN])
{
    uint8_t m[Z_ETH_ALEN];
    z_ipv4_mcast_mac(Z_IGMP_ALL_HOSTS, m);
    if (memcmp(m, mac, Z_ETH_ALEN) == 0) {
        return true;
    }
    for (int i = 0; nif->igmp != NULL && i < CONFIG_NET_IGMP_GROUPS; i++) {
        if (nif->igmp->groups[i].refs > 0) {
            z_ipv4_mcast_mac(nif->igmp->groups[i].addr, m);
            if (memcmp(m, mac, Z_ETH_ALEN) == 0) {
                return true;
            }
        }
    }
    return false;
}

void z_igmp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    struct z_igmp_query q;
    int rc = z_igmp_parse_query(p->data + ip->ihl, p->len - ip->ihl, &q);
    z_pbuf_free(p);
    if (rc == -EBADMSG) {
        s->stats.igmp.drop_malformed++;
        return;
    }
    s->stats.igmp.rx++;
    struct z_igmp_if *g = nif->igmp;
    if (rc < 0 || g == NULL) {
        return; /* another host's report or leave; or no group to report */
    }
    s->stats.igmp.queries_rx++;
    int64_t now = z_stack_now_us(s);
    if (q.version < 3) {
        g->v2_until = now + IGMP_V2_PRESENT_US;
    }
    int64_t at = now + random_upto((int64_t)q.max_resp_ms * 1000);
    if (q.group == 0 && q.version == 3) {
        g->general_at = at < g->general_at ? at : g->general_at;
        return;
    }
    for (int i = 0; i < CONFIG_NET_IGMP_GROUPS; i++) {
        struct z_igmp_group *e = &g->groups[i];
        if (e->refs > 0 && e->addr != Z_IGMP_ALL_HOSTS && (q.group == 0 || q.group == e->addr)) {
            e->respond_at = at < e->respond_at ? at : e->respond_at;
        }
    }
}

void z_igmp_tick_locked(struct z_netif *nif, int64_t now)
{
    struct z_igmp_if *g = nif->igmp;
    if (g == NULL || !(nif->flags & ZSOCK_IF_UP) || !(nif->flags & ZSOCK_IF_ETHERNET)) {
        return;
    }
    uint32_t all[CONFIG_NET_IGMP_GROUPS];
    int n = 0;
    for (int i = 0; i < CONFIG_NET_IGMP_GROUPS; i++) {
        struct z_igmp_group *e = &g->groups[i];
        if (e->refs == 0 || e->addr == Z_IGMP_ALL_HOSTS) {
            continue;
        }
        all[n++] = e->addr;
        if (e->unsolicited > 0 && now >= e->next_report) {
            report(nif, Z_IGMP_TO_EXCLUDE, &e->addr, 1);
            e->unsolicited--;
            e->next_report = now + IGMP_UNSOLICITED_US;
        }
        if (now >= e->respond_at) {
            report(nif, Z_IGMP_IS_EXCLUDE, &e->addr, 1);
            e->respond_at = INT64_MAX;
        }
    }
    if (now >= g->general_at) {
        report(nif, Z_IGMP_IS_EXCLUDE, all, n); /* every group in one message */
        g->general_at = INT64_MAX;
    }
}

void z_igmp_up_locked(struct z_netif *nif)
{
    struct z_igmp_if *g = nif->igmp;
    int64_t now = z_stack_now_us(nif->stack);
    for (int i = 0; g != NULL && i < CONFIG_NET_IGMP_GROUPS; i++) {
        if (g->groups[i].refs > 0 && g->groups[i].addr != Z_IGMP_ALL_HOSTS) {
            g->groups[i].unsolicited = IGMP_UNSOLICITED;
            g->groups[i].next_report = now;
        }
    }
}

void z_igmp_free_locked(struct z_netif *nif)
{
    z_free(nif->igmp);
    nif->igmp = NULL;
}
