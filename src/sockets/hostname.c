/* The host name of this zsock instance: what zsock_gethostname() reports and
 * what zsock_getaddrinfo() resolves to the loopback address. */
#include <zsock/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "port/port.h"

_Static_assert(sizeof(CONFIG_NET_HOSTNAME) <= CONFIG_NET_HOSTNAME_MAX_LEN + 1,
               "CONFIG_NET_HOSTNAME is longer than CONFIG_NET_HOSTNAME_MAX_LEN");

static z_mutex_t hostname_lock = Z_MUTEX_INITIALIZER;
static char hostname[CONFIG_NET_HOSTNAME_MAX_LEN + 1] = CONFIG_NET_HOSTNAME;

static bool hostname_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

int zsock_gethostname(char *buf, size_t len)
{
    int err = 0;

    if (buf == NULL) {
        errno = EFAULT;
        return -1;
    }
    z_mutex_lock(&hostname_lock);
    size_t need = strlen(hostname) + 1;
    if (len < need) {
        err = ENAMETOOLONG;
    } else {
        memcpy(buf, hostname, need);
    }
    z_mutex_unlock(&hostname_lock);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

int zsock_sethostname(const char *name, size_t len)
{
    if (name == NULL) {
        errno = EFAULT;
        return -1;
    }
    /* The length is checked first so that a wrong len never makes us read
     * beyond what the caller could have meant to pass. */
    if (len == 0 || len > CONFIG_NET_HOSTNAME_MAX_LEN) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!hostname_char_ok(name[i])) {
            errno = EINVAL;
            return -1;
        }
    }
    z_mutex_lock(&hostname_lock);
    memcpy(hostname, name, len);
    hostname[len] = '\0';
    z_mutex_unlock(&hostname_lock);
    return 0;
}
