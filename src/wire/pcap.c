/* libpcap capture file headers, so that traffic on any interface can be
 * written to a file that tcpdump and Wireshark open. Fields are in the
 * writer's byte order; readers detect it from the magic number. */
#include <errno.h>
#include <string.h>

#include "wire/wire.h"

#define PCAP_MAGIC_USEC    0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4

static void put_host32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

static void put_host16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, sizeof(v));
}

int z_pcap_emit_file_header(uint8_t *buf, size_t cap, uint32_t linktype, uint32_t snaplen)
{
    if (cap < Z_PCAP_FILE_HLEN) {
        return -ENOSPC;
    }
    put_host32(buf, PCAP_MAGIC_USEC);
    put_host16(buf + 4, PCAP_VERSION_MAJOR);
    put_host16(buf + 6, PCAP_VERSION_MINOR);
    put_host32(buf + 8, 0);  /* thiszone: timestamps are UTC */
    put_host32(buf + 12, 0); /* sigfigs: always 0 in practice */
    put_host32(buf + 16, snaplen);
    put_host32(buf + 20, linktype);
    return Z_PCAP_FILE_HLEN;
}

int z_pcap_emit_record_header(uint8_t *buf, size_t cap, int64_t time_us, uint32_t caplen,
                              uint32_t len)
{
    if (cap < Z_PCAP_REC_HLEN) {
        return -ENOSPC;
    }
    /* Floor division keeps ts_usec in 0..999999 for times before the epoch. */
    int64_t sec = time_us / 1000000;
    int64_t usec = time_us % 1000000;
    if (usec < 0) {
        usec += 1000000;
        sec -= 1;
    }
    put_host32(buf, (uint32_t)sec);
    put_host32(buf + 4, (uint32_t)usec);
    put_host32(buf + 8, caplen);
    put_host32(buf + 12, len);
    return Z_PCAP_REC_HLEN;
}
