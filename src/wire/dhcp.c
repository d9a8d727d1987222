/* DHCP messages (RFC 2131, RFC 2132, RFC 3396): parse, emit, and the
 * client's messages. Options are read in two steps: every field that holds
 * options is first checked to be well formed, then each option this module
 * knows is gathered, its pieces concatenated in field order. */
#include "wire/dhcp.h"

#include <errno.h>
#include <string.h>

#include "wire/wire.h"

/* Offsets in the fixed part. */
#define OFF_SNAME   44
#define OFF_FILE    108
#define SNAME_LEN   64
#define FILE_LEN    128
#define MAX_FIELDS  3
#define MIN_MAXSIZE 576 /* RFC 2132 9.10: the smallest legal option 57 */

/* A field holding options: buf[off, end). */
struct field {
    size_t off;
    size_t end;
};

/* Every option stays inside the field (pad and end are single bytes;
 * anything after end is padding). */
static int field_check(const uint8_t *buf, struct field f)
{
    size_t i = f.off;
    while (i < f.end) {
        uint8_t code = buf[i];
        if (code == Z_DHCP_OPT_PAD) {
            i++;
            continue;
        }
        if (code == Z_DHCP_OPT_END) {
            return 0;
        }
        if (f.end - i < 2 || (size_t)buf[i + 1] > f.end - i - 2) {
            return -EBADMSG;
        }
        i += 2 + (size_t)buf[i + 1];
    }
    return 0;
}

/* Copy the data of every instance of `code` in the fields, in order, into
 * out[0, cap) and return the total length, which may exceed cap (RFC 3396:
 * the instances of one option form a single value). */
static size_t gather(const uint8_t *buf, const struct field *fields, int nfields, uint8_t code,
                     uint8_t *out, size_t cap)
{
    size_t total = 0;
    for (int k = 0; k < nfields; k++) {
        size_t i = fields[k].off;
        while (i < fields[k].end) {
            uint8_t c = buf[i];
            if (c == Z_DHCP_OPT_PAD) {
                i++;
                continue;
            }
            if (c == Z_DHCP_OPT_END) {
                break;
            }
            size_t l = buf[i + 1]; /* field_check() made sure it is there */
            if (c == code) {
                if (total < cap) {
                    size_t n = cap - total < l ? cap - total : l;
                    memcpy(out + total, buf + i + 2, n);
                }
                total += l;
            }
            i += 2 + l;
        }
    }
    return total;
}

/* An option of exactly four bytes: true with its value. */
static bool get_u32(const uint8_t *buf, const struct field *f, int n, uint8_t code, uint32_t *v)
{
    uint8_t b[4];
    if (gather(buf, f, n, code, b, sizeof(b)) != 4) {
        return false;
    }
    *v = z_get_be32(b);
    return true;
}

/* A name option: cut at the first NUL and at Z_DHCP_NAME_MAX bytes. */
static uint8_t get_name(const uint8_t *buf, const struct field *f, int n, uint8_t code, char *out)
{
    uint8_t tmp[Z_DHCP_NAME_MAX];
    size_t total = gather(buf, f, n, code, tmp, sizeof(tmp));
    size_t len = total < sizeof(tmp) ? total : sizeof(tmp);
    const uint8_t *nul = memchr(tmp, 0, len);
    if (nul != NULL) {
        len = (size_t)(nul - tmp);
    }
    memcpy(out, tmp, len);
    out[len] = '\0';
    return (uint8_t)len;
}

