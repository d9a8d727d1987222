/* Socket family registry: zsock_socket() asks each registered handler, in
 * priority order, whether it creates (family, type, proto). TLS registers
 * ahead of the inet family and claims the IPPROTO_(D)TLS_* protocols. */
#include "sockets/fdtable.h"

#include <errno.h>

static struct z_socket_family *families; /* sorted by priority */
static z_mutex_t families_lock = Z_MUTEX_INITIALIZER;
static z_once_t builtin_once = Z_ONCE_INIT;

/* Built-in families, registered on first use. AF_UNIX has none: as in
 * Zephyr, its sockets exist only as zsock_socketpair() pairs. */
extern struct z_socket_family z_inet_family;
#if CONFIG_NET_SOCKETS_RAW
extern struct z_socket_family z_raw_family; /* src/sockets/raw.c */
#endif
#ifdef CONFIG_NET_SOCKETS_SOCKOPT_TLS
extern struct z_socket_family z_tls_family; /* src/tls/tls_sock.c */
#endif
#ifdef CONFIG_NET_SOCKETS_ENABLE_DTLS
extern struct z_socket_family z_dtls_family; /* src/tls/dtls_sock.c */
#endif
#if CONFIG_NET_SOCKETS_PACKET
extern struct z_socket_family z_packet_family; /* src/sockets/packet.c */
#endif

static void register_builtin(void)
{
    z_socket_family_register(&z_inet_family);
#if CONFIG_NET_SOCKETS_RAW
    z_socket_family_register(&z_raw_family);
#endif
#ifdef CONFIG_NET_SOCKETS_SOCKOPT_TLS
    z_socket_family_register(&z_tls_family);
#endif
#ifdef CONFIG_NET_SOCKETS_ENABLE_DTLS
    z_socket_family_register(&z_dtls_family);
#endif
#if CONFIG_NET_SOCKETS_PACKET
    z_socket_family_register(&z_packet_family);
#endif
}

void z_socket_family_register(struct z_socket_family *fam)
{
    z_mutex_lock(&families_lock);
    struct z_socket_family **pp = &families;
    while (*pp != NULL && (*pp)->priority <= fam->priority) {
        if (*pp == fam) {
            z_mutex_unlock(&families_lock);
            return;
        }
        pp = &(*pp)->next;
    }
    fam->next = *pp;
    *pp = fam;
    z_mutex_unlock(&families_lock);
}

/* The error a failed lookup reports: a handler that knows the family but
 * not the type or protocol says more than "no such family". */
static int more_specific(int current, int candidate)
{
    return current == -EAFNOSUPPORT ? candidate : current;
}

int z_socket_create(int family, int type, int proto)
{
    z_once(&builtin_once, register_builtin);

    bool nonblock = (type & SOCK_NONBLOCK) != 0;
    int base_type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    /* Socket types fit in the low four bits; anything else is an unknown flag. */
    if (base_type <= 0 || base_type > 0xf) {
        return -EINVAL;
    }

    struct z_socket_family *found = NULL;
    int err = -EAFNOSUPPORT;
    z_mutex_lock(&families_lock);
    for (struct z_socket_family *f = families; f != NULL; f = f->next) {
        int rc = f->supports(family, base_type, proto);
        if (rc == 0) {
            found = f;
            break;
        }
        err = more_specific(err, rc);
    }
    z_mutex_unlock(&families_lock);

    if (found == NULL) {
        return err;
    }
    return found->create(family, base_type, proto, nonblock);
}
