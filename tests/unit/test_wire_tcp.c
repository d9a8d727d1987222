/* TCP header and options: a SYN as Linux sends it (bytes and checksum
 * computed independently), emit/parse round trips with every option mix,
 * option layout limits, and rejection of malformed headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "unit/test_util.h"
#include "wire/wire.h"

#define SRC 0xc0000201u
#define DST 0xc0000202u

/* 192.0.2.1:40000 -> 192.0.2.2:80 SYN, seq 0x11223344, window 64240, with
 * MSS 1460, SACK-permitted, timestamps 1000/0, NOP, window scale 7. */
static const uint8_t linux_syn[40] = {0x9c, 0x40, 0x00, 0x50, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00,
                                      0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0xe4, 0x2c, 0x00, 0x00,
                                      0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
                                      0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

static void test_parse_linux_syn(void **state)
{
    (void)state;
    struct z_tcp_hdr h;
    assert_int_equal(z_tcp_parse(linux_syn, sizeof(linux_syn), SRC, DST, &h), 40);
    assert_int_equal(h.sport, 40000);
    assert_int_equal(h.dport, 80);
    assert_int_equal(h.seq, 0x11223344u);
    assert_int_equal(h.flags, Z_TCP_SYN);
    assert_int_equal(h.window, 64240);
    assert_int_equal(h.checksum, 0xe42c);
    assert_int_equal(h.opts.present,
                     Z_TCPOPT_MSS | Z_TCPOPT_SACK_PERM | Z_TCPOPT_TS | Z_TCPOPT_WSCALE);
    assert_int_equal(h.opts.mss, 1460);
    assert_int_equal(h.opts.wscale, 7);
    assert_int_equal(h.opts.ts_val, 1000);
    assert_int_equal(h.opts.ts_ecr, 0);
    /* Wrong pseudo-header: checksum fails. */
    assert_int_equal(z_tcp_parse(linux_syn, sizeof(linux_syn), SRC, DST + 1, &h), -EBADMSG);
}

static void test_emit_matches_linux_layout(void **state)
{
    (void)state;
    struct z_tcp_hdr h = {
        .sport = 40000,
        .dport = 80,
        .seq = 0x11223344u,
        .flags = Z_TCP_SYN,
        .window = 64240,
        .opts = {.present = Z_TCPOPT_MSS | Z_TCPOPT_SACK_PERM | Z_TCPOPT_TS | Z_TCPOPT_WSCALE,
                 .mss = 1460,
                 .wscale = 7,
                 .ts_val = 1000},
    };
    uint8_t buf[64];
    assert_int_equal(z_tcp_hdr_len(&h.opts), 40);
    assert_int_equal(z_tcp_emit(buf, sizeof(buf), SRC, DST, &h, 0), 40);
    /* Linux writes its window-scale as NOP + WS at the end; the rest is
     * byte for byte the same. */
    assert_memory_equal(buf, linux_syn, 36);
    assert_memory_equal(buf + 36, linux_syn + 36, 4);
}

static void test_round_trips(void **state)
{
    (void)state;
    uint8_t buf[2048];
    rng_seed(5);
    for (int i = 0; i < 5000; i++) {
        struct z_tcp_hdr h;
        memset(&h, 0, sizeof(h));
        h.sport = (uint16_t)rng_next();
        h.dport = (uint16_t)rng_next();
        h.seq = (uint32_t)rng_next();
        h.ack = (uint32_t)rng_next();
        h.flags = (uint8_t)rng_next();
        h.window = (uint16_t)rng_next();
        h.urgent = (uint16_t)rng_next();
        h.opts.present = (uint8_t)(rng_next() & 0x1f);
        h.opts.mss = (uint16_t)rng_next();
        h.opts.wscale = (uint8_t)rng_below(15);
        h.opts.ts_val = (uint32_t)rng_next();
        h.opts.ts_ecr = (uint32_t)rng_next();
        h.opts.nsack = (uint8_t)(1 + rng_below(4));
        for (int k = 0; k < 4; k++) {
            h.opts.sack[k].left = (uint32_t)rng_next();
            h.opts.sack[k].right = (uint32_t)rng_next();
        }
        size_t plen = rng_below(1000);
        size_t hl = z_tcp_hdr_len(&h.opts);
        assert_true(hl >= 20 && hl <= 60 && hl % 4 == 0);
        for (size_t k = 0; k < plen; k++) {
            buf[hl + k] = (uint8_t)rng_next();
        }
        assert_int_equal(z_tcp_emit(buf, sizeof(buf), SRC, DST, &h, plen), (int)hl);
        struct z_tcp_hdr g;
        assert_int_equal(z_tcp_parse(buf, hl + plen, SRC, DST, &g), (int)hl);
        assert_int_equal(g.sport, h.sport);
        assert_int_equal(g.dport, h.dport);
        assert_int_equal(g.seq, h.seq);
        assert_int_equal(g.ack, h.ack);
        assert_int_equal(g.flags, h.flags);
        assert_int_equal(g.window, h.window);
        assert_int_equal(g.urgent, h.urgent);
        uint8_t want = h.opts.present;
        /* Options share 40 bytes; SACK blocks (8 bytes, plus 4 for the kind,
         * length and padding) take what the others leave. */
        size_t base = ((want & Z_TCPOPT_MSS) ? 4 : 0) + ((want & Z_TCPOPT_WSCALE) ? 4 : 0) +
                      ((want & Z_TCPOPT_TS)          ? 12
                       : (want & Z_TCPOPT_SACK_PERM) ? 4
                                                     : 0);
        size_t nsack = (40 - base - 4) / 8;
        nsack = h.opts.nsack < nsack ? h.opts.nsack : nsack;
        assert_int_equal(g.opts.present, want);
        if (want & Z_TCPOPT_MSS) {
            assert_int_equal(g.opts.mss, h.opts.mss);
        }
        if (want & Z_TCPOPT_WSCALE) {
            assert_int_equal(g.opts.wscale, h.opts.wscale);
        }
        if (want & Z_TCPOPT_TS) {
            assert_int_equal(g.opts.ts_val, h.opts.ts_val);
            assert_int_equal(g.opts.ts_ecr, h.opts.ts_ecr);
        }
        if (want & Z_TCPOPT_SACK) {
            assert_int_equal(g.opts.nsack, nsack);
            for (size_t k = 0; k < nsack; k++) {
                assert_int_equal(g.opts.sack[k].left, h.opts.sack[k].left);
                assert_int_equal(g.opts.sack[k].right, h.opts.sack[k].right);
            }
        }
    }
}

static void test_emit_limits(void **state)
{
    (void)state;
    struct z_tcp_hdr h = {.flags = Z_TCP_ACK};
    uint8_t buf[100];
    memset(buf, 0xee, sizeof(buf));
    for (size_t cap = 0; cap < 20 + 10; cap++) {
        assert_int_equal(z_tcp_emit(buf, cap, SRC, DST, &h, 10), -ENOSPC);
    }
    for (size_t i = 0; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], 0xee);
    }
    assert_int_equal(z_tcp_emit(buf, 70000, SRC, DST, &h, 65516), -EMSGSIZE);
}