int z_dhcp_parse(const uint8_t *buf, size_t len, struct z_dhcp_msg *m)
{
    if (len < Z_DHCP_HDR_LEN || z_get_be32(buf + Z_DHCP_FIXED_LEN) != Z_DHCP_MAGIC) {
        return -EBADMSG;
    }
    if (buf[0] != Z_DHCP_OP_REQUEST && buf[0] != Z_DHCP_OP_REPLY) {
        return -EBADMSG;
    }
    struct field fields[MAX_FIELDS] = {{Z_DHCP_HDR_LEN, len}};
    int nfields = 1;
    if (field_check(buf, fields[0]) < 0) {
        return -EBADMSG;
    }
    /* Option 52 only counts in the options field itself. */
    uint8_t ov[2];
    size_t ovlen = gather(buf, fields, 1, Z_DHCP_OPT_OVERLOAD, ov, sizeof(ov));
    if (ovlen != 0) {
        if (ovlen != 1 || ov[0] < 1 || ov[0] > 3) {
            return -EBADMSG;
        }
        /* RFC 3396 section 7: options, then file, then sname. */
        if (ov[0] & 1) {
            fields[nfields++] = (struct field){OFF_FILE, OFF_FILE + FILE_LEN};
        }
        if (ov[0] & 2) {
            fields[nfields++] = (struct field){OFF_SNAME, OFF_SNAME + SNAME_LEN};
        }
        for (int k = 1; k < nfields; k++) {
            if (field_check(buf, fields[k]) < 0) {
                return -EBADMSG;
            }
        }
    }

    memset(m, 0, sizeof(*m));
    m->op = buf[0];
    m->htype = buf[1];
    m->hlen = buf[2];
    m->hops = buf[3];
    m->xid = z_get_be32(buf + 4);
    m->secs = z_get_be16(buf + 8);
    m->flags = z_get_be16(buf + 10);
    m->ciaddr = z_get_be32(buf + 12);
    m->yiaddr = z_get_be32(buf + 16);
    m->siaddr = z_get_be32(buf + 20);
    m->giaddr = z_get_be32(buf + 24);
    memcpy(m->chaddr, buf + 28, sizeof(m->chaddr));

    const struct field *f = fields;
    int n = nfields;
    uint8_t tmp[4 * Z_DHCP_MAX_DNS];
    if (gather(buf, f, n, Z_DHCP_OPT_MSG_TYPE, tmp, 1) == 1) {
        m->msg_type = tmp[0];
        m->have |= Z_DHCP_HAVE_MSG_TYPE;
    }
    if (get_u32(buf, f, n, Z_DHCP_OPT_SERVER_ID, &m->server_id)) {
        m->have |= Z_DHCP_HAVE_SERVER_ID;
    }
    if (get_u32(buf, f, n, Z_DHCP_OPT_SUBNET_MASK, &m->subnet_mask)) {
        m->have |= Z_DHCP_HAVE_SUBNET_MASK;
    }
    size_t l = gather(buf, f, n, Z_DHCP_OPT_ROUTER, tmp, 4);
    if (l >= 4 && l % 4 == 0) {
        m->router = z_get_be32(tmp);
        m->have |= Z_DHCP_HAVE_ROUTER;
    }
    l = gather(buf, f, n, Z_DHCP_OPT_DNS, tmp, sizeof(tmp));
    if (l >= 4 && l % 4 == 0) {
        size_t k = l / 4 < Z_DHCP_MAX_DNS ? l / 4 : Z_DHCP_MAX_DNS;
        for (size_t i = 0; i < k; i++) {
            m->dns[i] = z_get_be32(tmp + 4 * i);
        }
        m->n_dns = (uint8_t)k;
        m->have |= Z_DHCP_HAVE_DNS;
    }
    if (get_u32(buf, f, n, Z_DHCP_OPT_REQUESTED_IP, &m->requested_ip)) {
        m->have |= Z_DHCP_HAVE_REQUESTED_IP;
    }
    if (get_u32(buf, f, n, Z_DHCP_OPT_LEASE_TIME, &m->lease_s)) {
        m->have |= Z_DHCP_HAVE_LEASE_TIME;
    }
    if (get_u32(buf, f, n, Z_DHCP_OPT_T1, &m->t1_s)) {
        m->have |= Z_DHCP_HAVE_T1;
    }
    if (get_u32(buf, f, n, Z_DHCP_OPT_T2, &m->t2_s)) {
        m->have |= Z_DHCP_HAVE_T2;
    }
    if (gather(buf, f, n, Z_DHCP_OPT_MAX_SIZE, tmp, 2) == 2) {
        m->max_size = z_get_be16(tmp);
        m->have |= Z_DHCP_HAVE_MAX_SIZE;
    }
    m->host_name_len = get_name(buf, f, n, Z_DHCP_OPT_HOST_NAME, m->host_name);
    if (m->host_name_len > 0) {
        m->have |= Z_DHCP_HAVE_HOST_NAME;
    }
    m->domain_len = get_name(buf, f, n, Z_DHCP_OPT_DOMAIN_NAME, m->domain);
    if (m->domain_len > 0) {
        m->have |= Z_DHCP_HAVE_DOMAIN_NAME;
    }
    l = gather(buf, f, n, Z_DHCP_OPT_CLIENT_ID, m->client_id, sizeof(m->client_id));
    if (l > 0) {
        m->client_id_len = (uint8_t)(l < sizeof(m->client_id) ? l : sizeof(m->client_id));
        m->have |= Z_DHCP_HAVE_CLIENT_ID;
    }
    l = gather(buf, f, n, Z_DHCP_OPT_PARAM_LIST, m->params, sizeof(m->params));
    if (l > 0) {
        m->n_params = (uint8_t)(l < sizeof(m->params) ? l : sizeof(m->params));
        m->have |= Z_DHCP_HAVE_PARAM_LIST;
    }
    return 0;
}

