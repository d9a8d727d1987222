/* MLDv2 for hosts (RFC 3810), enough for switches that snoop: the groups
 * an interface listens to (all-nodes, the solicited-node group of each
 * address, later those sockets join), unsolicited reports when a group is
 * joined (two, a second apart) or left (one), and answers to general and
 * group-specific queries after a random delay up to the query's maximum
 * response delay. Reports go from the link-local address (:: while it is
 * tentative, RFC 3810 5.2.13) to ff02::16 with hop limit 1 and a Router
 * Alert. ff02::1 is never reported (RFC 3810 6). An MLDv1 query is answered
 * with an MLDv2 report too: there is no MLDv1 compatibility mode. */
#include "net/ip6.h"

#include <errno.h>
#include <string.h>

static struct z_mld_group *group_find(const struct z_netif *nif, const uint8_t a[16])
{
    if (nif->ip6 == NULL) {
        return NULL;
    }
    for (int i = 0; i < Z_IP6_MAX_GROUPS; i++) {
        struct z_mld_group *g = (struct z_mld_group *)&nif->ip6->groups[i];
        if (g->refs > 0 && memcmp(g->addr, a, Z_IPV6_ALEN) == 0) {
            return g;
        }
    }
    return NULL;
}

bool z_mld_is_member(const struct z_netif *nif, const uint8_t group[Z_IPV6_ALEN])
{
    return group_find(nif, group) != NULL;
}

static bool reportable(const uint8_t a[16])
{
    return memcmp(a, z_ipv6_all_nodes, Z_IPV6_ALEN) != 0 && z_ipv6_scope(a) > Z_IPV6_SCOPE_IFACE;
}

static void send_report(struct z_netif *nif, const struct z_mld2_record *recs, size_t n)
{
    struct z_stack *s = nif->stack;
    if (n == 0 || !(nif->flags & ZSOCK_IF_UP) || !(nif->flags & ZSOCK_IF_ETHERNET)) {
        return;
    }
    size_t len = Z_IPV6_RA_HBH_LEN + Z_ICMP6_HLEN + Z_MLD2_REC_LEN * n;
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, len);
    if (p == NULL) {
        s->stats.ipv6.no_buffer++;
        return;
    }
    uint8_t src[Z_IPV6_ALEN] = {0};
    const struct z_ip6_addr *ll = z_ip6_link_local(nif);
    if (ll != NULL) {
        memcpy(src, ll->addr, Z_IPV6_ALEN);
    }
    uint8_t *at = z_pbuf_put(p, len);
    z_ipv6_hbh_router_alert_emit(at, Z_IPV6_RA_HBH_LEN, Z_IPPROTO_ICMPV6, 0);
    if (z_mld2_report_emit(at + Z_IPV6_RA_HBH_LEN, len - Z_IPV6_RA_HBH_LEN, src,
                           z_ipv6_all_mldv2_routers, recs, n) < 0) {
        z_pbuf_free(p);
        return;
    }
    s->stats.icmp6.tx++;
    s->stats.icmp6.mld_report_tx++;
    z_ip6_send_link(nif, src, z_ipv6_all_mldv2_routers, Z_IPPROTO_HOPOPTS, 1, p);
}

static void report_one(struct z_netif *nif, const struct z_mld_group *g, uint8_t type)
{
    struct z_mld2_record r = {.type = type};
    memcpy(r.addr, g->addr, Z_IPV6_ALEN);
    send_report(nif, &r, 1);
}