/* Fix the checksum of a hand-edited segment. */
static void reseal(uint8_t *seg, size_t len)
{
    z_put_be16(seg + 16, 0);
    uint32_t sum = z_csum_pseudo4(SRC, DST, Z_IPPROTO_TCP, (uint16_t)len);
    z_put_be16(seg + 16, z_csum_finish(z_csum_add(sum, seg, len)));
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    uint8_t seg[60];
    struct z_tcp_hdr h;
    memcpy(seg, linux_syn, 40);
    assert_int_equal(z_tcp_parse(seg, 19, SRC, DST, &h), -EBADMSG);
    /* Data offset below 5 words, and past the segment. */
    seg[12] = 0x40;
    reseal(seg, 40);
    assert_int_equal(z_tcp_parse(seg, 40, SRC, DST, &h), -EBADMSG);
    memcpy(seg, linux_syn, 40);
    seg[12] = 0xb0; /* 44 bytes of header in a 40-byte segment */
    reseal(seg, 40);
    assert_int_equal(z_tcp_parse(seg, 40, SRC, DST, &h), -EBADMSG);
    /* An option length of 1, and one running past the header. */
    memcpy(seg, linux_syn, 40);
    seg[21] = 1;
    reseal(seg, 40);
    assert_int_equal(z_tcp_parse(seg, 40, SRC, DST, &h), -EBADMSG);
    memcpy(seg, linux_syn, 40);
    seg[37] = 3;
    seg[38] = 9; /* window scale claims 9 bytes with 3 left */
    reseal(seg, 40);
    assert_int_equal(z_tcp_parse(seg, 40, SRC, DST, &h), -EBADMSG);
    /* A known option with a wrong length is ignored, not fatal. */
    memcpy(seg, linux_syn, 40);
    seg[36] = 3;
    seg[37] = 4; /* window scale of length 4 */
    seg[38] = 7;
    seg[39] = 0;
    reseal(seg, 40);
    assert_int_equal(z_tcp_parse(seg, 40, SRC, DST, &h), 40);
    assert_int_equal(h.opts.present & Z_TCPOPT_WSCALE, 0);
    assert_true(h.opts.present & Z_TCPOPT_MSS);
    /* EOL ends option parsing. */
    memcpy(seg, linux_syn, 40);
    seg[20] = 0;
    reseal(seg, 40);
    assert_int_equal(z_tcp_parse(seg, 40, SRC, DST, &h), 40);
    assert_int_equal(h.opts.present, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_linux_syn),   cmocka_unit_test(test_emit_matches_linux_layout),
        cmocka_unit_test(test_round_trips),       cmocka_unit_test(test_emit_limits),
        cmocka_unit_test(test_rejects_malformed),
    };
    return cmocka_run_group_tests_name("wire_tcp", tests, NULL, NULL);
}