/* ---- emit ---------------------------------------------------------------------------------- */

/* Options are written to a bounded cursor; running out of room is noted
 * once and checked at the end. */
struct cursor {
    uint8_t *p;
    size_t len;
    size_t cap;
};

static void put_opt(struct cursor *c, uint8_t code, const void *data, size_t n)
{
    if (c->len > c->cap || c->cap - c->len < 2 + n) {
        c->len = c->cap + 1; /* overflowed: stays so */
        return;
    }
    c->p[c->len] = code;
    c->p[c->len + 1] = (uint8_t)n;
    memcpy(c->p + c->len + 2, data, n);
    c->len += 2 + n;
}

static void put_opt_u32(struct cursor *c, uint8_t code, uint32_t v)
{
    uint8_t b[4];
    z_put_be32(b, v);
    put_opt(c, code, b, 4);
}

int z_dhcp_emit(uint8_t *buf, size_t cap, const struct z_dhcp_msg *m)
{
    if (m->n_dns > Z_DHCP_MAX_DNS || m->host_name_len > Z_DHCP_NAME_MAX ||
        m->domain_len > Z_DHCP_NAME_MAX || m->client_id_len > Z_DHCP_CLIENT_ID_MAX ||
        m->n_params > Z_DHCP_PARAMS_MAX) {
        return -EINVAL;
    }
    if (cap < Z_DHCP_MIN_LEN) {
        return -ENOSPC;
    }
    memset(buf, 0, Z_DHCP_HDR_LEN);
    buf[0] = m->op;
    buf[1] = m->htype;
    buf[2] = m->hlen;
    buf[3] = m->hops;
    z_put_be32(buf + 4, m->xid);
    z_put_be16(buf + 8, m->secs);
    z_put_be16(buf + 10, m->flags);
    z_put_be32(buf + 12, m->ciaddr);
    z_put_be32(buf + 16, m->yiaddr);
    z_put_be32(buf + 20, m->siaddr);
    z_put_be32(buf + 24, m->giaddr);
    memcpy(buf + 28, m->chaddr, sizeof(m->chaddr));
    z_put_be32(buf + Z_DHCP_FIXED_LEN, Z_DHCP_MAGIC);

    /* One byte is kept back for the end option. */
    struct cursor c = {buf, Z_DHCP_HDR_LEN, cap - 1};
    uint32_t h = m->have;
    if (h & Z_DHCP_HAVE_MSG_TYPE) {
        put_opt(&c, Z_DHCP_OPT_MSG_TYPE, &m->msg_type, 1);
    }
    if (h & Z_DHCP_HAVE_CLIENT_ID && m->client_id_len > 0) {
        put_opt(&c, Z_DHCP_OPT_CLIENT_ID, m->client_id, m->client_id_len);
    }
    if (h & Z_DHCP_HAVE_REQUESTED_IP) {
        put_opt_u32(&c, Z_DHCP_OPT_REQUESTED_IP, m->requested_ip);
    }
    if (h & Z_DHCP_HAVE_SERVER_ID) {
        put_opt_u32(&c, Z_DHCP_OPT_SERVER_ID, m->server_id);
    }
    if (h & Z_DHCP_HAVE_MAX_SIZE) {
        uint8_t b[2];
        z_put_be16(b, m->max_size);
        put_opt(&c, Z_DHCP_OPT_MAX_SIZE, b, 2);
    }
    if (h & Z_DHCP_HAVE_HOST_NAME && m->host_name_len > 0) {
        put_opt(&c, Z_DHCP_OPT_HOST_NAME, m->host_name, m->host_name_len);
    }
    if (h & Z_DHCP_HAVE_PARAM_LIST && m->n_params > 0) {
        put_opt(&c, Z_DHCP_OPT_PARAM_LIST, m->params, m->n_params);
    }
    if (h & Z_DHCP_HAVE_SUBNET_MASK) {
        put_opt_u32(&c, Z_DHCP_OPT_SUBNET_MASK, m->subnet_mask);
    }
    if (h & Z_DHCP_HAVE_ROUTER) {
        put_opt_u32(&c, Z_DHCP_OPT_ROUTER, m->router);
    }
    if (h & Z_DHCP_HAVE_DNS && m->n_dns > 0) {
        uint8_t b[4 * Z_DHCP_MAX_DNS];
        for (int i = 0; i < m->n_dns; i++) {
            z_put_be32(b + 4 * i, m->dns[i]);
        }
        put_opt(&c, Z_DHCP_OPT_DNS, b, 4u * m->n_dns);
    }
    if (h & Z_DHCP_HAVE_DOMAIN_NAME && m->domain_len > 0) {
        put_opt(&c, Z_DHCP_OPT_DOMAIN_NAME, m->domain, m->domain_len);
    }
    if (h & Z_DHCP_HAVE_LEASE_TIME) {
        put_opt_u32(&c, Z_DHCP_OPT_LEASE_TIME, m->lease_s);
    }
    if (h & Z_DHCP_HAVE_T1) {
        put_opt_u32(&c, Z_DHCP_OPT_T1, m->t1_s);
    }
    if (h & Z_DHCP_HAVE_T2) {
        put_opt_u32(&c, Z_DHCP_OPT_T2, m->t2_s);
    }
    if (c.len > c.cap) {
        return -ENOSPC;
    }
    buf[c.len++] = Z_DHCP_OPT_END;
    if (c.len < Z_DHCP_MIN_LEN) {
        memset(buf + c.len, 0, Z_DHCP_MIN_LEN - c.len);
        c.len = Z_DHCP_MIN_LEN;
    }
    return (int)c.len;
}

