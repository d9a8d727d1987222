/* Packet capture: every frame an interface sends or receives, appended to a
 * pcap file that Wireshark and tshark open. Ethernet interfaces write
 * LINKTYPE_ETHERNET; loopback carries bare IP packets, LINKTYPE_RAW.
 *
 * The none port has no file system, and newlib's stdio would link its
 * malloc into a static-memory firmware: there, capture fails with ENOTSUP. */
#include "net/net.h"

#include <errno.h>

#if defined(ZSOCK_PORT_NONE)

int z_capture_start_locked(struct z_netif *nif, const char *path)
{
    (void)nif;
    return path == NULL ? 0 : -ENOTSUP;
}

void z_capture_frame(struct z_netif *nif, const struct z_pbuf *p, int64_t now_us)
{
    (void)nif;
    (void)p;
    (void)now_us;
}

void z_capture_stop_locked(struct z_netif *nif)
{
    (void)nif;
}

#else

#include <stdio.h>

struct z_capture {
    FILE *f;
};

#define CAPTURE_SNAPLEN 65535

int z_capture_start_locked(struct z_netif *nif, const char *path)
{
    z_capture_stop_locked(nif);
    if (path == NULL) {
        return 0;
    }
    struct z_capture *c = z_calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->f = fopen(path, "wb");
    if (c->f == NULL) {
        int err = errno;
        z_free(c);
        return -err;
    }
    uint8_t hdr[Z_PCAP_FILE_HLEN];
    uint32_t linktype =
        (nif->flags & ZSOCK_IF_ETHERNET) ? Z_PCAP_LINKTYPE_ETHERNET : Z_PCAP_LINKTYPE_RAW;
    z_pcap_emit_file_header(hdr, sizeof(hdr), linktype, CAPTURE_SNAPLEN);
    if (fwrite(hdr, sizeof(hdr), 1, c->f) != 1 || fflush(c->f) != 0) {
        fclose(c->f);
        z_free(c);
        return -EIO;
    }
    nif->capture = c;
    return 0;
}

void z_capture_frame(struct z_netif *nif, const struct z_pbuf *p, int64_t now_us)
{
    struct z_capture *c = nif->capture;
    uint32_t caplen = p->len < CAPTURE_SNAPLEN ? p->len : CAPTURE_SNAPLEN;
    uint8_t rec[Z_PCAP_REC_HLEN];
    z_pcap_emit_record_header(rec, sizeof(rec), now_us, caplen, p->len);
    /* Each record is flushed whole, so the file is readable while it grows. */
    if (fwrite(rec, sizeof(rec), 1, c->f) != 1 || fwrite(p->data, caplen, 1, c->f) != 1) {
        return;
    }
    fflush(c->f);
}

void z_capture_stop_locked(struct z_netif *nif)
{
    if (nif->capture == NULL) {
        return;
    }
    fclose(nif->capture->f);
    z_free(nif->capture);
    nif->capture = NULL;
}

#endif /* ZSOCK_PORT_NONE */
