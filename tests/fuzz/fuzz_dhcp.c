/* libFuzzer target for the DHCP messages (src/wire/dhcp.c). The first input
 * byte picks what is fuzzed: the parser on the rest (whatever parses is
 * emitted again, and must parse back the same and emit the same bytes), or
 * the client builder on parameters taken from the rest (what it builds must
 * parse, with the fields and options RFC 2131 table 5 gives its kind). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/dhcp.h"
#include "wire/wire.h"

#include "fuzz_check.h"

static uint8_t out[2048];
static uint8_t out2[2048];

static void fuzz_parse(const uint8_t *data, size_t size)
{
    struct z_dhcp_msg a, b;
    if (z_dhcp_parse(data, size, &a) < 0) {
        return;
    }
    CHECK(a.n_dns <= Z_DHCP_MAX_DNS && a.host_name_len <= Z_DHCP_NAME_MAX &&
          a.domain_len <= Z_DHCP_NAME_MAX && a.client_id_len <= Z_DHCP_CLIENT_ID_MAX &&
          a.n_params <= Z_DHCP_PARAMS_MAX);
    CHECK(strlen(a.host_name) == a.host_name_len && strlen(a.domain) == a.domain_len);
    CHECK(((a.have & Z_DHCP_HAVE_DNS) != 0) == (a.n_dns > 0));
    int n = z_dhcp_emit(out, sizeof(out), &a);
    CHECK(n >= Z_DHCP_MIN_LEN);
    CHECK(z_dhcp_parse(out, (size_t)n, &b) == 0);
    /* parse() clears the whole struct first, padding included. */
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    int n2 = z_dhcp_emit(out2, sizeof(out2), &b);
    CHECK(n2 == n && memcmp(out, out2, (size_t)n) == 0);
    /* Every shorter buffer is refused without harm. */
    CHECK(z_dhcp_emit(out2, (size_t)n - 1, &a) == -ENOSPC);
}

static uint32_t take32(const uint8_t **p, size_t *left)
{
    uint32_t v = 0;
    for (int i = 0; i < 4 && *left > 0; i++, (*p)++, (*left)--) {
        v = v << 8 | **p;
    }
    return v;
}

static void fuzz_build(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t left = size;
    struct z_dhcp_client_msg c;
    memset(&c, 0, sizeof(c));
    uint32_t sel = take32(&p, &left);
    c.kind = (enum z_dhcp_client_kind)(sel % 7); /* 6 is not a kind */
    c.xid = take32(&p, &left);
    c.secs = (uint16_t)take32(&p, &left);
    uint32_t m1 = take32(&p, &left), m2 = take32(&p, &left);
    memcpy(c.mac, &m1, 4);
    memcpy(c.mac + 4, &m2, 2);
    c.ciaddr = take32(&p, &left);
    c.requested_ip = take32(&p, &left);
    c.server_id = take32(&p, &left);
    c.max_size = (uint16_t)take32(&p, &left);
    char name[80];
    size_t nl = left < sizeof(name) - 1 ? left : sizeof(name) - 1;
    memcpy(name, p, nl);
    name[nl] = '\0';
    c.host_name = (sel & 0x100) ? name : NULL;
    size_t name_len = c.host_name != NULL ? strlen(name) : 0;

    int n = z_dhcp_build_client(out, sizeof(out), &c);
    bool bad = c.kind > Z_DHCP_BUILD_RELEASE || (c.max_size != 0 && c.max_size < 576) ||
               name_len > Z_DHCP_NAME_MAX;
    if (bad) {
        CHECK(n == -EINVAL);
        return;
    }
    CHECK(n >= Z_DHCP_MIN_LEN);
    struct z_dhcp_msg m;
    CHECK(z_dhcp_parse(out, (size_t)n, &m) == 0);
    CHECK(m.op == Z_DHCP_OP_REQUEST && m.htype == 1 && m.hlen == 6 && m.xid == c.xid);
    CHECK(memcmp(m.chaddr, c.mac, 6) == 0);
    CHECK(m.client_id_len == 7 && m.client_id[0] == 1 && memcmp(m.client_id + 1, c.mac, 6) == 0);
    bool asks = c.kind <= Z_DHCP_BUILD_REQUEST_REBINDING;
    static const uint8_t types[] = {1, 3, 3, 3, 4, 7};
    CHECK(m.msg_type == types[c.kind]);
    bool selecting = c.kind == Z_DHCP_BUILD_REQUEST_SELECTING;
    bool with_ciaddr = c.kind == Z_DHCP_BUILD_REQUEST_RENEWING ||
                       c.kind == Z_DHCP_BUILD_REQUEST_REBINDING || c.kind == Z_DHCP_BUILD_RELEASE;
    CHECK(m.ciaddr == (with_ciaddr ? c.ciaddr : 0));
    CHECK(m.yiaddr == 0 && m.siaddr == 0 && m.giaddr == 0);
    CHECK(m.flags == (c.kind == Z_DHCP_BUILD_DISCOVER || selecting ? Z_DHCP_FLAG_BROADCAST : 0));
    CHECK(m.secs == (asks ? c.secs : 0));
    bool req_ip = selecting || c.kind == Z_DHCP_BUILD_DECLINE ||
                  (c.kind == Z_DHCP_BUILD_DISCOVER && c.requested_ip != 0);
    CHECK(((m.have & Z_DHCP_HAVE_REQUESTED_IP) != 0) == req_ip);
    CHECK(!req_ip || m.requested_ip == c.requested_ip);
    bool sid = selecting || c.kind == Z_DHCP_BUILD_DECLINE || c.kind == Z_DHCP_BUILD_RELEASE;
    CHECK(((m.have & Z_DHCP_HAVE_SERVER_ID) != 0) == sid);
    CHECK(!sid || m.server_id == c.server_id);
    CHECK(((m.have & Z_DHCP_HAVE_PARAM_LIST) != 0) == asks);
    CHECK(((m.have & Z_DHCP_HAVE_MAX_SIZE) != 0) == (asks && c.max_size != 0));
    CHECK(!(m.have & Z_DHCP_HAVE_MAX_SIZE) || m.max_size == c.max_size);
    bool named = asks && name_len > 0;
    CHECK(((m.have & Z_DHCP_HAVE_HOST_NAME) != 0) == named);
    CHECK(!named || strcmp(m.host_name, name) == 0);
    CHECK(!(m.have &
            (Z_DHCP_HAVE_SUBNET_MASK | Z_DHCP_HAVE_ROUTER | Z_DHCP_HAVE_DNS |
             Z_DHCP_HAVE_LEASE_TIME | Z_DHCP_HAVE_T1 | Z_DHCP_HAVE_T2 | Z_DHCP_HAVE_DOMAIN_NAME)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (data[0] & 1) {
        fuzz_build(data + 1, size - 1);
    } else {
        fuzz_parse(data + 1, size - 1);
    }
    return 0;
}