/* ---- the client's messages ------------------------------------------------------------------ */

/* What the client asks servers for (option 55). */
static const uint8_t client_params[] = {
    Z_DHCP_OPT_SUBNET_MASK, Z_DHCP_OPT_ROUTER, Z_DHCP_OPT_DNS, Z_DHCP_OPT_DOMAIN_NAME,
    Z_DHCP_OPT_LEASE_TIME,  Z_DHCP_OPT_T1,     Z_DHCP_OPT_T2,
};

int z_dhcp_build_client(uint8_t *buf, size_t cap, const struct z_dhcp_client_msg *c)
{
    static const uint8_t types[] = {
        [Z_DHCP_BUILD_DISCOVER] = Z_DHCP_DISCOVER,
        [Z_DHCP_BUILD_REQUEST_SELECTING] = Z_DHCP_REQUEST,
        [Z_DHCP_BUILD_REQUEST_RENEWING] = Z_DHCP_REQUEST,
        [Z_DHCP_BUILD_REQUEST_REBINDING] = Z_DHCP_REQUEST,
        [Z_DHCP_BUILD_DECLINE] = Z_DHCP_DECLINE,
        [Z_DHCP_BUILD_RELEASE] = Z_DHCP_RELEASE,
    };
    if ((unsigned)c->kind >= sizeof(types) || (c->max_size != 0 && c->max_size < MIN_MAXSIZE)) {
        return -EINVAL;
    }
    size_t name_len = c->host_name != NULL ? strlen(c->host_name) : 0;
    if (name_len > Z_DHCP_NAME_MAX) {
        return -EINVAL;
    }
    struct z_dhcp_msg m;
    memset(&m, 0, sizeof(m));
    m.op = Z_DHCP_OP_REQUEST;
    m.htype = Z_DHCP_HTYPE_ETHER;
    m.hlen = 6;
    m.xid = c->xid;
    memcpy(m.chaddr, c->mac, 6);
    m.msg_type = types[c->kind];
    m.have = Z_DHCP_HAVE_MSG_TYPE | Z_DHCP_HAVE_CLIENT_ID;
    m.client_id[0] = Z_DHCP_HTYPE_ETHER;
    memcpy(m.client_id + 1, c->mac, 6);
    m.client_id_len = 7;

    bool asks = false; /* DISCOVER and REQUEST: secs, parameters, size, name */
    switch (c->kind) {
    case Z_DHCP_BUILD_DISCOVER:
        m.flags = Z_DHCP_FLAG_BROADCAST;
        if (c->requested_ip != 0) {
            m.requested_ip = c->requested_ip;
            m.have |= Z_DHCP_HAVE_REQUESTED_IP;
        }
        asks = true;
        break;
    case Z_DHCP_BUILD_REQUEST_SELECTING:
        m.flags = Z_DHCP_FLAG_BROADCAST;
        m.requested_ip = c->requested_ip;
        m.server_id = c->server_id;
        m.have |= Z_DHCP_HAVE_REQUESTED_IP | Z_DHCP_HAVE_SERVER_ID;
        asks = true;
        break;
    case Z_DHCP_BUILD_REQUEST_RENEWING:
    case Z_DHCP_BUILD_REQUEST_REBINDING:
        m.ciaddr = c->ciaddr;
        asks = true;
        break;
    case Z_DHCP_BUILD_DECLINE:
        m.requested_ip = c->requested_ip;
        m.server_id = c->server_id;
        m.have |= Z_DHCP_HAVE_REQUESTED_IP | Z_DHCP_HAVE_SERVER_ID;
        break;
    case Z_DHCP_BUILD_RELEASE:
        m.ciaddr = c->ciaddr;
        m.server_id = c->server_id;
        m.have |= Z_DHCP_HAVE_SERVER_ID;
        break;
    }
    if (asks) {
        m.secs = c->secs;
        memcpy(m.params, client_params, sizeof(client_params));
        m.n_params = sizeof(client_params);
        m.have |= Z_DHCP_HAVE_PARAM_LIST;
        if (c->max_size != 0) {
            m.max_size = c->max_size;
            m.have |= Z_DHCP_HAVE_MAX_SIZE;
        }
        if (name_len > 0) {
            memcpy(m.host_name, c->host_name, name_len);
            m.host_name_len = (uint8_t)name_len;
            m.have |= Z_DHCP_HAVE_HOST_NAME;
        }
    }
    return z_dhcp_emit(buf, cap, &m);
}