int z_mld_join_locked(struct z_netif *nif, const uint8_t group[Z_IPV6_ALEN])
{
    if (nif->ip6 == NULL) {
        return -ENOMEM;
    }
    struct z_mld_group *g = group_find(nif, group);
    if (g != NULL) {
        g->refs++;
        return 0;
    }
    for (int i = 0; i < Z_IP6_MAX_GROUPS && g == NULL; i++) {
        if (nif->ip6->groups[i].refs == 0) {
            g = &nif->ip6->groups[i];
        }
    }
    if (g == NULL) {
        return -ENOSPC;
    }
    memset(g, 0, sizeof(*g));
    memcpy(g->addr, group, Z_IPV6_ALEN);
    g->refs = 1;
    g->respond_at = INT64_MAX;
    if (reportable(group) && (nif->flags & ZSOCK_IF_UP)) {
        /* The state change report now, its repetition a second later. */
        report_one(nif, g, Z_MLD2_CHANGE_TO_EXCLUDE);
        g->unsolicited = Z_MLD_UNSOLICITED - 1;
        g->next_report = z_stack_now_us(nif->stack) + Z_MLD_UNSOLICITED_US;
    }
    return 0;
}

void z_mld_leave_locked(struct z_netif *nif, const uint8_t group[Z_IPV6_ALEN])
{
    struct z_mld_group *g = group_find(nif, group);
    if (g == NULL || --g->refs > 0) {
        return;
    }
    if (reportable(group)) {
        report_one(nif, g, Z_MLD2_CHANGE_TO_INCLUDE);
    }
    memset(g, 0, sizeof(*g));
}

void z_mld_up_locked(struct z_netif *nif)
{
    int64_t now = z_stack_now_us(nif->stack);
    for (int i = 0; i < Z_IP6_MAX_GROUPS; i++) {
        struct z_mld_group *g = &nif->ip6->groups[i];
        if (g->refs > 0 && reportable(g->addr)) {
            g->unsolicited = Z_MLD_UNSOLICITED;
            g->next_report = now;
        }
    }
}

void z_mld_query_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, const uint8_t *msg,
                              size_t len)
{
    struct z_stack *s = nif->stack;
    struct z_mld_query q;
    if (ip->hop_limit != 1 || z_mld_query_parse(msg, len, ip->src, ip->dst, &q) < 0) {
        s->stats.icmp6.drop_malformed++;
        return;
    }
    s->stats.icmp6.mld_query_rx++;
    int64_t now = z_stack_now_us(s);
    int64_t at = now + z_ip6_random_us(nif->ip6, 0, (int64_t)q.max_resp_ms * 1000);
    struct z_ip6_if *ip6 = nif->ip6;
    if (z_ipv6_is_unspecified(q.group)) {
        if (at < ip6->general_report_at) {
            ip6->general_report_at = at;
        }
        return;
    }
    struct z_mld_group *g = group_find(nif, q.group);
    if (g != NULL && reportable(g->addr) && at < g->respond_at) {
        g->respond_at = at;
    }
}

void z_mld_tick_locked(struct z_netif *nif, int64_t now)
{
    struct z_ip6_if *ip6 = nif->ip6;
    if (now >= ip6->general_report_at) {
        /* One report for every group (RFC 3810 6.2, current state records). */
        struct z_mld2_record recs[Z_IP6_MAX_GROUPS];
        size_t n = 0;
        for (int i = 0; i < Z_IP6_MAX_GROUPS; i++) {
            struct z_mld_group *g = &ip6->groups[i];
            if (g->refs > 0 && reportable(g->addr)) {
                recs[n].type = Z_MLD2_MODE_IS_EXCLUDE;
                memcpy(recs[n].addr, g->addr, Z_IPV6_ALEN);
                n++;
                g->respond_at = INT64_MAX; /* answered by this one */
            }
        }
        ip6->general_report_at = INT64_MAX;
        send_report(nif, recs, n);
    }
    for (int i = 0; i < Z_IP6_MAX_GROUPS; i++) {
        struct z_mld_group *g = &ip6->groups[i];
        if (g->refs == 0) {
            continue;
        }
        if (g->unsolicited > 0 && now >= g->next_report) {
            g->unsolicited--;
            g->next_report = now + Z_MLD_UNSOLICITED_US;
            report_one(nif, g, Z_MLD2_CHANGE_TO_EXCLUDE);
        }
        if (now >= g->respond_at) {
            g->respond_at = INT64_MAX;
            report_one(nif, g, Z_MLD2_MODE_IS_EXCLUDE);
        }
    }
}
