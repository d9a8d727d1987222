/* The descriptor table and the operations every object behind a descriptor
 * implements. Internal: functions return a negative errno, never set errno.
 *
 * A slot maps a small integer to {object, ops, reference count}. Every call
 * on a descriptor holds a reference for its duration, so an object is never
 * released under a thread still using it: close() detaches the descriptor at
 * once (new calls get EBADF), asks the object to wake its blocked threads,
 * and the object is released and the number reused when the last reference
 * is dropped. */
#ifndef ZSOCK_FDTABLE_H_
#define ZSOCK_FDTABLE_H_

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include <zsock/socket.h>

#include "sockets/waitq.h"

/* Operations common to every object in the table. */
struct z_fd_ops {
    /* The descriptor was closed: wake every blocked thread (they return
     * -EINTR) and start teardown. Other threads may still hold references.
     * Must not free the object. */
    void (*close)(void *obj);
    /* The last reference is gone: free the object. */
    void (*release)(void *obj);
    /* Readiness as ZSOCK_POLL* bits (a closed object reports POLLNVAL). If
     * `we` is not NULL, queue it on the object's wait queue under the same
     * lock, so that no change after this evaluation is missed. */
    short (*poll)(void *obj, struct z_wait_entry *we);
    /* fcntl/ioctl requests (Z_IOCTL_*, FIONREAD, ...); `arg` points to an int. */
    int (*ioctl)(void *obj, unsigned long request, int *arg);
};

/* Requests carried through z_fd_ops.ioctl for fcntl(). */
#define Z_IOCTL_GETFL 0x7a01 /* *arg = O_* flags */
#define Z_IOCTL_SETFL 0x7a02 /* flags in *arg */

/* Operations of socket objects; the first member makes them fd ops too. All
 * return a non-negative result or a negative errno. A NULL member means the
 * socket does not support the call (EOPNOTSUPP). */
struct z_socket_ops {
    struct z_fd_ops fd;
    int (*shutdown)(void *obj, int how);
    int (*bind)(void *obj, const struct sockaddr *addr, socklen_t addrlen);
    int (*connect)(void *obj, const struct sockaddr *addr, socklen_t addrlen);
    int (*listen)(void *obj, int backlog);
    /* Returns the new descriptor. */
    int (*accept)(void *obj, struct sockaddr *addr, socklen_t *addrlen);
    /* msg has been validated: msg_iov/msg_iovlen are consistent. */
    ssize_t (*sendmsg)(void *obj, const struct msghdr *msg, int flags);
    ssize_t (*recvmsg)(void *obj, struct msghdr *msg, int flags);
    int (*getsockopt)(void *obj, int level, int optname, void *optval, socklen_t *optlen);
    int (*setsockopt)(void *obj, int level, int optname, const void *optval, socklen_t optlen);
    int (*getpeername)(void *obj, struct sockaddr *addr, socklen_t *addrlen);
    int (*getsockname)(void *obj, struct sockaddr *addr, socklen_t *addrlen);
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    /* recvmsg takes MSG_ERRQUEUE; without, such a call is -EAGAIN (an
     * empty error queue, as Linux says for a socket that never has one). */
    bool errqueue;
#endif
};

enum z_fd_kind {
    Z_FD_KIND_ANY = 0,
    Z_FD_KIND_SOCKET = 1,
};

/* Reserve the lowest free descriptor. Returns it, or -EMFILE. */
int z_fd_reserve(void);

/* Give a reserved descriptor its object; the table holds one reference. */
void z_fd_finalize(int fd, void *obj, const struct z_fd_ops *ops, enum z_fd_kind kind);

/* Return a reserved descriptor that will not be finalized. */
void z_fd_unreserve(int fd);

/* Take a reference on an open descriptor. With kind Z_FD_KIND_SOCKET the
 * object must be a socket (else -ENOTSOCK). Returns the object and stores
 * its ops, or NULL with *err set (-EBADF, -ENOTSOCK). */
void *z_fd_get(int fd, enum z_fd_kind kind, const struct z_fd_ops **ops, int *err);

/* Drop a reference taken by z_fd_get(). */
void z_fd_put(int fd);

/* Close a descriptor (see above). Returns 0 or -EBADF. */
int z_fd_close(int fd);

/* Number of open descriptors (for tests and statistics). */
int z_fd_count_open(void);

/* A socket family handler, tried by zsock_socket() in priority order
 * (lower first), as Zephyr's NET_SOCKET_REGISTER. */
struct z_socket_family {
    const char *name;
    int priority;
    /* 0 if this handler creates (family, type, proto); otherwise
     * -EAFNOSUPPORT (not its family), -EPROTOTYPE or -EPROTONOSUPPORT. */
    int (*supports)(int family, int type, int proto);
    /* Create the object: return the new descriptor or a negative errno.
     * `type` has SOCK_NONBLOCK/SOCK_CLOEXEC removed; `nonblock` says
     * whether SOCK_NONBLOCK was given. */
    int (*create)(int family, int type, int proto, bool nonblock);
    struct z_socket_family *next;
};

/* Add a handler (it must stay valid forever). Thread-safe. */
void z_socket_family_register(struct z_socket_family *fam);

/* Create a socket through the registry. Returns the descriptor or a negative errno. */
int z_socket_create(int family, int type, int proto);

#endif /* ZSOCK_FDTABLE_H_ */
